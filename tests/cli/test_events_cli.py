"""``watchkeeper events`` and what every read command does with ``--db``: on the
bundled real AIS samples, with the detectors' real events stored.

A typo in ``--type`` or in ``--db`` used to read as "nothing found" (exit 0, no
rows): now an unknown type is bad input (exit 2), a missing store file a store error
(exit 3, as ``screen --audit`` has it), each named in one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli._lists_stores import run_main
from tests.conftest import DATA
from watchkeeper.movement.ais.ingest import ingest_paths
from watchkeeper.movement.detect import run_detectors
from watchkeeper.store import Store


@pytest.fixture(scope="module")
def ships_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every bundled AIS sample ingested and every ship detector run."""
    path = tmp_path_factory.mktemp("events") / "ships.duckdb"
    with Store(path) as store:
        ingest_paths(store, [DATA / "ais"])
        counts = run_detectors(store)
    assert counts["port_call"] > 0 and counts["ais_gap"] > 0
    return path


def test_known_type_lists_its_events(
    ships_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_main(monkeypatch, capsys, "events", "--type", "port_call", "--db", ships_db, "--json")
    assert res.code == 0, res.err
    found = json.loads(res.out)
    assert found and {e["type"] for e in found} == {"port_call"}


def test_typo_in_type_is_bad_input_with_the_closest(
    ships_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``portcall`` used to print an empty table and exit 0."""
    res = run_main(monkeypatch, capsys, "events", "--type", "portcall", "--db", ships_db)
    assert res.code == 2, res.out
    assert "unknown event type 'portcall'" in res.message
    assert "did you mean 'port_call'?" in res.message
    # Every type an analysis writes is named: ships, aircraft, reports, cargo, ownership.
    for known in (
        "ais_gap",
        "encounter",
        "transponder_gap",
        "air_bridge",
        "report_mention",
        "prohibited_cargo",
        "manifest_track_mismatch",
        "owned_by_blocked",
        "vessel_owner_blocked",
    ):
        assert known in res.message
    assert res.out == ""  # no empty table printed as if it were an answer
    far = run_main(monkeypatch, capsys, "events", "--type", "zzz", "--db", ships_db)
    assert far.code == 2 and "did you mean" not in far.message


def test_known_type_with_no_events_is_an_empty_answer(
    ships_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No flights were ingested: an aircraft type is known, and finds nothing."""
    res = run_main(
        monkeypatch, capsys, "events", "--type", "air_bridge", "--db", ships_db, "--json"
    )
    assert res.code == 0 and json.loads(res.out) == []


def test_stored_type_of_another_analysis_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A type found in the store is known even when no registry here names it."""
    from datetime import UTC, datetime

    from watchkeeper.events import Event

    path = tmp_path / "other.duckdb"
    with Store(path) as store:
        when = datetime(2024, 3, 1, tzinfo=UTC)
        store.write_events([Event("cargo_decision", ("imo:9187629",), when, when, 0.5, "x")])
    res = run_main(
        monkeypatch, capsys, "events", "--type", "cargo_decision", "--db", path, "--json"
    )
    assert res.code == 0 and [e["type"] for e in json.loads(res.out)] == ["cargo_decision"]


# ------------------------------------------------------------------------- --db


@pytest.mark.parametrize(
    "command",
    [["events"], ["vessels", "show", "9187629"], ["lists", "show"], ["entities", "search", "x"]],
)
def test_missing_store_file_is_a_store_error(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--db /nonexistent/x`` used to read as an empty store (exit 0, nothing found)."""
    missing = tmp_path / "nowhere" / "x.duckdb"
    res = run_main(monkeypatch, capsys, *command, "--db", missing)
    assert res.code == 3, (res.out, res.err)
    assert f"no store at {missing} (--db)" in res.message and res.out == ""
    assert not missing.parent.exists()  # reading never creates the folder or the file


def test_missing_store_named_by_the_environment_is_a_store_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "x.duckdb"
    monkeypatch.setenv("WATCHKEEPER_DB_PATH", str(missing))
    res = run_main(monkeypatch, capsys, "events")
    assert res.code == 3 and f"no store at {missing} (WATCHKEEPER_DB_PATH)" in res.message


def test_default_store_not_yet_created_reads_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before anything is loaded, the default ./watchkeeper.duckdb is simply empty."""
    monkeypatch.delenv("WATCHKEEPER_DB_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    res = run_main(monkeypatch, capsys, "events", "--json")
    assert res.code == 0 and json.loads(res.out) == []
    assert not (tmp_path / "watchkeeper.duckdb").exists()
