"""The questions (owners, holdings, paths, neighbourhood) on OFAC-guidance-shaped
hand-made graphs, and paths on the real shadow-fleet owner/manager history."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.graph._views import own, shadow_fleet_view, view
from watchkeeper.errors import InputError
from watchkeeper.graph.model import Node, Relation, RelationKind
from watchkeeper.graph.queries import (
    AmbiguousEntity,
    EntityNotFound,
    holdings,
    neighbourhood,
    owners,
    paths,
    resolve,
)

# OFAC 2014 guidance, example 2 shape: blocked X owns 50% of A, A owns 50% of B.
CHAIN = view(
    [own("r1", "X", "A", 0.5), own("r2", "A", "B", 0.5), own("r3", "Y", "B", 0.3)],
    names={"X": "Person X", "A": "Entity A", "B": "Entity B", "Y": "Person Y"},
    ofac={"X"},
)


def test_owners_tree_climbs_with_shares_statements_and_listing() -> None:
    tree = owners(CHAIN, "B", depth=3)
    assert tree.node.id == "B" and tree.relation is None
    by_id = {c.node.id: c for c in tree.children}
    assert set(by_id) == {"A", "Y"}
    a = by_id["A"]
    assert a.text == "Entity A owns 50% of Entity B"
    assert a.relation is not None and a.relation.source_ref == "hand-made#r2"
    assert [(c.node.id, c.listed, c.text) for c in a.children] == [
        ("X", ["ofac"], "Person X owns 50% of Entity A")
    ]
    assert by_id["Y"].listed == [] and by_id["Y"].children == []
    data = tree.to_dict()
    assert data["children"][0]["relation"]["share"]["low"] == 0.5


def test_owners_depth_cuts_and_says_so() -> None:
    tree = owners(CHAIN, "B", depth=1)
    a = next(c for c in tree.children if c.node.id == "A")
    assert a.children == [] and a.cut
    assert not next(c for c in tree.children if c.node.id == "Y").cut  # nothing above Y


def test_holdings_tree_goes_down() -> None:
    tree = holdings(CHAIN, "X", depth=5)
    assert [(d, n.node.id) for d, n in tree.walk()] == [(0, "X"), (1, "A"), (2, "B")]


def test_cross_holdings_are_cycle_safe() -> None:
    # A and B hold each other (FAQ 400's cross-holding shape) and C holds A.
    cyc = view([own("1", "A", "B", 0.3), own("2", "B", "A", 0.3), own("3", "C", "A", 0.6)])
    tree = owners(cyc, "A", depth=10)
    walked = [(d, n.node.id, n.cycle) for d, n in tree.walk()]
    assert walked == [(0, "A", False), (1, "B", False), (2, "A", True), (1, "C", False)]


def test_trees_follow_only_ownership_and_control_kinds() -> None:
    g = view([own("1", "D", "A", None, "directorship"), own("2", "V", "A", 0.2, "voting")])
    assert [c.node.id for c in owners(g, "A").children] == ["V"]


def test_a_vessels_owners_are_its_registered_owner_and_that_owners_holders() -> None:
    g = view(
        [
            own("1", "O", "imo:1", None, "vessel_owner"),
            own("2", "M", "imo:1", None, "vessel_manager", role="ISM Manager"),
            own("3", "X", "O", 1.0),
        ]
    )
    walked = [(d, n.node.id) for d, n in owners(g, "imo:1").walk()]
    assert walked == [(0, "imo:1"), (1, "O"), (2, "X")]
    assert [n.node.id for _d, n in holdings(g, "X").walk()] == ["X", "O", "imo:1"]


def test_entity_by_exact_name_case_and_spacing_ignored() -> None:
    assert resolve(CHAIN, "  entity   a ") == "A"
    assert owners(CHAIN, "ENTITY B").node.id == "B"


def test_ambiguous_name_lists_candidates_and_is_bad_input() -> None:
    g = view([own("1", "c1", "c2", 0.5)], names={"c1": "Acme Ltd", "c2": "ACME LTD"})
    with pytest.raises(AmbiguousEntity) as err:
        resolve(g, "acme ltd")
    assert isinstance(err.value, InputError)
    assert [n.id for n in err.value.candidates] == ["c1", "c2"]
    assert "c1" in str(err.value) and "c2" in str(err.value)


def test_entity_by_identifier_however_written() -> None:
    g = view([own("1", "c1", "v1", None, "vessel_owner")])
    g.nodes["v1"] = Node("v1", "NP DIKSON", "Vessel", identifiers={"imo": ("IMO9255270",)})
    assert resolve(g, "imo:9255270") == "v1"
    assert resolve(g, "IMO: IMO 9255270") == "v1"
    with pytest.raises(EntityNotFound):
        resolve(g, "imo:9255271")


def test_unknown_entity_is_not_found() -> None:
    with pytest.raises(EntityNotFound):
        owners(CHAIN, "Entity Z")


def test_depth_out_of_range_is_bad_input() -> None:
    with pytest.raises(InputError, match="depth"):
        holdings(CHAIN, "X", depth=-1)
    with pytest.raises(InputError, match="depth"):
        holdings(CHAIN, "X", depth=101)


def test_a_big_holding_tree_is_cut_at_max_nodes_nearest_first() -> None:
    # A conglomerate holding 30 companies, each holding 30 more: 931 parties.
    rels = [own(f"a{i}", "G", f"c{i}", 1.0) for i in range(30)]
    rels += [own(f"b{i}-{j}", f"c{i}", f"d{i}-{j}", 1.0) for i in range(30) for j in range(30)]
    g = view(rels)
    assert sum(1 for _ in holdings(g, "G", depth=2).walk()) == 931
    tree = holdings(g, "G", depth=2, max_nodes=100)
    walked = list(tree.walk())
    assert len(walked) == 100
    assert len(tree.children) == 30  # every direct holding before any deeper one
    assert all(c.cut for c in tree.children[3:])  # whose holdings were left out


def test_a_long_chain_is_walked_without_recursion() -> None:
    g = view([own(str(i), f"p{i + 1}", f"p{i}", 0.9) for i in range(2000)])
    tree = owners(g, "p0", depth=100)
    assert max(d for d, _ in tree.walk()) == 100


MIXED = view(
    [
        own("o1", "P", "Co", 0.6),
        own("d1", "Q", "Co", None, "directorship", role="Director"),
        own("f1", "Q", "R", None, "family", role="spouse"),
        own(
            "m1", "Co", "imo:1", None, "vessel_manager", role="ISM Manager", start=date(2020, 1, 1)
        ),
        own("l1", "R", "S", None, "unknown_link"),
        own("l2", "S", "imo:1", None, "vessel_owner"),
    ],
    names={"Co": "Co Ltd", "imo:1": "VESSEL ONE"},
)


def test_paths_walk_any_kind_either_way_and_tell_each_step() -> None:
    found = paths(MIXED, "P", "imo:1")
    assert len(found) == 1
    (path,) = found
    assert path.nodes == ["P", "Co", "imo:1"]
    assert [s.text for s in path.steps] == [
        "P owns 60% of Co Ltd",
        "Co Ltd is ism manager of vessel VESSEL ONE (since 2020-01-01)",
    ]
    assert [s.forward for s in path.steps] == [True, True]
    back = paths(MIXED, "imo:1", "P")[0]
    assert back.nodes == ["imo:1", "Co", "P"] and [s.forward for s in back.steps] == [False] * 2


def test_paths_return_every_tied_shortest_path() -> None:
    # Q reaches the vessel in two steps through Co; R's route is three steps: left out.
    found = paths(MIXED, "Q", "imo:1")
    assert [p.nodes for p in found] == [["Q", "Co", "imo:1"]]
    tie = view(
        [
            own("a", "X", "M1", 0.5),
            own("b", "M1", "Y", 0.5),
            own("c", "X", "M2", 0.5),
            own("d", "M2", "Y", 0.5),
            own("e", "X", "Y", None, "associate"),
        ]
    )
    assert [p.nodes for p in paths(tie, "X", "Y")] == [["X", "Y"]]
    tie.relations.pop()  # without the direct link both two-step routes tie
    assert sorted(p.nodes[1] for p in paths(tie, "X", "Y")) == ["M1", "M2"]
    assert len(paths(tie, "X", "Y", limit=1)) == 1


def test_paths_respect_max_len_and_kinds() -> None:
    # P - Co - imo:1 - S: three steps (the route through Q, R is four).
    assert paths(MIXED, "P", "S", max_len=2) == []
    assert [p.nodes for p in paths(MIXED, "P", "S", max_len=3)] == [["P", "Co", "imo:1", "S"]]
    assert paths(MIXED, "P", "imo:1", kinds={"ownership"}) == []
    with pytest.raises(InputError):
        paths(MIXED, "P", "S", max_len=0)


def test_neighbourhood_by_depth() -> None:
    nodes, rels = neighbourhood(MIXED, "Co", depth=1)
    assert {n.id for n in nodes} == {"Co", "P", "Q", "imo:1"}
    assert {r.id for r in rels} == {"o1", "d1", "m1"}
    two = neighbourhood(MIXED, "Co", depth=2)
    assert {n.id for n in two.nodes} == {"Co", "P", "Q", "imo:1", "R", "S"}
    # l1 joins R and S, both two steps out: a relation among the parties shown.
    assert {r.id for r in two.relations} == {"o1", "d1", "f1", "m1", "l2", "l1"}
    capped = neighbourhood(MIXED, "Co", depth=2, max_nodes=3)
    assert capped.truncated and len(capped.nodes) == 3


# -- real data: the shadow-fleet owner and manager history (data/shadow_fleet) ----------


def test_real_vessels_sharing_an_ism_manager_are_two_steps_apart() -> None:
    fleet = shadow_fleet_view(date(2024, 6, 1))
    found = paths(fleet, "imo:9292204", "imo:9299692")
    assert found and all(len(p) == 2 for p in found)
    middles = {p.nodes[1] for p in found}
    assert "imo_company:6450201" in middles
    ism = [p for p in found if all("ism manager of vessel" in s.text for s in p.steps)]
    assert ism, [s.text for p in found for s in p.steps]
    assert all(s.relation.source_ref.startswith("vessel_company.csv.gz:") for s in ism[0].steps)


def test_real_fleet_manager_holdings_are_its_vessels_on_the_date() -> None:
    fleet = shadow_fleet_view(date(2024, 6, 1))
    around = neighbourhood(fleet, "imo_company:6450201", depth=1, kinds={"vessel_manager"})
    ism = [
        r for r in around.relations if r.role == "ISM Manager" and r.holder == "imo_company:6450201"
    ]
    assert len(ism) == 38
    assert all(r.valid_on(date(2024, 6, 1)) for r in around.relations)


@settings(max_examples=150, deadline=None)
@given(
    edges=st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 9), st.sampled_from(["ownership", "family"])),
        max_size=25,
    ),
    a=st.integers(0, 9),
    b=st.integers(0, 9),
)
def test_paths_agree_with_networkx_all_shortest_paths(
    edges: list[tuple[int, int, RelationKind]], a: int, b: int
) -> None:
    rels = [own(f"e{i}", f"n{h}", f"n{d}", 0.3, k) for i, (h, d, k) in enumerate(edges) if h != d]
    g = view(rels, names={f"n{i}": f"N{i}" for i in range(10)})
    found = paths(g, f"n{a}", f"n{b}", max_len=10, limit=10_000)
    ref = nx.MultiGraph()
    ref.add_nodes_from(f"n{i}" for i in range(10))
    ref.add_edges_from((r.holder, r.held) for r in rels)
    if a == b or not nx.has_path(ref, f"n{a}", f"n{b}"):
        assert found == []
        return
    expected = {tuple(p) for p in nx.all_shortest_paths(ref, f"n{a}", f"n{b}")}
    assert {tuple(p.nodes) for p in found} == expected
    # Parallel statements between two parties are separate chains.
    per_nodes = {tuple(p): _count_chains(rels, p) for p in expected}
    assert len(found) == sum(per_nodes.values())
    for p in found:
        for s in p.steps:
            assert {s.source, s.target} == {s.relation.holder, s.relation.held}
            assert s.forward == (s.relation.holder == s.source)


def _count_chains(rels: list[Relation], nodes: tuple[str, ...]) -> int:
    count = 1
    for x, y in zip(nodes, nodes[1:], strict=False):
        count *= sum(1 for r in rels if {r.holder, r.held} == {x, y})
    return count


@settings(max_examples=200, deadline=None)
@given(query=st.text(max_size=40))
def test_any_query_resolves_or_says_why(query: str) -> None:
    # Whatever a user types: a party's id, "not found", or bad input naming the field.
    g = view(
        [own("1", "c1", "c2", 0.5)],
        names={"c1": "Acme Ltd", "c2": "ACME LTD", "c3": "Beta"},
    )
    try:
        got = resolve(g, query)
    except AmbiguousEntity as exc:
        assert exc.field == "entity" and len(exc.candidates) == 2
    except EntityNotFound:
        pass
    else:
        assert got in g.nodes
