"""Port calls at World Port Index ports (GFW-style port visits).

A vessel enters a port when it comes within ``entry_km`` (3 km) of the port and
leaves when it is more than ``exit_km`` (4 km) from every port: the hysteresis
keeps a ship swinging at anchor near the line from making many visits. A visit
counts as a port call when the vessel stopped (speed < ``stop_kn``, 0.2 kn)
during it. Calls at ports of a sanctioned country (settings
``sanctioned_countries``) score high.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import References, hours, params_dict
from watchkeeper.movement.ports import Port
from watchkeeper.movement.tracks import Track, to_datetime

EVENT_TYPE = "port_call"


@dataclass(frozen=True)
class PortCallParams:
    entry_km: float = 3.0
    exit_km: float = 4.0
    stop_kn: float = 0.2
    require_stop: bool = True
    # One stopped fix inside a port is a sighting, not a call: a call needs a stay.
    min_stopped_reports: int = 2
    score_sanctioned: float = 0.9
    score_other: float = 0.3


@dataclass
class Visit:
    """One stay inside a port's radius: positions ``first..last`` of the track."""

    port: Port
    first: int
    last: int
    stop_seconds: float
    stops: int  # positions below the stop speed
    closest_km: float
    sanctioned: bool
    open_start: bool  # the track begins inside the port
    open_end: bool  # the track ends inside the port


def find_visits(track: Track, refs: References, params: PortCallParams) -> list[Visit]:
    """Every stay of this track inside a port's radius, with or without a stop."""
    n = len(track)
    if n == 0:
        return []
    idx, dist = track.nearest_port(refs.ports, max_km=params.exit_km)
    # +1 entered, 0 left, -1 neither: the state is the last decisive value so far.
    decisive = np.where(dist < params.entry_km, 1, np.where(dist > params.exit_km, 0, -1))
    last = np.where(decisive >= 0, np.arange(n), -1)
    last = np.maximum.accumulate(last)
    inside = (last >= 0) & (decisive[np.maximum(last, 0)] == 1)
    if not inside.any():
        return []
    edges = np.diff(np.r_[0, inside.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1) - 1
    slow = track.sog < params.stop_kn  # NaN compares False
    dt_next = np.r_[np.diff(track.t), 0.0]
    visits = []
    for a, b in zip(starts, stops, strict=True):
        seg = slice(int(a), int(b) + 1)
        near = dist[seg]
        k = int(a) + int(np.argmin(near))
        port = refs.ports.ports[int(idx[k])]
        seg_slow = slow[seg]
        # Time stopped: intervals that start at a stopped report, within the visit.
        stop_s = float(np.sum(dt_next[int(a) : int(b)][slow[int(a) : int(b)]]))
        visits.append(
            Visit(
                port=port,
                first=int(a),
                last=int(b),
                stop_seconds=stop_s,
                stops=int(seg_slow.sum()),
                closest_km=float(near.min()),
                sanctioned=(port.country or "") in refs.sanctioned,
                open_start=int(a) == 0,
                open_end=int(b) == n - 1,
            )
        )
    return visits


def find_port_calls(
    track: Track, refs: References, params: PortCallParams | None = None
) -> list[Visit]:
    params = params or PortCallParams()
    visits = find_visits(track, refs, params)
    if params.require_stop:
        visits = [v for v in visits if v.stops >= max(1, params.min_stopped_reports)]
    return visits


def visit_event(track: Track, refs: References, v: Visit, params: PortCallParams) -> Event:
    port = v.port
    start, end = track.t[v.first], track.t[v.last]
    country = port.country.upper() if port.country else "?"
    detail = (
        f"Port call at {port.label()}: {to_datetime(start):%Y-%m-%d %H:%M} to "
        f"{to_datetime(end):%Y-%m-%d %H:%M} UTC ({hours(end - start)} h, "
        f"{v.stops} reports below {params.stop_kn} kn, closest {v.closest_km:.1f} km)"
    )
    if v.open_start or v.open_end:
        detail += (
            "; the track "
            + " and ".join(w for w, f in (("begins", v.open_start), ("ends", v.open_end)) if f)
            + " in port"
        )
    if v.sanctioned:
        detail += f"; {country} is a sanctioned country"
    return Event(
        type=EVENT_TYPE,
        subjects=refs.subjects(track.mmsi),
        start=to_datetime(start),
        end=to_datetime(end),
        score=params.score_sanctioned if v.sanctioned else params.score_other,
        detail=detail,
        evidence=track.span_evidence(v.first, v.last),
        lat=port.lat,
        lon=port.lon,
        params=params_dict(
            params,
            port_wpi=port.wpi,
            port_name=port.name,
            port_locode=port.locode,
            port_country=port.country,
            sanctioned=v.sanctioned,
            sanctioned_countries=sorted(refs.sanctioned),
            duration_h=hours(end - start),
            stopped_h=hours(v.stop_seconds),
            closest_km=round(v.closest_km, 3),
            open_start=v.open_start,
            open_end=v.open_end,
        ),
    )


@dataclass
class PortCalls:
    params: PortCallParams = PortCallParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def detect(self, track: Track, refs: References) -> list[Event]:
        return [
            visit_event(track, refs, v, self.params)
            for v in find_port_calls(track, refs, self.params)
        ]
