"""NMEA framing: tag blocks, receiver metadata, $PGHP, fragments, and counted bad lines."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from watchkeeper.io import read_bytes
from watchkeeper.movement.ais.nmea import (
    NO_TIME,
    FramedMessages,
    NmeaFramer,
    Pghp,
    Reject,
    Sentence,
    intern_ranges,
    nmea_checksum,
    parse_line,
    range_xor,
)

# Real sentences (libais test.aivdm lines 30-33: two 2-part type 5 messages, USCG metadata).
A1 = b"!AIVDM,2,1,3,B,55NBjP01mtGIL@CW;SM<D60P5Ld000000000000P0`<3557l0<50@kk@,0*66,b003669976,1272672016"
A2 = b"!AIVDM,2,2,3,B,K5h@00000000000,2*72,b003669976,1272672016"
B1 = b"!AIVDM,2,1,1,A,55>u@H02;lGc<Ha;L0084i<7GR22222222222216:PE885AU0A4l13H13kBC,0*3D,rCUDJOE_01,1272672306"
B2 = b"!AIVDM,2,2,1,A,R@hC`4QD;`0,2*06,rCUDJOE_01,1272672306"
# Real single sentence with a tag block (aisdb test_data_20211101.nm4, line 4).
TAGGED = b"\\s:41925,c:1635731889,t:1635731965*66\\!AIVDM,1,1,,,15Di=4002i<chWiba2`rPpD:04;`,0*37"


def frame(data: bytes, *, vectorised: bool = True) -> tuple[FramedMessages, NmeaFramer]:
    framer = NmeaFramer(vectorised=vectorised)
    fm = framer.feed(data)
    rest = framer.finish()
    assert len(rest) == 0 or len(fm) == 0 or data.endswith(b"\n") is False
    return (fm if len(fm) else rest), framer


def messages(fm: FramedMessages) -> list[tuple[int, int, str | None, bytes, int]]:
    return [
        (
            int(fm.line[i]),
            int(fm.time_us[i]),
            fm.sources[fm.source_code[i]] if fm.source_code[i] >= 0 else None,
            fm.payload_bytes(i),
            int(fm.fill[i]),
        )
        for i in range(len(fm))
    ]


def us(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1_000_000)


def test_tag_block_gives_time_and_source() -> None:
    fm, framer = frame(TAGGED + b"\n")
    assert messages(fm) == [
        (1, 1635731889 * 1_000_000, "41925", b"15Di=4002i<chWiba2`rPpD:04;`", 0)
    ]
    assert not framer.rejects


def test_tag_block_group_joins_fragments() -> None:
    path = shared_path("ais", "aisdb", "test_data_20211101.nm4")
    lines = read_bytes(path).splitlines()[59:61]  # real g:1-2-3454 / g:2-2-3454 pair
    fm, framer = frame(b"\n".join(lines) + b"\n")
    assert len(fm) == 1 and framer.counts["multipart_messages"] == 1
    assert fm.time_us[0] == 1635731893 * 1_000_000
    assert fm.sources[fm.source_code[0]] == "41925"
    assert fm.payload_bytes(0).endswith(b"SQH888888888880") and fm.fill[0] == 2


def test_receiver_metadata_time_and_station() -> None:
    fm, _ = frame(A1 + b"\n" + A2 + b"\n")
    ((line, t, source, payload, fill),) = messages(fm)
    assert (line, t, source, fill) == (1, 1272672016 * 1_000_000, "b003669976", 2)
    assert payload == A1.split(b",")[5] + A2.split(b",")[5]


def test_interleaved_fragments_are_joined() -> None:
    fm, framer = frame(b"\n".join([A1, B1, A2, B2]) + b"\n")
    assert [m[0] for m in messages(fm)] == [1, 2]  # by the line of the first fragment
    assert not framer.rejects


def test_missing_and_orphan_fragments_are_counted() -> None:
    # A1 never completed (a new A1 reuses the slot), then B2 with no B1: hand-made orders.
    fm, framer = frame(b"\n".join([A1, A1, A2, B2]) + b"\n")
    assert len(fm) == 1
    assert framer.rejects == {"missing_fragment": 1, "orphan_fragment": 1}
    assert framer.first_reject_line == {"missing_fragment": 1, "orphan_fragment": 4}
    fm, framer = frame(B1 + b"\n")  # the stream ends before fragment 2
    assert len(fm) == 0 and framer.rejects == {"missing_fragment": 1}


def test_pghp_times_the_next_message() -> None:
    path = shared_path("ais", "pyais", "timestamped.ais")
    fm, framer = frame(read_bytes(path))
    t = fm.time_us.tolist()
    assert t[0] == us(2008, 5, 9) + 10_000  # $PGHP,1,2008,5,9,0,0,0,10
    assert t[1:] == [NO_TIME] * 3  # line 7's $PGHP has a bad checksum (2009 vs *17)
    assert framer.rejects == {"bad_checksum": 1}
    assert framer.counts["pghp_lines"] == 3


def test_bad_lines_are_counted_by_reason() -> None:
    # Hand-made damage to real lines, one reason each.
    good = b"!AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,0*70"
    body = b"AIVDM,1,1,,A,15B4FT5000JRP>PE6E68Nbkl0PS5,7"
    cases = {
        good[:-1] + b"1": "bad_checksum",
        b"!" + body + b"*%02X" % nmea_checksum(body): "bad_fill_bits",
        b"!AIVDM,1,1,,A,,0*26": "empty_payload",
        b"!AIVDM,1,1,,A,15B4FT50": "truncated_sentence",
        b"$GPGGA,1*%02X" % nmea_checksum(b"GPGGA,1"): "unknown_sentence",
        b"hello world": "garbage_line",
        b"\\c:12*00\\" + good: "bad_tag_block",
        b"!AIVDM,3,4,,A,15B4,0*%02X"
        % nmea_checksum(b"AIVDM,3,4,,A,15B4,0"): "bad_fragment_numbers",
    }
    for line, reason in cases.items():
        assert parse_line(line) == Reject(reason), line
        fm, framer = frame(line + b"\n" + good + b"\n")
        assert framer.rejects == {reason: 1}, line
        assert len(fm) == 1
    assert isinstance(parse_line(good), Sentence)
    assert parse_line(b"$PGHP,1,2008,5,9,0,0,0,10,338,2,,1,09*17") == Pghp(us(2008, 5, 9) + 10_000)


def test_chunks_give_the_same_messages() -> None:
    data = read_bytes(shared_path("ais", "aisdb", "test_data_20211101.nm4"))
    whole, _ = frame(data)
    framer = NmeaFramer()
    parts = [framer.feed(data[i : i + 1000]) for i in range(0, len(data), 1000)]
    parts.append(framer.finish())
    chunked = [m for p in parts for m in messages(p)]
    assert chunked == messages(whole)


def _sample_lines() -> list[bytes]:
    lines: list[bytes] = []
    for folder, name in [
        ("aisdb", "test_data_201201.nmea"),
        ("aisdb", "test_data_20211101.nm4"),
        ("pyais", "timestamped.ais"),
        ("libais", "test.aivdm"),
    ]:
        lines += read_bytes(shared_path("ais", folder, name)).splitlines()[:120]
    return lines


_MUTATIONS = st.lists(
    st.tuples(
        st.integers(0, 10_000),  # which line
        st.sampled_from(["replace", "delete", "insert", "truncate", "duplicate", "swap"]),
        st.integers(0, 200),  # where in the line
        st.sampled_from(list(b"!$\\*,0123456789AB:@`wx \r\xff")),
    ),
    max_size=12,
)


def _mutate(lines: list[bytes], mutations: list[tuple[int, str, int, int]]) -> list[bytes]:
    out = list(lines)
    for which, kind, pos, byte in mutations:
        i = which % len(out)
        line = out[i]
        p = pos % (len(line) + 1)
        if kind == "replace" and line:
            out[i] = line[: p % len(line)] + bytes([byte]) + line[p % len(line) + 1 :]
        elif kind == "delete":
            out[i] = line[:p] + line[p + 1 :]
        elif kind == "insert":
            out[i] = line[:p] + bytes([byte]) + line[p:]
        elif kind == "truncate":
            out[i] = line[:p]
        elif kind == "duplicate":
            out.insert(i, line)
        elif kind == "swap" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations=_MUTATIONS, start=st.integers(0, 400), size=st.integers(1, 80))
def test_vectorised_framing_equals_reference_on_mutated_real_lines(
    mutations: list[tuple[int, str, int, int]], start: int, size: int
) -> None:
    """On damaged real input, the NumPy fast path and the per-line reference agree exactly."""
    lines = _sample_lines()
    window = lines[start % len(lines) :][:size] or lines[:size]
    data = b"\n".join(_mutate(window, mutations)) + b"\n"
    fast, f1 = frame(data)
    slow, f2 = frame(data, vectorised=False)
    assert messages(fast) == messages(slow)
    assert f1.rejects == f2.rejects
    assert f1.first_reject_line == f2.first_reject_line
    assert f1.counts == f2.counts
    assert f1.ais_lines == f2.ais_lines
    # every non-blank, non-comment line is a sentence or a counted reject
    assert (
        f1.counts["sentences"]
        + f1.counts["pghp_lines"]
        + sum(n for r, n in f1.rejects.items() if r not in ("missing_fragment", "orphan_fragment"))
        + f1.counts["blank_lines"]
        + f1.counts["comment_lines"]
        == f1.counts["lines"]
    )
    # and every message's payload is one the input holds
    for m in messages(fast):
        assert np.all(np.frombuffer(m[3], np.uint8) != 10)


@settings(max_examples=50, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=400),
    ranges=st.lists(st.tuples(st.integers(0, 400), st.integers(0, 90)), min_size=1, max_size=40),
)
def test_vectorised_helpers_equal_plain_python(data: bytes, ranges: list[tuple[int, int]]) -> None:
    """Checksums 8 bytes at a time and grouping of equal texts: same as byte by byte."""
    buf = np.frombuffer(data + b"\0" * 80, dtype=np.uint8)
    starts = np.array([min(a, len(data)) for a, _ in ranges], dtype=np.int64)
    ends = np.array([min(a + n, len(data)) for a, n in ranges], dtype=np.int64)
    xor = range_xor(buf, starts, ends)
    assert xor.tolist() == [nmea_checksum(data[a:b]) for a, b in zip(starts, ends, strict=True)]
    codes, texts = intern_ranges(data, buf, starts, ends)
    assert [texts[c] for c in codes] == [data[a:b] for a, b in zip(starts, ends, strict=True)]
    assert len(texts) == len(set(texts))
