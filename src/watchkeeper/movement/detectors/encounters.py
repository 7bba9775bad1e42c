"""Encounters (possible ship-to-ship transfers), GFW's definition: two vessels within
500 m of each other for at least 2 h, both below 2 kn, at least 10 km from a port.

Each track is resampled to 10-minute bins (never interpolated across a gap of more
than 1 h); candidate bins are joined on (time bin, grid cell), never all pairs;
consecutive close bins make a run; runs of at least 2 h are encounters, and
encounters of the same pair less than 4 h apart are merged into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import Points, References, hours, params_dict
from watchkeeper.movement.detectors.pairs import Pairs, Run, close_pairs, pair_runs
from watchkeeper.movement.tracks import Track, resample, to_datetime

EVENT_TYPE = "encounter"


@dataclass(frozen=True)
class EncounterParams:
    max_distance_km: float = 0.5
    min_duration_hours: float = 2.0
    max_speed_kn: float = 2.0
    min_port_distance_km: float = 10.0
    bin_minutes: float = 10.0
    max_interpolation_gap_hours: float = 1.0
    merge_gap_hours: float = 4.0
    score: float = 0.7
    score_listed_bonus: float = 0.2


def select_points(
    track: Track,
    refs: References,
    *,
    bin_minutes: float,
    max_gap_hours: float,
    speed: tuple[float, float],
    min_port_km: float | None = None,
) -> Points:
    """A track's resampled bins with speed in ``[speed[0], speed[1])`` knots (and
    farther than ``min_port_km`` from any port)."""
    bin_s = bin_minutes * 60.0
    r = resample(track, bin_s, max_gap_hours * 3600.0)
    if len(r) == 0:
        return Points.empty()
    keep = (r.sog >= speed[0]) & (r.sog < speed[1])
    if min_port_km is not None and keep.any():
        idx = np.flatnonzero(keep)
        near, _ = refs.ports.nearest(r.lat[idx], r.lon[idx], max_km=min_port_km)
        keep[idx[near >= 0]] = False
    if not keep.any():
        return Points.empty()
    k = np.flatnonzero(keep)
    return Points(
        mmsi=np.full(k.size, track.mmsi, dtype=np.int64),
        bin=np.round(r.t[k] / bin_s).astype(np.int64),
        lat=r.lat[k],
        lon=r.lon[k],
        sog=r.sog[k],
        cog=r.cog[k],
        msg_id=track.msg_id[r.source[k]],
    )


def merge_runs(runs: list[Run], min_bins: int, merge_bins: int) -> list[list[Run]]:
    """Runs long enough, then those of one pair closer than ``merge_bins`` grouped."""
    long = sorted(
        (r for r in runs if r.last_bin - r.first_bin >= min_bins),
        key=lambda r: (r.a, r.b, r.first_bin),
    )
    groups: list[list[Run]] = []
    for r in long:
        prev = groups[-1][-1] if groups else None
        if prev and (prev.a, prev.b) == (r.a, r.b) and r.first_bin - prev.last_bin < merge_bins:
            groups[-1].append(r)
        else:
            groups.append([r])
    return groups


def group_evidence(
    points: Points, pairs: Pairs, group: list[Run], limit: int = 60
) -> tuple[str, ...]:
    rows = np.concatenate([r.rows for r in group])
    ids = np.unique(np.r_[points.msg_id[pairs.i[rows]], points.msg_id[pairs.j[rows]]])
    if ids.size > limit:
        ids = ids[np.unique(np.linspace(0, ids.size - 1, limit).round().astype(np.int64))]
    return tuple(f"ais:{int(m)}" for m in ids)


def pair_subjects(refs: References, a: int, b: int) -> tuple[str, ...]:
    out: list[str] = []
    for s in refs.subjects(a) + refs.subjects(b):
        if s not in out:
            out.append(s)
    return tuple(out)


@dataclass
class Encounters:
    params: EncounterParams = EncounterParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def select(self, track: Track, refs: References) -> Points:
        p = self.params
        return select_points(
            track,
            refs,
            bin_minutes=p.bin_minutes,
            max_gap_hours=p.max_interpolation_gap_hours,
            speed=(0.0, p.max_speed_kn),
            min_port_km=p.min_port_distance_km,
        )

    def detect(self, points: Points, refs: References) -> list[Event]:
        p = self.params
        pairs = close_pairs(points, p.max_distance_km)
        runs = pair_runs(points, pairs)
        bin_s = p.bin_minutes * 60.0
        groups = merge_runs(
            runs,
            min_bins=int(round(p.min_duration_hours * 3600 / bin_s)),
            merge_bins=int(round(p.merge_gap_hours * 3600 / bin_s)),
        )
        events = []
        for group in groups:
            a, b = group[0].a, group[0].b
            start, end = group[0].first_bin * bin_s, group[-1].last_bin * bin_s
            rows = np.concatenate([r.rows for r in group])
            together = sum(r.last_bin - r.first_bin for r in group) * bin_s
            lat = float(np.mean(points.lat[pairs.i[rows]]))
            lon = float(np.mean(points.lon[pairs.i[rows]]))
            subjects = pair_subjects(refs, a, b)
            listed = [s for s in subjects if not s.startswith(("mmsi:", "imo:"))]
            score = min(1.0, p.score + (p.score_listed_bonus if listed else 0.0))
            detail = (
                f"MMSI {a} and MMSI {b} within {p.max_distance_km * 1000:.0f} m "
                f"(median {np.median(pairs.km[rows]) * 1000:.0f} m), both below "
                f"{p.max_speed_kn:g} kn and over {p.min_port_distance_km:g} km from any port, "
                f"for {hours(together)} h between {to_datetime(start):%Y-%m-%d %H:%M} and "
                f"{to_datetime(end):%Y-%m-%d %H:%M} UTC"
            )
            if len(group) > 1:
                detail += (
                    f" ({len(group)} encounters less than {p.merge_gap_hours:g} h apart, merged)"
                )
            if listed:
                detail += f"; listed: {', '.join(listed)}"
            events.append(
                Event(
                    type=EVENT_TYPE,
                    subjects=subjects,
                    start=to_datetime(start),
                    end=to_datetime(end),
                    score=score,
                    detail=detail,
                    evidence=group_evidence(points, pairs, group),
                    lat=lat,
                    lon=lon,
                    params=params_dict(
                        p,
                        mmsi_a=a,
                        mmsi_b=b,
                        together_h=hours(together),
                        merged=len(group),
                        median_distance_m=round(float(np.median(pairs.km[rows])) * 1000, 1),
                    ),
                )
            )
        return events
