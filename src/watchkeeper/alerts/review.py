"""The review trail of an alert: state changes, assignment, notes and outside links.

States and the moves allowed between them (``TRANSITIONS``)::

    new        -> in_review, escalated, dismissed, confirmed
    in_review  -> escalated, dismissed, confirmed
    escalated  -> in_review, dismissed, confirmed
    dismissed  -> in_review   (reopen: a note is required)
    confirmed  -> in_review   (reopen: a note is required)

A dismissal needs a reason (kept in the action's ``note``). Nothing goes back to
``new``: it means "no one has looked". Reviewing takes the analyst role (or admin);
the callers check it (the API's dependencies, the CLI's ``--as``).

Every action is a row of ``alert_actions`` (append-only: nothing here updates or
deletes one) and a row of the hash-chained audit log (channel ``alerts review``),
written in one transaction with the alert's new ``state``/``assignee``; the action's
``audit_id`` names its audit row. One review call with several parts (a state, an
assignee, a link) is several actions, all stored or none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, astuple, dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb

from watchkeeper.alerts.audited import write_audited
from watchkeeper.alerts.store import STATES
from watchkeeper.alerts.users import any_users, get_user, has_role
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditEntry, AuditRecord, new_request_id
from watchkeeper.store import Store

REVIEW_CHANNEL = "alerts review"
ACTIONS = ("state", "assign", "note", "link")

TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_review", "escalated", "dismissed", "confirmed"}),
    "in_review": frozenset({"escalated", "dismissed", "confirmed"}),
    "escalated": frozenset({"in_review", "dismissed", "confirmed"}),
    "dismissed": frozenset({"in_review"}),
    "confirmed": frozenset({"in_review"}),
}
# Moves that reopen a closed alert: they need a note saying why.
REOPENS = frozenset({("dismissed", "in_review"), ("confirmed", "in_review")})

MAX_NOTE = 10_000
MAX_LINK = 2_000
# A ticket id as trackers write them: PROJECT-123, FIU_2024-7.
_TICKET = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}-[0-9]{1,12}")


class ReviewRefused(InputError):
    """A well-formed action the alert's state does not allow (HTTP 409)."""


@dataclass(frozen=True)
class ReviewAction:
    action_id: int
    alert_id: str
    actor: str
    acted_at: datetime
    action: str
    state_from: str | None
    state_to: str | None
    assignee: str | None
    note: str | None
    link: str | None
    audit_id: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_link(text: str) -> str:
    """An outside reference: an http(s) URL with a host, or a ticket id such as
    ``FIU-1234``; surrounding blanks are dropped. InputError (field ``link``) for
    anything else: no other scheme, no blanks or control characters inside."""
    value = text.strip()
    if not value:
        raise InputError(None, "an empty link", field="link")
    if len(value) > MAX_LINK:
        raise InputError(
            None, f"a link of {len(value)} characters (at most {MAX_LINK})", field="link"
        )
    if _TICKET.fullmatch(value):
        return value
    if any(c.isspace() or not c.isprintable() for c in value):
        raise InputError(None, "a link with blanks or control characters in it", field="link")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError as exc:
        raise InputError(None, f"{value[:80]!r} is not a URL: {exc}", field="link") from exc
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise InputError(
            None,
            f"{value[:80]!r} is neither an http(s) URL with a host nor a ticket id "
            "such as FIU-1234",
            field="link",
        )
    return value


def _check_note(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    value = text.strip()
    if not value:
        raise InputError(None, f"an empty {what}", field=what)
    if len(value) > MAX_NOTE:
        raise InputError(
            None, f"a {what} of {len(value)} characters (at most {MAX_NOTE})", field=what
        )
    return value


@dataclass(frozen=True)
class _Planned:
    action: str
    state_from: str | None = None
    state_to: str | None = None
    assignee: str | None = None
    note: str | None = None
    link: str | None = None


def plan_review(
    current: str,
    *,
    state: str | None = None,
    note: str | None = None,
    reason: str | None = None,
    assign: str | None = None,
    link: str | None = None,
) -> list[_Planned]:
    """The actions one review call makes on an alert in state ``current``, in the order
    they are stored: state, note, assign, link. Raises InputError for bad input and
    ReviewRefused for a move ``TRANSITIONS`` does not allow; checks no user."""
    note = _check_note(note, "note")
    reason = _check_note(reason, "reason")
    link = check_link(link) if link is not None else None
    if state is None and note is None and assign is None and link is None:
        raise InputError(None, "nothing to do: give a state, a note, an assignee or a link")
    if reason is not None and state != "dismissed":
        raise InputError(None, "a reason is given with --state dismissed only", field="reason")
    planned: list[_Planned] = []
    if state is not None:
        if state not in STATES:
            raise InputError(
                None, f"unknown state {state!r}; one of {', '.join(STATES)}", field="state"
            )
        if state == current:
            raise ReviewRefused(None, f"the alert is {current} already", field="state")
        if state not in TRANSITIONS[current]:
            allowed = ", ".join(sorted(TRANSITIONS[current]))
            raise ReviewRefused(
                None, f"an alert that is {current} can go to {allowed}, not {state}", field="state"
            )
        if state == "dismissed" and reason is None:
            raise ReviewRefused(None, "a dismissal needs a reason (--reason)", field="reason")
        if (current, state) in REOPENS and note is None:
            raise ReviewRefused(
                None, f"reopening a {current} alert needs a note saying why", field="note"
            )
        if state == "dismissed":
            planned.append(_Planned("state", current, state, note=reason))
        else:
            planned.append(_Planned("state", current, state, note=note))
            note = None  # said with the state change
    if note is not None:
        planned.append(_Planned("note", note=note))
    if assign is not None:
        planned.append(_Planned("assign", assignee=assign))
    if link is not None:
        planned.append(_Planned("link", link=link))
    return planned


def _check_assignee(store: Store, name: str) -> str:
    """With users on record, an assignee is an enabled analyst or admin; without, any
    non-empty name (one person using the store)."""
    value = name.strip()
    if not value:
        raise InputError(None, "an empty assignee", field="assign")
    if any_users(store):
        user = get_user(store, value)
        if user is None or not user.enabled or not has_role(user.role, "analyst"):
            raise InputError(
                None, f"{value!r} is not an enabled analyst or admin user", field="assign"
            )
    return value


def _entry(actor: str, alert_id: str, revision: int, p: _Planned) -> AuditEntry:
    return AuditEntry(
        request_id=new_request_id(),
        channel=REVIEW_CHANNEL,
        actor=actor,
        query_key=alert_id,
        fingerprint=f"alert:{p.action}",
        query={
            "alert_id": alert_id,
            "action": p.action,
            "state_from": p.state_from,
            "state_to": p.state_to,
            "assignee": p.assignee,
            "note": p.note,
            "link": p.link,
        },
        params={"alert_revision": revision},
        results=[],
    )


def review(
    store: Store,
    alert_id: str,
    *,
    actor: str,
    state: str | None = None,
    note: str | None = None,
    reason: str | None = None,
    assign: str | None = None,
    link: str | None = None,
) -> list[ReviewAction]:
    """Record one review call on ``alert_id`` by ``actor`` (whose role the caller has
    checked): its actions, their audit rows and the alert's new state and assignee, in
    one transaction. Any error stores nothing."""
    if not actor.strip():
        raise InputError(None, "who is reviewing? (an empty actor)", field="as")
    assignee = _check_assignee(store, assign) if assign is not None else None

    def prepare(
        con: duckdb.DuckDBPyConnection,
    ) -> tuple[
        list[AuditEntry],
        Callable[[duckdb.DuckDBPyConnection, list[AuditRecord]], list[ReviewAction]],
    ]:
        row = con.execute(
            "SELECT state, revision FROM alerts WHERE alert_id = ?", [alert_id]
        ).fetchone()
        if row is None:
            raise InputError(None, f"no alert {alert_id!r}", field="alert_id")
        current, revision = str(row[0]), int(row[1])
        planned = plan_review(
            current, state=state, note=note, reason=reason, assign=assignee, link=link
        )
        entries = [_entry(actor, alert_id, revision, p) for p in planned]

        def apply(con: duckdb.DuckDBPyConnection, records: list[AuditRecord]) -> list[ReviewAction]:
            return [
                _store_action(con, alert_id, actor, p, r)
                for p, r in zip(planned, records, strict=True)
            ]

        return entries, apply

    return write_audited(store, prepare)


def _store_action(
    con: duckdb.DuckDBPyConnection, alert_id: str, actor: str, p: _Planned, record: AuditRecord
) -> ReviewAction:
    row = con.execute(
        "INSERT INTO alert_actions (alert_id, actor, acted_at, action, state_from, state_to, "
        "assignee, note, link, audit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING action_id",
        [alert_id, actor, record.logged_at, *astuple(p), record.audit_id],
    ).fetchone()
    assert row is not None
    # The alert keeps the result of its trail: a state action sets state, an assign
    # action the assignee; notes and links change neither.
    column = {"state": ("state", p.state_to), "assign": ("assignee", p.assignee)}.get(p.action)
    if column is not None:
        con.execute(
            f"UPDATE alerts SET {column[0]} = ?, updated_at = ? WHERE alert_id = ?",
            [column[1], record.logged_at, alert_id],
        )
    return ReviewAction(
        action_id=int(row[0]),
        alert_id=alert_id,
        actor=actor,
        acted_at=record.logged_at,
        audit_id=record.audit_id,
        **asdict(p),
    )


_ACTION_COLS = (
    "action_id, alert_id, actor, acted_at, action, state_from, state_to, assignee, note, "
    "link, audit_id"
)


def _action(row: Sequence[Any]) -> ReviewAction:
    return ReviewAction(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        None if row[10] is None else int(row[10]),
    )


def history(store: Store, alert_id: str) -> list[ReviewAction]:
    """The review trail of one alert, oldest first (empty for an alert never reviewed)."""
    rows = store.con.execute(
        f"SELECT {_ACTION_COLS} FROM alert_actions WHERE alert_id = ? ORDER BY action_id",
        [alert_id],
    ).fetchall()
    return [_action(r) for r in rows]


def check_trail(store: Store) -> list[str]:
    """What does not agree between the review trail and the audit log: an action with no
    audit row in channel 'alerts review', an action whose audit row says something else,
    an alert whose state or assignee is not what its actions leave. Empty when all agree.
    (``watchkeeper audit verify`` proves the audit rows themselves unchanged.)"""
    problems: list[str] = []
    rows = store.con.execute(
        f"SELECT {', '.join('a.' + c.strip() for c in _ACTION_COLS.split(','))}, "
        "s.channel, s.actor, s.query FROM alert_actions a "
        "LEFT JOIN screening_audit s ON s.audit_id = a.audit_id ORDER BY a.action_id"
    ).fetchall()
    last: dict[str, dict[str, str | None]] = {}
    for row in rows:
        act = _action(row[:11])
        channel, actor, query = row[11], row[12], row[13]
        if channel != REVIEW_CHANNEL:
            problems.append(
                f"action {act.action_id}: no audit row {act.audit_id} in the review channel"
            )
            continue
        logged = json.loads(query)
        stored = {
            "alert_id": act.alert_id,
            "action": act.action,
            "state_from": act.state_from,
            "state_to": act.state_to,
            "assignee": act.assignee,
            "note": act.note,
            "link": act.link,
        }
        if logged != stored or actor != act.actor:
            problems.append(f"action {act.action_id} differs from its audit row {act.audit_id}")
        seen = last.setdefault(act.alert_id, {})
        if act.action == "state":
            seen["state"] = act.state_to
        elif act.action == "assign":
            seen["assignee"] = act.assignee
    for alert_id, seen in sorted(last.items()):
        now = store.con.execute(
            "SELECT state, assignee FROM alerts WHERE alert_id = ?", [alert_id]
        ).fetchone()
        if now is None:
            problems.append(f"alert {alert_id}: reviewed, but no longer stored")
            continue
        if "state" in seen and now[0] != seen["state"]:
            problems.append(f"alert {alert_id}: state {now[0]}, its trail says {seen['state']}")
        if "assignee" in seen and now[1] != seen["assignee"]:
            problems.append(
                f"alert {alert_id}: assignee {now[1]}, its trail says {seen['assignee']}"
            )
    return problems
