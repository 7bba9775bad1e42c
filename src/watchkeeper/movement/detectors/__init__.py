"""Detectors, one module per kind of finding; the registries are plain dicts."""

from __future__ import annotations

from watchkeeper.movement.detectors.ais_gaps import AisGaps
from watchkeeper.movement.detectors.base import PairDetector, Points, References, TrackDetector
from watchkeeper.movement.detectors.encounters import Encounters
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.detectors.identity import Identity
from watchkeeper.movement.detectors.loitering import Loitering
from watchkeeper.movement.detectors.port_calls import PortCalls
from watchkeeper.movement.detectors.voyages import Voyages

TRACK_DETECTORS: dict[str, TrackDetector] = {
    "port_calls": PortCalls(),
    "ais_gaps": AisGaps(),
    "loitering": Loitering(),
    "identity": Identity(),
    "voyages": Voyages(),
}

PAIR_DETECTORS: dict[str, PairDetector] = {
    "encounters": Encounters(),
    "escorts": Escorts(),
}

EVENT_TYPES: tuple[str, ...] = (
    "port_call",
    "ais_gap",
    "encounter",
    "loitering",
    "escort",
    "identity_change",
    "position_jump",
    "voyage",
)

__all__ = [
    "EVENT_TYPES",
    "PAIR_DETECTORS",
    "TRACK_DETECTORS",
    "PairDetector",
    "Points",
    "References",
    "TrackDetector",
]
