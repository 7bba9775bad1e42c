"""``watchkeeper watch``: follow AIS/ADS-B feeds and drop folders and the lists, and
raise alerts as new input arrives (see ``watchkeeper.watch``)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli.common import DbOption, err_console, open_db, settings


def watch(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML: sources, schedule, health port.")
    ] = None,
    ais_drop: Annotated[
        list[Path] | None, typer.Option(help="A folder of AIS files to follow (repeatable).")
    ] = None,
    ais_tcp: Annotated[
        list[str] | None, typer.Option(help="HOST:PORT of an NMEA feed (repeatable).")
    ] = None,
    adsb_drop: Annotated[
        list[Path] | None, typer.Option(help="A folder of ADS-B files to follow (repeatable).")
    ] = None,
    health_port: Annotated[
        int | None, typer.Option(help="Port of /healthz (0: any free port, -1: none).")
    ] = None,
    until_idle: Annotated[
        bool, typer.Option(help="Stop once the drop folders are read to their end.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Follow the sources until SIGTERM/Ctrl-C: each batch of new input is stored with
    its events, alerts and checkpoint in one transaction (a restart loses and repeats
    nothing); a failing source is retried with backoff while the others go on."""
    from watchkeeper.watch.config import SourceConfig, WatchConfig, load_config
    from watchkeeper.watch.loop import Watch

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True
    )
    cfg = load_config(config) if config is not None else WatchConfig()
    extra = [
        *(
            SourceConfig("ais_drop", f"ais_drop:{p.resolve()}", folder=p.resolve())
            for p in ais_drop or []
        ),
        *(SourceConfig("ais_tcp", f"tcp://{a}", address=a) for a in ais_tcp or []),
        *(
            SourceConfig("adsb_drop", f"adsb_drop:{p.resolve()}", folder=p.resolve())
            for p in adsb_drop or []
        ),
    ]
    for sc in extra:
        if sc.kind == "ais_tcp":
            sc.host_port()
    cfg = replace(cfg, sources=cfg.sources + tuple(extra))
    if health_port is not None:
        cfg = replace(cfg, health_port=health_port)
    if not cfg.sources:
        err_console.print("nothing to watch: give --config or a source option")
        raise typer.Exit(2)
    with open_db(db) as store:
        w = Watch(store, cfg, settings(db))
        w.install_signals()
        try:
            w.start()
            w.run(until_idle=until_idle)
        finally:
            w.close()


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
