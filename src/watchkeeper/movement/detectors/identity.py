"""Identity manipulation (OFAC/State/USCG advisory, May 2020): a vessel changing the
name, IMO number or call sign it broadcasts; an MMSI whose MID is not allocated
(no flag state); an IMO number failing its check digit; a listed vessel's IMO
broadcast under a name the lists do not know; one IMO under MMSIs of different
flags (flag hopping); and one MMSI in two places at once (``position_jump``:
an implied speed above 50 kn between consecutive reports, two transmitters or a
spoofed position).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import References, hours, params_dict
from watchkeeper.movement.geo import KM_PER_NM, haversine_km
from watchkeeper.movement.tracks import Track, to_datetime
from watchkeeper.movement.vessels import (
    VesselIdentity,
    imo_digits,
    imo_valid,
    mmsi_flag,
    mmsi_mid,
)
from watchkeeper.store.normalize import search_key

CHANGE = "identity_change"
JUMP = "position_jump"


@dataclass(frozen=True)
class IdentityParams:
    score_name: float = 0.4
    score_imo: float = 0.7
    score_callsign: float = 0.4
    score_flag: float = 0.6
    score_invalid_mid: float = 0.6
    score_imo_checksum: float = 0.6  # seven digits, wrong check digit
    score_imo_placeholder: float = 0.2  # not seven digits: often 0/1/a domestic number
    score_listed_imo_other_name: float = 0.8
    score_listed_imo_explained: float = 0.3  # the registry's name history has the name


@dataclass(frozen=True)
class PositionJumpParams:
    max_speed_kn: float = 50.0
    min_distance_km: float = 2.0  # smaller jumps are GPS noise
    merge_hours: float = 6.0
    base_score: float = 0.4
    score_per_jump: float = 0.1


def _span(track: Track, i: int, j: int) -> tuple[float, float]:
    """Times of static reports i and j (track ends where a report has no time)."""
    s = track.static
    t0 = s.t[i] if not np.isnan(s.t[i]) else (track.t[0] if len(track) else 0.0)
    t1 = s.t[j] if not np.isnan(s.t[j]) else (track.t[-1] if len(track) else t0)
    return float(min(t0, t1)), float(max(t0, t1))


def _changes(track: Track, refs: References, p: IdentityParams) -> list[Event]:
    s = track.static
    events: list[Event] = []
    fields: list[tuple[str, np.ndarray, float]] = [
        ("name", s.name, p.score_name),
        ("imo", s.imo, p.score_imo),
        ("callsign", s.callsign, p.score_callsign),
    ]
    for kind, values, score in fields:
        present = np.flatnonzero((values != 0) if values.dtype.kind in "iu" else (values != ""))
        if present.size < 2:
            continue
        seen: dict[tuple[str, str], list[int]] = {}
        prev = present[0]
        for k in present[1:]:
            old, new = str(values[prev]), str(values[k])
            norm = search_key if kind != "imo" else str
            if norm(old) != norm(new):
                seen.setdefault((old, new), []).extend([int(prev), int(k)])
            prev = k
        for (old, new), idx in seen.items():
            t0, t1 = _span(track, idx[0], idx[1])
            flips = len(idx) // 2
            detail = f"{kind} changed from {old!r} to {new!r}"
            if flips > 1:
                detail += f" ({flips} times)"
            detail += f" at {to_datetime(t1):%Y-%m-%d %H:%M} UTC"
            events.append(
                Event(
                    type=CHANGE,
                    subjects=refs.subjects(track.mmsi),
                    start=to_datetime(t0),
                    end=to_datetime(t1),
                    score=score,
                    detail=detail,
                    evidence=tuple(f"ais:{int(s.msg_id[i])}" for i in sorted(set(idx))[:40]),
                    params=params_dict(p, kind=kind, old=old, new=new, changes=flips),
                )
            )
    return events


def _whole(track: Track) -> tuple[float, float, tuple[str, ...]]:
    if len(track):
        return float(track.t[0]), float(track.t[-1]), track.evidence([0, len(track) - 1])
    s = track.static
    t = s.t[~np.isnan(s.t)]
    t0 = float(t.min()) if t.size else 0.0
    t1 = float(t.max()) if t.size else 0.0
    return t0, t1, tuple(f"ais:{int(m)}" for m in s.msg_id[:2])


def _checks(track: Track, refs: References, p: IdentityParams) -> list[Event]:
    events: list[Event] = []
    t0, t1, ends = _whole(track)
    if mmsi_flag(track.mmsi) is None:
        mid = mmsi_mid(track.mmsi)
        why = (
            f"MID {mid} is not allocated to any flag state"
            if mid
            else "it is not a nine-digit ship station MMSI"
        )
        events.append(
            Event(
                type=CHANGE,
                subjects=refs.subjects(track.mmsi),
                start=to_datetime(t0),
                end=to_datetime(t1),
                score=p.score_invalid_mid,
                detail=f"MMSI {track.mmsi} has no valid flag: {why}",
                evidence=ends,
                params=params_dict(p, kind="invalid_mid", mid=mid),
            )
        )
    s = track.static
    for imo in np.unique(s.imo[s.imo > 0]):
        rows = np.flatnonzero(s.imo == imo)
        i, j = int(rows[0]), int(rows[-1])
        a, b = _span(track, i, j)
        evidence = tuple(f"ais:{int(s.msg_id[k])}" for k in rows[:20])
        text = str(int(imo))
        if not imo_valid(text):
            events.append(
                Event(
                    type=CHANGE,
                    subjects=refs.subjects(track.mmsi),
                    start=to_datetime(a),
                    end=to_datetime(b),
                    score=p.score_imo_checksum if len(text) == 7 else p.score_imo_placeholder,
                    detail=(
                        f"broadcast IMO {text} fails the IMO check digit"
                        if len(text) == 7
                        else f"broadcast IMO {text} is not seven digits (a placeholder?)"
                    ),
                    evidence=evidence,
                    params=params_dict(p, kind="imo_checksum", imo=text),
                )
            )
            continue
        listed = refs.listed.by_imo.get(text, [])
        if not listed:
            continue
        names = {str(n) for n in s.name[rows] if str(n)}
        for entity_id in listed:
            e = refs.listed.entities[entity_id]
            known = {search_key(n) for n in e.get("name") + e.get("alias") + e.get("previousName")}
            unknown = sorted(n for n in names if search_key(n) not in known)
            if not unknown:
                continue
            rec = refs.registry.get(text) if refs.registry else None
            explained = rec is not None and all(rec.has_name(n) for n in unknown)
            detail = (
                f"broadcasts the IMO {text} of listed {e.caption} ({entity_id}) under the "
                f"name {', '.join(unknown)}, which is not a listed name"
            )
            if explained and rec is not None:
                history = ", ".join(f"{q.value} ({q.span()})" for q in rec.names)
                detail += f"; the shadow-fleet name history of IMO {text} has it: {history}"
            events.append(
                Event(
                    type=CHANGE,
                    subjects=refs.subjects(track.mmsi)
                    + ((entity_id,) if entity_id not in refs.subjects(track.mmsi) else ()),
                    start=to_datetime(a),
                    end=to_datetime(b),
                    score=p.score_listed_imo_explained
                    if explained
                    else p.score_listed_imo_other_name,
                    detail=detail,
                    evidence=evidence + (f"list:{entity_id}",),
                    params=params_dict(
                        p,
                        kind="listed_imo_other_name",
                        imo=text,
                        entity_id=entity_id,
                        names=unknown,
                        explained_by_registry=explained,
                    ),
                )
            )
    return events


def position_jumps(track: Track, refs: References, p: PositionJumpParams) -> list[Event]:
    """Consecutive reports too far apart for the time between them."""
    if len(track) < 2:
        return []
    km = haversine_km(track.lat[:-1], track.lon[:-1], track.lat[1:], track.lon[1:])
    dt_h = np.diff(track.t) / 3600.0
    with np.errstate(divide="ignore", invalid="ignore"):
        kn = np.where(dt_h > 0, km / KM_PER_NM / dt_h, np.inf)
    jumps = np.flatnonzero((kn > p.max_speed_kn) & (km >= p.min_distance_km))
    if jumps.size == 0:
        return []
    # Jumps close in time are one episode (two transmitters alternate many times).
    brk = np.r_[True, np.diff(track.t[jumps]) > p.merge_hours * 3600]
    episodes = np.split(jumps, np.flatnonzero(brk)[1:])
    events = []
    for ep in episodes:
        a, b = int(ep[0]), int(ep[-1]) + 1
        fastest = float(np.max(kn[ep]))
        far = float(np.max(km[ep]))
        n = int(ep.size)
        detail = (
            f"{n} jump(s) between consecutive reports, up to {far:.1f} km apart at an "
            f"implied {'instant' if not np.isfinite(fastest) else f'{fastest:.0f} kn'} "
            f"(over {p.max_speed_kn:g} kn): MMSI {track.mmsi} reported in two places at once"
        )
        events.append(
            Event(
                type=JUMP,
                subjects=refs.subjects(track.mmsi),
                start=to_datetime(track.t[a]),
                end=to_datetime(track.t[b]),
                score=min(1.0, p.base_score + p.score_per_jump * (n - 1)),
                detail=detail,
                evidence=track.evidence(np.r_[ep, ep + 1]),
                lat=float(track.lat[a]),
                lon=float(track.lon[a]),
                params=params_dict(
                    p,
                    jumps=n,
                    max_distance_km=round(far, 3),
                    max_implied_speed_kn=round(fastest, 1) if np.isfinite(fastest) else None,
                    duration_h=hours(track.t[b] - track.t[a]),
                ),
            )
        )
    return events


def flag_changes(
    identities: dict[int, VesselIdentity], refs: References, p: IdentityParams
) -> list[Event]:
    """One IMO broadcast by MMSIs of different flag states (a relational step: the
    identities grouped by IMO)."""
    by_imo: dict[str, list[VesselIdentity]] = {}
    for ident in identities.values():
        for obs in ident.imos:
            imo = imo_digits(obs.value)
            if imo and imo_valid(imo):
                by_imo.setdefault(imo, []).append(ident)
    events = []
    for imo, group in sorted(by_imo.items()):
        flags = {i.flag for i in group if i.flag}
        if len(flags) < 2:
            continue
        group = sorted(group, key=lambda i: i.first_seen or to_datetime(0))
        times = [t for i in group for t in (i.first_seen, i.last_seen) if t is not None]
        evidence = tuple(o.evidence for i in group for o in i.imos if imo_digits(o.value) == imo)
        subjects: list[str] = []
        for i in group:
            subjects += [s for s in refs.subjects(i.mmsi) if s not in subjects]
        detail = f"IMO {imo} broadcast under " + ", then ".join(
            f"MMSI {i.mmsi} ({(i.flag or '?').upper()}, {i.first_seen:%Y-%m-%d} to {i.last_seen:%Y-%m-%d})"
            if i.first_seen and i.last_seen
            else f"MMSI {i.mmsi} ({(i.flag or '?').upper()})"
            for i in group
        )
        events.append(
            Event(
                type=CHANGE,
                subjects=tuple(subjects),
                start=min(times) if times else to_datetime(0),
                end=max(times) if times else to_datetime(0),
                score=p.score_flag,
                detail=detail,
                evidence=evidence,
                params=params_dict(
                    p, kind="flag", imo=imo, flags=sorted(flags), mmsis=[i.mmsi for i in group]
                ),
            )
        )
    return events


@dataclass
class Identity:
    params: IdentityParams = IdentityParams()
    jumps: PositionJumpParams = field(default_factory=PositionJumpParams)
    event_types: tuple[str, ...] = (CHANGE, JUMP)

    def detect(self, track: Track, refs: References) -> list[Event]:
        return (
            _changes(track, refs, self.params)
            + _checks(track, refs, self.params)
            + position_jumps(track, refs, self.jumps)
        )
