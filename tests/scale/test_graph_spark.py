"""One rule, two engines: the OFAC 50% fixpoint on Spark (iterated joins) gives the
statuses ``graph.control.ofac_fixpoint`` gives, on generated register-shaped graphs
(cycles, share ranges, unknown holders, 50/50 joint ventures) and on OFAC's own
examples (FAQ 398 and 401, the August 2014 revised guidance)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from watchkeeper.errors import InputError
from watchkeeper.scale.graph import (
    blocked_spark,
    ofac_fixpoint_spark,
    ofac_statuses_spark,
)

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_graph_gen", ROOT / "benchmarks" / "_graph_gen.py")
assert _spec is not None and _spec.loader is not None
graph_gen = importlib.util.module_from_spec(_spec)
sys.modules["_graph_gen"] = graph_gen
_spec.loader.exec_module(graph_gen)

T = 0.5 - 1e-9


def reference(
    n: int,
    holder: NDArray[np.int64],
    held: NDArray[np.int64],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    listed: NDArray[np.bool_],
    unknown: NDArray[np.bool_],
) -> NDArray[np.int8]:
    """The rule as written, re-evaluated from scratch until nothing changes (slow, plain)."""
    edges = list(zip(holder.tolist(), held.tolist(), low.tolist(), high.tolist(), strict=True))
    blocked = set(np.flatnonzero(listed).tolist())
    while True:
        got: dict[int, float] = {}
        for h, x, lo, _ in edges:
            if h in blocked:
                got[x] = got.get(x, 0.0) + lo
        new = {x for x, s in got.items() if s >= T} - blocked
        if not new:
            break
        blocked |= new
    possible = set(blocked)  # B is within P even where stated shares exceed 100%
    while True:
        could: dict[int, float] = {}
        rest: dict[int, float] = {}
        for h, x, lo, hi in edges:
            if h in possible or unknown[h]:
                could[x] = could.get(x, 0.0) + hi
            else:
                rest[x] = rest.get(x, 0.0) + lo
        new = {x for x, s in could.items() if min(s, 1.0 - rest.get(x, 0.0)) >= T} - possible
        if not new:
            break
        possible |= new
    status = np.zeros(n, dtype=np.int8)
    status[list(possible)] = 1
    status[list(blocked)] = 2
    return status


def engines() -> list[Any]:
    """The reference, and ``graph.control.ofac_fixpoint`` once it is there."""
    found = [reference]
    try:
        from watchkeeper.graph.control import ofac_fixpoint
    except ImportError:
        pass
    else:
        found.append(ofac_fixpoint)
    return found


def case(
    n: int,
    edges: list[tuple[int, int, float, float]],
    listed: list[int],
    unknown: tuple[int, ...] = (),
) -> tuple[Any, ...]:
    h, x, lo, hi = (np.array(c) for c in zip(*edges, strict=True)) if edges else ([],) * 4
    flags = np.zeros(n, dtype=np.bool_)
    flags[listed] = True
    unk = np.zeros(n, dtype=np.bool_)
    unk[list(unknown)] = True
    return (
        n,
        np.asarray(h, dtype=np.int64),
        np.asarray(x, dtype=np.int64),
        np.asarray(lo, dtype=np.float64),
        np.asarray(hi, dtype=np.float64),
        flags,
        unk,
    )


X, Y, A, B, C = range(5)
# (name, case, expected statuses of nodes 0..n-1); X and Y are listed.
OFAC_EXAMPLES = [
    (  # FAQ 398 / guidance: 25% + 25% by two blocked persons, aggregated
        "aggregate",
        case(3, [(X, 2, 0.25, 0.25), (Y, 2, 0.25, 0.25)], [X, Y]),
        [2, 2, 2],
    ),
    (  # FAQ 401 example 1: X 50% of A, A 50% of B
        "example 1",
        case(5, [(X, A, 0.5, 0.5), (A, B, 0.5, 0.5)], [X]),
        [2, 0, 2, 2, 0],
    ),
    (  # FAQ 401 example 2: X 50% of A and of B; A and B 25% each of C
        "example 2",
        case(
            5,
            [(X, A, 0.5, 0.5), (X, B, 0.5, 0.5), (A, C, 0.25, 0.25), (B, C, 0.25, 0.25)],
            [X],
        ),
        [2, 0, 2, 2, 2],
    ),
    (  # FAQ 401 example 3: X 50% of A and 10% of B; A 40% of B
        "example 3",
        case(5, [(X, A, 0.5, 0.5), (X, B, 0.1, 0.1), (A, B, 0.4, 0.4)], [X]),
        [2, 0, 2, 2, 0],
    ),
    (  # FAQ 401 example 4: X 25% of A and of B; A and B 50% each of C: not blocked
        "example 4",
        case(
            5,
            [(X, A, 0.25, 0.25), (X, B, 0.25, 0.25), (A, C, 0.5, 0.5), (B, C, 0.5, 0.5)],
            [X],
        ),
        [2, 0, 0, 0, 0],
    ),
    (  # a range straddling the threshold: 40-60% is possibly blocked, not blocked
        "range",
        case(3, [(X, A, 0.4, 0.6)], [X]),
        [2, 0, 1],
    ),
    (  # an unknown holder of 20% could tip a blocked 30%; a known 20% cannot
        "unknown holder",
        case(
            5,
            [(X, A, 0.3, 0.3), (Y, A, 0.2, 0.2), (X, B, 0.3, 0.3), (C, B, 0.7, 0.7)],
            [X],
            unknown=(Y,),
        ),
        [2, 0, 1, 0, 0],
    ),
    (  # cross-holding: A and B hold 30% of each other, X 30% of each: both blocked
        "cycle",
        case(
            4,
            [(X, A, 0.3, 0.3), (X, B, 0.3, 0.3), (A, B, 0.3, 0.3), (B, A, 0.3, 0.3)],
            [X],
        ),
        [2, 0, 0, 0],
    ),
    (  # a cycle alone never blocks itself (least fixpoint): A, B 60% of each other
        "closed cycle",
        case(3, [(0, 1, 0.6, 0.6), (1, 0, 0.6, 0.6)], [2]),
        [0, 0, 2],
    ),
    (  # shares stated above 100% (X 60%, C 60% of A): A is blocked, and so it counts
        # towards P too: its 30-60% of B makes B possibly blocked
        "over-stated register",
        case(5, [(X, A, 0.6, 0.6), (C, A, 0.6, 0.6), (A, B, 0.3, 0.6)], [X]),
        [2, 0, 2, 1, 0],
    ),
    (  # 10% + 35% + 5% is 0.49999999999999994 in floats: still 50%, blocked
        "float sum",
        case(4, [(X, A, 0.1, 0.1), (Y, A, 0.35, 0.35), (3, A, 0.05, 0.05)], [X, Y, 3]),
        [2, 2, 2, 2],
    ),
    (  # a self-holding never blocks a party by itself: A 60% of itself, X 30% of A
        "self-holding",
        case(3, [(A, A, 0.6, 0.6), (X, A, 0.3, 0.3)], [X]),
        [2, 0, 0],
    ),
    (  # duplicate statements are summed: two 25% holdings of one share class each
        "duplicates",
        case(2, [(0, 1, 0.25, 0.25), (0, 1, 0.25, 0.25)], [0]),
        [2, 2],
    ),
]


@pytest.mark.parametrize(
    ("name", "args", "expected"), OFAC_EXAMPLES, ids=[e[0] for e in OFAC_EXAMPLES]
)
def test_ofac_examples(name: str, args: tuple[Any, ...], expected: list[int]) -> None:
    for engine in engines():
        assert engine(*args).tolist() == expected, (name, engine.__name__)


def test_ofac_examples_on_spark(spark: Any) -> None:
    """All examples side by side in one graph (node numbers offset, no holding between
    them), so Spark runs once: each example must come out as it does alone."""
    parts: list[list[Any]] = [[] for _ in range(6)]
    n, spans = 0, []
    for name, (k, holder, held, low, high, listed, unknown), expected in OFAC_EXAMPLES:
        for part, values in zip(
            parts, (holder + n, held + n, low, high, listed, unknown), strict=True
        ):
            part.append(values)
        spans.append((name, n, k, expected))
        n += k
    got = ofac_fixpoint_spark(spark, n, *(np.concatenate(p) for p in parts))
    for name, start, k, expected in spans:
        assert got[start : start + k].tolist() == expected, name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_registers_agree(spark: Any, seed: int) -> None:
    graph = graph_gen.generate(3_000, seed=seed)
    want = reference(*graph.arrays())
    # The generated graph has what the rule must handle: a chain of blocked
    # companies, possibly blocked ones, holders that are unknown.
    assert (want == 2).sum() > graph.listed.sum() and (want == 1).any()
    assert graph.unknown.any() and (graph.low < graph.high).any()
    for engine in engines():
        assert np.array_equal(engine(*graph.arrays()), want), engine.__name__
    got = ofac_fixpoint_spark(spark, *graph.arrays())
    diff = np.flatnonzero(got != want)
    assert diff.size == 0, f"differ at {diff[:10]}: spark {got[diff[:10]]}, rule {want[diff[:10]]}"


def test_generated_graph_has_cycles() -> None:
    """The generator's back edges make cross-holdings: some strongly connected component
    is larger than one node (else the cycle part of the parity test proves nothing)."""
    graph = graph_gen.generate(3_000, seed=1)
    succ: dict[int, list[int]] = {}
    for h, x in zip(graph.holder.tolist(), graph.held.tolist(), strict=True):
        succ.setdefault(h, []).append(x)

    def reaches(start: int, goal: int) -> bool:
        seen, todo = {start}, [start]
        while todo:
            for y in succ.get(todo.pop(), []):
                if y == goal:
                    return True
                if y not in seen:
                    seen.add(y)
                    todo.append(y)
        return False

    back = [
        (h, x)
        for h, x in zip(graph.holder.tolist(), graph.held.tolist(), strict=True)
        if graph.level[h] >= graph.level[x]
    ]
    assert back and any(reaches(x, h) for h, x in back)


def test_ids_of_any_type_and_rounds(spark: Any) -> None:
    """Node ids are join keys, not array positions: strings work; the round says how
    far down the chain a node was reached (example 1: A in round 1, B in round 2)."""
    edges = spark.createDataFrame(
        [("X", "A", 0.5, 0.5), ("A", "B", 0.5, 0.5), ("A", "C", 0.2, 0.9)],
        "holder string, held string, low double, high double",
    )
    listed = spark.createDataFrame([("X",)], "node string")
    rounds = {r["node"]: r["round"] for r in blocked_spark(edges, listed).collect()}
    assert rounds == {"X": 0, "A": 1, "B": 2}
    statuses = {r["node"]: r["status"] for r in ofac_statuses_spark(edges, listed).collect()}
    assert statuses == {"X": 2, "A": 2, "B": 2, "C": 1}


def test_missing_column_is_input_error(spark: Any) -> None:
    edges = spark.createDataFrame([(1, 2, 0.5)], "owner long, held long, low double")
    listed = spark.createDataFrame([(1,)], "node long")
    with pytest.raises(InputError, match="holder") as info:
        blocked_spark(edges, listed)
    assert info.value.field == "holder"
