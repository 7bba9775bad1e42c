"""Hand-made events for the alert tests, shaped like the ones the detectors store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from watchkeeper.events.model import Event

T0 = datetime(2020, 5, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def event(
    etype: str,
    subjects: tuple[str, ...],
    start_h: float,
    end_h: float,
    *,
    score: float = 0.5,
    params: dict[str, Any] | None = None,
    detail: str = "",
    evidence: tuple[str, ...] = (),
) -> Event:
    return Event(
        type=etype,
        subjects=subjects,
        start=at(start_h),
        end=at(end_h),
        score=score,
        detail=detail or f"{etype} of {', '.join(subjects)} at +{start_h} h",
        evidence=evidence or (f"ais:{etype}-{start_h}",),
        params=params or {},
    )


def owner_blocked(imo: str, entity: str) -> Event:
    return event(
        "vessel_owner_blocked",
        (imo, entity),
        0,
        0,
        score=1.0,
        detail=f"vessel {imo}: owner is listed",
        evidence=(f"list:{entity}",),
    )
