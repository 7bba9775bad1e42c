"""graph diff: who became blocked or unblocked between two list versions, on hand-made
assessments and on the two bundled OFAC SDN publications (2023-12-28, 2024-05-03)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import DATA, copy_store
from tests.graph._views import own, view
from watchkeeper.errors import StoreError
from watchkeeper.graph.control import assess
from watchkeeper.graph.diff import compare, graph_diff
from watchkeeper.graph.model import GraphBatch, Node
from watchkeeper.graph.resolve import Resolution
from watchkeeper.graph.store import store_graph_batch
from watchkeeper.store import Store

DAY = date(2024, 6, 1)
SDN_2024 = DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz"
SOVCOMFLOT = "ofac-34741"  # listed by OFAC on 2024-02-23: in the May file, not December's


def test_compare_tells_listing_from_ownership() -> None:
    # Before: X listed owns 60% of A. After: X delisted, Y listed owns 50% of B.
    rels = [own("1", "X", "A", 0.6), own("2", "Y", "B", 0.5), own("3", "Z", "C", 0.3)]
    g = view(rels, names={"A": "Alpha", "B": "Beta"})
    before = assess(g.relations, {"X"}, "ofac", as_of=DAY)
    after = assess(g.relations, {"Y"}, "ofac", as_of=DAY)
    changes = compare(before, after, listed_before={"X"}, listed_after={"Y"}, views=[g])
    got = [(c.change, c.entity, c.name, c.by_ownership) for c in changes]
    assert got == [
        ("became_blocked", "B", "Beta", True),
        ("became_blocked", "Y", "Y", False),
        ("became_unblocked", "A", "Alpha", True),
        ("became_unblocked", "X", "X", False),
    ]
    # The unblocked side is explained as it was: A was blocked by X's 60%.
    a = changes[2].exposure
    assert a["status"] == "blocked" and [s["relation_id"] for s in a["chain"]] == ["1"]
    assert changes[0].exposure["aggregate"]["low"] == 0.5


def test_compare_possibly_blocked() -> None:
    from watchkeeper.graph.model import Relation, Share

    g = view([Relation(id="r", kind="ownership", holder="X", held="P", share=Share(0.3, 0.6))])
    before = assess(g.relations, set(), "ofac", as_of=DAY)
    after = assess(g.relations, {"X"}, "ofac", as_of=DAY)
    changes = compare(before, after, listed_before=set(), listed_after={"X"})
    assert [(c.change, c.entity) for c in changes] == [
        ("became_blocked", "X"),
        ("became_possibly_blocked", "P"),
    ]


@pytest.fixture(scope="module")
def two_sdn(tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path) -> Iterator[Store]:
    """The bundled SDN 2023-12-28 (version 1) and 2024-05-03 (version 2), with a
    hand-made register: SOVCOMFLOT owns all of a ship-owning company no list names."""
    from watchkeeper.lists import parse_files

    path = copy_store(sdn_db_path, tmp_path_factory.mktemp("diff") / "two.duckdb")
    with Store(path) as s:
        s.add_list_version(parse_files([SDN_2024], "ofac_sdn"))
        batch = GraphBatch(
            source="register",
            files=["register.csv"],
            nodes=[
                Node("register:scf", "SOVCOMFLOT", "Company", source_ref="register.csv:2"),
                Node("register:shipco", "Ship Owning Co", "Company", source_ref="register.csv:3"),
            ],
            relations=[own("register:r1", "register:scf", "register:shipco", 1.0)],
        )
        store_graph_batch(
            s, batch, resolutions={"register:scf": Resolution(SOVCOMFLOT, "name", 1.0)}
        )
        yield s


def test_real_sdn_versions_diff(two_sdn: Store) -> None:
    d = graph_diff(two_sdn, as_of=DAY)
    assert (d.from_version, d.to_version, d.source) == (1, 2, "ofac_sdn")
    by_id = {c.entity: c for c in d.changes}
    scf = by_id[SOVCOMFLOT]
    assert scf.change == "became_blocked" and scf.listed_after and not scf.listed_before
    assert scf.name == "JOINT STOCK COMPANY SOVCOMFLOT"
    # Its wholly owned company in the register is blocked by ownership, with the chain.
    ship = by_id["register:shipco"]
    assert ship.change == "became_blocked" and ship.by_ownership
    assert [s["relation_id"] for s in ship.exposure["chain"]] == ["register:r1"]
    # Every listing change is a party added to or removed from the list.
    listed = {
        vid: {
            r[0]
            for r in two_sdn.con.execute(
                "SELECT id FROM entities WHERE version_id = ? AND is_primary", [vid]
            ).fetchall()
        }
        for vid in (1, 2)
    }
    added = {c.entity for c in d.of("became_blocked") if not c.by_ownership}
    removed = {c.entity for c in d.of("became_unblocked") if not c.by_ownership}
    assert added == listed[2] - listed[1]
    assert removed == listed[1] - listed[2]
    # The other way round the same parties move the other way.
    back = graph_diff(two_sdn, 2, 1, as_of=DAY)
    assert {c.entity for c in back.of("became_unblocked")} == {
        c.entity for c in d.of("became_blocked")
    }


def test_no_earlier_version_is_a_store_error(two_sdn: Store) -> None:
    with pytest.raises(StoreError, match="no version before"):
        graph_diff(two_sdn, to_version=1, as_of=DAY)
