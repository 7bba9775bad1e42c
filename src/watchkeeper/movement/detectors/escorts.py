"""Escorts and convoys: two or more vessels moving together (both above 2 kn, on
similar courses, within a few km) for hours, at least one of them military or
law enforcement (AIS ship type 35 or 55, or linked to a listed naval vessel) --
"the flotillas are usually accompanied by naval vessels".

Same machinery as encounters: 10-minute bins, a (time bin, grid cell) join that
only starts from the guard vessels' points. ``prepare`` lets the other vessels
keep only bins near a guard (so memory does not grow with all moving traffic).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import Points, References, hours, params_dict
from watchkeeper.movement.detectors.encounters import (
    group_evidence,
    merge_runs,
    select_points,
)
from watchkeeper.movement.detectors.pairs import Pairs, Run, close_pairs, pair_runs
from watchkeeper.movement.geo import IntArray, grid_cells, neighbour_offsets
from watchkeeper.movement.tracks import Track, to_datetime

EVENT_TYPE = "escort"
_SCRATCH = "escort_neighbourhood"
_HASH = np.int64(1_000_003)


@dataclass(frozen=True)
class EscortParams:
    max_distance_km: float = 3.0
    min_speed_kn: float = 2.0
    max_course_diff_deg: float = 45.0
    min_duration_hours: float = 2.0
    bin_minutes: float = 10.0
    max_interpolation_gap_hours: float = 1.0
    merge_gap_hours: float = 1.0
    score: float = 0.6
    score_listed_bonus: float = 0.3


def _keys(points: Points, cell_km: float, offset: int = 0) -> IntArray:
    cells = grid_cells(points.lat, points.lon, cell_km) + offset
    return np.asarray(cells * _HASH + points.bin, dtype=np.int64)  # wraps; only a filter


def neighbourhood(guard_points: Points, params: EscortParams) -> IntArray:
    """Sorted keys of every (bin, cell) next to a guard vessel's point."""
    if len(guard_points) == 0:
        return np.empty(0, np.int64)
    parts = [_keys(guard_points, params.max_distance_km, off) for off in neighbour_offsets()]
    return np.unique(np.concatenate(parts))


@dataclass
class Escorts:
    params: EscortParams = EscortParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def _moving(self, track: Track, refs: References) -> Points:
        p = self.params
        return select_points(
            track,
            refs,
            bin_minutes=p.bin_minutes,
            max_gap_hours=p.max_interpolation_gap_hours,
            speed=(p.min_speed_kn, np.inf),
        )

    def prepare(self, guard_tracks: Sequence[Track], refs: References) -> None:
        """Remember where the guard vessels were, so ``select`` can drop the rest."""
        pts = Points.concat([self._moving(t, refs) for t in guard_tracks])
        refs.scratch[_SCRATCH] = neighbourhood(pts, self.params)

    def select(self, track: Track, refs: References) -> Points:
        pts = self._moving(track, refs)
        if len(pts) == 0 or refs.is_guard(track.mmsi) or _SCRATCH not in refs.scratch:
            return pts
        known: IntArray = refs.scratch[_SCRATCH]  # sorted, unique
        keys = _keys(pts, self.params.max_distance_km)
        pos = np.minimum(np.searchsorted(known, keys), max(known.size - 1, 0))
        near = known[pos] == keys if known.size else np.zeros(keys.size, dtype=bool)
        return pts.take(np.flatnonzero(near))

    def detect(self, points: Points, refs: References) -> list[Event]:
        p = self.params
        guards = {int(m): why for m in np.unique(points.mmsi) if (why := refs.is_guard(int(m)))}
        if not guards:
            return []
        left = np.flatnonzero(np.isin(points.mmsi, np.array(sorted(guards), dtype=np.int64)))
        pairs = close_pairs(points, p.max_distance_km, left=left)
        if len(pairs):
            diff = np.abs(((points.cog[pairs.i] - points.cog[pairs.j] + 540.0) % 360.0) - 180.0)
            ok = ~(diff > p.max_course_diff_deg)  # unknown course does not exclude
            pairs = Pairs(pairs.i[ok], pairs.j[ok], pairs.km[ok])
        bin_s = p.bin_minutes * 60.0
        groups = merge_runs(
            pair_runs(points, pairs),
            min_bins=int(round(p.min_duration_hours * 3600 / bin_s)),
            merge_bins=int(round(p.merge_gap_hours * 3600 / bin_s)) + 1,
        )
        return [self._convoy(c, points, pairs, refs, guards) for c in _convoys(groups, guards)]

    def _convoy(
        self,
        convoy: list[list[Run]],
        points: Points,
        pairs: Pairs,
        refs: References,
        guards: dict[int, str],
    ) -> Event:
        p = self.params
        bin_s = p.bin_minutes * 60.0
        runs = [r for g in convoy for r in g]
        vessels = sorted({m for r in runs for m in (r.a, r.b)})
        guard_ids = [m for m in vessels if m in guards]
        others = [m for m in vessels if m not in guards]
        ordered = guard_ids + others
        start = min(r.first_bin for r in runs) * bin_s
        end = max(r.last_bin for r in runs) * bin_s
        rows = np.concatenate([r.rows for r in runs])
        subjects: list[str] = []
        for m in ordered:
            subjects += [s for s in refs.subjects(m) if s not in subjects]
        listed = [s for s in subjects if not s.startswith(("mmsi:", "imo:"))]
        detail = (
            f"{len(vessels)} vessels moving together above {p.min_speed_kn:g} kn within "
            f"{p.max_distance_km:g} km for {hours(end - start)} h "
            f"({to_datetime(start):%Y-%m-%d %H:%M} to {to_datetime(end):%Y-%m-%d %H:%M} UTC): "
            + "; ".join(f"MMSI {m} {guards[m]}" for m in guard_ids)
            + (f"; accompanying MMSI {', '.join(map(str, others))}" if others else "")
        )
        if listed:
            detail += f"; listed: {', '.join(listed)}"
        return Event(
            type=EVENT_TYPE,
            subjects=tuple(subjects),
            start=to_datetime(start),
            end=to_datetime(end),
            score=min(1.0, p.score + (p.score_listed_bonus if listed else 0.0)),
            detail=detail,
            evidence=group_evidence(points, pairs, runs),
            lat=float(np.mean(points.lat[pairs.i[rows]])),
            lon=float(np.mean(points.lon[pairs.i[rows]])),
            params=params_dict(
                p,
                guards=guard_ids,
                vessels=vessels,
                median_distance_km=round(float(np.median(pairs.km[rows])), 3),
            ),
        )


def _convoys(groups: list[list[Run]], guards: dict[int, str]) -> list[list[list[Run]]]:
    """Pair escorts that share a vessel and overlap in time, joined into convoys."""
    spans = [(g[0].first_bin, g[-1].last_bin, {g[0].a, g[0].b}) for g in groups]
    parent = list(range(len(groups)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for x in range(len(groups)):
        for y in range(x + 1, len(groups)):
            sx, sy = spans[x], spans[y]
            if sx[2] & sy[2] and sx[0] <= sy[1] and sy[0] <= sx[1]:
                parent[find(x)] = find(y)
    out: dict[int, list[list[Run]]] = {}
    for x, g in enumerate(groups):
        out.setdefault(find(x), []).append(g)
    return list(out.values())
