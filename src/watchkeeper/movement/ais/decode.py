"""Vectorised decoding of AIS 6-bit payloads (ITU-R M.1371) into columns.

All messages of one kind are decoded at once: the armoured characters go through a
lookup table into an ``n x chars`` array of 6-bit values, and every field is cut out
of it with shifts over whole columns. Scaling follows pyais exactly (it is the
oracle in the tests), with "not available" values turned into nulls:

=================  ========================================  ==================
field              raw -> stored                             not available
=================  ========================================  ==================
lat, lon           1/10000 min -> degrees, 6 decimals        91 / 181 (rejected)
sog                1/10 knot -> knots                        1023 (102.3 kn)
cog                1/10 degree -> degrees                    3600 (360.0) and up
heading            degrees                                   511, and 360 up
type 27            1/10 min, whole knots, whole degrees      91/181, 63, 511
imo, ship_type     as broadcast                              0
draught            1/10 metre -> metres                      0
text               6-bit ASCII, trailing '@' and spaces cut  empty
=================  ========================================  ==================

A message shorter than the last field we keep is rejected as ``truncated_payload``
(pyais would return the few bits it has); invalid armour characters are rejected as
``bad_payload_char``. Types other than 1-3, 5, 18, 19, 24 and 27 are kept raw.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.movement.ais.nmea import FramedMessages

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]

# Armour character -> 6-bit value; 255 marks a character outside the AIS alphabet.
SIXBIT: Final = np.full(256, 255, dtype=np.uint8)
SIXBIT[48:88] = np.arange(0, 40, dtype=np.uint8)
SIXBIT[96:120] = np.arange(40, 64, dtype=np.uint8)
# 6-bit value -> text character (ITU-R M.1371 table 47).
ASCII6: Final = np.frombuffer(
    b"@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_ !\"#$%&'()*+,-./0123456789:;<=>?", dtype=np.uint8
)

POSITION_TYPES: Final = (1, 2, 3, 18, 19, 27)
STATIC_TYPES: Final = (5, 19, 24)
# Bits needed for every field we keep (a message may be longer, never shorter).
NEEDED_BITS: Final = {1: 137, 2: 137, 3: 137, 18: 133, 19: 301, 27: 94, 5: 422}
STANDARD_BITS: Final = {1: 168, 2: 168, 3: 168, 18: 168, 19: 312, 27: 96, 5: 424}


@dataclass
class Positions:
    """Decoded position reports; ``index`` points at the message in the framed batch."""

    index: I64
    mmsi: I64
    msg_type: I64
    lat: F64
    lon: F64
    sog: F64  # NaN = null
    cog: F64
    heading: F64
    nav_status: I64  # -1 = null
    accuracy: B

    @staticmethod
    def concat(parts: list[Positions]) -> Positions:
        return Positions(
            *(np.concatenate([getattr(p, f) for p in parts]) for f in Positions.__annotations__)
        )

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class Statics:
    """Decoded static reports (5, 19, 24 A/B); text columns are Arrow string arrays."""

    index: I64
    mmsi: I64
    msg_type: I64
    part: I64  # type 24 part number (0 = A, 1 = B); -1 otherwise
    imo: I64  # -1 = null
    name: Any  # pa.StringArray
    callsign: Any
    ship_type: I64  # -1 = null
    to_bow: I64  # -1 = null
    to_stern: I64
    to_port: I64
    to_starboard: I64
    draught: F64  # NaN = null
    destination: Any

    def __len__(self) -> int:
        return len(self.index)


@dataclass
class Others:
    """Messages kept raw: their index, type and MMSI (-1 when too short to hold one)."""

    index: I64
    msg_type: I64
    mmsi: I64


@dataclass
class Decoded:
    positions: Positions
    statics: Statics
    others: Others
    msg_type: I64  # per framed message, -1 when rejected before the type was known
    rejects: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)
    first_reject_index: dict[str, int] = field(default_factory=dict)


DECODE_REJECTS: Final = {
    "bad_payload_char": "a payload character outside the AIS 6-bit alphabet",
    "truncated_payload": "a message shorter than its fields (bits after fill < needed)",
    "bad_part_number": "a type 24 message with part number 2 or 3",
    "position_not_available": "a position report with lat 91 / lon 181 (not available)",
    "position_out_of_range": "a position report with |lat| > 90 or |lon| > 180",
}


def payload_strings(fm: FramedMessages, idx: I64) -> Any:
    """The armoured payloads of messages ``idx`` as an Arrow string array."""
    lengths = fm.length[idx]
    offsets = np.zeros(len(idx) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.repeat(fm.start[idx] - offsets[:-1], lengths) + np.arange(int(offsets[-1]))
    data = np.ascontiguousarray(fm.payload[flat])
    array = pa.BinaryArray.from_buffers(
        pa.binary(), len(idx), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )
    return array.cast(pa.string())


def sixbit_chars(fm: FramedMessages, idx: I64, n_chars: int) -> U8:
    """The first ``n_chars`` 6-bit values of messages ``idx`` as an ``len(idx) x n`` array."""
    windows = np.lib.stride_tricks.sliding_window_view(fm.payload, n_chars)
    return np.asarray(SIXBIT[windows[fm.start[idx]]], dtype=np.uint8)


def bits(chars: U8, start: int, width: int, signed: bool = False) -> I64:
    """Bit field ``[start, start + width)`` of every row, as int64 (two's complement if signed)."""
    c0, c1 = start // 6, (start + width - 1) // 6
    acc = chars[:, c0].astype(np.int64)
    for c in range(c0 + 1, c1 + 1):
        acc = (acc << 6) | chars[:, c]
    value = (acc >> ((c1 + 1) * 6 - start - width)) & ((1 << width) - 1)
    if signed:
        value = np.where(value >= (1 << (width - 1)), value - (1 << width), value)
    return value


def text(chars: U8, start: int, n_chars: int) -> Any:
    """6-bit text as an Arrow string array, trimmed like pyais; empty strings are null."""
    codes = np.empty((len(chars), n_chars), dtype=np.uint8)
    for k in range(n_chars):
        codes[:, k] = ASCII6[bits(chars, start + 6 * k, 6)]
    raw = pa.array(np.ascontiguousarray(codes).view(f"S{n_chars}").ravel(), type=pa.binary())
    strings = pc.cast(raw, pa.string())
    strings = pc.utf8_trim_whitespace(pc.utf8_rtrim(strings, characters="@"))
    return pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)


def degrees_600000(raw: I64) -> F64:
    """1/10000 minute -> degrees, rounded to 6 decimals exactly as ``round(v / 600000, 6)``."""
    return np.floor_divide(10 * raw + 3, 6) / 1e6


def degrees_600(raw: I64) -> F64:
    """1/10 minute (type 27) -> degrees, as ``round(v / 600, 6)``."""
    return np.floor_divide(10000 * raw + 3, 6) / 1e6


def _null_where(values: F64, mask: B) -> F64:
    out = values.astype(np.float64)
    out[mask] = np.nan
    return out


def _class_a(chars: U8, idx: I64, types: I64) -> Positions:
    sog = bits(chars, 50, 10)
    cog = bits(chars, 116, 12)
    heading = bits(chars, 128, 9)
    return Positions(
        index=idx,
        mmsi=bits(chars, 8, 30),
        msg_type=types,
        lat=degrees_600000(bits(chars, 89, 27, True)),
        lon=degrees_600000(bits(chars, 61, 28, True)),
        sog=_null_where(sog / 10.0, sog == 1023),
        cog=_null_where(cog / 10.0, cog >= 3600),
        heading=_null_where(heading.astype(np.float64), heading >= 360),
        nav_status=bits(chars, 38, 4),
        accuracy=bits(chars, 60, 1).astype(bool),
    )


def _class_b(chars: U8, idx: I64, types: I64) -> Positions:
    """Types 18 and 19 share the first 133 bits."""
    sog = bits(chars, 46, 10)
    cog = bits(chars, 112, 12)
    heading = bits(chars, 124, 9)
    return Positions(
        index=idx,
        mmsi=bits(chars, 8, 30),
        msg_type=types,
        lat=degrees_600000(bits(chars, 85, 27, True)),
        lon=degrees_600000(bits(chars, 57, 28, True)),
        sog=_null_where(sog / 10.0, sog == 1023),
        cog=_null_where(cog / 10.0, cog >= 3600),
        heading=_null_where(heading.astype(np.float64), heading >= 360),
        nav_status=np.full(len(idx), -1, dtype=np.int64),
        accuracy=bits(chars, 56, 1).astype(bool),
    )


def _long_range(chars: U8, idx: I64, types: I64) -> Positions:
    sog = bits(chars, 79, 6)
    cog = bits(chars, 85, 9)
    return Positions(
        index=idx,
        mmsi=bits(chars, 8, 30),
        msg_type=types,
        lat=degrees_600(bits(chars, 62, 17, True)),
        lon=degrees_600(bits(chars, 44, 18, True)),
        sog=_null_where(sog.astype(np.float64), sog == 63),
        cog=_null_where(cog.astype(np.float64), cog >= 360),
        heading=np.full(len(idx), np.nan),
        nav_status=bits(chars, 40, 4),
        accuracy=bits(chars, 38, 1).astype(bool),
    )


def _neg1_where(values: I64, mask: B) -> I64:
    out = values.copy()
    out[mask] = -1
    return out


def _static(
    idx: I64,
    mmsi: I64,
    msg_type: int,
    *,
    part: I64 | None = None,
    imo: I64 | None = None,
    name: Any = None,
    callsign: Any = None,
    ship_type: I64 | None = None,
    dims: tuple[I64, I64, I64, I64] | None = None,
    draught: F64 | None = None,
    destination: Any = None,
) -> Statics:
    n = len(idx)
    none_i = np.full(n, -1, dtype=np.int64)
    none_s = pa.nulls(n, pa.string())
    d = dims or (none_i, none_i, none_i, none_i)
    return Statics(
        index=idx,
        mmsi=mmsi,
        msg_type=np.full(n, msg_type, dtype=np.int64),
        part=none_i if part is None else part,
        imo=none_i if imo is None else _neg1_where(imo, imo == 0),
        name=none_s if name is None else name,
        callsign=none_s if callsign is None else callsign,
        ship_type=none_i if ship_type is None else _neg1_where(ship_type, ship_type == 0),
        to_bow=d[0],
        to_stern=d[1],
        to_port=d[2],
        to_starboard=d[3],
        draught=np.full(n, np.nan) if draught is None else draught,
        destination=none_s if destination is None else destination,
    )


def _concat_statics(parts: list[Statics]) -> Statics:
    values: dict[str, Any] = {}
    for name in Statics.__annotations__:
        items = [getattr(p, name) for p in parts]
        if name in ("name", "callsign", "destination"):
            values[name] = pa.concat_arrays(
                [i if isinstance(i, pa.Array) else i.combine_chunks() for i in items]
            )
        else:
            values[name] = np.concatenate(items)
    return Statics(**values)


def _dims(chars: U8, start: int) -> tuple[I64, I64, I64, I64]:
    return (
        bits(chars, start, 9),
        bits(chars, start + 9, 9),
        bits(chars, start + 18, 6),
        bits(chars, start + 24, 6),
    )


def is_auxiliary_craft(mmsi: I64) -> B:
    """MMSI 98XXXYYYY: a craft associated with a parent ship (type 24 B has no dimensions)."""
    return np.asarray((mmsi // 10_000_000) == 98, dtype=np.bool_)


def _by_length(fm: FramedMessages, idx: I64) -> Iterator[tuple[I64, U8, B]]:
    """Messages ``idx`` grouped by payload length: (indices, all their 6-bit values, bad char)."""
    lengths = fm.length[idx]
    for length in np.unique(lengths).tolist():
        sel = idx[lengths == length]
        chars = sixbit_chars(fm, sel, int(length))
        yield sel, chars, (chars == 255).any(axis=1)


def decode(fm: FramedMessages) -> Decoded:
    """Decode every framed message; reject (with a reason) those that cannot be decoded."""
    n = len(fm)
    rejects: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    first_reject: dict[str, int] = {}

    def reject(reason: str, which: I64) -> None:
        if len(which):
            rejects[reason] += len(which)
            first_reject[reason] = min(first_reject.get(reason, n), int(which.min()))

    msg_type = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return _empty_decoded(msg_type)
    has_payload = fm.length > 0
    first = np.where(has_payload, SIXBIT[fm.payload[np.where(has_payload, fm.start, 0)]], 255)
    msg_type[first != 255] = first[first != 255]
    n_bits = fm.length * 6 - fm.fill.astype(np.int64)

    positions: list[Positions] = []
    statics: list[Statics] = []
    # Types decoded into columns: message length known per type, and every character
    # checked (a message is only as good as its worst character).
    for t, bits_needed in NEEDED_BITS.items():
        of_type = msg_type == t
        short = of_type & (n_bits < bits_needed)
        reject("truncated_payload", np.flatnonzero(short))
        for idx, chars, bad in _by_length(fm, np.flatnonzero(of_type & ~short)):
            reject("bad_payload_char", idx[bad])
            idx, chars = idx[~bad], chars[~bad]
            counts["nonstandard_length"] += int((n_bits[idx] != STANDARD_BITS[t]).sum())
            if not len(idx):
                continue
            types = msg_type[idx]
            if t in (1, 2, 3):
                positions.append(_class_a(chars, idx, types))
            elif t in (18, 19):
                positions.append(_class_b(chars, idx, types))
            elif t == 27:
                positions.append(_long_range(chars, idx, types))
            if t == 19:
                statics.append(_type19_static(chars, idx))
            elif t == 5:
                statics.append(_type5_static(chars, idx))

    # Type 24: part A (name) or part B (type, call sign, dimensions unless auxiliary craft).
    t24 = msg_type == 24
    short = t24 & (n_bits < 40)
    reject("truncated_payload", np.flatnonzero(short))
    for idx, chars, bad in _by_length(fm, np.flatnonzero(t24 & ~short)):
        reject("bad_payload_char", idx[bad])
        idx, chars = idx[~bad], chars[~bad]
        part = bits(chars, 38, 2)
        aux = is_auxiliary_craft(bits(chars, 8, 30))
        need = np.where(part == 0, 160, np.where(aux, 132, 162))
        reject("bad_part_number", idx[part > 1])
        good = part <= 1
        reject("truncated_payload", idx[good & (n_bits[idx] < need)])
        good &= n_bits[idx] >= need
        a = good & (part == 0)
        if a.any():
            statics.append(_type24a_static(chars[a], idx[a]))
        b = good & (part == 1)
        if b.any():
            statics.append(_type24b_static(chars[b], idx[b], aux[b]))

    # Everything else is kept raw, with its MMSI when the message is long enough.
    others_index: list[I64] = []
    others_mmsi: list[I64] = []
    rest = np.flatnonzero((msg_type >= 0) & ~np.isin(msg_type, (*NEEDED_BITS, 24)))
    for idx, chars, bad in _by_length(fm, rest):
        reject("bad_payload_char", idx[bad])
        idx, chars = idx[~bad], chars[~bad]
        others_index.append(idx)
        others_mmsi.append(
            bits(chars, 8, 30) if chars.shape[1] * 6 >= 38 else np.full(len(idx), -1, np.int64)
        )
    reject("bad_payload_char", np.flatnonzero(has_payload & (msg_type < 0)))
    o_idx = np.concatenate(others_index) if others_index else np.empty(0, np.int64)
    o_mmsi = np.concatenate(others_mmsi) if others_mmsi else np.empty(0, np.int64)
    # a short message whose 38th bit is inside the fill has no MMSI
    o_mmsi = np.where(n_bits[o_idx] >= 38, o_mmsi, -1)
    order = np.argsort(o_idx, kind="stable")
    o_idx, o_mmsi = o_idx[order], o_mmsi[order]

    pos = Positions.concat(positions) if positions else _empty_positions()
    # Positions without a usable fix are rejected here: the table holds only real fixes.
    na = (pos.lat == 91.0) | (pos.lon == 181.0)
    out = ~na & ((np.abs(pos.lat) > 90) | (np.abs(pos.lon) > 180))
    reject("position_not_available", pos.index[na])
    reject("position_out_of_range", pos.index[out])
    keep = ~na & ~out
    pos = Positions(*(getattr(pos, f)[keep] for f in Positions.__annotations__))
    stat = _concat_statics(statics) if statics else _empty_statics()
    per_type = np.bincount(msg_type[msg_type >= 0], minlength=64)
    for t in np.flatnonzero(per_type).tolist():
        counts[f"type_{t}"] += int(per_type[t])
    return Decoded(
        positions=pos,
        statics=stat,
        others=Others(o_idx, msg_type[o_idx], o_mmsi),
        msg_type=msg_type,
        rejects=rejects,
        counts=counts,
        first_reject_index=first_reject,
    )


def _type5_static(chars: U8, idx: I64) -> Statics:
    draught = bits(chars, 294, 8)
    return _static(
        idx,
        bits(chars, 8, 30),
        5,
        imo=bits(chars, 40, 30),
        callsign=text(chars, 70, 7),
        name=text(chars, 112, 20),
        ship_type=bits(chars, 232, 8),
        dims=_dims(chars, 240),
        draught=_null_where(draught / 10.0, draught == 0),
        destination=text(chars, 302, 20),
    )


def _type19_static(chars: U8, idx: I64) -> Statics:
    return _static(
        idx,
        bits(chars, 8, 30),
        19,
        name=text(chars, 143, 20),
        ship_type=bits(chars, 263, 8),
        dims=_dims(chars, 271),
    )


def _type24a_static(chars: U8, idx: I64) -> Statics:
    return _static(
        idx,
        bits(chars, 8, 30),
        24,
        part=np.zeros(len(idx), dtype=np.int64),
        name=text(chars, 40, 20),
    )


def _type24b_static(chars: U8, idx: I64, aux: B) -> Statics:
    """Part B: dimensions, unless an auxiliary craft (its MMSI 98...) gives its mothership."""
    dims = tuple(np.full(len(idx), -1, dtype=np.int64) for _ in range(4))
    full = np.flatnonzero(~aux)
    if len(full):
        for arr, values in zip(dims, _dims(chars[full], 132), strict=True):
            arr[full] = values
    return _static(
        idx,
        bits(chars, 8, 30),
        24,
        part=np.ones(len(idx), dtype=np.int64),
        ship_type=bits(chars, 40, 8),
        callsign=text(chars, 90, 7),
        dims=dims,  # type: ignore[arg-type]
    )


def _empty_positions() -> Positions:
    e = np.empty(0, np.int64)
    f = np.empty(0, np.float64)
    return Positions(e, e, e, f, f, f, f, f, e, np.empty(0, bool))


def _empty_statics() -> Statics:
    e = np.empty(0, np.int64)
    return _static(e, e, 0)


def _empty_decoded(msg_type: I64) -> Decoded:
    e = np.empty(0, np.int64)
    return Decoded(_empty_positions(), _empty_statics(), Others(e, e, e), msg_type)
