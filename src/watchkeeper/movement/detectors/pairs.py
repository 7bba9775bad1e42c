"""The relational step of two-vessel events: points of different vessels in the same
time bin within a distance, found by joining on (time bin, grid cell) with the 26
neighbouring cells -- never by comparing all pairs. Expressible as one SQL join on
(bin, cell) too, which is how Spark would run it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.movement.detectors.base import Points
from watchkeeper.movement.geo import (
    FloatArray,
    IntArray,
    grid_cells,
    haversine_km,
    neighbour_offsets,
)


@dataclass
class Pairs:
    """Index pairs into a ``Points`` (``i`` has the lower MMSI) and their distance, km."""

    i: IntArray
    j: IntArray
    km: FloatArray

    def __len__(self) -> int:
        return int(self.i.size)


def close_pairs(points: Points, max_km: float, left: IntArray | None = None) -> Pairs:
    """Every pair of points of two different vessels in the same bin at most
    ``max_km`` apart. With ``left``, only pairs involving one of those point indices."""
    n = len(points)
    empty = Pairs(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    if n < 2:
        return empty
    cell = grid_cells(points.lat, points.lon, max_km)
    ucells = np.unique(cell)
    ncell = np.int64(ucells.size)
    cid = np.searchsorted(ucells, cell).astype(np.int64)
    brel = points.bin - points.bin.min()
    key = brel * ncell + cid
    order = np.argsort(key, kind="stable")
    skey = key[order]
    queries = np.arange(n, dtype=np.int64) if left is None else np.unique(left)
    qcell, qbin = cell[queries], brel[queries]
    found_i: list[IntArray] = []
    found_j: list[IntArray] = []
    for off in neighbour_offsets():
        nb = qcell + off
        pos = np.searchsorted(ucells, nb)
        ok = pos < ucells.size
        ok[ok] = ucells[pos[ok]] == nb[ok]
        if not ok.any():
            continue
        qi = queries[ok]
        qk = qbin[ok] * ncell + pos[ok]
        lo = np.searchsorted(skey, qk, side="left")
        hi = np.searchsorted(skey, qk, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if total == 0:
            continue
        starts = np.repeat(lo, counts)
        within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        found_i.append(np.repeat(qi, counts))
        found_j.append(order[starts + within])
    if not found_i:
        return empty
    i = np.concatenate(found_i)
    j = np.concatenate(found_j)
    mi, mj = points.mmsi[i], points.mmsi[j]
    if left is None:
        # Every unordered pair is found from both ends: keep it once, lower MMSI first.
        keep = mi < mj
        i, j = i[keep], j[keep]
    else:
        keep = mi != mj
        i, j = i[keep], j[keep]
        swap = points.mmsi[i] > points.mmsi[j]
        i, j = np.where(swap, j, i), np.where(swap, i, j)
        if i.size:
            uniq = np.unique(np.stack([i, j], axis=1), axis=0)
            i, j = uniq[:, 0], uniq[:, 1]
    km = haversine_km(points.lat[i], points.lon[i], points.lat[j], points.lon[j])
    keep = km <= max_km
    return Pairs(i[keep], j[keep], km[keep])


@dataclass
class Run:
    """Consecutive bins in which one pair of vessels stayed together."""

    a: int  # MMSI
    b: int
    first_bin: int
    last_bin: int
    rows: IntArray  # indices into the Pairs it came from


def pair_runs(points: Points, pairs: Pairs, max_skip_bins: int = 1) -> list[Run]:
    """Group pairs by (vessel a, vessel b) into runs of bins at most ``max_skip_bins``
    apart (1: strictly consecutive bins)."""
    if len(pairs) == 0:
        return []
    a = points.mmsi[pairs.i]
    b = points.mmsi[pairs.j]
    t = points.bin[pairs.i]
    order = np.lexsort((t, b, a))
    a, b, t = a[order], b[order], t[order]
    brk = np.ones(order.size, dtype=bool)
    brk[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1]) | (t[1:] - t[:-1] > max_skip_bins)
    starts = np.flatnonzero(brk)
    stops = np.r_[starts[1:], order.size]
    return [
        Run(int(a[s]), int(b[s]), int(t[s]), int(t[e - 1]), order[s:e])
        for s, e in zip(starts, stops, strict=True)
    ]
