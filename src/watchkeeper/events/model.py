"""An event: a port call, an AIS gap, an encounter, a listed-operator flight, a report
mention... Each carries who it is about, when, where, how sure, why, and the ids of
the evidence (positions, list entries, sentences) behind it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Event:
    """One finding. ``subjects`` are typed ids: ``mmsi:273449250``, ``imo:9187629``,
    ``icao24:730a01``, ``ofac-12927``; ``evidence`` are typed ids too:
    ``ais:<msg_id>``, ``adsb:<row id>``, ``list:ofac-12927``, ``doc:<id>#<start>-<end>``.
    Times are timezone-aware UTC."""

    type: str
    subjects: tuple[str, ...]
    start: datetime
    end: datetime
    score: float
    detail: str
    evidence: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"{self.type}: event times must be timezone-aware (UTC)")
        if self.end < self.start:
            raise ValueError(f"{self.type}: event ends before it starts")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"{self.type}: score {self.score} is outside 0..1")

    @property
    def event_id(self) -> str:
        """Deterministic: the same finding on the same data always has the same id."""
        key = json.dumps(
            [self.type, sorted(self.subjects), self.start.isoformat(), self.end.isoformat()]
        )
        return f"{self.type}-{hashlib.sha1(key.encode()).hexdigest()[:16]}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.event_id,
            "type": self.type,
            "subjects": list(self.subjects),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "lat": self.lat,
            "lon": self.lon,
            "score": self.score,
            "detail": self.detail,
            "params": self.params,
            "evidence": list(self.evidence),
        }
        for kind in ("mmsi", "imo", "icao24"):
            values = subject_value(self.subjects, kind)
            if values:
                out[kind] = values[0] if len(values) == 1 else values
        return out


def subject_value(subjects: tuple[str, ...] | list[str], kind: str) -> list[str]:
    """The values of one kind of subject: ``subject_value(('mmsi:1', 'mmsi:2'), 'mmsi')``."""
    prefix = f"{kind}:"
    return [s[len(prefix) :] for s in subjects if s.startswith(prefix)]
