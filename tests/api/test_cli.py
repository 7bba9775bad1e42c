"""``watchkeeper serve | rescreen | decisions | audit`` on a store file of real entries."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.api.ofac_rows import ASSAD, LASHGARIAN, NEW, OLD, load_sdn, sample
from watchkeeper.cli import api as api_cli
from watchkeeper.errors import InputError
from watchkeeper.store import Store

runner = CliRunner()


def _app() -> typer.Typer:
    """The commands as ``watchkeeper.cli.app`` registers them."""
    app = typer.Typer()
    api_cli.register(app)

    @app.callback()
    def _root() -> None:  # keeps typer in multi-command mode
        pass

    return app


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "wk.duckdb"
    with Store(path) as store:
        load_sdn(store, OLD, sample(OLD))
    return path


def _run(*args: str) -> Any:
    result = runner.invoke(_app(), list(args), catch_exceptions=True)
    return result


def test_decisions_add_list_remove(db: Path) -> None:
    out = _run(
        "decisions",
        "add",
        "Bashar al-Asad",
        "--schema",
        "Person",
        "--prop",
        "nationality=gb",
        "--entity",
        f"ofac-{ASSAD}",
        "--by",
        "j.smith",
        "--reason",
        "London dentist",
        "--db",
        str(db),
        "--json",
    )
    assert out.exit_code == 0, out.output
    made = json.loads(out.output)
    assert made["new"] is True and made["query"]["names"] == ["al asad bashar"]
    listed = json.loads(_run("decisions", "list", "--db", str(db), "--json").output)
    assert [d["decision_id"] for d in listed] == [made["decision_id"]]
    out = _run(
        "decisions",
        "remove",
        str(made["decision_id"]),
        "--by",
        "lead",
        "--reason",
        "reopened",
        "--db",
        str(db),
    )
    assert out.exit_code == 0, out.output
    assert json.loads(_run("decisions", "list", "--db", str(db), "--json").output) == []
    all_ = json.loads(_run("decisions", "list", "--all", "--db", str(db), "--json").output)
    assert all_[0]["revoked_by"] == "lead"
    bad = _run(
        "decisions",
        "add",
        "Bashar",
        "--entity",
        "ofac-0",
        "--by",
        "a",
        "--reason",
        "b",
        "--db",
        str(db),
    )
    assert isinstance(bad.exception, InputError)


def test_rescreen_then_audit_export(db: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text(
        json.dumps({"id": "c-1", "schema": "Person", "properties": {"name": ["Mahdi Lashgarian"]}})
        + "\n"
        + json.dumps({"id": "c-2", "schema": "Person", "properties": {"name": ["Bashar al-Assad"]}})
        + "\n",
        "utf-8",
    )
    out = _run("rescreen", "--subjects", str(book), "--db", str(db), "--json")
    assert out.exit_code == 0, out.output
    first = json.loads(out.output)
    assert first["stored"] == {"added": 2, "updated": 0, "unchanged": 0}
    assert [(h["subject_id"], h["entity_id"]) for h in first["new_hits"]] == [
        ("c-2", f"ofac-{ASSAD}")
    ]
    with Store(db) as store:
        load_sdn(store, NEW, sample(NEW))
    out = _run("rescreen", "--since-version", OLD, "--db", str(db), "--json")
    assert out.exit_code == 0, out.output
    second = json.loads(out.output)
    assert [(h["subject_id"], h["entity_id"]) for h in second["new_hits"]] == [
        ("c-1", f"ofac-{LASHGARIAN}")
    ]
    text = _run("rescreen", "--since-version", OLD, "--db", str(db))
    assert "0 new hits" in text.output

    exported = tmp_path / "audit.csv"
    out = _run("audit", "export", "--format", "csv", "--output", str(exported), "--db", str(db))
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(exported.open(encoding="utf-8")))
    assert [r["query_key"] for r in rows] == ["c-1", "c-2"] * 3
    out = _run("audit", "export", "--db", str(db))
    lines = out.stdout.splitlines()
    assert json.loads(lines[-1])["channel"] == "cli rescreen"
    assert "head 6:" in out.stderr  # the head is published beside the data, not in it
    assert _run("audit", "export", "--since", "2999-01-01", "--db", str(db)).stdout == ""
    assert _run("audit", "verify", "--db", str(db)).exit_code == 0
    bad = _run("audit", "export", "--format", "xml", "--db", str(db))
    assert isinstance(bad.exception, InputError)


def test_serve_binds_loopback_unless_told(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv("WATCHKEEPER_API_HOST", raising=False)
    out = _run("serve", "--db", str(db))
    assert out.exit_code == 0, out.output
    assert calls[0]["host"] == "127.0.0.1" and calls[0]["port"] == 8000
    assert calls[0]["app"].state.watchkeeper.entity_count == len(sample(OLD))
    assert "writes off" in " ".join(out.output.split())
    monkeypatch.setenv("WATCHKEEPER_API_TOKEN", "t")
    out = _run("serve", "--host", "0.0.0.0", "--port", "8123", "--no-audit", "--db", str(db))
    assert out.exit_code == 0, out.output
    assert calls[1]["host"] == "0.0.0.0" and calls[1]["port"] == 8123
    assert calls[1]["app"].state.watchkeeper.audit is None
    said = " ".join(out.output.split())
    assert "not loopback" in said and "writes on" in said


def _audited(db: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.jsonl"
    book.write_text(
        "".join(
            json.dumps({"id": f"c-{i}", "schema": "Person", "properties": {"name": [name]}}) + "\n"
            for i, name in enumerate(["Mahdi Lashgarian", "Bashar al-Assad", "Nicolas Maduro"])
        ),
        "utf-8",
    )
    assert _run("rescreen", "--subjects", str(book), "--db", str(db)).exit_code == 0


def test_audit_verify_publishes_the_head_and_finds_truncation(db: Path, tmp_path: Path) -> None:
    _audited(db, tmp_path)
    out = _run("audit", "verify", "--db", str(db), "--json")
    assert out.exit_code == 0, out.output
    check = json.loads(out.output)
    head = check["head"]["head"]
    assert check["head"]["count"] == 3 and check["anchored"] == check["head"]
    text = _run("audit", "verify", "--db", str(db))
    assert f"head {head}" in text.output.replace("\n", "")
    assert _run("audit", "verify", "--expect", head, "--db", str(db)).exit_code == 0

    exported = tmp_path / "audit.jsonl"
    out = _run("audit", "export", "--output", str(exported), "--db", str(db))
    assert out.exit_code == 0, out.output
    published = json.loads((tmp_path / "audit.jsonl.head").read_text("utf-8"))
    assert published["head"] == head and published["exported_rows"] == 3
    assert published["hmac"] and len(published["file_sha256"]) == 64

    # Someone removes the last row and the head file's anchor with it... but not the key.
    with Store(db) as store:
        store.con.execute("DELETE FROM screening_audit WHERE audit_id = 3")
    out = _run("audit", "verify", "--db", str(db))
    assert out.exit_code == 1
    said = " ".join(out.output.split())
    assert "has 3 rows and the log has 2" in said and "removed" in said
    (tmp_path / "wk.duckdb.audit-head").unlink()
    (tmp_path / "wk.duckdb.audit-key").unlink()
    assert _run("audit", "verify", "--db", str(db)).exit_code == 0  # no anchor left here...
    out = _run("audit", "verify", "--expect", str(tmp_path / "audit.jsonl.head"), "--db", str(db))
    assert out.exit_code == 1  # ...but the published head still tells
    assert "the last 1 rows (from row 3) were removed" in " ".join(out.output.split())
    bad = _run("audit", "verify", "--expect", "three:rows", "--db", str(db))
    assert isinstance(bad.exception, InputError) and bad.exception.field == "expect"
