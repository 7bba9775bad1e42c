"""``watchkeeper flights ...`` and ``watchkeeper aircraft show`` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.movement.air._support import FULL_FLIGHT, HANDMADE, load_sdn_subset
from watchkeeper.cli import app
from watchkeeper.store import Store

runner = CliRunner()


def test_ingest_list_detect_show(tmp_path: Path) -> None:
    db = tmp_path / "wk.duckdb"
    with Store(db) as store:
        load_sdn_subset(store, tmp_path)
    out = runner.invoke(
        app, ["flights", "ingest", str(FULL_FLIGHT), str(HANDMADE), "--db", str(db), "--json"]
    )
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    assert report["files"][0]["format"] == "frames-jsonl"
    assert report["files"][0]["repaired"]["short_frame_padded"] > 0
    again = runner.invoke(app, ["flights", "ingest", str(FULL_FLIGHT), "--db", str(db), "--json"])
    assert json.loads(again.output)["files"][0]["skipped"] is True

    listed = json.loads(runner.invoke(app, ["flights", "--db", str(db), "--json"]).output)
    assert len(listed) == 5
    for f in listed:
        assert {"icao24", "callsign", "departure", "arrival", "start", "end"} <= f.keys()
    paris = [f for f in listed if f["icao24"] == "393322"]
    assert paris[0]["departure"] == "LFPG" and paris[0]["operator"]["name"] == "Air France"

    route = json.loads(
        runner.invoke(app, ["flights", "--route", "OIIE-SVMI", "--db", str(db), "--json"]).output
    )
    assert [f["callsign"] for f in route] == ["IRM7150", "IRM7150"]
    by_code = json.loads(
        runner.invoke(app, ["flights", "--operator", "IRM", "--db", str(db), "--json"]).output
    )
    assert len(by_code) == 4
    by_entity = json.loads(
        runner.invoke(
            app, ["flights", "--operator", "ofac-12927", "--db", str(db), "--json"]
        ).output
    )
    assert len(by_entity) == 4
    by_name = json.loads(
        runner.invoke(app, ["flights", "--operator", "france", "--db", str(db), "--json"]).output
    )
    assert [f["icao24"] for f in by_name] == ["393322"]

    detect = runner.invoke(app, ["flights", "detect", "--db", str(db), "--json"])
    assert detect.exit_code == 0, detect.output
    counts = json.loads(detect.output)
    assert counts["listed_operator_flight"] == 4 and counts["air_bridge"] == 1
    events = json.loads(
        runner.invoke(app, ["events", "--subject", "ofac-12927", "--db", str(db), "--json"]).output
    )
    assert {e["type"] for e in events} >= {
        "listed_operator_flight",
        "listed_aircraft_flight",
        "air_bridge",
    }

    show = runner.invoke(app, ["aircraft", "show", "EP-MNG", "--db", str(db), "--json"])
    assert show.exit_code == 0, show.output
    shown = json.loads(show.output)
    assert shown["icao24"] == "7300f1" and shown["country"] == "Iran"
    assert {lk["entity_id"] for lk in shown["links"]} == {"ofac-15438", "ofac-12927"}
    assert len(shown["flights"]) == 4 and shown["events"]
    by_hex = json.loads(
        runner.invoke(app, ["aircraft", "show", "393322", "--db", str(db), "--json"]).output
    )
    assert by_hex["country"] == "France" and by_hex["links"] == []
    text = runner.invoke(app, ["aircraft", "show", "EP-MNG", "--db", str(db)])
    assert "ofac-15438" in text.output


def test_bad_input_exits_2_naming_the_file(tmp_path: Path) -> None:
    from watchkeeper.cli.common import run_guarded

    bad = tmp_path / "garbage.bin"
    bad.write_bytes(b"\x00\xff\x13" * 50)
    db = tmp_path / "wk.duckdb"
    import sys

    argv = sys.argv
    sys.argv = ["watchkeeper", "flights", "ingest", str(bad), "--db", str(db)]
    try:
        assert run_guarded(app) == 2
    finally:
        sys.argv = argv
    out = runner.invoke(app, ["flights", "ingest", str(bad), "--db", str(db)])
    assert "garbage.bin" in str(out.exception)
    route = runner.invoke(app, ["flights", "--route", "nonsense", "--db", str(db)])
    assert route.exit_code != 0


def test_run_step_loads_the_bundled_samples(tmp_path: Path, capsys: object) -> None:
    """The step ``watchkeeper run`` calls, on a data folder holding two of the bundled files."""
    from watchkeeper.cli.aircraft import run_step

    data = tmp_path / "data"
    (data / "adsb").mkdir(parents=True)
    for src in (FULL_FLIGHT, HANDMADE):
        (data / "adsb" / src.name).symlink_to(src)
    store = Store(":memory:")
    load_sdn_subset(store, tmp_path)
    run_step(store, data)
    flights = store.con.execute("SELECT count(*) FROM air_flights").fetchone()
    assert flights == (5,)
    assert {e.type for e in store.read_events()} >= {"listed_operator_flight", "air_bridge"}
    run_step(store, data)  # again: nothing new, same events
    assert store.con.execute("SELECT count(*) FROM air_ingests").fetchone() == (2,)
