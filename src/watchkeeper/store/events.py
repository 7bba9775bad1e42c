"""The events table: written by every analysis, read by the CLI, API and alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

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
        columns: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] or [
            [] for _ in range(12)
        ]
        table = pa.table(
            {
                "event_id": pa.array(columns[0], pa.string()),
                "type": pa.array(columns[1], pa.string()),
                "subjects": pa.array(columns[2], pa.list_(pa.string())),
                "start_time": pa.array(columns[3], pa.timestamp("us", tz="UTC")),
                "end_time": pa.array(columns[4], pa.timestamp("us", tz="UTC")),
                "lat": pa.array(columns[5], pa.float64()),
                "lon": pa.array(columns[6], pa.float64()),
                "score": pa.array(columns[7], pa.float64()),
                "detail": pa.array(columns[8], pa.string()),
                "params": pa.array(columns[9], pa.string()),
                "evidence": pa.array(columns[10], pa.list_(pa.string())),
                "created_at": pa.array(columns[11], pa.timestamp("us", tz="UTC")),
            }
        )
        with self.transaction() as con:
            if replace_types:
                con.execute(
                    "DELETE FROM events WHERE type IN (SELECT unnest(?))", [list(replace_types)]
                )
            if rows:
                con.register("_new_events", table)
                try:
                    con.execute(
                        "DELETE FROM events WHERE event_id IN (SELECT event_id FROM _new_events)"
                    )
                    con.execute("INSERT INTO events SELECT * FROM _new_events")
                finally:
                    con.unregister("_new_events")
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
