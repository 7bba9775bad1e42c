"""``watchkeeper serve``, ``audit ...``, ``decisions ...`` and ``rescreen``: the
interfaces around the screening engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
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
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.screening.audit import ExportFormat

audit_app = typer.Typer(help="The screening audit log: export it, check it is intact.")
decisions_app = typer.Typer(help="Reviewed false positives: a query is not a listed entity.")


def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Address to bind (default: $WATCHKEEPER_API_HOST, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port (default: $WATCHKEEPER_API_PORT, 8000).")
    ] = None,
    audit: Annotated[
        bool | None,
        typer.Option("--audit/--no-audit", help="Log every screening request (default: on)."),
    ] = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="uvicorn's per-request log.")
    ] = True,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (yente-compatible /match and /search, /entities, /decisions).

    Binds 127.0.0.1 unless told otherwise. Endpoints that write need
    WATCHKEEPER_API_TOKEN set, and clients send it as 'Authorization: Bearer <token>'.
    """
    import dataclasses

    from watchkeeper.api import create_app
    from watchkeeper.api.server import run as run_server
    from watchkeeper.store.db import announce_server

    cfg = settings(db)
    changes: dict[str, Any] = {}
    if host is not None:
        changes["api_host"] = host
    if port is not None:
        changes["api_port"] = port
    if audit is not None:
        changes["audit_api"] = audit
    cfg = dataclasses.replace(cfg, **changes)
    with console.status("building the screening index", spinner="dots"):
        app = create_app(cfg)
    state = app.state.watchkeeper
    if not state.list_versions:
        err_console.print("[yellow]warning:[/yellow] no lists are loaded: every screening is empty")
    if cfg.api_host not in ("127.0.0.1", "localhost", "::1"):
        err_console.print(
            f"[yellow]warning:[/yellow] listening on {cfg.api_host}, not loopback only"
        )
    writes = "on (bearer token)" if cfg.api_token else "off (no WATCHKEEPER_API_TOKEN)"
    console.print(
        f"watchkeeper API on http://{cfg.api_host}:{cfg.api_port} - {state.entity_count:,} "
        f"listed parties, audit {'on' if cfg.audit_api else 'off'}, writes {writes}; "
        f"docs at /docs"
    )
    # Other commands cannot open the store while this process holds it: tell them where.
    with announce_server(cfg.db_path, f"http://{cfg.api_host}:{cfg.api_port}"):
        run_server(app, host=cfg.api_host, port=cfg.api_port, access_log=access_log)


@audit_app.command("export")
def audit_export(
    since: Annotated[
        str | None, typer.Option(help="Only rows logged at or after this UTC date or time.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Only rows logged before this.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write (default: stdout); its head goes to FILE.head."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the audit log (every screening request and its results) as JSON lines or CSV.

    Prints the log's head (rows:hash of the last row) on stderr; with --output it is also
    written, signed, to FILE.head. Keep it apart from the store: 'audit verify --expect
    FILE.head' later shows no row was removed or rewritten since."""
    from watchkeeper.screening.audit import (
        EXPORT_FORMATS,
        AuditLog,
        export,
        parse_since,
        write_export_head,
    )

    if fmt not in EXPORT_FORMATS:
        raise InputError(None, f"unknown format {fmt!r} (jsonl or csv)", field="format")
    chosen: ExportFormat = fmt
    start = parse_since(since) if since else None
    end = parse_since(until) if until else None
    head_file: Path | None = None
    with open_db(db, read_only=True) as store:
        log = AuditLog(store)
        head = log.head()
        records = log.records(since=start, until=end)
        if output is None:
            n = export(records, sys.stdout, chosen)
        else:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                n = export(records, fh, chosen)
            window = {"format": chosen, "since": since, "until": until}
            head_file = write_export_head(log, output, head, n, window)
    if output is not None:
        err_console.print(f"{n:,} audit rows written to {output}")
    err_console.print(
        f"head {head} ({head.count:,} rows in the log)"
        + (f", written to {head_file}" if head_file else ""),
        highlight=False,
    )


@audit_app.command("verify")
def audit_verify(
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            help="A head published before: COUNT:HASH as verify prints it, or a FILE.head "
            "from export. The log must still extend it.",
        ),
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Check the audit log: its hash chain (no row changed or removed), its anchored head
    (<db>.audit-head, signed; rows cut from the end or rewritten with the chain
    recomputed) and --expect. Prints the head (rows:hash) to publish; exit 1 when a
    check fails, saying how, 2 when --expect cannot be read."""
    from dataclasses import replace

    from rich.markup import escape

    from watchkeeper.screening.audit import AuditHead, AuditLog, signature_problem

    expected = AuditHead.parse(expect) if expect else None
    with open_db(db, read_only=True) as store:
        log = AuditLog(store)
        check = log.verify(expected)
        unsigned = signature_problem(log.anchor, Path(expect)) if expect else None
    if unsigned is not None:
        check = replace(check, ok=False, detail=f"{check.detail}; {unsigned}")
    if json_out:
        print_json(check.to_dict())
    else:
        colour = "green" if check.ok else "red"
        where = f" (first bad row: {check.first_bad})" if check.first_bad else ""
        console.print(f"[{colour}]{escape(check.detail)}[/{colour}]{where}", highlight=False)
        console.print(f"head {check.head}", highlight=False)
    if not check.ok:
        raise typer.Exit(1)


def _query_from_options(
    names: list[str] | None, schema: str, props: list[str] | None, query_json: str | None
) -> tuple[str, dict[str, list[str]]]:
    if query_json is not None:
        try:
            body = json.loads(query_json)
        except json.JSONDecodeError as exc:
            raise InputError(None, f"--query is not JSON: {exc.msg}", field="query") from exc
        if not isinstance(body, dict) or not isinstance(body.get("properties"), dict):
            raise InputError(None, "--query needs {schema, properties}", field="query")
        return str(body.get("schema", schema)), body["properties"]
    properties: dict[str, list[str]] = {}
    if names:
        properties["name"] = list(names)
    for item in props or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InputError(None, f"--prop {item!r} is not KEY=VALUE", field="prop")
        properties.setdefault(key.strip(), []).append(value.strip())
    return schema, properties


@decisions_app.command("add")
def decisions_add(
    names: Annotated[list[str] | None, typer.Argument(help="The query's name(s).")] = None,
    entity: Annotated[str, typer.Option("--entity", help="The listed entity id.")] = "",
    by: Annotated[str, typer.Option(help="Who reviewed it.")] = "",
    reason: Annotated[str, typer.Option(help="Why it is not a match.")] = "",
    schema: Annotated[str, typer.Option(help="The query's schema.")] = "LegalEntity",
    prop: Annotated[
        list[str] | None,
        typer.Option("--prop", help="More query properties, KEY=VALUE (birthDate=1970)."),
    ] = None,
    query_json: Annotated[
        str | None, typer.Option("--query", help="The whole query as yente JSON instead.")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Record that a query's subject is not a listed entity (a reviewed false positive)."""
    from watchkeeper.screening import Query
    from watchkeeper.screening.decisions import DecisionStore

    if not entity:
        raise InputError(None, "--entity is required", field="entity")
    q_schema, q_props = _query_from_options(names, schema, prop, query_json)
    query = Query.from_yente({"schema": q_schema, "properties": q_props})
    with open_db(db) as store:
        decision, new = DecisionStore(store).add(
            query.schema, query.properties, entity, by=by, reason=reason
        )
    if json_out:
        print_json({**decision.to_dict(), "new": new})
        return
    state = "recorded" if new else "already on record"
    console.print(
        f"decision {decision.decision_id} {state}: {_decided_query(decision.query)} is not "
        f"{entity} (fingerprint {decision.fingerprint})",
        highlight=False,
    )


def _decided_query(query: dict[str, Any]) -> str:
    """The query a decision was made on, with the facts it holds for (birthDate=...): it
    applies only to queries that give the same."""
    text = "; ".join(query.get("names", [])) or ", ".join(query.get("identifiers", []))
    facts: dict[str, list[str]] = query.get("qualifiers") or {}
    return text + "".join(f", {k}={'/'.join(v)}" for k, v in facts.items())


@decisions_app.command("list")
def decisions_list(
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also revoked decisions.")] = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Decisions on record."""
    from watchkeeper.screening.decisions import DecisionStore

    with open_db(db, read_only=True) as store:
        found = DecisionStore(store).list(include_revoked=all_, entity_id=entity)
    if json_out:
        print_json([d.to_dict() for d in found])
        return
    table = Table("id", "query", "entity", "by", "when", "reason", "revoked")
    for d in found:
        table.add_row(
            str(d.decision_id),
            _decided_query(d.query),
            d.entity_id,
            d.decided_by,
            d.decided_at.strftime("%Y-%m-%d %H:%M"),
            d.reason,
            f"{d.revoked_by}: {d.revoke_reason}" if d.revoked_at else "",
        )
    console.print(table)


@decisions_app.command("remove")
def decisions_remove(
    decision_id: Annotated[int, typer.Argument(help="The decision to take back.")],
    by: Annotated[str, typer.Option(help="Who takes it back.")] = "",
    reason: Annotated[str, typer.Option(help="Why.")] = "",
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Revoke a decision (it stays on record); the entity is reported again."""
    from watchkeeper.screening.decisions import DecisionStore

    with open_db(db) as store:
        decision = DecisionStore(store).revoke(decision_id, by=by, reason=reason)
    if json_out:
        print_json(decision.to_dict())
        return
    console.print(f"decision {decision.decision_id} revoked by {decision.revoked_by}")


def rescreen_command(
    subjects: Annotated[
        Path | None,
        typer.Option(
            "--subjects",
            help="Subjects to store and screen (JSON lines of yente queries with an 'id', "
            "or CSV with id, schema and property columns). Without it: every stored subject.",
        ),
    ] = None,
    since_version: Annotated[
        str | None,
        typer.Option(help="List version (label or id) to compare with; default: the one before."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Only this list.")] = None,
    threshold: Annotated[float | None, typer.Option(help="Match threshold.")] = None,
    audit: Annotated[
        bool, typer.Option("--audit/--no-audit", help="Write each screening to the audit log.")
    ] = True,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Screen subjects again, only against list entries added or changed since a list
    version, and report the hits they never had before. Subjects seen for the first time
    are screened against the whole lists."""
    import getpass

    from watchkeeper.screening import Screener
    from watchkeeper.screening.audit import AuditLog
    from watchkeeper.screening.rescreen import read_subjects, rescreen, store_subjects

    cfg = settings(db)
    limit = cfg.match_threshold if threshold is None else threshold
    if not 0.0 <= limit <= 1.0:
        raise InputError(None, "threshold must be between 0 and 1", field="threshold")
    ids: list[str] | None = None
    with open_db(db) as store:
        stored: dict[str, int] | None = None
        if subjects is not None:
            read = read_subjects(subjects)
            stored = store_subjects(store, read).to_dict()
            ids = [s.subject_id for s in read]
        with console.status("building the screening index", spinner="dots"):
            screener = Screener.from_store(store)
        with console.status("screening", spinner="dots"):
            report = rescreen(
                store,
                screener,
                subject_ids=ids,
                since_version=since_version,
                source=source,
                threshold=limit,
                actor=f"cli:{getpass.getuser()}",
                audit=AuditLog(store) if audit else None,
            )
    if json_out:
        print_json({**report.to_dict(), "stored": stored})
        return
    if stored is not None:
        console.print(
            f"subjects: {stored['added']} added, {stored['updated']} updated, "
            f"{stored['unchanged']} unchanged"
        )
    for w in report.windows:
        since = w.from_version.version if w.from_version else "-"
        console.print(
            f"{w.source}: {since} -> {w.to_version.version}: {len(w.added):,} added, "
            f"{len(w.changed):,} changed"
        )
    console.print(
        f"run {report.run_id}: {report.subjects:,} subjects ({report.first_screenings:,} first "
        f"screenings, {report.rescreened:,} against {report.candidates:,} changed entries); "
        f"{len(report.new_hits):,} new hits, {report.seen_hits:,} seen before, "
        f"{report.suppressed:,} suppressed by decisions"
    )
    if report.new_hits:
        table = Table("subject", "entity", "name", "score", "why")
        for h in report.new_hits:
            table.add_row(h.subject_id, h.entity_id, h.caption, f"{h.score:.2f}", h.why)
        console.print(table)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("rescreen")(rescreen_command)
    app.add_typer(audit_app, name="audit")
    app.add_typer(decisions_app, name="decisions")
