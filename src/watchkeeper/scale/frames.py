"""What runs inside Spark's Python workers: one vessel's rows (an Arrow table) -> the
same ``Track`` the local engine builds -> the registered detectors' own pure functions
-> rows again. No rule of any detector is written here: only conversions.

Kept free of any ``pyspark`` import, so it is tested and type-checked without Spark.
Times cross the engines as int64 microseconds since the Unix epoch (UTC), which a
``datetime`` holds exactly; ``params`` as the JSON the store writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.events import Event
from watchkeeper.movement.detectors.base import PairDetector, Points, References, TrackDetector
from watchkeeper.movement.detectors.encounters import Encounters
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.geo import FloatArray, IntArray, ShoreDistance, grid_cells, shore_distance
from watchkeeper.movement.tracks import ObjArray, StaticReports, Track

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

_STRINGS = pa.list_(pa.string())
EVENT_SCHEMA = pa.schema(
    [
        ("type", pa.string()),
        ("subjects", _STRINGS),
        ("start_us", pa.int64()),
        ("end_us", pa.int64()),
        ("score", pa.float64()),
        ("detail", pa.string()),
        ("evidence", _STRINGS),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("params", pa.string()),
    ]
)
POINT_SCHEMA = pa.schema(
    [
        ("detector", pa.string()),
        ("mmsi", pa.int64()),
        (
            "seq",
            pa.int64(),
        ),  # the point's number in its vessel and detector: (mmsi, seq) is its key
        ("bin", pa.int64()),
        ("cell", pa.int64()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
        ("sog", pa.float64()),
        ("cog", pa.float64()),
        ("msg_id", pa.int64()),
        ("guard", pa.bool_()),
    ]
)
# Events and candidate points share one frame (one pass over the positions yields
# both); ``kind`` says which a row is. ``lat``/``lon`` serve both.
FINDING_SCHEMA = pa.schema(
    [pa.field("kind", pa.string())]
    + list(POINT_SCHEMA)
    + [f for f in EVENT_SCHEMA if f.name not in POINT_SCHEMA.names]
)
POSITION_COLUMNS = ("mmsi", "msg_id", "time_us", "lat", "lon", "sog", "cog")
STATIC_COLUMNS = ("mmsi", "msg_id", "time_us", "imo", "name", "callsign", "ship_type", "draught")

_SPARK_TYPES = {
    pa.string(): "string",
    _STRINGS: "array<string>",
    pa.int64(): "bigint",
    pa.float64(): "double",
    pa.bool_(): "boolean",
}


def ddl(schema: pa.Schema) -> str:
    """The Spark DDL of an Arrow schema: ``"`type` string, `start_us` bigint, ..."``."""
    return ", ".join(f"`{f.name}` {_SPARK_TYPES[f.type]}" for f in schema)


# ------------------------------------------------------------------------ time


def epoch_seconds(us: npt.ArrayLike) -> FloatArray:
    """Microseconds since the epoch -> float seconds, bit for bit as DuckDB's
    ``epoch(time)`` gives them to the local engine (whole milliseconds, floored, / 1e3
    plus the remaining microseconds / 1e6). A plain ``us / 1e6`` differs in the last
    bit for about a quarter of all times: enough to flip a threshold met exactly (a
    gap of exactly 6 h) or a rounded figure in an event's params."""
    u = np.asarray(us, dtype=np.int64)
    ms = u // 1000
    return np.asarray(ms / 1e3 + (u - ms * 1000) / 1e6, dtype=np.float64)


def to_us(when: datetime) -> int:
    """An aware datetime -> exact microseconds since the epoch."""
    return (when - EPOCH) // _US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


# ---------------------------------------------------------------- the payload


@dataclass(frozen=True)
class PairJoin:
    """How Spark finds a pair detector's candidate pairs before its own ``detect``
    runs on them: same time bin, grid cell of side ``radius_km`` or a neighbour (the
    cells ``close_pairs`` uses), at most ``radius_km`` apart; with ``guard_side`` one
    point must be a guard vessel's; ``per_pair`` when each event is about one pair of
    vessels (else about a connected group: a convoy)."""

    radius_km: float
    guard_side: bool = False
    per_pair: bool = True


def pair_join(detector: PairDetector) -> PairJoin | None:
    """The candidate join of a registered pair detector, read from its parameters;
    ``None`` for one Spark does not know (its points are then joined on the driver)."""
    if isinstance(detector, Encounters):
        return PairJoin(detector.params.max_distance_km, guard_side=False, per_pair=True)
    if isinstance(detector, Escorts):
        return PairJoin(detector.params.max_distance_km, guard_side=True, per_pair=False)
    return None


@dataclass
class Payload:
    """What every worker needs, broadcast once: the references and the detectors (the
    driver's instances, so changed parameters travel with them)."""

    refs: References
    track_detectors: list[TrackDetector]
    pair_detectors: dict[str, PairDetector]
    joins: dict[str, PairJoin | None] = field(default_factory=dict)
    reopen_shore: bool = False

    @classmethod
    def build(
        cls,
        refs: References,
        track_detectors: Sequence[TrackDetector],
        pair_detectors: Mapping[str, PairDetector],
    ) -> Payload:
        # The coastline grid keeps an open netCDF handle that cannot be pickled: the
        # default grid (shipped in the landmetrics wheel) is reopened on each worker.
        reopen = type(refs.shore) is ShoreDistance
        sent = replace(refs, shore=None) if reopen else refs  # type: ignore[arg-type]
        return cls(
            sent,
            list(track_detectors),
            dict(pair_detectors),
            {name: pair_join(d) for name, d in pair_detectors.items()},
            reopen,
        )

    def references(self) -> References:
        if self.reopen_shore and self.refs.shore is None:
            self.refs.shore = shore_distance()
        return self.refs


# ------------------------------------------------------------- rows -> arrays


def _column(table: pa.Table, column: str, fill: Any) -> Any:
    col = table.column(column)
    return pc.fill_null(col, fill) if col.null_count else col


def _floats(table: pa.Table, column: str) -> FloatArray:
    return np.asarray(_column(table, column, np.nan).to_numpy(), dtype=np.float64)


def _ints(table: pa.Table, column: str) -> IntArray:
    return np.asarray(_column(table, column, 0).to_numpy(), dtype=np.int64)


def _texts(table: pa.Table, column: str) -> ObjArray:
    values = _column(table, column, "").to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=object)


def static_reports(statics: pa.Table) -> StaticReports:
    """One vessel's static rows (``STATIC_COLUMNS``, nulls coalesced as the local
    loader does) in the local order: by time, reports without one last, then msg_id."""
    if statics.num_rows == 0:
        return StaticReports.empty()
    missing = np.asarray(pc.is_null(statics.column("time_us")).to_numpy(zero_copy_only=False))
    time_us = _ints(statics, "time_us")
    msg_id = _ints(statics, "msg_id")
    order = np.lexsort((msg_id, time_us, missing))
    t = np.where(missing, np.nan, epoch_seconds(time_us))
    return StaticReports(
        msg_id[order],
        np.asarray(t[order], dtype=np.float64),
        _ints(statics, "imo")[order],
        _texts(statics, "name")[order],
        _texts(statics, "callsign")[order],
        _ints(statics, "ship_type")[order],
        _floats(statics, "draught")[order],
    )


def vessel_track(positions: pa.Table, statics: pa.Table) -> Track:
    """The ``Track`` of one vessel from its position rows (any order: ``from_arrays``
    sorts and drops repeats exactly as for the local engine)."""
    mmsi = _ints(positions, "mmsi")
    return Track.from_arrays(
        int(mmsi[0]),
        _ints(positions, "msg_id"),
        epoch_seconds(_ints(positions, "time_us")),
        _floats(positions, "lat"),
        _floats(positions, "lon"),
        _floats(positions, "sog"),
        _floats(positions, "cog"),
        static_reports(statics),
    )


def points_of(table: pa.Table) -> Points:
    """Candidate points from their rows, in one canonical order (vessel, bin)."""
    if table.num_rows == 0:
        return Points.empty()
    table = table.sort_by([("mmsi", "ascending"), ("bin", "ascending")])
    return Points(
        mmsi=_ints(table, "mmsi"),
        bin=_ints(table, "bin"),
        lat=_floats(table, "lat"),
        lon=_floats(table, "lon"),
        sog=_floats(table, "sog"),
        cog=_floats(table, "cog"),
        msg_id=_ints(table, "msg_id"),
    )


# ------------------------------------------------------------- arrays -> rows


def event_record(event: Event) -> dict[str, Any]:
    """One event as a row of ``EVENT_SCHEMA``."""
    return {
        "type": event.type,
        "subjects": list(event.subjects),
        "start_us": to_us(event.start),
        "end_us": to_us(event.end),
        "score": float(event.score),
        "detail": event.detail,
        "evidence": list(event.evidence),
        "lat": None if event.lat is None else float(event.lat),
        "lon": None if event.lon is None else float(event.lon),
        "params": json.dumps(event.params, default=str),
    }


def event_from_record(row: Mapping[str, Any]) -> Event:
    """The inverse of ``event_record`` (a Spark ``Row.asDict()`` or a dict)."""

    def opt(value: Any) -> float | None:
        return None if value is None else float(value)

    return Event(
        type=str(row["type"]),
        subjects=tuple(row["subjects"] or ()),
        start=from_us(row["start_us"]),
        end=from_us(row["end_us"]),
        score=float(row["score"]),
        detail=str(row["detail"]),
        evidence=tuple(row["evidence"] or ()),
        lat=opt(row["lat"]),
        lon=opt(row["lon"]),
        params=json.loads(row["params"]),
    )


def events_table(events: Sequence[Event]) -> pa.Table:
    return pa.Table.from_pylist([event_record(e) for e in events], schema=EVENT_SCHEMA)


def _points_table(name: str, pts: Points, join: PairJoin | None, guard: bool) -> pa.Table:
    n = len(pts)
    cells = grid_cells(pts.lat, pts.lon, join.radius_km) if join else np.zeros(n, np.int64)
    columns = {
        "kind": pa.array(["point"] * n, pa.string()),
        "detector": pa.array([name] * n, pa.string()),
        "mmsi": pts.mmsi,
        "seq": np.arange(n, dtype=np.int64),
        "bin": pts.bin,
        "cell": cells,
        "lat": pts.lat,
        "lon": pts.lon,
        "sog": pts.sog,
        "cog": pts.cog,
        "msg_id": pts.msg_id,
        "guard": np.full(n, guard),
    }
    return pa.table(
        {f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in FINDING_SCHEMA},
        schema=FINDING_SCHEMA,
    )


# ----------------------------------------------------------- worker functions


def vessel_findings(positions: pa.Table, statics: pa.Table, payload: Payload) -> pa.Table:
    """One vessel: its track detectors' events, and each pair detector's candidate
    points (its own ``select``), as rows of ``FINDING_SCHEMA``."""
    if positions.num_rows == 0:  # static reports only: the local engine makes no track
        return FINDING_SCHEMA.empty_table()
    refs = payload.references()
    track = vessel_track(positions, statics)
    records: list[dict[str, Any]] = []
    for det in payload.track_detectors:
        for event in det.detect(track, refs):
            records.append({"kind": "event", "mmsi": track.mmsi, **event_record(event)})
    parts = [pa.Table.from_pylist(records, schema=FINDING_SCHEMA)] if records else []
    guard = refs.is_guard(track.mmsi) is not None
    for name, pdet in payload.pair_detectors.items():
        pts = pdet.select(track, refs)
        if len(pts):
            parts.append(_points_table(name, pts, payload.joins.get(name), guard))
    if not parts:
        return FINDING_SCHEMA.empty_table()
    return parts[0] if len(parts) == 1 else pa.concat_tables(parts)


def pair_events(points: pa.Table, name: str, payload: Payload) -> pa.Table:
    """One group of candidate points (a pair of vessels, or a connected group) through
    the pair detector's own ``detect``, as rows of ``EVENT_SCHEMA``."""
    det = payload.pair_detectors[name]
    return events_table(det.detect(points_of(points), payload.references()))
