"""Flight detectors: each a small object with ``type`` and ``detect(context) -> events``.

=========================== ==============================================================
``listed_operator_flight``  the flight's operator (callsign designator -> airline, or the
                            owner/operator a source states) links to a listed organisation
``listed_aircraft_flight``  the aircraft links to a listed ``Airplane`` (Mode S code,
                            registration or serial number)
``sanctioned_route``        the flight lands in a sanctioned jurisdiction from another
                            country, or flies between two (``settings.sanctioned_countries``)
``transponder_gap``         silent in the air for ``gap_min_s`` or more and reappears at
                            least ``gap_min_km`` away
``position_jump``           consecutive distinct positions too far apart for the time
                            between them (GNSS spoofing, a bad position source); one event
                            per episode, widened by spans of a cruise ground speed no
                            aeroplane flies (a spoofed fix that hardly moves)
``air_bridge``              at least ``bridge_min_flights`` flights on one route (either
                            direction) by listed operators within ``bridge_window_days``,
                            summarised as one event
=========================== ==============================================================

Every event carries subjects (``icao24:<hex>``, ``reg:<tail>``, listed entity ids),
evidence (``adsb:<row id>``, ``flight:<flight id>``, ``list:<entity id>``), a score and a
detail saying why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from watchkeeper.events import Event
from watchkeeper.movement.air.airports import AirportIndex
from watchkeeper.movement.air.flights import FlightRules, Track, ground_flags
from watchkeeper.movement.air.geodesy import KM_PER_NM, haversine_km
from watchkeeper.movement.air.identity import (
    AircraftIdentity,
    Airline,
    Link,
    ListedIndex,
    Registers,
    designator,
    identify,
)
from watchkeeper.movement.air.storage import StoredFlight

EVENT_TYPES = (
    "listed_operator_flight",
    "listed_aircraft_flight",
    "sanctioned_route",
    "transponder_gap",
    "position_jump",
    "air_bridge",
)


@dataclass(frozen=True)
class AirRules:
    """Thresholds of the flight detectors (seconds, km, knots, feet, days)."""

    gap_min_s: float = 600.0
    gap_min_km: float = 100.0
    gap_min_altitude_ft: float = 3000.0
    jump_min_km: float = 10.0
    jump_min_speed_kt: float = 1200.0
    jump_episode_s: float = 2 * 3600.0
    slow_min_altitude_ft: float = 20_000.0
    slow_max_speed_kt: float = 100.0
    slow_min_s: float = 60.0
    bridge_window_days: float = 31.0
    bridge_min_flights: int = 3


@dataclass
class OperatorClaim:
    """A name the data gives for who operates a flight, and where it comes from."""

    name: str
    country: str | None
    source: str
    links: list[Link]


@dataclass
class AirContext:
    """What the detectors read: flights, tracks, identities, listed entities, settings."""

    flights: list[StoredFlight]
    tracks: dict[str, Track]
    aircraft: dict[str, dict[str, Any]]
    listed: ListedIndex
    airlines: dict[str, Airline]
    airports: AirportIndex
    registers: Registers
    sanctioned_countries: tuple[str, ...]
    rules: AirRules = field(default_factory=AirRules)
    _operators: dict[str, list[OperatorClaim]] = field(default_factory=dict)
    _aircraft_links: dict[str, list[Link]] = field(default_factory=dict)
    _ground: dict[str, npt.NDArray[np.bool_]] = field(default_factory=dict)

    def identity(self, icao24: str) -> AircraftIdentity:
        row = self.aircraft.get(icao24, {})
        ident = identify(
            icao24,
            self.registers,
            callsigns=row.get("callsigns") or [],
            typecode=row.get("typecode"),
            description=row.get("description"),
            owner_operator=row.get("owner_operator"),
        )
        if row.get("registration"):
            ident.registration = row["registration"]
            ident.registration_source = row.get("registration_source")
        ident.serial = row.get("serial")
        return ident

    def aircraft_links(self, icao24: str) -> list[Link]:
        if icao24 not in self._aircraft_links:
            self._aircraft_links[icao24] = self.listed.aircraft_links(self.identity(icao24))
        return self._aircraft_links[icao24]

    def operator_claims(self, flight: StoredFlight) -> list[OperatorClaim]:
        """Operators named for a flight: the airline of its callsign's ICAO designator and
        the owner/operator a source states for the aircraft, each linked to the lists."""
        key = f"{flight.icao24}|{flight.callsign}"
        if key in self._operators:
            return self._operators[key]
        claims: list[OperatorClaim] = []
        code = designator(flight.callsign)
        airline = self.airlines.get(code) if code else None
        if airline is not None:
            claims.append(
                OperatorClaim(
                    airline.name,
                    airline.country,
                    f"callsign {flight.callsign}: ICAO designator {code} is {airline.name}"
                    f"{f' ({airline.country})' if airline.country else ''} in OpenFlights airlines.dat",
                    self.listed.operator_links(airline.name, airline.country),
                )
            )
        owner = self.aircraft.get(flight.icao24, {}).get("owner_operator")
        if owner:
            claims.append(
                OperatorClaim(
                    owner,
                    None,
                    f"the source states owner/operator {owner!r} for {flight.icao24}",
                    self.listed.operator_links(owner, None),
                )
            )
        self._operators[key] = claims
        return claims

    def ground(self, icao24: str) -> npt.NDArray[np.bool_]:
        """On-ground flags of an aircraft's track, computed once."""
        if icao24 not in self._ground:
            self._ground[icao24] = ground_flags(self.tracks[icao24], FlightRules(), self.airports)
        return self._ground[icao24]

    def airport_country(self, icao: str | None) -> str | None:
        airport = self.airports.get(icao)
        return airport.country.lower() if airport and airport.country else None


class FlightDetector(Protocol):
    """One kind of flight event."""

    type: str

    def detect(self, ctx: AirContext) -> list[Event]: ...


def _when(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _route(f: StoredFlight) -> str:
    return f"{f.departure or '?'}->{f.arrival or '?'}"


def _flight_subjects(ctx: AirContext, f: StoredFlight) -> list[str]:
    subjects = [f"icao24:{f.icao24}"]
    reg = ctx.aircraft.get(f.icao24, {}).get("registration")
    if reg:
        subjects.append(f"reg:{reg}")
    return subjects


def _flight_label(f: StoredFlight) -> str:
    return f"flight {f.callsign or f.icao24} {_route(f)} on {_when(f.start)}"


class ListedOperatorFlight:
    type = "listed_operator_flight"

    def detect(self, ctx: AirContext) -> list[Event]:
        events = []
        for f in ctx.flights:
            claims = [c for c in ctx.operator_claims(f) if c.links]
            if not claims:
                continue
            links = {link.entity_id: link for c in claims for link in c.links}
            reasons = [f"{c.source}; {'; '.join(link.detail for link in c.links)}" for c in claims]
            events.append(
                Event(
                    type=self.type,
                    subjects=tuple(_flight_subjects(ctx, f) + sorted(links)),
                    start=f.start,
                    end=f.end,
                    score=max(link.score for link in links.values()),
                    detail=f"{_flight_label(f)} is operated by a listed party: "
                    + " | ".join(reasons),
                    evidence=tuple(
                        [
                            f"flight:{f.flight_id}",
                            *f.evidence(),
                            *(f"list:{i}" for i in sorted(links)),
                        ]
                    ),
                    lat=f.first_lat,
                    lon=f.first_lon,
                    params={
                        "flight_id": f.flight_id,
                        "callsign": f.callsign,
                        "departure": f.departure,
                        "arrival": f.arrival,
                        "operators": [
                            {
                                "name": c.name,
                                "source": c.source,
                                "links": [x.to_dict() for x in c.links],
                            }
                            for c in claims
                        ],
                    },
                )
            )
        return events


class ListedAircraftFlight:
    type = "listed_aircraft_flight"

    def detect(self, ctx: AirContext) -> list[Event]:
        events = []
        for f in ctx.flights:
            links = ctx.aircraft_links(f.icao24)
            if not links:
                continue
            operators = {
                op.entity_id: op for link in links for op in ctx.listed.operators_of_listed(link)
            }
            ids = sorted({link.entity_id for link in links} | set(operators))
            detail = f"{_flight_label(f)} is flown by a listed aircraft: " + "; ".join(
                link.detail for link in links
            )
            if operators:
                detail += "; " + "; ".join(op.detail for op in operators.values())
            events.append(
                Event(
                    type=self.type,
                    subjects=tuple(_flight_subjects(ctx, f) + ids),
                    start=f.start,
                    end=f.end,
                    score=max(link.score for link in links),
                    detail=detail,
                    evidence=tuple(
                        [f"flight:{f.flight_id}", *f.evidence(), *(f"list:{i}" for i in ids)]
                    ),
                    lat=f.first_lat,
                    lon=f.first_lon,
                    params={
                        "flight_id": f.flight_id,
                        "callsign": f.callsign,
                        "departure": f.departure,
                        "arrival": f.arrival,
                        "aircraft": [link.to_dict() for link in links],
                        "operators": [op.to_dict() for op in operators.values()],
                    },
                )
            )
        return events


class SanctionedRoute:
    type = "sanctioned_route"

    def detect(self, ctx: AirContext) -> list[Event]:
        sanctioned = {c.lower() for c in ctx.sanctioned_countries}
        events = []
        for f in ctx.flights:
            arr = ctx.airport_country(f.arrival)
            dep = ctx.airport_country(f.departure)
            if arr is None or arr not in sanctioned or dep == arr:
                continue
            arr_ap = ctx.airports.get(f.arrival)
            dep_ap = ctx.airports.get(f.departure)
            if dep is not None and dep in sanctioned:
                score, kind = 0.8, "between two sanctioned jurisdictions"
            elif dep is not None:
                score, kind = 0.6, "into a sanctioned jurisdiction"
            else:
                score, kind = 0.4, "into a sanctioned jurisdiction (departure not seen)"
            dep_text = dep_ap.label() if dep_ap else "an unseen departure"
            detail = (
                f"{_flight_label(f)}: {kind}: {dep_text} -> {arr_ap.label() if arr_ap else f.arrival}"
                f" (sanctioned countries: {', '.join(sorted(sanctioned))})"
            )
            events.append(
                Event(
                    type=self.type,
                    subjects=tuple(_flight_subjects(ctx, f)),
                    start=f.start,
                    end=f.end,
                    score=score,
                    detail=detail,
                    evidence=tuple([f"flight:{f.flight_id}", *f.evidence()]),
                    lat=f.last_lat,
                    lon=f.last_lon,
                    params={
                        "flight_id": f.flight_id,
                        "callsign": f.callsign,
                        "departure": f.departure,
                        "arrival": f.arrival,
                        "departure_country": dep,
                        "arrival_country": arr,
                        "route": _route(f),
                    },
                )
            )
        return events


def _flight_slice(track: Track, f: StoredFlight) -> tuple[int, int]:
    lo = int(np.searchsorted(track.time, f.start.timestamp() - 1e-6, side="left"))
    hi = int(np.searchsorted(track.time, f.end.timestamp() + 1e-6, side="right"))
    return lo, hi


def _ts(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), UTC)


class TransponderGap:
    type = "transponder_gap"

    def detect(self, ctx: AirContext) -> list[Event]:
        r = ctx.rules
        events = []
        for f in ctx.flights:
            track = ctx.tracks.get(f.icao24)
            if track is None:
                continue
            lo, hi = _flight_slice(track, f)
            if hi - lo < 2:
                continue
            t = track.time[lo:hi]
            ground = ctx.ground(f.icao24)[lo:hi]
            alt = track.altitude_ft[lo:hi]
            for i in np.flatnonzero(np.diff(t) >= r.gap_min_s):
                a, b = int(i), int(i) + 1
                if ground[a] or ground[b]:
                    continue
                if (np.isfinite(alt[a]) and alt[a] < r.gap_min_altitude_ft) or (
                    np.isfinite(alt[b]) and alt[b] < r.gap_min_altitude_ft
                ):
                    continue
                ia, ib = lo + a, lo + b
                km = float(haversine_km(track.lat[ia], track.lon[ia], track.lat[ib], track.lon[ib]))
                if km < r.gap_min_km:
                    continue
                gap = float(t[b] - t[a])
                speed = km / KM_PER_NM / (gap / 3600.0)
                hours = gap / 3600.0
                altitude = f" at {alt[a]:,.0f} ft" if np.isfinite(alt[a]) else ""
                events.append(
                    Event(
                        type=self.type,
                        subjects=tuple(_flight_subjects(ctx, f)),
                        start=_ts(t[a]),
                        end=_ts(t[b]),
                        score=float(min(1.0, 0.4 + 0.15 * hours + km / 5000.0)),
                        detail=(
                            f"{_flight_label(f)}: silent in the air{altitude} for "
                            f"{int(gap // 3600)}h{int(gap % 3600 // 60):02d} from {_when(_ts(t[a]))}, "
                            f"reappeared {km:,.0f} km away (average {speed:,.0f} kt over the gap)"
                        ),
                        evidence=(
                            f"flight:{f.flight_id}",
                            f"adsb:{int(track.row_id[ia])}",
                            f"adsb:{int(track.row_id[ib])}",
                        ),
                        lat=float(track.lat[ia]),
                        lon=float(track.lon[ia]),
                        params={
                            "flight_id": f.flight_id,
                            "gap_s": round(gap, 1),
                            "distance_km": round(km, 1),
                            "implied_speed_kt": round(speed, 1),
                            "from": [float(track.lat[ia]), float(track.lon[ia])],
                            "to": [float(track.lat[ib]), float(track.lon[ib])],
                        },
                    )
                )
        return events


@dataclass
class _Jump:
    a: int
    b: int
    km: float
    seconds: float
    speed: float


def position_jumps(track: Track, lo: int, hi: int, rules: AirRules) -> list[_Jump]:
    """Jumps between consecutive *distinct* positions of ``track[lo:hi]``: a repeated
    (stale) position keeps the time it was first reported, so a source that holds the last
    fix and then catches up is not taken for a jump."""
    lat = track.lat[lo:hi]
    lon = track.lon[lo:hi]
    t = track.time[lo:hi]
    fresh = np.ones(len(t), dtype=bool)
    fresh[1:] = (lat[1:] != lat[:-1]) | (lon[1:] != lon[:-1])
    idx = np.flatnonzero(fresh)
    if len(idx) < 2:
        return []
    km = haversine_km(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
    dt = np.maximum(t[idx[1:]] - t[idx[:-1]], 1e-3)
    speed = km / KM_PER_NM / (dt / 3600.0)
    hits = np.flatnonzero((km >= rules.jump_min_km) & (speed >= rules.jump_min_speed_kt))
    return [
        _Jump(lo + int(idx[k]), lo + int(idx[k + 1]), float(km[k]), float(dt[k]), float(speed[k]))
        for k in hits
    ]


@dataclass
class _SlowSpan:
    """States in cruise reporting a ground speed no aeroplane flies at that altitude."""

    a: int
    b: int
    min_speed: float
    altitude: float


def slow_at_altitude(track: Track, lo: int, hi: int, rules: AirRules) -> list[_SlowSpan]:
    """Runs of ``track[lo:hi]`` at or above ``slow_min_altitude_ft`` reporting less than
    ``slow_max_speed_kt`` for at least ``slow_min_s``: a spoofed GNSS position that hardly
    moves also gives a spoofed (tiny) ground speed."""
    alt = track.altitude_ft[lo:hi]
    gs = track.groundspeed_kt[lo:hi]
    t = track.time[lo:hi]
    bad = (
        np.isfinite(alt)
        & (alt >= rules.slow_min_altitude_ft)
        & (alt <= 60_000.0)  # above: a bad altitude report, not a cruise
        & np.isfinite(gs)
        & (gs < rules.slow_max_speed_kt)
    )
    spans: list[_SlowSpan] = []
    if not bad.any():
        return spans
    change = np.flatnonzero(bad[1:] != bad[:-1]) + 1
    edges = [0, *change.tolist(), len(bad)]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if bad[a] and t[b - 1] - t[a] >= rules.slow_min_s:
            spans.append(
                _SlowSpan(lo + a, lo + b - 1, float(gs[a:b].min()), float(np.median(alt[a:b])))
            )
    return spans


class PositionJump:
    type = "position_jump"

    def detect(self, ctx: AirContext) -> list[Event]:
        events = []
        for f in ctx.flights:
            track = ctx.tracks.get(f.icao24)
            if track is None:
                continue
            lo, hi = _flight_slice(track, f)
            items: list[_Jump | _SlowSpan] = [
                *position_jumps(track, lo, hi, ctx.rules),
                *slow_at_altitude(track, lo, hi, ctx.rules),
            ]
            items.sort(key=lambda x: x.a)
            episodes: list[list[_Jump | _SlowSpan]] = []
            for item in items:
                last_end = max((x.b for x in episodes[-1]), default=0) if episodes else 0
                if (
                    episodes
                    and track.time[item.a] - track.time[last_end] <= ctx.rules.jump_episode_s
                ):
                    episodes[-1].append(item)
                else:
                    episodes.append([item])
            for ep in episodes:
                # A slow cruise alone may be a bad altitude or speed report; it only widens
                # an episode that has a real jump.
                if any(isinstance(x, _Jump) for x in ep):
                    events.append(self._event(ctx, f, track, ep))
        return events

    def _event(
        self, ctx: AirContext, f: StoredFlight, track: Track, ep: list[_Jump | _SlowSpan]
    ) -> Event:
        jumps = [x for x in ep if isinstance(x, _Jump)]
        slow = [x for x in ep if isinstance(x, _SlowSpan)]
        parts = [
            f"jumped {j.km:,.0f} km in {j.seconds:,.0f} s at {_when(_ts(track.time[j.b]))} "
            f"(implies {j.speed:,.0f} kt)"
            for j in jumps[:5]
        ]
        if len(jumps) > 5:
            parts.append(f"{len(jumps) - 5} more jumps")
        parts += [
            f"reported {s.min_speed:,.0f} kt ground speed at {s.altitude:,.0f} ft for "
            f"{(track.time[s.b] - track.time[s.a]) / 60:,.0f} min from {_when(_ts(track.time[s.a]))}"
            for s in slow[:3]
        ]
        biggest = max((j.km for j in jumps), default=0.0)
        score = min(1.0, 0.5 + biggest / 1000.0 + (0.2 if slow else 0.0))
        where = max(jumps, key=lambda j: j.km).a if jumps else slow[0].a
        evidence = [f"flight:{f.flight_id}"]
        for x in ep:
            for i in (x.a, x.b):
                ref = f"adsb:{int(track.row_id[i])}"
                if ref not in evidence:
                    evidence.append(ref)
        return Event(
            type=self.type,
            subjects=tuple(_flight_subjects(ctx, f)),
            start=_ts(track.time[min(x.a for x in ep)]),
            end=_ts(track.time[max(x.b for x in ep)]),
            score=float(score),
            detail=(
                f"{_flight_label(f)}: the reported position is not one an aircraft can fly: "
                + "; ".join(parts)
                + ". GNSS spoofing or a bad position source"
            ),
            evidence=tuple(evidence),
            lat=float(track.lat[where]),
            lon=float(track.lon[where]),
            params={
                "flight_id": f.flight_id,
                "jumps": [
                    {
                        "time": _ts(track.time[j.b]).isoformat(),
                        "distance_km": round(j.km, 1),
                        "seconds": round(j.seconds, 3),
                        "implied_speed_kt": round(j.speed),
                        "from": [float(track.lat[j.a]), float(track.lon[j.a])],
                        "to": [float(track.lat[j.b]), float(track.lon[j.b])],
                    }
                    for j in jumps
                ],
                "slow_at_altitude": [
                    {
                        "start": _ts(track.time[s.a]).isoformat(),
                        "end": _ts(track.time[s.b]).isoformat(),
                        "min_groundspeed_kt": s.min_speed,
                        "altitude_ft": s.altitude,
                    }
                    for s in slow
                ],
            },
        )


class AirBridge:
    type = "air_bridge"

    def detect(self, ctx: AirContext) -> list[Event]:
        r = ctx.rules
        # (operator entity, unordered route) -> flights flown by it on that route
        groups: dict[tuple[str, str, str], list[tuple[StoredFlight, Link]]] = {}
        for f in ctx.flights:
            if not f.departure or not f.arrival or f.departure == f.arrival:
                continue
            links = [link for c in ctx.operator_claims(f) for link in c.links]
            for aircraft_link in ctx.aircraft_links(f.icao24):
                links.extend(ctx.listed.operators_of_listed(aircraft_link))
            a, b = sorted((f.departure, f.arrival))
            seen: set[str] = set()
            for link in links:
                if link.entity_id in seen:
                    continue
                seen.add(link.entity_id)
                groups.setdefault((link.entity_id, a, b), []).append((f, link))
        events = []
        window = timedelta(days=r.bridge_window_days)
        for (entity_id, a, b), items in sorted(groups.items()):
            items.sort(key=lambda x: x[0].start)
            clusters: list[list[tuple[StoredFlight, Link]]] = []
            for item in items:
                if clusters and item[0].start - clusters[-1][-1][0].start <= window:
                    clusters[-1].append(item)
                else:
                    clusters.append([item])
            for cluster in clusters:
                if len(cluster) < r.bridge_min_flights:
                    continue
                flights = [x[0] for x in cluster]
                link = cluster[0][1]
                out = sum(1 for f in flights if f.departure == a)
                back = len(flights) - out
                days = (flights[-1].start - flights[0].start).total_seconds() / 86400
                detail = (
                    f"{len(flights)} flights between {a} and {b} ({out} {a}->{b}, {back} {b}->{a}) "
                    f"in {days:.0f} days from {_when(flights[0].start)} to {_when(flights[-1].start)}, "
                    f"operated by listed {link.caption} ({entity_id}): {link.detail}"
                )
                events.append(
                    Event(
                        type=self.type,
                        subjects=tuple(
                            [entity_id] + sorted({f"icao24:{f.icao24}" for f in flights})
                        ),
                        start=flights[0].start,
                        end=flights[-1].end,
                        score=float(min(1.0, 0.5 + 0.1 * len(flights)) * link.score),
                        detail=detail,
                        evidence=tuple(
                            [f"flight:{f.flight_id}" for f in flights] + [f"list:{entity_id}"]
                        ),
                        params={
                            "operator": entity_id,
                            "route": f"{a}-{b}",
                            "flights": [f.flight_id for f in flights],
                            "counts": {f"{a}->{b}": out, f"{b}->{a}": back},
                            "window_days": r.bridge_window_days,
                        },
                    )
                )
        return events


DETECTORS: list[FlightDetector] = [
    ListedOperatorFlight(),
    ListedAircraftFlight(),
    SanctionedRoute(),
    TransponderGap(),
    PositionJump(),
    AirBridge(),
]


def detect_all(
    ctx: AirContext, detectors: Iterable[FlightDetector] = DETECTORS
) -> dict[str, list[Event]]:
    return {d.type: d.detect(ctx) for d in detectors}
