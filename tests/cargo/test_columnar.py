"""The column-by-column CSV path stores exactly what the row-by-row path stores, or
steps aside (None) so the row path reads the file and names what is wrong."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.cargo.columnar import columnar_lines
from watchkeeper.cargo.ingest import iter_lines_of_file
from watchkeeper.cargo.layouts import get_layout
from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.cargo.store import read_lines, store_batch, store_table
from watchkeeper.errors import InputError
from watchkeeper.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cargo"
DECLARATION = FIXTURES / "customs_declaration.csv"


def _row_path(path: Path, layout: str) -> list[ShipmentLine] | None:
    """The lines the row path stores, or None when it refuses the file."""
    with Store(":memory:") as store:
        try:
            store_batch(
                store,
                iter_lines_of_file(path, get_layout(layout)),
                sources=[str(path)],
                layout=layout,
                source_hash="row",
            )
        except InputError:
            return None
        return read_lines(store)


def _columnar(path: Path, layout: str) -> list[ShipmentLine] | None:
    table = columnar_lines(path, get_layout(layout))
    if table is None:
        return None
    with Store(":memory:") as store:
        store_table(store, table, sources=[str(path)], layout=layout, source_hash="col")
        return read_lines(store)


def _agrees(path: Path, layout: str) -> bool:
    """The columnar path gives the row path's lines, or steps aside; it never accepts
    a file the row path refuses."""
    fast = _columnar(path, layout)
    slow = _row_path(path, layout)
    if fast is None:
        return True
    assert slow is not None, "the columnar path accepted a file the row path refuses"
    assert fast == slow
    return True


def test_the_declaration_fixture_reads_the_same_both_ways() -> None:
    fast = _columnar(DECLARATION, "customs_declaration")
    assert fast is not None  # a clean file takes the fast path
    assert fast == _row_path(DECLARATION, "customs_declaration")
    assert fast[0].source_ref == "customs_declaration.csv:2"


def test_a_bad_value_makes_it_step_aside(tmp_path: Path) -> None:
    text = DECLARATION.read_text(encoding="utf-8").splitlines()
    head = next(csv.reader([text[0]]))
    cells = next(csv.reader([text[2]]))
    cells[head.index("departure_date")] = "31/31/2020"
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], text[1], out.getvalue().strip(), *text[3:]]) + "\n")
    assert columnar_lines(bad, get_layout("customs_declaration")) is None
    assert _row_path(bad, "customs_declaration") is None


def test_a_line_twice_makes_it_step_aside(tmp_path: Path) -> None:
    text = DECLARATION.read_text(encoding="utf-8").splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([text[0], text[1], text[1]]) + "\n")
    assert columnar_lines(twice, get_layout("customs_declaration")) is None


# Cells the row path reads in its own ways: Unicode and ASCII spaces around values,
# thousands separators, dates in each format, country names and codes, units; and
# now and then a value it refuses.
_SPACES = ["", " ", "\u00a0", "\x1c", "\t"]
_GOOD: dict[str, list[str]] = {
    "bl_number": ["B1", "B2", " B3", "B\u00a04"],
    "line": ["", "1", "2", " 3 ", "2.0"],
    "description_of_goods": ["", "CRUDE OIL", " Zürich  watches ", 'a "quoted", name', "x\ny"],
    "hs_code": ["", "2710.12", "271012", "27", "8411.91.00"],
    "packages": ["", "12", "1,200.50", "1 000", "0.5", "1e3", "\u0661\u0662"],
    "gross_weight": ["", "7", "1,000", "0"],
    "weight_unit": ["", "lb", "KG", "t"],
    "value": ["", "100", "9,000,000.25", "00.10"],
    "currency": ["", "USD", "eur"],
    "imo": ["", "IMO 9526887", "9526887"],
    "origin_country": ["", "Iran", "IR", "IRN", "China (Mainland)"],
    "destination_country": ["", "VE", "Venezuela"],
    "shipped_on_board_date": ["", "2020-01-31", "31/01/2020", "31-Jan-2020"],
    "shipper": ["", " Acme  Trading ", "ACME, INC", "Acme Trading"],
    "shipper_country": ["", "AE", "United Arab Emirates"],
    "consignee": ["", "PDVSA", "pdvsa "],
}
_BAD = ["-3", "2020-02-30", "Narnia", "parsec", "952688", "US$", "abc"]
_BL_COLUMNS = [*_GOOD, "mode"]


@st.composite
def _cell(draw: st.DrawFn, column: str) -> str:
    if draw(st.integers(0, 40)) == 0:
        return draw(st.sampled_from(_BAD))
    pad = draw(st.sampled_from(_SPACES))
    return pad + draw(st.sampled_from(_GOOD[column])) + draw(st.sampled_from(_SPACES))


_ROW = st.tuples(*(_cell(c) for c in _GOOD), st.sampled_from(["", "Ocean", "4", "air", "rail"]))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(_ROW, min_size=1, max_size=8))
def test_generated_bills_read_the_same_both_ways(
    tmp_path: Path, rows: list[tuple[str, ...]]
) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_BL_COLUMNS)
    writer.writerows(rows)
    path = tmp_path / "bills.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert _agrees(path, "bill_of_lading")


def _mutate(data: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, junk in cuts:
        pos %= max(1, len(out))
        out[pos : pos + len(junk)] = junk
    return bytes(out)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(
        st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=6)),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_declarations_read_the_same_both_ways(
    tmp_path: Path, cuts: list[tuple[int, bytes]]
) -> None:
    path = tmp_path / "mutated.csv"
    path.write_bytes(_mutate(DECLARATION.read_bytes(), cuts))
    try:
        columnar_lines(path, get_layout("customs_declaration"))
    except InputError:
        assert _row_path(path, "customs_declaration") is None  # a bad header, both ways
        return
    assert _agrees(path, "customs_declaration")
