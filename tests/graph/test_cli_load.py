"""``watchkeeper graph load`` and ``graph versions`` on the real shadow-fleet history and
the real bundled lists; BODS examples from ../shared when present."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cli._lists_stores import cli_ok, run_main
from tests.conftest import DATA, shared_path
from tests.graph._lists_store import copy_lists_store, lists_store
from watchkeeper.store import Store

FLEET = DATA / "shadow_fleet"
GRAPH_TABLES = (
    "graph_versions",
    "graph_nodes",
    "graph_node_identifiers",
    "graph_relations",
    "graph_replaced",
    "graph_resolutions",
)


def tables(db: Path) -> dict[str, Any]:
    with Store(db, read_only=True) as store:
        return {
            t: store.con.execute(
                f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x"
            ).fetchone()
            for t in GRAPH_TABLES
        }


@pytest.fixture
def db(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
    return copy_lists_store(lists_store(tmp_path_factory), tmp_path)


def test_load_the_shadow_fleet_then_again(db: Path) -> None:
    first = json.loads(cli_ok("graph", "load", FLEET, "--db", db, "--json").stdout)
    assert first["new"] is True
    assert (first["source"], first["nodes"], first["relations"]) == ("shadow_fleet", 2327, 4785)
    assert first["counts"]["kinds"] == {"vessel_manager": 3513, "vessel_owner": 1272}
    # 43 tankers and 16 companies are on the lists by IMO number; no name is screened
    # for them (the file names the companies by number only).
    assert first["resolved"] == {"imo": 43, "imo_company": 16}
    again = cli_ok("graph", "load", FLEET, "--db", db).stdout
    assert "already loaded (same files), nothing changed" in again
    assert "resolved to list entities: 59 (imo 43, imo_company 16)" in again
    versions = json.loads(cli_ok("graph", "versions", "--db", db, "--json").stdout)
    assert [(v["version_id"], v["source"], v["current"]) for v in versions] == [
        (1, "shadow_fleet", True)
    ]
    table = cli_ok("graph", "versions", "--db", db).stdout
    assert "shadow_fleet" in table and "current" in table


def test_a_register_csv_with_a_column_mapping(db: Path, tmp_path: Path) -> None:
    """A user's own register (hand-made: no real one is bundled) names owners by name."""
    register = tmp_path / "register.csv"
    register.write_text(
        "Shareholder,Company,Pct\n"
        "MAHAN AIR,Skyline Leasing FZE,60\n"
        "Acme Widgets GmbH,Skyline Leasing FZE,40\n",
        encoding="utf-8",
    )
    out = json.loads(
        cli_ok(
            "graph", "load", register, "--map", "owner=Shareholder,owned=Company,share=Pct",
            "--source", "my_register", "--label", "2024-Q2", "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert (out["source"], out["version"], out["relations"]) == ("my_register", "2024-Q2", 2)
    assert out["resolved"] == {"name": 1}
    with Store(db, read_only=True) as store:
        rows = store.con.execute(
            "SELECT entity_id, reason FROM graph_resolutions WHERE version_id = ?",
            [out["version_id"]],
        ).fetchall()
    assert rows == [("ofac-12927", "name")]
    # --no-names: identifiers only.
    other = tmp_path / "other.csv"
    shutil.copyfile(register, other)
    out = json.loads(
        cli_ok(
            "graph", "load", other, "--map", "owner=Shareholder,owned=Company,share=Pct",
            "--no-names", "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert out["source"] == "other" and out["resolved"] == {}


def test_the_bods_examples_load(db: Path) -> None:
    example = shared_path("ownership", "bods", "examples", "joint-ownership.json")
    out = json.loads(cli_ok("graph", "load", example, "--db", db, "--json").stdout)
    assert out["new"] and out["relations"] == 3
    assert out["counts"]["kinds"] == {"ownership": 3}
    # All of the standard's examples as one load, then the view reads them.
    examples = sorted(example.parent.glob("*.json"))
    assert len(examples) == 19
    out = json.loads(
        cli_ok(
            "graph", "load", *examples, "--source", "bods_examples", "--no-names",
            "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert (out["nodes"], out["relations"]) == (54, 78)
    from watchkeeper.graph.view import load_view

    with Store(db, read_only=True) as store:
        view = load_view(store, date(2024, 1, 1), with_lists=False)
    sources = {o.source for rid in [r.id for r in view.relations] for o in view.origins[rid]}
    assert sources == {"joint-ownership", "bods_examples"}


@pytest.mark.parametrize(
    "args",
    [
        ["graph", "load", "/no/such/folder"],
        ["graph", "load", FLEET, "--format", "xlsx"],
        ["graph", "load", FLEET / "vessels.csv.gz", "--format", "shadow_fleet"],
        ["graph", "load", FLEET / "vessels.csv.gz", "--format", "csv", "--map", "owner"],
    ],
)
def test_bad_input_exits_2_and_changes_nothing(
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[Any],
) -> None:
    before = tables(db)
    result = run_main(monkeypatch, capsys, *args, "--db", db)
    assert result.code == 2, result.err
    assert result.message.startswith("error:")
    assert tables(db) == before


def test_a_damaged_history_names_file_and_line_and_stores_nothing(
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "fleet"
    shutil.copytree(FLEET, folder)
    rows = gzip.decompress((FLEET / "vessel_company.csv.gz").read_bytes()).decode().splitlines()
    rows[3000] = rows[3000].replace(",", ";", 1)  # row 3,001 (line 3,001 of the file)
    (folder / "vessel_company.csv.gz").unlink()
    (folder / "vessel_company.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    before = tables(db)
    result = run_main(monkeypatch, capsys, "graph", "load", folder, "--db", db)
    assert result.code == 2
    assert f"{folder / 'vessel_company.csv'}:3001" in result.message
    assert tables(db) == before


def test_resolve_again_after_the_lists_changed(db: Path) -> None:
    """A graph loaded before the lists resolved nothing; ``graph resolve`` places it."""
    from watchkeeper.graph.shadow_fleet import read_shadow_fleet
    from watchkeeper.graph.store import graph_versions, store_graph_batch

    with Store(db) as store:
        version, _ = store_graph_batch(store, read_shadow_fleet(FLEET))
        assert graph_versions(store)[0].counts.get("resolved") is None
    out = json.loads(cli_ok("graph", "resolve", "--db", db, "--json").stdout)
    assert out == [
        {
            "version_id": version.version_id,
            "source": "shadow_fleet",
            "resolved": {"imo": 43, "imo_company": 16},
        }
    ]
    with Store(db, read_only=True) as store:
        assert graph_versions(store)[0].counts["resolved"] == {"imo": 43, "imo_company": 16}
        row = store.con.execute(
            "SELECT entity_id FROM graph_resolutions WHERE node_id = ?",
            ["shadow_fleet:company:5206051"],
        ).fetchone()
    assert row == ("ofac-46608",)
    again = cli_ok("graph", "resolve", "--version", str(version.version_id), "--db", db)
    assert "resolved 59 (imo 43, imo_company 16)" in again.stdout
