"""Where the watch's input comes from, and how far it has got in each.

Every source's ``poll`` returns the next :class:`Input` (or None): the bytes of one
batch and the checkpoint that batch moves the source to. The watch stores the input,
its events and alerts and the checkpoint in one transaction, then calls ``committed``;
on a rollback it calls ``rolled_back`` and the same input comes again.

* ``AisDropFolder``: NMEA or decoded-CSV files in a folder (``.gz`` too), read from the
  byte offset its checkpoint keeps (per file: path, offset, size, sha256 of its head so
  a replaced file is read again from the start). A batch ends at a line that completes
  an AIS message, so no multi-part message is split between two batches.
* ``AisTcp``: a receiver's NMEA port, read by a thread; sentences received are stored
  with the next batch (a feed cannot be replayed: what a crash loses before its commit
  is lost, what was committed is never stored twice).
* ``AdsbDropFolder``: aircraft files, each ingested whole once its size holds still.
* ``ListFetch``: ``lists fetch`` every ``interval``; a new version is loaded in a batch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from watchkeeper.errors import InputError
from watchkeeper.io import is_gzip, open_binary
from watchkeeper.movement.ais.csv_layouts import CsvLayout
from watchkeeper.movement.ais.ingest import detect_csv_layout
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.watch.config import SourceConfig
from watchkeeper.watch.health import SourceHealth

HEAD_BYTES = 4096
SETTLE_S = 5.0  # a file's last line without a line break is taken once this old


@dataclass
class Input:
    """One batch's input. ``kind``: ``nmea``, ``csv`` (AIS), ``adsb`` or ``lists``."""

    source: str
    kind: str
    label: str
    checkpoint_name: str
    checkpoint: dict[str, Any]
    pieces: list[tuple[bytes, int | None]] = field(default_factory=list)
    layout: CsvLayout | None = None
    path: Path | None = None
    payload: Any = None

    @property
    def size(self) -> int:
        return sum(len(p) for p, _ in self.pieces)


class Source(Protocol):
    """A place input comes from; ``health`` is its state for ``/healthz``."""

    health: SourceHealth

    def poll(self, store: Store) -> Input | None: ...

    def committed(self, item: Input) -> None: ...

    def rolled_back(self, item: Input, error: BaseException) -> None: ...

    def close(self) -> None: ...


def read_checkpoints(store: Store, prefix: str) -> dict[str, dict[str, Any]]:
    """Stored checkpoints whose name starts with ``prefix``: name -> position."""
    rows = store.con.execute(
        "SELECT name, position FROM checkpoints WHERE starts_with(name, ?)", [prefix]
    ).fetchall()
    return {str(n): json.loads(p) for n, p in rows}


def write_checkpoint(store: Store, name: str, position: dict[str, Any]) -> None:
    """Upsert one checkpoint (inside the batch's transaction)."""
    with store.transaction() as con:
        con.execute("DELETE FROM checkpoints WHERE name = ?", [name])
        con.execute(
            "INSERT INTO checkpoints (name, position, updated_at) VALUES (?, ?, ?)",
            [name, json.dumps(position, sort_keys=True), datetime.now(UTC)],
        )


def message_end(line: bytes) -> bool:
    """Whether a line ends an AIS message: a single sentence or the last fragment of a
    multi-part one (``!AIVDM,2,2,...``). A ``$PGHP`` time line does not: it belongs to
    the message after it."""
    at = line.find(b"VDM,")
    if at < 0:
        at = line.find(b"VDO,")
    if at < 0:
        return False
    fields = line[at:].split(b",", 3)
    if len(fields) < 3:
        return True  # broken: the framer rejects it alone, nothing waits for it
    total, number = fields[1].strip(), fields[2].strip()
    return not (total.isdigit() and number.isdigit()) or total == number


def clean_cut(data: bytes, *, nmea: bool, max_back: int = 1000) -> int:
    """Length of the longest prefix of ``data`` that ends after a whole line and, for
    NMEA, after a line that completes a message (0 when there is none)."""
    end = data.rfind(b"\n") + 1
    if not nmea or end == 0:
        return end
    pos = end
    for _ in range(max_back):
        start = data.rfind(b"\n", 0, pos - 1) + 1
        line = data[start : pos - 1].rstrip(b"\r")
        if not line.strip() or message_end(line):
            return pos
        if start == 0:
            return 0
        pos = start
    return end  # a run of fragments that long never completes: let the framer judge


def _head_hash(path: Path, length: int) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read(length)).hexdigest()


class AisDropFolder:
    """AIS files in a folder, each read on from its checkpointed byte offset."""

    def __init__(self, cfg: SourceConfig, health: SourceHealth, batch_bytes: int) -> None:
        assert cfg.folder is not None
        self.cfg = cfg
        self.folder = cfg.folder
        self.health = health
        self.batch_bytes = batch_bytes
        self.prefix = f"watch:ais:{self.folder}/"
        # Files that could not be read: path -> (size, mtime, why), until they change.
        self.skipped: dict[str, tuple[int, float, str]] = {}

    def _files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise OSError(f"{self.folder}: no such folder")
        out = []
        for p in sorted(self.folder.rglob("*")):
            if not p.is_file() or p.name.startswith("."):
                continue
            seen = self.skipped.get(str(p))
            if seen is not None:
                st = p.stat()
                if (st.st_size, st.st_mtime) == seen[:2]:
                    continue
                del self.skipped[str(p)]
                self.health.set_aside.pop(str(p), None)
            out.append(p)
        return out

    def poll(self, store: Store) -> Input | None:
        stored = read_checkpoints(store, self.prefix)
        pending = 0
        found: Input | None = None
        oldest = 0.0
        for path in self._files():
            name = f"watch:ais:{path}"
            st = path.stat()
            cp = stored.get(name)
            if cp is not None and cp["size"] == st.st_size and cp["eof"]:
                continue
            if cp is not None and (
                st.st_size < cp["size"] or _head_hash(path, cp["head_len"]) != cp["head_sha256"]
            ):
                cp = None  # replaced by another file of the same name: read it again
            pending += max(0, st.st_size - (cp["size"] if cp else 0))
            oldest = max(oldest, time.time() - st.st_mtime)
            if found is None:
                try:
                    found = self._read(path, st.st_size, st.st_mtime, cp)
                except (OSError, EOFError, InputError) as exc:
                    self._set_aside(path, f"{type(exc).__name__}: {exc}")
        self.health.pending_bytes = pending
        self.health.lag_s = oldest if pending else 0.0
        return found

    def _read(self, path: Path, size: int, mtime: float, cp: dict[str, Any] | None) -> Input | None:
        gz = is_gzip(path)
        if gz and time.time() - mtime < SETTLE_S:
            return None  # a gzip file is read only once it is whole
        offset = int(cp["offset"]) if cp else 0
        with open_binary(path) as fh:
            head = fh.read(65536)
        layout = detect_csv_layout(head)
        header = b""
        if layout is not None:
            header = head[: head.find(b"\n") + 1] if b"\n" in head else head
        with open_binary(path) as fh:
            if gz:
                remaining = offset
                while remaining:
                    got = fh.read(min(remaining, 1 << 20))
                    if not got:
                        break
                    remaining -= len(got)
            else:
                fh.seek(offset)
            data = fh.read(self.batch_bytes)
            at_eof = not fh.read(1)
        settled = gz or time.time() - mtime >= SETTLE_S
        cut = len(data) if at_eof and settled else clean_cut(data, nmea=layout is None)
        if at_eof and not settled and cut < len(data):
            pass  # an unfinished last line: wait for the rest
        if cut == 0 and data and not at_eof:
            cut = len(data)  # no line break in a whole batch: the framer rejects the line
        head_len = min(HEAD_BYTES, size)
        checkpoint = {
            "path": str(path),
            "offset": offset + cut,
            "size": size,
            "head_len": head_len,
            "head_sha256": _head_hash(path, head_len),
            "eof": at_eof and cut == len(data),
            "format": f"csv:{layout.name}" if layout else "nmea",
        }
        if cut == 0:
            if checkpoint["eof"] and (cp is None or not cp["eof"] or cp["size"] != size):
                # Nothing new to store, but remember the file is read to its end.
                return Input(self.cfg.name, "mark", f"{path}", f"watch:ais:{path}", checkpoint)
            return None
        body = data[:cut]
        if layout is not None and offset > 0:
            body = header + body
        return Input(
            self.cfg.name,
            "csv" if layout is not None else "nmea",
            f"{path}#{offset}-{offset + cut}",
            f"watch:ais:{path}",
            checkpoint,
            pieces=[(body, None)],
            layout=layout,
            path=path,
        )

    def committed(self, item: Input) -> None:
        self.health.checkpoint = item.checkpoint

    def rolled_back(self, item: Input, error: BaseException) -> None:
        # A file that is bad input (not AIS, unreadable CSV) is set aside, not retried
        # for ever in front of the files after it; /healthz names it.
        if isinstance(error, InputError) and item.path is not None:
            self._set_aside(item.path, str(error))

    def _set_aside(self, path: Path, why: str) -> None:
        """Leave ``path`` alone until it changes (size or time); /healthz lists it."""
        st = path.stat()
        self.skipped[str(path)] = (st.st_size, st.st_mtime, why)
        self.health.set_aside[str(path)] = why

    def close(self) -> None:
        return


class AisTcp:
    """A receiver's NMEA over TCP, read by a thread that reconnects with backoff."""

    def __init__(self, cfg: SourceConfig, health: SourceHealth) -> None:
        self.cfg = cfg
        self.host, self.port = cfg.host_port()
        self.health = health
        self.name = f"watch:ais:tcp://{self.host}:{self.port}"
        self.lock = threading.Lock()
        self.buffer: deque[tuple[bytes, int]] = deque()
        self.in_flight = 0  # pieces handed to a batch not yet committed
        self.stop = threading.Event()
        self.committed_bytes: int | None = None  # read from the checkpoint at the first poll
        self.sock: socket.socket | None = None
        self.thread = threading.Thread(target=self._read, name=f"watch-{cfg.name}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stop.is_set():
            try:
                sock = socket.create_connection((self.host, self.port), timeout=10.0)
            except OSError as exc:
                self.stop.wait(self.health.failed(f"connect {self.host}:{self.port}: {exc}"))
                continue
            self.sock = sock
            sock.settimeout(1.0)
            silent = 0.0
            try:
                while not self.stop.is_set():
                    try:
                        data = sock.recv(65536)
                    except TimeoutError:
                        silent += 1.0
                        if silent >= 60.0:
                            raise OSError("no data for 60 s") from None
                        continue
                    if not data:
                        raise OSError("connection closed by the feed")
                    silent = 0.0
                    with self.lock:
                        self.buffer.append((data, int(time.time() * 1_000_000)))
            except OSError as exc:
                if not self.stop.is_set():
                    self.stop.wait(self.health.failed(f"{self.host}:{self.port}: {exc}"))
            finally:
                sock.close()
                self.sock = None

    def poll(self, store: Store) -> Input | None:
        if self.committed_bytes is None:
            cp = read_checkpoints(store, self.name).get(self.name)
            self.committed_bytes = int(cp["bytes"]) if cp else 0
            self.health.checkpoint = cp
        with self.lock:
            pieces = list(self.buffer)
        if not pieces:
            self.health.lag_s = 0.0
            self.health.pending_bytes = 0
            return None
        data = b"".join(p for p, _ in pieces)
        self.health.pending_bytes = len(data)
        self.health.lag_s = time.time() - pieces[0][1] / 1e6
        cut = clean_cut(data, nmea=True)
        if cut == 0:
            return None
        taken: list[tuple[bytes, int | None]] = []
        used = 0
        for chunk, received in pieces:
            if used >= cut:
                break
            part = chunk[: cut - used]
            taken.append((part, received))
            used += len(part)
        checkpoint = {
            "address": f"{self.host}:{self.port}",
            "bytes": self.committed_bytes + cut,
            "last_received": datetime.fromtimestamp((taken[-1][1] or 0) / 1e6, UTC).isoformat(),
        }
        return Input(
            self.cfg.name,
            "nmea",
            f"tcp://{self.host}:{self.port}",
            self.name,
            checkpoint,
            pieces=taken,
        )

    def committed(self, item: Input) -> None:
        cut = item.size
        with self.lock:
            while cut and self.buffer:
                chunk, received = self.buffer[0]
                if len(chunk) <= cut:
                    self.buffer.popleft()
                    cut -= len(chunk)
                else:
                    self.buffer[0] = (chunk[cut:], received)
                    cut = 0
        self.committed_bytes = int(item.checkpoint["bytes"])
        self.health.ok()
        self.health.checkpoint = item.checkpoint

    def rolled_back(self, item: Input, error: BaseException) -> None:
        return  # the bytes stay in the buffer for the next batch

    def close(self) -> None:
        self.stop.set()
        sock = self.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)


class AdsbDropFolder:
    """Aircraft files in a folder, each ingested whole once its size holds still."""

    def __init__(self, cfg: SourceConfig, health: SourceHealth) -> None:
        assert cfg.folder is not None
        self.cfg = cfg
        self.folder = cfg.folder
        self.health = health
        self.sizes: dict[str, int] = {}

    def poll(self, store: Store) -> Input | None:
        if not self.folder.is_dir():
            raise OSError(f"{self.folder}: no such folder")
        stored = read_checkpoints(store, f"watch:adsb:{self.folder}/")
        waiting = 0
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            if path.name.startswith("."):
                continue
            name = f"watch:adsb:{path}"
            size = path.stat().st_size
            cp = stored.get(name)
            if cp is not None and cp["size"] == size:
                continue
            waiting += 1
            if self.sizes.get(str(path)) != size:
                self.sizes[str(path)] = size  # seen growing: look again next time
                continue
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if cp is not None and cp["sha256"] == digest:
                continue
            self.health.pending_bytes = waiting
            return Input(
                self.cfg.name,
                "adsb",
                str(path),
                name,
                {"path": str(path), "size": size, "sha256": digest},
                path=path,
            )
        self.health.pending_bytes = waiting
        return None

    def committed(self, item: Input) -> None:
        self.health.checkpoint = item.checkpoint

    def rolled_back(self, item: Input, error: BaseException) -> None:
        return

    def close(self) -> None:
        return


class ListFetch:
    """``lists fetch`` on a schedule: download, parse; the watch loads a new version."""

    def __init__(self, cfg: SourceConfig, health: SourceHealth, settings: Settings) -> None:
        self.cfg = cfg
        self.health = health
        self.settings = settings
        self.name = f"watch:lists:{cfg.name}"

    def poll(self, store: Store) -> Input | None:
        from watchkeeper.lists import PARSERS, detect_parser
        from watchkeeper.lists.fetch import fetch_lists

        cp = read_checkpoints(store, self.name).get(self.name)
        if cp is not None:
            last = datetime.fromisoformat(cp["fetched_at"])
            if (datetime.now(UTC) - last).total_seconds() < self.cfg.interval_s:
                return None
        fetched = fetch_lists(self.settings, list(self.cfg.names) or None)
        parsed = []
        for group in fetched:
            parser = detect_parser(group.paths, group.source if group.source in PARSERS else None)
            parsed.append(parser.parse(group.paths))
        checkpoint = {
            "fetched_at": datetime.now(UTC).isoformat(),
            "files": [str(p) for g in fetched for p in g.paths],
        }
        return Input(
            self.cfg.name,
            "lists",
            ",".join(g.source for g in fetched),
            self.name,
            checkpoint,
            payload=parsed,
        )

    def committed(self, item: Input) -> None:
        self.health.checkpoint = item.checkpoint

    def rolled_back(self, item: Input, error: BaseException) -> None:
        return

    def close(self) -> None:
        return
