"""Generated corporate ownership graphs shaped like real registers, for the graph
benchmark and the Spark parity test.

What a register looks like, and how each trait is made (all vectorised numpy, one seed):

- layers: ultimate owners (people, states, funds; level 0) over companies on levels
  1..10, each level smaller than the one above it, so chains run up to 10 deep;
- joint ownership: a company has 1 to 5 holders (mean about 2.5; a quarter are wholly
  or majority owned by one holder), shares drawn as a random split of a total of 60-100%
  (the rest is free float), so a company's known shares sum to at most 1; one 2-holder
  company in twenty is a 50/50 joint venture, exactly on the OFAC threshold;
- power-law holdings: a holder is picked within its level as ``floor(size * u**3)``, so
  the holder of rank k holds about k**-2/3 as many companies: a few big holding
  companies, a long tail of small ones;
- most holders sit on the level just above the company, 30% anywhere above it (a person
  holding a deep subsidiary directly), and 1% of holdings point back up or sideways
  (cross-holdings: cycles);
- ranges: 10% of shares are ranges (low < high, as "25-50%" in a register), 0.5% are of
  unknown size (0..1); 0.5% of the owners are unknown or anonymous holders;
- about 0.75% of the nodes are listed (blocked by name): three quarters drawn
  uniformly, a quarter in proportion to their holdings (the conglomerates).

Node ids are shuffled, so neighbours in the graph are not neighbours in memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

LEVELS = 10  # company levels below the ultimate owners: chains up to 10 deep
LEVEL_DECAY = 0.75  # each company level is this fraction of the one above it
OWNER_FRACTION = 0.35  # of all nodes, the ultimate owners (level 0)
HOLDERS_P = np.array([0.25, 0.30, 0.20, 0.15, 0.10])  # 1..5 holders per company
SKIP_LEVEL = 0.30  # holder on any level above, not just the one above
BACK_EDGE = 0.01  # holder on the same level or below: cross-holdings, cycles
RANGE = 0.10  # share stated as a range
UNKNOWN_SHARE = 0.005  # share of unknown size (0..1)
UNKNOWN_HOLDER = 0.005  # of the ultimate owners, unknown or anonymous
LISTED = 0.0075  # of all nodes, listed
POWER = 3.0  # holder rank = floor(size * u**POWER): degree of rank k ~ k**-(1 - 1/POWER)


@dataclass(frozen=True)
class OwnershipGraph:
    """Edge arrays (``holder[i]`` holds ``low[i]..high[i]`` of ``held[i]``) over nodes
    ``0..n-1``, with the listed and unknown-holder flags per node, and each node's level
    (0: ultimate owner)."""

    n: int
    holder: NDArray[np.int64]
    held: NDArray[np.int64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    listed: NDArray[np.bool_]
    unknown: NDArray[np.bool_]
    level: NDArray[np.int8]

    @property
    def edges(self) -> int:
        return int(self.holder.size)

    def arrays(
        self,
    ) -> tuple[
        int,
        NDArray[np.int64],
        NDArray[np.int64],
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.bool_],
        NDArray[np.bool_],
    ]:
        """The arguments of ``ofac_fixpoint(n, holder, held, low, high, listed, unknown)``."""
        return self.n, self.holder, self.held, self.low, self.high, self.listed, self.unknown


def generate(edges: int, seed: int = 0) -> OwnershipGraph:
    """A register-shaped ownership graph with exactly ``edges`` holdings."""
    if edges < 1:
        raise ValueError("edges must be at least 1")
    rng = np.random.default_rng(seed)
    mean_holders = float((np.arange(1, 6) * HOLDERS_P).sum())
    companies = int(edges / mean_holders * 1.02) + 64
    per_level = LEVEL_DECAY ** np.arange(LEVELS)
    level_size = np.maximum(1, np.round(companies * per_level / per_level.sum())).astype(np.int64)
    owners = max(1, int(round(companies * OWNER_FRACTION / (1 - OWNER_FRACTION))))
    sizes = np.concatenate([[owners], level_size])  # level 0..LEVELS
    start = np.concatenate([[0], np.cumsum(sizes)])  # first (unshuffled) id of each level
    n = int(start[-1])
    level = np.repeat(np.arange(LEVELS + 1, dtype=np.int8), sizes)

    # Holders per company, then cut to exactly `edges` holdings (the last company keeps
    # only its first holders: its shares still sum to at most 1).
    company_ids = np.arange(owners, n, dtype=np.int64)
    k = rng.choice(np.arange(1, 6), size=company_ids.size, p=HOLDERS_P)
    if int(k.sum()) < edges:  # 2% spare companies: 30 standard deviations at 10k edges
        raise ValueError(f"seed {seed} drew too few holdings for {edges}")
    held = np.repeat(company_ids, k)[:edges]
    first = np.concatenate([[True], held[1:] != held[:-1]])
    group = np.cumsum(first) - 1  # index of each edge's company run
    run_start = np.flatnonzero(first)
    run_len = np.diff(np.concatenate([run_start, [edges]]))

    # Shares: a random split of a total of 60-100% (100% for a third of sole holdings),
    # 50/50 for one 2-holder company in twenty.
    weight = rng.exponential(size=edges)
    total = rng.uniform(0.6, 1.0, size=run_start.size)
    total[(run_len == 1) & (rng.random(run_start.size) < 1 / 3)] = 1.0
    share = weight / np.add.reduceat(weight, run_start)[group] * total[group]
    joint_venture = (run_len == 2) & (rng.random(run_start.size) < 0.05)
    share[joint_venture[group]] = 0.5

    # Holders: the level above (or any above; or, rarely, the same level or below),
    # ranked by a power law within that level.
    held_level = level[held].astype(np.int64)
    holder_level = held_level - 1
    skip = rng.random(edges) < SKIP_LEVEL
    holder_level[skip] = (rng.random(int(skip.sum())) * held_level[skip]).astype(np.int64)
    back = rng.random(edges) < BACK_EDGE
    holder_level[back] = rng.integers(1, LEVELS + 1, size=int(back.sum()))
    holder = start[holder_level] + (sizes[holder_level] * rng.random(edges) ** POWER).astype(
        np.int64
    )
    # The same holder twice in a company stays: a register can state two holdings
    # (different share classes); the rule sums them.

    low = share.copy()
    high = share.copy()
    ranged = (rng.random(edges) < RANGE) & ~joint_venture[group]
    low[ranged] = share[ranged] * rng.uniform(0.5, 1.0, size=int(ranged.sum()))
    high[ranged] = np.minimum(1.0, share[ranged] * rng.uniform(1.0, 1.6, size=int(ranged.sum())))
    vague = rng.random(edges) < UNKNOWN_SHARE
    low[vague], high[vague] = 0.0, 1.0

    unknown = np.zeros(n, dtype=np.bool_)
    unknown[:owners] = rng.random(owners) < UNKNOWN_HOLDER
    # Listed: most drawn uniformly, a quarter by holdings (sanctions name the
    # conglomerates: state holding companies and their big subsidiaries).
    listed = rng.random(n) < LISTED * 0.75
    degree = np.bincount(holder, minlength=n).astype(np.float64)
    big = rng.choice(n, size=int(n * LISTED * 0.25), p=degree / degree.sum())
    listed[big] = True
    listed &= ~unknown

    # Shuffle ids: neighbours in the graph are not neighbours in memory.
    perm = rng.permutation(n).astype(np.int64)  # old id -> new id
    new_listed = np.empty_like(listed)
    new_listed[perm] = listed
    new_unknown = np.empty_like(unknown)
    new_unknown[perm] = unknown
    new_level = np.empty_like(level)
    new_level[perm] = level
    order = rng.permutation(edges)  # edges in no particular order either
    return OwnershipGraph(
        n=n,
        holder=perm[holder][order],
        held=perm[held][order],
        low=low[order],
        high=high[order],
        listed=new_listed,
        unknown=new_unknown,
        level=new_level,
    )
