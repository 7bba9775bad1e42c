"""`watchkeeper read` and `watchkeeper events` on the founding report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DATA, copy_store
from watchkeeper.cli import app
from watchkeeper.screening import Screener
from watchkeeper.store import Store

SEED = DATA / "articles" / "seed-iran-venezuela.txt"


@pytest.fixture(scope="module")
def db(sdn_db_path: Path, ofac_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    Screener.from_store(ofac_store)  # the session's index, cached beside its store
    return copy_store(sdn_db_path, tmp_path_factory.mktemp("read") / "read.duckdb")


def test_read_json_and_events(db: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["read", str(SEED), "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    linked = {m["entity_id"] for m in out["mentions"] if m["entity_id"]}
    assert {"ofac-12927", "ofac-10465", "ofac-12735"} <= linked
    assert out["events_written"] == len(linked)
    assert len(out["set_aside"]) == 4
    assert any(c["source"] == "Venezuelan analysts" for c in out["claims"])

    events = runner.invoke(
        app,
        [
            "events",
            "--type",
            "report_mention",
            "--subject",
            "ofac-12927",
            "--json",
            "--db",
            str(db),
        ],
    )
    assert events.exit_code == 0, events.output
    (event,) = json.loads(events.output)
    assert event["type"] == "report_mention" and "list:ofac-12927" in event["evidence"]


def test_read_table_output(db: Path) -> None:
    result = CliRunner().invoke(app, ["read", str(SEED), "--db", str(db), "--no-store"])
    assert result.exit_code == 0, result.output
    assert "ofac-12927" in result.output and "set aside (promo)" in result.output


def test_read_a_news_page_sets_aside_its_furniture_and_reads_its_date(db: Path) -> None:
    """A real page (tests/fixtures/documents): chrome, a credit line and a dateline are set
    aside, the headline is the story's, the date is the one the page states."""
    page = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / "texts"
    result = CliRunner().invoke(
        app, ["read", str(page / "freebeacon-2020-06-24.txt"), "--db", str(db), "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["title"] == "U.S. Sanctions Iranians Who Delivered Fuel to Venezuela"
    assert out["published"] == "2020-06-24"
    aside = {b["text"]: b["kind"] for b in out["set_aside"]}
    assert aside["Getty Images"] == "credit"
    assert aside["Published under: Iran, Sanctions, Venezuela"] == "boilerplate"
    speakers = {c["source"] for c in out["claims"]}
    assert {"Secretary of State Mike Pompeo", "Treasury Secretary Steven Mnuchin"} <= speakers
