"""``watchkeeper cases``: list cases, build them from the alerts, show or export one."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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


def print_case(detail: CaseDetail, *, compact: bool = False) -> None:
    """A case in plain text: title, score with its parts, subjects by domain, the links
    that join them, a timeline and the evidence by kind. ``compact``: the timeline one
    line per rule and only the links between different things (no identity links)."""
    from watchkeeper.alerts.cases import IDENTITY_KINDS

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
    names: dict[str, str] = {}
    for domain, subjects in detail.subjects_by_domain.items():
        for s in subjects:
            names.update({i: s["name"] for i in s["ids"]})
        limit = 8 if compact else len(subjects)
        shown = "; ".join(s["name"] for s in subjects[:limit])
        more = f" ... (+{len(subjects) - limit})" if len(subjects) > limit else ""
        console.print(f"  {domain} ({len(subjects)}): {shown}{more}", markup=False, highlight=False)
    from watchkeeper.alerts.cases import shared_subjects

    for _, name, domains in shared_subjects(detail):
        console.print(
            f"  {name} is named by alerts on {', '.join(domains)}", markup=False, highlight=False
        )
    console.print("  joined by:", highlight=False)
    skip = {"same_alert", "alert_subject"} | (set(IDENTITY_KINDS) if compact else set())
    joins = [link for link in c.links if link["kind"] not in skip]
    limit = 24 if compact else len(joins)
    for link in joins[:limit]:
        a, b = link["from"], link["to"]
        console.print(
            f"    {names.get(a, a)} -[{link['kind']}]- {names.get(b, b)}"
            f"  ({', '.join(link['evidence'][:2])})",
            markup=False,
            highlight=False,
        )
    if len(joins) > limit:
        console.print(f"    ... {len(joins) - limit} more (watchkeeper cases show {c.case_id})")
    console.print("  timeline (UTC):", highlight=False)
    if compact:
        by_rule: dict[str, list[Any]] = {}
        for t in detail.timeline:
            if t.kind == "alert":
                by_rule.setdefault(t.type, []).append(t)
        for rule, items in sorted(by_rule.items(), key=lambda kv: kv[1][0].time):
            first, last = items[0].time, items[-1].end_time
            console.print(
                f"    {first:%Y-%m-%d} to {last:%Y-%m-%d} {rule:26} x{len(items):<3} "
                f"{items[0].text[:90]}",
                markup=False,
                highlight=False,
            )
    else:
        for t in detail.timeline:
            mark = "*" if t.kind == "alert" else " "
            console.print(
                f"  {mark} {t.time:%Y-%m-%d %H:%M} {t.type:26} {t.text[:110]}",
                markup=False,
                highlight=False,
            )
    kinds: dict[str, int] = {}
    for e in detail.evidence:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    console.print(
        "  evidence (alert -> event -> row): "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())),
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
    table = Table("evidence", "kind", "events", "what")
    for e in detail.evidence:
        table.add_row(e.id, e.kind, str(len(e.event_ids)), e.summary[:140])
    console.print(table)


def export(
    case_id: Annotated[str, typer.Argument(help="A case id from `watchkeeper cases`.")],
    fmt: Annotated[
        str, typer.Option("--format", help="json, html (one self-contained page) or pdf")
    ] = "json",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write; default stdout (json, html).")
    ] = None,
    db: DbOption = None,
) -> None:
    """The case file: the case with its evidence, naming its sources and list versions.
    html is one page with no external link (timeline, map, network, evidence tables);
    pdf is that page printed by headless Chromium (/usr/bin/chromium)."""
    if fmt not in ("json", "html", "pdf"):
        raise InputError(None, f"format {fmt!r}: use json, html or pdf", field="format")
    if fmt == "pdf" and out is None:
        raise InputError(None, "a PDF needs --out FILE", field="out")
    from watchkeeper.alerts import casefile
    from watchkeeper.alerts.cases import case_file

    with open_db(db, read_only=True) as store:
        if fmt == "json":
            data = case_file(store, case_id)
            body = (json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n").encode()
        else:
            page = casefile.case_file_html(store, case_id)
            body = page.encode("utf-8")
    if fmt == "pdf":
        body = casefile.html_to_pdf(page)
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return
    out.write_bytes(body)
    console.print(f"wrote {out} ({len(body):,} bytes)")


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
