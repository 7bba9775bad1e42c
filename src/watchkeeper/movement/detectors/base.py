"""What every detector shares: the reference data it reads (with where and when any
vessel was heard at all), its two Protocols, and the candidate points two-vessel
detectors exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

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
from watchkeeper.store import Store

DEFAULT_SANCTIONED = ("ir", "ve", "sy", "kp", "cu", "ru")

_HOUR_BITS = 25  # hours since 1970 fit 25 bits until the year 5797
_HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class ReceptionCoverage:
    """Where and when any vessel was heard: the (1-degree cell, UTC hour) bins holding
    at least one position report. A vessel's silence means something only where the
    receivers kept hearing others (Global Fishing Watch counts gaps only where
    reception is good); a stretch between two unrelated sample files, or a receiver
    that stopped, leaves its area silent too.

    Built by one relational step both engines express (``SELECT DISTINCT floor(lat),
    floor(lon), time_us DIV 3600000000``): ``from_store`` here, the Spark twin in
    ``scale.spark``."""

    keys: IntArray  # sorted unique: cell << 25 | hour

    @classmethod
    def from_bins(
        cls, lat_deg: npt.ArrayLike, lon_deg: npt.ArrayLike, hour: npt.ArrayLike
    ) -> ReceptionCoverage:
        """From whole degrees (``floor(lat)``, ``floor(lon)``) and hours since the epoch."""
        cells = _cells(np.asarray(lat_deg, np.int64), np.asarray(lon_deg, np.int64))
        keys = (cells << _HOUR_BITS) | np.asarray(hour, np.int64)
        return cls(np.unique(keys))

    @classmethod
    def from_store(cls, store: Store) -> ReceptionCoverage:
        """Every position in ``ais_positions`` (valid coordinates, as tracks load them)."""
        found = store.con.execute(
            "SELECT DISTINCT CAST(floor(lat) AS BIGINT) AS la, CAST(floor(lon) AS BIGINT) AS lo,"
            f" epoch_us(time) // {_HOUR_US} AS h FROM ais_positions"
            " WHERE lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180"
        ).fetchnumpy()
        return cls.from_bins(found["la"], found["lo"], found["h"])

    def longest_silence_hours(self, lat: float, lon: float, t0: float, t1: float) -> int:
        """The most consecutive whole UTC hours strictly between ``t0`` and ``t1``
        (seconds since the epoch) in which nothing was heard within the 1-degree cell of
        (``lat``, ``lon``) and its eight neighbours."""
        h0, h1 = int(np.floor(t0 / 3600.0)), int(np.floor(t1 / 3600.0))
        if h1 - h0 <= 1:
            return 0
        la, lo = int(np.floor(lat)), int(np.floor(lon))
        heard = [np.asarray([h0, h1], np.int64)]
        for dla in (-1, 0, 1):
            for dlo in (-1, 0, 1):
                if not -90 <= la + dla <= 89:
                    continue
                cell = int(_cells(np.asarray([la + dla]), np.asarray([lo + dlo]))[0])
                a, b = np.searchsorted(
                    self.keys, [(cell << _HOUR_BITS) | (h0 + 1), (cell << _HOUR_BITS) | h1]
                )
                heard.append(self.keys[a:b] & ((1 << _HOUR_BITS) - 1))
        hours = np.unique(np.concatenate(heard))
        return int(np.diff(hours).max()) - 1

    def __len__(self) -> int:
        return int(self.keys.size)


def _cells(lat_deg: IntArray, lon_deg: IntArray) -> IntArray:
    """1-degree cell number: rows from the south pole (90 N in the last row), columns
    from 180 W, wrapping across the antimeridian."""
    row = np.clip(lat_deg, -90, 89) + 90
    col = np.mod(lon_deg + 180, 360)
    return np.asarray(row * 360 + col, dtype=np.int64)


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
    # Where and when anyone was heard; None (unknown) leaves gaps unchecked by it.
    coverage: ReceptionCoverage | None = None
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
