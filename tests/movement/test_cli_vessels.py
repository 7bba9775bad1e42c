from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.movement import samples
from watchkeeper.cli import app
from watchkeeper.cli.vessels import parse_vessel_id
from watchkeeper.errors import InputError
from watchkeeper.store import Store

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with the real Baltic sample and the real SDN vessels."""
    from tests.conftest import shared_path

    folder = tmp_path_factory.mktemp("cli")
    path = folder / "wk.duckdb"
    with Store(path) as store:
        samples.load_baltic(store, shared_path("ais", "argenni_ais_reconstruction", samples.BALTIC))
        sdn = shared_path("sanctions", "ofac", "sdn_csv_2024-05-03", "sdn.csv")
        samples.add_list(store, "ofac_sdn", samples.vessel_entities(samples.sdn_rows(sdn)), folder)
    return path


def test_parse_vessel_id() -> None:
    assert parse_vessel_id("209448000") == ("mmsi", "209448000")
    assert parse_vessel_id("IMO 9274616") == ("imo", "9274616")
    assert parse_vessel_id("9274616") == ("imo", "9274616")
    assert parse_vessel_id("mmsi:209448000") == ("mmsi", "209448000")
    with pytest.raises(InputError):
        parse_vessel_id("PANTELIS")


def test_detect_then_show_json(db: Path) -> None:
    res = runner.invoke(app, ["detect", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["events"]["port_call"] > 0 and out["vessel_links"] >= 1
    res = runner.invoke(app, ["vessels", "show", "209448000", "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.output)
    [vessel] = shown["vessels"]
    assert vessel["flag"] == "cy" and vessel["names"][0]["value"] == "PANTELIS"
    assert vessel["links"][0]["entity_id"] == "ofac-47221"
    assert "why" not in vessel["links"][0] and "IMO 9274616" in vessel["links"][0]["detail"]
    assert [r["imo"] for r in shown["registry"]] == ["9274616"]
    assert shown["listed_by_imo"]["9274616"] == ["LA PRIDE (ofac-47221)"]
    # By IMO: the MMSIs that broadcast it, and the text view.
    res = runner.invoke(app, ["vessels", "show", "IMO9274616", "--db", str(db)])
    assert res.exit_code == 0 and "PANTELIS" in res.output and "LA PRIDE" in res.output
    events = runner.invoke(app, ["events", "--db", str(db), "--type", "port_call", "--json"])
    assert events.exit_code == 0 and json.loads(events.output)[0]["mmsi"]


def test_detect_rejects_unknown_type(db: Path) -> None:
    res = runner.invoke(app, ["detect", "--db", str(db), "--type", "bogus"])
    assert res.exit_code != 0
    assert isinstance(res.exception, InputError) and "bogus" in str(res.exception)


def test_show_unknown_vessel(db: Path) -> None:
    res = runner.invoke(app, ["vessels", "show", "999999999", "--db", str(db)])
    assert res.exit_code == 1 and "no AIS reports" in res.output
