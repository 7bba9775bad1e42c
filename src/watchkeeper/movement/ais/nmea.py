"""NMEA 0183 framing of AIS: sentences, checksums, tag blocks, receiver metadata, multi-part.

One line of an AIS log can carry, around the ``!AIVDM``/``!AIVDO`` sentence itself:

- an NMEA 4.10 tag block before it, ``\\s:station,c:unixtime,g:1-2-77*hh\\`` (``c:``
  source time, ``t:`` text that feeds use for a time, ``s:`` source, ``g:`` group);
- receiver metadata after it, as in the USCG/NAIS logs,
  ``...*hh,d-109,S2105,t050056.00,T56.1,r003669946,1325394060``, whose first Unix
  time is the receive time and whose ``r``/``b`` field names the station;
- a Gatehouse ``$PGHP,1,<yyyy>,<m>,<d>,<h>,<m>,<s>,<ms>,...`` line before the message
  it timestamps.

:class:`NmeaFramer` turns bytes into whole messages (fragments joined) with their time
and source. The common line shapes are framed with NumPy over the whole buffer at
once; every other line goes through :func:`parse_line`, the plain-Python reference
that defines what a valid line is. Nothing is dropped without a count: every line
that does not become (part of) a message is counted under a reason in ``rejects``.
Times are integer microseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import numpy as np
import numpy.typing as npt

NO_TIME: Final = np.iinfo(np.int64).min  # "no time" in int64 microsecond arrays

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
I32 = npt.NDArray[np.int32]
B = npt.NDArray[np.bool_]

# Unix times accepted from tag blocks and receiver metadata: 1990-01-01 .. 2100-01-01.
_MIN_UNIX_S: Final = 631152000
_MAX_UNIX_S: Final = 4102444800

_PAD: Final = 72  # zero bytes after a buffer, so look-ahead (up to 64 bytes) never leaves it
# The longest line framed, in bytes (without its line break and trailing whitespace).
# A sentence is at most 82 characters (NMEA 0183); the rest is room for a tag block in
# front and receiver metadata behind. A longer line is rejected as ``line_too_long``
# and never kept whole in memory, however long it is.
MAX_LINE_BYTES: Final = 512
# At most about this many lines are framed at once: the framer's working arrays cost
# some hundred bytes a line, so a chunk of many lines is framed in pieces of about this
# many lines (whole blocks of _PIECE_BLOCK bytes), and a piece of whitespace only (a
# run of blank lines) is just counted.
FRAME_LINES: Final = 1 << 16
_PIECE_BLOCK: Final = 1 << 16
_HEX = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"0123456789ABCDEF"):
    _HEX[_c] = _i
for _i, _c in enumerate(b"abcdef"):
    _HEX[_c] = 10 + _i

_ALNUM = np.zeros(256, dtype=bool)
for _c in b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _ALNUM[_c] = True
_WHITESPACE = np.zeros(256, dtype=bool)
for _c in b" \t\n\r\x0b\x0c":
    _WHITESPACE[_c] = True

# Reasons a line or fragment is not turned into a message (keys of ``rejects``).
REJECT_REASONS: Final = {
    "bad_checksum": "the sentence checksum does not match its contents",
    "bad_tag_block": "an NMEA 4.10 tag block that is unterminated, malformed or fails its checksum",
    "bad_sentence_fields": "an AIVDM/AIVDO sentence without its 7 fields, or with a malformed one",
    "bad_fragment_numbers": "fragment count/number not 1-9, or number above count",
    "bad_fill_bits": "fill bits not a digit 0-5",
    "empty_payload": "a sentence with an empty payload",
    "truncated_sentence": "a sentence cut before its '*hh' checksum",
    "unknown_sentence": "an NMEA sentence that is not AIS (not VDM/VDO, not $PGHP type 1)",
    "bad_pghp": "a $PGHP timestamp line with an impossible date or time",
    "garbage_line": "a line that is not an NMEA sentence at all",
    "line_too_long": f"a line longer than {MAX_LINE_BYTES} bytes (a sentence is at most 82)",
    "orphan_fragment": "a fragment of a multi-part message whose earlier fragments never came",
    "missing_fragment": "a multi-part message dropped because a later fragment never came",
}


@dataclass(frozen=True)
class TagBlock:
    """What a tag block says: time (us since epoch, UTC), source station, group."""

    time_us: int | None = None
    source: str | None = None
    group: tuple[int, int, int] | None = None  # (sentence number, total, group id)


@dataclass(frozen=True)
class Sentence:
    """One well-formed ``!xxVDM``/``!xxVDO`` sentence (a whole message or one fragment)."""

    total: int
    number: int
    seq_id: str
    channel: str
    payload: bytes
    fill: int
    time_us: int | None  # from the tag block or the receiver metadata
    source: str | None
    group: tuple[int, int, int] | None


@dataclass(frozen=True)
class Pghp:
    """A Gatehouse ``$PGHP,1`` line: the time of the message that follows."""

    time_us: int


@dataclass(frozen=True)
class Skip:
    """A blank or ``#`` comment line: not data, not an error."""

    kind: str  # "blank" | "comment"


@dataclass(frozen=True)
class Reject:
    reason: str


LineResult = Sentence | Pghp | Skip | Reject


def _hex2(text: bytes) -> int | None:
    """Two hexadecimal digits, nothing else."""
    if len(text) != 2 or _HEX[text[0]] == 255 or _HEX[text[1]] == 255:
        return None
    return int(_HEX[text[0]]) * 16 + int(_HEX[text[1]])


def looks_like_ais(line: bytes) -> bool:
    """A line that is meant to be AIS (even if broken): an AIVDM/AIVDO or $PGHP sentence."""
    return b"VDM," in line or b"VDO," in line or b"PGHP," in line


def nmea_checksum(body: bytes) -> int:
    """XOR of every byte between the start delimiter and ``*``."""
    value = 0
    for b in body:
        value ^= b
    return value


def _unix_time_us(text: str) -> int | None:
    """A Unix time in seconds (or milliseconds, 13 digits) as microseconds, if plausible."""
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value:  # NaN
        return None
    if value > _MAX_UNIX_S * 10:  # milliseconds
        value /= 1000.0
    if not _MIN_UNIX_S <= value <= _MAX_UNIX_S:
        return None
    return round(value * 1_000_000)


_TAG_CACHE: dict[bytes, TagBlock | None] = {}


def parse_tag_block(raw: bytes) -> TagBlock | None:
    """The contents between the two backslashes; None when malformed or its checksum fails."""
    cached = _TAG_CACHE.get(raw, False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    result = _parse_tag_block(raw)
    if len(_TAG_CACHE) > 65536:
        _TAG_CACHE.clear()
    _TAG_CACHE[raw] = result
    return result


def _parse_tag_block(raw: bytes) -> TagBlock | None:
    body, star, check = raw.rpartition(b"*")
    expected = _hex2(check)
    if not star or expected is None or not raw.isascii() or nmea_checksum(body) != expected:
        return None
    time_us: int | None = None
    text_time: int | None = None
    source: str | None = None
    group: tuple[int, int, int] | None = None
    for item in body.decode("ascii").split(","):
        code, colon, value = item.partition(":")
        if not colon:
            return None
        if code == "c":
            time_us = _unix_time_us(value)
            if time_us is None:
                return None
        elif code == "t":
            text_time = _unix_time_us(value)  # 't' is free text; feeds often put a time there
        elif code == "s":
            source = value or None
        elif code == "g":
            parts = value.split("-")
            if len(parts) != 3 or not all(p.isdigit() for p in parts):
                return None
            group = (int(parts[0]), int(parts[1]), int(parts[2]))
    return TagBlock(time_us if time_us is not None else text_time, source, group)


def parse_receiver_metadata(meta: bytes) -> tuple[int | None, str | None]:
    """Fields after the checksum (USCG style): the first plausible Unix time (a field of
    9-13 digits; 13 = milliseconds) and the station (``r``/``b``/``B`` + letters/digits)."""
    time_us: int | None = None
    station: str | None = None
    for item in meta.split(b","):
        if time_us is None and 9 <= len(item) <= 13 and item.isdigit():
            time_us = _unix_time_us(item.decode("ascii"))
        elif (
            station is None
            and 2 <= len(item) <= 24
            and item[:1] in (b"r", b"b", b"B")
            and item[1:].isalnum()
        ):
            station = item.decode("ascii")
    return time_us, station


def _first_per_owner(owner: I64) -> tuple[I64, I64]:
    """For a non-decreasing ``owner`` array: each owner and the index of its first entry."""
    if not len(owner):
        return owner, owner
    first = np.flatnonzero(np.diff(owner, prepend=owner[0] - 1))
    return owner[first], first


def receiver_metadata_columns(
    buf: U8, commas: I64, comma_at: I64, ends: I64
) -> tuple[I64, I64, I64]:
    """:func:`parse_receiver_metadata` for many lines at once.

    ``comma_at[i]`` is the comma after line i's checksum, ``ends[i]`` its end; returns
    the time (``NO_TIME`` if none) and the station field's byte range (-1 if none).
    """
    n = len(comma_at)
    k0 = np.searchsorted(commas, comma_at)
    k1 = np.searchsorted(commas, ends)
    counts = k1 - k0
    owner = np.repeat(np.arange(n), counts)
    kk = np.repeat(k0 - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))
    fs = commas[kk] + 1
    fe = np.minimum(commas[np.minimum(kk + 1, len(commas) - 1)], ends[owner])
    length = fe - fs
    time_us = np.full(n, NO_TIME, dtype=np.int64)
    ci = np.flatnonzero((length >= 9) & (length <= 13))
    if len(ci):
        value = np.zeros(len(ci), dtype=np.int64)
        digits = np.ones(len(ci), dtype=bool)
        for j in range(13):
            inside = j < length[ci]
            ch = buf[fs[ci] + j].astype(np.int64)
            digits &= ~inside | ((ch >= 48) & (ch <= 57))
            value = np.where(inside, value * 10 + ch - 48, value)
        seconds = value.astype(np.float64)
        seconds = np.where(seconds > _MAX_UNIX_S * 10, seconds / 1000.0, seconds)
        good = digits & (seconds >= _MIN_UNIX_S) & (seconds <= _MAX_UNIX_S)
        owners, first = _first_per_owner(owner[ci[good]])
        time_us[owners] = np.round(seconds[good][first] * 1_000_000).astype(np.int64)
    station_start = np.full(n, -1, dtype=np.int64)
    station_end = np.full(n, -1, dtype=np.int64)
    head = buf[np.minimum(fs, len(buf) - 1)]
    si = np.flatnonzero(
        (length >= 2) & (length <= 24) & ((head == 114) | (head == 98) | (head == 66))
    )
    if len(si):
        alnum = np.ones(len(si), dtype=bool)
        for j in range(1, 24):
            inside = j < length[si]
            alnum &= ~inside | _ALNUM[buf[fs[si] + j]]
        owners, first = _first_per_owner(owner[si[alnum]])
        station_start[owners] = fs[si[alnum]][first]
        station_end[owners] = fe[si[alnum]][first]
    return time_us, station_start, station_end


def parse_pghp(body: bytes) -> LineResult:
    """``PGHP,1,yyyy,m,d,h,m,s,ms,...`` (checksum already verified): the Gatehouse time."""
    fields = body.split(b",")
    if len(fields) < 2 or fields[1] != b"1":
        return Reject("unknown_sentence")
    try:
        year, month, day, hour, minute, second, ms = (int(f) for f in fields[2:9])
        moment = datetime(year, month, day, hour, minute, second, ms * 1000, tzinfo=UTC)
    except (ValueError, TypeError):
        return Reject("bad_pghp")
    seconds = int(moment.timestamp())
    if not _MIN_UNIX_S <= seconds <= _MAX_UNIX_S:
        return Reject("bad_pghp")
    return Pghp(seconds * 1_000_000 + ms * 1000)


def parse_line(raw: bytes, max_line_bytes: int = MAX_LINE_BYTES) -> LineResult:
    """The reference parser for one line (without its line break). Never raises."""
    line = raw.strip()
    if not line:
        return Skip("blank")
    if len(raw.rstrip()) > max_line_bytes:
        return Reject("line_too_long")
    if line[:1] == b"#":
        return Skip("comment")
    tag: TagBlock | None = None
    if line[:1] == b"\\":
        end = line.find(b"\\", 1)
        if end < 0:
            return Reject("bad_tag_block")
        tag = parse_tag_block(line[1:end])
        if tag is None:
            return Reject("bad_tag_block")
        line = line[end + 1 :]
    start = line[:1]
    if start not in (b"!", b"$"):
        return Reject("garbage_line")
    star = line.find(b"*")
    if star < 0 or len(line) < star + 3:
        if start == b"!" and line[3:6] not in (b"VDM", b"VDO"):
            return Reject("unknown_sentence" if line[1:6].isalpha() else "garbage_line")
        return Reject("truncated_sentence")
    body = line[1:star]
    expected = _hex2(line[star + 1 : star + 3])
    if expected is None or nmea_checksum(body) != expected:
        return Reject("bad_checksum")
    rest = line[star + 3 :]
    if rest and rest[:1] != b",":
        return Reject("bad_sentence_fields")
    if start == b"$":
        if body[:5] == b"PGHP,":
            return parse_pghp(body)
        return Reject("unknown_sentence")
    fields = body.split(b",")
    kind = fields[0]
    if len(kind) != 5 or kind[2:] not in (b"VDM", b"VDO"):
        return Reject("unknown_sentence")
    if len(fields) != 7:
        return Reject("bad_sentence_fields")
    total_f, number_f, seq_f, channel_f, payload, fill_f = fields[1:]
    if not (len(total_f) == 1 and len(number_f) == 1 and total_f.isdigit() and number_f.isdigit()):
        return Reject("bad_fragment_numbers")
    total, number = int(total_f), int(number_f)
    if not (1 <= total <= 9 and 1 <= number <= total):
        return Reject("bad_fragment_numbers")
    if seq_f and not seq_f.isdigit():
        return Reject("bad_sentence_fields")
    if len(fill_f) != 1 or fill_f not in b"012345":
        return Reject("bad_fill_bits")
    if not payload:
        return Reject("empty_payload")
    time_us: int | None = tag.time_us if tag else None
    source: str | None = tag.source if tag else None
    if rest:
        meta_time, station = parse_receiver_metadata(rest[1:])
        if time_us is None:
            time_us = meta_time
        if source is None:
            source = station
    return Sentence(
        total=total,
        number=number,
        seq_id=seq_f.decode("ascii"),
        channel=channel_f.decode("ascii", "replace"),
        payload=payload,
        fill=int(fill_f),
        time_us=time_us,
        source=source,
        group=tag.group if tag else None,
    )


@dataclass
class FramedMessages:
    """Whole AIS messages framed from NMEA, in input order (line of their first fragment).

    ``payload[start[i]:start[i]+length[i]]`` is message i's armoured payload; its times
    are microseconds since the epoch (``NO_TIME`` when the input gives none);
    ``source_code`` indexes ``sources`` (-1: no source).
    """

    line: I64
    time_us: I64
    source_code: I32
    payload: U8
    start: I64
    length: I64
    fill: U8
    sources: list[str]

    def __len__(self) -> int:
        return len(self.line)

    def payload_bytes(self, i: int) -> bytes:
        s = int(self.start[i])
        return self.payload[s : s + int(self.length[i])].tobytes()

    @staticmethod
    def empty(sources: list[str] | None = None) -> FramedMessages:
        return FramedMessages(
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int32),
            np.empty(0, np.uint8),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.uint8),
            list(sources or []),
        )

    @staticmethod
    def concat(parts: list[FramedMessages], sources: list[str]) -> FramedMessages:
        """Messages framed piece by piece, as one batch (payload offsets shifted)."""
        if not parts:
            return FramedMessages.empty(sources)
        if len(parts) == 1:
            return parts[0]
        shift = np.cumsum([0] + [len(p.payload) for p in parts[:-1]]).astype(np.int64)
        return FramedMessages(
            np.concatenate([p.line for p in parts]),
            np.concatenate([p.time_us for p in parts]),
            np.concatenate([p.source_code for p in parts]),
            np.concatenate([p.payload for p in parts]),
            np.concatenate([p.start + k for p, k in zip(parts, shift.tolist(), strict=True)]),
            np.concatenate([p.length for p in parts]),
            np.concatenate([p.fill for p in parts]),
            sources,
        )


@dataclass
class _Pending:
    first_line: int
    fragments: list[Sentence]
    fallback_time_us: int


@dataclass
class _Seq:
    """Messages assembled in Python (multi-part, and single lines of unusual shape)."""

    line: list[int] = field(default_factory=list)
    time_us: list[int] = field(default_factory=list)
    source: list[int] = field(default_factory=list)
    payload: list[bytes] = field(default_factory=list)
    fill: list[int] = field(default_factory=list)


@dataclass
class _Tags:
    """Per line: tag block valid, its time, source code and group (-1s when none)."""

    ok: B
    time_us: I64
    source_code: I32
    group: I64  # (n, 3)


@dataclass
class _Lines:
    """Line boundaries of a buffer (``buf`` has padding after the data for look-ahead)."""

    buf: U8
    starts: I64
    ends: I64  # exclusive, without the line break and a trailing CR
    length: I64
    first: U8  # first byte of each line

    @staticmethod
    def split(data: bytes, n: int) -> _Lines:
        """The lines of ``data[:n]`` (copied once into a padded buffer)."""
        buf = np.zeros(n + 1 + _PAD, dtype=np.uint8)
        buf[:n] = np.frombuffer(data, dtype=np.uint8, count=n)
        buf[n] = 10
        ends = np.flatnonzero(buf[: n + 1] == 10).astype(np.int64)
        starts = np.empty_like(ends)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        if n and data[n - 1] == 10:  # the sentinel line break made one empty line too many
            starts, ends = starts[:-1], ends[:-1]
        while True:  # trailing whitespace, as bytes.strip() removes it
            trailing = (ends > starts) & _WHITESPACE[buf[np.maximum(ends - 1, 0)]]
            if not trailing.any():
                break
            ends = ends - trailing
        return _Lines(buf, starts, ends, ends - starts, buf[starts])


@dataclass
class _FastShape:
    """Lines of the common shape: ``[\\tag\\]!xxVDx,t,n,[s],[c],payload,f*hh[,meta]``.

    Everything here is decided over all lines at once; a line that is not of this
    exact shape is left to :func:`parse_line`, which gives the same answer slower.
    """

    ok: B
    has_tag: B
    tag_end: I64
    c2: I64
    c3: I64
    c4: I64
    c5: I64
    total: I64
    number: I64
    fill: U8
    checksum_ok: B
    commas: I64  # every comma of the buffer, then padding
    empty: B  # of the shape, but with an empty payload

    @staticmethod
    def none(lines: _Lines) -> _FastShape:
        n = len(lines.starts)
        z = np.zeros(n, dtype=np.int64)
        f = np.zeros(n, dtype=bool)
        return _FastShape(f, f, z, z, z, z, z, z, z, np.zeros(n, np.uint8), f, z[:0], f)

    @staticmethod
    def find(lines: _Lines) -> _FastShape:
        buf, starts, ends, first = lines.buf, lines.starts, lines.ends, lines.first
        n_bytes = int(len(buf) - 1 - _PAD)
        nonempty = lines.length > 0
        has_tag = (first == 92) & nonempty
        tag_end = _next_at_or_after(np.flatnonzero(buf[:n_bytes] == 92), starts + 1, n_bytes)
        tag_ok = has_tag & (tag_end < ends)
        ss = np.where(tag_ok, tag_end + 1, starts)  # where the sentence starts
        ok = (((first == 33) & nonempty) | tag_ok) & (ends - ss >= 16)
        ssc = np.minimum(ss, n_bytes)
        ok &= (buf[ssc] == 33) & (buf[ssc + 3] == 86) & (buf[ssc + 4] == 68)
        ok &= (buf[ssc + 5] == 77) | (buf[ssc + 5] == 79)
        commas = np.flatnonzero(buf[:n_bytes] == 44).astype(np.int64)
        commas = np.concatenate([commas, np.full(6, n_bytes, dtype=np.int64)])
        k = np.minimum(np.searchsorted(commas, ss), len(commas) - 6)
        c0, c1, c2, c3, c4, c5 = (commas[k + j] for j in range(6))
        ok &= (c0 == ss + 6) & (c1 == c0 + 2) & (c2 == c1 + 2)
        ok &= ((c3 - c2) == 1) | ((c3 - c2) == 2)
        ok &= ((c4 - c3) == 1) | ((c4 - c3) == 2)
        ok &= (c5 > c4) & (c5 + 5 <= ends)  # a payload (maybe empty), then 'f*hh'
        total = buf[c0 + 1].astype(np.int64) - 48
        number = buf[c1 + 1].astype(np.int64) - 48
        ok &= (total >= 1) & (total <= 9) & (number >= 1) & (number <= total)
        seq_char = buf[c2 + 1]
        ok &= ((c3 - c2) == 1) | ((seq_char >= 48) & (seq_char <= 57))
        fill = buf[c5 + 1].astype(np.int64) - 48
        ok &= (fill >= 0) & (fill <= 5) & (buf[c5 + 2] == 42)
        # the first '*' of the sentence must be the checksum's
        first_star = _next_at_or_after(np.flatnonzero(buf[:n_bytes] == 42), ss, n_bytes)
        ok &= first_star == c5 + 2
        hi, lo = _HEX[buf[c5 + 3]], _HEX[buf[c5 + 4]]
        ok &= (hi != 255) & (lo != 255)
        ok &= (c5 + 5 == ends) | (buf[c5 + 5] == 44)
        body_xor = range_xor(buf, ssc + 1, np.minimum(c5 + 2, n_bytes))
        checksum_ok = ok & (body_xor == (hi.astype(np.int64) * 16 + lo))
        empty = ok & (c5 == c4 + 1)
        return _FastShape(
            ok,
            has_tag,
            tag_end,
            c2,
            c3,
            c4,
            c5,
            total,
            number,
            np.where(ok, fill, 0).astype(np.uint8),
            checksum_ok,
            commas,
            empty,
        )


# _BYTE_MASK[s, e]: a uint64 whose bytes s..e-1 (little-endian) are 0xFF.
_BYTE_MASK = np.zeros((9, 9), dtype=np.uint64)
for _s in range(9):
    for _e in range(_s, 9):
        _BYTE_MASK[_s, _e] = np.uint64(((1 << (8 * _e)) - 1) ^ ((1 << (8 * _s)) - 1))


def range_xor(buf: U8, a: I64, b: I64) -> I64:
    """XOR of the bytes ``buf[a[i]:b[i]]`` for every i (the NMEA checksum), 8 bytes a step.

    ``buf`` must have 8 spare bytes after the last range (the framer pads it).
    """
    n_words = len(buf) // 8
    words = buf[: n_words * 8].view("<u8")
    prefix = np.bitwise_xor.accumulate(words)  # prefix[k] = words[0] ^ ... ^ words[k]
    wa, wb = a // 8, b // 8
    sa, sb = a % 8, b % 8
    same = wa == wb
    head = words[wa] & _BYTE_MASK[sa, np.where(same, sb, 8)]
    middle = np.where(wb - 1 > wa, prefix[np.maximum(wb - 1, 0)] ^ prefix[wa], np.uint64(0))
    tail = np.where(same, np.uint64(0), words[np.minimum(wb, n_words - 1)] & _BYTE_MASK[0, sb])
    x = head ^ middle ^ tail
    x ^= x >> np.uint64(32)
    x ^= x >> np.uint64(16)
    x ^= x >> np.uint64(8)
    return (x & np.uint64(0xFF)).astype(np.int64)


# Odd 64-bit multipliers for hashing up to 8 words of text plus its length.
_HASH_MULT = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD,
        0xC4CEB9FE1A85EC53,
        0x2545F4914F6CDD1D,
        0x94D049BB133111EB,
        0xBF58476D1CE4E5B9,
    ],
    dtype=np.uint64,
)


def intern_ranges(data: bytes, buf: U8, starts: I64, ends: I64) -> tuple[I64, list[bytes]]:
    """Distinct texts among ``data[starts[i]:ends[i]]``: (code per range, texts by code).

    Ranges of up to 64 bytes are grouped with NumPy (a hash, then an exact comparison
    with the group's first member); longer ones, and any hash collision, one by one.
    """
    n = len(starts)
    lengths = ends - starts
    codes = np.full(n, -1, dtype=np.int64)
    texts: list[bytes] = []
    index: dict[bytes, int] = {}

    def code_of(text: bytes) -> int:
        code = index.get(text)
        if code is None:
            code = index[text] = len(texts)
            texts.append(text)
        return code

    short = np.flatnonzero(lengths <= 64)
    if len(short):
        width = max(8, -(-int(lengths[short].max()) // 8) * 8)
        cols = np.arange(width, dtype=np.int64)
        windows = np.lib.stride_tricks.sliding_window_view(buf, width)
        raw = windows[np.minimum(starts[short], len(windows) - 1)]
        raw = np.where(cols[None, :] < lengths[short, None], raw, 0).astype(np.uint8)
        key = np.concatenate(
            [np.ascontiguousarray(raw).view("<u8"), lengths[short, None].astype(np.uint64)], axis=1
        )
        h = (key * _HASH_MULT[: key.shape[1]]).sum(axis=1, dtype=np.uint64)
        _, first, inverse = np.unique(h, return_index=True, return_inverse=True)
        exact = (key == key[first[inverse]]).all(axis=1)
        rep_codes = np.array(
            [code_of(data[int(starts[short[r]]) : int(ends[short[r]])]) for r in first.tolist()],
            dtype=np.int64,
        )
        codes[short[exact]] = rep_codes[inverse[exact]]
    for i in np.flatnonzero(codes < 0).tolist():
        codes[i] = code_of(data[int(starts[i]) : int(ends[i])])
    return codes, texts


def _next_at_or_after(positions: I64, at: I64, default: int) -> I64:
    """For each of ``at``, the first of the sorted ``positions`` >= it (else ``default``)."""
    padded = np.concatenate([positions.astype(np.int64), [default]])
    return padded[np.minimum(np.searchsorted(positions, at), len(positions))]


class NmeaFramer:
    """Frames a stream of NMEA bytes into messages; keeps multi-part state between feeds.

    ``feed`` takes any chunk of bytes (a trailing partial line is kept for the next
    chunk); ``finish`` flushes what is left. ``counts`` and ``rejects`` add up over
    the whole stream; ``first_reject_line`` keeps the first line of each reason.
    """

    def __init__(
        self,
        *,
        vectorised: bool = True,
        max_line_bytes: int = MAX_LINE_BYTES,
        frame_lines: int = FRAME_LINES,
    ) -> None:
        self.vectorised = vectorised  # False: every line through parse_line (for tests)
        self.max_line_bytes = max_line_bytes
        self.frame_lines = frame_lines
        self._discarding = False  # inside a line already rejected as too long
        self.counts: Counter[str] = Counter()
        self.rejects: Counter[str] = Counter()
        self.first_reject_line: dict[str, int] = {}
        self.sources: list[str] = []
        self._source_codes: dict[str, int] = {}
        self._pending: dict[tuple[object, ...], _Pending] = {}
        self._pghp_carry: int | None = None  # a $PGHP time waiting for its message
        self._tail = b""
        self._lines_seen = 0
        self.first_data_line: int | None = None  # first non-blank line (for error messages)
        self.ais_lines = 0  # lines recognisably AIS (valid or not)

    # -- bookkeeping -------------------------------------------------------------------

    def _reject(self, reason: str, line: int, n: int = 1) -> None:
        self.rejects[reason] += n
        if reason not in self.first_reject_line or line < self.first_reject_line[reason]:
            self.first_reject_line[reason] = line

    def _source_code(self, source: str | None) -> int:
        if source is None:
            return -1
        code = self._source_codes.get(source)
        if code is None:
            code = len(self.sources)
            self.sources.append(source)
            self._source_codes[source] = code
        return code

    def _codes_of(self, data: bytes, buf: U8, starts: I64, ends: I64) -> I32:
        """Source codes for the ASCII texts ``data[starts[i]:ends[i]]``."""
        codes, texts = intern_ranges(data, buf, starts, ends)
        mine = np.array([self._source_code(t.decode("ascii")) for t in texts], dtype=np.int32)
        return np.asarray(mine[codes], dtype=np.int32) if len(codes) else mine[:0]

    def _tag_blocks(self, data: bytes, buf: U8, starts: I64, ends: I64) -> _Tags:
        """Tag blocks ``data[starts[i]:ends[i]]``, each distinct text parsed once."""
        codes, texts = intern_ranges(data, buf, starts, ends)
        parsed = [parse_tag_block(text) for text in texts]
        ok = np.array([t is not None for t in parsed], dtype=bool)
        time_us = np.array(
            [t.time_us if t is not None and t.time_us is not None else NO_TIME for t in parsed],
            dtype=np.int64,
        )
        source = np.array(
            [self._source_code(t.source) if t is not None else -1 for t in parsed], dtype=np.int32
        )
        group = np.array(
            [t.group if t is not None and t.group is not None else (-1, -1, -1) for t in parsed],
            dtype=np.int64,
        ).reshape(-1, 3)
        return _Tags(ok[codes], time_us[codes], source[codes], group[codes])

    # -- public ------------------------------------------------------------------------

    def feed(self, data: bytes, receive_time_us: int | None = None) -> FramedMessages:
        """Frame the complete lines in ``tail + data``; keep an unfinished last line.

        The kept line is never longer than ``max_line_bytes`` (+1): past that it is
        rejected as ``line_too_long`` at once and its bytes are dropped up to its end."""
        if self._discarding:
            end = data.find(b"\n")
            if end < 0:
                return FramedMessages.empty(self.sources)
            data = data[end + 1 :]
            self._discarding = False
        if self._tail:
            data = self._tail + data
        cut = data.rfind(b"\n") + 1
        tail = data[cut:]
        framed = self._frame_pieces(data, cut, receive_time_us)
        self._tail = self._bounded_tail(tail)
        return framed

    def _bounded_tail(self, tail: bytes) -> bytes:
        """An unfinished last line to keep: itself, or nothing once it is too long."""
        if len(tail) <= self.max_line_bytes:
            return tail
        kept = tail.rstrip()
        if len(kept) > self.max_line_bytes:
            self._lines_seen += 1
            self.counts["lines"] += 1
            if self.first_data_line is None:
                self.first_data_line = self._lines_seen
            self._reject("line_too_long", self._lines_seen)
            self._discarding = True
            return b""
        # Only trailing whitespace is long: keep one byte over the cap of it, so the line
        # is still too long if anything but whitespace follows.
        return kept + b" " * (self.max_line_bytes + 1 - len(kept))

    def _frame_pieces(
        self, data: bytes, n_bytes: int, receive_time_us: int | None
    ) -> FramedMessages:
        """Frame ``data[:n_bytes]``; with more than ``frame_lines`` lines, piece by piece."""
        if data.count(b"\n", 0, n_bytes) <= self.frame_lines:
            return self._frame(data, n_bytes, receive_time_us)
        block = min(_PIECE_BLOCK, self.frame_lines)  # a block never has more lines
        breaks = np.frombuffer(data, np.uint8, count=n_bytes) == 10
        whole = n_bytes // block * block
        # a reduction along an axis casts in small buffers, not the whole array at once
        per_block = breaks[:whole].reshape(-1, block).sum(axis=1, dtype=np.int64).tolist()
        per_block.append(int(np.count_nonzero(breaks[whole:])))
        del breaks
        cuts: list[int] = []
        lines = 0
        for k, n in enumerate(per_block):
            if lines and lines + n > self.frame_lines:
                cuts.append(data.find(b"\n", k * block, n_bytes) + 1)  # a line's end
                lines = 0
            lines += n
        cuts.append(n_bytes)
        parts: list[FramedMessages] = []
        at = 0
        for end in cuts:
            if end <= at:
                continue
            piece = data[at:end]
            at = end
            if not piece.strip():  # blank lines cost a count, nothing more
                n = piece.count(b"\n")
                self._lines_seen += n
                self.counts["lines"] += n
                self.counts["blank_lines"] += n
                continue
            parts.append(self._frame(piece, len(piece), receive_time_us))
        return FramedMessages.concat(parts, self.sources)

    def finish(self, receive_time_us: int | None = None) -> FramedMessages:
        """Frame the last unterminated line; count multi-part messages never completed."""
        data, self._tail = self._tail, b""
        self._discarding = False
        framed = (
            self._frame(data, len(data), receive_time_us)
            if data
            else FramedMessages.empty(self.sources)
        )
        for pending in self._pending.values():
            self._reject("missing_fragment", pending.first_line)
        self._pending.clear()
        if self._pghp_carry is not None:
            self.counts["pghp_without_message"] += 1
            self._pghp_carry = None
        return framed

    # -- framing -------------------------------------------------------------------------

    def _frame(self, data: bytes, n_bytes: int, receive_time_us: int | None) -> FramedMessages:
        """Frame ``data[:n_bytes]`` (whole lines)."""
        if not n_bytes:
            return FramedMessages.empty(self.sources)
        first_line = self._lines_seen + 1
        lines = _Lines.split(data, n_bytes)
        n_lines = len(lines.starts)
        self._lines_seen += n_lines
        self.counts["lines"] += n_lines
        line_no = np.arange(first_line, first_line + n_lines, dtype=np.int64)
        blank = lines.length == 0
        too_long = lines.length > self.max_line_bytes
        comment = (lines.first == 35) & ~blank & ~too_long
        self.counts["blank_lines"] += int(blank.sum())
        if too_long.any():
            long_lines = line_no[too_long]
            self._reject("line_too_long", int(long_lines[0]), len(long_lines))
        self.counts["comment_lines"] += int(comment.sum())
        if self.first_data_line is None:
            data_lines = np.flatnonzero(~blank & ~comment)
            if len(data_lines):
                self.first_data_line = int(line_no[data_lines[0]])

        fs = _FastShape.find(lines) if self.vectorised else _FastShape.none(lines)
        fast = np.flatnonzero(fs.ok & ~too_long)
        handled = too_long.copy()
        handled[fast] = True
        self.ais_lines += len(fast)

        # Tag blocks: each distinct text parsed once; receiver metadata: vectorised.
        tagged = fast[fs.has_tag[fast]]
        tags = self._tag_blocks(data, lines.buf, lines.starts[tagged] + 1, fs.tag_end[tagged])
        sentence_time = np.full(n_lines, NO_TIME, dtype=np.int64)
        source_code = np.full(n_lines, -1, dtype=np.int32)
        group = np.full((n_lines, 3), -1, dtype=np.int64)
        sentence_time[tagged] = tags.time_us
        source_code[tagged] = tags.source_code
        group[tagged] = tags.group
        bad_tag = tagged[~tags.ok]
        if len(bad_tag):
            self._reject("bad_tag_block", int(line_no[bad_tag[0]]), len(bad_tag))
        good_tag = np.ones(n_lines, dtype=bool)
        good_tag[bad_tag] = False
        fast = fast[good_tag[fast]]
        good_sum = fs.checksum_ok[fast]
        bad_sum = fast[~good_sum]
        if len(bad_sum):
            self._reject("bad_checksum", int(line_no[bad_sum[0]]), len(bad_sum))
        fast = fast[good_sum]
        empty = fast[fs.empty[fast]]
        if len(empty):
            self._reject("empty_payload", int(line_no[empty[0]]), len(empty))
            fast = fast[~fs.empty[fast]]
        c4, c5, ends = fs.c4, fs.c5, lines.ends
        with_meta = fast[(c5[fast] + 5) < ends[fast]]
        if len(with_meta):
            meta_time, station_start, station_end = receiver_metadata_columns(
                lines.buf, fs.commas, c5[with_meta] + 5, ends[with_meta]
            )
            no_time = sentence_time[with_meta] == NO_TIME
            sentence_time[with_meta[no_time]] = meta_time[no_time]
            needs = (source_code[with_meta] < 0) & (station_start >= 0)
            source_code[with_meta[needs]] = self._codes_of(
                data, lines.buf, station_start[needs], station_end[needs]
            )
        self.counts["sentences"] += len(fast)

        # In line order, in Python: multi-part fragments, lines of other shapes, $PGHP.
        events: list[tuple[int, LineResult]] = []
        slow = np.flatnonzero(~handled & ~blank & ~comment)
        for i, a, b in zip(
            slow.tolist(), lines.starts[slow].tolist(), ends[slow].tolist(), strict=True
        ):
            raw = data[a:b]
            result = parse_line(raw, self.max_line_bytes)
            if isinstance(result, Skip):  # whitespace-only lines
                self.counts[f"{result.kind}_lines"] += 1
                continue
            if isinstance(result, Sentence | Pghp) or looks_like_ais(raw):
                self.ais_lines += 1
            if isinstance(result, Reject):
                self._reject(result.reason, int(line_no[i]))
                continue
            if isinstance(result, Sentence):
                self.counts["sentences"] += 1
            events.append((i, result))
        multi = fast[fs.total[fast] > 1]
        for i in multi.tolist():
            t = int(sentence_time[i])
            src = int(source_code[i])
            events.append(
                (
                    i,
                    Sentence(
                        total=int(fs.total[i]),
                        number=int(fs.number[i]),
                        seq_id=data[int(fs.c2[i]) + 1 : int(fs.c3[i])].decode("ascii"),
                        channel=data[int(fs.c3[i]) + 1 : int(c4[i])].decode("ascii", "replace"),
                        payload=data[int(c4[i]) + 1 : int(c5[i])],
                        fill=int(fs.fill[i]),
                        time_us=None if t == NO_TIME else t,
                        source=self.sources[src] if src >= 0 else None,
                        group=tuple(group[i].tolist()) if group[i, 0] >= 0 else None,
                    ),
                )
            )
        events.sort(key=lambda e: e[0])
        single = fast[fs.total[fast] == 1]
        pghp_time = self._pghp_times(n_lines, single, events)

        seq_out = _Seq()
        recv = receive_time_us if receive_time_us is not None else NO_TIME
        for i, r in events:
            if isinstance(r, Sentence):
                self._assemble(int(line_no[i]), i, r, pghp_time, recv, seq_out)

        # Single-part messages of the common shape, all at once.
        f_time = sentence_time[single]
        f_time = np.where(f_time == NO_TIME, pghp_time[single], f_time)
        if receive_time_us is not None:
            f_time = np.where(f_time == NO_TIME, receive_time_us, f_time)
        f_start = c4[single] + 1
        s_len = np.fromiter((len(x) for x in seq_out.payload), dtype=np.int64)
        s_start = n_bytes + np.concatenate([[0], np.cumsum(s_len)[:-1]]).astype(np.int64)
        line_all = np.concatenate([line_no[single], np.asarray(seq_out.line, dtype=np.int64)])
        order = np.argsort(line_all, kind="stable")
        extra = np.frombuffer(b"".join(seq_out.payload), dtype=np.uint8)
        framed = FramedMessages(
            line=line_all[order],
            time_us=np.concatenate([f_time, np.asarray(seq_out.time_us, dtype=np.int64)])[order],
            source_code=np.concatenate(
                [source_code[single], np.asarray(seq_out.source, dtype=np.int32)]
            )[order],
            payload=np.concatenate([lines.buf[:n_bytes], extra]),
            start=np.concatenate([f_start, s_start])[order],
            length=np.concatenate([c5[single] - f_start, s_len])[order],
            fill=np.concatenate([fs.fill[single], np.asarray(seq_out.fill, dtype=np.uint8)])[order],
            sources=self.sources,
        )
        self.counts["messages_framed"] += len(framed)
        return framed

    def _pghp_times(self, n_lines: int, single: I64, events: list[tuple[int, LineResult]]) -> I64:
        """Per line: the $PGHP time for the message starting there (the last $PGHP before it)."""
        starts = [i for i, r in events if isinstance(r, Sentence) and r.number == 1]
        msg_starts = np.sort(np.concatenate([single, np.asarray(starts, dtype=np.int64)]))
        pghp = [(i, r.time_us) for i, r in events if isinstance(r, Pghp)]
        out = np.full(n_lines, NO_TIME, dtype=np.int64)
        if self._pghp_carry is not None and len(msg_starts):
            if not pghp or pghp[0][0] > msg_starts[0]:
                out[msg_starts[0]] = self._pghp_carry
            self._pghp_carry = None
        for i, t in pghp:
            self.counts["pghp_lines"] += 1
            k = int(np.searchsorted(msg_starts, i))
            if k < len(msg_starts):
                if out[msg_starts[k]] != NO_TIME:
                    self.counts["pghp_without_message"] += 1  # two $PGHP, one message
                out[msg_starts[k]] = t
            else:
                if self._pghp_carry is not None:
                    self.counts["pghp_without_message"] += 1
                self._pghp_carry = t
        return out

    def _assemble(
        self,
        line: int,
        idx: int,
        s: Sentence,
        pghp_time: I64,
        receive_us: int,
        out: _Seq,
    ) -> None:
        """Join fragments; a message is complete when fragments 1..n came in order."""
        if s.total == 1:
            t = s.time_us if s.time_us is not None else int(pghp_time[idx])
            if t == NO_TIME:
                t = receive_us
            out.line.append(line)
            out.time_us.append(t)
            out.source.append(self._source_code(s.source))
            out.payload.append(s.payload)
            out.fill.append(s.fill)
            return
        key: tuple[object, ...]
        if s.group is not None:
            key = ("g", s.group[2], s.total)
        else:
            key = ("s", s.source, s.seq_id, s.channel, s.total)
        pending = self._pending.get(key)
        if s.number == 1:
            if pending is not None:
                self._reject("missing_fragment", pending.first_line)
            t0 = int(pghp_time[idx])
            self._pending[key] = _Pending(line, [s], receive_us if t0 == NO_TIME else t0)
            # ``fallback_time_us`` holds the fallback time: $PGHP first, else receive time.
            return
        if pending is None or len(pending.fragments) + 1 != s.number:
            if pending is not None:
                self._reject("missing_fragment", pending.first_line)
                del self._pending[key]
            self._reject("orphan_fragment", line)
            return
        pending.fragments.append(s)
        if s.number < s.total:
            return
        del self._pending[key]
        frags = pending.fragments
        frag_time = next((f.time_us for f in frags if f.time_us is not None), None)
        source = next((f.source for f in frags if f.source is not None), None)
        out.line.append(pending.first_line)
        out.time_us.append(frag_time if frag_time is not None else pending.fallback_time_us)
        out.source.append(self._source_code(source))
        out.payload.append(b"".join(f.payload for f in frags))
        out.fill.append(frags[-1].fill)
        self.counts["multipart_messages"] += 1
