"""Voyages between consecutive port calls of one vessel, and the "voyage
irregularity" view: a voyage that starts or ends at a port of a sanctioned
country links that call to the other port. AIS gaps during the voyage are counted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import References, hours, params_dict
from watchkeeper.movement.detectors.port_calls import PortCallParams, Visit, find_port_calls
from watchkeeper.movement.geo import haversine_km
from watchkeeper.movement.tracks import Track, to_datetime

EVENT_TYPE = "voyage"


@dataclass(frozen=True)
class VoyageParams:
    port_calls: PortCallParams = PortCallParams()
    gap_hours: float = 6.0  # report gaps counted as "dark" stretches of the voyage
    score_sanctioned: float = 0.8
    score_other: float = 0.2


def _voyage(track: Track, refs: References, dep: Visit, arr: Visit, params: VoyageParams) -> Event:
    a, b = dep.last, arr.first
    start, end = track.t[a], track.t[b]
    dt = np.diff(track.t[a : b + 1])
    gaps = int(np.sum(dt > params.gap_hours * 3600))
    km = float(
        np.sum(
            haversine_km(
                track.lat[a:b], track.lon[a:b], track.lat[a + 1 : b + 1], track.lon[a + 1 : b + 1]
            )
        )
    )
    linked = dep.sanctioned or arr.sanctioned
    detail = (
        f"Voyage {dep.port.label()} -> {arr.port.label()}: departed "
        f"{to_datetime(start):%Y-%m-%d %H:%M}, arrived {to_datetime(end):%Y-%m-%d %H:%M} UTC "
        f"({hours(end - start)} h, {km:.0f} km reported track"
        + (f", {gaps} AIS gap(s) over {params.gap_hours:g} h" if gaps else "")
        + ")"
    )
    if linked:
        which = [
            f"{p.port.country.upper() if p.port.country else '?'} ({role})"
            for p, role in ((dep, "origin"), (arr, "destination"))
            if p.sanctioned
        ]
        detail += f"; links a sanctioned-country port call: {', '.join(which)}"
    mid = np.array([a, b, (a + b) // 2])
    return Event(
        type=EVENT_TYPE,
        subjects=refs.subjects(track.mmsi),
        start=to_datetime(start),
        end=to_datetime(end),
        score=params.score_sanctioned if linked else params.score_other,
        detail=detail,
        evidence=track.evidence(np.r_[mid, np.arange(a, b + 1)], limit=40),
        lat=dep.port.lat,
        lon=dep.port.lon,
        params=params_dict(
            params,
            origin_wpi=dep.port.wpi,
            origin=dep.port.name,
            origin_country=dep.port.country,
            origin_sanctioned=dep.sanctioned,
            destination_wpi=arr.port.wpi,
            destination=arr.port.name,
            destination_country=arr.port.country,
            destination_sanctioned=arr.sanctioned,
            duration_h=hours(end - start),
            track_km=round(km, 1),
            gaps=gaps,
            sanctioned_countries=sorted(refs.sanctioned),
        ),
    )


@dataclass
class Voyages:
    params: VoyageParams = VoyageParams()
    event_types: tuple[str, ...] = (EVENT_TYPE,)

    def detect(self, track: Track, refs: References) -> list[Event]:
        calls = find_port_calls(track, refs, self.params.port_calls)
        return [
            _voyage(track, refs, dep, arr, self.params)
            for dep, arr in zip(calls, calls[1:], strict=False)
            if arr.first > dep.last
        ]
