"""HAND-MADE flight tracks (not real data) for the listed-operator, route and bridge detectors.

No real track of an Iranian airliner is available to the project, so these are made up:
an aircraft with an address in Iran's ICAO block (0x730000-0x737FFF), callsign of Mahan
Air's ICAO designator ``IRM`` and the registration ``EP-MNG`` (a tail number on the OFAC
SDN list, entry 15438) flying Tehran Imam Khomeini (OIIE) <-> Caracas Maiquetia (SVMI)
along the great circle, in the traffic library's state-vector layout (JSON lines).
Everything about them is invented except the airports' coordinates (airportsdata).

``python -m tests.movement.air.handmade data/adsb/handmade_mahan_OIIE_SVMI.jsonl.gz``
writes the bundled copy ``make run`` shows.
"""

from __future__ import annotations

import gzip
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from watchkeeper.movement.air.airports import default_airports
from watchkeeper.movement.air.geodesy import great_circle_points, haversine_km

HANDMADE_ICAO24 = "7300f1"  # invented, inside Iran's block
HANDMADE_REGISTRATION = "EP-MNG"
HANDMADE_CALLSIGN_OUT = "IRM7150"
HANDMADE_CALLSIGN_BACK = "IRM7151"
# Four invented rotations in April 2024 (the report speaks of flights to Venezuela in April).
HANDMADE_DEPARTURES = [
    ("OIIE", "SVMI", datetime(2024, 4, 2, 1, 0, tzinfo=UTC)),
    ("SVMI", "OIIE", datetime(2024, 4, 4, 3, 0, tzinfo=UTC)),
    ("OIIE", "SVMI", datetime(2024, 4, 16, 1, 30, tzinfo=UTC)),
    ("SVMI", "OIIE", datetime(2024, 4, 18, 2, 0, tzinfo=UTC)),
]


def flight_rows(
    dep: str,
    arr: str,
    start: datetime,
    *,
    icao24: str = HANDMADE_ICAO24,
    callsign: str = HANDMADE_CALLSIGN_OUT,
    registration: str | None = HANDMADE_REGISTRATION,
    step_s: int = 120,
    silent: tuple[float, float] | None = None,
) -> list[dict[str, Any]]:
    """One invented flight: 5 min taxi on the ground, climb, cruise at 36,000 ft and 480 kt on
    the great circle, descent, 5 min taxi. ``silent`` = (from, to) fractions of the route
    with no states (a transponder switched off)."""
    airports = default_airports()
    a, b = airports.get(dep), airports.get(arr)
    assert a is not None and b is not None
    km = float(haversine_km(a.lat, a.lon, b.lat, b.lon))
    seconds = km / (480 * 1.852) * 3600
    n = max(int(seconds // step_s), 2)
    points = great_circle_points(a.lat, a.lon, b.lat, b.lon, n + 1)
    rows: list[dict[str, Any]] = []

    def add(t: datetime, lat: float, lon: float, alt: float, gs: float, ground: bool) -> None:
        row = {
            "timestamp": int(t.timestamp() * 1000),
            "icao24": icao24,
            "callsign": callsign,
            "latitude": round(lat, 5),
            "longitude": round(lon, 5),
            "altitude": alt,
            "groundspeed": gs,
            "track": None,
            "vertical_rate": 0.0,
            "onground": ground,
            "squawk": "2000",
        }
        if registration:
            row["registration"] = registration
        rows.append(row)

    for k in range(5):
        add(start + timedelta(minutes=k), a.lat + 0.001 * k, a.lon, a.elevation_ft, 15.0, True)
    t0 = start + timedelta(minutes=6)
    for i, (lat, lon) in enumerate(points):
        frac = i / n
        if silent and silent[0] < frac < silent[1]:
            continue
        climb = min(1.0, i / 12, (n - i) / 12)
        alt = round(a.elevation_ft + (36000 - a.elevation_ft) * climb, -2)
        add(t0 + timedelta(seconds=i * step_s), lat, lon, alt, 160 + 320 * climb, False)
    t1 = t0 + timedelta(seconds=n * step_s + 60)
    for k in range(5):
        add(t1 + timedelta(minutes=k), b.lat + 0.001 * k, b.lon, b.elevation_ft, 15.0, True)
    return rows


def handmade_rows() -> list[dict[str, Any]]:
    """The four invented rotations; the third goes silent over the Atlantic for a while."""
    rows: list[dict[str, Any]] = []
    for k, (dep, arr, start) in enumerate(HANDMADE_DEPARTURES):
        callsign = HANDMADE_CALLSIGN_OUT if dep == "OIIE" else HANDMADE_CALLSIGN_BACK
        rows += flight_rows(
            dep, arr, start, callsign=callsign, silent=(0.55, 0.7) if k == 2 else None
        )
    return rows


def write(path: Path) -> None:
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in handmade_rows())
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz,
    ):
        gz.write(text.encode())


if __name__ == "__main__":
    write(Path(sys.argv[1]))
