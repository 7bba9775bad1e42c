from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.movement import samples
from watchkeeper.cli import app
from watchkeeper.cli.vessels import parse_vessel_id, parse_vessel_query
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


# ------------------------------------ listed vessels without AIS, and names (bundled)


@pytest.fixture(scope="module")
def bundled_db(sdn_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled OFAC SDN 2023-12-28 trio and the two bundled Argenni AIS samples
    (Baltic 2018, Gibraltar 2016). ARTAVIL (ofac-15036, IMO 9187629) and ARGO I
    (ofac-15038) are listed there and never heard in these samples."""
    from tests.conftest import DATA, copy_store
    from watchkeeper.movement.ais.ingest import ingest_paths

    path = copy_store(sdn_db_path, tmp_path_factory.mktemp("vessels") / "wk.duckdb")
    with Store(path) as store:
        ingest_paths(store, [DATA / "ais" / "argenni"])
    return path


def show_json(db: Path, *query: str) -> dict:  # type: ignore[type-arg]
    res = runner.invoke(app, ["vessels", "show", *query, "--db", str(db), "--json"])
    assert res.exit_code == 0, res.output
    found: dict = json.loads(res.output)  # type: ignore[type-arg]
    return found


def test_listed_imo_without_ais_shows_the_listing(bundled_db: Path) -> None:
    """Before: "no AIS reports and no registry history for IMO 9187629", exit 1."""
    shown = show_json(bundled_db, "IMO 9187629")
    assert shown["vessels"] == [] and shown["registry"] == []
    [artavil] = shown["listed"]
    assert artavil["id"] == "ofac-15036" and artavil["caption"] == "ARTAVIL"
    assert artavil["properties"]["imoNumber"] == ["IMO9187629"]
    assert "SHONA" in artavil["properties"]["previousName"]
    assert artavil["provenance"][0]["source"] == "ofac_sdn"
    [sanction] = artavil["sanctions"]
    assert sanction["program"] == ["IRAN"]
    assert sanction["authority"] == ["Office of Foreign Assets Control (OFAC)"]
    [nitc] = artavil["parties"]
    assert nitc["entity_id"] == "ofac-15117" and nitc["role"] == "Linked To"
    assert nitc["caption"] == "NATIONAL IRANIAN TANKER COMPANY" and nitc["schema"] == "Organization"
    text = runner.invoke(app, ["vessels", "show", "9187629", "--db", str(bundled_db)])
    assert text.exit_code == 0, text.output
    for shown_text in ("listed: ARTAVIL (ofac-15036)", "IRAN", "NATIONAL IRANIAN TANKER"):
        assert shown_text in " ".join(text.output.split())


def test_listed_mmsi_without_ais_shows_the_listing(bundled_db: Path) -> None:
    """ARTAVIL's listed MMSI 572469210 was never heard: the listing still answers."""
    shown = show_json(bundled_db, "572469210")
    assert [v["id"] for v in shown["listed"]] == ["ofac-15036"]


def test_name_of_a_listed_vessel_shows_it(bundled_db: Path) -> None:
    """By its name in any case, by a former name, or by its list id."""
    for query in ("Artavil", "shona", "ofac-15036"):
        shown = show_json(bundled_db, query)
        assert [v["id"] for v in shown["listed"]] == ["ofac-15036"], query
    by_name = show_json(bundled_db, "Artavil")
    assert by_name["query"] == {"kind": "name", "value": "Artavil"}
    assert by_name["candidates"][0]["exact"] and by_name["candidates"][0]["kind"] == "listed"


def test_name_heard_on_ais_shows_the_vessel(bundled_db: Path) -> None:
    """PANTELIS broadcast by MMSI 209448000 in the Baltic sample (IMO 9274616)."""
    shown = show_json(bundled_db, "pantelis")
    assert [v["mmsi"] for v in shown["vessels"]] == [209448000]
    assert shown["candidates"][0] == {
        "kind": "ais",
        "name": "PANTELIS",
        "score": 1.0,
        "exact": True,
        "mmsi": 209448000,
        "imo": "9274616",
    }


def test_near_name_lists_candidates(bundled_db: Path) -> None:
    """ "argo" is no vessel's whole name: candidates to choose from, none shown in full."""
    shown = show_json(bundled_db, "argo")
    assert shown["vessels"] == [] and shown["listed"] == []
    ids = [c.get("entity_id") for c in shown["candidates"]]
    assert "ofac-15038" in ids and not any(c["exact"] for c in shown["candidates"])
    text = runner.invoke(app, ["vessels", "show", "argo", "--db", str(bundled_db)])
    assert text.exit_code == 0 and "ofac-15038" in text.output and "ARGO I" in text.output


def test_unknown_name(bundled_db: Path) -> None:
    res = runner.invoke(app, ["vessels", "show", "Zzyzx Qwerty", "--db", str(bundled_db)])
    assert res.exit_code == 1 and "no listed vessel and no AIS name like" in res.output


def test_parse_vessel_query() -> None:
    assert parse_vessel_query("IMO 9187629") == ("imo", "9187629")
    assert parse_vessel_query("  Adrian   Darya 1 ") == ("name", "Adrian Darya 1")
    assert parse_vessel_query("ofac-15036") == ("name", "ofac-15036")
    with pytest.raises(InputError):
        parse_vessel_query("12-34 !")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_vessel_query_is_read_or_refused(text: str) -> None:
    """Property: any argument is an MMSI, an IMO or a name, or bad input naming the
    field; never another exception."""
    try:
        kind, value = parse_vessel_query(text)
    except InputError as exc:
        assert exc.field == "vessel"
        return
    assert kind in ("mmsi", "imo", "name") and value
    if kind != "name":
        assert value.isdigit()
