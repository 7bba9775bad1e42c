"""``watchkeeper alerts``: list alerts, show one with its evidence and review trail,
review one, raise them from events.

Review commands act as a named local user: ``--as NAME``, else $WATCHKEEPER_USER, else
the login name. With no users on record any name is taken as given (one person using
the store); once ``watchkeeper users add`` has made users, the name must be an enabled
analyst or admin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, parse_time, print_json

if TYPE_CHECKING:
    from watchkeeper.alerts.review import ReviewAction

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        envvar="WATCHKEEPER_USER",
        help="Act as this user (default: $WATCHKEEPER_USER, else the login name).",
    ),
]


def local_user(name: str | None) -> str:
    """Who the CLI acts as: ``--as``/$WATCHKEEPER_USER, else the OS login name."""
    import getpass

    if name and name.strip():
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        from watchkeeper.errors import InputError

        raise InputError(None, "no login name: say who you are with --as", field="as") from None


def _print_trail(trail: list[ReviewAction]) -> None:
    if not trail:
        console.print("review trail: none yet")
        return
    table = Table("#", "when (UTC)", "who", "action", "change", "note / link", "audit")
    for t in trail:
        if t.action == "state":
            change = f"{t.state_from} -> {t.state_to}"
        elif t.action == "assign":
            change = f"to {t.assignee}"
        else:
            change = ""
        table.add_row(
            str(t.action_id),
            f"{t.acted_at:%Y-%m-%d %H:%M:%S}",
            t.actor,
            t.action,
            change,
            t.link or t.note or "",
            str(t.audit_id),
        )
    console.print(table)


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
    """One alert: why it fired, its events and the evidence each names, its review trail."""
    from watchkeeper.alerts.review import history
    from watchkeeper.alerts.store import get_alert

    with open_db(db, read_only=True) as store:
        detail = get_alert(store, alert_id)
        trail = history(store, alert_id)
    if json_out:
        print_json({**detail.to_dict(), "trail": [t.to_dict() for t in trail]})
        return
    a = detail.alert
    console.print(
        f"[bold]{a.alert_id}[/bold] {a.severity} {a.state} revision {a.revision}"
        + (f", assigned to {a.assignee}" if a.assignee else ""),
        highlight=False,
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
    _print_trail(trail)


def history_command(
    alert_id: Annotated[str, typer.Argument(help="An alert id from `watchkeeper alerts`.")],
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """The review trail of one alert: every action, who, when, and its audit row."""
    from watchkeeper.alerts.review import history
    from watchkeeper.alerts.store import get_alert

    with open_db(db, read_only=True) as store:
        get_alert(store, alert_id)  # an unknown id is an error, not an empty trail
        trail = history(store, alert_id)
    if json_out:
        print_json([t.to_dict() for t in trail])
        return
    _print_trail(trail)


def review_command(
    alert_id: Annotated[str, typer.Argument(help="An alert id from `watchkeeper alerts`.")],
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="in_review, escalated, dismissed (needs --reason), confirmed; a dismissed "
            "or confirmed alert reopens to in_review with a --note.",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note for the trail.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why it is dismissed (with --state dismissed).")
    ] = None,
    assign: Annotated[str | None, typer.Option("--assign", help="Assign to this analyst.")] = None,
    link: Annotated[
        str | None,
        typer.Option(
            "--link", help="An outside reference: an http(s) URL or a ticket id (FIU-12)."
        ),
    ] = None,
    as_user: AsOption = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Review an alert: change its state, note, assign, link. Every part is an action in
    the alert's trail and in the audit log; all are stored, or none (exit 2 on a refused
    move or bad input)."""
    from watchkeeper.alerts.review import review
    from watchkeeper.alerts.users import require_local_role

    actor = local_user(as_user)
    with open_db(db) as store:
        require_local_role(store, actor, "analyst")
        actions = review(
            store,
            alert_id,
            actor=actor,
            state=state,
            note=note,
            reason=reason,
            assign=assign,
            link=link,
        )
    if json_out:
        print_json([a.to_dict() for a in actions])
        return
    console.print(f"{len(actions)} action(s) recorded on {alert_id} as {actor}", highlight=False)
    _print_trail(actions)


def check_trail_command(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Check the review trail against the audit log: every action has its audit row and
    says the same, every alert's state and assignee is what its trail leaves. Exit 1 when
    not. (`watchkeeper audit verify` checks the audit rows themselves.)"""
    from watchkeeper.alerts.review import check_trail

    with open_db(db, read_only=True) as store:
        problems = check_trail(store)
    if json_out:
        print_json({"ok": not problems, "problems": problems})
    else:
        for p in problems:
            console.print(p, markup=False, highlight=False)
        console.print("review trail agrees with the audit log" if not problems else "")
    if problems:
        raise typer.Exit(1)


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
        help="Alerts from rules (alerts/rules/*.toml), deduplicated, and their review trail.",
        invoke_without_command=True,
    )
    alerts_app.callback()(list_command)
    alerts_app.command("show")(show)
    alerts_app.command("history")(history_command)
    alerts_app.command("review")(review_command)
    alerts_app.command("check-trail")(check_trail_command)
    alerts_app.command("raise")(raise_command)
    app.add_typer(alerts_app, name="alerts")
