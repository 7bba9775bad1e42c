"""The aircraft tables (``store/schema/030_air.sql``): writing states and frames, rebuilding
flights and identities, reading them back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from watchkeeper.movement.air.airports import AirportIndex
from watchkeeper.movement.air.flights import Flight, FlightRules, Track, split_flights
from watchkeeper.movement.air.identity import Registers, identify
from watchkeeper.movement.air.modes import FrameTable
from watchkeeper.movement.air.states import AircraftFacts, StateVectors


def next_id(con: duckdb.DuckDBPyConnection, table: str, column: str) -> int:
    row = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()
    return int(row[0]) if row else 1


def _times(seconds: np.ndarray) -> pa.Array:
    micros = np.round(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    return pa.array(micros, type=pa.timestamp("us", tz="UTC"))


def _floats(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> NULL


def insert_states(
    con: duckdb.DuckDBPyConnection,
    states: StateVectors,
    ingest_id: int,
    row_base: int,
    frame_base: int | None,
) -> int:
    n = len(states)
    if not n:
        return 0
    frame_ids = (
        pa.array(
            np.where(states.frame_index >= 0, states.frame_index + (frame_base or 0), 0),
            mask=states.frame_index < 0,
            type=pa.int64(),
        )
        if frame_base is not None
        else pa.nulls(n, pa.int64())
    )
    table = pa.table(
        {
            "row_id": pa.array(np.arange(row_base, row_base + n, dtype=np.int64)),
            "ingest_id": pa.array(np.full(n, ingest_id, dtype=np.int32)),
            "icao24": pa.array(states.icao24.tolist(), type=pa.string()),
            "time": _times(states.time),
            "lat": _floats(states.lat),
            "lon": _floats(states.lon),
            "altitude_ft": _floats(states.altitude_ft),
            "geoaltitude_ft": _floats(states.geoaltitude_ft),
            "groundspeed_kt": _floats(states.groundspeed_kt),
            "track_deg": _floats(states.track_deg),
            "vertical_rate_fpm": _floats(states.vertical_rate_fpm),
            "onground": pa.array(states.onground == 1, mask=states.onground < 0, type=pa.bool_()),
            "callsign": pa.array(states.callsign.tolist(), type=pa.string()),
            "squawk": pa.array(states.squawk.tolist(), type=pa.string()),
            "frame_id": frame_ids,
        }
    )
    con.register("_air_states_new", table)
    try:
        con.execute("INSERT INTO air_states SELECT * FROM _air_states_new")
    finally:
        con.unregister("_air_states_new")
    return n


def insert_frames(
    con: duckdb.DuckDBPyConnection, frames: FrameTable, ingest_id: int, frame_base: int
) -> int:
    n = len(frames)
    if not n:
        return 0
    table = pa.table(
        {
            "frame_id": pa.array(np.arange(frame_base, frame_base + n, dtype=np.int64)),
            "ingest_id": pa.array(np.full(n, ingest_id, dtype=np.int32)),
            "time": _times(frames.time),
            "icao24": pa.array(frames.icao24.tolist(), type=pa.string()),
            "df": pa.array(frames.df, type=pa.int16()),
            "typecode": pa.array(frames.typecode, mask=frames.typecode < 0, type=pa.int16()),
            "frame": pa.array(frames.frame.tolist(), type=pa.string()),
        }
    )
    con.register("_air_frames_new", table)
    try:
        con.execute("INSERT INTO air_frames SELECT * FROM _air_frames_new")
    finally:
        con.unregister("_air_frames_new")
    return n


def load_tracks(
    con: duckdb.DuckDBPyConnection, icao24s: Sequence[str] | None = None
) -> Iterator[Track]:
    """Each aircraft's stored states, time-ordered; a repeated time keeps its first row."""
    sql = (
        "SELECT icao24, row_id, epoch_us(time) / 1e6, lat, lon, altitude_ft, groundspeed_kt, "
        "CASE WHEN onground IS NULL THEN -1 WHEN onground THEN 1 ELSE 0 END, callsign, "
        "vertical_rate_fpm "
        "FROM air_states"
    )
    params: list[Any] = []
    if icao24s is not None:
        sql += " WHERE icao24 IN (SELECT unnest(?))"
        params.append(list(icao24s))
    sql += " ORDER BY icao24, time, row_id"
    result = con.execute(sql, params).to_arrow_table()
    if result.num_rows == 0:
        return
    cols = [result.column(i).to_numpy(zero_copy_only=False) for i in range(result.num_columns)]
    keys = cols[0]
    edges = [0, *(np.flatnonzero(keys[1:] != keys[:-1]) + 1).tolist(), len(keys)]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        t = np.asarray(cols[2][a:b], dtype=np.float64)
        keep = np.ones(b - a, dtype=bool)
        keep[1:] = np.diff(t) > 0
        yield Track(
            icao24=str(keys[a]),
            row_id=np.asarray(cols[1][a:b], dtype=np.int64)[keep],
            time=t[keep],
            lat=np.asarray(cols[3][a:b], dtype=np.float64)[keep],
            lon=np.asarray(cols[4][a:b], dtype=np.float64)[keep],
            altitude_ft=np.asarray(cols[5][a:b], dtype=np.float64)[keep],
            groundspeed_kt=np.asarray(cols[6][a:b], dtype=np.float64)[keep],
            onground=np.asarray(cols[7][a:b], dtype=np.int8)[keep],
            callsign=np.asarray(cols[8][a:b], dtype=object)[keep],
            vertical_rate_fpm=np.asarray(cols[9][a:b], dtype=np.float64)[keep],
        )


def _ts(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def write_flights(
    con: duckdb.DuckDBPyConnection, icao24s: Sequence[str], flights: Iterable[Flight]
) -> int:
    con.execute("DELETE FROM air_flights WHERE icao24 IN (SELECT unnest(?))", [list(icao24s)])
    rows = []
    for f in flights:
        rows.append(
            [
                f.flight_id,
                f.icao24,
                f.callsign,
                f.callsigns,
                _ts(f.start),
                _ts(f.end),
                _ts(f.takeoff),
                _ts(f.landing),
                f.departure.airport.icao if f.departure else None,
                f.arrival.airport.icao if f.arrival else None,
                f.departure.detail("departure") if f.departure else None,
                f.arrival.detail("arrival") if f.arrival else None,
                f.departure.row_id if f.departure else None,
                f.arrival.row_id if f.arrival else None,
                f.first_row,
                f.last_row,
                f.n_points,
                f.first_lat,
                f.first_lon,
                f.last_lat,
                f.last_lon,
                f.max_altitude_ft,
                f.distance_km,
                f.gc_km,
                json.dumps(f.path),
            ]
        )
    if rows:
        con.executemany("INSERT INTO air_flights VALUES (" + ", ".join(["?"] * 25) + ")", rows)
    return len(rows)


def rebuild(
    con: duckdb.DuckDBPyConnection,
    icao24s: Sequence[str],
    facts: dict[str, AircraftFacts],
    airports: AirportIndex,
    registers: Registers,
    rules: FlightRules | None = None,
) -> tuple[int, int]:
    """Recompute the flights and identities of these aircraft from all their stored states.
    Returns (flights, aircraft)."""
    flights: list[Flight] = []
    for track in load_tracks(con, icao24s):
        flights.extend(split_flights(track, airports, rules))
    n_flights = write_flights(con, icao24s, flights)
    stats = con.execute(
        "SELECT icao24, min(time), max(time), count(*), "
        "list(DISTINCT callsign) FILTER (WHERE callsign IS NOT NULL) "
        "FROM air_states WHERE icao24 IN (SELECT unnest(?)) GROUP BY icao24",
        [list(icao24s)],
    ).fetchall()
    known = {
        r[0]: r
        for r in con.execute(
            "SELECT icao24, registration, registration_source, serial, typecode, description, "
            "owner_operator FROM air_aircraft WHERE icao24 IN (SELECT unnest(?))",
            [list(icao24s)],
        ).fetchall()
    }
    rows = []
    for icao24, first, last, count, callsigns in stats:
        fact = AircraftFacts()
        prior = known.get(icao24)
        if prior is not None and prior[2] == "source":
            fact.merge(AircraftFacts(prior[1], prior[4], prior[5], prior[6]))
        elif prior is not None:
            fact.merge(AircraftFacts(None, prior[4], prior[5], prior[6]))
        if icao24 in facts:
            fact.merge(facts[icao24])
        ident = identify(
            icao24,
            registers,
            registration=fact.registration,
            callsigns=callsigns or [],
            typecode=fact.typecode,
            description=fact.description,
            owner_operator=fact.owner_operator,
        )
        rows.append(
            [
                icao24,
                ident.country,
                ident.country_code,
                ident.registration,
                ident.registration_source,
                prior[3] if prior else None,
                ident.typecode,
                ident.description,
                ident.owner_operator,
                ident.callsigns,
                first,
                last,
                count,
            ]
        )
    con.execute("DELETE FROM air_aircraft WHERE icao24 IN (SELECT unnest(?))", [list(icao24s)])
    if rows:
        con.executemany("INSERT INTO air_aircraft VALUES (" + ", ".join(["?"] * 13) + ")", rows)
    return n_flights, len(rows)


# --- reading back -----------------------------------------------------------------------


@dataclass
class StoredFlight:
    """A flight as stored (times UTC)."""

    flight_id: str
    icao24: str
    callsign: str | None
    callsigns: list[str]
    start: datetime
    end: datetime
    takeoff: datetime | None
    landing: datetime | None
    departure: str | None
    arrival: str | None
    departure_detail: str | None
    arrival_detail: str | None
    departure_row: int | None
    arrival_row: int | None
    first_row: int
    last_row: int
    n_points: int
    first_lat: float
    first_lon: float
    last_lat: float
    last_lon: float
    max_altitude_ft: float | None
    distance_km: float
    gc_km: float

    def evidence(self) -> list[str]:
        rows = [self.departure_row, self.first_row, self.last_row, self.arrival_row]
        out: list[str] = []
        for r in rows:
            if r is not None and f"adsb:{r}" not in out:
                out.append(f"adsb:{r}")
        return out

    def to_dict(self) -> dict[str, Any]:
        def iso(t: datetime | None) -> str | None:
            return t.astimezone(UTC).isoformat() if t else None

        return {
            "flight_id": self.flight_id,
            "icao24": self.icao24,
            "callsign": self.callsign,
            "departure": self.departure,
            "arrival": self.arrival,
            "start": iso(self.start),
            "end": iso(self.end),
            "takeoff": iso(self.takeoff),
            "landing": iso(self.landing),
            "departure_detail": self.departure_detail,
            "arrival_detail": self.arrival_detail,
            "n_points": self.n_points,
            "max_altitude_ft": self.max_altitude_ft,
            "distance_km": round(self.distance_km, 1),
            "gc_km": round(self.gc_km, 1),
            "evidence": self.evidence(),
        }


_FLIGHT_COLS = (
    "flight_id, icao24, callsign, callsigns, start_time, end_time, takeoff, landing, departure, "
    "arrival, departure_detail, arrival_detail, departure_row, arrival_row, first_row, last_row, "
    "n_points, first_lat, first_lon, last_lat, last_lon, max_altitude_ft, distance_km, gc_km"
)


def read_flights(
    con: duckdb.DuckDBPyConnection,
    *,
    icao24s: Sequence[str] | None = None,
    departure: str | None = None,
    arrival: str | None = None,
) -> list[StoredFlight]:
    sql = f"SELECT {_FLIGHT_COLS} FROM air_flights"
    where: list[str] = []
    params: list[Any] = []
    if icao24s is not None:
        where.append("icao24 IN (SELECT unnest(?))")
        params.append(list(icao24s))
    if departure:
        where.append("departure = ?")
        params.append(departure.upper())
    if arrival:
        where.append("arrival = ?")
        params.append(arrival.upper())
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY start_time, icao24"
    out = []
    for r in con.execute(sql, params).fetchall():
        vals = list(r)
        for k in (4, 5, 6, 7):
            if vals[k] is not None:
                vals[k] = vals[k].astimezone(UTC)
        vals[3] = list(vals[3] or [])
        out.append(StoredFlight(*vals))
    return out


def read_aircraft(
    con: duckdb.DuckDBPyConnection, icao24s: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    sql = (
        "SELECT icao24, country, country_code, registration, registration_source, serial, "
        "typecode, description, owner_operator, callsigns, first_seen, last_seen, n_states "
        "FROM air_aircraft"
    )
    params: list[Any] = []
    if icao24s is not None:
        sql += " WHERE icao24 IN (SELECT unnest(?))"
        params.append(list(icao24s))
    names = [
        "icao24", "country", "country_code", "registration", "registration_source", "serial",
        "typecode", "description", "owner_operator", "callsigns", "first_seen", "last_seen",
        "n_states",
    ]  # fmt: skip
    out = []
    for r in con.execute(sql + " ORDER BY icao24", params).fetchall():
        row = dict(zip(names, r, strict=True))
        row["callsigns"] = list(row["callsigns"] or [])
        for k in ("first_seen", "last_seen"):
            if row[k] is not None:
                row[k] = row[k].astimezone(UTC)
        out.append(row)
    return out
