"""``watchkeeper run``'s ownership step on the real bundled lists and shadow fleet."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.graph._lists_store import copy_lists_store, lists_store
from watchkeeper.store import Store


def test_ownership_step_loads_the_fleet_once_and_names_vessels_of_listed_owners(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    from watchkeeper.cli.run import ownership

    path = copy_lists_store(lists_store(tmp_path_factory), tmp_path)
    with Store(path) as store:
        ownership(store, DATA)
        first = capsys.readouterr().out
        ownership(store, DATA)
        again = capsys.readouterr().out
        stored = store.read_events(types=["vessel_owner_blocked"])
    assert "shadow_fleet: 2,327 nodes, 4,785 relations (loaded)" in first
    assert "(already loaded)" in again
    assert "OFAC 50% rule:" in first
    # NP DIKSON's ISM manager, NORD PROJECT LLC, is on the SDN (real registry and list).
    assert any("NP DIKSON" in e.detail and "NORD PROJECT" in e.detail for e in stored)
    said = f"{len(stored):,} vessel(s) with a listed registered owner or manager"
    assert said in first and said in again  # recomputed, not added to
