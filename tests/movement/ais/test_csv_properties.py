"""The CSV mapper on mutated real rows: every row stored or counted, or one clean error."""

from __future__ import annotations

import gzip
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.errors import InputError
from watchkeeper.movement.ais import ingest_stream
from watchkeeper.store import Store

SAMPLES = [
    "aisdb/test_data_noaa_20230101.csv.gz",
    "aisdb/test_data_20210701.csv.gz",
    "argenni/decoded_reports_baltic_all_ships_april_2018_micro_20k_sample_ais_data.csv.gz",
    "argenni/decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k_sample_ais_data.csv.gz",
]
_LINES = {
    name: gzip.decompress((DATA / "ais" / name).read_bytes()).splitlines()[:60] for name in SAMPLES
}

_EDITS = st.lists(
    st.tuples(
        st.integers(0, 59),  # row (0 is the header)
        st.sampled_from(["replace", "delete", "insert", "truncate", "drop_cell", "add_cell"]),
        st.integers(0, 2000),
        st.sampled_from(list(b'0123456789.-+e,;"xX \t') + [0xC3, 0xFF]),
    ),
    min_size=1,
    max_size=8,
)


def _edit(lines: list[bytes], edits: list[tuple[int, str, int, int]], delim: bytes) -> bytes:
    out = list(lines)
    for row, kind, pos, byte in edits:
        i = row % len(out)
        if i == 0 and pos % 7:  # mostly leave the header alone
            i = 1
        line = out[i]
        p = pos % (len(line) + 1)
        if kind == "replace" and line:
            out[i] = line[: p % len(line)] + bytes([byte]) + line[p % len(line) + 1 :]
        elif kind == "delete":
            out[i] = line[:p] + line[p + 1 :]
        elif kind == "insert":
            out[i] = line[:p] + bytes([byte]) + line[p:]
        elif kind == "truncate":
            out[i] = line[:p]
        elif kind == "drop_cell":
            cells = line.split(delim)
            out[i] = delim.join(cells[: p % len(cells)] + cells[p % len(cells) + 1 :])
        elif kind == "add_cell":
            out[i] = line + delim + b"1"
    return b"\n".join(out) + b"\n"


def _count(store: Store, table: str) -> int:
    row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sample=st.sampled_from(SAMPLES), edits=_EDITS)
def test_mutated_csv_rows_are_stored_or_counted(
    sample: str, edits: list[tuple[int, str, int, int]]
) -> None:
    delim = b";" if "argenni" in sample else b","
    data = _edit(_LINES[sample], edits, delim)
    store = Store(":memory:")
    try:
        report = ingest_stream(store, io.BytesIO(data))
    except InputError as exc:
        assert exc.path == "-"
        for table in ("ais_ingests", "ais_positions", "ais_static", "ais_other"):
            assert _count(store, table) == 0
        return
    (s,) = report.sources
    assert _count(store, "ais_positions") == s.counts["positions"]
    assert _count(store, "ais_static") == s.counts["statics"]
    if s.format.startswith("csv:"):
        dropped = sum(n for r, n in s.rejects.items() if not r.startswith("nulled_"))
        assert s.counts["rows"] == s.counts["positions"] + s.counts["static_rows"] + dropped
        # a position is always a real fix with a time
        assert store.con.execute(
            "SELECT count(*) FROM ais_positions WHERE time IS NULL OR abs(lat) > 90 OR abs(lon) > 180"
        ).fetchone() == (0,)
