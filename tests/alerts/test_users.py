"""Users and roles, and the CLI acting as a named local user: ``users add/list/disable/
rotate``, ``alerts review/history/show/check-trail`` and ``audit verify`` as a script
sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.alerts._events import event, owner_blocked
from tests.cli_helpers import run_cli
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.store import list_alerts
from watchkeeper.alerts.users import (
    add_user,
    authenticate,
    check_name,
    disable_user,
    get_user,
    has_role,
    list_users,
    rotate_token,
    token_hash,
)
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditLog
from watchkeeper.store import Store


def test_roles_are_ranked() -> None:
    assert has_role("admin", "analyst") and has_role("analyst", "viewer")
    assert not has_role("viewer", "analyst") and not has_role("analyst", "admin")
    assert not has_role("root", "viewer")


def test_tokens_are_stored_hashed_and_checked() -> None:
    store = Store(":memory:")
    user, token = add_user(store, "ana", "analyst", actor="root")
    (stored,) = store.con.execute("SELECT token_hash FROM users").fetchone() or ("",)
    assert stored == token_hash(token) and token not in stored
    assert authenticate(store, token) == user
    assert authenticate(store, token + "x") is None
    _, second = add_user(store, "bob", "viewer", actor="root")
    assert second != token
    assert authenticate(store, second) == get_user(store, "bob")

    _, rotated = rotate_token(store, "ana", actor="root")
    assert authenticate(store, token) is None
    assert authenticate(store, rotated) == user
    disabled = disable_user(store, "ana", actor="root")
    assert disabled.disabled_at is not None
    found = authenticate(store, rotated)
    assert found is not None and not found.enabled  # the caller refuses it
    with pytest.raises(InputError, match="disabled already"):
        disable_user(store, "ana", actor="root")
    with pytest.raises(InputError, match="disabled"):
        rotate_token(store, "ana", actor="root")


def test_bad_users_store_nothing() -> None:
    store = Store(":memory:")
    add_user(store, "ana", "analyst", actor="root")
    before = store.con.execute("SELECT count(*) FROM screening_audit").fetchone()
    for name, role in (
        ("ana", "viewer"),
        ("bad name", "viewer"),
        ("x", "root"),
        ("system", "admin"),
    ):
        with pytest.raises(InputError):
            add_user(store, name, role, actor="root")
    with pytest.raises(InputError, match="no user"):
        disable_user(store, "ghost", actor="root")
    assert [u.name for u in list_users(store)] == ["ana"]
    assert store.con.execute("SELECT count(*) FROM screening_audit").fetchone() == before
    assert AuditLog(store).verify().ok


@pytest.mark.parametrize("name", ["", "-ana", "a" * 65, "ana smith", "api-token", "ana\n"])
def test_names_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_name(name)


def _alert_store(db: Path) -> str:
    with Store(db) as store:
        store.write_events(
            [
                owner_blocked("imo:9000001", "ofac-1"),
                event("ais_gap", ("imo:9000001", "mmsi:1"), 5, 20, score=0.4),
            ]
        )
        raise_alerts(store)
        return list_alerts(store)[0].alert_id


def test_cli_review_as_a_local_user(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    alert_id = _alert_store(db_path)
    monkeypatch.delenv("WATCHKEEPER_USER", raising=False)
    # no users yet: any name is taken as given
    code, out, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--state", "in_review",
        "--note", "first look", "--as", "ana", "--db", db_path, "--json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)[0]["actor"] == "ana"
    code, _, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--state", "dismissed",
        "--as", "ana", "--db", db_path,
    )  # fmt: skip
    assert code == 2 and "reason" in err

    # users now exist: the name must be an enabled analyst or admin
    code, out, err = run_cli(
        monkeypatch, capsys, "users", "add", "root", "--role", "admin", "--as", "root",
        "--db", db_path, "--json",
    )  # fmt: skip
    assert code == 0, err
    root_token = json.loads(out)["token"]
    monkeypatch.setenv("WATCHKEEPER_USER", "nobody-here")
    code, out, err = run_cli(
        monkeypatch, capsys, "users", "add", "vera", "--role", "viewer", "--db", db_path
    )
    assert code == 2 and "'as'" in err  # only an admin may add users once one exists
    monkeypatch.setenv("WATCHKEEPER_USER", "root")
    code, out, err = run_cli(
        monkeypatch, capsys, "users", "add", "vera", "--role", "viewer", "--db", db_path
    )
    assert code == 0, err
    vera_token = out.strip().splitlines()[-1]
    assert vera_token.startswith("wk_") and vera_token != root_token
    code, _, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--note", "x", "--as", "vera",
        "--db", db_path,
    )  # fmt: skip
    assert code == 2 and "viewer" in err
    code, _, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--note", "x", "--as", "ana",
        "--db", db_path,
    )  # fmt: skip
    assert code == 2 and "no user 'ana'" in err
    # WATCHKEEPER_USER=root (an admin) reviews
    code, out, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--state", "dismissed",
        "--reason", "sister ship, not this one", "--link", "FIU-77", "--db", db_path,
    )  # fmt: skip
    assert code == 0, err
    assert "2 action(s) recorded" in out

    code, out, _ = run_cli(
        monkeypatch, capsys, "alerts", "history", alert_id, "--db", db_path, "--json"
    )
    trail = json.loads(out)
    assert [(t["actor"], t["action"], t["state_to"]) for t in trail] == [
        ("ana", "state", "in_review"),
        ("root", "state", "dismissed"),
        ("root", "link", None),
    ]
    code, out, _ = run_cli(
        monkeypatch, capsys, "alerts", "show", alert_id, "--db", db_path, "--json"
    )
    shown = json.loads(out)
    assert shown["state"] == "dismissed" and shown["trail"] == trail
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "show", alert_id, "--db", db_path)
    assert "sister ship" in out and "FIU-77" in out
    code, out, _ = run_cli(
        monkeypatch, capsys, "alerts", "--state", "dismissed", "--db", db_path, "--json"
    )
    assert [a["alert_id"] for a in json.loads(out)] == [alert_id]

    code, out, _ = run_cli(monkeypatch, capsys, "users", "list", "--db", db_path, "--json")
    assert [(u["name"], u["role"]) for u in json.loads(out)] == [
        ("root", "admin"),
        ("vera", "viewer"),
    ]
    code, out, err = run_cli(monkeypatch, capsys, "users", "rotate", "vera", "--db", db_path)
    assert code == 0 and out.strip().splitlines()[-1] != vera_token
    code, _, err = run_cli(monkeypatch, capsys, "users", "disable", "vera", "--db", db_path)
    assert code == 0, err

    code, out, _ = run_cli(monkeypatch, capsys, "audit", "verify", "--db", db_path, "--json")
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "check-trail", "--db", db_path)
    assert code == 0 and "agrees" in out
    code, _, err = run_cli(monkeypatch, capsys, "alerts", "history", "nope", "--db", db_path)
    assert code == 2 and "no alert" in err


def test_cli_audit_verify_finds_a_tampered_review(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    alert_id = _alert_store(db_path)
    code, _, err = run_cli(
        monkeypatch, capsys, "alerts", "review", alert_id, "--state", "confirmed",
        "--note", "owner listed since 2019", "--as", "ana", "--db", db_path,
    )  # fmt: skip
    assert code == 0, err
    with Store(db_path) as store:
        # rewrite who did it, in the trail and in its audit row
        store.con.execute("UPDATE alert_actions SET actor = 'bob'")
        store.con.execute(
            "UPDATE screening_audit SET actor = 'bob' WHERE channel = 'alerts review'"
        )
    code, out, _ = run_cli(monkeypatch, capsys, "audit", "verify", "--db", db_path, "--json")
    check = json.loads(out)
    assert code == 1 and not check["ok"] and check["first_bad"] == 1
    # a trail edited without its audit row is what check-trail finds
    with Store(db_path) as store:
        store.con.execute("UPDATE screening_audit SET actor = 'ana'")
    code, out, _ = run_cli(monkeypatch, capsys, "audit", "verify", "--db", db_path)
    assert code == 0
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "check-trail", "--db", db_path)
    assert code == 1 and "differs from its audit row" in out
