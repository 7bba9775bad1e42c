"""The review trail: allowed and refused moves, append-only actions in the hash-chained
audit log (one transaction), tampering found by the audit verification."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.alerts._events import event, owner_blocked
from watchkeeper.alerts import audited
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.review import (
    REOPENS,
    REVIEW_CHANNEL,
    TRANSITIONS,
    ReviewRefused,
    check_link,
    check_trail,
    history,
    review,
)
from watchkeeper.alerts.store import STATES, get_alert, list_alerts
from watchkeeper.alerts.users import add_user
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditLog, AuditUnavailable
from watchkeeper.store import Store


def _store_with_alert(path: str | Path = ":memory:") -> tuple[Store, str]:
    store = Store(path)
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            event("ais_gap", ("imo:9000001", "mmsi:1"), 5, 20, score=0.4),
        ]
    )
    raise_alerts(store)
    alert_id = list_alerts(store)[0].alert_id
    return store, alert_id


def _snapshot(store: Store) -> tuple[list[Any], ...]:
    return tuple(
        store.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in ("alerts", "alert_actions", "screening_audit", "users")
    )


def _set_state(store: Store, alert_id: str, state: str) -> None:
    """Walk the alert to ``state`` by allowed moves (from 'new')."""
    path = {
        "new": [],
        "in_review": ["in_review"],
        "escalated": ["escalated"],
        "dismissed": ["dismissed"],
        "confirmed": ["confirmed"],
    }[state]
    for s in path:
        review(store, alert_id, actor="ana", state=s, reason="dup" if s == "dismissed" else None)


MOVES = [(a, b) for a, b in itertools.product(STATES, STATES)]


@pytest.mark.parametrize(("current", "target"), MOVES)
def test_every_move_allowed_or_refused(current: str, target: str) -> None:
    store, alert_id = _store_with_alert()
    _set_state(store, alert_id, current)
    before = _snapshot(store)
    kwargs: dict[str, Any] = {"note": "looked again"}
    if target == "dismissed":
        kwargs["reason"] = "same tanker as an earlier alert"
    if target in TRANSITIONS[current]:
        actions = review(store, alert_id, actor="ana", state=target, **kwargs)
        assert actions[0].action == "state"
        assert (actions[0].state_from, actions[0].state_to) == (current, target)
        assert get_alert(store, alert_id).alert.state == target
    else:
        with pytest.raises(ReviewRefused):
            review(store, alert_id, actor="ana", state=target, **kwargs)
        assert _snapshot(store) == before


def test_nothing_returns_to_new_and_closed_alerts_only_reopen() -> None:
    assert all("new" not in targets for targets in TRANSITIONS.values())
    assert TRANSITIONS["dismissed"] == TRANSITIONS["confirmed"] == {"in_review"}
    assert {("dismissed", "in_review"), ("confirmed", "in_review")} == REOPENS


def test_dismissal_needs_a_reason_and_stores_it() -> None:
    store, alert_id = _store_with_alert()
    before = _snapshot(store)
    with pytest.raises(ReviewRefused, match="reason"):
        review(store, alert_id, actor="ana", state="dismissed", note="not ours")
    assert _snapshot(store) == before
    actions = review(
        store, alert_id, actor="ana", state="dismissed", reason="vessel scrapped", note="per IHS"
    )
    assert [(a.action, a.note) for a in actions] == [
        ("state", "vessel scrapped"),
        ("note", "per IHS"),
    ]
    with pytest.raises(InputError, match="dismissed only"):
        review(store, alert_id, actor="ana", note="x", reason="why")


def test_reopening_needs_a_note() -> None:
    store, alert_id = _store_with_alert()
    review(store, alert_id, actor="ana", state="confirmed", note="owner is listed")
    with pytest.raises(ReviewRefused, match="note"):
        review(store, alert_id, actor="ana", state="in_review")
    (action,) = review(store, alert_id, actor="ana", state="in_review", note="new evidence")
    assert (action.state_from, action.state_to, action.note) == (
        "confirmed",
        "in_review",
        "new evidence",
    )


def test_one_call_many_actions_all_in_the_audit_log_and_history() -> None:
    store, alert_id = _store_with_alert()
    actions = review(
        store,
        alert_id,
        actor="ana",
        state="in_review",
        note="checking the owner",
        assign="bob",
        link="https://example.org/cases/17",
    )
    assert [a.action for a in actions] == ["state", "assign", "link"]
    alert = get_alert(store, alert_id).alert
    assert (alert.state, alert.assignee) == ("in_review", "bob")
    review(store, alert_id, actor="bob", link="FIU-1234")
    trail = history(store, alert_id)
    assert [a.action for a in trail] == ["state", "assign", "link", "link"]
    assert trail[-1].link == "FIU-1234" and trail[-1].actor == "bob"
    log = AuditLog(store)
    rows = {r.audit_id: r for r in log.records()}
    for a in trail:
        assert a.audit_id is not None
        row = rows[a.audit_id]
        assert (row.channel, row.actor, row.query_key) == (REVIEW_CHANNEL, a.actor, alert_id)
        assert row.query["action"] == a.action and row.query["link"] == a.link
    assert log.verify().ok
    assert check_trail(store) == []


def test_tampering_with_a_review_audit_row_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "wk.duckdb"
    store, alert_id = _store_with_alert(db)
    review(store, alert_id, actor="ana", state="dismissed", reason="false positive")
    review(store, alert_id, actor="ana", state="in_review", note="reopened: new report")
    assert AuditLog(store).verify().ok
    (first,) = [a for a in history(store, alert_id) if a.state_to == "dismissed"]
    query = json.dumps(
        {**json.loads(_audit_query(store, first.audit_id)), "note": "duplicate"},
        sort_keys=True,
        separators=(",", ":"),
    )
    store.con.execute(
        "UPDATE screening_audit SET query = ? WHERE audit_id = ?", [query, first.audit_id]
    )
    check = AuditLog(store).verify()
    assert not check.ok and check.first_bad == first.audit_id
    assert "content" in check.detail
    store.close()


def test_a_review_row_changed_in_alert_actions_is_found_by_check_trail() -> None:
    store, alert_id = _store_with_alert()
    review(store, alert_id, actor="ana", state="dismissed", reason="false positive")
    store.con.execute("UPDATE alert_actions SET note = 'confirmed by desk' WHERE action = 'state'")
    store.con.execute("UPDATE alerts SET state = 'confirmed'")
    problems = check_trail(store)
    assert any("differs from its audit row" in p for p in problems)
    assert any("state confirmed, its trail says dismissed" in p for p in problems)


def _audit_query(store: Store, audit_id: int | None) -> str:
    row = store.con.execute(
        "SELECT query FROM screening_audit WHERE audit_id = ?", [audit_id]
    ).fetchone()
    assert row is not None
    return str(row[0])


def test_a_failed_action_stores_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store, alert_id = _store_with_alert(tmp_path / "wk.duckdb")
    review(store, alert_id, actor="ana", state="in_review")
    before = _snapshot(store)
    head = AuditLog(store).head()

    # the audit rows are written, then the action fails: both go
    real = audited._insert

    def insert_then_fail(con: Any, records: Any) -> None:
        real(con, records)
        raise RuntimeError("disk full")

    monkeypatch.setattr(audited, "_insert", insert_then_fail)
    with pytest.raises(RuntimeError):
        review(store, alert_id, actor="ana", state="confirmed", note="ok", link="FIU-1")
    monkeypatch.undo()
    assert _snapshot(store) == before
    # bad input at any part refuses the whole call
    for kwargs in (
        {"state": "escalated", "link": "ftp://example.org/x"},
        {"state": "nope"},
        {"note": "   "},
        {},
    ):
        with pytest.raises(InputError):
            review(store, alert_id, actor="ana", **kwargs)
    with pytest.raises(InputError, match="no alert"):
        review(store, "no-such-alert", actor="ana", note="x")
    assert _snapshot(store) == before
    # the chain's head did not move: the next action chains on the last stored row
    (action,) = review(store, alert_id, actor="ana", state="escalated")
    assert action.audit_id == head.count + 1
    assert AuditLog(store).verify().ok


def test_a_log_cut_at_its_end_refuses_review(tmp_path: Path) -> None:
    store, alert_id = _store_with_alert(tmp_path / "wk.duckdb")
    review(store, alert_id, actor="ana", state="in_review")
    review(store, alert_id, actor="ana", note="one more")
    store.close()
    store = Store(tmp_path / "wk.duckdb")
    store.con.execute("DELETE FROM screening_audit WHERE audit_id = 2")
    before = _snapshot(store)
    with pytest.raises(AuditUnavailable):
        review(store, alert_id, actor="ana", state="escalated")
    assert _snapshot(store) == before


def test_assignee_must_be_an_enabled_reviewer_once_users_exist() -> None:
    store, alert_id = _store_with_alert()
    add_user(store, "vera", "viewer", actor="root")
    add_user(store, "ana", "analyst", actor="root")
    with pytest.raises(InputError, match="not an enabled analyst"):
        review(store, alert_id, actor="ana", assign="vera")
    with pytest.raises(InputError, match="not an enabled analyst"):
        review(store, alert_id, actor="ana", assign="ghost")
    (action,) = review(store, alert_id, actor="ana", assign="ana")
    assert action.assignee == "ana"


@pytest.mark.parametrize(
    "link",
    ["https://example.org/a?b=1", "http://10.0.0.1:8080/x", "FIU-1234", "case_ops-7"],
)
def test_links_accepted(link: str) -> None:
    assert check_link(f"  {link} ") == link


@pytest.mark.parametrize(
    "link",
    [
        "",
        "example.org/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://",
        "https://exa mple.org",
        "http://[::1",
        "FIU 1234",
        "https://example.org/\x00",
        "https://example.org/" + "a" * 2000,
    ],
)
def test_links_refused(link: str) -> None:
    with pytest.raises(InputError) as info:
        check_link(link)
    assert info.value.field == "link"


@given(st.text(max_size=300))
def test_check_link_never_crashes(text: str) -> None:
    try:
        value = check_link(text)
    except InputError as exc:
        assert exc.field == "link"
    else:
        assert value == text.strip() and value
        assert value.lower().startswith(("http://", "https://")) or "-" in value


def test_review_a_real_alert(sdn_db_path: Path, tmp_path: Path) -> None:
    """The BELLA gasoline cargo (bundled sample shipments decided against the bundled
    OFAC SDN list) raises a critical alert; its review lands in the verified chain."""
    from watchkeeper.cargo.decide import (
        ScreenerChecks,
        cargo_events,
        check_lines,
        verdict_from_hs_check,
    )
    from watchkeeper.cargo.hs import check_hs
    from watchkeeper.cargo.ingest import lines_of_file
    from watchkeeper.cargo.layouts import get_layout
    from watchkeeper.cargo.rules import load_rules
    from watchkeeper.screening import Screener

    sample = Path(__file__).resolve().parents[2] / "data" / "cargo" / "sample_shipments.csv"
    with Store(sdn_db_path, read_only=True) as lists:
        checks = ScreenerChecks(Screener.from_store(lists))
    decisions = check_lines(
        lines_of_file(sample, get_layout("customs_declaration")),
        hs_check=lambda code, text: verdict_from_hs_check(check_hs(code, text)),
        party_checker=checks.party,
        vessel_checker=checks.vessel,
        rules=load_rules(),
    )
    store = Store(tmp_path / "wk.duckdb")
    store.write_events(cargo_events(decisions))
    raise_alerts(store)
    bella = next(a for a in list_alerts(store) if "cargo:DOJ-20-1791-BELLA/1" in a.subjects)
    assert bella.severity == "critical" and bella.state == "new"

    review(store, bella.alert_id, actor="ana", state="in_review", assign="ana")
    review(store, bella.alert_id, actor="ana", state="escalated", link="DOJ-1791")
    review(store, bella.alert_id, actor="lead", state="confirmed", note="forfeiture complaint")
    alert = get_alert(store, bella.alert_id).alert
    assert (alert.state, alert.assignee) == ("confirmed", "ana")
    assert [a.action for a in history(store, bella.alert_id)] == [
        "state",
        "assign",
        "state",
        "link",
        "state",
    ]
    check = AuditLog(store).verify()
    assert check.ok and check.rows == 5, check.detail
    assert check_trail(store) == []
    # raising again over the same events keeps the review
    raise_alerts(store)
    assert get_alert(store, bella.alert_id).alert.state == "confirmed"
    store.close()


_STEP = st.tuples(
    st.sampled_from((*STATES, None)),
    st.sampled_from(("why", None)),  # note
    st.sampled_from(("dup", None)),  # reason
    st.sampled_from(("FIU-9", "nope", None)),  # link
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_STEP, min_size=1, max_size=8))
def test_any_sequence_keeps_trail_state_and_chain_in_step(
    steps: list[tuple[str | None, str | None, str | None, str | None]],
) -> None:
    """Whatever is asked, in any order: a refused call stores nothing, an accepted one
    moves the alert as TRANSITIONS allow, and the trail, the alert and the verified
    audit chain agree at the end."""
    store, alert_id = _store_with_alert()
    state = "new"
    for target, note, reason, link in steps:
        before = _snapshot(store)
        try:
            actions = review(
                store, alert_id, actor="ana", state=target, note=note, reason=reason, link=link
            )
        except InputError:
            assert _snapshot(store) == before
            continue
        if target is not None:
            assert target in TRANSITIONS[state]
            assert target != "dismissed" or reason is not None
            assert (state, target) not in REOPENS or note is not None
            state = target
        assert actions and all(a.audit_id is not None for a in actions)
        assert get_alert(store, alert_id).alert.state == state
    assert check_trail(store) == []
    assert AuditLog(store).verify().ok
    store.close()
