"""Decisions honoured and audit rows batched, for the CLI's screening (screening/review.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_store
from watchkeeper.errors import InputError
from watchkeeper.screening import Query, Screener
from watchkeeper.screening.audit import AuditEntry, AuditLog, AuditUnavailable
from watchkeeper.screening.batch import BatchOptions
from watchkeeper.screening.decisions import DecisionStore
from watchkeeper.screening.review import (
    AuditBatch,
    BatchCounts,
    ReviewContext,
    active_decisions,
    query_fingerprint,
    screen_reviewed,
)
from watchkeeper.store import Store

MADURO = "ofac-22790"  # MADURO MOROS, Nicolas (bundled OFAC SDN 2023-12-28)


def _entry(key: str) -> AuditEntry:
    return AuditEntry(
        request_id="r1",
        channel="test",
        actor="test",
        query_key=key,
        fingerprint="",
        query={"id": key},
        params={},
        results=[],
    )


class _Spy:
    """Counts AuditLog.append calls (one call is one transaction)."""

    def __init__(self, log: AuditLog) -> None:
        self.calls: list[int] = []
        self._append = log.append

        def append(entries: Any) -> Any:
            self.calls.append(len(entries))
            return self._append(entries)

        log.append = append  # type: ignore[method-assign]


def test_audit_batch_writes_one_transaction_per_chunk(store: Store) -> None:
    log = AuditLog(store)
    spy = _Spy(log)
    with AuditBatch(log, rows=2, seconds=3600) as batch:
        for i in range(5):
            batch.add(_entry(f"q{i}"))
        assert log.count() == 4  # two full chunks written, one row pending
    assert spy.calls == [2, 2, 1]
    assert batch.written == 5 and batch.chunks == 3
    assert [r.query_key for r in log.records()] == ["q0", "q1", "q2", "q3", "q4"]
    assert log.verify().ok


def test_audit_batch_flushes_a_chunk_that_waited_too_long(store: Store) -> None:
    log = AuditLog(store)
    with AuditBatch(log, rows=1000, seconds=0.0) as batch:
        batch.add(_entry("q0"))
        assert log.count() == 1


def test_audit_batch_pending_rows_written_when_the_batch_stops(store: Store) -> None:
    log = AuditLog(store)
    with pytest.raises(KeyboardInterrupt), AuditBatch(log, rows=1000, seconds=3600) as batch:
        batch.add(_entry("q0"))
        raise KeyboardInterrupt
    assert log.count() == 1


def test_audit_batch_failure_is_our_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.duckdb")
    log = AuditLog(store)
    batch = AuditBatch(log, rows=1000, seconds=3600)
    batch.add(_entry("q0"))
    store.close()  # the store went away under the batch
    with pytest.raises(AuditUnavailable, match="1 screened queries are not logged"):
        batch.flush()


def test_no_decisions_table_means_no_decisions(tmp_path: Path) -> None:
    """A store written before decisions existed, opened read only (not migrated)."""
    path = tmp_path / "old.duckdb"
    with Store(path) as s:
        s.con.execute("DROP TABLE screening_decisions")
    with Store(path, read_only=True) as s:
        assert active_decisions(s) == {}


def test_query_fingerprint_is_empty_without_names_or_ids() -> None:
    query = Query.from_yente({"schema": "Vessel", "properties": {"imoNumber": ["IMO 9187629"]}})
    assert query_fingerprint(query)
    query.properties = {"birthDate": ["1962"]}
    assert query_fingerprint(query) == ""


def test_screen_reviewed_marks_decided_hits_and_audits(
    sdn_store_path: Path, sdn_screener: Screener, tmp_path: Path
) -> None:
    db = copy_store(sdn_store_path, tmp_path / "sdn.duckdb")
    with Store(db) as store:
        decisions = DecisionStore(store)
        made, _ = decisions.add(
            "Person", {"name": ["Nicolas Maduro Moros"]}, MADURO, by="alice", reason="not him"
        )
        log = AuditLog(store)
        records: list[tuple[int, Any, Query | InputError]] = [
            (1, "parts", Query.from_yente(
                {"id": "parts", "schema": "Person",
                 "properties": {"firstName": ["Nicolas"], "lastName": ["MADURO MOROS"]}})),
            (2, None, Query.from_yente(
                {"schema": "Organization", "properties": {"name": ["Mahan Air"]}})),
            (3, "bad", InputError(None, "too short", line=3, field="properties.name")),
        ]  # fmt: skip
        counts = BatchCounts()
        with AuditBatch(log) as batch:
            context = ReviewContext(active_decisions(store), audit=batch, request_id="r1")
            out = list(screen_reviewed(sdn_screener, records, BatchOptions(), context, counts))
        assert out[2] == {"id": "bad", "error": "line 3: field 'properties.name': too short"}
        maduro = next(r for r in out[0]["results"] if r["id"] == MADURO)
        assert maduro["match"] is False
        assert maduro["decision"]["decision_id"] == made.decision_id
        assert maduro["decision"]["decided_by"] == "alice"
        assert out[1]["results"][0]["id"] == "ofac-12927" and out[1]["results"][0]["match"]
        assert (counts.queries, counts.errors, counts.matched, counts.reviewed) == (3, 1, 1, 1)
        rows = list(log.records())
        assert [r.query_key for r in rows] == ["parts", "line 2"]  # bad lines not screened
        assert rows[0].fingerprint == made.fingerprint
        assert rows[0].results[0]["decision_id"] == made.decision_id
        assert rows[0].results[0]["match"] is False
        assert log.verify().ok
