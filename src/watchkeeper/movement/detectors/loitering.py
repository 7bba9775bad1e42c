"""Loitering (GFW): a vessel moving slower than 2 kn for at least 4 h while at least
20 nm from shore -- waiting for a transfer, or drifting to hide one. A stretch ends
at a report gap longer than ``max_gap_hours`` (the gap detector covers those)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import References, hours, params_dict
from watchkeeper.movement.geo import KM_PER_NM, haversine_km
from watchkeeper.movement.tracks import Track, to_datetime

EVENT_TYPE = "loitering"


@dataclass(frozen=True)
class LoiteringParams:
    max_speed_kn: float = 2.0
    min_duration_hours: float = 4.0
    min_shore_nm: float = 20.0
    max_gap_hours: float = 6.0
    score: float = 0.5


def speeds(track: Track) -> np.ndarray:
    """Reported speed, or where it is missing the implied speed to the next report."""
    sog = track.sog.copy()
    missing = np.isnan(sog)
    if missing.any() and len(track) > 1:
        km = haversine_km(track.lat[:-1], track.lon[:-1], track.lat[1:], track.lon[1:])
        dt = np.diff(track.t)
        implied = np.r_[km / KM_PER_NM / np.maximum(dt / 3600.0, 1e-9), np.nan]
        implied[-1] = implied[-2]
        sog[missing] = implied[missing]
    return sog


def runs(mask: np.ndarray, breaks: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) indices of runs of True in ``mask``; a run also ends where
    ``breaks[i]`` is True (a break between i-1 and i)."""
    start = mask & ~np.r_[False, mask[:-1] & ~breaks[1:]]
    stop = mask & ~np.r_[mask[1:] & ~breaks[1:], False]
    return list(zip(np.flatnonzero(start).tolist(), np.flatnonzero(stop).tolist(), strict=True))


def find_loitering(track: Track, refs: References, params: LoiteringParams) -> list[Event]:
    n = len(track)
    if n < 2:
        return []
    sog_all = speeds(track)
    slow = sog_all < params.max_speed_kn
    if not slow.any():
        return []
    breaks = np.r_[False, np.diff(track.t) > params.max_gap_hours * 3600]
    # Distance from shore only where a slow stretch is already long enough.
    long_enough = np.zeros(n, dtype=bool)
    for a, b in runs(slow, breaks):
        if track.t[b] - track.t[a] >= params.min_duration_hours * 3600:
            long_enough[a : b + 1] = True
    if not long_enough.any():
        return []
    far = np.zeros(n, dtype=bool)
    idx = np.flatnonzero(long_enough)
    shore = np.full(n, np.nan)
    shore[idx] = refs.shore.nm(track.lat[idx], track.lon[idx])
    far[idx] = shore[idx] >= params.min_shore_nm
    events = []
    for a, b in runs(far, breaks):
        duration = track.t[b] - track.t[a]
        if duration < params.min_duration_hours * 3600:
            continue
        seg = slice(a, b + 1)
        sog = sog_all[seg]
        lat, lon = float(np.mean(track.lat[seg])), float(np.mean(track.lon[seg]))
        drift_km = float(haversine_km(track.lat[a], track.lon[a], track.lat[b], track.lon[b]))
        events.append(
            Event(
                type=EVENT_TYPE,
                subjects=refs.subjects(track.mmsi),
                start=to_datetime(track.t[a]),
                end=to_datetime(track.t[b]),
                score=params.score,
                detail=(
                    f"Below {params.max_speed_kn:g} kn for {hours(duration)} h "
                    f"(mean {np.nanmean(sog):.2f} kn), {np.nanmin(shore[seg]):.0f} nm or more "
                    f"from shore, {drift_km:.1f} km from first to last report"
                ),
                evidence=track.span_evidence(a, b),
                lat=lat,
                lon=lon,
                params=params_dict(
                    params,
                    duration_h=hours(duration),
                    mean_speed_kn=round(float(np.nanmean(sog)), 2),
                    min_shore_nm=round(float(np.nanmin(shore[seg])), 1),
                    reports=b - a + 1,
                ),
            )
        )
    return events


@dataclass
class Loitering:
    params: LoiteringParams = LoiteringParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def detect(self, track: Track, refs: References) -> list[Event]:
        return find_loitering(track, refs, self.params)
