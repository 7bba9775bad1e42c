"""Property tests of the control engines on random small graphs (cycles, self-holdings,
duplicate rows, ranges, unknown holders): each equals a slow reference written straight
from the docstring's definition (full passes until nothing changes), and the rule's
promises hold: blocked within possible, monotone in the lists, exact shares give no
``possibly_blocked``, and every way the ranges could really be lies within the answer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from watchkeeper.graph.control import (
    EPS,
    OwnershipArrays,
    PerPartyControl,
    ofac_fixpoint,
)
from watchkeeper.graph.regimes import EU, OFAC, UK, Measure

GRID = 20  # shares are multiples of 5%, so that sums land on the threshold exactly


@dataclass
class Graph:
    n: int
    holder: np.ndarray  # type: ignore[type-arg]
    held: np.ndarray  # type: ignore[type-arg]
    low: np.ndarray  # type: ignore[type-arg]
    high: np.ndarray  # type: ignore[type-arg]
    group: np.ndarray  # type: ignore[type-arg]
    listed: np.ndarray  # type: ignore[type-arg]
    unknown: np.ndarray  # type: ignore[type-arg]

    def args(self) -> tuple:  # type: ignore[type-arg]
        return (self.n, self.holder, self.held, self.low, self.high, self.listed, self.unknown)


@st.composite
def graphs(draw: st.DrawFn, groups: int = 1, exact: bool = False) -> Graph:
    n = draw(st.integers(1, 7))
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, n - 1),
                st.integers(0, n - 1),
                st.integers(0, GRID),
                st.integers(0, GRID),
                st.integers(0, groups - 1),
            ),
            max_size=16,
        )
    )
    listed = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    unknown = [False] * n if exact else draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lows = [min(a, b) / GRID for _, _, a, b, _ in rows]
    highs = [(min(a, b) if exact else max(a, b)) / GRID for _, _, a, b, _ in rows]
    return Graph(
        n,
        np.array([r[0] for r in rows], dtype=np.int64),
        np.array([r[1] for r in rows], dtype=np.int64),
        np.array(lows, dtype=np.float64),
        np.array(highs, dtype=np.float64),
        np.array([r[4] for r in rows], dtype=np.int8),
        np.array(listed, dtype=bool),
        np.array(unknown, dtype=bool),
    )


def crosses(value: float, m: Measure) -> bool:
    return value > m.threshold + EPS if m.strict else value >= m.threshold - EPS


def reference(g: Graph, measures: tuple[Measure, ...], seeds: set[int] | None = None) -> list[int]:
    """The docstring's definition, by full passes. ``seeds``: the listed parties (default
    ``g.listed``)."""
    rows = range(len(g.holder))
    listed = {i for i in range(g.n) if g.listed[i]} if seeds is None else seeds
    blocked = set(listed)
    changed = True
    while changed:
        changed = False
        for x in set(range(g.n)) - blocked:
            for gi, m in enumerate(measures):
                s = sum(
                    g.low[e]
                    for e in rows
                    if g.held[e] == x and g.group[e] == gi and g.holder[e] in blocked
                )
                if crosses(s, m):
                    blocked.add(x)
                    changed = True
                    break
    possible = set(blocked)
    changed = True
    while changed:
        changed = False
        for x in set(range(g.n)) - possible:
            for gi, m in enumerate(measures):
                ins = [e for e in rows if g.held[e] == x and g.group[e] == gi]
                counted = [e for e in ins if g.holder[e] in possible or g.unknown[g.holder[e]]]
                upper = sum(g.high[e] for e in counted)
                if m.capped:
                    upper = min(upper, 1 - sum(g.low[e] for e in ins if e not in counted))
                if crosses(upper, m):
                    possible.add(x)
                    changed = True
                    break
    return [2 if i in blocked else 1 if i in possible else 0 for i in range(g.n)]


def reference_uk(g: Graph, measures: tuple[Measure, ...]) -> list[int]:
    """The UK rule by its definition: one designated person at a time, then unknown
    holders alone; a node's status is the highest any of them gives it."""
    out = [0] * g.n
    for d in [i for i in range(g.n) if g.listed[i]] + [None]:
        status = reference(g, measures, seeds=set() if d is None else {d})
        out = [max(a, b) for a, b in zip(out, status, strict=True)]
    return out


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_ofac_fixpoint_equals_the_reference(g: Graph) -> None:
    assert ofac_fixpoint(*g.args()).tolist() == reference(g, OFAC.measures)


@settings(max_examples=200, deadline=None)
@given(graphs(groups=3))
def test_eu_measures_equal_the_reference(g: Graph) -> None:
    engine = OwnershipArrays(*g.args(), group=g.group, measures=EU.measures)
    assert engine.fixpoint().tolist() == reference(g, EU.measures)


@settings(max_examples=200, deadline=None)
@given(graphs(groups=3))
def test_uk_per_party_equals_the_reference(g: Graph) -> None:
    engine = PerPartyControl(*g.args(), group=g.group, measures=UK.measures)
    assert engine.fixpoint().tolist() == reference_uk(g, UK.measures)


@settings(max_examples=200, deadline=None)
@given(graphs(groups=3), st.integers(0, 6))
def test_adding_a_listed_party_never_unblocks_anyone(g: Graph, extra: int) -> None:
    more = Graph(**{**g.__dict__, "listed": g.listed.copy()})
    more.listed[extra % g.n] = True
    for measures, engine in ((EU.measures, OwnershipArrays), (UK.measures, PerPartyControl)):
        before = engine(*g.args(), group=g.group, measures=measures).fixpoint()
        after = engine(*more.args(), group=g.group, measures=measures).fixpoint()
        assert (after >= before).all()


@settings(max_examples=200, deadline=None)
@given(graphs(groups=3, exact=True))
def test_exact_shares_and_no_unknown_holders_give_no_possibly_blocked(g: Graph) -> None:
    assert 1 not in ofac_fixpoint(*g.args()).tolist()
    for measures, engine in ((EU.measures, OwnershipArrays), (UK.measures, PerPartyControl)):
        status = engine(*g.args(), group=g.group, measures=measures).fixpoint()
        assert 1 not in status.tolist()


@settings(max_examples=300, deadline=None)
@given(graphs(), st.data())
def test_every_realisation_of_the_ranges_lies_within_the_answer(
    g: Graph, data: st.DataObject
) -> None:
    """Pick shares within each range and decide which unknown holders are listed: the
    exact answer blocks everything the ranged answer blocks, and nothing the ranged
    answer calls not_blocked. (Each party's ranges are first scaled so that their tops
    add up to at most 100%: a real register's shares do.)"""
    scale = np.maximum(np.bincount(g.held, weights=g.high, minlength=g.n), 1.0)[g.held]
    g = Graph(**{**g.__dict__, "low": g.low / scale, "high": g.high / scale})
    t = np.array(
        data.draw(st.lists(st.integers(0, GRID), min_size=len(g.low), max_size=len(g.low)))
    )
    real = g.low + (g.high - g.low) * t / GRID
    chosen = np.array(data.draw(st.lists(st.booleans(), min_size=g.n, max_size=g.n)))
    status = ofac_fixpoint(*g.args())
    exact = ofac_fixpoint(
        g.n,
        g.holder,
        g.held,
        real,
        real.copy(),
        g.listed | (g.unknown & chosen),
        np.zeros(g.n, bool),
    )
    known = ~g.unknown
    assert (exact[status == 2] == 2).all()
    assert (exact[known & (status == 0)] == 0).all()


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_a_blocked_partys_chain_is_its_blocked_holders_up_to_the_lists(g: Graph) -> None:
    engine = OwnershipArrays(*g.args())
    status = engine.fixpoint()
    for i in np.flatnonzero((status == 2) & ~g.listed).tolist():
        chain = engine.chain(i)
        assert len(chain) == len(set(chain))
        assert all(status[g.holder[e]] == 2 for e in chain)
        into = [e for e in chain if g.held[e] == i]
        assert sum(g.low[e] for e in into) >= 0.5 - EPS
        # Every unlisted holder in the chain is explained in it too.
        for e in chain:
            h = g.holder[e]
            if not g.listed[h]:
                assert any(g.held[f] == h for f in chain)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("held", lambda g: g.held[:-1]),
        ("low", lambda g: g.low + 2.0),
        ("holder", lambda g: g.holder + 100),
        ("listed", lambda g: g.listed[:-1]),
    ],
)
def test_bad_arrays_are_refused_saying_which(field: str, change: object) -> None:
    g = Graph(
        3,
        np.array([0, 1], dtype=np.int64),
        np.array([1, 2], dtype=np.int64),
        np.array([0.5, 0.5]),
        np.array([0.5, 0.5]),
        np.zeros(2, dtype=np.int8),
        np.array([True, False, False]),
        np.zeros(3, dtype=bool),
    )
    bad = Graph(**{**g.__dict__, field: change(g)})  # type: ignore[operator]
    with pytest.raises(ValueError, match=field if field != "low" else "low <= high"):
        ofac_fixpoint(*bad.args())
