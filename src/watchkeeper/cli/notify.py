"""``watchkeeper notify``: queue alerts for the configured channels and deliver them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Notify config (TOML): channels, filters, retry."),
]


def _outbox_missing(exc: Exception, db: Path | None) -> Exception:
    """A store written before the alerts schema (090) has no outbox until a write
    command migrates it; say so instead of a catalog traceback."""
    from watchkeeper.errors import StoreError

    if "does not exist" not in str(exc):
        return exc
    return StoreError(
        f"the store{f' at {db}' if db else ''} has no alerts or notifications table yet: "
        "run `watchkeeper alerts raise` on it first (a write command migrates it)"
    )


def notify_command(
    ctx: typer.Context,
    config: ConfigOption = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be queued and sent; change nothing."),
    ] = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Queue each alert's current revision for every channel that accepts it, then send
    what is due. Delivery is at least once: receivers deduplicate on alert id + revision."""
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        raise typer.BadParameter(
            "missing: give the notify config file (TOML)", param_hint="--config"
        )
    from datetime import UTC, datetime

    from watchkeeper.alerts.notify import deliver_pending, enqueue, load_notify_config
    from watchkeeper.alerts.notify.outbox import due, plan_enqueue

    cfg = load_notify_config(config)
    if dry_run:
        import duckdb

        with open_db(db, read_only=True) as store:
            try:
                planned = plan_enqueue(store, cfg)
                waiting = due(store, datetime.now(UTC))
            except duckdb.CatalogException as exc:
                raise _outbox_missing(exc, db) from exc
        if json_out:
            print_json(
                {
                    "would_queue": [q.__dict__ for q, _ in planned],
                    "would_send": [
                        {"alert_id": n.alert_id, "revision": n.revision, "channel": n.channel}
                        for n in waiting
                    ],
                }
            )
            return
        for q, _ in planned:
            console.print(
                f"would queue {q.alert_id} r{q.revision} for {q.channel}", highlight=False
            )
        console.print(
            f"{len(planned)} notification(s) would be queued; {len(waiting)} already queued "
            "and due would be sent, then the new ones"
        )
        return
    with open_db(db) as store:
        added = enqueue(store, cfg)
        run = deliver_pending(store, cfg)
    if json_out:
        print_json({"queued": added, **run.to_dict()})
        return
    for key, error in run.errors.items():
        console.print(f"[yellow]{key}[/yellow]: {error}", highlight=False, markup=False)
    console.print(
        f"{added} queued; {len(run.sent)} sent, {len(run.retrying)} to retry, "
        f"{len(run.gave_up)} given up"
        + (f", {run.unknown_channel} for channels not in the config" if run.unknown_channel else "")
    )


def status(db: DbOption = None, json_out: JsonOption = False) -> None:
    """Outbox rows per channel: queued, retrying, sent, failed (given up)."""
    import duckdb

    from watchkeeper.alerts.notify import outbox_status

    with open_db(db, read_only=True) as store:
        try:
            rows = outbox_status(store)
        except duckdb.CatalogException as exc:
            raise _outbox_missing(exc, db) from exc
    if json_out:
        print_json([r.to_dict() for r in rows])
        return
    table = Table("channel", "queued", "retrying", "sent", "failed", "next try (UTC)")
    for r in rows:
        table.add_row(
            r.channel,
            str(r.queued),
            str(r.retrying),
            str(r.sent),
            str(r.failed),
            f"{r.next_try_at:%Y-%m-%d %H:%M:%S}" if r.next_try_at else "",
        )
    console.print(table)


def retry_command(
    channel: Annotated[
        str | None, typer.Option("--channel", help="Only this channel's given-up rows.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Give the notifications that were given up a fresh set of attempts, due now."""
    from watchkeeper.alerts.notify import requeue_failed

    with open_db(db) as store:
        count = requeue_failed(store, channel=channel)
    console.print(f"{count} notification(s) queued again")


def register(app: typer.Typer) -> None:
    notify_app = typer.Typer(
        help="Notifications: webhook, SMTP, JSON lines; at least once, from the outbox.",
        invoke_without_command=True,
    )
    notify_app.callback()(notify_command)
    notify_app.command("status")(status)
    notify_app.command("retry")(retry_command)
    app.add_typer(notify_app, name="notify")
