"""The ``watchkeeper`` command: thin wrappers that parse arguments and call the packages."""

from __future__ import annotations

import sys

import typer

from watchkeeper.cli import (
    aircraft,
    ais,
    alerts,
    api,
    cargo,
    cases,
    events,
    export,
    graph,
    lists,
    network,
    notify,
    reports,
    run,
    screening,
    spark,
    users,
    vessels,
    watch,
)
from watchkeeper.cli.common import root_options, run_guarded

app = typer.Typer(
    name="watchkeeper",
    help="Watch sanctioned networks: lists, screening, ships, aircraft, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.callback()(root_options)

for module in (
    run,
    lists,
    screening,
    api,
    ais,
    vessels,
    spark,
    aircraft,
    reports,
    events,
    graph,
    network,
    cargo,
    alerts,
    notify,
    users,
    watch,
    cases,
    export,
):
    module.register(app)


def main() -> None:
    sys.exit(run_guarded(app))
