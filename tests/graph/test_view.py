"""The merged graph as of a date, on the real lists and shadow-fleet history, with
hand-made loads only for what the real files lack (replaced statements, one company in
two sources, the same statement made twice)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from tests.conftest import DATA
from tests.graph._lists_store import copy_lists_store, lists_store
from watchkeeper.graph.model import GraphBatch, Node, Relation, Share
from watchkeeper.graph.resolve import Resolution
from watchkeeper.graph.shadow_fleet import company_node_id, read_shadow_fleet, vessel_node_id
from watchkeeper.graph.store import graph_versions, store_graph_batch
from watchkeeper.graph.view import GraphView, load_view
from watchkeeper.store import Store

SDN_2023 = 1
STERLING = "ofac-46608"  # STERLING SHIPPING INCORPORATED, IMO company 5206051
# Registered owner of IMO 9299719 from 2005-07-12 to 2024-01-30 (vessel_company.csv).
STERLING_TANKER = "9299719"


def register(source: str, *, stake: float = 0.3) -> GraphBatch:
    """A user's register naming a shadow-fleet company by its number, not its name."""
    return GraphBatch(
        source=source,
        files=[f"{source}.csv"],
        nodes=[
            Node(f"{source}:hold", "Gulf Holdings", "Company", "ae"),
            Node(
                f"{source}:co", "Unnamed Co", "Company", identifiers={"imo_company": ("6021144",)}
            ),
            Node(f"{source}:anon", "Anonymous", "Person", unknown=True),
            Node(
                f"{source}:sterling",
                "Sterling",
                "Company",
                identifiers={"imo_company": ("5206051",)},
            ),
        ],
        relations=[
            Relation(
                f"{source}:1", "ownership", f"{source}:hold", f"{source}:co", Share.exact(stake)
            ),
            Relation(f"{source}:2", "ownership", f"{source}:anon", f"{source}:co", Share.unknown()),
            Relation(
                f"{source}:3", "ownership", f"{source}:hold", f"{source}:sterling", Share.exact(0.6)
            ),
            Relation("shared-id", "control", f"{source}:hold", f"{source}:co"),
            Relation(
                f"{source}:old",
                "ownership",
                f"{source}:hold",
                f"{source}:sterling",
                Share.exact(0.1),
            ),
        ],
        replaced={f"{source}:old"},
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = copy_lists_store(lists_store(tmp_path_factory), tmp_path_factory.mktemp("view"))
    with Store(path) as opened:
        # Stored with no resolutions, as a graph loaded before the lists would be.
        store_graph_batch(opened, read_shadow_fleet(DATA / "shadow_fleet"))
        store_graph_batch(opened, register("reg_a"))
        store_graph_batch(opened, register("reg_b"))
        yield opened


@pytest.fixture(scope="module")
def view(store: Store) -> GraphView:
    return load_view(store, date(2023, 6, 1))


def test_a_company_number_on_the_list_is_the_list_entity(view: GraphView) -> None:
    assert view.canonical_id(company_node_id("5206051")) == STERLING
    assert view.resolutions[company_node_id("5206051")].reason == "imo_company"
    node = view.nodes[STERLING]
    assert node.name == "STERLING SHIPPING INCORPORATED"  # the list's caption
    assert STERLING in view.listed["ofac"]
    sources = {o.source for o in node.provenance}
    assert {"shadow_fleet", "reg_a", "reg_b"} <= sources
    owned = [r for r in view.held_by(STERLING) if r.kind == "vessel_owner"]
    tanker = view.canonical_id(vessel_node_id(STERLING_TANKER))
    assert tanker in {r.held for r in owned}
    assert view.origins[owned[0].id][0].source == "shadow_fleet"


def test_relations_in_force_on_the_day_only(store: Store, view: GraphView) -> None:
    tanker = view.canonical_id(vessel_node_id(STERLING_TANKER))
    later = load_view(store, date(2024, 6, 1))
    assert any(r.holder == STERLING and r.held == tanker for r in view.relations)
    assert not any(r.holder == STERLING and r.held == tanker for r in later.relations)
    assert len(later.relations) != len(view.relations)


def test_one_company_in_two_sources_is_one_node(view: GraphView) -> None:
    # IMO company 6021144 is an ISM manager in the shadow fleet and owned in both
    # registers, listed nowhere: one node, named by its number.
    joint = "imo-company:6021144"
    for node_id in (company_node_id("6021144"), "reg_a:co", "reg_b:co"):
        assert view.canonical_id(node_id) == joint
    assert {o.source for o in view.nodes[joint].provenance} == {"shadow_fleet", "reg_a", "reg_b"}
    # Each register's 30% stays: 'Gulf Holdings' is a node of each register, never
    # merged by name alone.
    stakes = [
        r for r in view.holders_of(joint) if r.kind == "ownership" and r.share == Share.exact(0.3)
    ]
    assert len(stakes) == 2
    assert view.canonical_id("reg_a:hold") == "reg_a:hold"


def test_the_same_statement_twice_is_kept_once_with_both_origins(store: Store) -> None:
    batch = register("reg_c")
    copy = register("reg_d")
    # reg_d states reg_c's statement about the same two parties (list entity ids).
    for b in (batch, copy):
        b.relations.append(
            Relation(f"{b.source}:x", "ownership", "ofac-12927", STERLING, Share.exact(0.5))
        )
    try:
        with store.transaction():  # undone at the end: the module's store stays as it was
            store_graph_batch(store, batch)
            store_graph_batch(store, copy)
            seen = load_view(store, date(2023, 6, 1))
            same = [r for r in seen.relations if r.holder == "ofac-12927" and r.held == STERLING]
            assert len(same) == 1
            assert [o.source for o in seen.origins[same[0].id]] == ["reg_c", "reg_d"]
            raise _Undo
    except _Undo:
        pass


class _Undo(Exception):
    pass


def test_replaced_statements_and_unknown_holders(view: GraphView) -> None:
    ids = {r.id for r in view.relations}
    assert "reg_a:old" not in ids and "reg_a:3" in ids
    assert {"reg_a:anon", "reg_b:anon"} <= view.unknown
    # Two loads used the id 'shared-id': both are kept, one renamed by its load.
    shared = [r for r in view.relations if r.id.endswith("shared-id")]
    assert len(shared) == 2 and len({r.id for r in shared}) == 2


def test_a_view_of_chosen_graph_loads(store: Store) -> None:
    fleet = [v.version_id for v in graph_versions(store, "shadow_fleet")]
    seen = load_view(store, date(2023, 6, 1), graph_version_ids=fleet, with_lists=False)
    assert {o.source for n in seen.nodes.values() for o in n.provenance} == {"shadow_fleet"}
    assert seen.canonical_id(company_node_id("5206051")) == STERLING
    assert not any(r.id.startswith("ofac-") for r in seen.relations)


def test_list_relations_are_in_the_view(view: GraphView) -> None:
    links = [r for r in view.relations if r.id == "ofac-2686-link-4697"]
    assert len(links) == 1 and view.origins[links[0].id][0].source == "lists"
    assert view.nodes["ofac-4697"].name == "HIZBALLAH"


def test_a_view_between_list_versions(store: Store) -> None:
    then = load_view(store, date(2023, 6, 1), list_version_ids=[SDN_2023])
    # ofac-47232 (IMO company 6396404) was listed after 2023-12-28.
    assert then.canonical_id(company_node_id("6396404")) == company_node_id("6396404")
    assert "ofac-47232" not in then.listed["ofac"]
    assert len(then.listed["ofac"]) == 13821
    assert STERLING in then.listed["ofac"]  # listed by 2023-12-28


def test_a_stored_resolution_is_used(store: Store, view: GraphView) -> None:
    batch = GraphBatch(
        source="named",
        files=["named.json"],
        nodes=[
            Node("named:m", "Mahan Airlines", "Company", "ir"),
            Node("named:v", "A plane", "Airplane"),
        ],
        relations=[Relation("named:1", "aircraft_operator", "named:m", "named:v")],
    )
    try:
        with store.transaction():  # undone at the end
            store_graph_batch(
                store, batch, resolutions={"named:m": Resolution("ofac-12927", "name", 0.95)}
            )
            seen = load_view(store, date(2023, 6, 1))
            assert seen.canonical_id("named:m") == "ofac-12927"
            assert any(r.holder == "ofac-12927" and r.held == "named:v" for r in seen.relations)
            raise _Undo
    except _Undo:
        pass
