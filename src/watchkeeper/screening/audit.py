"""The append-only screening audit log: every request, its results, the lists it used.

Rows are only ever inserted (there is no update or delete in this module, nor
anywhere else), and each row carries ``row_hash = sha256(prev_hash + row)``, so
``verify`` can show that no row was changed or removed since it was written.

A chain alone cannot show that its *last* rows were removed, or that a row was
edited and every hash after it recomputed. So the head of the chain (row count and
last hash) is published: ``verify`` and ``export`` print it, ``verify --expect``
checks a head given to it, and every append rewrites ``<db>.audit-head`` beside the
store, signed (HMAC-SHA256) with a per-store key kept outside the database in
``<db>.audit-key`` (created 0600); ``verify`` checks the log still extends it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import itertools
import json
import os
import secrets
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
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
    # Written with its text made safe (see ``MADE_SAFE_KEY``).
    made_safe: bool = field(default=False, repr=False, compare=False)

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


_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class AuditHead:
    """The head of the chain: how many rows, and the hash of the last one (``GENESIS``
    for none). Written ``COUNT:HASH``, as ``verify`` prints it."""

    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "hash": self.hash, "head": str(self)}

    @classmethod
    def parse(cls, text: str, *, field: str = "expect") -> AuditHead:
        """``COUNT:HASH``, or the path of a head file (``<db>.audit-head``,
        ``<export>.head``)."""
        value = text.strip()
        count, sep, digest = value.partition(":")
        digest = digest.strip().lower()
        if sep and count.strip().isdigit() and len(digest) == 64 and set(digest) <= _HEX64:
            return cls(int(count), digest)
        path = Path(value)
        if path.is_file():
            return read_head_file(path, field=field)
        raise InputError(
            None,
            f"{text!r} is neither COUNT:HASH (as 'audit verify' prints it) nor a head file",
            field=field,
        )


def read_head_file(path: Path, *, field: str = "expect") -> AuditHead:
    """The head a head file names (its signature is checked by ``AuditAnchor``)."""
    try:
        data = json.loads(path.read_text("utf-8"))
        head = AuditHead(int(data["count"]), str(data["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a readable audit head file ({exc})", field=field) from exc
    if head.count < 0 or len(head.hash) != 64 or not set(head.hash) <= _HEX64:
        raise InputError(path, "not an audit head (count, 64 hex digits)", field=field)
    return head


def _head_message(head: AuditHead) -> bytes:
    return f"watchkeeper audit head\n{head.count}\n{head.hash}".encode()


class AuditAnchor:
    """The signed copy of the chain's head kept beside a store file: ``<db>.audit-head``
    (rewritten after every append) and the key that signs it, ``<db>.audit-key``
    (random, created 0600, never in the database: rewriting the database is not
    enough to forge the head)."""

    def __init__(self, db_path: Path) -> None:
        self.head_path = db_path.with_name(db_path.name + ".audit-head")
        self.key_path = db_path.with_name(db_path.name + ".audit-key")
        self._signing_key: bytes | None = None  # read once, at the first write

    @classmethod
    def for_store(cls, store: Store) -> AuditAnchor | None:
        """None for an in-memory store (nothing outlives it to anchor)."""
        return None if store.path == ":memory:" else cls(Path(store.path))

    def key(self, *, create: bool = False) -> bytes | None:
        """The store's key; None when there is none and ``create`` is off."""
        try:
            text = self.key_path.read_text("ascii").strip()
        except FileNotFoundError:
            if not create:
                return None
            try:
                fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                return self.key()
            key = secrets.token_bytes(32)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(key.hex() + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return key
        except (OSError, UnicodeError) as exc:
            raise StoreError(f"the audit key {self.key_path} cannot be read: {exc}") from exc
        try:
            return bytes.fromhex(text)
        except ValueError as exc:
            raise StoreError(f"the audit key {self.key_path} is not hex") from exc

    @staticmethod
    def sign(key: bytes, head: AuditHead) -> str:
        return hmac.new(key, _head_message(head), hashlib.sha256).hexdigest()

    def write(self, head: AuditHead) -> None:
        """Replace the head file (atomically) with this head, signed."""
        if self._signing_key is None:
            self._signing_key = self.key(create=True)
        assert self._signing_key is not None
        write_head_file(self.head_path, head, self._signing_key)

    def read(self) -> tuple[AuditHead | None, str | None]:
        """(the anchored head, or None when there is none yet; what is wrong with it)."""
        head_exists = self.head_path.exists()
        try:
            key = self.key()
        except StoreError as exc:
            return None, str(exc)
        if not head_exists:
            if key is None:
                return None, None  # nothing appended since anchoring began
            return None, (
                f"the head file {self.head_path} is missing (it is rewritten with every "
                "append since the key beside it was made): it was removed"
            )
        try:
            data = json.loads(self.head_path.read_text("utf-8"))
            head = AuditHead(int(data["count"]), str(data["hash"]))
            signature = str(data["hmac"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return None, f"the head file {self.head_path} cannot be read: {exc}"
        if key is None:
            return (
                head,
                f"the head file {self.head_path} cannot be checked: its key {self.key_path} is missing",
            )
        if not hmac.compare_digest(signature, self.sign(key, head)):
            return head, f"the head file {self.head_path} was altered: its signature does not match"
        return head, None


def write_head_file(
    path: Path, head: AuditHead, key: bytes | None, extra: dict[str, Any] | None = None
) -> None:
    """A head file: the head, when, anything ``extra``, and the HMAC when there is a key.
    Written to a temporary name, synced and renamed: never half written."""
    data: dict[str, Any] = {
        **head.to_dict(),
        "written_at": datetime.now(UTC).isoformat(),
        **(extra or {}),
    }
    if key is not None:
        data["hmac"] = AuditAnchor.sign(key, head)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True)
class AuditCheck:
    rows: int
    ok: bool
    first_bad: int | None = None
    detail: str = ""
    head: AuditHead | None = None  # the log as it is: rows and the last row's hash
    anchored: AuditHead | None = None  # what <db>.audit-head says
    expected: AuditHead | None = None  # what the caller said (--expect)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ok": self.ok,
            "first_bad": self.first_bad,
            "detail": self.detail,
            "head": self.head.to_dict() if self.head else None,
            "anchored": self.anchored.to_dict() if self.anchored else None,
            "expected": self.expected.to_dict() if self.expected else None,
        }


def _compare_head(wanted: AuditHead, rows: int, hashes: dict[int, str], what: str) -> str | None:
    """Why a log of ``rows`` rows (``hashes``: position -> row hash) does not extend
    ``wanted``; None when it does."""
    if wanted.count > rows:
        if rows == 0:
            return f"{what} has {wanted.count} rows and the log has none: every row was removed"
        return (
            f"{what} has {wanted.count} rows and the log has {rows}: the last "
            f"{wanted.count - rows} rows (from row {rows + 1}) were removed"
        )
    if hashes.get(wanted.count) != wanted.hash:
        return (
            f"row {wanted.count} does not have the hash of {what}: rows up to it were "
            "changed and the chain recomputed (or this is another log)"
        )
    return None


# The chain head (last id, last hash) per open store, so an append reads nothing back,
# and the lock that keeps appends to one store in order. The head moves only once rows
# are committed: an id is never handed out twice.
_HEADS: weakref.WeakKeyDictionary[Store, tuple[int, str]] = weakref.WeakKeyDictionary()
_LOCKS: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()

_COL_NAMES = [c.strip() for c in _COLS.split(",")]

# Where a row had to be made safe to be written, its params say so under this key.
MADE_SAFE_KEY = "audit_made_safe"
MADE_SAFE_NOTE = (
    "text that cannot be stored as UTF-8 (lone surrogates) was replaced by U+FFFD, "
    "and values JSON cannot hold were written as text"
)


def _safe_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (a pair of surrogates
    becomes the character it encodes)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _made_safe(value: Any) -> Any:
    """``value`` as JSON can hold it and UTF-8 can write it."""
    if isinstance(value, str):
        return _safe_text(value)
    if isinstance(value, dict):
        return {_safe_text(str(k)): _made_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_made_safe(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else str(value)
    if isinstance(value, float):
        return value
    return _safe_text(str(value))


def _encode(entry: AuditEntry) -> tuple[AuditEntry, list[bytes], bool]:
    """The entry's canonical JSON texts; an entry that cannot be encoded as it is
    (a lone surrogate in a name, a value JSON cannot hold) is made safe first, and
    marked so in its params: one bad query never stops the log."""
    try:
        texts = [
            _canonical_bytes(v)
            for v in (entry.query, entry.params, entry.results, entry.list_versions)
        ]
        _canonical_bytes(
            [entry.request_id, entry.channel, entry.actor, entry.query_key, entry.fingerprint]
        )
        return entry, texts, False
    except (TypeError, ValueError):  # orjson.JSONEncodeError is a TypeError
        pass
    params = _made_safe(entry.params)
    safe = AuditEntry(
        request_id=_safe_text(str(entry.request_id)),
        channel=_safe_text(str(entry.channel)),
        actor=_safe_text(str(entry.actor)),
        query_key=_safe_text(str(entry.query_key)),
        fingerprint=_safe_text(str(entry.fingerprint)),
        query=_made_safe(entry.query),
        params={**params, MADE_SAFE_KEY: MADE_SAFE_NOTE}
        if isinstance(params, dict)
        else {"params": params, MADE_SAFE_KEY: MADE_SAFE_NOTE},
        results=_made_safe(entry.results),
        list_versions=_made_safe(entry.list_versions),
    )
    texts = [
        _canonical_bytes(v) for v in (safe.query, safe.params, safe.results, safe.list_versions)
    ]
    return safe, texts, True


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


def _commit(con: duckdb.DuckDBPyConnection, records: Sequence[AuditRecord]) -> None:
    """Insert ``records`` in a transaction of their own: all or nothing."""
    con.execute("BEGIN TRANSACTION")
    try:
        _insert(con, records)
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a failed COMMIT has ended it already
            con.execute("ROLLBACK")
        raise


# A row handed to the log: when it was handed over (its logged_at) and what it says.
Pending = tuple[datetime, AuditEntry]


class AuditLog:
    """Append and read the ``screening_audit`` table of one store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.anchor = AuditAnchor.for_store(store)
        # Why the head file could not be rewritten after the last append (rows are
        # written all the same; ``verify`` reports a head file that lags).
        self.anchor_error: str | None = None
        self.retried_batches = 0  # batches that failed whole and were written row by row
        with _LOCKS_GUARD:
            self.lock = _LOCKS.setdefault(store, threading.Lock())

    def _head(self) -> tuple[int, str]:
        """The last written (id, hash). Read from the table, it is first checked
        against the anchored head: a log whose rows were removed or rewritten is not
        appended to (the next rows would reuse ids or launder the change)."""
        head = _HEADS.get(self.store)
        if head is None:
            row = self.store.con.execute(
                "SELECT audit_id, row_hash FROM screening_audit ORDER BY audit_id DESC LIMIT 1"
            ).fetchone()
            head = (int(row[0]), str(row[1])) if row else (0, GENESIS)
            self._check_anchor(head)
            _HEADS[self.store] = head
        return head

    def _check_anchor(self, head: tuple[int, str]) -> None:
        if self.anchor is None:
            return
        anchored, problem = self.anchor.read()
        if problem is None and anchored is not None:
            hashes = {head[0]: head[1]}
            if 0 < anchored.count < head[0]:
                row = self.store.con.execute(
                    "SELECT row_hash FROM screening_audit WHERE audit_id = ?", [anchored.count]
                ).fetchone()
                hashes[anchored.count] = str(row[0]) if row else ""
            hashes[0] = GENESIS
            problem = _compare_head(anchored, head[0], hashes, "the anchored head")
        if problem is not None:
            raise AuditUnavailable(
                f"the audit log cannot be appended to: {problem}. Run 'watchkeeper audit "
                f"verify'; to accept the log as it now is, move {self.anchor.head_path.name} "
                f"and {self.anchor.key_path.name} aside (keep them: they are the evidence)"
            )

    def chain(self, items: Sequence[Pending]) -> list[AuditRecord]:
        """Number and hash these rows after the last written one. Nothing is reserved:
        the caller holds ``lock``, commits them, then calls ``_advance``."""
        last_id, last_hash = self._head()
        records: list[AuditRecord] = []
        stamp: tuple[datetime | None, str] = (None, "")  # rows of one request share a time
        for logged_at, given in items:
            entry, texts, made_safe = _encode(given)
            if stamp[0] != logged_at:
                stamp = (logged_at, logged_at.isoformat())
            content = {
                "audit_id": last_id + 1,
                "logged_at": stamp[1],
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
                    logged_at=logged_at,
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
                    made_safe=made_safe,
                )
            )
            last_id, last_hash = last_id + 1, digest
        return records

    def _advance(self, records: Sequence[AuditRecord]) -> None:
        """After ``records`` are committed: they are the head, here and in the head file."""
        last = records[-1]
        _HEADS[self.store] = (last.audit_id, last.row_hash)
        if self.anchor is None:
            return
        try:
            self.anchor.write(AuditHead(last.audit_id, last.row_hash))
            self.anchor_error = None
        except (OSError, StoreError) as exc:
            self.anchor_error = f"the head file {self.anchor.head_path} cannot be written: {exc}"

    def forget_head(self) -> None:
        """After a failed write: read the head from the table next time."""
        _HEADS.pop(self.store, None)

    def write_rows(
        self, con: duckdb.DuckDBPyConnection, items: Sequence[Pending]
    ) -> tuple[list[AuditRecord], Exception | None]:
        """Write ``items`` in order, in one transaction; when that fails, one row per
        transaction, stopping at the first row that cannot be written. Returns the
        rows written and the error that stopped the rest (None: all written). The
        caller holds ``lock``."""
        try:
            records = self.chain(items)
            _commit(con, records)
        except Exception as exc:
            self.forget_head()
            if len(items) == 1:
                return [], exc
            self.retried_batches += 1
        else:
            self._advance(records)
            return records, None
        written: list[AuditRecord] = []
        for item in items:
            try:
                records = self.chain([item])
                _commit(con, records)
            except Exception as exc:
                self.forget_head()
                return written, exc
            self._advance(records)
            written.extend(records)
        return written, None

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditRecord]:
        """Write these entries, in order; returns the stored rows. Raises
        ``AuditUnavailable`` (saying how many were not written) when some cannot be."""
        if not entries:
            return []
        now = datetime.now(UTC)
        with self.lock:
            written, error = self.write_rows(self.store.con, [(now, e) for e in entries])
        if error is not None:
            raise AuditUnavailable(
                f"the audit log cannot be written ({len(entries) - len(written)} of "
                f"{len(entries)} screened queries are not logged): {error}"
            ) from error
        return written

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

    def head(self) -> AuditHead:
        """The log as it is now: its rows and the hash of the last."""
        row = self.store.con.execute(
            "SELECT count(*), arg_max(row_hash, audit_id) FROM screening_audit"
        ).fetchone()
        if not row or not row[0]:
            return AuditHead(0, GENESIS)
        return AuditHead(int(row[0]), str(row[1]))

    def verify(self, expect: AuditHead | None = None) -> AuditCheck:
        """Recompute the hash chain (the first row that does not fit is named), then
        check that the log extends its anchored head (``<db>.audit-head``) and, when
        given, ``expect``: rows removed from the end, or rows edited with the chain
        recomputed after them, are found there."""
        anchored, anchor_problem = self.anchor.read() if self.anchor else (None, None)
        wanted = {h.count for h in (anchored, expect) if h is not None}
        hashes: dict[int, str] = {0: GENESIS}
        prev = GENESIS
        expected_id = 1
        n = 0
        first_bad: int | None = None
        detail = ""
        for record in self.records():
            n += 1
            if first_bad is None:
                if record.audit_id != expected_id:
                    first_bad, detail = (
                        record.audit_id,
                        f"row {expected_id} is missing before this one",
                    )
                elif record.prev_hash != prev:
                    first_bad, detail = record.audit_id, "prev_hash does not chain"
                elif row_hash(prev, record.content()) != record.row_hash:
                    first_bad, detail = record.audit_id, "row content does not match its hash"
            if n in wanted:
                hashes[n] = record.row_hash
            prev = record.row_hash
            expected_id += 1
        head = AuditHead(n, prev)
        found = {"head": head, "anchored": anchored, "expected": expect}
        if first_bad is not None:
            return AuditCheck(n, False, first_bad, detail, **found)
        problems: list[str] = []
        if anchor_problem is not None:
            problems.append(anchor_problem)
        elif anchored is not None:
            problem = _compare_head(anchored, n, hashes, "the anchored head (audit-head file)")
            if problem is not None:
                problems.append(problem)
        if expect is not None:
            problem = _compare_head(expect, n, hashes, f"the expected head {expect}")
            if problem is not None:
                problems.append(problem)
        if problems:
            return AuditCheck(n, False, None, "; ".join(problems), **found)
        detail = f"{n} rows, chain intact"
        if anchored is not None and n > anchored.count:
            detail += (
                f"; {n - anchored.count} rows after the anchored head (the head file was "
                "not rewritten after the last append)"
            )
        elif anchored is not None:
            detail += "; matches its anchored head"
        elif self.anchor is not None:
            detail += "; no head file yet (one is written with the next append)"
        if expect is not None:
            grown = n - expect.count
            detail += (
                f"; extends the expected head by {grown} rows"
                if grown
                else "; is the expected head"
            )
        return AuditCheck(n, True, None, detail, **found)


class AuditUnavailable(StoreError):
    """The audit log cannot be written: screening must stop until it can."""


# How long the audit writer gathers rows before one commit. Each commit of a file
# store costs ~10-30 ms here (fsync), and a commit every 50 ms slowed screening on the
# request thread by half (GIL hand-offs); every 0.5 s costs nothing measurable. The
# price: a crash can lose the rows of the last half second.
AUDIT_COMMIT_SECONDS = 0.5
# How long a failing writer waits before it tries its pending rows again.
AUDIT_RETRY_SECONDS = 2.0


class AuditWriter:
    """Appends for a server: rows are queued in the order of the requests, and a
    background thread writes what has gathered every ``interval`` seconds in one
    transaction (one commit serves many requests; a request never waits for the disk).
    Rows get their ids and hashes only when written, so an id is never handed out twice.

    A batch that fails is written again one row per transaction; a row that cannot be
    encoded is written made safe. When rows still cannot be written (the store is
    broken), they stay queued and are tried again every ``retry_seconds``; meanwhile
    ``submit`` raises ``AuditUnavailable`` (no screening goes unlogged without the
    caller knowing) and ``status`` says why.
    """

    def __init__(
        self,
        store: Store,
        *,
        interval: float = AUDIT_COMMIT_SECONDS,
        retry_seconds: float = AUDIT_RETRY_SECONDS,
    ) -> None:
        self.log = AuditLog(store)
        with self.log.lock:
            # A store without a readable audit table, or whose log no longer extends
            # its anchored head, fails here, at start.
            self.log._head()
        self.interval = interval
        self.retry_seconds = retry_seconds
        self._pending: list[Pending] = []
        self._writing = 0
        self._urgent = False
        self._cond = threading.Condition()
        self._stop = False
        self.error: BaseException | None = None
        self.written = 0
        self.made_safe = 0
        self._cursor = store.con.cursor()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def submit(self, entries: Sequence[AuditEntry]) -> int:
        """Queue these rows; returns how many. Raises ``AuditUnavailable`` while the
        writer is failing, stopped or closed."""
        if self.error is not None:
            raise AuditUnavailable(f"the audit log cannot be written: {self.error}")
        if self._stop:
            raise AuditUnavailable("the audit writer is closed")
        if not self._thread.is_alive():
            raise AuditUnavailable("the audit writer has stopped")
        if not entries:
            return 0
        with self._cond:
            now = datetime.now(UTC)
            # Wake the writer only when it waits for a first row: while it gathers a
            # batch it wakes by itself, and every wake-up costs the request thread a
            # GIL hand-off.
            first = not self._pending
            self._pending.extend((now, entry) for entry in entries)
            if first:
                self._cond.notify_all()
        return len(entries)

    def status(self) -> dict[str, Any]:
        """For /healthz: ``ok`` is False when rows cannot be written, the writer thread
        is gone, or the head file cannot be rewritten; ``detail`` says which."""
        with self._cond:
            pending = len(self._pending) + self._writing
            error = self.error
        alive = self._thread.is_alive()
        if not alive and not self._stop:
            why = f": {error!r}" if error is not None else ""
            state, detail = "dead", f"the audit writer thread has stopped{why}"
        elif error is not None:
            state, detail = "failing", f"audit rows cannot be written: {error}"
        elif self._stop:
            state, detail = "closed", "the audit writer is closed"
        elif self.log.anchor_error is not None:
            state, detail = "unanchored", self.log.anchor_error
        else:
            state, detail = "writing", ""
        return {
            "ok": state == "writing",
            "state": state,
            "detail": detail,
            "pending": pending,
            "written": self.written,
            "made_safe": self.made_safe,
            "retried_batches": self.log.retried_batches,
        }

    def _take(self) -> list[Pending] | None:
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
        try:
            while (batch := self._take()) is not None:
                with self.log.lock:
                    written, error = self.log.write_rows(self._cursor, batch)
                with self._cond:
                    self.written += len(written)
                    self.made_safe += sum(1 for r in written if r.made_safe)
                    self._writing = 0
                    self.error = error
                    if error is not None:
                        # Not lost: first in line for the next try, in their order.
                        self._pending[:0] = batch[len(written) :]
                    self._cond.notify_all()
                    if error is not None:
                        if self._stop:
                            return
                        self._cond.wait(self.retry_seconds)
                        self._urgent = True  # the kept rows are late already: no gathering
        except BaseException as exc:  # the thread must not die unseen: status() reports it
            with self._cond:
                self.error = exc
                self._writing = 0
                self._cond.notify_all()
            raise

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


def signature_problem(anchor: AuditAnchor | None, path: Path) -> str | None:
    """Why the signed head file ``path`` (an export's ``.head``, a copy of
    ``.audit-head``) is not this store's, None when it is or cannot be told (unsigned,
    or no key here)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None  # AuditHead.parse has said what is wrong with it
    if anchor is None or not isinstance(data, dict) or "hmac" not in data:
        return None
    key = anchor.key()
    if key is None:
        return None
    head = read_head_file(path)
    if not hmac.compare_digest(str(data["hmac"]), AuditAnchor.sign(key, head)):
        return f"{path} is not signed with this store's key: it was altered, or is another store's"
    return None


def write_export_head(
    log: AuditLog, output: Path, head: AuditHead, exported: int, extra: dict[str, Any]
) -> Path:
    """``<output>.head``: the log's head when ``output`` was exported, what the export
    holds (rows, SHA-256), signed with the store's key when there is one. Kept apart
    from the store, it is an anchor no one with only the store can move."""
    digest = hashlib.sha256()
    with open(output, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    try:
        key = log.anchor.key() if log.anchor is not None else None
    except StoreError:
        key = None
    path = output.with_name(output.name + ".head")
    write_head_file(
        path,
        head,
        key,
        {
            "store": log.store.path,
            "file": output.name,
            "file_sha256": digest.hexdigest(),
            "exported_rows": exported,
            **extra,
        },
    )
    return path
