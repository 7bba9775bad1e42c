"""``watchkeeper notify``, ``notify status`` and ``notify retry`` as a script sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.alerts.test_notify_receivers import (
    SECRET,
    WebhookReceiver,
    store_with_alerts,
    webhook_receiver,
)
from tests.cli_helpers import run_cli
from watchkeeper.alerts.notify import read_notifications
from watchkeeper.store.db import Store


def test_notify_dry_run_then_deliver_then_status(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    tmp_path: Path,
) -> None:
    with Store(db_path) as store:
        store_with_alerts(store)
    cfg = tmp_path / "notify.toml"
    with webhook_receiver(WebhookReceiver(statuses=[400])) as rx:
        cfg.write_text(
            '[channels.archive]\nkind = "jsonl"\npath = "alerts.jsonl"\n'
            f'[channels.hook]\nkind = "webhook"\nurl = "{rx.url}"\nsecret_env = "WK_HOOK"\n'
        )
        monkeypatch.setenv("WK_HOOK", SECRET)
        code, out, err = run_cli(
            monkeypatch, capsys, "notify", "--config", cfg, "--db", db_path, "--dry-run", "--json"
        )
        assert code == 0, err
        assert len(json.loads(out)["would_queue"]) == 4  # 2 alerts x 2 channels
        assert not (tmp_path / "alerts.jsonl").exists() and not rx.received
        with Store(db_path, read_only=True) as store:
            assert store.con.execute("SELECT count(*) FROM notifications").fetchone() == (0,)

        code, out, err = run_cli(
            monkeypatch, capsys, "notify", "--config", cfg, "--db", db_path, "--json"
        )
        assert code == 0, err
        run = json.loads(out)
        assert run["queued"] == 4 and len(run["sent"]) == 3 and len(run["gave_up"]) == 1
        assert len(read_notifications(tmp_path / "alerts.jsonl")) == 2
        assert len(rx.received) == 2  # the first answered 400 (given up), the second 200

        code, out, _ = run_cli(monkeypatch, capsys, "notify", "status", "--db", db_path, "--json")
        status = {s["channel"]: s for s in json.loads(out)}
        assert (status["archive"]["sent"], status["hook"]["sent"], status["hook"]["failed"]) == (
            2,
            1,
            1,
        )

        code, out, _ = run_cli(monkeypatch, capsys, "notify", "retry", "--db", db_path)
        assert code == 0 and "1 notification(s) queued again" in out
        code, out, _ = run_cli(monkeypatch, capsys, "notify", "--config", cfg, "--db", db_path)
        assert code == 0 and "0 queued; 1 sent" in out
    assert len(rx.unique()) == 2


def test_config_errors_exit_2_naming_file_and_field(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    db_path: Path,
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "notify.toml"
    cfg.write_text('[channels.hook]\nkind = "webhook"\nurl = "https://h.example.org"\n')
    code, _, err = run_cli(monkeypatch, capsys, "notify", "--config", cfg, "--db", db_path)
    assert code == 2
    assert str(cfg) in err and "channels.hook.secret" in err
    code, _, err = run_cli(monkeypatch, capsys, "notify", "--db", db_path)
    assert code == 2 and "--config" in err
    assert not db_path.exists()  # a failed command creates nothing
