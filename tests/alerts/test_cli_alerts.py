"""``watchkeeper alerts``, ``alerts raise`` and ``alerts show`` as a script sees them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.alerts._events import event, owner_blocked
from tests.cli_helpers import run_cli
from watchkeeper.store.db import Store


def test_raise_list_show(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    with Store(db_path) as store:
        store.write_events(
            [
                owner_blocked("imo:9000001", "ofac-1"),
                event("ais_gap", ("imo:9000001", "mmsi:1"), 5, 20, score=0.4),
                event("ais_gap", ("mmsi:9",), 5, 20, score=0.4),
            ]
        )
    code, out, err = run_cli(monkeypatch, capsys, "alerts", "raise", "--db", db_path, "--json")
    assert code == 0, err
    assert len(json.loads(out)["created"]) == 2
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "raise", "--db", db_path)
    assert code == 0
    assert "0 alert(s) created, 0 updated, 2 unchanged" in out

    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "--db", db_path, "--json")
    listed = json.loads(out)
    assert code == 0
    assert sorted(a["rule_id"] for a in listed) == ["listed-vessel-ais-gap", "vessel-owner-blocked"]
    gap = next(a for a in listed if a["rule_id"] == "listed-vessel-ais-gap")

    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "--db", db_path, "--severity", "high")
    assert code == 0 and "2 alert(s)" in out
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "--db", db_path, "--state", "confirmed")
    assert code == 0 and "0 alert(s)" in out

    code, out, _ = run_cli(
        monkeypatch, capsys, "alerts", "show", gap["alert_id"], "--db", db_path, "--json"
    )
    shown = json.loads(out)
    assert code == 0
    assert [e["type"] for e in shown["events"]] == ["ais_gap"]
    assert shown["events"][0]["evidence"] == ["ais:ais_gap-5"]
    code, out, _ = run_cli(monkeypatch, capsys, "alerts", "show", gap["alert_id"], "--db", db_path)
    assert code == 0 and gap["alert_id"] in out and "imo:9000001" in out


def test_bad_input_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    Store(db_path).close()
    code, _, err = run_cli(monkeypatch, capsys, "alerts", "show", "nope", "--db", db_path)
    assert code == 2 and "no alert 'nope'" in err
    code, _, err = run_cli(monkeypatch, capsys, "alerts", "--db", db_path, "--severity", "urgent")
    assert code == 2 and "urgent" in err
