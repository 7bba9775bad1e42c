"""The OFAC 50% rule on Apache Spark: the same statuses as ``graph.control.ofac_fixpoint``,
computed by a cluster (or ``local[N]``) when the ownership graph outgrows one machine.

GraphFrames is not available offline, so the fixpoint is written as iterated joins in
the DataFrame API (semi-naive evaluation: each round joins the holdings of only the
nodes that joined the set in the previous round):

- **blocked** -- the least set B with: listed, or the holdings of blocked owners sum to
  at least 50% (``sum(low) >= 0.5 - 1e-9``). A blocked intermediate passes on its whole
  holding, no multiplication along the chain; only blocked owners count (OFAC's
  August 2014 guidance and FAQs 398-402).
- **possibly blocked** -- the least set P with: listed, or in B, or
  ``min(sum of high from owners in P or unknown, 1 - sum of low from the other known
  owners) >= 0.5 - 1e-9``: the ranges and unknown holders could make up 50%. (B is
  part of the rule so that B is within P even when a register's shares add up to more
  than 100%.)

Each round is one Spark job (a join, an aggregation, a checkpoint that cuts the plan's
lineage, so twenty rounds do not build a twenty-deep plan) and one emptiness check.
With a checkpoint directory set on the SparkContext the checkpoints are reliable
(``DataFrame.checkpoint``); without one they are local (``localCheckpoint``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from watchkeeper.errors import InputError
from watchkeeper.graph.control import EPS as TOLERANCE
from watchkeeper.graph.control import THRESHOLD

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

BLOCKED, POSSIBLY_BLOCKED, NOT_BLOCKED = 2, 1, 0

EDGE_COLUMNS = ("holder", "held", "low", "high")


def _cut(frame: DataFrame) -> DataFrame:
    """``frame`` materialised with its lineage cut."""
    if frame.sparkSession.sparkContext.getCheckpointDir():
        return frame.checkpoint(eager=True)
    return frame.localCheckpoint(eager=True)


def _check(frame: DataFrame, wanted: Sequence[str], what: str) -> None:
    have = set(frame.columns)
    for column in wanted:
        if column not in have:
            raise InputError(
                what, f"no column {column!r} (expected {', '.join(wanted)})", field=column
            )


def blocked_spark(edges: DataFrame, listed: DataFrame) -> DataFrame:
    """Nodes blocked under the OFAC 50% rule, one row each: ``node, round`` (0: listed,
    k: blocked in round k of the fixpoint). ``edges``: ``holder, held, low`` (shares as
    fractions 0..1; duplicate holdings are summed); ``listed``: ``node``."""
    from pyspark.sql import functions as F

    _check(edges, ("holder", "held", "low"), "edges")
    _check(listed, ("node",), "listed")
    holdings = edges.select(
        F.col("holder"), F.col("held").alias("node"), F.col("low").cast("double").alias("s")
    )
    # One row per node reached so far: the share blocked owners hold, whether it is
    # blocked, and the round it became so.
    state = _cut(
        listed.select("node")
        .distinct()
        .select("node", F.lit(0.0).alias("s"), F.lit(True).alias("done"), F.lit(0).alias("round"))
    )
    delta = state.select(F.col("node").alias("holder"))
    round_ = 0
    while True:
        round_ += 1
        reached = holdings.join(delta, "holder").groupBy("node").agg(F.sum("s").alias("s"))
        merged = (
            state.unionByName(
                reached.select(
                    "node", "s", F.lit(False).alias("done"), F.lit(None).cast("int").alias("round")
                )
            )
            .groupBy("node")
            .agg(F.sum("s").alias("s"), F.max("done").alias("was"), F.min("round").alias("round"))
        )
        turns = ~F.col("was") & (F.col("s") >= THRESHOLD - TOLERANCE)
        state = _cut(
            merged.select(
                "node",
                "s",
                (F.col("was") | turns).alias("done"),
                F.when(turns, F.lit(round_)).otherwise(F.col("round")).alias("round"),
            )
        )
        new = state.where(F.col("round") == round_)
        if new.isEmpty():
            break
        delta = new.select(F.col("node").alias("holder"))
    return state.where("done").select("node", "round")


def possibly_blocked_spark(
    edges: DataFrame, seeds: DataFrame, unknown: DataFrame | None = None
) -> DataFrame:
    """Nodes that could be blocked given share ranges and unknown holders, one row
    each: ``node, round`` (0: a seed). ``edges``: ``holder, held, low, high``;
    ``seeds``: ``node``, the listed parties and the blocked ones (``blocked_spark``);
    ``unknown``: ``node``, holders of unknown identity."""
    from pyspark.sql import functions as F

    _check(edges, EDGE_COLUMNS, "edges")
    _check(seeds, ("node",), "seeds")
    if unknown is not None:
        _check(unknown, ("node",), "unknown")
    holdings = edges.select(
        F.col("holder"),
        F.col("held").alias("node"),
        F.col("low").cast("double").alias("low"),
        F.col("high").cast("double").alias("high"),
    )
    # Each node's stated shares in all: what the known owners outside P hold is
    # this minus what the owners in P (or unknown) hold.
    stated = holdings.groupBy("node").agg(F.sum("low").alias("total"))
    state = _cut(
        seeds.select("node")
        .distinct()
        .select(
            "node",
            F.lit(0.0).alias("hi"),
            F.lit(0.0).alias("lo"),
            F.lit(None).cast("double").alias("total"),
            F.lit(True).alias("done"),
            F.lit(0).alias("round"),
        )
    )
    counted = state.select("node")
    unknowns = None
    if unknown is not None:
        unknowns = _cut(unknown.select("node").distinct())
        counted = counted.unionByName(unknowns).distinct()
    delta = counted.select(F.col("node").alias("holder"))
    round_ = 0
    while True:
        round_ += 1
        reached = (
            holdings.join(delta, "holder")
            .groupBy("node")
            .agg(F.sum("high").alias("hi"), F.sum("low").alias("lo"))
            .join(stated, "node")
        )
        merged = (
            state.unionByName(
                reached.select(
                    "node",
                    "hi",
                    "lo",
                    "total",
                    F.lit(False).alias("done"),
                    F.lit(None).cast("int").alias("round"),
                )
            )
            .groupBy("node")
            .agg(
                F.sum("hi").alias("hi"),
                F.sum("lo").alias("lo"),
                F.max("total").alias("total"),
                F.max("done").alias("was"),
                F.min("round").alias("round"),
            )
        )
        could = F.least(F.col("hi"), 1.0 - (F.col("total") - F.col("lo")))
        turns = ~F.col("was") & F.col("total").isNotNull() & (could >= THRESHOLD - TOLERANCE)
        state = _cut(
            merged.select(
                "node",
                "hi",
                "lo",
                "total",
                (F.col("was") | turns).alias("done"),
                F.when(turns, F.lit(round_)).otherwise(F.col("round")).alias("round"),
            )
        )
        new = state.where(F.col("round") == round_).select("node")
        if new.isEmpty():
            break
        if unknowns is not None:  # an unknown holder's holdings are counted already
            new = new.join(unknowns, "node", "left_anti")
        delta = new.select(F.col("node").alias("holder"))
    return state.where("done").select("node", "round")


def ofac_statuses_spark(
    edges: DataFrame, listed: DataFrame, unknown: DataFrame | None = None
) -> DataFrame:
    """``node, status`` for every node that is blocked (2) or possibly blocked (1) under
    the OFAC 50% rule; a node not in the result is not blocked (0). The statuses of
    ``graph.control.ofac_fixpoint`` on the same holdings: ``low``/``high`` are fractions
    with exclusive bounds already moved inwards (``graph.control.share_bounds``)."""
    from pyspark.sql import functions as F

    # Partitioned by holder once: each round's join then moves only the new nodes,
    # not the holdings.
    edges = edges.repartition("holder").persist()
    try:
        blocked = blocked_spark(edges, listed).select("node", F.lit(BLOCKED).alias("status"))
        possible = possibly_blocked_spark(edges, blocked.select("node"), unknown).select(
            "node", F.lit(POSSIBLY_BLOCKED).alias("status")
        )
        return _cut(
            blocked.unionByName(possible).groupBy("node").agg(F.max("status").alias("status"))
        )
    finally:
        edges.unpersist()


def ofac_fixpoint_spark(
    spark: SparkSession,
    n: int,
    holder: NDArray[np.int64],
    held: NDArray[np.int64],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    listed: NDArray[np.bool_],
    unknown: NDArray[np.bool_],
) -> NDArray[np.int8]:
    """``ofac_fixpoint``'s array form on Spark: nodes ``0..n-1``, edge arrays, flags per
    node; the status of every node (2 blocked, 1 possibly blocked, 0 not blocked). For
    tests and benchmarks: the arrays pass through the driver."""
    if not (holder.shape == held.shape == low.shape == high.shape):
        raise InputError(None, "edge arrays differ in length", field="holder")
    if not (listed.shape == unknown.shape == (n,)):
        raise InputError(None, f"node flags must have length n={n}", field="listed")
    edges = spark.createDataFrame(
        pa.table(
            {
                "holder": pa.array(holder, pa.int64()),
                "held": pa.array(held, pa.int64()),
                "low": pa.array(low, pa.float64()),
                "high": pa.array(high, pa.float64()),
            }
        ),
        "holder long, held long, low double, high double",
    )
    listed_frame = spark.createDataFrame(
        pa.table({"node": pa.array(np.flatnonzero(listed), pa.int64())}), "node long"
    )
    unknown_frame = spark.createDataFrame(
        pa.table({"node": pa.array(np.flatnonzero(unknown), pa.int64())}), "node long"
    )
    result = ofac_statuses_spark(edges, listed_frame, unknown_frame).toArrow()
    status = np.zeros(n, dtype=np.int8)
    nodes = np.asarray(result.column("node").to_numpy(), dtype=np.int64)
    status[nodes] = np.asarray(result.column("status").to_numpy(), dtype=np.int8)
    return status
