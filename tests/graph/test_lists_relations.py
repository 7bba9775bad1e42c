"""The relations the real bundled lists state, and who each regime blocks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.graph._lists_store import lists_store
from watchkeeper.errors import InputError
from watchkeeper.graph.lists import list_relations, listed_ids
from watchkeeper.graph.model import GraphBatch, Relation
from watchkeeper.store import Store

SDN_2023, SDN_2024, UN, CSL = 1, 2, 3, 4


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = lists_store(tmp_path_factory)
    with Store(path, read_only=True) as opened:
        versions = {
            r[0]: (r[1], r[2])
            for r in opened.con.execute(
                "SELECT version_id, source, version FROM list_versions"
            ).fetchall()
        }
        assert versions == {
            SDN_2023: ("ofac_sdn", "2023-12-28"),
            SDN_2024: ("ofac_sdn", "2024-05-03"),
            UN: ("un_sc", "2026-02-27"),
            CSL: ("us_csl", "2022-04-21"),
        }
        yield opened


@pytest.fixture(scope="module")
def current(store: Store) -> GraphBatch:
    return list_relations(store)


def _one(batch: GraphBatch, rid: str) -> Relation:
    found = [r for r in batch.relations if r.id == rid]
    assert len(found) == 1, rid
    return found[0]


def test_ofac_linked_to_is_an_unknown_link_between_list_ids(current: GraphBatch) -> None:
    # sdn.csv entry 2686: "Linked To: HIZBALLAH." (entry 4697).
    rel = _one(current, "ofac-2686-link-4697")
    assert (rel.kind, rel.holder, rel.held, rel.role) == (
        "unknown_link",
        "ofac-2686",
        "ofac-4697",
        "Linked To",
    )
    assert rel.source_ref == "ofac_sdn 2024-05-03 entry 2686"
    nodes = {n.id: n for n in current.nodes}
    assert nodes["ofac-4697"].name == "HIZBALLAH"


def test_aircraft_operators_and_vessel_owners(current: GraphBatch) -> None:
    # Mahan Air's aircraft: "Aircraft Operator MAHAN AIR" in their remarks.
    rel = _one(current, "ofac-15436-operator-12927")
    assert (rel.kind, rel.holder, rel.held) == ("aircraft_operator", "ofac-12927", "ofac-15436")
    # The CSL's tanker STARLA (IMO 9569621), owner NATIONAL IRANIAN TANKER COMPANY.
    owners = [r for r in current.relations if r.held == "ofac-15902" and r.kind == "vessel_owner"]
    assert [r.holder for r in owners] == ["ofac-15117"]
    nodes = {n.id: n for n in current.nodes}
    assert nodes["ofac-15117"].name == "NATIONAL IRANIAN TANKER COMPANY"
    assert nodes["ofac-15902"].identifiers == {"imo": ("IMO9569621",)}
    # OFAC's Vess_owner (ofac-27200 owned by Beratex Group Limited) is stated twice in
    # the store (the vessel's owner property and an Ownership entity): one relation.
    beratex = [r for r in current.relations if r.held == "ofac-27200"]
    assert [(r.kind, r.holder) for r in beratex] == [("vessel_owner", "ofac-27194")]


def test_counts_by_kind_and_no_relation_twice(current: GraphBatch) -> None:
    kinds = {k: n for k, n in current.counts.items() if k.startswith("kind_")}
    assert sum(kinds.values()) == current.counts["relations"] == len(current.relations)
    assert kinds["kind_vessel_owner"] == 7
    edges = [(r.kind, r.holder, r.held) for r in current.relations]
    assert len(edges) == len(set(edges))
    assert len({r.id for r in current.relations}) == len(current.relations)
    referenced = {r.holder for r in current.relations} | {r.held for r in current.relations}
    assert referenced == {n.id for n in current.nodes}


def test_relations_of_one_list_version(store: Store) -> None:
    """What "graph diff between two list versions" compares."""
    old = list_relations(store, [SDN_2023])
    new = list_relations(store, [SDN_2024])
    assert {r.source_ref.split(" entry")[0] for r in old.relations} == {"ofac_sdn 2023-12-28"}
    old_ids = {r.id for r in old.relations}
    new_ids = {r.id for r in new.relations}
    # Ministry of Defense and Armed Forces Logistics, linked to Rosoboronexport in 2024.
    assert "ofac-10392-link-18782" in new_ids - old_ids
    assert "ofac-25068-link-10391" in old_ids - new_ids
    # sdn.csv alone (no alt.csv: Linked To names that are only aliases stay unresolved)
    assert (len(old.relations), len(new.relations)) == (6107, 6519)


def test_who_each_regime_blocks(store: Store) -> None:
    ofac = listed_ids(store, "ofac")
    assert len(ofac) == 14965  # every entry of the current SDN list, 2024-05-03
    assert len(listed_ids(store, "ofac", [SDN_2023])) == 13821
    assert "ofac-12927" in ofac  # MAHAN AIR
    un = listed_ids(store, "eu")
    assert len(un) == 1003 and un == listed_ids(store, "uk")  # only the UN list is loaded
    assert not (un & ofac) or all(i.startswith("ofac-") for i in un & ofac)
    # The CSL is an export-control list: its own entries block nobody.
    csl_only = {
        r[0]
        for r in store.con.execute(
            "SELECT id FROM entities WHERE version_id = ? AND is_primary AND id LIKE 'uscsl-%'",
            [CSL],
        ).fetchall()
    }
    assert csl_only and not csl_only & (ofac | un)
    # Given versions that are not a regime's lists, nobody.
    assert listed_ids(store, "ofac", [CSL]) == set()


def test_unknown_regime_or_version_is_bad_input(store: Store) -> None:
    with pytest.raises(InputError) as info:
        listed_ids(store, "ch")  # type: ignore[arg-type]
    assert info.value.field == "regime"
    with pytest.raises(InputError, match="no list version 99"):
        list_relations(store, [99])
