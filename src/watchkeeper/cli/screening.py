"""``watchkeeper screen NAME`` and ``watchkeeper match``: screening from the command line."""

from __future__ import annotations

import io
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated, TextIO

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, err_console, open_db, print_json
from watchkeeper.errors import InputError, StoreError
from watchkeeper.io import open_binary
from watchkeeper.screening import DEFAULT_THRESHOLD, Query, Screener
from watchkeeper.screening.batch import (
    BatchOptions,
    parse_column_mapping,
    records_from_csv,
    records_from_jsonl,
    screen_records,
)
from watchkeeper.screening.identifiers import imo_valid

SchemaOption = Annotated[
    str,
    typer.Option(
        "--schema", help="Person, Organization, Company, LegalEntity, Vessel or Airplane."
    ),
]
ThresholdOption = Annotated[
    float,
    typer.Option("--threshold", min=0.0, max=1.0, help="Score from which a result is a match."),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=500, help="Results per query.")]


def load_screener(db: Path | None) -> Screener:
    """The screener over the store's current lists (index cached beside the store)."""
    with open_db(db, read_only=True) as store:
        if store.entity_count() == 0:
            raise StoreError("no lists are loaded: run `watchkeeper lists load PATH...` first")
        return Screener.from_store(store)


def _id_property(schema: str, value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    if schema == "Vessel":
        if imo_valid(digits[-7:]) and len(digits) == 7:
            return "imoNumber"
        if len(digits) == 9 and digits == value.strip():
            return "mmsi"
        return "registrationNumber"
    if schema == "Airplane":
        return "registrationNumber"
    if schema == "Person":
        return "idNumber"
    return "registrationNumber"


def screen_command(
    name: Annotated[str, typer.Argument(help="Name to screen (any script).")],
    schema: SchemaOption = "LegalEntity",
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="YYYY, YYYY-MM or YYYY-MM-DD.")
    ] = None,
    country: Annotated[
        str | None, typer.Option("--country", help="Country, nationality or flag.")
    ] = None,
    identifier: Annotated[
        str | None, typer.Option("--id", help="IMO, MMSI, tail number, passport or id number.")
    ] = None,
    limit: LimitOption = 5,
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Screen one name against the loaded lists, with the reasons for each result."""
    properties: dict[str, list[str]] = {"name": [name]}
    if birth_date:
        properties["birthDate"] = [birth_date]
    if country:
        properties["country" if schema != "Vessel" else "flag"] = [country]
    if identifier:
        properties[_id_property(schema, identifier)] = [identifier]
    try:
        query = Query.from_yente({"schema": schema, "properties": properties})
    except InputError as exc:
        raise InputError(None, exc.message, field=exc.field) from exc
    screener = load_screener(db)
    hits = screener.screen(query, threshold=threshold, limit=limit)
    if json_out:
        print_json(
            {
                "query": {"schema": schema, "properties": properties},
                "results": [h.to_yente() for h in hits],
            }
        )
        return
    if not hits:
        console.print(f"no list entry scores {min(threshold, 0.5):.2f} or more for {name!r}")
        return
    table = Table("score", "match", "id", "name", "schema", "lists", "why", show_lines=True)
    for hit in hits:
        why = "\n".join(f"{e.feature} {e.score:+.2f}: {e.detail}" for e in hit.explanations)
        table.add_row(
            f"{hit.score:.2f}",
            "[bold red]MATCH[/]" if hit.match else "no",
            hit.entity.id,
            hit.entity.caption,
            hit.entity.schema,
            ", ".join(hit.entity.datasets),
            why,
        )
    console.print(table)


def _open_input(path: Path | None, stack: ExitStack) -> IO[bytes]:
    if path is None:
        return sys.stdin.buffer
    if not path.is_file():
        raise InputError(path, "no such file")
    return stack.enter_context(open_binary(path))


def _count_lines(path: Path | None) -> int | None:
    if path is None:
        return None
    with open_binary(path) as fh:
        return sum(1 for _ in fh)


def match_command(
    input_path: Annotated[
        Path | None, typer.Option("--input", help="queries.jsonl or queries.csv (default: stdin).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="results.jsonl (default: stdout).")
    ] = None,
    input_format: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the file name).")
    ] = None,
    csv_columns: Annotated[
        str | None,
        typer.Option(
            "--csv-columns",
            help="PROPERTY=COLUMN pairs, e.g. 'id=Customer ID,name=Customer Name,birthDate=DOB'.",
        ),
    ] = None,
    schema: SchemaOption = "LegalEntity",
    threshold: ThresholdOption = DEFAULT_THRESHOLD,
    limit: LimitOption = 5,
    db: DbOption = None,
) -> None:
    """Screen a batch of yente match queries (JSON lines) or a CSV customer file.

    Each output line is {"id": ..., "results": [...]} in yente's result shape, or
    {"id": ..., "error": "line N: ..."} for a bad record; the batch goes on.
    """
    fmt = input_format or ("csv" if input_path and ".csv" in input_path.name.lower() else "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise InputError(None, f"unknown --format {fmt!r} (jsonl or csv)")
    mapping = parse_column_mapping(csv_columns)
    screener = load_screener(db)
    options = BatchOptions(threshold=threshold, limit=limit, schema=schema)
    counts = {"queries": 0, "errors": 0, "matched": 0}
    with ExitStack() as stack:
        handle = _open_input(input_path, stack)
        records = (
            records_from_csv(
                io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline=""),
                mapping,
                schema,
            )
            if fmt == "csv"
            else records_from_jsonl(handle)
        )
        out: TextIO = (
            stack.enter_context(open(output, "w", encoding="utf-8")) if output else sys.stdout
        )
        show_progress = err_console.is_terminal
        progress = Progress(
            TextColumn("screening"),
            BarColumn(),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=err_console,
            disable=not show_progress,
        )
        stack.enter_context(progress)
        task = progress.add_task("match", total=_count_lines(input_path) if show_progress else None)
        for result in screen_records(screener, records, options):
            counts["queries"] += 1
            if "error" in result:
                counts["errors"] += 1
            elif any(r["match"] for r in result["results"]):
                counts["matched"] += 1
            out.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
            if output is None:
                out.flush()
            progress.advance(task)
    err_console.print(
        f"{counts['queries']:,} records screened: {counts['matched']:,} with a match, "
        f"{counts['errors']:,} bad record(s)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("screen")(screen_command)
    app.command("match")(match_command)
