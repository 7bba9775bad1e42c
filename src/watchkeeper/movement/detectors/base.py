"""What every detector shares: the reference data it reads, its two Protocols,
and the candidate points two-vessel detectors exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from watchkeeper.events import Event
from watchkeeper.movement.geo import FloatArray, IntArray, ShoreDistance
from watchkeeper.movement.ports import PortIndex
from watchkeeper.movement.tracks import Track
from watchkeeper.movement.vessels import (
    GUARD_CATEGORIES,
    ListedVessels,
    ShadowFleetRegistry,
    VesselIdentity,
    imo_digits,
    imo_valid,
)

DEFAULT_SANCTIONED = ("ir", "ve", "sy", "kp", "cu", "ru")


@dataclass
class References:
    """Read-only context for detectors: ports, coastline, lists, identities, links."""

    ports: PortIndex
    shore: ShoreDistance
    sanctioned: frozenset[str] = frozenset(DEFAULT_SANCTIONED)
    listed: ListedVessels = field(default_factory=lambda: ListedVessels.build([]))
    registry: ShadowFleetRegistry | None = None
    identities: dict[int, VesselIdentity] = field(default_factory=dict)
    # mmsi -> [(entity id, method, score)] from vessels.link_all
    links: dict[int, list[tuple[str, str, float]]] = field(default_factory=dict)
    min_link_score: float = 0.75
    # Filled by a detector's own pre-pass (e.g. escorts' guard neighbourhood).
    scratch: dict[str, Any] = field(default_factory=dict)

    def subjects(self, mmsi: int) -> tuple[str, ...]:
        """``mmsi:<n>``, each valid broadcast ``imo:<n>``, and linked listed vessels."""
        out = [f"mmsi:{mmsi}"]
        ident = self.identities.get(mmsi)
        if ident is not None:
            for obs in ident.imos:
                imo = imo_digits(obs.value)
                if imo and imo_valid(imo) and f"imo:{imo}" not in out:
                    out.append(f"imo:{imo}")
        for entity_id, method, score in self.links.get(mmsi, []):
            if method in ("owner", "operator") or score < self.min_link_score:
                continue
            if entity_id not in out:
                out.append(entity_id)
        return tuple(out)

    def is_guard(self, mmsi: int) -> str | None:
        """Why this vessel counts as military/law enforcement, or ``None``."""
        ident = self.identities.get(mmsi)
        if ident is not None:
            for cat in sorted(ident.categories & GUARD_CATEGORIES):
                return f"broadcasts ship type {cat}"
        for entity_id, method, score in self.links.get(mmsi, []):
            if method in ("owner", "operator") or score < self.min_link_score:
                continue
            if entity_id in self.listed.entities and self.listed.is_guard(entity_id):
                return f"linked to listed naval/law-enforcement vessel {entity_id}"
        return None


class TrackDetector(Protocol):
    """A finding in one vessel's track: a pure function of its arrays."""

    event_types: tuple[str, ...]

    def detect(self, track: Track, refs: References) -> list[Event]: ...


@dataclass
class Points:
    """Candidate positions of many vessels on shared time bins (two-vessel events)."""

    mmsi: IntArray
    bin: IntArray  # time // bin width
    lat: FloatArray
    lon: FloatArray
    sog: FloatArray
    cog: FloatArray
    msg_id: IntArray  # nearest real report, the evidence

    @classmethod
    def empty(cls) -> Points:
        i = np.empty(0, np.int64)
        f = np.empty(0, np.float64)
        return cls(i, i, f, f, f, f, i)

    @classmethod
    def concat(cls, parts: Sequence[Points]) -> Points:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in _POINT_FIELDS))

    def take(self, index: IntArray) -> Points:
        return Points(*(getattr(self, f)[index] for f in _POINT_FIELDS))

    def __len__(self) -> int:
        return int(self.mmsi.size)


_POINT_FIELDS = ("mmsi", "bin", "lat", "lon", "sog", "cog", "msg_id")


class PairDetector(Protocol):
    """A finding about two or more vessels together: ``select`` picks each vessel's
    candidate points (pure, per track); ``detect`` joins them by time bin and grid
    cell (never all pairs)."""

    event_types: tuple[str, ...]

    def select(self, track: Track, refs: References) -> Points: ...

    def detect(self, points: Points, refs: References) -> list[Event]: ...


def params_dict(params: object, **extra: Any) -> dict[str, Any]:
    """A parameter dataclass as the ``params`` of an event, plus values found."""
    out: dict[str, Any] = asdict(params)  # type: ignore[call-overload]
    out.update(extra)
    return out


def hours(seconds: float) -> float:
    return round(seconds / 3600.0, 2)
