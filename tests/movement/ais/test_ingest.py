"""Ingest into the store: real samples, counts that add up, all or nothing, once per file."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import DATA, shared_path
from watchkeeper.errors import InputError
from watchkeeper.movement.ais import ingest_paths, ingest_stream
from watchkeeper.store import Store

AIS = DATA / "ais"


def table_counts(store: Store) -> dict[str, int]:
    out = {}
    for table in ("ais_ingests", "ais_positions", "ais_static", "ais_other"):
        row = store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        out[table] = int(row[0])
    return out


def test_bundled_samples_fill_the_tables(store: Store) -> None:
    report = ingest_paths(store, [AIS])
    counts = table_counts(store)
    assert counts["ais_ingests"] == len(report.sources) == 9
    assert counts["ais_positions"] == report.positions > 40_000
    assert counts["ais_static"] == report.statics
    assert counts["ais_other"] == report.total("others")
    # one msg_id per message; a type 19 is both a position and a static report
    row = store.con.execute(
        "SELECT count(*) FROM (SELECT msg_id FROM ais_positions UNION ALL "
        "SELECT msg_id FROM ais_static WHERE msg_type <> 19 UNION ALL SELECT msg_id FROM ais_other) "
        "GROUP BY msg_id HAVING count(*) > 1"
    ).fetchall()
    assert row == []
    # the rejects and counts stored with each ingest are the report's
    for s in report.sources:
        stored = store.con.execute(
            "SELECT counts, rejects FROM ais_ingests WHERE ingest_id = ?", [s.ingest_id]
        ).fetchone()
        assert stored is not None
        assert json.loads(stored[1]) == dict(s.rejects)
        assert json.loads(stored[0])["positions"] == s.counts["positions"]
    # positions are all real fixes with a UTC time
    bad = store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE time IS NULL OR abs(lat) > 90 OR abs(lon) > 180 "
        "OR sog < 0 OR cog >= 360 OR heading >= 360"
    ).fetchone()
    assert bad == (0,)


def test_nmea_counts_add_up(store: Store) -> None:
    """Every framed message is stored once or rejected for a reason."""
    path = shared_path("ais", "aisdb", "test_data_20211101.nm4")
    (s,) = ingest_paths(store, [path]).sources
    decoded_rejects = sum(
        s.rejects[r]
        for r in (
            "truncated_payload",
            "bad_part_number",
            "bad_payload_char",
            "position_not_available",
            "position_out_of_range",
            "no_time",
        )
    )
    type19 = s.counts["type_19"]
    assert s.counts["messages_framed"] == (
        s.counts["positions"] + s.counts["statics"] - type19 + s.counts["others"] + decoded_rejects
    )
    # the real file's tag blocks give every message a time and a source station
    assert store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE source IS NULL"
    ).fetchone() == (0,)
    first = store.con.execute("SELECT min(time), max(time) FROM ais_positions").fetchone()
    tag_times = [int(t) for t in re.findall(rb"[\\,]c:(\d+)", path.read_bytes())]
    assert first == tuple(datetime.fromtimestamp(t, UTC) for t in (min(tag_times), max(tag_times)))


def test_a_file_is_ingested_once_unless_forced(store: Store) -> None:
    path = AIS / "aisdb" / "test_data_201201.nmea"
    ingest_paths(store, [path])
    again = ingest_paths(store, [path])
    assert again.sources[0].skipped and again.positions == 0
    assert table_counts(store)["ais_ingests"] == 1
    forced = ingest_paths(store, [path], force=True)
    assert forced.positions == 3 and table_counts(store)["ais_positions"] == 6


def test_not_ais_fails_the_whole_ingest(tmp_path: Path, store: Store) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("\nthese are not AIS sentences\nat all\n")
    with pytest.raises(InputError) as err:
        ingest_paths(store, [AIS / "aisdb" / "test_data_201201.nmea", notes])
    assert err.value.path == str(notes) and err.value.line == 2
    assert table_counts(store) == dict.fromkeys(table_counts(store), 0)


def test_missing_path_is_an_input_error(tmp_path: Path, store: Store) -> None:
    with pytest.raises(InputError, match="no such file"):
        ingest_paths(store, [tmp_path / "nope.nmea"])


def test_positions_without_time_are_rejected_unless_assumed(store: Store) -> None:
    path = AIS / "pyais" / "nmea_data_sample.txt.gz"  # a real feed log with no times at all
    (s,) = ingest_paths(store, [path]).sources
    assert s.counts["positions"] == 0 and s.rejects["no_time"] == 758
    assert s.counts["statics_without_time"] == 2
    when = datetime(2020, 1, 1, tzinfo=UTC)
    (s2,) = ingest_paths(store, [path], assume_time=when, force=True).sources
    assert s2.counts["positions"] == 758 and s2.counts["assumed_time"] == 758
    assert "no_time" not in s2.rejects
    assert store.con.execute("SELECT DISTINCT time FROM ais_positions").fetchall() == [(when,)]


def test_stdin_equals_file(store: Store, tmp_path: Path) -> None:
    path = AIS / "aisdb" / "test_data_20211101.nm4.gz"
    data = gzip.decompress(path.read_bytes())
    from_stdin = ingest_stream(store, io.BytesIO(data)).sources[0]
    other = Store(":memory:")
    from_file = ingest_paths(other, [path]).sources[0]
    assert from_stdin.counts == from_file.counts and from_stdin.rejects == from_file.rejects
    q = "SELECT mmsi, time, lat, lon, sog, cog, heading FROM ais_positions ORDER BY msg_id"
    assert store.con.execute(q).fetchall() == other.con.execute(q).fetchall()


def test_stdin_receive_time_stamps_untimed_sentences(store: Store) -> None:
    data = gzip.decompress((AIS / "pyais" / "nmea_data_sample.txt.gz").read_bytes())
    before = datetime.now(UTC)
    (s,) = ingest_stream(store, io.BytesIO(data), receive_time=True).sources
    assert s.counts["positions"] == 758
    row = store.con.execute("SELECT min(time) FROM ais_positions").fetchone()
    assert row is not None and row[0] >= before.replace(microsecond=0)


# -- decoded CSV layouts, checked against the raw files read with the csv module ---------


def _rows(path: Path, delimiter: str) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


def _positions(store: Store, ingest_id: int) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT mmsi, time, lat, lon, sog, cog, heading, nav_status, msg_type FROM ais_positions "
        "WHERE ingest_id = ? ORDER BY msg_id",
        [ingest_id],
    ).fetchall()


def _f(value: str) -> float | None:
    return None if value in ("", "NULL") else float(value)


def test_noaa_layout(store: Store) -> None:
    path = AIS / "aisdb" / "test_data_noaa_20230101.csv.gz"
    (s,) = ingest_paths(store, [path]).sources
    assert s.format == "csv:noaa"
    rows = _rows(path, ",")
    got = _positions(store, s.ingest_id or 0)
    assert len(got) == len(rows) == 1000
    for row, pos in zip(rows, got, strict=True):
        heading = _f(row["Heading"])
        cog = _f(row["COG"])
        assert pos == (
            int(row["MMSI"]),
            datetime.fromisoformat(row["BaseDateTime"]).replace(tzinfo=UTC),
            float(row["LAT"]),
            float(row["LON"]),
            None if _f(row["SOG"]) == 102.3 else _f(row["SOG"]),  # 102.3 = not available
            None if cog is None or cog >= 360 else cog,
            None if heading is None or heading >= 360 else heading,
            None if row["Status"] == "" else int(float(row["Status"])),
            0,
        )
    # identity: IMO9307839 -> 9307839; the 10-digit IMO1050000000 is nulled and counted
    static = store.con.execute(
        "SELECT imo, name, callsign, ship_type, length, width, draught FROM ais_static "
        "WHERE mmsi = 636021061"
    ).fetchall()
    assert static == [(9307839, "MSC NAISHA III", "5LCB4", 70, 208.0, 30.0, 8.0)]
    assert s.rejects == {"nulled_bad_value:IMO": 4}


def test_baltic_layout_keeps_identity_first_and_last_seen(store: Store) -> None:
    path = (
        AIS
        / "argenni"
        / "decoded_reports_baltic_all_ships_april_2018_micro_20k_sample_ais_data.csv.gz"
    )
    (s,) = ingest_paths(store, [path]).sources
    rows = _rows(path, ";")
    assert s.counts["positions"] == len(rows) == 19_999
    temse = [r for r in rows if r["mmsi"] == "205366000"]
    times = sorted(
        datetime.strptime(r["timestamp_pretty"], "%d/%m/%Y %H:%M:%S").replace(tzinfo=UTC)
        for r in temse
    )
    static = store.con.execute(
        "SELECT time, imo, name, callsign, ship_type_text, to_bow, to_stern, draught, length "
        "FROM ais_static WHERE mmsi = 205366000 ORDER BY time"
    ).fetchall()
    assert [r[0] for r in static] == [times[0], times[-1]]
    assert static[0][1:] == (9045807, "TEMSE", "ONCC", "TANKER", 108, 34, 6.2, 142.0)


def test_marinetraffic_layout_converts_tenths(store: Store) -> None:
    path = (
        AIS
        / "argenni"
        / "decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k_sample_ais_data.csv.gz"
    )
    (s,) = ingest_paths(store, [path]).sources
    rows = _rows(path, ";")
    got = _positions(store, s.ingest_id or 0)
    for row, pos in zip(rows[:500], got[:500], strict=True):
        heading = int(row["HEADING"])
        status = int(row["STATUS"])
        assert pos[0] == int(row["MMSI"])
        assert pos[4] == pytest.approx(int(row["SPEED_KNOTSx10"]) / 10)
        assert pos[6] == (None if heading == 511 else heading)
        assert pos[7] == (status if status <= 15 else None)  # 99 = MarineTraffic's unknown
    draught = store.con.execute(
        "SELECT draught FROM ais_static WHERE mmsi = 305575000 LIMIT 1"
    ).fetchone()
    assert draught == (7.2,)  # DRAUGHT_METERSx10 = 72


def test_aisdb_layout_by_message_type(store: Store) -> None:
    path = AIS / "aisdb" / "test_data_20210701.csv.gz"
    (s,) = ingest_paths(store, [path]).sources
    rows = _rows(path, ",")
    kinds = [int(r["Message_ID"]) for r in rows]
    assert s.rejects["csv_other_msg_type"] == sum(
        k not in (1, 2, 3, 5, 18, 19, 24, 27) for k in kinds
    )
    t5 = store.con.execute(
        "SELECT name, callsign, imo, ship_type, draught, destination FROM ais_static WHERE mmsi = 538007407"
    ).fetchall()
    assert ("GH ZONDA", "V7MF3", 9436472, 71, 8.7, "BLUFF") in t5  # draught given in decimetres
    assert s.counts["rows"] == (
        s.counts["positions"]
        + s.counts["static_rows"]
        + sum(n for r, n in s.rejects.items() if not r.startswith("nulled_"))
    )


def test_dma_layout_hand_made_rows(tmp_path: Path, store: Store) -> None:
    """No real DMA file is in ../shared: three hand-made rows in the published layout."""
    path = tmp_path / "aisdk-hand-made.csv"
    path.write_text(
        "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG,"
        "Heading,IMO,Callsign,Name,Ship type,Cargo type,Width,Length,Type of position fixing "
        "device,Draught,Destination,ETA,Data source type,A,B,C,D\n"
        "01/04/2018 00:00:01,Class A,219000123,55.5,10.5,Under way using engine,0,12.3,90.1,91,"
        "9300000,OXAB2,HAND MADE,Tanker,,20,120,GPS,7.5,AARHUS,,AIS,100,20,10,10\n"
        "01/04/2018 00:00:02,Base Station,2190047,55.6,10.6,Unknown value,,,,,Unknown,,,"
        "Undefined,,,,GPS,,,,AIS,,,,\n"
        "01/04/2018 00:00:03,Class A,219000124,95.5,10.5,Moored,,0,0,511,Unknown,,,,,,,,,,,AIS,,,,\n"
    )
    (s,) = ingest_paths(store, [path]).sources
    assert s.format == "csv:dma"
    assert s.rejects == {"not_a_vessel": 1, "bad_value:Latitude": 1}
    assert store.con.execute(
        "SELECT mmsi, lat, lon, sog, cog, heading, nav_status FROM ais_positions"
    ).fetchall() == [(219000123, 55.5, 10.5, 12.3, 90.1, 91.0, 0)]
    assert store.con.execute(
        "SELECT imo, name, ship_type_text, to_bow, length, width, draught, destination FROM ais_static"
    ).fetchall() == [(9300000, "HAND MADE", "Tanker", 100, 120.0, 20.0, 7.5, "AARHUS")]


def test_other_messages_keep_their_payload_and_mmsi(store: Store) -> None:
    path = AIS / "aisdb" / "test_data_201201.nmea"  # one real message of each type
    ingest_paths(store, [path])
    stored = store.con.execute("SELECT msg_type, payload, mmsi FROM ais_other").fetchall()
    raw = [line.split(b",")[5].decode() for line in path.read_bytes().splitlines()]
    kept = {1, 2, 3, 5, 18, 19, 24, 27}
    expected = {p for p in raw if ARMOUR.index(p[0]) not in kept}
    assert {p for _, p, _ in stored} == expected and len(stored) == 19
    assert all(t not in kept for t, _, _ in stored)
    base = [m for t, _, m in stored if t == 4]  # the base station report's MMSI, as pyais
    assert base == [3669713]


ARMOUR = "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVW`abcdefghijklmnopqrstuvw"
