"""The detectors run on a batch's vessels only: each touched vessel's track from a little
before the earliest stored finding its new positions can change, and the two-vessel
detectors on every vessel heard in that window.

Why it is exact, not approximate: for a vessel ``m`` whose new positions start at ``t0``,
a stored event can change only if it ends after ``c = min(t0 - horizon, the report
before t0, the start of its last port call before t0)`` (``horizon``: 6 h, the longest
any detector waits before it closes a finding) (a gap ends at the first new
report, a voyage starts at the last port call). ``since[m]`` is the earliest start of
such an event (or ``c``); the stored events of ``m`` starting at or after ``since[m]``
are replaced by those the detectors find on the track from ``since[m] - lookback``
(context) that start at or after ``since[m]``. Events are keyed by their deterministic
id, so a finding seen again is written once.

Identity findings span a vessel's whole history (first to last report): they are
recomputed whole for the touched vessels (their static reports are loaded whole, and a
whole-track span keeps its stored first report), and a flag change for every MMSI
sharing an IMO with one of them.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa

from watchkeeper.events import Event
from watchkeeper.movement.detect import build_references
from watchkeeper.movement.detectors import PAIR_DETECTORS, TRACK_DETECTORS
from watchkeeper.movement.detectors.base import Points, ReceptionCoverage, References
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.detectors.identity import CHANGE, Identity, flag_changes
from watchkeeper.movement.tracks import Track, iter_tracks, load_chunk, to_datetime, vessel_chunks
from watchkeeper.movement.vessels import (
    ListedVessels,
    VesselLink,
    build_identities,
    imo_digits,
    imo_valid,
    link_identity,
    owner_links,
)
from watchkeeper.settings import Settings
from watchkeeper.store import Store

PAIR_TYPES = tuple(t for d in PAIR_DETECTORS.values() for t in d.event_types)
TRACK_TYPES = tuple(t for d in TRACK_DETECTORS.values() for t in d.event_types if t != CHANGE)


@dataclass
class DetectionRun:
    """What one batch's detection did: vessels touched, positions read, events written
    (by type) and stored events replaced."""

    vessels: int = 0
    positions_read: int = 0
    written: Counter[str] = field(default_factory=Counter)
    replaced: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per step

    def timed(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[step] = self.seconds.get(step, 0.0) + now - since
        return now

    def to_dict(self) -> dict[str, Any]:
        return {
            "vessels": self.vessels,
            "positions_read": self.positions_read,
            "written": dict(sorted(self.written.items())),
            "replaced": self.replaced,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


def _trim(track: Track, since_s: float) -> Track:
    keep = track.t >= since_s
    if keep.all():
        return track
    return Track(
        track.mmsi,
        track.msg_id[keep],
        track.t[keep],
        track.lat[keep],
        track.lon[keep],
        track.sog[keep],
        track.cog[keep],
        track.static,
    )


Clipped = dict[str, list[tuple[str, float, float, str]]]  # subject -> (type, start, end, id)


def _clipped_by(e: Event, clipped: Clipped) -> str | None:
    """The id of the stored finding that began before the reach of which ``e`` is the
    redone tail (same type and subject, overlapping), or None."""
    a, b = e.start.timestamp(), e.end.timestamp()
    for s in e.subjects:
        for kind, start, end, event_id in clipped.get(s, ()):
            if kind == e.type and a <= end and b >= start:
                return event_id
    return None


def _stitch(store: Store, tails: dict[str, list[Event]]) -> list[Event]:
    """Each stored finding open past the reach, extended to the end of its redone tail:
    its own start, subjects and first evidence, the tail's end and details."""
    if not tails:
        return []
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, score, detail, evidence, lat, "
        "lon, params FROM events WHERE event_id IN (SELECT unnest(?))",
        [sorted(tails)],
    ).fetchall()
    out = []
    for eid, kind, subjects, start, end, score, _detail, evidence, lat, lon, params in rows:
        tail = max(tails[eid], key=lambda e: e.end)
        if tail.end <= end:
            continue
        start = start.astimezone(tail.end.tzinfo)
        merged = {**json.loads(params), **tail.params}
        if "duration_h" in merged:
            merged["duration_h"] = round((tail.end - start).total_seconds() / 3600.0, 2)
        out.append(
            Event(
                type=kind,
                subjects=tuple(subjects),
                start=start,
                end=tail.end,
                score=max(float(score), tail.score),
                detail=f"Began {start:%Y-%m-%d %H:%M} UTC, still open when the watch redid its "
                f"last stretch: {tail.detail}",
                evidence=tuple(dict.fromkeys([*evidence[:30], *tail.evidence[:30]])),
                lat=lat,
                lon=lon,
                params={**merged, "extended_from": eid},
            )
        )
    return out


@dataclass
class IncrementalDetector:
    """The detectors' reference data, built once from the whole store and kept up to
    date batch by batch (identities and links of touched vessels, reception coverage)."""

    refs: References
    # Context the detectors see before the stretch they redo (seconds).
    lookback_s: float = 6 * 3600.0
    # Events ending less than this before a vessel's new reports are redone: the longest
    # any detector waits before it closes a finding (gaps 6 h, merges of 4-6 h).
    horizon_s: float = 6 * 3600.0
    # How far back before a vessel's new reports (or its previous report) a batch ever
    # redoes: a finding open longer (a ship moored for months) is kept as stored rather
    # than re-read whole at every report, so a batch costs the same however long the
    # history. Its end is then not moved by the watch (a full run does).
    max_reach_s: float = 3 * 86400.0
    max_positions: int = 1_000_000

    @classmethod
    def build(cls, store: Store, settings: Settings | None = None) -> IncrementalDetector:
        """Identities, links, coverage, ports and coastline from the whole store (once,
        at start-up: this is the one step whose cost grows with the stored history)."""
        return cls(build_references(store, settings))

    def refresh_lists(self, store: Store) -> None:
        """After a new list version: listed vessels and every vessel's links again."""
        from watchkeeper.movement.vessels import link_all, stored_links

        self.refs.listed = ListedVessels.from_store(store)
        link_all(store, self.refs.identities, self.refs.listed, self.refs.registry)
        self.refs.links = stored_links(store)

    # -- one batch ------------------------------------------------------------------

    def detect_batch(self, store: Store, ingest_ids: Sequence[int]) -> DetectionRun:
        """Detect on the vessels of the ``ais_ingests`` rows ``ingest_ids`` (already
        stored, same transaction) and replace their affected events."""
        run = DetectionRun()
        if not ingest_ids:
            return run
        con = store.con
        ids = [int(i) for i in ingest_ids]
        touched = {
            int(m): float(t0)
            for m, t0 in con.execute(
                "SELECT mmsi, min(epoch(time)) FROM ais_positions WHERE ingest_id IN "
                "(SELECT unnest(?)) AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 "
                "GROUP BY mmsi",
                [ids],
            ).fetchall()
        }
        static_only = {
            int(r[0])
            for r in con.execute(
                "SELECT DISTINCT mmsi FROM ais_static WHERE ingest_id IN (SELECT unnest(?)) "
                "AND mmsi IS NOT NULL",
                [ids],
            ).fetchall()
        } - set(touched)
        if not touched and not static_only:
            return run
        t = time.perf_counter()
        self._update_coverage(store, ids)
        identity_mmsis = self._update_identities(store, set(touched) | static_only)
        t = run.timed("identities", t)
        cut, since, floor, clipped = self._windows(store, touched)
        run.vessels = len(touched)
        t = run.timed("windows", t)

        events: list[Event] = []
        first_seen = self._first_positions(store, identity_mmsis)
        events += self._track_events(
            store, touched, cut, since, floor, identity_mmsis, first_seen, run
        )
        t = run.timed("track", t)
        events += self._pair_events(store, since, run)
        # A redone tail of a finding open past the reach extends the stored one instead
        # of being written beside it.
        tails: dict[str, list[Event]] = {}
        kept: list[Event] = []
        for e in events:
            eid = _clipped_by(e, clipped)
            if eid is None:
                kept.append(e)
            else:
                tails.setdefault(eid, []).append(e)
        stitched = _stitch(store, tails)
        events = kept + stitched
        t = run.timed("pair", t)
        events += self._flag_events(identity_mmsis)
        # Identity findings are redone (so replaced) only for vessels with positions.
        redone = {m for m in identity_mmsis if m in first_seen}
        gone = [str(e.params["extended_from"]) for e in stitched]
        run.replaced = self._replace(store, since, redone, events, gone)
        run.timed("write", t)
        run.written.update(e.type for e in {e.event_id: e for e in events}.values())
        return run

    def _update_coverage(self, store: Store, ids: list[int]) -> None:
        found = store.con.execute(
            "SELECT DISTINCT CAST(floor(lat) AS BIGINT) AS la, CAST(floor(lon) AS BIGINT) AS lo, "
            "epoch_us(time) // 3600000000 AS h FROM ais_positions WHERE ingest_id IN "
            "(SELECT unnest(?)) AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
            [ids],
        ).fetchnumpy()
        new = ReceptionCoverage.from_bins(found["la"], found["lo"], found["h"])
        old = self.refs.coverage
        self.refs.coverage = (
            new if old is None else ReceptionCoverage(np.union1d(old.keys, new.keys))
        )

    def _update_identities(self, store: Store, mmsis: set[int]) -> set[int]:
        """Identities and links of the touched vessels (and of every MMSI sharing an IMO
        with one); returns that wider set."""
        fresh = build_identities(store, sorted(mmsis))
        imos = {
            d
            for ident in fresh.values()
            for obs in ident.imos
            if (d := imo_digits(obs.value)) and imo_valid(d)
        }
        wider = set(mmsis)
        if imos:
            wider |= {
                int(r[0])
                for r in store.con.execute(
                    "SELECT DISTINCT mmsi FROM ais_static WHERE imo IN (SELECT unnest(?))",
                    [[int(i) for i in imos]],
                ).fetchall()
            }
            extra = sorted(wider - set(fresh))
            if extra:
                fresh.update(build_identities(store, extra))
        self.refs.identities.update(fresh)
        links: list[VesselLink] = []
        for m in sorted(mmsis):
            ident = fresh.get(m)
            if ident is None:
                continue
            found = link_identity(ident, self.refs.listed, self.refs.registry)
            links += found
            if found:
                links += owner_links(store, found, self.refs.listed, self.refs.registry, ident)
        self._write_links(store, sorted(mmsis), links)
        for m in mmsis:
            self.refs.links.pop(m, None)
        for lk in sorted(links, key=lambda lk: -lk.score):
            self.refs.links.setdefault(lk.mmsi, []).append((lk.entity_id, lk.method, lk.score))
        return wider

    @staticmethod
    def _write_links(store: Store, mmsis: list[int], links: list[VesselLink]) -> None:
        """Replace the ``vessel_links`` rows of these MMSIs only (``write_links`` would
        replace every vessel's)."""
        from datetime import UTC

        now = datetime.now(UTC)
        with store.transaction() as con:
            con.execute("DELETE FROM vessel_links WHERE mmsi IN (SELECT unnest(?))", [mmsis])
            if not links:
                return
            table = pa.table(
                {
                    "mmsi": pa.array([lk.mmsi for lk in links], pa.int32()),
                    "entity_id": [lk.entity_id for lk in links],
                    "method": [lk.method for lk in links],
                    "score": pa.array([lk.score for lk in links], pa.float64()),
                    "detail": [lk.detail for lk in links],
                    "evidence": pa.array(
                        [list(lk.evidence) for lk in links], pa.list_(pa.string())
                    ),
                    "linked_at": pa.array([now] * len(links), pa.timestamp("us", tz="UTC")),
                }
            )
            con.register("_watch_links", table)
            try:
                con.execute("INSERT INTO vessel_links BY NAME SELECT * FROM _watch_links")
            finally:
                con.unregister("_watch_links")

    def _windows(
        self, store: Store, touched: dict[int, float]
    ) -> tuple[
        dict[int, float],
        dict[int, float],
        dict[int, float],
        Clipped,
    ]:
        """Per touched vessel, the time (s since the epoch, UTC) after which an event's
        end makes it changeable (``cut``), the time from which its stored events are
        replaced (``since``), the earliest ``since`` may be (``floor``); and per subject
        the stored findings that began before ``floor`` and are kept (``clipped``:
        type, start, end)."""
        if not touched:
            return {}, {}, {}, {}
        con = store.con
        table = pa.table(
            {
                "mmsi": pa.array(list(touched), pa.int64()),
                "subj": [f"mmsi:{m}" for m in touched],
                "t0": pa.array(list(touched.values()), pa.float64()),
            }
        )
        con.register("_watch_touched", table)
        try:
            before = dict(
                con.execute(
                    "SELECT p.mmsi, max(epoch(p.time)) FROM ais_positions p JOIN _watch_touched w "
                    "ON p.mmsi = w.mmsi WHERE epoch(p.time) < w.t0 GROUP BY p.mmsi"
                ).fetchall()
            )
            last_call = dict(
                con.execute(
                    "SELECT w.mmsi, max(epoch(e.start_time)) FROM (SELECT start_time, "
                    "unnest(subjects) AS subj FROM events WHERE type = 'port_call') e "
                    "JOIN _watch_touched w ON e.subj = w.subj "
                    "WHERE epoch(e.start_time) < w.t0 GROUP BY w.mmsi"
                ).fetchall()
            )
            cut = {
                m: min(t0 - self.horizon_s, before.get(m, t0), last_call.get(m, t0))
                for m, t0 in touched.items()
            }
            table = table.append_column("cut", pa.array([cut[m] for m in touched], pa.float64()))
            con.unregister("_watch_touched")
            con.register("_watch_touched", table)
            spanning = dict(
                con.execute(
                    "SELECT w.mmsi, min(epoch(e.start_time)) FROM (SELECT start_time, end_time, "
                    "unnest(subjects) AS subj FROM events WHERE type IN (SELECT unnest(?))) e "
                    "JOIN _watch_touched w ON e.subj = w.subj "
                    "WHERE epoch(e.end_time) >= w.cut GROUP BY w.mmsi",
                    [list(TRACK_TYPES + PAIR_TYPES)],
                ).fetchall()
            )
            floor = {m: min(t0 - self.max_reach_s, before.get(m, t0)) for m, t0 in touched.items()}
            since = {m: max(floor[m], min(cut[m], float(spanning.get(m, cut[m])))) for m in touched}
            table = table.append_column(
                "since", pa.array([since[m] for m in touched], pa.float64())
            )
            con.unregister("_watch_touched")
            con.register("_watch_touched", table)
            clipped: Clipped = {}
            for subj, kind, a, b, eid in con.execute(
                "SELECT w.subj, e.type, epoch(e.start_time), epoch(e.end_time), e.event_id FROM ("
                "SELECT event_id, type, start_time, end_time, unnest(subjects) AS subj FROM events "
                "WHERE type IN (SELECT unnest(?))) e JOIN _watch_touched w ON e.subj = w.subj "
                "WHERE epoch(e.start_time) < w.since AND epoch(e.end_time) >= w.since",
                [list(TRACK_TYPES + PAIR_TYPES)],
            ).fetchall():
                clipped.setdefault(str(subj), []).append((str(kind), float(a), float(b), str(eid)))
        finally:
            con.unregister("_watch_touched")
        return cut, since, floor, clipped

    @staticmethod
    def _first_positions(store: Store, mmsis: set[int]) -> dict[int, float]:
        if not mmsis:
            return {}
        return {
            int(m): float(t)
            for m, t in store.con.execute(
                "SELECT mmsi, min(epoch(time)) FROM ais_positions WHERE mmsi IN (SELECT unnest(?)) "
                "AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 GROUP BY mmsi",
                [sorted(mmsis)],
            ).fetchall()
        }

    def _track_events(
        self,
        store: Store,
        touched: dict[int, float],
        cut: dict[int, float],
        since: dict[int, float],
        floor: dict[int, float],
        identity_mmsis: set[int],
        first_seen: dict[int, float],
        run: DetectionRun,
    ) -> list[Event]:
        events: list[Event] = []
        # Identity findings of the touched vessels and of those sharing their IMOs.
        ident_only = sorted(m for m in identity_mmsis if m not in touched)
        counts = [(m, 1) for m in sorted(touched)]
        identity = next(d for d in TRACK_DETECTORS.values() if isinstance(d, Identity))
        for chunk in vessel_chunks(counts, self.max_positions):
            start = min(since[m] for m in chunk) - self.lookback_s
            for track in load_chunk(store, chunk, to_datetime(start)):
                track = _trim(track, since[track.mmsi] - self.lookback_s)
                run.positions_read += len(track)
                m = track.mmsi
                found = []
                for det in TRACK_DETECTORS.values():
                    got = det.detect(track, self.refs)
                    if det is identity:
                        events += self._whole_span(got, track, first_seen)
                        got = [e for e in got if e.type != CHANGE]
                    found += got
                # Input older than what is stored can move a finding's start earlier
                # (a port call now seen to begin before the stretch): redo from there.
                reaching = [e.start.timestamp() for e in found if e.end.timestamp() >= cut[m]]
                since[m] = max(floor[m], min([since[m], *reaching]))
                events += [e for e in found if e.start.timestamp() >= since[m]]
        for m in ident_only:
            # No new position: its identity findings from its static reports and the
            # first and last stored report (two positions stand for the whole track).
            for track in load_chunk(store, [m], None):
                ends = np.unique([0, len(track) - 1]) if len(track) else np.empty(0, np.int64)
                short = Track(
                    track.mmsi,
                    track.msg_id[ends],
                    track.t[ends],
                    track.lat[ends],
                    track.lon[ends],
                    track.sog[ends],
                    track.cog[ends],
                    track.static,
                )
                found = identity.detect(short, self.refs)
                events += [e for e in found if e.type == CHANGE]
        return events

    @staticmethod
    def _whole_span(found: list[Event], track: Track, first_seen: dict[int, float]) -> list[Event]:
        """Identity findings spanning the whole track start at the vessel's first stored
        report, not at the window's."""
        out = []
        t_first = first_seen.get(track.mmsi)
        for e in found:
            if e.type != CHANGE:
                continue
            if (
                t_first is not None
                and len(track)
                and e.params.get("kind") == "invalid_mid"
                and e.start.timestamp() == float(track.t[0])
            ):
                e = dataclasses.replace(e, start=to_datetime(t_first))
            out.append(e)
        return out

    def _neighbours(self, store: Store, since: dict[int, float], start_s: float) -> list[int]:
        """The touched vessels and every vessel heard within about 30 km and the same
        hour of one of them since ``start_s``: the only ones a two-vessel finding with a
        touched vessel can involve (encounters need 0.5 km, escorts a few km)."""
        table = pa.table(
            {
                "mmsi": pa.array(list(since), pa.int64()),
                "since": pa.array([since[m] - self.lookback_s for m in since], pa.float64()),
            }
        )
        con = store.con
        con.register("_watch_pair", table)
        try:
            rows = con.execute(
                "WITH mine AS (SELECT DISTINCT CAST(floor(p.lat * 4) AS BIGINT) AS la, "
                "CAST(floor(p.lon * 4) AS BIGINT) AS lo, CAST(epoch(p.time) // 3600 AS BIGINT) AS h "
                "FROM ais_positions p JOIN _watch_pair w ON p.mmsi = w.mmsi "
                "WHERE epoch(p.time) >= w.since AND p.lat BETWEEN -90 AND 90 "
                "AND p.lon BETWEEN -180 AND 180), "
                "near AS (SELECT DISTINCT la + dla AS la, lo + dlo AS lo, h + dh AS h FROM mine, "
                "range(-1, 2) a(dla), range(-1, 2) b(dlo), range(-1, 2) c(dh)) "
                "SELECT DISTINCT p.mmsi FROM ais_positions p JOIN near n "
                "ON CAST(floor(p.lat * 4) AS BIGINT) = n.la "
                "AND CAST(floor(p.lon * 4) AS BIGINT) = n.lo "
                "AND CAST(epoch(p.time) // 3600 AS BIGINT) = n.h "
                "WHERE p.time >= ? AND p.lat BETWEEN -90 AND 90 AND p.lon BETWEEN -180 AND 180",
                [to_datetime(start_s)],
            ).fetchall()
        finally:
            con.unregister("_watch_pair")
        return sorted({int(r[0]) for r in rows} | set(since))

    def _pair_events(self, store: Store, since: dict[int, float], run: DetectionRun) -> list[Event]:
        if not since:
            return []
        start_s = min(since.values()) - self.lookback_s
        start = to_datetime(start_s)
        for det in PAIR_DETECTORS.values():
            if isinstance(det, Escorts):
                guards = [m for m in self.refs.identities if self.refs.is_guard(m)]
                det.prepare(load_chunk(store, guards, start) if guards else [], self.refs)
        vessels = self._neighbours(store, since, start_s)
        points: dict[str, list[Points]] = {n: [] for n in PAIR_DETECTORS}
        for chunk in iter_tracks(store, vessels, since=start, max_positions=self.max_positions):
            for track in chunk:
                run.positions_read += len(track)
                for name, det in PAIR_DETECTORS.items():
                    pts = det.select(track, self.refs)
                    if len(pts):
                        points[name].append(pts)
        subjects = {f"mmsi:{m}": s for m, s in since.items()}
        out: list[Event] = []
        for name, det in PAIR_DETECTORS.items():
            for e in det.detect(Points.concat(points[name]), self.refs):
                t = e.start.timestamp()
                if any(t >= subjects[s] for s in e.subjects if s in subjects):
                    out.append(e)
        return out

    def _flag_events(self, identity_mmsis: set[int]) -> list[Event]:
        identity = next(d for d in TRACK_DETECTORS.values() if isinstance(d, Identity))
        group = {m: self.refs.identities[m] for m in identity_mmsis if m in self.refs.identities}
        return flag_changes(group, self.refs, identity.params)

    @staticmethod
    def _replace(
        store: Store,
        since: dict[int, float],
        identity_mmsis: set[int],
        events: list[Event],
        extended: list[str],
    ) -> int:
        """Delete the stored events the new ones stand for, then write the new ones."""
        con = store.con
        windows = pa.table(
            {
                "subj": [f"mmsi:{m}" for m in since],
                "since": pa.array(list(since.values()), pa.float64()),
            }
        )
        idents = pa.table({"subj": [f"mmsi:{m}" for m in sorted(identity_mmsis)]})
        with store.transaction():
            con.register("_watch_windows", windows)
            con.register("_watch_idents", idents)
            try:
                # Subjects unnested and hash-joined: list_contains against every touched
                # vessel would cost events x vessels.
                row = con.execute(
                    "DELETE FROM events WHERE event_id IN ("
                    "SELECT e.event_id FROM (SELECT event_id, start_time, unnest(subjects) AS subj "
                    "FROM events WHERE type IN (SELECT unnest(?))) e JOIN _watch_windows w "
                    "ON e.subj = w.subj WHERE epoch(e.start_time) >= w.since "
                    "UNION SELECT e.event_id FROM (SELECT event_id, unnest(subjects) AS subj "
                    "FROM events WHERE type = ?) e JOIN _watch_idents i ON e.subj = i.subj)",
                    [list(TRACK_TYPES + PAIR_TYPES), CHANGE],
                ).fetchone()
            finally:
                con.unregister("_watch_windows")
                con.unregister("_watch_idents")
            if extended:
                con.execute("DELETE FROM events WHERE event_id IN (SELECT unnest(?))", [extended])
            store.write_events(events)
        return int(row[0]) if row else 0
