"""A piece of the graph (``queries.neighbourhood``) as GraphML or GEXF, for Gephi,
Cytoscape, yEd or networkx. Parties are nodes (name, schema, country, the regimes
listing them); statements are directed edges from holder to held with their kind,
share range, role, dates and source. Several statements between two parties stay
several edges, each with the statement's id."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from watchkeeper.graph.model import Node, Relation
from watchkeeper.graph.queries import NodeLike, node_sources

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
# GEXF 1.2 is what Gephi and networkx (read_gexf) read.
GEXF_NS = "http://www.gexf.net/1.2draft"

# (name, type) of the attributes written, in this order.
NODE_ATTRS: tuple[tuple[str, str], ...] = (
    ("label", "string"),
    ("schema", "string"),
    ("country", "string"),
    ("listed", "string"),
    ("unknown", "boolean"),
    ("source", "string"),
)
EDGE_ATTRS: tuple[tuple[str, str], ...] = (
    ("kind", "string"),
    ("share", "string"),
    ("share_low", "double"),
    ("share_high", "double"),
    ("role", "string"),
    ("start", "string"),
    ("end", "string"),
    ("source", "string"),
)


def _node_values(node: NodeLike, listed: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    return {
        "label": node.name,
        "schema": node.schema,
        "country": node.country,
        "listed": ",".join(listed.get(node.id, ())),
        "unknown": node.unknown,
        "source": " ".join(node_sources(node)) or None,
    }


def _edge_values(rel: Relation) -> dict[str, Any]:
    return {
        "kind": rel.kind,
        "share": rel.share.describe() if rel.share is not None else None,
        "share_low": rel.share.low if rel.share is not None else None,
        "share_high": rel.share.high if rel.share is not None else None,
        "role": rel.role,
        "start": rel.start.isoformat() if rel.start else None,
        "end": rel.end.isoformat() if rel.end else None,
        "source": rel.source_ref,
    }


# Characters XML 1.0 cannot hold at all (control characters, lone surrogates): a name
# from a register that carries one must not make the whole file unreadable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _clean(repr(value) if isinstance(value, float) else str(value))


def _endpoints(nodes: Sequence[NodeLike], relations: Sequence[Relation]) -> list[NodeLike]:
    """The nodes, plus a bare node for any party a relation names but no node describes
    (both formats refuse an edge to a node they do not hold)."""
    known = {n.id for n in nodes}
    extra: dict[str, Node] = {}
    for rel in relations:
        for end in (rel.holder, rel.held):
            if end not in known and end not in extra:
                extra[end] = Node(id=end, name=end, schema="LegalEntity")
    return [*nodes, *extra.values()]


def to_graphml(
    nodes: Sequence[NodeLike],
    relations: Sequence[Relation],
    listed: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """GraphML (UTF-8, with its XML declaration) of these parties and statements."""
    listed = listed or {}
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    types = {"string": "string", "double": "double", "boolean": "boolean"}
    for domain, attrs in (("node", NODE_ATTRS), ("edge", EDGE_ATTRS)):
        for name, kind in attrs:
            ET.SubElement(
                root,
                f"{{{GRAPHML_NS}}}key",
                {
                    "id": f"{domain[0]}_{name}",
                    "for": domain,
                    "attr.name": name,
                    "attr.type": types[kind],
                },
            )
    graph = ET.SubElement(
        root, f"{{{GRAPHML_NS}}}graph", {"id": "watchkeeper", "edgedefault": "directed"}
    )
    for node in _endpoints(nodes, relations):
        el = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", {"id": _clean(node.id)})
        for name, value in _node_values(node, listed).items():
            if value is not None:
                data = ET.SubElement(el, f"{{{GRAPHML_NS}}}data", {"key": f"n_{name}"})
                data.text = _text(value)
    for rel in relations:
        el = ET.SubElement(
            graph,
            f"{{{GRAPHML_NS}}}edge",
            {"id": _clean(rel.id), "source": _clean(rel.holder), "target": _clean(rel.held)},
        )
        for name, value in _edge_values(rel).items():
            if value is not None:
                data = ET.SubElement(el, f"{{{GRAPHML_NS}}}data", {"key": f"e_{name}"})
                data.text = _text(value)
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def to_gexf(
    nodes: Sequence[NodeLike],
    relations: Sequence[Relation],
    listed: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """GEXF 1.2 (UTF-8) of these parties and statements; the name is the node's label,
    the kind the edge's label."""
    listed = listed or {}
    ET.register_namespace("", GEXF_NS)
    ns = f"{{{GEXF_NS}}}"
    root = ET.Element(f"{ns}gexf", {"version": "1.2"})
    meta = ET.SubElement(root, f"{ns}meta")
    ET.SubElement(meta, f"{ns}creator").text = "watchkeeper"
    graph = ET.SubElement(root, f"{ns}graph", {"defaultedgetype": "directed", "mode": "static"})
    types = {"string": "string", "double": "double", "boolean": "boolean"}
    for cls, attrs in (("node", NODE_ATTRS[1:]), ("edge", EDGE_ATTRS)):
        el = ET.SubElement(graph, f"{ns}attributes", {"class": cls})
        for name, kind in attrs:
            ET.SubElement(el, f"{ns}attribute", {"id": name, "title": name, "type": types[kind]})
    nodes_el = ET.SubElement(graph, f"{ns}nodes")
    for node in _endpoints(nodes, relations):
        values = _node_values(node, listed)
        el = ET.SubElement(
            nodes_el, f"{ns}node", {"id": _clean(node.id), "label": _text(values.pop("label"))}
        )
        _attvalues(el, ns, values)
    edges_el = ET.SubElement(graph, f"{ns}edges")
    for rel in relations:
        el = ET.SubElement(
            edges_el,
            f"{ns}edge",
            {
                "id": _clean(rel.id),
                "source": _clean(rel.holder),
                "target": _clean(rel.held),
                "label": rel.kind,
            },
        )
        _attvalues(el, ns, _edge_values(rel))
    ET.indent(root)
    out: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return out


def _attvalues(el: ET.Element, ns: str, values: Mapping[str, Any]) -> None:
    present = {k: v for k, v in values.items() if v is not None}
    if not present:
        return
    box = ET.SubElement(el, f"{ns}attvalues")
    for name, value in present.items():
        ET.SubElement(box, f"{ns}attvalue", {"for": name, "value": _text(value)})
