from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import watchkeeper.screening.audit as audit_module
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditEntry, AuditLog, export, parse_since
from watchkeeper.store import Store


def _entry(key: str, results: list[dict[str, object]]) -> AuditEntry:
    return AuditEntry(
        request_id="r1",
        channel="api /match/default",
        actor="127.0.0.1",
        query_key=key,
        fingerprint="f" * 32,
        query={"schema": "Person", "properties": {"name": ["Basher Assad"]}},
        params={"threshold": 0.7, "limit": 5},
        results=results,
        list_versions=[{"source": "ofac_sdn", "version": "2024-05-03", "version_id": 1}],
    )


def test_append_read_verify(store: Store) -> None:
    log = AuditLog(store)
    hit = {"id": "ofac-12735", "score": 0.9123456789, "match": True, "decision_id": None}
    written = log.append([_entry("q1", [hit]), _entry("q2", [])])
    assert [r.audit_id for r in written] == [1, 2]
    assert written[1].prev_hash == written[0].row_hash
    more = AuditLog(store).append([_entry("q3", [])])  # a second writer object chains on
    assert more[0].prev_hash == written[1].row_hash
    read = list(log.records())
    assert [r.query_key for r in read] == ["q1", "q2", "q3"]
    assert read[0].results == [hit]
    assert read[0].logged_at.tzinfo is not None
    check = log.verify()
    assert check.ok and check.rows == 3


def test_verify_finds_tampering(store: Store) -> None:
    log = AuditLog(store)
    log.append([_entry(f"q{i}", [{"id": "ofac-1", "score": 0.8, "match": True}]) for i in range(4)])
    # Someone edits a stored result outside Watchkeeper (the code has no such path).
    store.con.execute("UPDATE screening_audit SET results = '[]' WHERE audit_id = 3")
    check = log.verify()
    assert not check.ok and check.first_bad == 3
    assert "hash" in check.detail


def test_verify_finds_removed_rows(store: Store) -> None:
    log = AuditLog(store)
    log.append([_entry(f"q{i}", []) for i in range(3)])
    store.con.execute("DELETE FROM screening_audit WHERE audit_id = 2")
    check = log.verify()
    assert not check.ok and check.first_bad == 3 and "missing" in check.detail


def test_no_update_or_delete_path_in_the_code() -> None:
    src = Path(audit_module.__file__).resolve().parents[1]
    writes = re.compile(
        r"(UPDATE\s+screening_audit|DELETE\s+FROM\s+screening_audit|"
        r"TRUNCATE\s+screening_audit|DROP\s+TABLE\s+screening_audit)",
        re.I,
    )
    offenders = [p for p in src.rglob("*.py") if writes.search(p.read_text("utf-8"))]
    assert offenders == []
    assert "INSERT INTO screening_audit" in Path(audit_module.__file__).read_text("utf-8")


def test_export_jsonl_and_csv(store: Store) -> None:
    log = AuditLog(store)
    log.append([_entry("q1", [{"id": "ofac-12735", "score": 0.91, "match": True}])])
    log.append([_entry("q2", [{"id": "ofac-4697", "score": 0.5, "match": False}])])
    out = io.StringIO()
    assert export(log.records(), out, "jsonl") == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["query_key"] for line in lines] == ["q1", "q2"]
    assert lines[0]["results"][0]["id"] == "ofac-12735"
    assert lines[1]["prev_hash"] == lines[0]["row_hash"]

    out = io.StringIO()
    assert export(log.records(), out, "csv") == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["matches"] for r in rows] == ["1", "0"]
    assert json.loads(rows[0]["query"])["properties"]["name"] == ["Basher Assad"]

    with pytest.raises(InputError):
        export(log.records(), io.StringIO(), "xml")  # type: ignore[arg-type]


def test_since_filter(store: Store) -> None:
    log = AuditLog(store)
    log.append([_entry("old", [])])
    later = datetime.now(UTC) + timedelta(microseconds=1)
    log.append([_entry("new", [])])
    assert [r.query_key for r in log.records(since=later)] == ["new"]
    assert [r.query_key for r in log.records(until=later)] == ["old"]
    assert parse_since("2024-05-03") == datetime(2024, 5, 3, tzinfo=UTC)
    assert parse_since("2024-05-03T02:00:00+02:00") == datetime(2024, 5, 3, tzinfo=UTC)
    with pytest.raises(InputError):
        parse_since("last tuesday")


def test_failed_append_changes_nothing(store: Store) -> None:
    log = AuditLog(store)
    log.append([_entry("q1", [])])
    bad = _entry("q2", [])
    bad.query = {"not json": {1, 2}}  # a set cannot be written
    with pytest.raises(TypeError):
        log.append([_entry("ok", []), bad])
    assert log.count() == 1
    log.append([_entry("q3", [])])
    assert log.verify().ok
