"""The events table: written by every analysis, read by the CLI, API and alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from watchkeeper.events.model import Event
from watchkeeper.store.base import StoreBase


class EventsMixin(StoreBase):
    def write_events(
        self, events: Iterable[Event], *, replace_types: Sequence[str] | None = None
    ) -> int:
        """Store events (same id: replaced). ``replace_types`` first clears those types,
        so re-running a detector over all data leaves no stale events. One transaction."""
        by_id: dict[str, list[Any]] = {}
        now = datetime.now(UTC)
        for e in events:
            by_id[e.event_id] = [
                e.event_id,
                e.type,
                list(e.subjects),
                e.start,
                e.end,
                e.lat,
                e.lon,
                e.score,
                e.detail,
                json.dumps(e.params, default=str),
                list(e.evidence),
                now,
            ]
        rows = list(by_id.values())
        with self.transaction() as con:
            if replace_types:
                con.execute(
                    "DELETE FROM events WHERE type IN (SELECT unnest(?))", [list(replace_types)]
                )
            if rows:
                con.executemany("DELETE FROM events WHERE event_id = ?", [[r[0]] for r in rows])
                con.executemany(
                    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                )
        return len(rows)

    def read_events(
        self,
        *,
        types: Sequence[str] | None = None,
        subject: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> list[Event]:
        """Events, oldest first. ``subject`` matches a whole subject id (``mmsi:273...``)
        or its bare value (``273...``)."""
        sql = (
            "SELECT type, subjects, start_time, end_time, score, detail, evidence, lat, lon, "
            "params FROM events"
        )
        where: list[str] = []
        params: list[Any] = []
        if types:
            where.append("type IN (SELECT unnest(?))")
            params.append(list(types))
        if subject:
            where.append(
                "(list_contains(subjects, ?) OR len(list_filter(subjects, "
                "s -> split_part(s, ':', 2) = ?)) > 0)"
            )
            params.extend([subject, subject])
        if since is not None:
            where.append("end_time >= ?")
            params.append(since)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY start_time, type, event_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = []
        for t, subjects, start, end, score, detail, evidence, lat, lon, p in self.con.execute(
            sql, params
        ).fetchall():
            out.append(
                Event(
                    type=t,
                    subjects=tuple(subjects),
                    start=start.astimezone(UTC),
                    end=end.astimezone(UTC),
                    score=score,
                    detail=detail,
                    evidence=tuple(evidence),
                    lat=lat,
                    lon=lon,
                    params=json.loads(p),
                )
            )
        return out
