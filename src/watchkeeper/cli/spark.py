"""``watchkeeper detect-spark``: the ship detectors on Apache Spark, events into the store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli.common import (
    DbOption,
    JsonOption,
    console,
    open_db,
    parse_time,
    print_json,
    settings,
)
from watchkeeper.cli.vessels import print_detection
from watchkeeper.errors import InputError


def _conf(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values or []:
        key, sep, setting = value.partition("=")
        if not sep or not key.strip():
            raise InputError(None, f"{value!r} is not KEY=VALUE", field="conf")
        out[key.strip()] = setting.strip()
    return out


def detect_spark(
    positions: Annotated[
        str | None,
        typer.Option(
            "--positions",
            help="Parquet positions (file, folder or URL such as hdfs://...) in the `ais "
            "export --format parquet` layout; default: the store's positions.",
        ),
    ] = None,
    static: Annotated[
        str | None,
        typer.Option(
            "--static", help="Parquet static reports (ais_static layout); default: the store's."
        ),
    ] = None,
    master: Annotated[
        str | None,
        typer.Option(
            "--master",
            help="Spark master URL (default: $WATCHKEEPER_SPARK_MASTER or local[2]).",
        ),
    ] = None,
    event_type: Annotated[
        list[str] | None,
        typer.Option("--type", help="Event type(s): port_call, ais_gap, encounter, ..."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only positions at or after this UTC date/time.")
    ] = None,
    conf: Annotated[
        list[str] | None,
        typer.Option("--conf", help="Extra Spark setting KEY=VALUE (repeatable)."),
    ] = None,
    work_dir: Annotated[
        Path | None,
        typer.Option(
            "--work-dir",
            help="Where the store's tables are exported for Spark (default: a temp dir).",
        ),
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Link vessels to the lists and run the detectors on Spark; events go to the store,
    as with ``detect``. The same events as ``detect``, by another engine."""
    from watchkeeper.scale.spark import run_detectors_spark, spark_master, spark_session

    since_dt = parse_time(since)
    extra = _conf(conf)
    cfg = settings(db)
    url = master or spark_master(cfg)
    with open_db(db) as store, console.status(f"detecting events on Spark ({url})"):
        with spark_session(url, conf=extra, settings=cfg) as spark:
            t0 = time.perf_counter()
            counts = run_detectors_spark(
                store,
                spark,
                event_type,
                since_dt,
                positions=positions,
                statics=static,
                settings=cfg,
                work_dir=work_dir,
            )
            seconds = time.perf_counter() - t0
            used = spark.sparkContext.master
        links = store.con.execute("SELECT count(*) FROM vessel_links").fetchone()
    n_links = int(links[0]) if links else 0
    if json_out:
        print_json(
            {
                "events": counts,
                "vessel_links": n_links,
                "spark": {"master": used, "seconds": round(seconds, 1)},
            }
        )
        return
    print_detection(counts, n_links, f"; Spark {used}, {seconds:.1f} s")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("detect-spark")(detect_spark)
