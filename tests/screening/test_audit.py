from __future__ import annotations

import csv
import io
import json
import re
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import watchkeeper.screening.audit as audit_module
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import (
    AuditAnchor,
    AuditEntry,
    AuditHead,
    AuditLog,
    AuditUnavailable,
    AuditWriter,
    export,
    parse_since,
)
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


def test_row_that_cannot_be_encoded_is_written_made_safe(store: Store) -> None:
    # Before: a lone surrogate (JSON "\ud800") or a set raised from orjson and the
    # whole batch, good rows included, was not written.
    log = AuditLog(store)
    log.append([_entry("q1", [])])
    bad = _entry("q2", [])
    bad.query = {"schema": "Company", "properties": {"name": ["MAHAN \ud800 AIR"]}}
    odd = _entry("q3", [])
    odd.params = {"ids": {1, 2}}  # a set: JSON cannot hold it
    written = log.append([_entry("ok", []), bad, odd])
    assert [r.audit_id for r in written] == [2, 3, 4]
    rows = list(log.records())
    assert [r.query_key for r in rows] == ["q1", "ok", "q2", "q3"]
    assert rows[2].query["properties"]["name"] == ["MAHAN \ufffd AIR"]
    assert rows[2].params[audit_module.MADE_SAFE_KEY]
    assert audit_module.MADE_SAFE_KEY not in rows[1].params
    assert rows[3].params["ids"] == "{1, 2}"
    assert log.verify().ok


def _writer(store: Store, **kw: float) -> AuditWriter:
    return AuditWriter(
        store, interval=kw.get("interval", 30.0), retry_seconds=kw.get("retry", 30.0)
    )


def test_writer_keeps_every_row_around_a_bad_one(store: Store) -> None:
    # The failure: a row that could not be hashed made the writer re-read the
    # head from the table while earlier rows were still pending, so the next batch
    # reused audit id 1, rolled back, and every later submit raised until restart.
    writer = _writer(store)
    bad = _entry("bad", [])
    bad.query = {"schema": "Company", "properties": {"name": ["MAHAN \ud800 AIR"]}}
    assert writer.submit([_entry("before", [])]) == 1
    writer.submit([bad])
    writer.submit([_entry("after", [])])
    writer.flush()
    writer.submit([_entry("later", [])])
    writer.close()
    log = AuditLog(store)
    rows = list(log.records())
    assert [(r.audit_id, r.query_key) for r in rows] == [
        (1, "before"),
        (2, "bad"),
        (3, "after"),
        (4, "later"),
    ]
    assert writer.made_safe == 1 and writer.error is None
    assert log.verify().ok


def test_writer_retries_a_failed_batch_row_by_row(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = audit_module._insert

    def batches_fail(con: Any, records: Any) -> None:
        if len(records) > 1:
            raise duckdb.ConstraintException("a batch cannot be written")
        real_insert(con, records)

    monkeypatch.setattr(audit_module, "_insert", batches_fail)
    writer = _writer(store)
    writer.submit([_entry(f"q{i}", []) for i in range(3)])
    writer.flush()
    assert writer.status()["retried_batches"] == 1 and writer.status()["ok"]
    writer.close()
    rows = list(AuditLog(store).records())
    assert [(r.audit_id, r.query_key) for r in rows] == [(1, "q0"), (2, "q1"), (3, "q2")]


def test_failing_writer_keeps_its_rows_says_so_and_recovers(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = audit_module._insert
    broken = threading.Event()
    broken.set()

    def insert(con: Any, records: Any) -> None:
        if broken.is_set():
            raise duckdb.IOException("disk full")
        real_insert(con, records)

    monkeypatch.setattr(audit_module, "_insert", insert)
    writer = _writer(store, retry=0.05)
    writer.submit([_entry("a", []), _entry("b", [])])
    with pytest.raises(AuditUnavailable, match="disk full"):
        writer.flush()
    status = writer.status()
    assert not status["ok"] and status["state"] == "failing" and "disk full" in status["detail"]
    assert status["pending"] == 2  # kept, not dropped
    with pytest.raises(AuditUnavailable):
        writer.submit([_entry("refused", [])])
    broken.clear()  # the disk has room again: the next try writes the kept rows
    deadline = time.monotonic() + 10
    while writer.error is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writer.status()["ok"]
    writer.submit([_entry("c", [])])
    writer.close()
    rows = list(AuditLog(store).records())
    assert [(r.audit_id, r.query_key) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


def test_a_dead_writer_says_so_and_refuses(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_: Any) -> Any:
        raise RuntimeError("bug in the writer")

    writer = _writer(store, interval=0.0)
    monkeypatch.setattr(writer.log, "write_rows", crash)
    monkeypatch.setattr(threading, "excepthook", lambda _args: None)  # expected: quiet
    writer.submit([_entry("a", [])])
    writer._thread.join(timeout=10)
    status = writer.status()
    assert (
        status["state"] == "dead" and not status["ok"] and "bug in the writer" in status["detail"]
    )
    with pytest.raises(AuditUnavailable):
        writer.submit([_entry("b", [])])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None)),
        min_size=1,
        max_size=3,
    ),
    key=st.text(
        alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010, categories=None),
        max_size=4,
    ),
)
def test_any_text_is_logged_and_verifies(names: list[str], key: str) -> None:
    with Store(":memory:") as store:
        log = AuditLog(store)
        entry = _entry(key, [])
        entry.query = {"schema": "Person", "properties": {"name": names}}
        entry.actor = key
        log.append([_entry("first", []), entry])
        rows = list(log.records())
        assert [r.audit_id for r in rows] == [1, 2]
        stored = rows[1].query["properties"]["name"]
        for given_name, kept in zip(names, stored, strict=True):
            kept.encode("utf-8")  # what is stored is always text
            try:
                given_name.encode("utf-8")
            except UnicodeEncodeError:
                # Lone surrogates become U+FFFD; a pair becomes the character it encodes.
                assert "\ufffd" in kept or len(kept) < len(given_name)
            else:
                assert kept == given_name
        assert log.verify().ok


# The head: truncation and rewrites that a chain alone does not show.


@pytest.fixture
def file_log(tmp_path: Path) -> Iterator[tuple[Store, AuditLog]]:
    with Store(tmp_path / "audit.duckdb") as store:
        log = AuditLog(store)
        log.append(
            [_entry(f"q{i}", [{"id": "ofac-1", "score": 0.8, "match": True}]) for i in range(3)]
        )
        log.append([_entry(f"q{i}", []) for i in range(3, 5)])
        yield store, log


def _tamper(store: Store, sql: str) -> None:
    """What someone with the database file can do: SQL, then restart (no cached head)."""
    store.con.execute(sql)
    AuditLog(store).forget_head()


def _recompute_chain(store: Store) -> None:
    prev = audit_module.GENESIS
    for record in list(AuditLog(store).records()):
        digest = audit_module.row_hash(prev, record.content())
        store.con.execute(
            "UPDATE screening_audit SET prev_hash = ?, row_hash = ? WHERE audit_id = ?",
            [prev, digest, record.audit_id],
        )
        prev = digest


def test_head_file_is_written_beside_the_store_signed(
    file_log: tuple[Store, AuditLog], tmp_path: Path
) -> None:
    store, log = file_log
    anchor = AuditAnchor(tmp_path / "audit.duckdb")
    assert anchor.head_path.name == "audit.duckdb.audit-head"
    assert stat.S_IMODE(anchor.key_path.stat().st_mode) == 0o600
    head, problem = anchor.read()
    assert problem is None and head == log.head() and head is not None and head.count == 5
    check = log.verify()
    assert check.ok and check.head == head and "anchored head" in check.detail
    assert log.verify(expect=AuditHead.parse(str(head))).ok


def test_verify_finds_rows_cut_from_the_end(file_log: tuple[Store, AuditLog]) -> None:
    # Before: the chain of rows 1-3 is intact, so verify passed.
    store, log = file_log
    _tamper(store, "DELETE FROM screening_audit WHERE audit_id > 3")
    check = log.verify()
    assert not check.ok and check.rows == 3
    assert "has 5 rows and the log has 3" in check.detail and "removed" in check.detail
    # And nothing is appended on top (it would reuse ids 4 and 5 and move the anchor).
    with pytest.raises(AuditUnavailable, match="removed"):
        AuditLog(store).append([_entry("next", [])])
    assert log.count() == 3


def test_verify_finds_every_row_removed(file_log: tuple[Store, AuditLog]) -> None:
    store, log = file_log
    _tamper(store, "DELETE FROM screening_audit")
    check = log.verify()
    assert not check.ok and "every row was removed" in check.detail


def test_verify_finds_an_edit_with_the_chain_recomputed(file_log: tuple[Store, AuditLog]) -> None:
    store, log = file_log
    _tamper(store, "UPDATE screening_audit SET results = '[]' WHERE audit_id = 2")
    _recompute_chain(store)
    check = log.verify()
    assert not check.ok and "chain recomputed" in check.detail
    assert check.first_bad is None  # the chain itself is consistent again


def test_verify_against_an_expected_head(store: Store) -> None:
    log = AuditLog(store)  # in memory: no head file, only --expect can tell
    log.append([_entry(f"q{i}", []) for i in range(4)])
    published = log.head()
    log.append([_entry("q4", [])])
    check = log.verify(expect=published)
    assert check.ok and "extends the expected head by 1 rows" in check.detail
    store.con.execute("DELETE FROM screening_audit WHERE audit_id > 2")
    check = log.verify(expect=published)
    assert not check.ok and "the last 2 rows (from row 3) were removed" in check.detail
    with pytest.raises(InputError) as raised:
        AuditHead.parse("4:not-a-hash")
    assert raised.value.field == "expect"


def test_head_file_removed_or_altered_is_reported(
    file_log: tuple[Store, AuditLog], tmp_path: Path
) -> None:
    store, log = file_log
    anchor = AuditAnchor(tmp_path / "audit.duckdb")
    data = json.loads(anchor.head_path.read_text("utf-8"))
    data["count"] = 3  # moved back to hide two removed rows, without the key
    anchor.head_path.write_text(json.dumps(data), "utf-8")
    check = log.verify()
    assert not check.ok and "signature does not match" in check.detail
    anchor.head_path.unlink()
    check = log.verify()
    assert not check.ok and "missing" in check.detail


def test_a_head_file_behind_the_log_is_not_an_alarm(
    file_log: tuple[Store, AuditLog], tmp_path: Path
) -> None:
    # A crash between the commit and the head file's rewrite leaves it a batch behind.
    store, log = file_log
    anchor = AuditAnchor(tmp_path / "audit.duckdb")
    key = anchor.key()
    assert key is not None
    row = store.con.execute("SELECT row_hash FROM screening_audit WHERE audit_id = 3").fetchone()
    assert row is not None
    audit_module.write_head_file(anchor.head_path, AuditHead(3, row[0]), key)
    check = log.verify()
    assert check.ok and "2 rows after the anchored head" in check.detail
    AuditLog(store).forget_head()
    AuditLog(store).append([_entry("next", [])])  # extends it: appended, re-anchored
    assert anchor.read() == (log.head(), None) and log.head().count == 6


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=80) | st.from_regex(r"\A[0-9]{0,4}:[0-9a-fA-Fg]{60,66}\Z"))
def test_head_parse_refuses_what_is_not_a_head(text: str) -> None:
    try:
        head = AuditHead.parse(text)
    except InputError as exc:
        assert exc.field == "expect"
    else:
        count, _, digest = text.strip().lower().partition(":")
        canonical = f"{int(count)}:{digest}" if count.isdigit() else None  # '007:..' is 7
        assert str(head) == canonical or Path(text.strip()).is_file()


def test_a_batch_record_with_a_lone_surrogate_is_refused_and_the_rest_audited() -> None:
    # `watchkeeper match` on JSON lines: before, the record was screened, its audit row
    # could not be hashed and its output line could not be written: the batch died.
    from tests.api.ofac_rows import ASSAD, MAHAN_AIR, OLD, load_sdn, sample
    from watchkeeper.screening import Screener
    from watchkeeper.screening.batch import BatchOptions, records_from_jsonl
    from watchkeeper.screening.review import AuditBatch, ReviewContext, screen_reviewed

    lines = [
        json.dumps({"id": "a", "schema": "Company", "properties": {"name": ["Mahan Air"]}}),
        '{"id": "b", "schema": "Company", "properties": {"name": ["MAHAN \\ud800 AIR"]}}',
        '{"id": "c\\udc80", "schema": "Company", "properties": {"name": ["X"]}}',
        json.dumps({"id": "d", "schema": "Person", "properties": {"name": ["Bashar al-Assad"]}}),
    ]
    with Store(":memory:") as store:
        load_sdn(store, OLD, sample(OLD))
        log = AuditLog(store)
        with AuditBatch(log) as batch:
            context = ReviewContext({}, audit=batch, channel="cli match")
            out = list(
                screen_reviewed(
                    Screener.from_store(store), records_from_jsonl(lines), BatchOptions(), context
                )
            )
        for line in out:
            json.dumps(line, ensure_ascii=False).encode("utf-8")  # every line can be written
        assert out[0]["results"][0]["id"] == f"ofac-{MAHAN_AIR}"
        assert out[1] == {
            "id": "b",
            "error": "line 2: not valid Unicode: a lone surrogate (U+D800)",
        }
        assert out[2]["id"] == "c\\udc80" and "line 3" in out[2]["error"]
        assert out[3]["results"][0]["id"] == f"ofac-{ASSAD}"
        assert [r.query_key for r in log.records()] == ["a", "d"]
        assert log.verify().ok
