"""Storing a graph load and reading the merged view of it (``graph.view.load_view``).

A generated register of N ownership statements between N/2 companies (one in fifty
with an IMO company number, a third of the statements dated) is stored in an
in-memory store with ``store_graph_batch`` and read back with ``load_view``. The peer
is the floor of any view: reading the same stored rows into ``Relation`` records, with
no canonical ids, validity or merging. Prints seconds and the ratio to the peer.

    .venv/bin/python benchmarks/graph_view.py [N ...]   (default 10000 100000)
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date

from watchkeeper.graph.model import GraphBatch, Node, Relation, Share
from watchkeeper.graph.store import RELATION_COLS, relation_from_row, store_graph_batch
from watchkeeper.graph.view import load_view
from watchkeeper.store import Store


def register(n: int, seed: int = 1) -> GraphBatch:
    rng = random.Random(seed)
    nodes = [
        Node(
            f"g:{i}",
            f"Company {i}",
            "Company",
            identifiers={"imo_company": (f"{1000000 + i}",)} if i % 50 == 0 else {},
        )
        for i in range(max(2, n // 2))
    ]
    relations = []
    for k in range(n):
        a, b = rng.randrange(len(nodes)), rng.randrange(len(nodes))
        start = date(2000 + rng.randrange(24), 1, 1) if k % 3 == 0 else None
        share = Share.exact(round(rng.random(), 3))
        relations.append(
            Relation(f"g:r{k}", "ownership", nodes[a].id, nodes[b].id, share, start=start)
        )
    return GraphBatch("generated", ["generated.csv"], nodes, relations)


def main(sizes: list[int]) -> None:
    for n in sizes:
        batch = register(n)
        store = Store(":memory:")
        t = time.perf_counter()
        store_graph_batch(store, batch)
        stored = time.perf_counter() - t
        t = time.perf_counter()
        rows = store.con.execute(f"SELECT {RELATION_COLS} FROM graph_relations").fetchall()
        peer_relations = [relation_from_row(r) for r in rows]
        peer = time.perf_counter() - t
        t = time.perf_counter()
        view = load_view(store, date(2020, 6, 1), with_lists=False)
        viewed = time.perf_counter() - t
        print(
            f"{n:>9,} relations: store {stored:.2f} s; load_view {viewed:.2f} s "
            f"({len(view.relations):,} in force); rows alone {peer:.2f} s "
            f"({len(peer_relations):,}); view / rows alone = {viewed / peer:.1f}x"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
