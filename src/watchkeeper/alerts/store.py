"""Reading alerts: a filtered list, and one alert with its events and their evidence."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from watchkeeper.alerts.rules import SEVERITIES
from watchkeeper.errors import InputError
from watchkeeper.store.base import StoreBase

STATES = ("new", "in_review", "escalated", "dismissed", "confirmed")

_COLUMNS = (
    "alert_id, rule_id, severity, title, subjects, start_time, end_time, score, event_ids, "
    "why, state, assignee, case_id, revision, created_at, updated_at"
)


@dataclass(frozen=True)
class Alert:
    alert_id: str
    rule_id: str
    severity: str
    title: str
    subjects: list[str]
    start_time: datetime
    end_time: datetime
    score: float
    event_ids: list[str]
    why: dict[str, list[str]]
    state: str
    assignee: str | None
    case_id: str | None
    revision: int
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlertEvent:
    """One event behind an alert, with the evidence ids it names (evidence step 2)."""

    event_id: str
    type: str
    subjects: list[str]
    start_time: datetime
    end_time: datetime
    score: float
    detail: str
    evidence: list[str]


@dataclass(frozen=True)
class AlertDetail:
    alert: Alert
    events: list[AlertEvent]

    def to_dict(self) -> dict[str, Any]:
        return {**self.alert.to_dict(), "events": [asdict(e) for e in self.events]}


def _alert(row: tuple[Any, ...]) -> Alert:
    return Alert(
        row[0],
        row[1],
        row[2],
        row[3],
        list(row[4]),
        row[5],
        row[6],
        float(row[7]),
        list(row[8]),
        json.loads(row[9]),
        row[10],
        row[11],
        row[12],
        int(row[13]),
        row[14],
        row[15],
    )


def list_alerts(
    store: StoreBase, *, state: str | None = None, severity: str | None = None
) -> list[Alert]:
    """Alerts, most severe then latest first; ``state`` and ``severity`` filter."""
    if state is not None and state not in STATES:
        raise InputError(
            None, f"unknown state {state!r}; one of {', '.join(STATES)}", field="state"
        )
    if severity is not None and severity not in SEVERITIES:
        raise InputError(
            None,
            f"unknown severity {severity!r}; one of {', '.join(SEVERITIES)}",
            field="severity",
        )
    rows = store.con.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE (? IS NULL OR state = ?) "
        "AND (? IS NULL OR severity = ?) "
        "ORDER BY list_position(['critical', 'high', 'medium', 'low'], severity), "
        "end_time DESC, alert_id",
        [state, state, severity, severity],
    ).fetchall()
    return [_alert(r) for r in rows]


def get_alert(store: StoreBase, alert_id: str) -> AlertDetail:
    """One alert with its events (alert -> events -> evidence ids); InputError if absent."""
    row = store.con.execute(
        f"SELECT {_COLUMNS} FROM alerts WHERE alert_id = ?", [alert_id]
    ).fetchone()
    if row is None:
        raise InputError(None, f"no alert {alert_id!r}", field="alert_id")
    alert = _alert(row)
    rows = store.con.execute(
        "SELECT event_id, type, subjects, start_time, end_time, score, detail, evidence "
        "FROM events WHERE event_id IN (SELECT unnest(?)) ORDER BY start_time, event_id",
        [alert.event_ids],
    ).fetchall()
    events = [
        AlertEvent(r[0], r[1], list(r[2]), r[3], r[4], float(r[5]), r[6], list(r[7])) for r in rows
    ]
    return AlertDetail(alert, events)
