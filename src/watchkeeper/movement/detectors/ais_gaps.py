"""AIS gaps: consecutive reports of one vessel more than ``min_gap_hours`` apart.

A silence is a gap only within one continuous observation: at most
``max_gap_hours`` long (two sample files years apart are not a vessel going dark),
and only where the receivers kept hearing other vessels around both ends while this
one was silent (``References.coverage``: no stretch of more than
``max_area_silence_hours`` empty hours within one degree). A receiver that stopped, or
a feed that ended, silences its whole area, so its silence is not the vessel's.

Each gap gives its start and end positions, the implied speed across it and the
distance from shore at both ends. GFW's definition of *suspected disabling*: the
gap lasts at least 12 h and both ends are more than 50 nm from shore (where
reception is good, so silence is more likely a transponder switched off). A
draught change across the gap (static reports before and after) hints at cargo
loaded or discharged while dark. The coastline grid gives negative distances on land
(a port basin or river smaller than its 0.1-degree cells): such an end counts as 0 nm
from shore and is flagged ``start_on_land``/``end_on_land``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import (
    ReceptionCoverage,
    References,
    hours,
    params_dict,
)
from watchkeeper.movement.geo import KM_PER_NM, haversine_km
from watchkeeper.movement.tracks import Track, to_datetime

EVENT_TYPE = "ais_gap"


@dataclass(frozen=True)
class AisGapParams:
    min_gap_hours: float = 6.0
    max_gap_hours: float = 14 * 24.0  # longer: not one continuous observation
    max_area_silence_hours: float = 3.0  # empty hours within 1 degree of either end
    disabling_min_hours: float = 12.0
    disabling_shore_nm: float = 50.0
    min_draught_change_m: float = 0.1
    score_gap: float = 0.4
    score_disabling: float = 0.8
    score_draught_bonus: float = 0.15


def _draughts(track: Track, t0: float, t1: float) -> tuple[int, int] | None:
    """Static reports with the last draught at or before ``t0`` and the first at or
    after ``t1`` (indices into ``track.static``)."""
    s = track.static
    ok = np.flatnonzero(~np.isnan(s.t) & ~np.isnan(s.draught) & (s.draught > 0))
    if ok.size == 0:
        return None
    before = ok[s.t[ok] <= t0]
    after = ok[s.t[ok] >= t1]
    if before.size == 0 or after.size == 0:
        return None
    return int(before[-1]), int(after[0])


def _area_heard(track: Track, a: int, coverage: ReceptionCoverage, params: AisGapParams) -> bool:
    """Whether others kept being heard around both ends of the silence after ``a``."""
    t0, t1 = float(track.t[a]), float(track.t[a + 1])
    return all(
        coverage.longest_silence_hours(float(track.lat[i]), float(track.lon[i]), t0, t1)
        <= params.max_area_silence_hours
        for i in (a, a + 1)
    )


def find_gaps(track: Track, refs: References, params: AisGapParams) -> list[Event]:
    """One ``ais_gap`` event per silence of this vessel that is a gap (see the module)."""
    if len(track) < 2:
        return []
    dt = np.diff(track.t)
    at = np.flatnonzero((dt > params.min_gap_hours * 3600) & (dt <= params.max_gap_hours * 3600))
    if refs.coverage is not None and at.size:
        heard = [_area_heard(track, int(a), refs.coverage, params) for a in at]
        at = at[np.asarray(heard, dtype=bool)]
    if at.size == 0:
        return []
    ends = at + 1
    km = haversine_km(track.lat[at], track.lon[at], track.lat[ends], track.lon[ends])
    shore = refs.shore.nm(
        np.r_[track.lat[at], track.lat[ends]], np.r_[track.lon[at], track.lon[ends]]
    )
    on_land = shore < 0
    shore = np.maximum(shore, 0.0)
    shore_a, shore_b = shore[: at.size], shore[at.size :]
    land_a, land_b = on_land[: at.size], on_land[at.size :]
    events = []
    for k, (a_, b_) in enumerate(zip(at, ends, strict=True)):
        a, b = int(a_), int(b_)
        gap_s = float(dt[a])
        speed_kn = float(km[k] / KM_PER_NM / (gap_s / 3600.0))
        sa, sb = float(shore_a[k]), float(shore_b[k])
        disabling = (
            gap_s >= params.disabling_min_hours * 3600
            and sa > params.disabling_shore_nm
            and sb > params.disabling_shore_nm
        )
        score = params.score_disabling if disabling else params.score_gap
        detail = (
            f"No AIS for {hours(gap_s)} h from {to_datetime(track.t[a]):%Y-%m-%d %H:%M} "
            f"to {to_datetime(track.t[b]):%Y-%m-%d %H:%M} UTC; {km[k]:.1f} km between the "
            f"last and next report (implied {speed_kn:.1f} kn); {sa:.0f} nm and {sb:.0f} nm "
            "from shore"
        )
        land = [w for w, flag in (("last", land_a[k]), ("next", land_b[k])) if flag]
        if land:
            detail += f" ({' and '.join(land)} report on land or inland water)"
        if disabling:
            detail += (
                f"; suspected disabling (>= {params.disabling_min_hours:g} h, both ends "
                f"> {params.disabling_shore_nm:g} nm from shore)"
            )
        evidence = list(track.evidence([a, b]))
        draught: dict[str, float] = {}
        found = _draughts(track, track.t[a], track.t[b])
        if found is not None:
            d0, d1 = (float(track.static.draught[i]) for i in found)
            if abs(d1 - d0) >= params.min_draught_change_m:
                draught = {"draught_before_m": d0, "draught_after_m": d1}
                detail += f"; draught {d0:g} m before, {d1:g} m after"
                score = min(1.0, score + params.score_draught_bonus)
                evidence += [f"ais:{int(track.static.msg_id[i])}" for i in found]
        events.append(
            Event(
                type=EVENT_TYPE,
                subjects=refs.subjects(track.mmsi),
                start=to_datetime(track.t[a]),
                end=to_datetime(track.t[b]),
                score=score,
                detail=detail,
                evidence=tuple(evidence),
                lat=float(track.lat[a]),
                lon=float(track.lon[a]),
                params=params_dict(
                    params,
                    gap_h=hours(gap_s),
                    distance_km=round(float(km[k]), 3),
                    implied_speed_kn=round(speed_kn, 2),
                    start_lat=float(track.lat[a]),
                    start_lon=float(track.lon[a]),
                    end_lat=float(track.lat[b]),
                    end_lon=float(track.lon[b]),
                    start_shore_nm=round(sa, 1),
                    end_shore_nm=round(sb, 1),
                    start_on_land=bool(land_a[k]),
                    end_on_land=bool(land_b[k]),
                    suspected_disabling=disabling,
                    **draught,
                ),
            )
        )
    return events


@dataclass
class AisGaps:
    params: AisGapParams = AisGapParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def detect(self, track: Track, refs: References) -> list[Event]:
        return find_gaps(track, refs, self.params)
