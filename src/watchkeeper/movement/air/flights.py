"""One aircraft's time-ordered state vectors -> flights, with departure and arrival airports.

A pure function over one aircraft's arrays (DESIGN: runs per subject locally, or per group
on Spark). The rules, each with its reason:

* **gaps**: the track is cut where no state was received for more than ``ground_gap_s``
  (15 min) when either side is on the ground or low (below ``low_altitude_ft`` above the
  nearest airport, or 5,000 ft when unknown), or when the aircraft covered the gap slower
  than ``min_gap_speed_kt`` (it most likely landed and took off again unseen), or when
  the gap is longer than ``max_gap_s`` (6 h). A silent stretch in cruise that ends far
  away stays inside the flight: that is a ``transponder_gap`` event, not two flights;
* **ground and air**: a flight is a run of airborne states; it starts at a take-off
  (ground -> air) or where the track begins, and ends at a landing or where it ends.
  Ground blips shorter than ``min_ground_s`` inside an airborne run (noisy ``onground``
  flags) are ignored. When a source gives no ``onground``, a state counts as on the
  ground when slower than 50 kt, level (under 300 ft/min) and at field elevation
  (within 500 ft of the nearest airport's);
* **airports**: the departure is the airport nearest the last ground state before take-off
  (within 5 km), or nearest the first airborne state when the track begins low (within
  15 km and below 3,000 ft above that airport); the arrival likewise at the other end;
  otherwise null (the aircraft was first or last seen in cruise).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.movement.air.airports import Airport, AirportIndex
from watchkeeper.movement.air.geodesy import KM_PER_NM, haversine_km

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FlightRules:
    """Thresholds of the flight splitter (seconds, feet, knots, km)."""

    ground_gap_s: float = 900.0
    max_gap_s: float = 6 * 3600.0
    min_gap_speed_kt: float = 150.0
    low_altitude_ft: float = 5000.0
    ground_speed_kt: float = 50.0
    level_fpm: float = 300.0
    field_margin_ft: float = 500.0  # pressure altitude on a runway is off by QNH: 1 hPa ~ 27 ft
    min_ground_s: float = 30.0
    min_airborne_s: float = 60.0
    min_points: int = 3
    ground_airport_km: float = 5.0
    air_airport_km: float = 15.0
    air_airport_ft: float = 3000.0
    path_points: int = 200


@dataclass
class Track:
    """One aircraft's states, time-ordered (internal units, see ``states``)."""

    icao24: str
    row_id: npt.NDArray[np.int64]
    time: FloatArray
    lat: FloatArray
    lon: FloatArray
    altitude_ft: FloatArray
    groundspeed_kt: FloatArray
    onground: npt.NDArray[np.int8]
    callsign: npt.NDArray[np.object_]
    vertical_rate_fpm: FloatArray

    def __len__(self) -> int:
        return len(self.time)

    def slice(self, lo: int, hi: int) -> Track:
        return Track(
            self.icao24,
            self.row_id[lo:hi],
            self.time[lo:hi],
            self.lat[lo:hi],
            self.lon[lo:hi],
            self.altitude_ft[lo:hi],
            self.groundspeed_kt[lo:hi],
            self.onground[lo:hi],
            self.callsign[lo:hi],
            self.vertical_rate_fpm[lo:hi],
        )


@dataclass
class AirportFix:
    """Why a flight's end is at an airport: which state, how far, on the ground or low."""

    airport: Airport
    distance_km: float
    row_id: int
    time: float
    on_ground: bool
    altitude_ft: float | None

    def detail(self, end: str) -> str:
        when = datetime.fromtimestamp(self.time, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        how = (
            "on the ground"
            if self.on_ground
            else f"at {self.altitude_ft:,.0f} ft"
            if self.altitude_ft is not None
            else "airborne"
        )
        verb = "before take-off" if end == "departure" else "after landing"
        if not self.on_ground:
            verb = "first seen" if end == "departure" else "last seen"
        return (
            f"{end} {self.airport.icao} ({self.airport.name}, {self.airport.country}): "
            f"{verb} {how} {self.distance_km:.1f} km from it at {when}"
        )


@dataclass
class Flight:
    """One flight of one aircraft. Times are epoch seconds UTC; distances km."""

    icao24: str
    callsign: str | None
    start: float
    end: float
    takeoff: float | None
    landing: float | None
    departure: AirportFix | None
    arrival: AirportFix | None
    first_row: int
    last_row: int
    n_points: int
    first_lat: float
    first_lon: float
    last_lat: float
    last_lon: float
    max_altitude_ft: float | None
    distance_km: float
    gc_km: float
    path: list[tuple[float, float]] = field(default_factory=list)
    callsigns: list[str] = field(default_factory=list)

    @property
    def flight_id(self) -> str:
        stamp = datetime.fromtimestamp(self.start, UTC).strftime("%Y%m%dT%H%M%SZ")
        return f"{self.icao24}-{stamp}"

    def to_dict(self) -> dict[str, Any]:
        def iso(t: float | None) -> str | None:
            return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()

        return {
            "flight_id": self.flight_id,
            "icao24": self.icao24,
            "callsign": self.callsign,
            "departure": self.departure.airport.icao if self.departure else None,
            "arrival": self.arrival.airport.icao if self.arrival else None,
            "start": iso(self.start),
            "end": iso(self.end),
            "takeoff": iso(self.takeoff),
            "landing": iso(self.landing),
            "n_points": self.n_points,
            "distance_km": round(self.distance_km, 1),
            "gc_km": round(self.gc_km, 1),
        }


def ground_flags(
    track: Track, rules: FlightRules, airports: AirportIndex | None = None
) -> npt.NDArray[np.bool_]:
    """On the ground: the source's flag when it gives one; otherwise slow (below
    ``ground_speed_kt``), neither climbing nor descending (under ``level_fpm``), and at field
    elevation (within ``field_margin_ft`` of the nearest airport's elevation, or below
    ``field_margin_ft`` when no airport is near or no altitude is given)."""
    known = track.onground >= 0
    slow = np.isfinite(track.groundspeed_kt) & (track.groundspeed_kt < rules.ground_speed_kt)
    vr = track.vertical_rate_fpm
    level = ~np.isfinite(vr) | (np.abs(vr) < rules.level_fpm)
    alt = track.altitude_ft
    at_field = ~np.isfinite(alt) | (alt < rules.field_margin_ft)
    if airports is not None:
        elevations: dict[tuple[float, float], float | None] = {}
        for i in np.flatnonzero(slow & level & ~at_field & ~known):
            key = (round(float(track.lat[i]), 2), round(float(track.lon[i]), 2))
            if key not in elevations:
                hit = airports.nearest(key[0], key[1], rules.ground_airport_km * 2)
                elevations[key] = hit[0].elevation_ft if hit else None
            elev = elevations[key]
            at_field[i] = elev is not None and alt[i] - elev < rules.field_margin_ft
    return np.where(known, track.onground == 1, slow & level & at_field)


def _low(track: Track, i: int, rules: FlightRules) -> bool:
    alt = track.altitude_ft[i]
    return bool(np.isfinite(alt) and alt < rules.low_altitude_ft)


def segment_bounds(
    track: Track, ground: npt.NDArray[np.bool_], rules: FlightRules
) -> list[tuple[int, int]]:
    """Index ranges [lo, hi) of the track between the gaps that cut it (see module doc)."""
    n = len(track)
    if n == 0:
        return []
    dt = np.diff(track.time)
    cuts: list[int] = []
    for i in np.flatnonzero(dt > rules.ground_gap_s):
        a, b = int(i), int(i) + 1
        gap = float(dt[i])
        if gap > rules.max_gap_s:
            cuts.append(b)
            continue
        if ground[a] or ground[b] or _low(track, a, rules) or _low(track, b, rules):
            cuts.append(b)
            continue
        km = float(haversine_km(track.lat[a], track.lon[a], track.lat[b], track.lon[b]))
        if km / KM_PER_NM / (gap / 3600.0) < rules.min_gap_speed_kt:
            cuts.append(b)
    bounds = [0, *cuts, n]
    return [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int, bool]]:
    """Maximal runs of equal values: (lo, hi, value)."""
    if len(mask) == 0:
        return []
    change = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    edges = [0, *change.tolist(), len(mask)]
    return [(edges[k], edges[k + 1], bool(mask[edges[k]])) for k in range(len(edges) - 1)]


def _smooth_ground(
    time: FloatArray, ground: npt.NDArray[np.bool_], rules: FlightRules
) -> npt.NDArray[np.bool_]:
    """Ground runs shorter than ``min_ground_s`` between airborne states count as airborne."""
    out = ground.copy()
    runs = _runs(ground)
    for k, (lo, hi, is_ground) in enumerate(runs):
        if not is_ground or k == 0 or k == len(runs) - 1:
            continue
        if time[hi - 1] - time[lo] < rules.min_ground_s:
            out[lo:hi] = False
    return out


def _airport_fix(
    track: Track, i: int, on_ground: bool, airports: AirportIndex, rules: FlightRules
) -> AirportFix | None:
    lat, lon = float(track.lat[i]), float(track.lon[i])
    alt = float(track.altitude_ft[i]) if np.isfinite(track.altitude_ft[i]) else None
    if on_ground:
        hit = airports.nearest(lat, lon, rules.ground_airport_km)
    else:
        hit = airports.nearest(lat, lon, rules.air_airport_km)
        if hit is not None and alt is not None and alt - hit[0].elevation_ft > rules.air_airport_ft:
            hit = None
        if hit is not None and alt is None:
            hit = None
    if hit is None:
        return None
    return AirportFix(hit[0], hit[1], int(track.row_id[i]), float(track.time[i]), on_ground, alt)


def _path(track: Track, lo: int, hi: int, points: int) -> list[tuple[float, float]]:
    idx = np.unique(np.linspace(lo, hi - 1, num=min(points, hi - lo)).round().astype(int))
    return [(round(float(track.lat[i]), 5), round(float(track.lon[i]), 5)) for i in idx]


def split_flights(
    track: Track, airports: AirportIndex, rules: FlightRules | None = None
) -> list[Flight]:
    """The flights in one aircraft's track (time-ordered, no repeated times)."""
    rules = rules or FlightRules()
    if len(track) == 0:
        return []
    ground = ground_flags(track, rules, airports)
    flights: list[Flight] = []
    for seg_lo, seg_hi in segment_bounds(track, ground, rules):
        seg = track.slice(seg_lo, seg_hi)
        g = _smooth_ground(seg.time, ground[seg_lo:seg_hi], rules)
        runs = _runs(g)
        for k, (lo, hi, is_ground) in enumerate(runs):
            if is_ground:
                continue
            if hi - lo < rules.min_points or seg.time[hi - 1] - seg.time[lo] < rules.min_airborne_s:
                continue
            # Taxi out: the ground run just before (its second half when it also ends the
            # previous flight); taxi in: the ground run just after (its first half).
            start, end = lo, hi
            if k > 0:
                g_lo, g_hi, _ = runs[k - 1]
                start = (g_lo + g_hi) // 2 if k > 1 else g_lo
            if k + 1 < len(runs):
                g_lo, g_hi, _ = runs[k + 1]
                end = (g_lo + g_hi + 1) // 2 if k + 2 < len(runs) else g_hi
            departure = (
                _airport_fix(seg, lo - 1, True, airports, rules)
                if lo > 0
                else _airport_fix(seg, lo, False, airports, rules)
            )
            arrival = (
                _airport_fix(seg, hi, True, airports, rules)
                if hi < len(seg)
                else _airport_fix(seg, hi - 1, False, airports, rules)
            )
            lat = seg.lat[start:end]
            lon = seg.lon[start:end]
            steps = (
                haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
                if end - start > 1
                else np.zeros(0)
            )
            alts = seg.altitude_ft[start:end]
            calls = [c for c in seg.callsign[start:end] if c]
            counted = Counter(calls)
            flights.append(
                Flight(
                    icao24=track.icao24,
                    callsign=counted.most_common(1)[0][0] if counted else None,
                    start=float(seg.time[start]),
                    end=float(seg.time[end - 1]),
                    takeoff=float(seg.time[lo]) if lo > 0 else None,
                    landing=float(seg.time[hi - 1]) if hi < len(seg) else None,
                    departure=departure,
                    arrival=arrival,
                    first_row=int(seg.row_id[start]),
                    last_row=int(seg.row_id[end - 1]),
                    n_points=end - start,
                    first_lat=float(lat[0]),
                    first_lon=float(lon[0]),
                    last_lat=float(lat[-1]),
                    last_lon=float(lon[-1]),
                    max_altitude_ft=float(np.nanmax(alts)) if np.isfinite(alts).any() else None,
                    distance_km=float(steps.sum()),
                    gc_km=float(haversine_km(lat[0], lon[0], lat[-1], lon[-1])),
                    path=_path(seg, start, end, rules.path_points),
                    callsigns=sorted(counted),
                )
            )
    return flights
