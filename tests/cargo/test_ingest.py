"""Shipments in: AMS sets, customs declarations as CSV / JSON lines / XLSX; bad input
names the file, row and column and stores nothing of that file.

The files under tests/fixtures/cargo/ are HAND-MADE in the real layouts (the AMS
extract's column names, a customs declaration export): no real manifest extract is
available offline. Goods descriptions are taken from public CBP rulings."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.cargo.ingest import country_code, ingest_files, read_rows
from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.cargo.store import list_batches, read_lines
from watchkeeper.errors import InputError
from watchkeeper.store import Store

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cargo"
AMS = sorted((FIXTURES / "ams").glob("*.csv"))
DECLARATION = FIXTURES / "customs_declaration.csv"


def _count(store: Store) -> tuple[int, int]:
    lines = store.con.execute("SELECT count(*) FROM shipment_lines").fetchone()
    batches = store.con.execute("SELECT count(*) FROM cargo_batches").fetchone()
    assert lines is not None and batches is not None
    return int(lines[0]), int(batches[0])


def test_an_ams_set_is_joined_on_its_identifier(store: Store) -> None:
    report = ingest_files(store, AMS, "cbp_ams")
    assert [f.status for f in report.files] == ["ingested"]
    assert report.lines == 3
    lines = {ln.line_id: ln for ln in read_lines(store)}
    vacuum = lines["ams:2020012800001/1"]
    assert vacuum.goods == "VACUUM CLEANERS"
    assert vacuum.hs_code == "850811"  # from the tariff file, same container and sequence
    assert vacuum.value == 14400 and vacuum.currency == "USD"
    assert vacuum.vessel_name == "MAERSK KOWLOON" and vacuum.vessel_flag == "DK"
    assert vacuum.vessel_imo == "9526887"  # conveyance id qualified as Lloyd's Register
    assert vacuum.origin_country == "CN"  # "Yantian ,China (Mainland)"
    assert vacuum.destination_country == "US"
    assert vacuum.discharge_date == date(2020, 1, 28)  # actual arrival before estimated
    assert vacuum.mode == "sea"
    assert [(p.role, p.country) for p in vacuum.parties] == [
        ("carrier", None),
        ("shipper", "CN"),
        ("consignee", "US"),
        ("notify", None),
    ]
    assert "bill of lading: MAEU201982736, SZX0045123" in vacuum.notes
    assert vacuum.source_ref == "ams__cargodesc_2020__202001290000.csv:2"
    steel = lines["ams:2020012800002/1"]
    assert steel.hs_code == "7210706060"
    assert steel.weight_kg == pytest.approx(9200 * 0.45359237)  # pounds to kg
    assert steel.discharge_date == date(2020, 1, 26)  # no actual arrival: the estimate


def test_customs_declaration_values_are_normalised(store: Store) -> None:
    ingest_files(store, [DECLARATION])  # layout found by its columns
    first, second, gold = read_lines(store)
    assert (first.shipment_id, first.line_no, second.line_no) == ("DEC-2024-0001", 1, 2)
    assert first.hs_code == "30043190"
    assert first.origin_country == "IT" and first.destination_country == "IR"
    assert first.transit_countries == ("AE", "OM")
    assert first.loading_date == date(2024, 3, 4)  # 04/03/2024, day first
    assert first.license_number == "GL-560.530"
    assert [(p.role, p.name, p.country) for p in first.parties] == [
        ("shipper", "Mediterranean Pharma Export SA", "IT"),
        ("consignee", "Tehran Medical Supplies Co", "IR"),
    ]
    assert gold.mode == "air" and gold.flight_number == "TK224"
    assert gold.loading_date == date(2024, 5, 10)  # 10.05.2024
    assert [p.country for p in gold.parties] == ["VE", "TR"]
    assert gold.weight_kg == 500


def test_the_same_file_twice_is_noticed_and_not_stored_again(store: Store, tmp_path: Path) -> None:
    ingest_files(store, [DECLARATION])
    copy = shutil.copy(DECLARATION, tmp_path / "renamed.csv")
    report = ingest_files(store, [copy])
    assert report.files[0].status == "already_ingested"
    assert report.files[0].batch_id == 1
    assert _count(store) == (3, 1)


def _as_jsonl(path: Path) -> bytes:
    with path.open(encoding="utf-8") as fh:
        return "".join(json.dumps(r) + "\n" for r in csv.DictReader(fh)).encode()


def _as_xlsx(path: Path) -> bytes:
    import openpyxl  # type: ignore[import-untyped]

    book = openpyxl.Workbook()
    sheet = book.active
    with path.open(encoding="utf-8") as fh:
        for row in csv.reader(fh):
            sheet.append(
                [
                    float(c)
                    if c.replace(".", "", 1).isdigit() and c.count(".") < 2 and c[:1] != "0"
                    else c
                    for c in row
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(("suffix", "convert"), [(".jsonl", _as_jsonl), (".xlsx", _as_xlsx)])
def test_json_lines_and_xlsx_read_as_the_csv_does(
    store: Store, tmp_path: Path, suffix: str, convert: object
) -> None:
    ingest_files(store, [DECLARATION])
    from_csv = read_lines(store)
    other = tmp_path / f"declaration{suffix}"
    other.write_bytes(convert(DECLARATION))  # type: ignore[operator]
    second = Store(":memory:")
    ingest_files(second, [other], "customs_declaration")
    from_other = read_lines(second)
    names = [f.name for f in dataclasses.fields(ShipmentLine) if f.name != "source_ref"]

    def strip(ln: ShipmentLine) -> dict[str, object]:
        return {k: getattr(ln, k) for k in names}

    assert [strip(a) for a in from_other] == [strip(b) for b in from_csv]
    first_row = 1 if suffix == ".jsonl" else 2  # JSON lines have no header row
    assert from_other[0].source_ref == f"declaration{suffix}:{first_row}"


def test_a_bad_value_names_file_row_and_column_and_stores_nothing(
    store: Store, tmp_path: Path
) -> None:
    text = DECLARATION.read_text(encoding="utf-8").replace("10.05.2024", "31.02.2024")
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        ingest_files(store, [bad])
    assert info.value.path == str(bad)
    assert info.value.line == 4
    assert info.value.field == "departure_date"
    assert _count(store) == (0, 0)


def test_a_bad_row_after_the_first_chunk_still_stores_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import watchkeeper.cargo.store as cargo_store

    monkeypatch.setattr(cargo_store, "CHUNK_LINES", 2)  # rows 2-3 are written before row 4
    bad = tmp_path / "bad.csv"
    bad.write_text(
        DECLARATION.read_text(encoding="utf-8").replace("10.05.2024", "31.02.2024"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        ingest_files(store, [bad])
    assert info.value.line == 4
    assert _count(store) == (0, 0)
    ingest_files(store, [DECLARATION])  # and a good file in chunks is whole
    assert _count(store) == (3, 1)


def test_a_file_before_a_bad_one_stays_stored(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        DECLARATION.read_text(encoding="utf-8").replace(",Iran,", ",Atlantis,"), encoding="utf-8"
    )
    with pytest.raises(InputError, match="Atlantis") as info:
        ingest_files(store, [*AMS, bad], None)
    assert info.value.field == "consignee_country"
    # the AMS set and the declaration are separate units: the set went in first? no:
    # one-file layouts go first, so nothing was stored before the bad declaration.
    assert _count(store) == (0, 0)
    ingest_files(store, [DECLARATION])
    with pytest.raises(InputError):
        ingest_files(store, [bad])
    assert _count(store) == (3, 1)


def test_a_line_already_stored_from_another_file_is_refused(store: Store, tmp_path: Path) -> None:
    ingest_files(store, [DECLARATION])
    rows = DECLARATION.read_text(encoding="utf-8").splitlines()
    other = tmp_path / "other.csv"
    other.write_text(
        "\n".join([rows[0], rows[1].replace("hospital use", "clinic")]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="DEC-2024-0001/1 is already stored"):
        ingest_files(store, [other])
    assert _count(store) == (3, 1)


def test_a_line_twice_in_one_file_names_the_row(store: Store, tmp_path: Path) -> None:
    rows = DECLARATION.read_text(encoding="utf-8").splitlines()
    twice = tmp_path / "twice.csv"
    twice.write_text("\n".join([rows[0], rows[1], rows[1]]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="already in this file at twice.csv:2") as info:
        ingest_files(store, [twice])
    assert info.value.line == 3
    assert _count(store) == (0, 0)


def test_an_ams_set_without_its_cargo_description_is_refused(store: Store) -> None:
    partial = [p for p in AMS if "cargodesc" not in p.name]
    with pytest.raises(InputError, match="no cargodesc file"):
        ingest_files(store, partial, "cbp_ams")
    assert _count(store) == (0, 0)


def test_a_semicolon_csv_reads_as_the_comma_one(store: Store, tmp_path: Path) -> None:
    with DECLARATION.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    semi = tmp_path / "semicolon.csv"
    with semi.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    ingest_files(store, [semi])
    (first, *_) = read_lines(store)
    assert first.hs_code == "30043190" and first.transit_countries == ("AE", "OM")


def test_a_file_of_no_layout_asks_for_one(store: Store, tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="--layout"):
        ingest_files(store, [odd])


@pytest.mark.parametrize(("raw", "code"), [("Iran", "IR"), ("IRN", "IR"), ("China (Mainland)", "CN"),
                                           ("Korea, South", "KR"), ("venezuela", "VE"), ("UAE", "AE")])  # fmt: skip
def test_countries_by_name_or_code(raw: str, code: str) -> None:
    assert country_code(raw) == code


# -- malformed input: InputError naming the file, never a traceback, never half a file --

_VALID = DECLARATION.read_bytes()


def _mutate(data: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(data)
    for pos, junk in cuts:
        pos %= max(1, len(out))
        out[pos : pos + len(junk)] = junk
    return bytes(out)


_CUTS = st.lists(
    st.tuples(st.integers(0, 10_000), st.binary(min_size=1, max_size=6)), min_size=1, max_size=4
)


def _ingest_or_bad_input(path: Path) -> None:
    store = Store(":memory:")
    try:
        ingest_files(store, [path], "customs_declaration")
    except InputError as exc:
        assert exc.path == str(path)
        assert _count(store) == (0, 0)  # nothing of a bad file
    else:
        lines, batches = _count(store)
        assert batches == 1 and lines >= 1
    finally:
        store.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=_CUTS)
def test_csv_reader_on_malformed_bytes(tmp_path: Path, cuts: list[tuple[int, bytes]]) -> None:
    path = tmp_path / "mutated.csv"
    path.write_bytes(_mutate(_VALID, cuts))
    _ingest_or_bad_input(path)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=_CUTS, records=st.lists(st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["declaration_number", "item_number", "goods_description",
                                     "commodity_code", "departure_date", "exporter_country"]),
                    st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=8), st.lists(st.none())),
                    max_size=6),
), max_size=3))  # fmt: skip
def test_jsonl_reader_on_malformed_records(
    tmp_path: Path, cuts: list[tuple[int, bytes]], records: list[object]
) -> None:
    valid = _as_jsonl(DECLARATION)
    path = tmp_path / "mutated.jsonl"
    path.write_bytes(
        _mutate(valid, cuts) + b"".join(json.dumps(r).encode() + b"\n" for r in records)
    )
    _ingest_or_bad_input(path)


_XLSX = _as_xlsx(DECLARATION)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cuts=_CUTS, member=st.integers(0, 20))
def test_xlsx_reader_on_malformed_workbooks(
    tmp_path: Path, cuts: list[tuple[int, bytes]], member: int
) -> None:
    # Damage the bytes of the file, or of one part inside the (valid) zip container.
    path = tmp_path / "mutated.xlsx"
    if member % 2:
        path.write_bytes(_mutate(_XLSX, cuts))
    else:
        src = zipfile.ZipFile(io.BytesIO(_XLSX))
        names = src.namelist()
        target = names[member % len(names)]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for name in names:
                data = src.read(name)
                dst.writestr(name, _mutate(data, cuts) if name == target else data)
        path.write_bytes(out.getvalue())
    _ingest_or_bad_input(path)


def test_read_rows_refuses_an_unknown_file_type(tmp_path: Path) -> None:
    odd = tmp_path / "x.pdf"
    odd.write_bytes(b"%PDF")
    with pytest.raises(InputError, match="unknown file type"):
        read_rows(odd)


def test_batches_are_listed_with_their_sources(store: Store) -> None:
    ingest_files(store, AMS, "cbp_ams")
    (batch,) = list_batches(store)
    assert batch.layout == "cbp_ams" and batch.lines == 3 and batch.shipments == 2
    assert len(batch.sources) == 7
