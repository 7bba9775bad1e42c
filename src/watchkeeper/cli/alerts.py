"""``watchkeeper alerts``: list alerts, show one with its evidence, raise them from events."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, parse_time, print_json


def list_command(
    ctx: typer.Context,
    state: Annotated[
        str | None, typer.Option("--state", help="new, in_review, escalated, dismissed, confirmed")
    ] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="low, medium, high, critical")
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """List alerts, most severe and latest first."""
    if ctx.invoked_subcommand is not None:
        return
    from watchkeeper.alerts.store import list_alerts

    with open_db(db, read_only=True) as store:
        alerts = list_alerts(store, state=state, severity=severity)
    if json_out:
        print_json([a.to_dict() for a in alerts])
        return
    table = Table("alert", "severity", "state", "rev", "window (UTC)", "events", "title")
    for a in alerts:
        window = f"{a.start_time:%Y-%m-%d %H:%M} to {a.end_time:%Y-%m-%d %H:%M}"
        table.add_row(
            a.alert_id,
            a.severity,
            a.state,
            str(a.revision),
            window,
            str(len(a.event_ids)),
            a.title,
        )
    console.print(table)
    console.print(f"{len(alerts)} alert(s)")


def show(
    alert_id: Annotated[str, typer.Argument(help="An alert id from `watchkeeper alerts`.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """One alert: why it fired, its events and the evidence each names."""
    from watchkeeper.alerts.store import get_alert

    with open_db(db, read_only=True) as store:
        detail = get_alert(store, alert_id)
    if json_out:
        print_json(detail.to_dict())
        return
    a = detail.alert
    console.print(
        f"[bold]{a.alert_id}[/bold] {a.severity} {a.state} revision {a.revision}", highlight=False
    )
    console.print(a.title, markup=False, highlight=False)
    console.print(f"subjects: {', '.join(a.subjects)}", markup=False, highlight=False)
    console.print(
        f"window: {a.start_time:%Y-%m-%d %H:%M} to {a.end_time:%Y-%m-%d %H:%M} UTC; "
        f"score {a.score:.2f}",
        highlight=False,
    )
    for event_id, why in a.why.items():
        console.print(f"why {event_id}: " + "; ".join(why), markup=False, highlight=False)
    table = Table("event", "type", "start (UTC)", "detail", "evidence")
    for e in detail.events:
        table.add_row(
            e.event_id,
            e.type,
            f"{e.start_time:%Y-%m-%d %H:%M}",
            e.detail,
            ", ".join(e.evidence[:8]) + (" ..." if len(e.evidence) > 8 else ""),
        )
    console.print(table)


def raise_command(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only events created at/after this ISO time (UTC)."),
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Evaluate the alert rules over the stored events and create or update alerts
    (one transaction). Re-running over the same events changes nothing."""
    from watchkeeper.alerts.engine import raise_alerts

    with open_db(db) as store:
        run = raise_alerts(store, since=parse_time(since))
    if json_out:
        print_json(run.to_dict())
        return
    console.print(
        f"{len(run.created)} alert(s) created, {len(run.updated)} updated, "
        f"{run.unchanged} unchanged"
    )


def register(app: typer.Typer) -> None:
    alerts_app = typer.Typer(
        help="Alerts: rules (alerts/rules/*.toml) firing on events, deduplicated.",
        invoke_without_command=True,
    )
    alerts_app.callback()(list_command)
    alerts_app.command("show")(show)
    alerts_app.command("raise")(raise_command)
    app.add_typer(alerts_app, name="alerts")
