"""The append-only screening audit log: every request, its results, the lists it used.

Rows are only ever inserted (there is no update or delete in this module, nor
anywhere else), and each row carries ``row_hash = sha256(prev_hash + row)``, so
``verify`` can show that no row was changed or removed since it was written.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import duckdb
import orjson
import pyarrow as pa

from watchkeeper.errors import InputError, StoreError
from watchkeeper.store import Store

GENESIS = "0" * 64
ExportFormat = Literal["jsonl", "csv"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")


_ID_PREFIX = uuid.uuid4().hex[:16]  # random per process: ids never repeat across runs
_ID_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """Unique request id: a random per-process prefix and a counter (uuid4 per request
    cost a urandom call each)."""
    return f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"


@dataclass
class AuditEntry:
    """What a caller logs for one screened query."""

    request_id: str
    channel: str  # 'api /match/default', 'cli rescreen', ...
    actor: str
    query_key: str
    fingerprint: str
    query: dict[str, Any]
    params: dict[str, Any]
    results: list[dict[str, Any]]  # [{id, score, match, decision_id}]
    list_versions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class AuditRecord:
    audit_id: int
    logged_at: datetime
    request_id: str
    channel: str
    actor: str
    query_key: str
    fingerprint: str
    query: dict[str, Any]
    params: dict[str, Any]
    results: list[dict[str, Any]]
    list_versions: list[dict[str, Any]]
    prev_hash: str
    row_hash: str
    # The canonical JSON of query, params, results, list_versions, when just hashed:
    # written as is, so nothing is serialised twice.
    json_text: tuple[str, str, str, str] | None = field(default=None, repr=False, compare=False)

    def content(self) -> dict[str, Any]:
        """The hashed part of the row: everything but the hashes themselves."""
        return {
            "audit_id": self.audit_id,
            "logged_at": self.logged_at.isoformat(),
            "request_id": self.request_id,
            "channel": self.channel,
            "actor": self.actor,
            "query_key": self.query_key,
            "fingerprint": self.fingerprint,
            "query": self.query,
            "params": self.params,
            "results": self.results,
            "list_versions": self.list_versions,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.content(), "prev_hash": self.prev_hash, "row_hash": self.row_hash}


def _canonical_bytes(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _canonical(value: Any) -> str:
    """Compact JSON with sorted keys, UTF-8 as is: the form that is hashed and stored."""
    return _canonical_bytes(value).decode("utf-8")


def row_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + "\n" + _canonical(content)).encode("utf-8")).hexdigest()


_COLS = (
    "audit_id, logged_at, request_id, channel, actor, query_key, fingerprint, query, params, "
    "results, list_versions, prev_hash, row_hash"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _from_row(row: Sequence[Any]) -> AuditRecord:
    return AuditRecord(
        audit_id=int(row[0]),
        logged_at=row[1].astimezone(UTC),
        request_id=row[2],
        channel=row[3],
        actor=row[4],
        query_key=row[5],
        fingerprint=row[6],
        query=_json(row[7]),
        params=_json(row[8]),
        results=_json(row[9]),
        list_versions=_json(row[10]),
        prev_hash=row[11],
        row_hash=row[12],
    )


@dataclass(frozen=True)
class AuditCheck:
    rows: int
    ok: bool
    first_bad: int | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "first_bad": self.first_bad,
            "detail": self.detail,
        }


# The chain head (last id, last hash) per open store, so an append reads nothing back,
# and the lock that keeps appends to one store in order.
_HEADS: weakref.WeakKeyDictionary[Store, tuple[int, str]] = weakref.WeakKeyDictionary()
_LOCKS: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()

_COL_NAMES = [c.strip() for c in _COLS.split(",")]


def _insert(con: duckdb.DuckDBPyConnection, records: Sequence[AuditRecord]) -> None:
    """Insert rows in one statement from an Arrow table (DuckDB's executemany runs
    one statement per row: ~2 ms a row here)."""
    columns: dict[str, Any] = {
        "audit_id": pa.array([r.audit_id for r in records], pa.int64()),
        "logged_at": pa.array([r.logged_at for r in records], pa.timestamp("us", tz="UTC")),
    }
    json_cols = ("query", "params", "results", "list_versions")
    for name in _COL_NAMES[2:]:
        if name in json_cols:
            i = json_cols.index(name)
            values = [
                r.json_text[i] if r.json_text is not None else _canonical(getattr(r, name))
                for r in records
            ]
        else:
            values = [getattr(r, name) for r in records]
        columns[name] = pa.array(values, pa.string())
    con.register("_audit_batch", pa.table(columns))
    try:
        con.execute(f"INSERT INTO screening_audit ({_COLS}) SELECT {_COLS} FROM _audit_batch")
    finally:
        con.unregister("_audit_batch")


class AuditLog:
    """Append and read the ``screening_audit`` table of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with _LOCKS_GUARD:
            self.lock = _LOCKS.setdefault(store, threading.Lock())

    def _head(self) -> tuple[int, str]:
        head = _HEADS.get(self.store)
        if head is None:
            row = self.store.con.execute(
                "SELECT audit_id, row_hash FROM screening_audit ORDER BY audit_id DESC LIMIT 1"
            ).fetchone()
            head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
            _HEADS[self.store] = head
        return head

    def chain(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Number and hash these entries after the last row (the caller holds ``lock``
        and writes them, in order, before anything else is chained)."""
        last_id, last_hash = self._head()
        now = datetime.now(UTC)
        records: list[AuditRecord] = []
        for entry in entries:
            texts = [
                _canonical_bytes(v)
                for v in (entry.query, entry.params, entry.results, entry.list_versions)
            ]
            content = {
                "audit_id": last_id + 1,
                "logged_at": now.isoformat(),
                "request_id": entry.request_id,
                "channel": entry.channel,
                "actor": entry.actor,
                "query_key": entry.query_key,
                "fingerprint": entry.fingerprint,
                # Already canonical: inserted as they are (what verify() recomputes from
                # the stored text is byte for byte the same).
                "query": orjson.Fragment(texts[0]),
                "params": orjson.Fragment(texts[1]),
                "results": orjson.Fragment(texts[2]),
                "list_versions": orjson.Fragment(texts[3]),
            }
            digest = row_hash(last_hash, content)
            q, p, r, v = (t.decode("utf-8") for t in texts)
            records.append(
                AuditRecord(
                    audit_id=last_id + 1,
                    logged_at=now,
                    request_id=entry.request_id,
                    channel=entry.channel,
                    actor=entry.actor,
                    query_key=entry.query_key,
                    fingerprint=entry.fingerprint,
                    query=entry.query,
                    params=entry.params,
                    results=entry.results,
                    list_versions=entry.list_versions,
                    prev_hash=last_hash,
                    row_hash=digest,
                    json_text=(q, p, r, v),
                )
            )
            last_id, last_hash = last_id + 1, digest
        _HEADS[self.store] = (last_id, last_hash)
        return records

    def forget_head(self) -> None:
        """After a failed write: read the head from the table next time."""
        _HEADS.pop(self.store, None)

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Write these entries, in order, in one transaction; returns the stored rows."""
        if not entries:
            return []
        with self.lock:
            records = self.chain(entries)
            try:
                with self.store.transaction() as con:
                    _insert(con, records)
            except BaseException:
                self.forget_head()
                raise
        return records

    def records(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[AuditRecord]:
        """Rows in the order written; ``since``/``until`` bound ``logged_at`` (UTC)."""
        where: list[str] = []
        params: list[Any] = []
        if since is not None:
            where.append("logged_at >= ?")
            params.append(since)
        if until is not None:
            where.append("logged_at < ?")
            params.append(until)
        sql = f"SELECT {_COLS} FROM screening_audit"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY audit_id"
        cursor = self.store.con.cursor().execute(sql, params)
        while batch := cursor.fetchmany(2000):
            for row in batch:
                yield _from_row(row)

    def count(self) -> int:
        row = self.store.con.execute("SELECT count(*) FROM screening_audit").fetchone()
        return int(row[0]) if row else 0

    def verify(self) -> AuditCheck:
        """Recompute the hash chain; the first row that does not fit is named."""
        prev = GENESIS
        expected_id = 1
        n = 0
        for record in self.records():
            n += 1
            if record.audit_id != expected_id:
                return AuditCheck(
                    n, False, record.audit_id, f"row {expected_id} is missing before this one"
                )
            if record.prev_hash != prev:
                return AuditCheck(n, False, record.audit_id, "prev_hash does not chain")
            if row_hash(prev, record.content()) != record.row_hash:
                return AuditCheck(n, False, record.audit_id, "row content does not match its hash")
            prev = record.row_hash
            expected_id += 1
        return AuditCheck(n, True, None, f"{n} rows, chain intact")


class AuditUnavailable(StoreError):
    """The audit log cannot be written: screening must stop until it can."""


# How long the audit writer gathers rows before one commit. Each commit of a file
# store costs ~10-30 ms here (fsync), and a commit every 50 ms slowed screening on the
# request thread by half (GIL hand-offs); every 0.5 s costs nothing measurable. The
# price: a crash can lose the rows of the last half second.
AUDIT_COMMIT_SECONDS = 0.5


class AuditWriter:
    """Appends for a server: rows are numbered and hashed when handed over (so their
    order is the order of the requests), and a background thread writes what has
    gathered every ``interval`` seconds in one transaction: one commit serves many
    requests, and a request never waits for the disk.

    A failed write stops the writer and every later ``submit`` raises
    ``AuditUnavailable``: no screening goes unlogged without the caller knowing.
    """

    def __init__(self, store: Store, *, interval: float = AUDIT_COMMIT_SECONDS) -> None:
        self.log = AuditLog(store)
        self.log._head()  # a store without a readable audit table fails here, at start
        self.interval = interval
        self._pending: list[AuditRecord] = []
        self._writing = 0
        self._urgent = False
        self._cond = threading.Condition()
        self._stop = False
        self.error: BaseException | None = None
        self._cursor = store.con.cursor()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def submit(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        if self.error is not None:
            raise AuditUnavailable(f"the audit log cannot be written: {self.error}")
        if self._stop:
            raise AuditUnavailable("the audit writer is closed")
        if not entries:
            return []
        with self.log.lock:
            try:
                records = self.log.chain(entries)
            except Exception as exc:
                self.log.forget_head()
                raise AuditUnavailable(f"the audit log cannot be written: {exc}") from exc
            with self._cond:
                # Wake the writer only when it waits for a first row: while it gathers
                # a batch it wakes by itself, and every wake-up costs the request
                # thread a GIL hand-off.
                first = not self._pending
                self._pending.extend(records)
                if first:
                    self._cond.notify_all()
        return records

    def _take(self) -> list[AuditRecord] | None:
        """The next batch: what gathers within ``interval`` of the first pending row
        (sooner on flush or close); None when closed and drained."""
        with self._cond:
            while not self._pending and not self._stop:
                self._cond.wait()
            if not self._pending:
                return None
            deadline = time.monotonic() + self.interval
            while not self._urgent and not self._stop:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            batch, self._pending = self._pending, []
            self._writing = len(batch)
            self._urgent = False
            return batch

    def _run(self) -> None:
        while (batch := self._take()) is not None:
            try:
                self._cursor.execute("BEGIN TRANSACTION")
                try:
                    _insert(self._cursor, batch)
                except BaseException:
                    self._cursor.execute("ROLLBACK")
                    raise
                self._cursor.execute("COMMIT")
            except BaseException as exc:  # stop here: later rows would break the chain
                with self._cond:
                    self.error = exc
                    self._writing = 0
                    self._cond.notify_all()
                self.log.forget_head()
                return
            with self._cond:
                self._writing = 0
                self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> None:
        """Write everything handed over now, and wait for it (or for the writer to fail)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._urgent = True
            self._cond.notify_all()
            while (self._pending or self._writing) and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AuditUnavailable(f"audit rows not written within {timeout} s")
                self._cond.wait(left)
        if self.error is not None:
            raise AuditUnavailable(f"the audit log cannot be written: {self.error}")

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            self._thread.join(timeout=30)
            self._cursor.close()


CSV_COLUMNS = (
    "audit_id",
    "logged_at",
    "request_id",
    "channel",
    "actor",
    "query_key",
    "fingerprint",
    "matches",
    "query",
    "params",
    "results",
    "list_versions",
    "prev_hash",
    "row_hash",
)


def export(records: Iterator[AuditRecord], out: TextIO, fmt: ExportFormat = "jsonl") -> int:
    """Write records as JSON lines or CSV (JSON in the structured columns); returns the count."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(None, f"unknown export format {fmt!r} (jsonl or csv)", field="format")
    n = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
            n += 1
        return n
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        data = record.to_dict()
        data["matches"] = sum(1 for r in record.results if r.get("match"))
        writer.writerow(
            [
                data[c] if not isinstance(data[c], dict | list) else _canonical(data[c])
                for c in CSV_COLUMNS
            ]
        )
        n += 1
    return n


def parse_since(value: str) -> datetime:
    """``2024-05-03`` or ``2024-05-03T12:00:00[+00:00]`` -> an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(None, f"{value!r} is not an ISO date or time", field="since") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
