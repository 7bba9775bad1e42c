"""Ownership events follow the data: a new list version or a new graph load recomputes
``vessel_owner_blocked`` / ``owned_by_blocked`` without a separate command."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli._lists_stores import cli_ok
from tests.conftest import DATA
from watchkeeper.store import Store

SDN_2024 = DATA / "lists/ofac/sdn_csv_2024-05-03/sdn.csv.gz"


def _vessel_events(db: Path) -> dict[str, str]:
    with Store(db, read_only=True) as store:
        found = store.read_events(types=["vessel_owner_blocked"])
    return {e.event_id: e.detail for e in found}


def test_list_load_then_graph_load_recompute_the_events(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli_ok("--db", db, "lists", "load", "--source", "ofac_sdn", SDN_2024)
    after_list = _vessel_events(db)
    # The SDN's own statement: ST. VITAMIN's registered owner BERATEX GROUP is listed.
    assert any("ST. VITAMIN" in d and "BERATEX" in d for d in after_list.values())
    assert not any("NORD PROJECT" in d for d in after_list.values())
    cli_ok("--db", db, "graph", "load", DATA / "shadow_fleet", "--no-names")
    after_graph = _vessel_events(db)
    # The shadow-fleet registry adds NORD PROJECT as ISM manager of NP DIKSON.
    assert any("NP DIKSON" in d and "NORD PROJECT" in d for d in after_graph.values())
    assert set(after_list) <= set(after_graph)
    cli_ok("--db", db, "graph", "load", DATA / "shadow_fleet", "--no-names")
    assert _vessel_events(db) == after_graph  # already loaded: nothing recomputed or added


def test_vessels_show_flags_a_vessel_whose_manager_is_listed(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    cli_ok("--db", db, "lists", "load", "--source", "ofac_sdn", SDN_2024)
    cli_ok("--db", db, "graph", "load", DATA / "shadow_fleet", "--no-names")
    shown = json.loads(cli_ok("--db", db, "vessels", "show", "9255270", "--json").stdout)
    flags = shown["owner_blocked"]
    assert flags and all("NP DIKSON" in f["detail"] for f in flags)
    assert any("NORD PROJECT" in f["detail"] for f in flags)
    text = cli_ok("--db", db, "vessels", "show", "9255270").stdout
    assert "owner blocked:" in text
