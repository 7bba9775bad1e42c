"""The graph questions (``graph.queries``: owners tree, shortest explained paths,
neighbourhood) on generated register-shaped ownership graphs (``_graph_gen``), beside
networkx in the same run on the same graph: ``shortest_path_length`` (one shortest
path, bidirectional BFS) and ``all_shortest_paths`` (first 10 ties, as ours returns).

    python benchmarks/graph_questions.py [EDGES ...]     # default 100000 1000000

Prints per-query p50/p99 in milliseconds over random parties (seeded) and whether the
shortest lengths agree. Figures depend on the machine's load (2 shared cores here).
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _graph_gen import generate  # noqa: E402

from watchkeeper.graph.model import Node, Relation, Share  # noqa: E402
from watchkeeper.graph.queries import _index, neighbourhood, owners, paths  # noqa: E402


@dataclass
class View:
    nodes: dict[str, Node]
    relations: list[Relation]
    listed: dict[str, set[str]] = field(default_factory=dict)


def _ms(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def bench(edges: int, queries: int = 100) -> None:
    g = generate(edges, seed=1)
    ids = [f"n{i}" for i in range(g.n)]
    relations = [
        Relation(id=f"r{k}", kind="ownership", holder=ids[h], held=ids[d], share=Share(lo, hi))
        for k, (h, d, lo, hi) in enumerate(
            zip(g.holder.tolist(), g.held.tolist(), g.low.tolist(), g.high.tolist(), strict=True)
        )
    ]
    view = View(
        nodes={i: Node(i, i, "Company") for i in ids},
        relations=relations,
        listed={"ofac": {ids[i] for i in np.flatnonzero(g.listed).tolist()}},
    )
    index_s = _timed(lambda: _index(view))
    rng = random.Random(0)
    held = sorted({r.held for r in relations})
    tree = [_timed(lambda: owners(view, rng.choice(held), 3)) for _ in range(3 * queries)]
    hood = [_timed(lambda: neighbourhood(view, rng.choice(held), 1)) for _ in range(queries)]
    pairs = [(rng.choice(held), rng.choice(held)) for _ in range(queries)]
    ours: list[float] = []
    lengths: list[int | None] = []
    for a, b in pairs:
        start = time.perf_counter()
        found = paths(view, a, b, max_len=6)
        ours.append(time.perf_counter() - start)
        lengths.append(len(found[0]) if found else None)
    peer = nx.MultiGraph()
    peer.add_edges_from((r.holder, r.held) for r in relations)
    one: list[float] = []
    ties: list[float] = []
    agree = 0
    for (a, b), mine in zip(pairs, lengths, strict=True):
        start = time.perf_counter()
        try:
            theirs: int | None = nx.shortest_path_length(peer, a, b)
        except nx.NetworkXNoPath:
            theirs = None
        one.append(time.perf_counter() - start)
        start = time.perf_counter()
        try:
            for _path, _k in zip(nx.all_shortest_paths(peer, a, b), range(10), strict=False):
                pass
        except nx.NetworkXNoPath:
            pass
        ties.append(time.perf_counter() - start)
        agree += mine == theirs or (mine is None and (theirs is None or theirs > 6))
    print(
        f"{edges:>10,} edges | index {index_s:.2f} s | owners depth 3 p50 {_ms(tree, 0.5):.2f} "
        f"p99 {_ms(tree, 0.99):.2f} ms | network depth 1 p50 {_ms(hood, 0.5):.2f} p99 "
        f"{_ms(hood, 0.99):.2f} ms | paths (all ties, max 10) p50 {_ms(ours, 0.5):.1f} p99 "
        f"{_ms(ours, 0.99):.1f} ms; networkx shortest_path_length p50 {_ms(one, 0.5):.1f} p99 "
        f"{_ms(one, 0.99):.1f} ms, all_shortest_paths (10) p50 {_ms(ties, 0.5):.1f} p99 "
        f"{_ms(ties, 0.99):.1f} ms | same shortest length {agree}/{len(pairs)}",
        flush=True,
    )


if __name__ == "__main__":
    for size in [int(a) for a in sys.argv[1:]] or [100_000, 1_000_000]:
        bench(size)
