"""Writing AIS into the store: NMEA logs, decoded CSVs, standard input, all or nothing.

``ingest_paths(store, paths)`` is the entry point the CLI and ``watchkeeper run`` use.
Each file becomes one ``ais_ingests`` row (its counts and its rejects by reason) and
its messages go to ``ais_positions`` / ``ais_static`` / ``ais_other`` (schemas in
``store/schema/020_ais.sql``). The whole call is one transaction: a file that is not
AIS at all raises :class:`InputError` naming it and nothing is stored. A file already
ingested (same sha256) is skipped unless ``force``.

Positions need a time. NMEA sentences without a tag-block, receiver or ``$PGHP`` time
(and CSV rows without one) are rejected as ``no_time`` unless ``assume_time`` is given;
static and other messages are kept with a NULL time and counted.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from watchkeeper.errors import InputError
from watchkeeper.io import open_binary
from watchkeeper.movement.ais.csv_layouts import (
    IDENTITY_FIELDS,
    CsvLayout,
    MappedRows,
    find_layout,
    map_columns,
    normalise_header,
    split_header,
    time_us,
)
from watchkeeper.movement.ais.decode import Decoded, decode, payload_strings
from watchkeeper.movement.ais.nmea import MAX_LINE_BYTES, NO_TIME, FramedMessages, NmeaFramer
from watchkeeper.store import Store

I64 = npt.NDArray[np.int64]
CHUNK_BYTES: Final = 16 << 20
CSV_BLOCK_BYTES: Final = 8 << 20
TS_UTC: Final = pa.timestamp("us", tz="UTC")


@dataclass
class SourceReport:
    """What one file (or stream) gave: counts, rejects by reason and where they start."""

    source: str
    format: str
    ingest_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    first_reject_line: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why nothing was ingested (already ingested)

    def note_reject(self, reason: str, n: int, line: int | None) -> None:
        if n <= 0:
            return
        self.rejects[reason] += n
        if line is not None and (
            reason not in self.first_reject_line or line < self.first_reject_line[reason]
        ):
            self.first_reject_line[reason] = line

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "ingest_id": self.ingest_id,
            "skipped": self.skipped,
            "counts": dict(sorted(self.counts.items())),
            "rejects": dict(sorted(self.rejects.items())),
            "first_reject_line": dict(sorted(self.first_reject_line.items())),
        }


@dataclass
class IngestReport:
    """The result of one ingest call: a report per source, and totals."""

    sources: list[SourceReport] = field(default_factory=list)

    def total(self, key: str) -> int:
        return sum(s.counts.get(key, 0) for s in self.sources)

    @property
    def rejects(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for s in self.sources:
            out.update(s.rejects)
        return out

    @property
    def positions(self) -> int:
        return self.total("positions")

    @property
    def statics(self) -> int:
        return self.total("statics")

    def to_dict(self) -> dict[str, Any]:
        return {
            "positions": self.positions,
            "statics": self.statics,
            "others": self.total("others"),
            "rejects": dict(sorted(self.rejects.items())),
            "sources": [s.to_dict() for s in self.sources],
        }


# -- the public API -----------------------------------------------------------------------


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    assume_time: datetime | None = None,
    force: bool = False,
) -> IngestReport:
    """Ingest AIS files (NMEA or a known CSV layout; ``.gz`` too; folders: their files)."""
    files = expand_paths(paths)
    report = IngestReport()
    assume_us = _to_us(assume_time)
    with store.transaction() as con:
        for path in files:
            report.sources.append(_ingest_file(con, path, assume_us, force))
    return report


def ingest_stream(
    store: Store,
    stream: IO[bytes],
    *,
    source: str = "-",
    assume_time: datetime | None = None,
    receive_time: bool = False,
) -> IngestReport:
    """Ingest a byte stream (standard input) to its end, in one transaction.

    With ``receive_time`` each chunk is stamped with the time it was read: the time of
    sentences that carry none (a receiver piped in, ``nc host port | watchkeeper ...``).
    """
    report = IngestReport()
    with store.transaction() as con:
        head = stream.read(65536)
        layout = detect_csv_layout(head)
        if layout is not None:
            rest = io.BufferedReader(_Prefixed(head, stream))
            sr = _ingest_csv(con, source, None, rest, layout, _to_us(assume_time))
        else:

            def chunks() -> Iterator[tuple[bytes, int | None]]:
                yield head, _now_us() if receive_time else None
                while True:
                    data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
                    if not data:
                        return
                    yield data, _now_us() if receive_time else None

            sr = _ingest_nmea(con, source, None, chunks(), _to_us(assume_time))
        report.sources.append(sr)
    return report


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; a folder stands for its files (sorted, recursive, no hidden ones)."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(
                f
                for f in sorted(path.rglob("*"))
                if f.is_file() and not any(part.startswith(".") for part in f.parts[-1:])
            )
        elif path.is_file():
            out.append(path)
        else:
            raise InputError(path, "no such file or folder")
    return out


def detect_csv_layout(head: bytes) -> CsvLayout | None:
    """The CSV layout whose header is the first line of ``head``; None for anything else."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    for line in text.splitlines():
        if not line.strip():
            continue
        split = split_header(line)
        return find_layout(split[1]) if split else None
    return None


# -- one file ---------------------------------------------------------------------------


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ingest_file(
    con: duckdb.DuckDBPyConnection, path: Path, assume_us: int | None, force: bool
) -> SourceReport:
    digest = _file_hash(path)
    if not force:
        row = con.execute(
            "SELECT ingest_id FROM ais_ingests WHERE file_hash = ? ORDER BY ingest_id LIMIT 1",
            [digest],
        ).fetchone()
        if row is not None:
            return SourceReport(
                str(path), "", row[0], skipped=f"already ingested (ingest {row[0]}, same sha256)"
            )
    with open_binary(path) as fh:
        head = fh.read(65536)
    layout = detect_csv_layout(head)
    if layout is not None:
        with open_binary(path) as fh:
            return _ingest_csv(con, str(path), digest, fh, layout, assume_us)

    def chunks() -> Iterator[tuple[bytes, int | None]]:
        with open_binary(path) as fh:
            for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
                yield block, None

    return _ingest_nmea(con, str(path), digest, chunks(), assume_us)


def _start_ingest(con: duckdb.DuckDBPyConnection, source: str, fmt: str, digest: str | None) -> int:
    row = con.execute(
        "INSERT INTO ais_ingests (source, format, file_hash, started_at, counts, rejects) "
        "VALUES (?, ?, ?, ?, '{}', '{}') RETURNING ingest_id",
        [source, fmt, digest, datetime.now(UTC)],
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_ingest(con: duckdb.DuckDBPyConnection, report: SourceReport) -> None:
    """Write the report's counts and rejects into its ``ais_ingests`` row."""
    counts = {**dict(report.counts), "first_reject_line": report.first_reject_line}
    con.execute(
        "UPDATE ais_ingests SET finished_at = ?, counts = ?, rejects = ? WHERE ingest_id = ?",
        [
            datetime.now(UTC),
            json.dumps(counts, sort_keys=True),
            json.dumps(dict(report.rejects), sort_keys=True),
            report.ingest_id,
        ],
    )


# -- NMEA -------------------------------------------------------------------------------


class NmeaWriter:
    """Frames, decodes and stores NMEA chunks for one ``ais_ingests`` row."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, report: SourceReport, assume_us: int | None
    ) -> None:
        self.con = con
        self.report = report
        self.assume_us = assume_us
        self.framer = NmeaFramer()

    def feed(self, data: bytes, receive_us: int | None = None) -> None:
        self._write(self.framer.feed(data, receive_us))

    def finish(self, receive_us: int | None = None) -> None:
        self._write(self.framer.finish(receive_us))
        self._merge_framer()

    def _merge_framer(self) -> None:
        r = self.report
        r.counts.update(self.framer.counts)
        for reason, n in self.framer.rejects.items():
            r.note_reject(reason, n, self.framer.first_reject_line.get(reason))
        self.framer.counts.clear()
        self.framer.rejects.clear()
        self.framer.first_reject_line.clear()

    def _write(self, fm: FramedMessages) -> None:
        if not len(fm):
            return
        dec = decode(fm)
        r = self.report
        r.counts.update(dec.counts)
        for reason, n in dec.rejects.items():
            r.note_reject(reason, n, int(fm.line[dec.first_reject_index[reason]]))
        store_decoded(self.con, r, fm, dec, self.assume_us)


def _ingest_nmea(
    con: duckdb.DuckDBPyConnection,
    source: str,
    digest: str | None,
    chunks: Iterable[tuple[bytes, int | None]],
    assume_us: int | None,
) -> SourceReport:
    report = SourceReport(source, "nmea")
    report.ingest_id = _start_ingest(con, source, "nmea", digest)
    writer = NmeaWriter(con, report, assume_us)
    last_receive: int | None = None
    for data, receive_us in chunks:
        writer.feed(data, receive_us)
        last_receive = receive_us
    writer.finish(last_receive)  # the last line may have no line break
    if writer.framer.ais_lines == 0 and writer.framer.first_data_line is not None:
        too_long = report.rejects.get("line_too_long", 0)
        raise InputError(
            source,
            "not AIS: no !AIVDM/!AIVDO sentence, and the first line is no known AIS CSV header"
            + (f" ({too_long} line(s) longer than {MAX_LINE_BYTES} bytes)" if too_long else ""),
            line=writer.framer.first_data_line,
        )
    finish_ingest(con, report)
    return report


def allocate_msg_ids(con: duckdb.DuckDBPyConnection, n: int) -> I64:
    """``n`` fresh ids from ``ais_msg_seq``, ascending."""
    if n == 0:
        return np.empty(0, np.int64)
    got = con.execute("SELECT nextval('ais_msg_seq') AS id FROM range(?)", [n]).fetchnumpy()["id"]
    return np.sort(np.asarray(got, dtype=np.int64))


def _insert(con: duckdb.DuckDBPyConnection, table_name: str, table: Any) -> None:
    if table.num_rows == 0:
        return
    con.register("_ais_batch", table)
    try:
        con.execute(f"INSERT INTO {table_name} BY NAME SELECT * FROM _ais_batch")
    finally:
        con.unregister("_ais_batch")


def _ts(values: I64) -> Any:
    return pa.array(values, mask=values == NO_TIME, type=pa.int64()).cast(TS_UTC)


def _int(values: I64, type_: Any, null: Any = None) -> Any:
    mask = values < 0 if null is None else null
    return pa.array(np.where(mask, 0, values), mask=mask, type=type_)


def _float(values: npt.NDArray[np.float64]) -> Any:
    return pa.array(values, mask=np.isnan(values), type=pa.float64())


def _sources(fm: FramedMessages, idx: I64) -> Any:
    codes = fm.source_code[idx]
    if not fm.sources or (codes < 0).all():
        return pa.nulls(len(idx), pa.string())
    return pc.take(pa.array(fm.sources, pa.string()), pa.array(codes, mask=codes < 0))


def _length(a: Any, b: Any) -> Any:
    """Sum of two dimensions when both are broadcast (> 0), else null."""
    both = pc.and_(pc.greater(a, 0), pc.greater(b, 0))
    return pc.if_else(both, pc.cast(pc.add(a, b), pa.float64()), pa.scalar(None, pa.float64()))


def not_ship_mmsi(mmsi: I64) -> int:
    """How many MMSIs are outside 200000000-799999999 (a ship's MID 2xx-7xx)."""
    return int(((mmsi < 200_000_000) | (mmsi > 799_999_999)).sum())


def store_decoded(
    con: duckdb.DuckDBPyConnection,
    report: SourceReport,
    fm: FramedMessages,
    dec: Decoded,
    assume_us: int | None,
) -> None:
    """Write one decoded batch; positions without a time are rejected (or assumed)."""
    pos = dec.positions
    pos_time = fm.time_us[pos.index]
    no_time = pos_time == NO_TIME
    keep = np.ones(len(pos), bool)
    if no_time.any():
        if assume_us is not None:
            pos_time = np.where(no_time, assume_us, pos_time)
            report.counts["assumed_time"] += int(no_time.sum())
        else:
            report.note_reject("no_time", int(no_time.sum()), int(fm.line[pos.index[no_time][0]]))
            keep = ~no_time
    p_idx = pos.index[keep]
    st, oth = dec.statics, dec.others
    stored = np.unique(np.concatenate([p_idx, st.index, oth.index]))
    ids = allocate_msg_ids(con, len(stored))

    def msg_id(idx: I64) -> Any:
        return pa.array(ids[np.searchsorted(stored, idx)], pa.int64())

    ingest = report.ingest_id
    n = int(keep.sum())
    positions = pa.table(
        {
            "msg_id": msg_id(p_idx),
            "ingest_id": pa.array(np.full(n, ingest), pa.int32()),
            "mmsi": pa.array(pos.mmsi[keep], pa.int32()),
            "time": _ts(pos_time[keep]),
            "lat": pa.array(pos.lat[keep]),
            "lon": pa.array(pos.lon[keep]),
            "sog": _float(pos.sog[keep]),
            "cog": _float(pos.cog[keep]),
            "heading": _float(pos.heading[keep]),
            "nav_status": _int(pos.nav_status[keep], pa.int16()),
            "msg_type": pa.array(pos.msg_type[keep], pa.int16()),
            "accuracy": pa.array(pos.accuracy[keep]),
            "source": _sources(fm, p_idx),
        }
    )
    _insert(con, "ais_positions", positions)
    report.counts["positions"] += n
    report.counts["mmsi_not_ship_format"] += not_ship_mmsi(pos.mmsi[keep])

    st_time = fm.time_us[st.index]
    bow, stern = _int(st.to_bow, pa.int16()), _int(st.to_stern, pa.int16())
    port, starboard = _int(st.to_port, pa.int16()), _int(st.to_starboard, pa.int16())
    statics = pa.table(
        {
            "msg_id": msg_id(st.index),
            "ingest_id": pa.array(np.full(len(st), ingest), pa.int32()),
            "mmsi": pa.array(st.mmsi, pa.int32()),
            "time": _ts(st_time),
            "msg_type": pa.array(st.msg_type, pa.int16()),
            "imo": _int(st.imo, pa.int32()),
            "name": st.name,
            "callsign": st.callsign,
            "ship_type": _int(st.ship_type, pa.int16()),
            "ship_type_text": pa.nulls(len(st), pa.string()),
            "to_bow": bow,
            "to_stern": stern,
            "to_port": port,
            "to_starboard": starboard,
            "draught": _float(st.draught),
            "destination": st.destination,
            "length": _length(bow, stern),
            "width": _length(port, starboard),
            "source": _sources(fm, st.index),
        }
    )
    _insert(con, "ais_static", statics)
    report.counts["statics"] += len(st)
    report.counts["statics_without_time"] += int((st_time == NO_TIME).sum())

    oth_time = fm.time_us[oth.index]
    others = pa.table(
        {
            "msg_id": msg_id(oth.index),
            "ingest_id": pa.array(np.full(len(oth.index), ingest), pa.int32()),
            "mmsi": _int(oth.mmsi, pa.int32()),
            "time": _ts(oth_time),
            "msg_type": pa.array(oth.msg_type, pa.int16()),
            "payload": payload_strings(fm, oth.index),
        }
    )
    _insert(con, "ais_other", others)
    report.counts["others"] += len(oth.index)
    report.counts["others_without_time"] += int((oth_time == NO_TIME).sum())


# -- CSV --------------------------------------------------------------------------------

# Why a CSV row is not stored, in the order they are checked (the first one counts).
_ROW_ESSENTIAL: Final = ("mmsi", "time", "lat", "lon")


_HEADER_MAX_BYTES: Final = 1 << 16  # a header is found in the first 64 KiB (detect_csv_layout)


class _Prefixed(io.RawIOBase):
    """Bytes already read (the head that told the format) followed by the rest of a stream,
    read as the stream comes: standard input is never held whole in memory."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.stream.read(len(b))
        b[: len(data)] = data
        return len(data)


def _csv_header(stream: IO[bytes], layout: CsvLayout) -> tuple[list[str], int]:
    """The file's own column names (quotes handled) and the header's byte length."""
    first = stream.readline(_HEADER_MAX_BYTES)
    text = first.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")
    names = next(csv.reader([text], delimiter=layout.delimiter))
    seen: Counter[str] = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return unique, len(first)


class Utf8Replacing(io.RawIOBase):
    """A byte stream with invalid UTF-8 replaced by U+FFFD (and counted), so a stray byte
    in one cell never stops the CSV reader."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.buffer = b""
        self.replaced = 0
        self.done = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self.buffer and not self.done:
            block = self.raw.read(CSV_BLOCK_BYTES)
            self.done = not block
            text = self.decoder.decode(block, final=self.done)
            self.replaced += text.count("\ufffd")
            self.buffer = text.encode("utf-8")
        n = min(len(b), len(self.buffer))
        b[:n] = self.buffer[:n]
        self.buffer = self.buffer[n:]
        return n


def _ingest_csv(
    con: duckdb.DuckDBPyConnection,
    source: str,
    digest: str | None,
    stream: IO[bytes],
    layout: CsvLayout,
    assume_us: int | None,
) -> SourceReport:
    fmt = f"csv:{layout.name}"
    report = SourceReport(source, fmt)
    report.ingest_id = _start_ingest(con, source, fmt, digest)
    names, _ = _csv_header(stream, layout)
    header_map: dict[str, str] = {}
    for name in names:
        header_map.setdefault(normalise_header(name), name)
    wanted = {normalise_header(s) for s in layout.source_columns()}
    include = [header_map[w] for w in sorted(wanted) if w in header_map]
    shape_errors: list[int] = []

    def on_bad_row(row: Any) -> str:
        shape_errors.append(int(row.number) if row.number is not None else -1)
        return "skip"

    text = Utf8Replacing(stream)
    rows_before = 0
    identity_batches: list[Any] = []
    try:
        reader = pacsv.open_csv(
            text,
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=CSV_BLOCK_BYTES, use_threads=False
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=layout.delimiter, quote_char='"', invalid_row_handler=on_bad_row
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                include_columns=include,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            table = pa.Table.from_batches([batch])
            mapped = map_columns(layout, table, header_map)
            identity_batches.append(
                _store_csv_batch(
                    con,
                    report,
                    layout,
                    mapped,
                    first_line=rows_before + 2 + len(shape_errors),
                    assume_us=assume_us,
                )
            )
            rows_before += table.num_rows
    except pa.ArrowInvalid as exc:
        raise InputError(source, f"unreadable as {layout.description}: {exc}") from exc
    if shape_errors:
        # Row numbers from the reader count the header as row 1, like line numbers.
        report.note_reject("bad_row_shape", len(shape_errors), min(shape_errors) + 1)
    if text.replaced:
        report.counts["invalid_utf8_replaced"] += text.replaced
    report.counts["rows"] += rows_before + len(shape_errors)
    _store_csv_statics(con, report, layout, identity_batches)
    finish_ingest(con, report)
    return report


def _store_csv_batch(
    con: duckdb.DuckDBPyConnection,
    report: SourceReport,
    layout: CsvLayout,
    mapped: MappedRows,
    *,
    first_line: int,
    assume_us: int | None,
) -> Any:
    """Store a batch's positions; return its identity rows (stored per file, at the end)."""
    n = len(mapped)
    f = mapped.fields
    line = first_line + np.arange(n)
    reason = np.full(n, -1, dtype=np.int16)  # first reason a row is not stored
    reasons: list[str] = []

    def mark(name: str, mask: npt.NDArray[np.bool_]) -> None:
        sel = (reason == -1) & mask
        if sel.any():
            reason[sel] = len(reasons)
            reasons.append(name)

    mark("not_a_vessel", ~mapped.keep)
    essential_sources = {
        layout.columns[k].sources[0] for k in _ROW_ESSENTIAL if k in layout.columns
    }
    for src, bad in mapped.bad.items():
        if src in essential_sources:
            mark(f"bad_value:{src}", bad)
    mmsi_null = np.asarray(f["mmsi"].is_null().to_numpy(zero_copy_only=False), bool)
    mark("no_mmsi", mmsi_null)

    msg_type = f.get("msg_type")
    if msg_type is not None:
        mt = np.asarray(msg_type.fill_null(0).to_numpy(zero_copy_only=False), np.int64)
        is_pos = np.isin(mt, list(layout.position_types))
        is_static_type = np.isin(mt, list(layout.static_types))
        mark("csv_other_msg_type", ~is_pos & ~is_static_type)
        mt_out = mt
    else:
        is_pos = np.ones(n, bool)
        is_static_type = np.zeros(n, bool)
        mt_out = np.zeros(n, np.int64)

    times = time_us(f["time"]) if "time" in f else np.full(n, NO_TIME, np.int64)
    lat = np.asarray(f["lat"].to_numpy(zero_copy_only=False), np.float64)
    lon = np.asarray(f["lon"].to_numpy(zero_copy_only=False), np.float64)
    # Static-only message rows (types 5, 24) need no position or time.
    position_row = is_pos & (reason == -1)
    no_fix = np.isnan(lat) | np.isnan(lon) | (lat == 91.0) | (lon == 181.0)
    mark("position_not_available", position_row & no_fix)
    no_time = position_row & (times == NO_TIME) & (reason == -1)
    if no_time.any() and assume_us is not None:
        times = np.where(no_time, assume_us, times)
        report.counts["assumed_time"] += int(no_time.sum())
    else:
        mark("no_time", no_time)

    stored_pos = is_pos & (reason == -1)
    static_only = is_static_type & ~is_pos & (reason == -1)
    for k, name in enumerate(reasons):
        rows = reason == k
        report.note_reject(name, int(rows.sum()), int(line[rows][0]))
    # A bad optional cell is set to null and counted; the row is kept.
    for src, bad in mapped.bad.items():
        if src not in essential_sources:
            kept_bad = bad & (stored_pos | static_only)
            if kept_bad.any():
                report.note_reject(
                    f"nulled_bad_value:{src}", int(kept_bad.sum()), int(line[kept_bad][0])
                )

    # Identity rows: static message rows, or the identity columns repeated on positions.
    identity_cols: list[str] = [c for c in IDENTITY_FIELDS if c in f]
    has_identity = np.zeros(n, dtype=np.bool_)
    for c in identity_cols:
        has_identity |= ~np.asarray(f[c].is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    if layout.identity_on_every_row:
        identity_rows = stored_pos & has_identity
    else:
        identity_rows = (is_static_type & (reason == -1)) | (stored_pos & is_static_type)

    pos_idx = np.flatnonzero(stored_pos)
    st_idx = np.flatnonzero(identity_rows)
    # Identity columns repeated on position rows are no message of their own: type 0.
    st_types = np.zeros(n, np.int64) if layout.identity_on_every_row else mt_out
    statics = _csv_statics(f, identity_cols, st_idx, times, st_types, layout)
    report.counts["identity_rows"] += len(st_idx)
    ids = allocate_msg_ids(con, len(pos_idx))
    ingest = report.ingest_id

    def col(name: str, type_: Any) -> Any:
        if name in f:
            return pc.cast(f[name].take(pa.array(pos_idx)), type_)
        return pa.nulls(len(pos_idx), type_)

    positions = pa.table(
        {
            "msg_id": pa.array(ids, pa.int64()),
            "ingest_id": pa.array(np.full(len(pos_idx), ingest), pa.int32()),
            "mmsi": col("mmsi", pa.int32()),
            "time": _ts(times[pos_idx]),
            "lat": pa.array(lat[pos_idx]),
            "lon": pa.array(lon[pos_idx]),
            "sog": col("sog", pa.float64()),
            "cog": col("cog", pa.float64()),
            "heading": col("heading", pa.float64()),
            "nav_status": col("nav_status", pa.int16()),
            "msg_type": pa.array(mt_out[pos_idx], pa.int16()),
            "accuracy": col("accuracy", pa.bool_()),
            "source": pa.nulls(len(pos_idx), pa.string()),
        }
    )
    _insert(con, "ais_positions", positions)
    report.counts["positions"] += len(pos_idx)
    mmsi_np = np.asarray(f["mmsi"].take(pa.array(pos_idx)).to_numpy(zero_copy_only=False))
    report.counts["mmsi_not_ship_format"] += not_ship_mmsi(mmsi_np.astype(np.int64))
    report.counts["static_rows"] += int(static_only.sum())

    return statics


def _store_csv_statics(
    con: duckdb.DuckDBPyConnection, report: SourceReport, layout: CsvLayout, batches: list[Any]
) -> None:
    """The identity rows of a whole file; repeated identities kept at first and last seen."""
    if not batches:
        return
    statics = pa.concat_tables(batches)
    if layout.identity_on_every_row:
        statics = _first_and_last_seen(statics)
        report.counts["identity_rows_collapsed"] += (
            report.counts["identity_rows"] - statics.num_rows
        )
    ids = allocate_msg_ids(con, statics.num_rows)
    statics = statics.append_column("msg_id", pa.array(ids, pa.int64())).append_column(
        "ingest_id", pa.array(np.full(statics.num_rows, report.ingest_id), pa.int32())
    )
    _insert(con, "ais_static", statics)
    report.counts["statics"] += statics.num_rows


_STATIC_TYPES: Final = {
    "imo": pa.int32(),
    "name": pa.string(),
    "callsign": pa.string(),
    "ship_type": pa.int16(),
    "ship_type_text": pa.string(),
    "to_bow": pa.int16(),
    "to_stern": pa.int16(),
    "to_port": pa.int16(),
    "to_starboard": pa.int16(),
    "draught": pa.float64(),
    "destination": pa.string(),
    "length": pa.float64(),
    "width": pa.float64(),
}


def _csv_statics(
    f: dict[str, Any],
    identity_cols: list[str],
    idx: I64,
    times: I64,
    msg_type: I64,
    layout: CsvLayout,
) -> Any:
    """Identity rows of a CSV batch, without msg_id/ingest_id.

    Where the publisher repeats the static columns on every position row, an identity
    (the MMSI with all its static values) is kept at its first and its last time seen.
    """
    cols: dict[str, Any] = {
        "mmsi": pc.cast(f["mmsi"].take(pa.array(idx)), pa.int32()),
        "time": _ts(times[idx]),
        "msg_type": pa.array(msg_type[idx], pa.int16()),
    }
    for name, type_ in _STATIC_TYPES.items():
        cols[name] = (
            pc.cast(f[name].take(pa.array(idx)), type_)
            if name in identity_cols
            else pa.nulls(len(idx), type_)
        )
    for total, (a, b) in (
        ("length", ("to_bow", "to_stern")),
        ("width", ("to_port", "to_starboard")),
    ):
        cols[total] = pc.coalesce(cols[total], _length(cols[a], cols[b]))
    cols["source"] = pa.nulls(len(idx), pa.string())
    table = pa.table(cols)
    if not layout.identity_on_every_row or table.num_rows == 0:
        return table
    return _first_and_last_seen(table)


def _first_and_last_seen(table: Any) -> Any:
    """One identity (MMSI and every static column) -> its first and its last row in time."""
    keys = ["mmsi", "msg_type", *_STATIC_TYPES, "source"]
    grouped = table.group_by(keys, use_threads=False).aggregate([("time", "min"), ("time", "max")])
    first = grouped.drop_columns(["time_max"]).rename_columns(
        [c if c != "time_min" else "time" for c in grouped.drop_columns(["time_max"]).column_names]
    )
    last_mask = pc.fill_null(pc.not_equal(grouped["time_min"], grouped["time_max"]), False)
    last = grouped.filter(last_mask).drop_columns(["time_min"])
    last = last.rename_columns([c if c != "time_max" else "time" for c in last.column_names])
    return pa.concat_tables([first, last.select(first.column_names)]).select(table.column_names)


# -- helpers ---------------------------------------------------------------------------


def _to_us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("assume_time must be timezone-aware (UTC)")
    return int(moment.timestamp() * 1_000_000)


def _now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)
