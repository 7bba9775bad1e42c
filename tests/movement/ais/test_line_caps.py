"""Unbounded NMEA input is bounded: over-long lines are rejected and counted, never kept
whole; blank lines cost a count, not memory (issue 11, item 7). Bundled real samples."""

from __future__ import annotations

import gzip
import io
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.io import read_bytes
from watchkeeper.movement.ais import ingest_paths, ingest_stream
from watchkeeper.movement.ais.nmea import (
    MAX_LINE_BYTES,
    FramedMessages,
    NmeaFramer,
    Reject,
    Sentence,
    nmea_checksum,
    parse_line,
)
from watchkeeper.store import Store

AIS = DATA / "ais"
# Real USCG lines (aisdb test_data_201201.nmea, lines 1-2): sentence, then receiver metadata.
REAL = read_bytes(AIS / "aisdb" / "test_data_201201.nmea").splitlines()
L1, L2 = REAL[0], REAL[1]


def sentence(payload: bytes, meta: bytes = b"") -> bytes:
    """A well-formed single-part sentence (right checksum) around ``payload``."""
    body = b"AIVDM,1,1,,A," + payload + b",0"
    return b"!" + body + b"*%02X" % nmea_checksum(body) + meta


def messages(fm: FramedMessages) -> list[tuple[int, int, bytes]]:
    return [(int(fm.line[i]), int(fm.time_us[i]), fm.payload_bytes(i)) for i in range(len(fm))]


def frame_all(
    data: bytes, chunk: int, **options: int
) -> tuple[list[tuple[int, int, bytes]], NmeaFramer]:
    framer = NmeaFramer(**options)  # type: ignore[arg-type]
    out = []
    for i in range(0, len(data), chunk):
        out += messages(framer.feed(data[i : i + chunk]))
        assert len(framer._tail) <= framer.max_line_bytes + 1  # never a long line kept
    out += messages(framer.finish())
    return out, framer


def test_a_line_over_the_cap_is_rejected_and_counted_not_framed() -> None:
    long_line = sentence(b"8" + b"1" * 2000, b",r003669946,1325394060")
    assert parse_line(long_line) == Reject("line_too_long")
    data = b"\n".join([L1, long_line, L2]) + b"\n"
    for vectorised in (True, False):
        framer = NmeaFramer(vectorised=vectorised)
        fm = messages(framer.feed(data)) + messages(framer.finish())
        assert [m[0] for m in fm] == [1, 3]  # the real lines, numbered as in the file
        assert framer.rejects == {"line_too_long": 1}
        assert framer.first_reject_line == {"line_too_long": 2}
        assert max(len(m[2]) for m in fm) < 100


def test_the_cap_is_on_the_line_without_its_break_and_trailing_blanks() -> None:
    # receiver metadata is free text: pad a real line to exactly the cap, then one more
    at_cap = L1 + b",x" + b"y" * (MAX_LINE_BYTES - len(L1) - 2)
    over = at_cap + b"y"
    assert len(at_cap) == MAX_LINE_BYTES
    assert isinstance(parse_line(at_cap + b"   \r"), Sentence)
    assert parse_line(over) == Reject("line_too_long")
    for chunk in (7, 100, 1 << 20):
        got, framer = frame_all(at_cap + b" " * 900 + b"\r\n" + over + b"\n", chunk)
        assert [m[0] for m in got] == [1]
        assert framer.rejects == {"line_too_long": 1}


def test_a_line_longer_than_any_chunk_is_dropped_as_it_streams() -> None:
    huge = sentence(b"8" + b"1" * (5 << 20))
    data = L1 + b"\n" + huge + b"\n" + L2 + b"\n"
    tracemalloc.start()
    try:
        got, framer = frame_all(data, 64 << 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [m[0] for m in got] == [1, 3]
    assert framer.rejects == {"line_too_long": 1}
    assert framer.counts["lines"] == 3
    assert peak < 2 << 20, peak  # chunks of 64 KiB; the 5 MiB line is never joined up
    # the same when the long line is the last, with no line break
    got, framer = frame_all(L1 + b"\n" + huge, 64 << 10)
    assert [m[0] for m in got] == [1] and framer.rejects == {"line_too_long": 1}


def test_blank_lines_cost_a_count_not_memory() -> None:
    blank = b"\n" * (4 << 20) + b"  \r\n" * 1000
    data = blank + L1 + b"\n" + blank + L2 + b"\n"
    tracemalloc.start()
    try:
        got, framer = frame_all(data, 16 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_blank = (4 << 20) + 1000
    assert [m[0] for m in got] == [n_blank + 1, 2 * n_blank + 2]
    assert framer.counts["blank_lines"] == 2 * n_blank
    assert framer.counts["lines"] == 2 * n_blank + 2
    assert not framer.rejects
    # Before: some hundred bytes a line (4 GB for 16 MiB of line breaks).
    assert peak < 32 << 20, peak


def test_framing_in_pieces_gives_the_same_messages_and_counts() -> None:
    data = gzip.decompress((AIS / "aisdb" / "test_data_20211101.nm4.gz").read_bytes())
    data += gzip.decompress((AIS / "libais" / "test.aivdm.gz").read_bytes())
    whole, f1 = frame_all(data, len(data))
    pieces, f2 = frame_all(data, len(data), frame_lines=97)
    assert len(whole) > 1000
    assert pieces == whole
    assert f1.rejects == f2.rejects and f1.first_reject_line == f2.first_reject_line
    assert f1.counts == f2.counts


_LINES = st.one_of(
    st.sampled_from(REAL[:40]),
    st.builds(
        lambda n, b: sentence(b"8" + b * n), st.integers(0, 700), st.sampled_from([b"1", b"w"])
    ),
    st.builds(
        lambda line, n: line + b",r" + b"0" * n, st.sampled_from(REAL[:10]), st.integers(300, 500)
    ),
    st.binary(max_size=900),
    st.builds(lambda n: b" " * n, st.integers(0, 1200)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(_LINES, min_size=1, max_size=12),
    chunk=st.integers(1, 3000),
    last_break=st.booleans(),
)
def test_line_cap_property(lines: list[bytes], chunk: int, last_break: bool) -> None:
    """Any lines, fed in any chunks: a line is ``line_too_long`` exactly when it has more
    than MAX_LINE_BYTES bytes before its trailing whitespace; the fast path, the reference
    parser and chunked feeding agree; no message comes from a long line."""
    lines = [b" ".join(x.split(b"\n")) for x in lines]  # one line each
    data = b"\n".join(lines) + (b"\n" if last_break else b"")
    long_lines = [
        i + 1 for i, x in enumerate(lines) if len(x.rstrip()) > MAX_LINE_BYTES and x.strip()
    ]
    results = []
    for vectorised in (True, False):
        for size in (len(data) or 1, chunk):
            got, framer = frame_all(data, size, vectorised=vectorised)
            assert framer.rejects.get("line_too_long", 0) == len(long_lines)
            if long_lines:
                assert framer.first_reject_line["line_too_long"] == long_lines[0]
            assert not set(long_lines) & {m[0] for m in got}
            results.append((got, dict(framer.rejects), framer.counts["lines"]))
    assert all(r == results[0] for r in results)


def test_ingest_counts_the_long_line_and_stores_none_of_it(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "with_a_long_sentence.nmea"
    path.write_bytes(
        L1
        + b"\n"
        + sentence(b"8" + b"1" * (2 << 20), b",r003669946,1325394060")
        + b"\n"
        + L2
        + b"\n"
    )
    (report,) = ingest_paths(store, [path]).sources
    assert report.rejects["line_too_long"] == 1
    assert report.first_reject_line["line_too_long"] == 2
    assert report.counts["lines"] == 3
    row = store.con.execute(
        "SELECT (SELECT max(length(payload)) FROM ais_other), "
        "(SELECT count(*) FROM ais_positions) + (SELECT count(*) FROM ais_other)"
    ).fetchone()
    assert row is not None and row[0] < 100 and row[1] == 2
    stored = store.con.execute("SELECT rejects FROM ais_ingests").fetchone()
    assert stored is not None and '"line_too_long": 1' in stored[0]


def test_a_file_of_one_long_line_is_refused_saying_why(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "one_long_line.nmea"
    path.write_bytes(sentence(b"1" * 100_000))
    try:
        ingest_paths(store, [path])
    except Exception as exc:  # noqa: BLE001 - asserted below
        assert f"longer than {MAX_LINE_BYTES} bytes" in str(exc)
    else:
        raise AssertionError("a file with nothing but an over-long line was accepted")


def test_csv_on_standard_input_is_streamed_and_equals_the_file(store: Store) -> None:
    path = AIS / "aisdb" / "test_data_noaa_20230101.csv.gz"

    class OneReadOnly(io.BytesIO):
        """Standard input that must never be read whole (as the old code did)."""

        def read(self, size: int | None = -1) -> bytes:
            assert size is not None and size >= 0, "standard input read whole"
            return super().read(size)

    from_stdin = ingest_stream(store, OneReadOnly(gzip.decompress(path.read_bytes()))).sources[0]
    other = Store(":memory:")
    try:
        from_file = ingest_paths(other, [path]).sources[0]
        assert from_stdin.format == from_file.format == "csv:noaa"
        assert from_stdin.counts == from_file.counts and from_stdin.rejects == from_file.rejects
        q = "SELECT mmsi, time, lat, lon FROM ais_positions ORDER BY msg_id"
        assert store.con.execute(q).fetchall() == other.con.execute(q).fetchall()
    finally:
        other.close()
