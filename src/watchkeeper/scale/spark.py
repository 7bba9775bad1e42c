"""The ship detectors on Apache Spark: the same events as ``movement.detect``, computed
by a cluster (or ``local[N]``) instead of one process.

One definition, two engines. Nothing here restates a detector's rules:

1. per vessel -- ``groupBy("mmsi").cogroup(...).applyInArrow`` (the Arrow form of
   ``applyInPandas``: see "worker entries" below for why): each vessel's rows become
   the same ``Track`` the local engine builds, and the registered track detectors run
   on it; each pair detector's own ``select`` picks its candidate points. The
   references (identities, links, lists, ports, coastline) are broadcast once.
2. between vessels -- Spark SQL joins the candidate points on (time bin, grid cell and
   its 26 neighbours), the relational step of ``detectors.pairs.close_pairs``; only
   points with a partner reach the pair detector's own ``detect``, once per pair of
   vessels (encounters) or per connected group (escorts: convoys).
3. the one relational step over identities (one IMO under several flags) runs on the
   driver, as locally.

Spark never reaches the network: local masters bind to 127.0.0.1, the UI is off, and
no jar is ever downloaded (``spark.jars.packages`` is refused).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.errors import InputError, WatchkeeperError
from watchkeeper.events import Event
from watchkeeper.movement.detect import build_references, check_types, save_detected
from watchkeeper.movement.detectors import PAIR_DETECTORS, TRACK_DETECTORS
from watchkeeper.movement.detectors.base import ReceptionCoverage, References
from watchkeeper.movement.detectors.escorts import Escorts
from watchkeeper.movement.detectors.identity import CHANGE, Identity, flag_changes
from watchkeeper.movement.geo import EARTH_RADIUS_KM, neighbour_offsets
from watchkeeper.movement.tracks import Track
from watchkeeper.scale.frames import (
    EVENT_SCHEMA,
    FINDING_SCHEMA,
    POINT_SCHEMA,
    PairJoin,
    Payload,
    ddl,
    event_from_record,
    pair_events,
    points_of,
    to_us,
    vessel_findings,
    vessel_track,
)
from watchkeeper.settings import Settings
from watchkeeper.store import Store

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_MASTER = "local[2]"
MASTER_ENV = "WATCHKEEPER_SPARK_MASTER"

# Columns the inputs must have: the ``ais_positions`` / ``ais_static`` tables, which
# is also the layout ``watchkeeper ais export --format parquet`` writes.
POSITION_INPUT = ("msg_id", "mmsi", "time", "lat", "lon", "sog", "cog")
STATIC_INPUT = ("msg_id", "mmsi", "time", "imo", "name", "callsign", "ship_type", "draught")

_PANDAS_WARNING = "PySpark does not yet fully support pandas"


# ------------------------------------------------------------------- session


def spark_master(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The master URL: ``settings.spark_master`` when settings carry it, else
    ``$WATCHKEEPER_SPARK_MASTER``, else ``local[2]``."""
    configured = getattr(settings, "spark_master", None) if settings is not None else None
    if configured:
        return str(configured)
    env = os.environ if environ is None else environ
    return env.get(MASTER_ENV, "").strip() or DEFAULT_MASTER


def _local_cores(master: str) -> int | None:
    """Worker threads of a ``local``/``local[N]``/``local[*]`` master; ``None`` if not local."""
    if master == "local":
        return 1
    m = re.fullmatch(r"local\[(\d+|\*)(?:,\s*\d+)?\]", master)
    if m is None:
        return None
    return (os.cpu_count() or 1) if m.group(1) == "*" else int(m.group(1))


def session_conf(master: str, conf: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings a session is built with: offline, quiet, UTC, Arrow on; a local
    master binds to 127.0.0.1."""
    extra = dict(conf or {})
    for key in extra:
        if key in ("spark.jars.packages", "spark.jars.repositories", "spark.jars.ivySettings"):
            raise InputError(
                None, f"{key} would download jars; Watchkeeper runs offline", field=key
            )
    out = {
        "spark.app.name": "watchkeeper",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }
    cores = _local_cores(master)
    if cores is not None:
        out.update(
            {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                # Few, small shuffles: 200 partitions (Spark's default) is pure overhead.
                "spark.sql.shuffle.partitions": str(max(2, 2 * cores)),
            }
        )
    out.update(extra)
    return out


def build_session(
    master: str | None = None,
    *,
    conf: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> SparkSession:
    """A SparkSession on ``master`` (default: ``spark_master(settings)``)."""
    SparkSession = _session_class()
    master = master or spark_master(settings)
    if _local_cores(master) is not None:
        # Read from the environment, not the settings: Spark's launcher must never
        # look up a public address, and local workers run this interpreter (its
        # packages, watchkeeper included). On a cluster, PYSPARK_PYTHON is the
        # executors' interpreter, which must have watchkeeper installed.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master)
    for key, value in session_conf(master, conf).items():
        builder = builder.config(key, value)
    try:
        with _quiet_pandas():
            spark = builder.getOrCreate()
    except Exception as exc:
        raise WatchkeeperError(f"cannot start Spark on {master}: {exc}") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _session_class() -> type[SparkSession]:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - pyspark is an optional dependency
        raise WatchkeeperError("the Spark scale-out needs pyspark: pip install pyspark") from exc
    return SparkSession


@contextmanager
def spark_session(
    master: str | None = None,
    *,
    conf: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> Iterator[SparkSession]:
    """The active session if there is one (left running), else a new one, stopped after."""
    active = _session_class().getActiveSession()
    if active is not None:
        yield active
        return
    spark = build_session(master, conf=conf, settings=settings)
    try:
        yield spark
    finally:
        spark.stop()


@contextmanager
def _quiet_pandas() -> Iterator[None]:
    """PySpark warns that pandas 3 is not fully supported; the parity test is what
    says whether our use of it is right, so the warning is not repeated to users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
        yield


# -------------------------------------------------------------------- inputs


def _check_columns(frame: DataFrame, wanted: Sequence[str], source: str) -> None:
    have = {c.lower() for c in frame.columns}
    for column in wanted:
        if column not in have:
            raise InputError(
                source,
                f"no column {column!r}; expected the ais_positions/ais_static layout "
                f"({', '.join(wanted)}), as `watchkeeper ais export --format parquet` writes",
                field=column,
            )


def _read_parquet(spark: SparkSession, path: str | Path, wanted: Sequence[str]) -> DataFrame:
    text = str(path)
    if "://" not in text and not Path(text).exists():
        raise InputError(text, "no such file or folder")
    try:
        frame = spark.read.parquet(text)
    except Exception as exc:
        raise InputError(text, f"not readable as Parquet: {str(exc).splitlines()[0]}") from exc
    _check_columns(frame, wanted, text)
    return frame


def read_positions(spark: SparkSession, path: str | Path) -> DataFrame:
    """Position reports from Parquet (a file or a folder of them) in the
    ``ais_positions`` layout: ``msg_id, mmsi, time (UTC), lat, lon, sog, cog``."""
    return _read_parquet(spark, path, POSITION_INPUT)


def read_statics(spark: SparkSession, path: str | Path) -> DataFrame:
    """Static reports from Parquet in the ``ais_static`` layout."""
    return _read_parquet(spark, path, STATIC_INPUT)


def _sql_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def export_positions(store: Store, path: Path) -> Path:
    """The store's position reports as one Parquet file (what Spark reads; a cluster
    needs ``path`` on storage its executors see)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store.con.execute(
        f"COPY (SELECT {', '.join(POSITION_INPUT)} FROM ais_positions) "
        f"TO {_sql_path(path)} (FORMAT parquet)"
    )
    return path


def export_statics(store: Store, path: Path) -> Path:
    """The store's static reports as one Parquet file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store.con.execute(
        f"COPY (SELECT {', '.join(STATIC_INPUT)} FROM ais_static) "
        f"TO {_sql_path(path)} (FORMAT parquet)"
    )
    return path


def export_store(store: Store, folder: Path) -> tuple[Path, Path]:
    """Both tables in ``folder``: ``ais_positions.parquet``, ``ais_static.parquet``."""
    return (
        export_positions(store, folder / "ais_positions.parquet"),
        export_statics(store, folder / "ais_static.parquet"),
    )


def _normalised_positions(positions: DataFrame, since: datetime | None) -> DataFrame:
    """The rows and values ``tracks.load_chunk`` reads: valid coordinates, missing
    speed and course as NaN, time as microseconds."""
    since_sql = f"AND unix_micros(CAST(time AS TIMESTAMP)) >= {to_us(since)}" if since else ""
    return (
        positions.selectExpr(*POSITION_INPUT)
        .where(
            f"time IS NOT NULL AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180 {since_sql}"
        )
        .selectExpr(
            "CAST(mmsi AS BIGINT) AS mmsi",
            "CAST(msg_id AS BIGINT) AS msg_id",
            "unix_micros(CAST(time AS TIMESTAMP)) AS time_us",
            "CAST(lat AS DOUBLE) AS lat",
            "CAST(lon AS DOUBLE) AS lon",
            "coalesce(CAST(sog AS DOUBLE), double('NaN')) AS sog",
            "coalesce(CAST(cog AS DOUBLE), double('NaN')) AS cog",
        )
    )


def _normalised_statics(statics: DataFrame) -> DataFrame:
    """As ``tracks._STATIC_SQL``: nulls coalesced, names and call signs trimmed of spaces."""
    return statics.selectExpr(
        "CAST(mmsi AS BIGINT) AS mmsi",
        "CAST(msg_id AS BIGINT) AS msg_id",
        "unix_micros(CAST(time AS TIMESTAMP)) AS time_us",
        "CAST(coalesce(imo, 0) AS BIGINT) AS imo",
        "coalesce(trim(CAST(name AS STRING)), '') AS name",
        "coalesce(trim(CAST(callsign AS STRING)), '') AS callsign",
        "CAST(coalesce(ship_type, 0) AS BIGINT) AS ship_type",
        "coalesce(CAST(draught AS DOUBLE), double('NaN')) AS draught",
    )


def _empty_statics(spark: SparkSession) -> DataFrame:
    return spark.createDataFrame(
        [],
        "msg_id bigint, mmsi bigint, time timestamp, imo bigint, name string, "
        "callsign string, ship_type bigint, draught double",
    )


# ------------------------------------------------------------ worker entries
# Grouped maps on Arrow tables (``applyInArrow``), not pandas (``applyInPandas``):
# the same per-group call, without a pandas frame per vessel in and out. On the
# bundled samples (4,878 vessels) the bare per-vessel call cost 31 s with pandas and
# 8 s with Arrow; pyspark 4.3 also warns it does not fully support pandas 3, and
# pandas is no dependency of Watchkeeper. The payload comes from a broadcast,
# unpickled once per worker process.


def _per_vessel(bc: Broadcast[Payload]) -> Any:
    def run(positions: pa.Table, statics: pa.Table) -> pa.Table:
        return vessel_findings(positions, statics, bc.value)

    return run


def _per_group(bc: Broadcast[Payload], name: str) -> Any:
    def run(points: pa.Table) -> pa.Table:
        return pair_events(points, name, bc.value)

    return run


# ---------------------------------------------------------------- pair joins


def _haversine_sql(a: str, b: str) -> str:
    """``geo.haversine_km`` in Spark SQL (a pre-filter: ``detect`` measures again)."""
    return (
        f"2 * {EARTH_RADIUS_KM!r} * asin(sqrt(least(1.0, greatest(0.0, "
        f"pow(sin((radians({b}.lat) - radians({a}.lat)) / 2), 2) + "
        f"cos(radians({a}.lat)) * cos(radians({b}.lat)) * "
        f"pow(sin(radians({b}.lon - {a}.lon) / 2), 2)))))"
    )


_POINT_VALUES = ("mmsi", "seq", "bin", "lat", "lon", "sog", "cog", "msg_id")


def candidate_pairs_sql(points: str, join: PairJoin) -> str:
    """Spark SQL: every pair of points of two vessels in the same time bin, in the same
    or a neighbouring grid cell, within ``join.radius_km`` (plus a rounding margin:
    the detector's own ``close_pairs`` keeps the exact ones), both points' values in
    ``a_*``/``b_*`` columns. Each pair of cells is probed once (half of the 26
    neighbour offsets, pairs in one cell ordered by MMSI); with ``guard_side`` only
    from a guard's point (``a``), through all 27 offsets."""
    if join.guard_side:
        offsets = neighbour_offsets()
        side, keep = "p.guard", "a.mmsi <> b.mmsi"
    else:
        offsets = [o for o in neighbour_offsets() if o >= 0]
        side = "TRUE"
        keep = "((a.offset = 0 AND a.mmsi < b.mmsi) OR (a.offset > 0 AND a.mmsi <> b.mmsi))"
    listed = ", ".join(f"CAST({o} AS BIGINT)" for o in offsets)
    limit = join.radius_km * (1 + 1e-9) + 1e-9
    values = ", ".join(f"{s}.{c} AS {s}_{c}" for s in ("a", "b") for c in _POINT_VALUES)
    return f"""
WITH probe AS (
    SELECT p.*, p.cell + n.offset AS near, n.offset
    FROM {points} p LATERAL VIEW explode(array({listed})) n AS offset
    WHERE {side}
)
SELECT {values}
FROM probe a JOIN {points} b ON a.bin = b.bin AND a.near = b.cell
WHERE {keep} AND {_haversine_sql("a", "b")} <= {limit!r}
"""


def _group_points(pairs: DataFrame, g1: str, g2: str) -> DataFrame:
    """Both points of each candidate pair as rows of their group ``(g1, g2)``, once."""
    sides = ", ".join(
        "struct(" + ", ".join(f"{s}_{c} AS {c}" for c in _POINT_VALUES) + ")" for s in ("a", "b")
    )
    return pairs.selectExpr(f"{g1} AS g1", f"{g2} AS g2", f"inline(array({sides}))").distinct()


def _components(edges: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Vessel -> the lowest MMSI of its connected group (union-find over pairs)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in list(parent)}


def _pair_stage(
    spark: SparkSession,
    findings: DataFrame,
    name: str,
    join: PairJoin | None,
    bc: Broadcast[Payload],
    payload: Payload,
) -> tuple[DataFrame | None, list[Event]]:
    """The events of one pair detector: a Spark DataFrame, or (for a detector Spark
    has no join for) events computed on the driver from all its points."""
    points = findings.where(f"kind = 'point' AND detector = '{name}'").select(*POINT_SCHEMA.names)
    if join is None:
        det = payload.pair_detectors[name]
        return None, det.detect(points_of(points.toArrow()), payload.references())
    view = f"wk_points_{uuid.uuid4().hex}"
    points.createOrReplaceTempView(view)
    try:
        pairs = spark.sql(candidate_pairs_sql(view, join))
        if join.per_pair:
            grouped = _group_points(pairs, "least(a_mmsi, b_mmsi)", "greatest(a_mmsi, b_mmsi)")
        else:
            pairs = pairs.localCheckpoint()  # used twice: for the groups and their points
            edges = pairs.selectExpr(
                "least(a_mmsi, b_mmsi) AS a", "greatest(a_mmsi, b_mmsi) AS b"
            ).distinct()
            groups = _components([(int(r["a"]), int(r["b"])) for r in edges.collect()])
            if not groups:
                return None, []
            group_of = spark.createDataFrame(list(groups.items()), "mmsi bigint, root bigint")
            grouped = _group_points(
                pairs.join(group_of.selectExpr("mmsi AS a_mmsi", "root"), "a_mmsi"),
                "root",
                "CAST(0 AS BIGINT)",
            )
        events = grouped.groupBy("g1", "g2").applyInArrow(
            _per_group(bc, name), schema=ddl(EVENT_SCHEMA)
        )
        return events, []
    finally:
        spark.catalog.dropTempView(view)


# ------------------------------------------------------------------ detection


def detect_events_spark(
    spark: SparkSession,
    refs: References,
    positions: DataFrame,
    statics: DataFrame | None = None,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
) -> list[Event]:
    """Every event of ``types`` in ``positions`` (since ``since``), as
    ``movement.detect.detect_events`` finds them; nothing is written. ``positions`` and
    ``statics`` are Spark DataFrames in the ``ais_positions``/``ais_static`` layouts
    (``read_positions``, ``export_store``); ``refs`` comes from ``build_references``."""
    from pyspark import StorageLevel

    wanted = set(check_types(types))
    if since is not None and since.tzinfo is None:
        raise InputError(None, "since must be a timezone-aware (UTC) time", field="since")
    _check_columns(positions, POSITION_INPUT, "positions")
    if statics is not None:
        _check_columns(statics, STATIC_INPUT, "statics")
    track_dets = [d for d in TRACK_DETECTORS.values() if wanted & set(d.event_types)]
    pair_dets = {n: d for n, d in PAIR_DETECTORS.items() if wanted & set(d.event_types)}
    with _quiet_pandas():
        pos = _normalised_positions(positions, since)
        st = _normalised_statics(statics if statics is not None else _empty_statics(spark))
        # A copy: a detector's pre-pass writes into ``scratch``, the caller's stays as it was.
        refs = replace(refs, scratch=dict(refs.scratch))
        if refs.coverage is not None:  # heard where and when: from these positions
            refs.coverage = reception_coverage(pos)
        for det in pair_dets.values():
            if isinstance(det, Escorts):
                det.prepare(_guard_tracks(pos, st, refs), refs)
        payload = Payload.build(refs, track_dets, pair_dets)
        bc = spark.sparkContext.broadcast(payload)
        findings = (
            pos.groupBy("mmsi")
            .cogroup(st.groupBy("mmsi"))
            .applyInArrow(_per_vessel(bc), schema=ddl(FINDING_SCHEMA))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            frames = [findings.where("kind = 'event'").select(*EVENT_SCHEMA.names)]
            events: list[Event] = []
            for name in pair_dets:
                frame, driver_events = _pair_stage(
                    spark, findings, name, payload.joins.get(name), bc, payload
                )
                events += driver_events
                if frame is not None:
                    frames.append(frame)
            union = frames[0]
            for frame in frames[1:]:
                union = union.unionByName(frame)
            events += [event_from_record(row.asDict()) for row in union.collect()]
        finally:
            findings.unpersist()
            bc.unpersist()
    if CHANGE in wanted:
        params = next((d.params for d in TRACK_DETECTORS.values() if isinstance(d, Identity)), None)
        if params is not None:
            events += flag_changes(refs.identities, refs, params)
    return [e for e in events if e.type in wanted]


def reception_coverage(positions: DataFrame) -> ReceptionCoverage:
    """``ReceptionCoverage.from_store`` on Spark: the distinct (1-degree cell, UTC hour)
    bins of normalised positions, collected to the driver (one row per bin heard)."""
    found = positions.selectExpr(
        "CAST(floor(lat) AS BIGINT) AS la",
        "CAST(floor(lon) AS BIGINT) AS lo",
        f"time_us DIV {3_600_000_000} AS h",
    ).distinct()
    table = found.toArrow()
    return ReceptionCoverage.from_bins(
        table.column("la").to_numpy(), table.column("lo").to_numpy(), table.column("h").to_numpy()
    )


def _guard_tracks(pos: DataFrame, st: DataFrame, refs: References) -> list[Track]:
    """The guard vessels' tracks on the driver (few vessels), for the escort pre-pass,
    as ``detect_events`` loads them."""
    guards = [m for m in refs.identities if refs.is_guard(m)]
    if not guards:
        return []
    p = pos.where(pos.mmsi.isin(guards)).toArrow()
    s = st.where(st.mmsi.isin(guards)).toArrow()
    return [
        vessel_track(p.filter(pc.equal(p["mmsi"], m)), s.filter(pc.equal(s["mmsi"], m)))
        for m in sorted(set(p.column("mmsi").to_pylist()))
    ]


# ------------------------------------------------------------------- the job


def run_detectors_spark(
    store: Store,
    spark: SparkSession,
    types: Sequence[str] | None = None,
    since: datetime | None = None,
    *,
    positions: str | Path | None = None,
    statics: str | Path | None = None,
    settings: Settings | None = None,
    work_dir: Path | None = None,
) -> dict[str, int]:
    """``movement.detect.run_detectors`` with Spark as the engine: link vessels (in the
    store), detect on Spark, store the events (replacing those of the chosen types; with
    ``since``, only those starting at or after it). Positions come from Parquet
    ``positions`` or, without it, from the store (exported to ``work_dir``, a temporary
    folder by default); static reports from ``statics`` or the store."""
    chosen = check_types(types)
    refs = build_references(store, settings)
    with tempfile.TemporaryDirectory(prefix="watchkeeper-spark-", dir=work_dir) as tmp:
        folder = Path(tmp)
        if positions is None:
            positions = export_positions(store, folder / "ais_positions.parquet")
        if statics is None:
            statics = export_statics(store, folder / "ais_static.parquet")
        pos = read_positions(spark, positions)
        st = read_statics(spark, statics)
        events = detect_events_spark(spark, refs, pos, st, chosen, since)
    return save_detected(store, events, chosen, since)


__all__ = [
    "DEFAULT_MASTER",
    "build_session",
    "candidate_pairs_sql",
    "detect_events_spark",
    "export_positions",
    "export_statics",
    "export_store",
    "read_positions",
    "read_statics",
    "run_detectors_spark",
    "spark_master",
    "spark_session",
]
