"""Who is blocked by ownership or control, per regime, as of a date, with the chain of
statements behind each conclusion and three outcomes: ``blocked``,
``possibly_blocked`` (a share range straddles the threshold, or a holder of unknown
identity or status could tip it) and ``not_blocked``.

Two layers:

* :func:`ofac_fixpoint` and :class:`OwnershipArrays`: the rule on plain numpy arrays
  (node numbers, one row per holding), linear in the number of holdings, for the
  benchmark and for a Spark version that must give the same answers.
* :func:`assess`: the caller-facing layer over :class:`~watchkeeper.graph.model.Relation`
  records, for the OFAC, EU and UK rules of :mod:`watchkeeper.graph.regimes`.

Shares are fractions (0..1). An exclusive bound (BODS ``exclusiveMinimum``, "more than
25%") is moved inwards by :data:`EXCLUSIVE_OFFSET` (see :func:`share_bounds`); sums are
compared with a tolerance of :data:`EPS` so that 0.25 + 0.25 is 50%.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from watchkeeper.graph.model import Relation, RelationKind, Share
from watchkeeper.graph.regimes import REGIME_RULES, Measure, Regime, RegimeName

Status = Literal["blocked", "possibly_blocked", "not_blocked"]
STATUS_NAMES: tuple[Status, Status, Status] = ("not_blocked", "possibly_blocked", "blocked")

THRESHOLD = 0.5
# Tolerance of every threshold comparison: float sums of stated percentages (0.1 + 0.4).
EPS = 1e-9
# How far an exclusive bound moves inwards. It must be well above EPS, or "less than 50%"
# (0.5 - offset) would still compare as reaching 50% within the tolerance.
EXCLUSIVE_OFFSET = 1e-6

OFAC_MEASURES: tuple[Measure, ...] = REGIME_RULES["ofac"].measures

Int64Array = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def share_bounds(share: Share | None, kind: RelationKind = "ownership") -> tuple[float, float]:
    """The (low, high) fractions a holding counts for: a ``control`` relation is a whole
    (1.0, 1.0) holding whatever its share; an unstated share is anything (0.0, 1.0); an
    exclusive bound moves inwards by :data:`EXCLUSIVE_OFFSET` ("more than 50%" is
    0.500001). The Spark engine uses this same function, so both read shares alike."""
    if kind == "control":
        return 1.0, 1.0
    if share is None:
        return 0.0, 1.0
    low = share.low + (EXCLUSIVE_OFFSET if share.low_exclusive else 0.0)
    high = share.high - (EXCLUSIVE_OFFSET if share.high_exclusive else 0.0)
    low, high = min(max(low, 0.0), 1.0), min(max(high, 0.0), 1.0)
    if low > high:  # ">x%-<y%" narrower than the offsets: the middle
        low = high = (low + high) / 2
    return low, high


def _csr(keys: Int64Array, n: int) -> tuple[Int64Array, Int64Array]:
    """Row pointers and the row order of ``keys`` (holder or held numbers)."""
    order = np.argsort(keys, kind="stable").astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=indptr[1:])
    return indptr, order


def _rows(nodes: Int64Array, indptr: Int64Array, order: Int64Array) -> Int64Array:
    """The holdings (edge numbers) of ``nodes``, gathered from a CSR in one pass."""
    starts = indptr[nodes]
    counts = indptr[nodes + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    return order[offsets]


@dataclass(frozen=True)
class Tally:
    """What a party's holders hold of it, by one measure (fractions): ``blocked_low`` and
    ``blocked_high`` bound what blocked holders hold; ``upper`` is the most that blocked,
    possibly blocked and unknown holders together could hold (capped by what the others
    are known to hold); ``unknown_high`` is what holders of unknown identity may hold."""

    measure: Measure
    blocked_low: float
    blocked_high: float
    upper: float
    unknown_high: float

    def crosses(self, value: float) -> bool:
        return _crosses_one(value, self.measure)


def _crosses_one(value: float, measure: Measure) -> bool:
    if measure.strict:
        return value > measure.threshold + EPS
    return value >= measure.threshold - EPS


class ControlEngine(Protocol):
    """What :class:`ControlResult` reads from an engine: statuses, chains, tallies."""

    def fixpoint(self) -> NDArray[np.int8]: ...

    def chain(self, i: int) -> list[int]: ...

    def tallies(self, i: int) -> list[Tally]: ...


class OwnershipArrays:
    """The aggregate rule (OFAC, and the EU's) on arrays, built once: node numbers
    ``0..n-1``, one row per holding ``holder[e] -> held[e]`` of ``low[e]..high[e]`` (a
    fraction), the listed parties and the holders of unknown identity.

    With one measure (the default, OFAC's) every row is an ownership holding; with
    several, ``group[e]`` says which measure a row is (an index into ``measures``).

    Semantics (the Spark version keeps to exactly this; EPS = 1e-9, t = 0.5):

    * blocked set B, the least fixpoint of: ``listed[x]`` or, for some measure g,
      ``S = sum(low[e] for e: h -> x in g, h in B)`` crosses g's threshold
      (``S >= t - EPS``, or ``S > t + EPS`` for a strict measure). Only blocked holders
      count and a blocked holder passes on its whole holding: no multiplication along a
      chain (OFAC 2014 guidance, FAQ 401).
    * possible set P, the least fixpoint of: ``listed[x]`` or ``x in B`` or, for some g,
      ``U = min(sum(high[e] for h in P or unknown[h]), 1 - sum(low[e] for h not in P and
      not unknown[h]))`` crosses g's threshold (for a measure that is not ``capped``,
      ``U`` is the first sum alone). ``x in B`` is part of the rule so that B is within
      P even when a register's shares add up to more than 100%.
    * status 2 (blocked) if x in B, 1 (possibly_blocked) if x in P and not in B, else 0.

    Several rows between the same two parties are summed (a register listing two
    blocks of shares); a self-holding never makes a party blocked by itself; cycles
    need a blocked party outside them. Each row is read once per set: a worklist over
    rows sorted by holder, so the work is linear in the number of rows.
    """

    def __init__(
        self,
        n: int,
        holder: Int64Array,
        held: Int64Array,
        low: FloatArray,
        high: FloatArray,
        listed: BoolArray,
        unknown: BoolArray,
        *,
        group: NDArray[np.int8] | None = None,
        measures: Sequence[Measure] = OFAC_MEASURES,
    ) -> None:
        self.n = int(n)
        self.holder = np.asarray(holder, dtype=np.int64)
        self.held = np.asarray(held, dtype=np.int64)
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        self.listed = np.asarray(listed, dtype=np.bool_)
        self.unknown = np.asarray(unknown, dtype=np.bool_)
        m = self.holder.shape[0]
        # int8: one byte per row (10M rows), widened only where keys are computed.
        self.group = np.zeros(m, dtype=np.int8) if group is None else np.asarray(group, np.int8)
        self.measures = tuple(measures)
        _check_arrays(self, m)
        g = len(self.measures)
        self._g = g
        self._thr = np.array([x.threshold for x in self.measures], dtype=np.float64)
        self._strict = np.array([x.strict for x in self.measures], dtype=np.bool_)
        self._capped = np.array([x.capped for x in self.measures], dtype=np.bool_)
        self._out_ptr, self._out = _csr(self.holder, self.n)
        self._in_ptr, self._in = _csr(self.held, self.n)
        self._blocked: BoolArray | None = None
        self._possible: BoolArray | None = None
        self._status: NDArray[np.int8] | None = None

    # -- the two fixpoints ------------------------------------------------------------

    def _crosses(self, values: FloatArray, groups: Int64Array) -> BoolArray:
        thr = self._thr[groups]
        return np.where(self._strict[groups], values > thr + EPS, values >= thr - EPS)

    def _blocked_set(self) -> BoolArray:
        g = self._g
        sums = np.zeros(self.n * g, dtype=np.float64)
        blocked = self.listed.copy()
        frontier = np.flatnonzero(blocked)
        while frontier.size:
            edges = _rows(frontier, self._out_ptr, self._out)
            targets = self.held[edges]
            open_ = ~blocked[targets]
            edges, targets = edges[open_], targets[open_]
            if edges.size == 0:
                break
            groups = self.group[edges].astype(np.int64)
            keys = targets * g + groups
            np.add.at(sums, keys, self.low[edges])
            hit = self._crosses(sums[keys], groups)
            frontier = np.unique(targets[hit])
            blocked[frontier] = True
        return blocked

    def _possible_set(self, blocked: BoolArray) -> BoolArray:
        g = self._g
        size = self.n * g
        all_keys = self.held * g + self.group.astype(np.int64)
        total_low = np.bincount(all_keys, weights=self.low, minlength=size)
        high_in = np.zeros(size, dtype=np.float64)  # sum high, holders in P or unknown
        low_in = np.zeros(size, dtype=np.float64)  # sum low, same holders
        possible = blocked.copy()

        def admit(edges: Int64Array) -> Int64Array:
            targets = self.held[edges]
            open_ = ~possible[targets]
            edges, targets = edges[open_], targets[open_]
            if edges.size == 0:
                return np.zeros(0, dtype=np.int64)
            groups = self.group[edges].astype(np.int64)
            keys = targets * g + groups
            np.add.at(high_in, keys, self.high[edges])
            np.add.at(low_in, keys, self.low[edges])
            upper = high_in[keys]
            capped = np.minimum(upper, 1.0 - (total_low[keys] - low_in[keys]))
            upper = np.where(self._capped[groups], capped, upper)
            new = np.unique(targets[self._crosses(upper, groups)])
            possible[new] = True
            return new

        # Holders of unknown identity count once, whatever their own status.
        first = admit(np.flatnonzero(self.unknown[self.holder]))
        frontier = np.union1d(np.flatnonzero(blocked), first)
        while frontier.size:
            edges = _rows(frontier, self._out_ptr, self._out)
            edges = edges[~self.unknown[self.holder[edges]]]
            frontier = admit(edges)
        return possible

    def fixpoint(self) -> NDArray[np.int8]:
        """Status per node: 2 blocked, 1 possibly blocked, 0 not blocked (computed once)."""
        if self._status is None:
            self._blocked = self._blocked_set()
            self._possible = self._possible_set(self._blocked)
            status = np.zeros(self.n, dtype=np.int8)
            status[self._possible] = 1
            status[self._blocked] = 2
            self._status = status
        return self._status

    # -- explanations -----------------------------------------------------------------

    def chain(self, i: int) -> list[int]:
        """The rows that explain node ``i``'s status, from ``i`` up to the listed parties:
        for a blocked node its blocked holders' rows, and theirs in turn; for any other
        node the rows of holders that are blocked, possibly blocked or of unknown identity.
        Each row once, in breadth-first order from ``i``; cycles are safe. Empty for a
        listed node (it is blocked by its listing) and for a node nobody counted holds."""
        status = self.fixpoint()
        if self.listed[i]:
            return []
        holder, unknown, listed = self.holder, self.unknown, self.listed
        in_ptr, in_rows = self._in_ptr, self._in
        seen = {i}
        queue = [i]
        out: list[int] = []
        head = 0
        while head < len(queue):
            v = queue[head]
            head += 1
            need_blocked = status[v] == 2
            for e in in_rows[in_ptr[v] : in_ptr[v + 1]].tolist():
                h = int(holder[e])
                counts = status[h] == 2 if need_blocked else (status[h] >= 1 or unknown[h])
                if not counts:
                    continue
                out.append(e)
                if h not in seen and not listed[h] and status[h] >= 1:
                    seen.add(h)
                    queue.append(h)
        return out

    def tallies(self, i: int) -> list[Tally]:
        """Per measure, what node ``i``'s holders hold of it (see :class:`Tally`)."""
        status = self.fixpoint()
        rows = self._in[self._in_ptr[i] : self._in_ptr[i + 1]]
        h = self.holder[rows]
        blocked = status[h] == 2
        counted = (status[h] >= 1) | self.unknown[h]
        anonymous = self.unknown[h] & (status[h] == 0)
        out = []
        for gi, measure in enumerate(self.measures):
            sel = self.group[rows] == gi
            low, high = self.low[rows][sel], self.high[rows][sel]
            b, c, a = blocked[sel], counted[sel], anonymous[sel]
            upper = float(high[c].sum())
            if measure.capped:
                upper = min(upper, 1.0 - float(low[~c].sum()))
            out.append(
                Tally(
                    measure,
                    float(low[b].sum()),
                    float(high[b].sum()),
                    max(upper, 0.0),
                    float(high[a].sum()),
                )
            )
        return out


def _check_arrays(arrays: OwnershipArrays, m: int) -> None:
    """Arrays of the wrong shape or out of range are a programming error: say which."""
    n = arrays.n
    for name in ("held", "low", "high", "group"):
        if getattr(arrays, name).shape != (m,):
            raise ValueError(f"{name} has shape {getattr(arrays, name).shape}, expected ({m},)")
    for name in ("listed", "unknown"):
        if getattr(arrays, name).shape != (n,):
            raise ValueError(f"{name} has shape {getattr(arrays, name).shape}, expected ({n},)")
    if m:
        if (
            min(arrays.holder.min(), arrays.held.min()) < 0
            or max(arrays.holder.max(), arrays.held.max()) >= n
        ):
            raise ValueError(f"a holder or held node number is outside 0..{n - 1}")
        if (arrays.low < 0).any() or (arrays.high > 1).any() or (arrays.low > arrays.high).any():
            raise ValueError("holdings must satisfy 0 <= low <= high <= 1")
        if arrays.group.min() < 0 or arrays.group.max() >= len(arrays.measures):
            raise ValueError("group names a measure that is not given")


def ofac_fixpoint(
    n: int,
    holder: Int64Array,
    held: Int64Array,
    low: FloatArray,
    high: FloatArray,
    listed: BoolArray,
    unknown: BoolArray,
) -> NDArray[np.int8]:
    """OFAC's 50 Percent Rule on arrays: status per node, 2 blocked, 1 possibly blocked,
    0 not blocked. Every row is an ownership holding ``holder -> held`` of
    ``low..high`` (fractions; exclusive bounds already moved by :func:`share_bounds`).
    Exactly the semantics of :class:`OwnershipArrays` with one measure, threshold 0.5,
    compared as ``sum >= 0.5 - 1e-9``: B is the least set holding the listed parties and
    every party whose blocked holders' ``low`` sum reaches 0.5; P the least set holding B
    and every party for which ``min(sum of high of holders in P or unknown, 1 - sum of
    low of the other holders)`` reaches 0.5. Duplicate rows are summed."""
    return OwnershipArrays(n, holder, held, low, high, listed, unknown).fixpoint()


class PerPartyControl:
    """The UK rule on the same arrays: holdings of *different* designated persons are
    not added up (OFSI), but a designated person's own holdings and those of the
    entities it owns or controls are. For each listed party d, B_d is the least set
    holding d and every party that B_d's members hold (summed, per measure) over the
    measure's threshold; P_d likewise with the possible-set rule of
    :class:`OwnershipArrays`, holders of unknown identity counting in every P_d (one of
    them may be d). B is the union of the B_d, P the union of the P_d and of what
    unknown holders alone may hold. The work is the sum, over listed parties, of the
    rows reachable from each: fine for registers, not meant for 10M-row graphs."""

    def __init__(
        self,
        n: int,
        holder: Int64Array,
        held: Int64Array,
        low: FloatArray,
        high: FloatArray,
        listed: BoolArray,
        unknown: BoolArray,
        *,
        group: NDArray[np.int8] | None = None,
        measures: Sequence[Measure] = OFAC_MEASURES,
    ) -> None:
        self._arrays = OwnershipArrays(
            n, holder, held, low, high, listed, unknown, group=group, measures=measures
        )
        a = self._arrays
        g = len(a.measures)
        self._g = g
        self._holder = a.holder.tolist()
        self._held = a.held.tolist()
        self._low = a.low.tolist()
        self._high = a.high.tolist()
        self._group = a.group.tolist()
        self._unknown = a.unknown
        self._out_ptr = a._out_ptr.tolist()
        self._out = a._out.tolist()
        keys = a.held * g + a.group.astype(np.int64)
        size = a.n * g
        self._total_low = np.bincount(keys, weights=a.low, minlength=size).tolist()
        anon = a.unknown[a.holder]
        self._anon_high = np.bincount(keys[anon], weights=a.high[anon], minlength=size).tolist()
        self._anon_low = np.bincount(keys[anon], weights=a.low[anon], minlength=size).tolist()
        self._via_blocked: dict[int, int] = {}  # node -> the listed party it is owned by
        self._via_possible: dict[int, int] = {}  # node -> listed party, or -1 (unknown)
        self._owned: dict[int, set[int]] = {}
        self._maybe: dict[int, set[int]] = {}
        self._status: NDArray[np.int8] | None = None

    def _grow(self, members: set[int], possible: bool) -> set[int]:
        g, measures = self._g, self._arrays.measures
        high_in: dict[int, float] = {}
        low_in: dict[int, float] = {}
        stack = list(members)
        while stack:
            h = stack.pop()
            if possible and self._unknown[h]:
                continue  # counted in _anon_* already
            for e in self._out[self._out_ptr[h] : self._out_ptr[h + 1]]:
                x = self._held[e]
                if x in members:
                    continue
                gi = self._group[e]
                k = x * g + gi
                low_in[k] = low_in.get(k, 0.0) + self._low[e]
                if possible:
                    high_in[k] = high_in.get(k, 0.0) + self._high[e]
                    upper = self._anon_high[k] + high_in[k]
                    if measures[gi].capped:
                        other = self._total_low[k] - self._anon_low[k] - low_in[k]
                        upper = min(upper, 1.0 - other)
                    value = upper
                else:
                    value = low_in[k]
                if _crosses_one(value, measures[gi]):
                    members.add(x)
                    stack.append(x)
        return members

    def fixpoint(self) -> NDArray[np.int8]:
        if self._status is not None:
            return self._status
        a = self._arrays
        status = np.zeros(a.n, dtype=np.int8)
        for d in np.flatnonzero(a.listed).tolist():
            owned = self._grow({d}, possible=False)
            maybe = self._grow(set(owned), possible=True)
            self._owned[d], self._maybe[d] = owned, maybe
            for x in owned:
                self._via_blocked.setdefault(x, d)
            for x in maybe:
                self._via_possible.setdefault(x, d)
        # What holders of unknown identity alone may hold, and on down from there.
        anon_high = np.asarray(self._anon_high)
        seeds = {
            int(key) // self._g
            for key in np.flatnonzero(anon_high > 0).tolist()
            if _crosses_one(self._anon_alone(key), a.measures[key % self._g])
        }
        anon = self._grow(seeds, possible=True) if seeds else set()
        self._maybe[-1] = anon
        for x in anon:
            self._via_possible.setdefault(x, -1)
        status[list(self._via_possible)] = 1
        status[list(self._via_blocked)] = 2
        self._status = status
        return status

    def _anon_alone(self, key: int) -> float:
        upper = float(self._anon_high[key])
        if self._arrays.measures[key % self._g].capped:
            upper = min(upper, 1.0 - (self._total_low[key] - self._anon_low[key]))
        return upper

    def controller(self, i: int) -> int | None:
        """The listed party that owns or controls node ``i`` (the first by number), or
        that possibly does; -1 when only holders of unknown identity could."""
        self.fixpoint()
        if i in self._via_blocked:
            return self._via_blocked[i]
        return self._via_possible.get(i)

    def _sets(self, i: int, d: int | None) -> tuple[set[int], set[int]]:
        """(owned, possibly owned) sets of listed party ``d`` (-1: unknown holders only;
        None: everything blocked and possibly blocked, for a party nobody holds)."""
        status = self.fixpoint()
        if d is None:
            return (
                set(np.flatnonzero(status == 2).tolist()),
                set(np.flatnonzero(status >= 1).tolist()),
            )
        return self._owned.get(d, set()), self._maybe[d]

    def chain(self, i: int) -> list[int]:
        """Rows from the controlling party's set (see :meth:`controller`) up to it, as
        :meth:`OwnershipArrays.chain` does: its owned set for a blocked node, its possibly
        owned set otherwise."""
        a = self._arrays
        if a.listed[i]:
            return []
        owned, maybe = self._sets(i, self.controller(i))
        members = owned if self.fixpoint()[i] == 2 else maybe
        seen, queue, out, head = {i}, [i], [], 0
        while head < len(queue):
            v = queue[head]
            head += 1
            for e in a._in[a._in_ptr[v] : a._in_ptr[v + 1]].tolist():
                h = self._holder[e]
                if h not in members and not a.unknown[h]:
                    continue
                out.append(e)
                if h not in seen and not a.listed[h] and h in members:
                    seen.add(h)
                    queue.append(h)
        return out

    def _tallies_for(self, i: int, owned: set[int], maybe: set[int]) -> list[Tally]:
        a = self._arrays
        rows = a._in[a._in_ptr[i] : a._in_ptr[i + 1]].tolist()
        out = []
        for gi, measure in enumerate(a.measures):
            bl = bh = hi = lo_other = anon = 0.0
            for e in rows:
                if self._group[e] != gi:
                    continue
                h = self._holder[e]
                if h in owned:
                    bl += self._low[e]
                    bh += self._high[e]
                if h in maybe or a.unknown[h]:
                    hi += self._high[e]
                else:
                    lo_other += self._low[e]
                if a.unknown[h] and h not in maybe:
                    anon += self._high[e]
            upper = min(hi, 1.0 - lo_other) if measure.capped else hi
            out.append(Tally(measure, bl, bh, max(upper, 0.0), anon))
        return out

    def tallies(self, i: int) -> list[Tally]:
        """Per measure, what the one listed party behind node ``i`` holds of it; for a
        node that no listed party holds enough of, the listed party that comes closest
        (holdings of different listed parties are not added up)."""
        d = self.controller(i)
        if d is not None:
            return self._tallies_for(i, *self._sets(i, d))
        a = self._arrays
        rows = a._in[a._in_ptr[i] : a._in_ptr[i + 1]].tolist()
        near = {self._via_possible[h] for e in rows if (h := self._holder[e]) in self._via_possible}
        best: list[Tally] = self._tallies_for(i, set(), set())
        for cand in sorted(near):
            tallies = self._tallies_for(i, *self._sets(i, cand))
            if max(t.upper for t in tallies) > max(t.upper for t in best):
                best = tallies
        return best


# -- the caller-facing layer -----------------------------------------------------------


@dataclass(frozen=True)
class ChainStep:
    """One statement of a chain: who holds what of whom, per which source, when."""

    relation_id: str
    kind: RelationKind
    holder: str
    held: str
    share: str
    holder_status: Status
    holder_listed: bool
    direct: bool | None
    source_ref: str
    start: date | None
    end: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "relation_id": self.relation_id,
            "kind": self.kind,
            "holder": self.holder,
            "held": self.held,
            "share": self.share,
            "holder_status": self.holder_status,
            "holder_listed": self.holder_listed,
            "direct": self.direct,
            "source_ref": self.source_ref,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


@dataclass(frozen=True)
class Exposure:
    """Why a party is blocked, possibly blocked or not, under one regime on one day:
    the aggregate held by blocked parties (``aggregate.low``) and the most that parties
    of unknown or uncertain status could bring it to (``aggregate.high``), the rule and
    where it is written, the statements from the listed parties down, and the margin."""

    entity: str
    regime: RegimeName
    as_of: date
    status: Status
    listed: bool
    aggregate: Share
    threshold: float
    measure: str
    rule: str
    citation: str
    url: str
    margin: str
    chain: tuple[ChainStep, ...] = field(default_factory=tuple)
    controller: str | None = None  # UK: the one designated person behind the status

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "regime": self.regime,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "listed": self.listed,
            "aggregate": {
                "low": self.aggregate.low,
                "high": self.aggregate.high,
                "described": self.aggregate.describe(),
            },
            "threshold": self.threshold,
            "measure": self.measure,
            "rule": self.rule,
            "citation": self.citation,
            "url": self.url,
            "margin": self.margin,
            "controller": self.controller,
            "chain": [step.to_dict() for step in self.chain],
        }


def _pct(value: float) -> str:
    return f"{round(value * 100, 4):g}%"


def _pick(tallies: list[Tally], status: int) -> Tally:
    """The measure that decides: for a blocked party the one its blocked holders cross,
    otherwise the one with the highest possible aggregate."""
    if status == 2:
        for t in tallies:
            if t.crosses(t.blocked_low):
                return t
    return max(tallies, key=lambda t: (t.upper - t.measure.threshold, t.blocked_low))


def _margin(t: Tally, status: int) -> str:
    m = t.measure
    test = m.describe()
    if m.kind == "control":
        if status == 2:
            return "controlled by a blocked party"
        if status == 1:
            return "a party that may be blocked (or of unknown identity) controls it"
        return "no control statement by a blocked party"
    if status == 2:
        over = t.blocked_low - m.threshold
        return (
            f"blocked holders hold {_pct(t.blocked_low)} by {m.kind}: "
            f"{_pct(max(over, 0.0))} above the threshold ({test})"
        )
    if m.indirect and status == 1:
        return (
            f"blocked holders are stated to hold up to {_pct(t.blocked_high)} by {m.kind} "
            "indirectly, through entities not known to be blocked: blocked if those are "
            f"(threshold {test})"
        )
    if status == 1:
        parts = []
        if t.crosses(min(t.blocked_high, t.upper)) and not t.crosses(t.blocked_low):
            parts.append(
                f"blocked holders hold {_pct(t.blocked_low)}-{_pct(t.blocked_high)}: "
                "blocked if the range's top is true"
            )
        if t.unknown_high > 0:
            parts.append(
                f"a holder of unknown identity of up to {_pct(t.unknown_high)} could bring "
                f"blocked {m.kind} to {_pct(t.upper)}"
            )
        if not parts:
            parts.append(
                f"holders that may be blocked could bring blocked {m.kind} to {_pct(t.upper)}"
            )
        return "; ".join(parts) + f" (threshold {test})"
    if t.upper <= 0:
        return f"no {m.kind} held by blocked parties or parties of unknown identity"
    who = "blocked holders" + (" and holders of unknown identity" if t.unknown_high > 0 else "")
    return (
        f"{who} hold at most {_pct(t.upper)} by {m.kind}: "
        f"{_pct(m.threshold - t.upper)} below the threshold ({test})"
    )


class ControlResult:
    """Statuses of every party of an :func:`assess` run, and their explanations."""

    def __init__(
        self,
        regime: Regime,
        as_of: date,
        ids: list[str],
        relations: list[Relation],
        engine: ControlEngine,
        listed: BoolArray,
        per_party: PerPartyControl | None = None,
    ) -> None:
        self.regime = regime
        self.as_of = as_of
        self._ids = ids
        self._index = {node: i for i, node in enumerate(ids)}
        self._relations = relations
        self._engine = engine
        self._listed = listed
        self._per_party = per_party
        self._codes = engine.fixpoint()

    def status(self, node_id: str) -> Status:
        i = self._index.get(node_id)
        return "not_blocked" if i is None else STATUS_NAMES[int(self._codes[i])]

    def statuses(self) -> dict[str, Status]:
        """Every party that is blocked (listed or not) or possibly blocked."""
        return {
            self._ids[i]: STATUS_NAMES[int(self._codes[i])]
            for i in np.flatnonzero(self._codes > 0).tolist()
        }

    def blocked_unlisted(self) -> list[str]:
        """Parties blocked by ownership or control that no list names, sorted."""
        hits = np.flatnonzero((self._codes == 2) & ~self._listed).tolist()
        return sorted(self._ids[i] for i in hits)

    def possibly_blocked(self) -> list[str]:
        return sorted(self._ids[i] for i in np.flatnonzero(self._codes == 1).tolist())

    def exposure(self, node_id: str) -> Exposure:
        r = self.regime
        i = self._index.get(node_id)
        first = r.measures[0]
        if i is None:
            return Exposure(
                node_id, r.name, self.as_of, "not_blocked", False, Share(0.0, 0.0),
                first.threshold, first.describe(), r.rule, r.citation, r.url,
                "no holdings in force on this day under this regime",
            )  # fmt: skip
        code = int(self._codes[i])
        listed = bool(self._listed[i])
        controller = None
        if self._per_party is not None:
            d = self._per_party.controller(i)
            controller = None if d is None else ("<unknown holder>" if d < 0 else self._ids[d])
        if listed:
            return Exposure(
                node_id, r.name, self.as_of, "blocked", True, Share(1.0, 1.0),
                first.threshold, first.describe(), r.rule, r.citation, r.url,
                "listed itself", (), controller,
            )  # fmt: skip
        tally = _pick(self._engine.tallies(i), code)
        # Rounded to the comparison tolerance: 1 - 0.55 is 0.45, not 0.44999999999999996.
        low = round(min(max(tally.blocked_low, 0.0), 1.0), 9)
        high = round(min(max(tally.upper, low), 1.0), 9)
        steps = tuple(self._step(e) for e in self._engine.chain(i))
        return Exposure(
            node_id, r.name, self.as_of, STATUS_NAMES[code], False, Share(low, high),
            tally.measure.threshold, tally.measure.describe(), r.rule, r.citation, r.url,
            _margin(tally, code), steps, controller,
        )  # fmt: skip

    def _step(self, e: int) -> ChainStep:
        rel = self._relations[e]
        h = self._index[rel.holder]
        share = (
            "control"
            if rel.kind == "control"
            else (rel.share.describe() if rel.share else "unknown share")
        )
        return ChainStep(
            rel.id, rel.kind, rel.holder, rel.held, share,
            STATUS_NAMES[int(self._codes[h])], bool(self._listed[h]), rel.direct,
            rel.source_ref, rel.start, rel.end,
        )  # fmt: skip


def assess(
    relations: Sequence[Relation],
    listed: Collection[str],
    regime: RegimeName,
    *,
    as_of: date,
    unknown: Collection[str] = (),
) -> ControlResult:
    """Who is blocked by ownership or control under ``regime`` on ``as_of``: the
    relations in force that day (:meth:`Relation.valid_on`) of the kinds the regime
    counts (OFAC: ownership only; EU and UK: ownership, voting rights and control),
    ``listed`` the ids of listed parties, ``unknown`` the ids of holders of unknown
    identity (they may be anyone, a listed party included). Pass current statements
    only (drop those a later statement replaces). A holding stated as indirect
    (``Relation.direct is False``) can make a party possibly blocked, never blocked: it
    does not say whether the entities it passes through are themselves blocked, and
    adding it to theirs would count the same shares twice."""
    rules = REGIME_RULES[regime]
    kinds = rules.kinds
    # A holding stated as indirect restates, multiplied or not, what passes through
    # entities in between: added to the direct holdings it would count twice, and it
    # does not say whether those entities are blocked. It counts as its own measure,
    # for the possible set only (low 0): "possibly blocked, if the intermediaries are".
    measures = [*rules.measures, *(m.as_indirect() for m in rules.measures if m.capped)]
    group_of = {(m.kind, m.indirect): gi for gi, m in enumerate(measures)}
    kept = [r for r in relations if r.kind in kinds and r.valid_on(as_of)]
    index: dict[str, int] = {}
    for r in kept:
        index.setdefault(r.holder, len(index))
        index.setdefault(r.held, len(index))
    for node in (*listed, *unknown):
        index.setdefault(node, len(index))
    n = len(index)
    m = len(kept)
    holder = np.fromiter((index[r.holder] for r in kept), dtype=np.int64, count=m)
    held = np.fromiter((index[r.held] for r in kept), dtype=np.int64, count=m)
    indirect = [r.direct is False and (r.kind, True) in group_of for r in kept]
    bounds = [share_bounds(r.share, r.kind) for r in kept]
    low = np.fromiter(
        (0.0 if ind else b[0] for b, ind in zip(bounds, indirect, strict=True)), np.float64, m
    )
    high = np.fromiter((b[1] for b in bounds), dtype=np.float64, count=m)
    group = np.fromiter(
        (group_of[(r.kind, ind)] for r, ind in zip(kept, indirect, strict=True)), np.int8, m
    )
    listed_arr = np.zeros(n, dtype=np.bool_)
    listed_arr[[index[x] for x in listed]] = True
    unknown_arr = np.zeros(n, dtype=np.bool_)
    unknown_arr[[index[x] for x in unknown]] = True
    ids = [""] * n
    for node, i in index.items():
        ids[i] = node
    args = (n, holder, held, low, high, listed_arr, unknown_arr)
    if rules.aggregate:
        engine: ControlEngine = OwnershipArrays(*args, group=group, measures=measures)
        return ControlResult(rules, as_of, ids, kept, engine, listed_arr)
    per_party = PerPartyControl(*args, group=group, measures=measures)
    return ControlResult(rules, as_of, ids, kept, per_party, listed_arr, per_party)
