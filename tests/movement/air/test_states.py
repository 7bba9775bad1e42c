"""State vectors by column mapping: layouts, units, file formats, bad rows (real samples)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import shared_path
from tests.movement.air._support import NOISY, QUICKSTART_PART, TRACE_FULL
from watchkeeper.errors import InputError
from watchkeeper.movement.air.formats import read_air_file
from watchkeeper.movement.air.states import FPM_PER_MPS, FT_PER_M, KT_PER_MPS


def _records(n: int = 3000) -> list[dict[str, object]]:
    with gzip.open(QUICKSTART_PART, "rt") as fh:
        return [json.loads(line) for _, line in zip(range(n), fh, strict=False)]


def test_traffic_jsonl_keeps_units_and_values() -> None:
    parsed = read_air_file(QUICKSTART_PART)
    assert parsed.format == "jsonl/traffic"
    assert parsed.rows_read == 49526
    first = _records(1)[0]
    st = parsed.states
    i = int(
        np.flatnonzero((st.icao24 == first["icao24"]) & (st.time == first["timestamp"] / 1000))[0]
    )  # type: ignore[operator]
    assert st.lat[i] == first["latitude"] and st.lon[i] == first["longitude"]
    assert st.altitude_ft[i] == first["altitude"]  # traffic gives feet: unchanged
    assert st.groundspeed_kt[i] == first["groundspeed"]
    assert st.callsign[i] == first["callsign"]
    assert st.onground[i] == int(bool(first["onground"]))


def test_opensky_layout_is_converted_to_the_same_internal_units(tmp_path: Path) -> None:
    """Real traffic records re-expressed in OpenSky's state_vectors_data4 columns and SI
    units must read back to the same internal values."""
    recs = [r for r in _records() if r["altitude"] is not None and r["groundspeed"] is not None]
    path = tmp_path / "opensky.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "callsign",
                    "onground", "alert", "spi", "squawk", "baroaltitude", "geoaltitude",
                    "lastposupdate", "lastcontact", "hour"])  # fmt: skip
        for r in recs:
            w.writerow([
                int(r["timestamp"]) // 1000, r["icao24"], r["latitude"], r["longitude"],
                float(r["groundspeed"]) / KT_PER_MPS, r["track"],
                float(r["vertical_rate"] or 0) / FPM_PER_MPS, r["callsign"] or "",
                str(r["onground"]).lower(), "false", "false", r["squawk"] or "",
                float(r["altitude"]) / FT_PER_M, "", "", "", "",
            ])  # fmt: skip
    ours = read_air_file(path)
    assert ours.format == "csv/opensky"
    ref = read_air_file(QUICKSTART_PART).states
    st = ours.states
    assert len(st) == len(recs)
    keys = {(a, t): k for k, (a, t) in enumerate(zip(ref.icao24, ref.time, strict=True))}
    idx = np.array([keys[(a, t)] for a, t in zip(st.icao24, st.time, strict=True)])
    assert np.allclose(st.altitude_ft, ref.altitude_ft[idx])
    assert np.allclose(st.groundspeed_kt, ref.groundspeed_kt[idx])
    assert np.array_equal(st.onground, ref.onground[idx])


def test_json_records_and_parquet_read_the_same_states(tmp_path: Path) -> None:
    recs = _records()
    as_json = tmp_path / "records.json"
    as_json.write_text(json.dumps(recs))
    table = pa.Table.from_pylist(recs)
    as_parquet = tmp_path / "records.parquet"
    pq.write_table(table, as_parquet)
    a = read_air_file(as_json)
    b = read_air_file(as_parquet)
    assert a.format == "json-records/traffic" and b.format == "parquet/traffic"
    assert len(a.states) == len(b.states) == len(recs)
    assert np.array_equal(a.states.time, b.states.time)
    assert np.allclose(a.states.lat, b.states.lat)
    assert list(a.states.callsign) == list(b.states.callsign)


def test_column_oriented_json_noisy_spoofing() -> None:
    parsed = read_air_file(NOISY)
    assert parsed.format == "json-columns/traffic"
    assert parsed.rows_read == 8681
    assert parsed.rejects == {"no_position": 11}
    assert len(parsed.states) == 8670
    assert set(parsed.states.callsign.tolist()) == {"THY9BP"}


def test_trace_full_header_and_points() -> None:
    parsed = read_air_file(TRACE_FULL)
    assert parsed.format == "trace_full"
    facts = parsed.facts["ac671b"]
    assert facts.registration == "N899DN" and facts.typecode == "B739"
    assert facts.owner_operator == "DELTA AIR LINES INC"
    assert parsed.rejects["stale_position"] > 0  # readsb flag 1: position not updated
    assert {"DAL1812", "DAL2927"} <= set(parsed.states.callsign.tolist())
    assert (parsed.states.onground == 1).any()  # altitude "ground"


def test_out_of_order_rows_are_counted_and_sorted() -> None:
    parsed = read_air_file(shared_path("adsb", "traffic", "switzerland.json.gz"))
    assert parsed.repaired["out_of_order"] > 0
    st = parsed.states
    same = st.icao24[1:] == st.icao24[:-1]
    assert (np.diff(st.time)[same] >= 0).all()


def test_unknown_format_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are not state vectors\nnor frames\n")
    with pytest.raises(InputError) as err:
        read_air_file(path)
    assert "notes.txt" in str(err.value) and "unknown format" in str(err.value)
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty.json"):
        read_air_file(empty)
    other = tmp_path / "cols.csv"
    other.write_text("when,where,who\n1,2,3\n")
    with pytest.raises(InputError, match="cols.csv"):
        read_air_file(other)
