"""Run the detectors over the store: link vessels, walk the tracks in chunks of
vessels, join two-vessel candidates, and write the events (replacing the old ones
of the same types, so a re-run leaves nothing stale)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from watchkeeper.errors import InputError
from watchkeeper.events import Event
from watchkeeper.movement.detectors import EVENT_TYPES, PAIR_DETECTORS, TRACK_DETECTORS
from watchkeeper.movement.detectors.base import Points, ReceptionCoverage, References
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.detectors.identity import CHANGE, Identity, flag_changes
from watchkeeper.movement.geo import shore_distance
from watchkeeper.movement.ports import port_index
from watchkeeper.movement.tracks import iter_tracks, load_chunk
from watchkeeper.movement.vessels import (
    ListedVessels,
    build_identities,
    link_all,
    shadow_fleet,
    stored_links,
)
from watchkeeper.settings import Settings
from watchkeeper.store import Store

Progress = Callable[[int, int], None]  # (vessels done, positions done)


def check_types(types: Sequence[str] | None) -> list[str]:
    """The event types asked for (all when ``None``); an unknown one is bad input."""
    if not types:
        return list(EVENT_TYPES)
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise InputError(
            None,
            f"unknown event type {unknown[0]!r} (known: {', '.join(EVENT_TYPES)})",
            field="type",
        )
    return list(dict.fromkeys(types))


def build_references(store: Store, settings: Settings | None = None) -> References:
    """Identities, links (written to ``vessel_links``), ports, coastline, lists, and
    where and when anyone was heard."""
    settings = settings or Settings.from_env()
    identities = build_identities(store)
    listed = ListedVessels.from_store(store)
    registry = shadow_fleet()
    link_all(store, identities, listed, registry)
    return References(
        ports=port_index(),
        shore=shore_distance(),
        sanctioned=frozenset(settings.sanctioned_countries),
        listed=listed,
        registry=registry,
        identities=identities,
        links=stored_links(store),
        coverage=ReceptionCoverage.from_store(store),
    )


def detect_events(
    store: Store,
    refs: References,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    *,
    max_positions: int = 1_000_000,
    progress: Progress | None = None,
) -> list[Event]:
    """Every event of ``types`` in the positions since ``since``; nothing is written."""
    wanted = set(check_types(types))
    track_dets = [d for d in TRACK_DETECTORS.values() if wanted & set(d.event_types)]
    pair_dets = {n: d for n, d in PAIR_DETECTORS.items() if wanted & set(d.event_types)}
    for det in pair_dets.values():
        if isinstance(det, Escorts):
            guards = [m for m in refs.identities if refs.is_guard(m)]
            det.prepare(load_chunk(store, guards, since) if guards else [], refs)
    events: list[Event] = []
    points: dict[str, list[Points]] = {n: [] for n in pair_dets}
    vessels = positions = 0
    for chunk in iter_tracks(store, since=since, max_positions=max_positions):
        for track in chunk:
            for tdet in track_dets:
                events += tdet.detect(track, refs)
            for name, pdet in pair_dets.items():
                pts = pdet.select(track, refs)
                if len(pts):
                    points[name].append(pts)
            vessels += 1
            positions += len(track)
        if progress is not None:
            progress(vessels, positions)
    for name, pdet in pair_dets.items():
        events += pdet.detect(Points.concat(points.pop(name)), refs)
    if CHANGE in wanted:
        params = next((d.params for d in TRACK_DETECTORS.values() if isinstance(d, Identity)), None)
        if params is not None:
            events += flag_changes(refs.identities, refs, params)
    return [e for e in events if e.type in wanted]


def run_detectors(
    store: Store,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    *,
    settings: Settings | None = None,
    max_positions: int = 1_000_000,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Link vessels, detect, and store the events; returns events per type.

    Without ``since`` every stored event of the chosen types is replaced; with it,
    only those starting at or after ``since`` (the ones this run can find again).
    """
    chosen = check_types(types)
    refs = build_references(store, settings)
    events = detect_events(
        store, refs, chosen, since, max_positions=max_positions, progress=progress
    )
    return save_detected(store, events, chosen, since)


def save_detected(
    store: Store, events: list[Event], chosen: list[str], since: datetime | None
) -> dict[str, int]:
    """Replace the stored events of the chosen types (all of them, or those starting at
    or after ``since``) with a run's events, in one transaction; their count per type."""
    with store.transaction() as con:
        if since is None:
            store.write_events(events, replace_types=chosen)
        else:
            con.execute(
                "DELETE FROM events WHERE type IN (SELECT unnest(?)) AND start_time >= ?",
                [chosen, since],
            )
            store.write_events(events)
    counts = Counter(e.type for e in events)
    return {t: counts.get(t, 0) for t in chosen}
