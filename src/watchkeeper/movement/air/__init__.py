"""Aircraft: state vectors and raw Mode-S frames in, flights, identities and flight events out.

``ingest_paths(store, paths)`` reads any supported file (see ``formats``) and rebuilds the
flights of the aircraft it touches; ``run_detectors(store)`` writes the flight events.
"""

from watchkeeper.movement.air.detectors import DETECTORS, EVENT_TYPES, AirRules, FlightDetector
from watchkeeper.movement.air.ingest import (
    BUNDLED_ADSB,
    FileReport,
    IngestReport,
    build_context,
    ingest_paths,
    run_detectors,
)

__all__ = [
    "BUNDLED_ADSB",
    "DETECTORS",
    "EVENT_TYPES",
    "AirRules",
    "FileReport",
    "FlightDetector",
    "IngestReport",
    "build_context",
    "ingest_paths",
    "run_detectors",
]
