"""AIS decode and ingest throughput: Watchkeeper's vectorised decoder against pyais.

Input: the real NMEA sample sentences (bundled ``data/ais`` and, when present,
``../shared/data/ais``) repeated in file order to ``--sentences`` lines (1,000,000 by
default), so multi-part messages stay whole. Two inputs: position reports only
(single-sentence types 1, 2, 3, 18) and every sentence. Both decoders read the same
bytes in the same run, on one core:

- Watchkeeper: ``NmeaFramer.feed`` + ``decode`` (framing, checksums, tag blocks,
  reassembly, 6-bit decode into columns);
- pyais 3: ``IterMessages(lines)`` and ``.decode()`` on every message (its own
  framing and reassembly; it does not verify checksums).

End to end: the every-sentence file into DuckDB (``threads=1``) with
``ingest_paths``, against pyais decoding the same file into an Arrow table that
DuckDB then inserts.

    python benchmarks/ais.py [--sentences N] [--repeat R]
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from pyais.stream import IterMessages

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import table, write_section  # noqa: E402

from watchkeeper.io import read_bytes  # noqa: E402
from watchkeeper.movement.ais import ingest_paths, nmea  # noqa: E402
from watchkeeper.movement.ais.decode import Decoded, decode  # noqa: E402
from watchkeeper.movement.ais.ingest import CHUNK_BYTES  # noqa: E402
from watchkeeper.movement.ais.nmea import NmeaFramer, Sentence, parse_line  # noqa: E402
from watchkeeper.store import Store  # noqa: E402

SAMPLES = [
    "aisdb/test_data_201201.nmea",
    "aisdb/test_data_20211101.nm4.gz",
    "pyais/nmea_data_sample.txt.gz",
    "pyais/timestamped.ais",
    "libais/test.aivdm.gz",
]


TIMED = {"aisdb/test_data_201201.nmea", "aisdb/test_data_20211101.nm4.gz", "libais/test.aivdm.gz"}


def sample_lines(names: list[str] | None = None) -> tuple[list[bytes], list[bytes]]:
    """(single-sentence position reports, every data line) of the real samples."""
    every: list[bytes] = []
    for name in names or SAMPLES:
        for line in read_bytes(ROOT / "data" / "ais" / name).splitlines():
            if line.strip() and not line.startswith(b"#"):
                every.append(line)
    positions = []
    for line in every:
        parsed = parse_line(line)
        is_single = isinstance(parsed, Sentence) and parsed.total == 1
        if is_single and parsed.payload[:1] in (b"1", b"2", b"3", b"B"):  # type: ignore[union-attr]
            positions.append(line)
    return positions, every


_TAG_TIME = re.compile(rb"(^|,)c:(\d+)")


def _retimed(line: bytes, shift: int) -> bytes:
    """The line with its tag block's ``c:`` time moved by ``shift`` seconds, checksum redone.

    A live feed never repeats a tag block; a replay that did would let a decoder's
    tag-block cache answer from memory what a real feed makes it parse.
    """
    if not shift or not line.startswith(b"\\"):
        return line
    end = line.find(b"\\", 1)
    body, star, given = line[1:end].rpartition(b"*")
    if end < 0 or not star:
        return line
    new_body = _TAG_TIME.sub(lambda m: m[1] + b"c:" + str(int(m[2]) + shift).encode(), body)
    check = _xor(new_body)
    if given.upper() != b"%02X" % _xor(body):
        check ^= 1  # a tag block that failed its checksum still fails it
    return b"\\" + new_body + b"*%02X" % check + line[end:]


def _xor(data: bytes) -> int:
    check = 0
    for byte in data:
        check ^= byte
    return check


def replay(lines: list[bytes], n: int) -> bytes:
    """The lines repeated in file order to ``n``; each round's tag blocks are new ones."""
    out = []
    for i in range(n):
        rnd, j = divmod(i, len(lines))
        out.append(_retimed(lines[j], rnd * 86_400))
    return b"\n".join(out) + b"\n"


def ours(data: bytes) -> int:
    """Frame and decode in the chunks ``ingest_paths`` reads (16 MiB)."""
    framer = NmeaFramer()
    n = 0
    for i in range(0, len(data), CHUNK_BYTES):
        n += _decoded(decode(framer.feed(data[i : i + CHUNK_BYTES])))
    return n + _decoded(decode(framer.finish()))


def _decoded(dec: Decoded) -> int:
    """Messages decoded (a type 19 is both a position and a static report: once)."""
    both = int((dec.msg_type[dec.statics.index] == 19).sum())
    return len(dec.positions) + len(dec.statics) + len(dec.others.index) - both


def peer(data: bytes) -> int:
    n = 0
    for msg in IterMessages(data.splitlines()):
        try:
            msg.decode()
        except Exception:  # empty payloads, unknown types: pyais raises
            continue
        n += 1
    return n


def best_of(fn: Callable[[bytes], int], data: bytes, repeat: int) -> tuple[float, int]:
    """Best of ``repeat`` runs; no cache of either decoder survives from one run to the next."""
    best, count = float("inf"), 0
    for _ in range(repeat):
        nmea._TAG_CACHE.clear()
        gc.collect()
        t0 = time.perf_counter()
        count = fn(data)
        best = min(best, time.perf_counter() - t0)
    return best, count


def ingest_ours(path: Path) -> tuple[float, int, int]:
    """(seconds, positions stored, messages stored) with ``ingest_paths``."""
    store = Store(":memory:")
    store.con.execute("SET threads = 1")
    t0 = time.perf_counter()
    report = ingest_paths(store, [path])
    elapsed = time.perf_counter() - t0
    store.close()
    both = report.total("type_19")
    messages = report.positions + report.statics + report.total("others") - both
    return elapsed, report.positions, messages


def ingest_peer(path: Path) -> tuple[float, int]:
    """pyais decodes positions into columns; DuckDB inserts them (the usual pyais pipeline)."""
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    con.execute(
        "CREATE TABLE positions (mmsi INTEGER, lat DOUBLE, lon DOUBLE, sog DOUBLE, cog DOUBLE, "
        "heading DOUBLE, msg_type SMALLINT)"
    )
    t0 = time.perf_counter()
    cols: dict[str, list[object]] = {
        k: [] for k in ("mmsi", "lat", "lon", "sog", "cog", "heading", "msg_type")
    }
    for msg in IterMessages(read_bytes(path).splitlines()):
        try:
            d = msg.decode()
        except Exception:
            continue
        if d.msg_type in (1, 2, 3, 18, 19, 27):
            cols["mmsi"].append(d.mmsi)
            cols["lat"].append(d.lat)
            cols["lon"].append(d.lon)
            cols["sog"].append(d.speed)
            cols["cog"].append(d.course)
            cols["heading"].append(getattr(d, "heading", None))
            cols["msg_type"].append(d.msg_type)
    batch = pa.table(cols)
    con.register("batch", batch)
    con.execute("INSERT INTO positions SELECT * FROM batch")
    elapsed = time.perf_counter() - t0
    rows = con.execute("SELECT count(*) FROM positions").fetchone()
    con.close()
    return elapsed, int(rows[0]) if rows else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.sentences
    positions, every = sample_lines()
    rows = []
    ratios = {}
    for label, lines in (("position reports (1, 2, 3, 18)", positions), ("every sentence", every)):
        data = replay(lines, n)
        t_ours, n_ours = best_of(ours, data, args.repeat)
        t_peer, n_peer = best_of(peer, data, args.repeat)
        ratio = t_peer / t_ours
        ratios[label] = ratio
        rows.append(
            [
                label,
                f"{n:,} sentences ({len(lines):,} distinct real lines)",
                f"{n_ours / t_ours:,.0f}",
                f"{n_peer / t_peer:,.0f}",
                f"**{ratio:.1f}x**",
            ]
        )
        print(
            f"{label}: ours {n_ours:,} msgs {t_ours:.2f}s, pyais {n_peer:,} msgs {t_peer:.2f}s, {ratio:.1f}x"
        )

    _, timed = sample_lines(sorted(TIMED))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "replayed.nmea"
        path.write_bytes(replay(timed, n))
        nmea._TAG_CACHE.clear()
        t_in, n_pos, n_msgs = ingest_ours(path)
        t_pi, n_pi = ingest_peer(path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ingest: ours {n_pos:,} positions {t_in:.2f}s; pyais+duckdb {n_pi:,} in {t_pi:.2f}s")

    body = f"""
Decode: messages decoded per second on one core, same bytes, same run. Input: the real
NMEA samples (`data/ais`, {len(every):,} data lines) replayed in file order to {n:,}
sentences (tag blocks, receiver metadata, multi-part messages, bad checksums and all).
Watchkeeper = `NmeaFramer.feed` + `decode` (framing, checksum check, reassembly, 6-bit
fields into NumPy/Arrow columns); pyais {_pyais_version()} =
`IterMessages(lines)` + `.decode()` per message (no checksum check). Both timed alike:
best of {args.repeat} runs each, every cache emptied before each run, and each replay
round's tag blocks carry new times (checksums redone), so no tag block repeats, as in a
live feed.

{table(["input", "size", "Watchkeeper msg/s", "pyais msg/s", "ratio"], rows)}

Target (issue 4): at least 5x pyais on position reports: **{ratios[rows[0][0]]:.1f}x**.

End to end into DuckDB (`SET threads = 1`), on the samples that carry times (tag blocks,
receiver metadata: {", ".join(sorted(TIMED))}) replayed to {n:,} sentences: framing,
decoding, msg_id allocation and the inserts into `ais_positions`/`ais_static`/`ais_other`
(primary keys included), against pyais decoding the positions into an Arrow table that
DuckDB inserts into a table without keys:

{
        table(
            ["pipeline", "positions stored", "seconds", "positions/s", "all messages/s"],
            [
                [
                    "Watchkeeper `ingest_paths`",
                    f"{n_pos:,}",
                    f"{t_in:.2f}",
                    f"{n_pos / t_in:,.0f}",
                    f"{n_msgs / t_in:,.0f}",
                ],
                [
                    "pyais -> Arrow -> DuckDB (positions only)",
                    f"{n_pi:,}",
                    f"{t_pi:.2f}",
                    f"{n_pi / t_pi:,.0f}",
                    "",
                ],
            ],
        )
    }

(pyais keeps positions with lat 91/lon 181 and out-of-range ones, which Watchkeeper
rejects and counts.) Peak RSS of the benchmark process: {peak_mb:,.0f} MB.
"""
    write_section("ais", body)


def _pyais_version() -> str:
    from importlib.metadata import version

    return version("pyais")


if __name__ == "__main__":
    main()
