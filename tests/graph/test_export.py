"""GraphML and GEXF of a neighbourhood: well-formed, and read back by networkx with
every party, statement and attribute."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.graph._views import own, shadow_fleet_view, view
from watchkeeper.graph.export import to_gexf, to_graphml
from watchkeeper.graph.model import Node, Relation, Share
from watchkeeper.graph.queries import neighbourhood

G = view(
    [
        own("r1", "X", "A", 0.5, start=date(2019, 3, 1)),
        own("r2", "A", "B", 0.5),
        own("r3", "A", "B", None, "directorship", role="Director"),  # a second edge A->B
        Relation(id="r4", kind="ownership", holder="Y", held="B", share=Share(0.25, 0.5)),
    ],
    names={"X": "Person X", "A": "Entity A & Söhne <GmbH>", "B": "Entity B"},
    ofac={"X"},
)


def _parts() -> tuple[list[Node], list[Relation], dict[str, list[str]]]:
    hood = neighbourhood(G, "A", depth=2)
    return hood.nodes, hood.relations, hood.listed


def test_graphml_reads_back_in_networkx_with_parallel_statements() -> None:
    nodes, rels, listed = _parts()
    data = to_graphml(nodes, rels, listed)
    ET.fromstring(data)  # well-formed
    g = nx.read_graphml(io.BytesIO(data))
    assert isinstance(g, nx.MultiDiGraph)
    assert set(g.nodes) == {"X", "A", "B", "Y"}
    assert g.nodes["A"]["label"] == "Entity A & Söhne <GmbH>"
    assert g.nodes["X"]["listed"] == "ofac" and g.nodes["B"]["schema"] == "Company"
    assert g.number_of_edges("A", "B") == 2
    kinds = sorted(d["kind"] for _, _, d in g.edges("A", data=True))
    assert kinds == ["directorship", "ownership"]
    (x_a,) = g.get_edge_data("X", "A").values()
    assert x_a["share_low"] == 0.5 and x_a["start"] == "2019-03-01"
    (y_b,) = g.get_edge_data("Y", "B").values()
    assert (y_b["share_low"], y_b["share_high"], y_b["share"]) == (0.25, 0.5, "25-50%")


def test_gexf_reads_back_in_networkx() -> None:
    nodes, rels, listed = _parts()
    data = to_gexf(nodes, rels, listed)
    root = ET.fromstring(data)
    assert root.tag == "{http://www.gexf.net/1.2draft}gexf"
    g = nx.read_gexf(io.BytesIO(data))
    assert set(g.nodes) == {"X", "A", "B", "Y"}
    assert g.nodes["A"]["label"] == "Entity A & Söhne <GmbH>"
    assert g.nodes["X"]["listed"] == "ofac"
    assert g.number_of_edges("A", "B") == 2
    assert sorted(d["kind"] for _, _, d in g.edges("A", data=True)) == [
        "directorship",
        "ownership",
    ]


def test_an_edge_to_a_party_no_node_describes_gets_a_bare_node() -> None:
    rel = Relation(id="e", kind="unknown_link", holder="p", held="q")
    g = nx.read_graphml(io.BytesIO(to_graphml([Node("p", "P", "Person")], [rel])))
    assert set(g.nodes) == {"p", "q"} and g.nodes["q"]["label"] == "q"


def test_real_fleet_neighbourhood_round_trips() -> None:
    fleet = shadow_fleet_view(date(2024, 6, 1))
    hood = neighbourhood(fleet, "imo_company:6450201", depth=2)
    g = nx.read_graphml(io.BytesIO(to_graphml(hood.nodes, hood.relations, hood.listed)))
    assert g.number_of_nodes() == len(hood.nodes)
    assert g.number_of_edges() == len(hood.relations)
    assert nx.read_gexf(io.BytesIO(to_gexf(hood.nodes, hood.relations))).number_of_edges() == len(
        hood.relations
    )


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=30), node_id=st.text(min_size=1, max_size=12))
def test_any_text_gives_well_formed_xml(name: str, node_id: str) -> None:
    # Names from registers can hold control characters XML 1.0 cannot carry at all.
    nodes = [Node(node_id, name, "Company"), Node(node_id + "x", "other", "Person")]
    rels = [Relation(id=name or "r", kind="ownership", holder=node_id, held=node_id + "x")]
    for writer in (to_graphml, to_gexf):
        ET.fromstring(writer(nodes, rels))
    g = nx.read_graphml(io.BytesIO(to_graphml(nodes, rels)))
    assert g.number_of_nodes() == 2 and g.number_of_edges() == 1
