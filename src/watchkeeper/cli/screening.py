"""``watchkeeper screen NAME`` and ``watchkeeper match``: screening from the command line."""

from __future__ import annotations

import getpass
import io
import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from watchkeeper.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_db,
    print_json,
    settings,
)
from watchkeeper.errors import InputError, StoreError
from watchkeeper.io import open_binary

if TYPE_CHECKING:
    from watchkeeper.screening import Screener
    from watchkeeper.screening.audit import AuditLog
    from watchkeeper.screening.review import Decisions
    from watchkeeper.store import Store

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
AuditOption = Annotated[
    bool | None,
    typer.Option(
        "--audit/--no-audit",
        help="Write each screened query and its results to the store's audit log "
        "(default: $WATCHKEEPER_AUDIT_API, on). Needs the store writable; --no-audit "
        "screens a read-only store.",
        show_default=False,
    ),
]

# watchkeeper.screening.DEFAULT_THRESHOLD (a test checks they agree), not imported: the
# screening engine's imports take seconds, and every command's start-up imports this module.
DEFAULT_THRESHOLD = 0.7

NO_LISTS = "no lists are loaded: run `watchkeeper lists load PATH...` first"


def _screener(store: Store) -> Screener:
    """The screener over the store's current lists (index cached beside the store)."""
    from watchkeeper.screening import Screener

    if store.entity_count() == 0:
        raise StoreError(NO_LISTS)
    return Screener.from_store(store)


def _open_for_audit(db: Path | None) -> Store:
    """The store opened for writing, since the audit log is written into it; a clear
    error when it cannot be (a read-only file, or another process holds it)."""
    import duckdb

    from watchkeeper.store import Store

    path = settings(db).db_path
    if not path.exists():
        raise StoreError(NO_LISTS)  # and create no empty store just to say so
    try:
        return Store(path)
    except (StoreError, duckdb.Error) as exc:
        cause = exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc
        reason = str(cause).splitlines()[0].split(". However")[0]
        raise StoreError(
            f"--audit writes the screening audit log into the store, but {path} cannot be "
            f"opened for writing ({reason}); screen without an audit trail with --no-audit "
            "(or WATCHKEEPER_AUDIT_API=false)"
        ) from exc


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in the environment or password database
        return "cli"


@dataclass
class _Session:
    """What one `screen` or `match` run screens with."""

    screener: Screener
    decisions: Decisions
    log: AuditLog | None  # None: not audited
    list_versions: list[dict[str, Any]]


@contextmanager
def _screening_session(db: Path | None, audit: bool | None) -> Iterator[_Session]:
    """The screener and the reviewers' decisions (read once); with auditing, the store
    stays open for writing until the run ends, else it is opened read only."""
    from watchkeeper.screening.audit import AuditLog
    from watchkeeper.screening.review import active_decisions, versions_used

    audited = settings(db).audit_api if audit is None else audit
    store = _open_for_audit(db) if audited else open_db(db, read_only=True)
    with store:
        screener = _screener(store)
        yield _Session(
            screener=screener,
            decisions=active_decisions(store),
            log=AuditLog(store) if audited else None,
            list_versions=versions_used(store, screener) if audited else [],
        )


def _id_property(schema: str, value: str) -> str:
    from watchkeeper.screening.identifiers import imo_valid

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
    audit: AuditOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Screen one name against the loaded lists, with the reasons for each result.

    A result a reviewer decided is not a match for this query (`watchkeeper decisions
    add`) is shown as reviewed, with the decision, and is not a match."""
    from watchkeeper.screening import Query
    from watchkeeper.screening.audit import new_request_id
    from watchkeeper.screening.review import AuditBatch, ReviewContext

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
    with _screening_session(db, audit) as session:
        hits = session.screener.screen(query, threshold=threshold, limit=limit)
        context = ReviewContext(
            session.decisions,
            audit=AuditBatch(session.log) if session.log is not None else None,
            request_id=new_request_id(),
            channel="cli screen",
            actor=_actor(),
            params={"threshold": threshold, "limit": limit},
            list_versions=session.list_versions,
        )
        reviewed = context.screened("1", query, hits)
        if context.audit is not None:
            context.audit.flush()
    if json_out:
        print_json(
            {
                "query": {"schema": schema, "properties": properties},
                "results": reviewed.results,
            }
        )
        return
    if not hits:
        console.print(f"no list entry scores {min(threshold, 0.5):.2f} or more for {name!r}")
        return
    table = Table("score", "match", "id", "name", "schema", "lists", "why", show_lines=True)
    for hit, result in zip(hits, reviewed.results, strict=True):
        why = "\n".join(escape(f"{e.feature} {e.score:+.2f}: {e.detail}") for e in hit.explanations)
        verdict = "[bold red]MATCH[/]" if hit.match else "no"
        decision = result.get("decision")
        if decision is not None:
            verdict = "[yellow]reviewed:\nnot a match[/]"
            why += escape(
                f"\ndecision {decision['decision_id']} by {decision['decided_by']} "
                f"({decision['decided_at'][:10]}): not a match: {decision['reason']}"
            )
        table.add_row(
            f"{hit.score:.2f}",
            verdict,
            escape(hit.entity.id),
            escape(hit.entity.caption),
            hit.entity.schema,
            escape(", ".join(hit.entity.datasets)),
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
    audit: AuditOption = None,
    db: DbOption = None,
) -> None:
    """Screen a batch of yente match queries (JSON lines) or a CSV customer file.

    Each output line is {"id": ..., "results": [...]} in yente's result shape, or
    {"id": ..., "error": "line N: ..."} for a bad record; the batch goes on. A result a
    reviewer decided is not a match for that query carries the "decision" and
    "match": false. With auditing, every screened record is written to the audit log
    (in one transaction per 1,000 records or second).
    """
    from watchkeeper.screening.audit import new_request_id
    from watchkeeper.screening.batch import (
        BatchOptions,
        parse_column_mapping,
        records_from_csv,
        records_from_jsonl,
    )
    from watchkeeper.screening.review import AuditBatch, BatchCounts, ReviewContext, screen_reviewed

    fmt = input_format or ("csv" if input_path and ".csv" in input_path.name.lower() else "jsonl")
    if fmt not in ("jsonl", "csv"):
        raise InputError(None, f"unknown --format {fmt!r} (jsonl or csv)")
    mapping = parse_column_mapping(csv_columns)
    options = BatchOptions(threshold=threshold, limit=limit, schema=schema)
    counts = BatchCounts()
    with ExitStack() as stack:
        handle = _open_input(input_path, stack)
        session = stack.enter_context(_screening_session(db, audit))
        batch = stack.enter_context(AuditBatch(session.log)) if session.log is not None else None
        context = ReviewContext(
            session.decisions,
            audit=batch,
            request_id=new_request_id(),
            channel="cli match",
            actor=_actor(),
            params={
                "threshold": threshold,
                "limit": limit,
                "schema": schema,
                "format": fmt,
                "input": str(input_path) if input_path is not None else "-",
            },
            list_versions=session.list_versions,
        )
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
        for result in screen_reviewed(session.screener, records, options, context, counts):
            out.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
            if output is None:
                out.flush()
            progress.advance(task)
    logged = f"{batch.written:,} audit rows written" if batch is not None else "not audited"
    err_console.print(
        f"{counts.queries:,} records screened: {counts.matched:,} with a match, "
        f"{counts.reviewed:,} result(s) reviewed as not a match, "
        f"{counts.errors:,} bad record(s); {logged}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the main app."""
    app.command("screen")(screen_command)
    app.command("match")(match_command)
