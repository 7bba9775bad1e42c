"""Which aircraft-data format a file is, read by content (not by name), and read it.

State vectors: JSON (records or column-oriented), JSON lines, CSV, Parquet, readsb
``trace_full``. Raw frames: rs1090 JSON lines / JSON list with a ``frame`` field, CSV of
frames (pyModeS samples, or a header with time and frame columns), dump1090 Beast binary.
gzip-compressed files are read transparently. A file that is none of these raises
:class:`InputError` naming it; bad rows inside a known format are counted, never fatal.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from watchkeeper.errors import InputError
from watchkeeper.io import open_binary, read_bytes
from watchkeeper.movement.air.modes import (
    FrameTable,
    RawFrames,
    add_frame_record,
    decode_frames,
    read_beast,
    read_frames_csv,
    read_frames_jsonl,
)
from watchkeeper.movement.air.states import (
    AircraftFacts,
    ParsedStates,
    StateVectors,
    find_layout,
    read_csv_states,
    read_json_states,
    read_jsonl_states,
    read_parquet_states,
)

_HEAD_BYTES = 1 << 16  # what the format of a line-based file is told from
_HEX_FRAME = re.compile(r"(^|[,\s\"'])[0-9a-fA-F]{14}([0-9a-fA-F]{14})?($|[,\s\"'])")
_FRAME_KEYS = ("frame", "rawmsg")


@dataclass
class ParsedFile:
    """One file read and checked, ready to be stored: states, accepted frames (raw-frame
    formats), facts about aircraft, and every count by reason."""

    path: Path
    format: str
    file_hash: str
    rows_read: int
    states: StateVectors
    frames: FrameTable | None = None
    facts: dict[str, AircraftFacts] = field(default_factory=dict)
    rejects: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def _from_states(parsed: ParsedStates, file_hash: str) -> ParsedFile:
    return ParsedFile(
        path=parsed.path,
        format=parsed.format,
        file_hash=file_hash,
        rows_read=parsed.rows_read,
        states=parsed.states,
        facts=parsed.facts,
        rejects=parsed.rejects,
        repaired=parsed.repaired,
        notes=parsed.notes,
    )


def _from_frames(
    path: Path,
    fmt: str,
    file_hash: str,
    raw: RawFrames,
    rejects: Counter[str],
    receiver: tuple[float, float] | None,
    notes: list[str],
) -> ParsedFile:
    rows = len(raw.frames) + sum(rejects.values())
    decoded = decode_frames(raw, receiver=receiver, rejects=rejects)
    return ParsedFile(
        path=path,
        format=fmt,
        file_hash=file_hash,
        rows_read=rows,
        states=decoded.states,
        frames=decoded.frames,
        rejects=decoded.rejects,
        repaired=decoded.repaired,
        counts=decoded.counts,
        notes=notes,
    )


def _json_doc(text: str, path: Path) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from exc
    except (ValueError, RecursionError) as exc:
        raise InputError(path, f"not valid JSON: {exc}") from exc


def read_air_file(
    path: str | Path,
    *,
    beast_start: datetime | None = None,
    receiver: tuple[float, float] | None = None,
) -> ParsedFile:
    """Read any supported aircraft-data file (see the module docstring).

    ``beast_start``: UTC time of the first frame of a Beast file (its clock is relative);
    when None the file's modification time is taken as the time of its last frame.
    ``receiver``: (lat, lon) of the receiver, a reference for surface positions."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file")
    streamed = _read_line_states(path)
    if streamed is not None:
        return streamed
    try:
        data = read_bytes(path)
    except (OSError, EOFError) as exc:
        raise InputError(path, f"cannot read: {exc}") from exc
    file_hash = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(path, "empty file")

    if data[:1] == b"\x1a" and data[1:2] in (b"1", b"2", b"3", b"4"):
        rejects: Counter[str] = Counter()
        start = beast_start.timestamp() if beast_start else None
        raw, note = read_beast(data, rejects, start)
        notes = [note]
        if start is None and raw.times:
            # Anchor: the file was last written when its last frame arrived.
            end = path.stat().st_mtime
            shift = end - raw.times[-1]
            raw.times = [t + shift for t in raw.times]
            notes.append("times anchored on the file's modification time (no --beast-start)")
        return _from_frames(path, "beast", file_hash, raw, rejects, receiver, notes)
    if data[:4] == b"PAR1":
        return _from_states(read_parquet_states(data, path), file_hash)

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"unknown format: binary data that is neither Beast nor Parquet ({exc.reason})"
        ) from exc
    body = text.lstrip()
    if body[:1] in ("[", "{"):
        lines = body.splitlines()
        first: object = None
        try:
            first = json.loads(lines[0])
        except (ValueError, RecursionError):
            first = None
        record = (
            isinstance(first, dict)
            and "trace" not in first
            and not (first and all(isinstance(v, dict) for v in first.values()))
        )
        if isinstance(first, dict) and record:
            if any(k in first for k in _FRAME_KEYS):
                rejects = Counter()
                raw = read_frames_jsonl(lines, rejects)
                return _from_frames(path, "frames-jsonl", file_hash, raw, rejects, receiver, [])
            if find_layout(first) is not None:
                return _from_states(read_jsonl_states(lines, path), file_hash)
        doc = _json_doc(body, path)
        if (
            isinstance(doc, list)
            and doc
            and isinstance(doc[0], dict)
            and any(k in doc[0] for k in _FRAME_KEYS)
        ):
            rejects = Counter()
            raw = RawFrames()
            for obj in doc:
                add_frame_record(raw, obj, rejects)
            return _from_frames(path, "frames-json", file_hash, raw, rejects, receiver, [])
        return _from_states(read_json_states(doc, path, "json"), file_hash)

    head = body.split("\n", 1)[0]
    names = [c.strip().strip('"').lower() for c in head.split(",")]
    if any(n in names for n in ("frame", "rawmsg", "msg", "message", "hex", "raw")):
        rejects = Counter()
        raw = read_frames_csv(text, rejects)
        return _from_frames(path, "frames-csv", file_hash, raw, rejects, receiver, [])
    if find_layout(names) is not None:
        return _from_states(read_csv_states(text, path), file_hash)
    first_field = names[0] if names else ""
    if re.fullmatch(r"\d+(\.\d+)?", first_field) and _HEX_FRAME.search(head):
        rejects = Counter()
        raw = read_frames_csv(text, rejects)
        return _from_frames(path, "frames-csv", file_hash, raw, rejects, receiver, [])
    raise InputError(
        path,
        "unknown format: not state vectors (OpenSky or traffic columns in JSON, JSON lines, "
        "CSV or Parquet; readsb trace_full) nor raw Mode-S frames (rs1090 JSON lines, "
        "pyModeS CSV, Beast binary)",
    )


class _Hashing(io.RawIOBase):
    """A byte stream passed through, its bytes added to a sha256 as they are read."""

    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw = raw
        self.digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        self.digest.update(data)
        b[: len(data)] = data
        return len(data)


def _line_format(head: bytes) -> str | None:
    """``jsonl`` or ``csv`` when the file's first bytes show state vectors in JSON lines
    or CSV, decided as :func:`read_air_file` decides on the whole text; else None."""
    if head[:1] == b"\x1a" or head[:4] == b"PAR1":
        return None
    try:
        text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
    except UnicodeDecodeError:
        return None
    body = text.lstrip()
    first_line = body.splitlines(keepends=True)[0] if body else ""
    if not first_line or len(first_line) == len(body):
        return None  # the first line does not end within the head: not decided here
    if body[:1] in ("[", "{"):
        try:
            first = json.loads(first_line)
        except (ValueError, RecursionError):
            return None
        if (
            isinstance(first, dict)
            and "trace" not in first
            and not (first and all(isinstance(v, dict) for v in first.values()))
            and not any(k in first for k in _FRAME_KEYS)
            and find_layout(first) is not None
        ):
            return "jsonl"
        return None
    header = body.split("\n", 1)[0]
    names = [c.strip().strip('"').lower() for c in header.split(",")]
    if any(n in names for n in ("frame", "rawmsg", "msg", "message", "hex", "raw")):
        return None
    return "csv" if find_layout(names) is not None else None


def _read_line_states(path: Path) -> ParsedFile | None:
    """State vectors in JSON lines or CSV, read as a stream (the file's text is never
    held whole); None when the file is another format."""
    try:
        with open_binary(path) as fh:
            kind = _line_format(fh.read(_HEAD_BYTES))
        if kind is None:
            return None
        digest = hashlib.sha256()
        with open_binary(path) as fh:
            text = io.TextIOWrapper(
                io.BufferedReader(_Hashing(fh, digest)), encoding="utf-8-sig", newline=""
            )
            if kind == "jsonl":
                parsed = read_jsonl_states(text, path)
            else:
                parsed = read_csv_states(text, path)
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"unknown format: binary data that is neither Beast nor Parquet ({exc.reason})"
        ) from exc
    except (OSError, EOFError) as exc:
        raise InputError(path, f"cannot read: {exc}") from exc
    return _from_states(parsed, digest.hexdigest())
