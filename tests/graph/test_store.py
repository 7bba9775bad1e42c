"""Graph loads in the store: stored whole or not at all, versioned, read back as stored."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import DATA
from watchkeeper.errors import InputError
from watchkeeper.graph import store as graph_store
from watchkeeper.graph.model import GraphBatch, Node, Relation, Share
from watchkeeper.graph.resolve import Resolution
from watchkeeper.graph.shadow_fleet import read_shadow_fleet
from watchkeeper.graph.store import (
    current_graph_versions,
    graph_versions,
    read_graph_version,
    store_graph_batch,
    stored_resolutions,
)
from watchkeeper.store import Store

TABLES = (
    "graph_versions",
    "graph_nodes",
    "graph_node_identifiers",
    "graph_relations",
    "graph_replaced",
    "graph_resolutions",
)


def snapshot(store: Store) -> dict[str, Any]:
    return {
        t: store.con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone()
        for t in TABLES
    }


def register(source: str = "register", *, share: Share | None = None) -> GraphBatch:
    """Edge conditions the real files lack: share ranges with exclusive ends, an unknown
    holder, a replaced statement, dates."""
    return GraphBatch(
        source=source,
        files=[f"{source}.json"],
        nodes=[
            Node("r:a", "Alpha Holdings Ltd", "Company", "cy", {"lei": ("529900T8BM49AURSDO55",)}),
            Node("r:b", "Beta Shipping LLC", "Company", "ae", {"imo_company": ("555505",)}),
            Node("r:u", "Unknown persons", "Person", unknown=True, source_ref="f.json#3"),
        ],
        relations=[
            Relation(
                "r:1",
                "ownership",
                "r:a",
                "r:b",
                share=share or Share(0.25, 0.5, low_exclusive=True),
                interests=("shareholding",),
                direct=True,
                start=date(2020, 1, 1),
                end=date(2024, 6, 30),
                source_ref="f.json#1",
            ),
            Relation("r:2", "control", "r:u", "r:b", share=Share.unknown(), direct=None),
        ],
        replaced={"r:0"},
        counts={"statements": 3},
    )


def test_a_batch_reads_back_as_it_was_stored() -> None:
    store = Store()
    batch = register()
    version, new = store_graph_batch(store, batch, label="2024-07")
    assert new and version.version == "2024-07"
    assert (version.node_count, version.relation_count) == (3, 2)
    assert version.counts["kinds"] == {"ownership": 1, "control": 1}
    back = read_graph_version(store, version.version_id)
    assert back.nodes == batch.nodes
    assert back.relations == batch.relations  # share range and its exclusive end kept
    assert back.replaced == {"r:0"}
    # Identifiers are also kept normalised, one row each, to join sources in SQL: the
    # company number that lost its leading zero is 0555505.
    rows = store.con.execute(
        "SELECT id, kind, value FROM graph_node_identifiers ORDER BY id"
    ).fetchall()
    assert rows == [("r:a", "lei", "529900T8BM49AURSDO55"), ("r:b", "imo_company", "0555505")]


def test_the_same_batch_again_is_already_loaded_and_a_new_one_is_current() -> None:
    store = Store()
    first, new = store_graph_batch(store, register())
    assert new
    again, new = store_graph_batch(store, register())
    assert not new and again == first
    assert len(graph_versions(store)) == 1
    # The same file read another way (another mapping gives another share) is new.
    second, new = store_graph_batch(store, register(share=Share.exact(0.6)))
    assert new and second.version_id > first.version_id
    other, _ = store_graph_batch(store, register("other"))
    current = {v.source: v.version_id for v in current_graph_versions(store)}
    assert current == {"register": second.version_id, "other": other.version_id}


def test_resolutions_are_stored_with_their_version() -> None:
    store = Store()
    res = {"r:b": Resolution("ofac-46608", "imo_company", 0.98, "same imo_company")}
    version, _ = store_graph_batch(store, register(), resolutions=res)
    assert stored_resolutions(store, [version.version_id]) == res
    assert version.counts["resolved"] == {"imo_company": 1}


def test_a_failing_insert_leaves_the_store_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """The version row and nodes are written before the relations: a failure there
    must take them back out."""
    store = Store()
    store_graph_batch(store, register("earlier"))
    before = snapshot(store)

    def broken(vid: int, relations: Any) -> Any:
        import pyarrow as pa

        return pa.table({"version_id": [vid], "id": ["only two columns"]})

    monkeypatch.setattr(graph_store, "_relations_table", broken)
    with pytest.raises(Exception, match=r"(?i)column|insert"):
        store_graph_batch(store, register())
    assert snapshot(store) == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (lambda b: b.nodes.append(b.nodes[0]), "id", "node id 'r:a' appears twice"),
        (lambda b: b.relations.append(b.relations[0]), "id", "relation id 'r:1' appears twice"),
        (
            lambda b: b.relations.append(Relation("r:9", "owns", "r:a", "r:b")),  # type: ignore[arg-type]
            "kind",
            "unknown kind 'owns'",
        ),
        (
            lambda b: b.relations.append(Relation("r:9", "ownership", "", "r:b")),
            "holder",
            "no holder",
        ),
        (
            lambda b: b.relations.append(
                Relation(
                    "r:9", "ownership", "r:a", "r:b", start=date(2024, 1, 2), end=date(2024, 1, 1)
                )
            ),
            "end",
            "ends (2024-01-01) before it starts",
        ),
    ],
)
def test_a_batch_that_cannot_be_stored_whole_is_refused_naming_the_field(
    change: Any, field: str, message: str
) -> None:
    store = Store()
    before = snapshot(store)
    batch = register()
    change(batch)
    with pytest.raises(InputError) as info:
        store_graph_batch(store, batch)
    assert info.value.field == field
    assert message in info.value.message
    assert info.value.path == "register.json"
    assert snapshot(store) == before


def test_the_real_shadow_fleet_history_stores_and_reads_back() -> None:
    batch = read_shadow_fleet(DATA / "shadow_fleet")
    store = Store()
    version, new = store_graph_batch(store, batch)
    assert new
    assert version.relation_count == len(batch.relations) == 4785
    back = read_graph_version(store, version.version_id)
    assert back.relations == batch.relations
    assert back.nodes == batch.nodes
