"""HAND-MADE tracks (not real data) for edge conditions of the Spark pair join: an
encounter whose two vessels sit in different grid cells, and a naval escort with two
vessels crossing cell after cell. Written straight into ``ais_positions``/``ais_static``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from watchkeeper.events import Event
from watchkeeper.movement.detectors import PAIR_DETECTORS
from watchkeeper.movement.detectors.base import Points, References
from watchkeeper.movement.detectors.encounters import Encounters
from watchkeeper.movement.geo import KM_PER_NM, grid_cells
from watchkeeper.movement.tracks import Track
from watchkeeper.store import Store

T0 = datetime(2024, 3, 1, tzinfo=UTC).timestamp()
KM_PER_DEG = 111.195
STEP_S = 300.0  # a report every 5 minutes

# Encounter: two vessels drifting 300 m apart, mid-Atlantic (far from any port).
MEET_A, MEET_B = 636012345, 273123456  # Liberia, Russia
# Escort: a naval vessel (AIS ship type 35) with two tankers 1 and 2 km abeam.
GUARD, TANKER_1, TANKER_2 = 273456789, 636098765, 538001234
# Renamed: broadcast names with a tab and trailing spaces (DuckDB's trim() strips
# spaces only: so must Spark's), one report without a time (sorted last).
RENAMED = 636077777
RENAMES: list[tuple[float | None, str | None, str | None]] = [
    (T0 + 1800, "NEON STAR  ", "D5AB2"),
    (T0, "\tDARK STAR ", None),
    (None, "DARK STAR", "D5AB2 "),
    (T0 + 3600, None, "D5XY9"),
]


def encounter_places() -> tuple[tuple[float, float], tuple[float, float]]:
    """Two points 300 m apart east-west that fall in different encounter grid cells
    (the first such pair along a line of latitude): a join on the same cell only
    would miss them."""
    enc = PAIR_DETECTORS["encounters"]
    assert isinstance(enc, Encounters)
    cell_km = enc.params.max_distance_km
    lat = 30.0
    dlon = 0.3 / (KM_PER_DEG * np.cos(np.radians(lat)))
    lons = -40.0 + np.arange(200) * 0.0007
    a = grid_cells(np.full(lons.size, lat), lons, cell_km)
    b = grid_cells(np.full(lons.size, lat), lons + dlon, cell_km)
    k = int(np.flatnonzero(a != b)[0])
    return (lat, float(lons[k])), (lat, float(lons[k] + dlon))


def _positions(
    mmsi: int, t: np.ndarray, lat: np.ndarray, lon: np.ndarray, sog: float, cog: float
) -> dict[str, list[object]]:
    n = t.size
    return {
        "mmsi": [mmsi] * n,
        "time": [datetime.fromtimestamp(float(x), tz=UTC) for x in t],
        "lat": lat.tolist(),
        "lon": lon.tolist(),
        "sog": [sog] * n,
        "cog": [cog] * n,
    }


def fill(store: Store) -> None:
    """The hand-made encounter (3 h) and escort (3 h) into ``store``."""
    rows: dict[str, list[object]] = {k: [] for k in ("mmsi", "time", "lat", "lon", "sog", "cog")}

    def add(part: dict[str, list[object]]) -> None:
        for k, v in part.items():
            rows[k] += v

    t = T0 + np.arange(37) * STEP_S  # 3 hours
    (la, loa), (lb, lob) = encounter_places()
    add(_positions(MEET_A, t, np.full(t.size, la), np.full(t.size, loa), 0.5, 90.0))
    add(_positions(MEET_B, t, np.full(t.size, lb), np.full(t.size, lob), 0.4, 270.0))
    # Escort: east at 10 kn along 31 N from 45 W; the tankers 1 km and 2 km north.
    km = (t - T0) / 3600.0 * 10.0 * KM_PER_NM
    lon = -45.0 + km / (KM_PER_DEG * np.cos(np.radians(31.0)))
    for mmsi, north_km in ((GUARD, 0.0), (TANKER_1, 1.0), (TANKER_2, 2.0)):
        lat = np.full(t.size, 31.0 + north_km / KM_PER_DEG)
        add(_positions(mmsi, t, lat, lon, 10.0, 90.0))
    add(_positions(RENAMED, t[:6], np.full(6, 20.0), np.full(6, -30.0), 12.0, 45.0))
    n = len(rows["mmsi"])
    positions = pa.table(
        {
            "msg_id": pa.array(np.arange(1, n + 1), pa.int64()),
            "ingest_id": pa.array(np.zeros(n), pa.int32()),
            "mmsi": pa.array(rows["mmsi"], pa.int32()),
            "time": pa.array(rows["time"], pa.timestamp("us", tz="UTC")),
            "lat": pa.array(rows["lat"], pa.float64()),
            "lon": pa.array(rows["lon"], pa.float64()),
            "sog": pa.array(rows["sog"], pa.float64()),
            "cog": pa.array(rows["cog"], pa.float64()),
            "msg_type": pa.array(np.ones(n), pa.int16()),
            "source": pa.array(["hand-made"] * n),
        }
    )
    vessels = [
        (GUARD, "NAVAL PATROL", 35),
        (TANKER_1, "TANKER ONE", 80),
        (TANKER_2, "TANKER TWO", 80),
        (MEET_A, "MEET A", 80),
        (MEET_B, "MEET B", 80),
    ]
    times: list[datetime | None] = [datetime.fromtimestamp(T0, tz=UTC)] * len(vessels)
    names: list[str | None] = [v[1] for v in vessels]
    callsigns: list[str | None] = [None] * len(vessels)
    mmsis = [v[0] for v in vessels]
    types: list[int | None] = [v[2] for v in vessels]
    for when, name, callsign in RENAMES:
        times.append(None if when is None else datetime.fromtimestamp(when, tz=UTC))
        names.append(name)
        callsigns.append(callsign)
        mmsis.append(RENAMED)
        types.append(None)
    m = len(mmsis)
    statics = pa.table(
        {
            "msg_id": pa.array(np.arange(n + 1, n + 1 + m), pa.int64()),
            "ingest_id": pa.array(np.zeros(m), pa.int32()),
            "mmsi": pa.array(mmsis, pa.int32()),
            "time": pa.array(times, pa.timestamp("us", tz="UTC")),
            "msg_type": pa.array([5] * m, pa.int16()),
            "name": pa.array(names, pa.string()),
            "callsign": pa.array(callsigns, pa.string()),
            "ship_type": pa.array(types, pa.int16()),
            "source": ["hand-made"] * m,
        }
    )
    with store.transaction() as con:
        con.register("_p", positions)
        con.execute("INSERT INTO ais_positions BY NAME SELECT * FROM _p")
        con.unregister("_p")
        con.register("_s", statics)
        con.execute("INSERT INTO ais_static BY NAME SELECT * FROM _s")
        con.unregister("_s")


@dataclass
class UnjoinedEncounters:
    """The encounter detector behind a wrapper Spark has no join for: its candidate
    points are joined on the driver (the fallback for a pair detector Spark does not
    know)."""

    inner: Encounters = field(default_factory=Encounters)
    event_types: tuple[str, ...] = ("encounter",)

    def select(self, track: Track, refs: References) -> Points:
        return self.inner.select(track, refs)

    def detect(self, points: Points, refs: References) -> list[Event]:
        return self.inner.detect(points, refs)
