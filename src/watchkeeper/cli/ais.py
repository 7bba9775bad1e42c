"""``watchkeeper ais ingest`` and ``watchkeeper ais export``."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from watchkeeper.cli.common import DbOption, JsonOption, console, err_console, open_db, print_json
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.movement.ais import IngestReport, SourceReport

ais_app = typer.Typer(help="AIS: ingest NMEA or decoded CSV (files, stdin, TCP); export positions.")


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


def parse_utc(value: str | None, option: str) -> datetime | None:
    """ISO 8601; a time without a zone is taken as UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(None, f"{value!r} is not an ISO 8601 time", field=option) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@ais_app.command("ingest")
def ingest(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="Files or folders (NMEA, CSV, .gz), '-' for stdin, or tcp://HOST:PORT."
        ),
    ],
    assume_time: Annotated[
        str | None,
        typer.Option(help="UTC time given to positions that carry none (else: rejected, no_time)."),
    ] = None,
    receive_time: Annotated[
        bool, typer.Option(help="stdin: sentences without a time get the time they were read.")
    ] = False,
    force: Annotated[
        bool, typer.Option(help="Ingest files again even if already ingested.")
    ] = False,
    max_messages: Annotated[
        int | None, typer.Option(help="TCP feed: stop after about this many messages.")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="TCP feed: stop after this many seconds.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Decode AIS into the store; bad sentences and rows are counted by reason, not dropped."""
    from watchkeeper.movement.ais import ingest_paths, ingest_stream
    from watchkeeper.movement.ais.feed import TcpFeed, ingest_feed, parse_tcp_url

    assumed = parse_utc(assume_time, "--assume-time")
    feeds = [t for t in targets if t.startswith("tcp://")]
    if (feeds or "-" in targets) and len(targets) > 1:
        raise InputError(None, "give either files, or '-', or one tcp://HOST:PORT", field="targets")
    with open_db(db) as store:
        if feeds:
            host, port = parse_tcp_url(feeds[0])
            err_console.print(f"reading {feeds[0]} (Ctrl-C to stop)")
            report = ingest_feed(
                store,
                TcpFeed(host, port),
                max_messages=max_messages,
                duration_s=duration,
                on_batch=None if json_out else _progress,
            )
        elif targets == ["-"]:
            report = ingest_stream(
                store, sys.stdin.buffer, assume_time=assumed, receive_time=receive_time
            )
        else:
            with console.status("ingesting AIS", spinner="dots"):
                report = ingest_paths(store, targets, assume_time=assumed, force=force)
    if json_out:
        print_json(report.to_dict())
        return
    print_report(report)


def _progress(report: SourceReport) -> None:
    err_console.print(
        f"  {report.counts['positions']:,} positions, {report.counts['statics']:,} static, "
        f"{sum(report.rejects.values()):,} rejected"
    )


def print_report(report: IngestReport) -> None:
    """One line per source, then every reject reason with its count and first line."""
    for s in report.sources:
        if s.skipped:
            console.print(f"{s.source}: skipped, {s.skipped}", highlight=False, soft_wrap=True)
            continue
        c = s.counts
        console.print(
            f"{s.source} ({s.format}): {c['positions']:,} positions, {c['statics']:,} static, "
            f"{c['others']:,} other; {sum(s.rejects.values()):,} rejected",
            highlight=False,
            soft_wrap=True,
        )
        if s.source.startswith("tcp://"):
            note = "" if c["connections"] else " [yellow](never connected)[/yellow]"
            console.print(
                f"  {c['connections']:,} connections, {c['disconnects']:,} dropped{note}",
                soft_wrap=True,
            )
    rejects = report.rejects
    if rejects:
        console.print("rejected, by reason (first occurrence):")
    for reason, n in sorted(rejects.items(), key=lambda kv: (-kv[1], kv[0])):
        first = next(
            (
                f"{Path(s.source).name}:{s.first_reject_line[reason]}"
                for s in report.sources
                if reason in s.first_reject_line
            ),
            "",
        )
        console.print(
            f"  {n:>9,}  {reason:<24} {first:<32} {_meaning(reason)}",
            highlight=False,
            soft_wrap=True,
        )
    console.print(
        f"total: {report.positions:,} positions, {report.statics:,} static reports, "
        f"{report.total('others'):,} other messages, {sum(rejects.values()):,} rejected",
        soft_wrap=True,
    )


def _meaning(reason: str) -> str:
    from watchkeeper.movement.ais.decode import DECODE_REJECTS
    from watchkeeper.movement.ais.nmea import REJECT_REASONS

    extra = {
        "no_time": "a position with no time in the input (see --assume-time)",
        "not_a_vessel": "a CSV row for a base station, AtoN or other non-vessel",
        "csv_other_msg_type": "a CSV row of a message type that is not stored",
        "no_mmsi": "a CSV row without an MMSI",
        "bad_row_shape": "a CSV row with the wrong number of cells",
    }
    if reason.startswith("bad_value:"):
        return f"a CSV row whose {reason.split(':', 1)[1]} cannot be read (row not stored)"
    if reason.startswith("nulled_bad_value:"):
        return f"a CSV cell {reason.split(':', 1)[1]} that cannot be read (set to null)"
    return REJECT_REASONS.get(reason) or DECODE_REJECTS.get(reason) or extra.get(reason, "")


@ais_app.command("export")
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or parquet.")] = (
        ExportFormat.csv
    ),
    output: Annotated[
        Path | None, typer.Option(help="File to write (CSV: standard output if not given).")
    ] = None,
    mmsi: Annotated[list[int] | None, typer.Option(help="Only these MMSIs (repeatable).")] = None,
    since: Annotated[str | None, typer.Option(help="Only positions at or after (UTC).")] = None,
    db: DbOption = None,
) -> None:
    """Write the decoded positions: mmsi, time (UTC), lat, lon, sog (kn), cog, heading, ..."""
    from watchkeeper.movement.ais import positions_table, write_positions

    if format is ExportFormat.parquet and output is None:
        raise InputError(None, "Parquet needs --output PATH", field="--output")
    with open_db(db, read_only=True) as store:
        table = positions_table(store, mmsi=mmsi or None, since=parse_utc(since, "--since"))
    if output is None:
        write_positions(table, "csv", sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    n = write_positions(table, format.value, output)
    err_console.print(f"{n:,} positions written to {output}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.add_typer(ais_app, name="ais")
