"""``watchkeeper cases``: list cases, build them from the alerts, show or export one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.alerts.cases import CaseDetail


def list_command(
    ctx: typer.Context,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List cases, highest score first."""
    if ctx.invoked_subcommand is not None:
        return
    from watchkeeper.alerts.cases import list_cases

    with open_db(db, read_only=True) as store:
        cases = list_cases(store)
    if json_out:
        print_json([c.to_dict() for c in cases])
        return
    table = Table("case", "score", "alerts", "subjects", "window (UTC)", "title")
    for c in cases:
        table.add_row(
            c.case_id,
            f"{c.score:.2f}",
            str(len(c.alert_ids)),
            str(len(c.subjects)),
            f"{c.start_time:%Y-%m-%d} to {c.end_time:%Y-%m-%d}",
            c.title,
        )
    console.print(table)
    console.print(f"{len(cases)} case(s)  (build them: watchkeeper cases build)")


def build(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Group the stored alerts into cases (one transaction). Re-running over the same
    alerts changes nothing; case ids stay the same."""
    from watchkeeper.alerts.cases import build_cases

    with open_db(db) as store:
        run = build_cases(store)
    if json_out:
        print_json(run.to_dict())
        return
    console.print(
        f"{run.cases} case(s) over {run.alerts} alert(s): {len(run.created)} new, "
        f"{len(run.updated)} changed, {len(run.unchanged)} unchanged, "
        f"{len(run.removed)} removed"
    )


def print_case(detail: CaseDetail, *, events: int | None = None) -> None:
    """A case in plain text: title, score with its parts, subjects by domain, a
    timeline (``events``: at most this many event lines; None: all) and evidence."""
    c = detail.case
    console.print(f"[bold]{c.case_id}[/bold] score {c.score:.2f}", highlight=False)
    console.print(c.title, markup=False, highlight=False)
    console.print(
        f"window: {c.start_time:%Y-%m-%d %H:%M} to {c.end_time:%Y-%m-%d %H:%M} UTC; "
        f"{len(c.alert_ids)} alert(s), {len(c.subjects)} subject(s)",
        highlight=False,
    )
    for p in c.score_parts:
        console.print(
            f"  {p['part']:15} {p['value']:.2f} x {p['weight']:.2f}  {p['why']}",
            markup=False,
            highlight=False,
        )
    for domain, subjects in detail.subjects_by_domain.items():
        shown = ", ".join(s["name"] for s in subjects[:12])
        more = f" ... (+{len(subjects) - 12})" if len(subjects) > 12 else ""
        console.print(f"  {domain} ({len(subjects)}): {shown}{more}", markup=False, highlight=False)
    shown_events = 0
    for t in detail.timeline:
        if t.kind == "event":
            shown_events += 1
            if events is not None and shown_events > events:
                continue
        mark = "*" if t.kind == "alert" else " "
        console.print(
            f"  {mark} {t.time:%Y-%m-%d %H:%M} {t.type:26} {t.text[:110]}",
            markup=False,
            highlight=False,
        )
    if events is not None and shown_events > events:
        console.print(f"    ... {shown_events - events} more event(s): watchkeeper cases show")
    kinds: dict[str, int] = {}
    for e in detail.evidence:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    console.print(
        "  evidence: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
        highlight=False,
    )
    joins: dict[str, int] = {}
    for link in c.links:
        joins[link["kind"]] = joins.get(link["kind"], 0) + 1
    console.print(
        "  joined by: " + ", ".join(f"{k} {n}" for k, n in sorted(joins.items())),
        highlight=False,
    )


def show(
    case_id: Annotated[str, typer.Argument(help="A case id from `watchkeeper cases`.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """One case: score and parts, subjects by domain, timeline, links and evidence."""
    from watchkeeper.alerts.cases import get_case

    with open_db(db, read_only=True) as store:
        detail = get_case(store, case_id)
    if json_out:
        print_json(detail.to_dict())
        return
    print_case(detail)
    table = Table("from", "kind", "to", "evidence")
    for link in detail.case.links:
        if link["kind"] in ("same_alert", "alert_subject"):
            continue
        table.add_row(link["from"], link["kind"], link["to"], ", ".join(link["evidence"][:3]))
    console.print(table)
    table = Table("evidence", "kind", "events", "what")
    for e in detail.evidence:
        table.add_row(e.id, e.kind, str(len(e.event_ids)), e.summary[:140])
    console.print(table)


def export(
    case_id: Annotated[str, typer.Argument(help="A case id from `watchkeeper cases`.")],
    fmt: Annotated[str, typer.Option("--format", help="json (html, pdf: the case file)")] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write; default stdout.")
    ] = None,
    db: DbOption = None,
) -> None:
    """The case file: the case with its evidence, naming its sources and list versions."""
    if fmt != "json":
        raise InputError(
            None,
            f"format {fmt!r}: this command writes json; html and pdf come from the case "
            "file renderers",
            field="format",
        )
    from watchkeeper.alerts.cases import case_file

    with open_db(db, read_only=True) as store:
        data = case_file(store, case_id)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({len(text):,} bytes)")


def register(app: typer.Typer) -> None:
    cases_app = typer.Typer(
        help="Cases: alerts grouped by the network they belong to, with their evidence.",
        invoke_without_command=True,
    )
    cases_app.callback()(list_command)
    cases_app.command("build")(build)
    cases_app.command("show")(show)
    cases_app.command("export")(export)
    app.add_typer(cases_app, name="cases")
