"""Raw Mode-S / ADS-B frames -> checked frames and state vectors, decoded with pyModeS.

Inputs (each frame is hex with a timestamp): the pyModeS sample CSVs
(``ts,"hex",icao,tc`` and ``ts,icao,hex``), CSV with a header naming a time and a frame
column, rs1090 JSON lines (``{"timestamp", "frame", ...}``) and the dump1090 Beast binary
stream (0x1a framing; its 12 MHz receiver clock is relative, so times are anchored on a
start time the caller gives, or on the file's modification time, said in the notes).

The pipeline:

1. every frame is checked: hex (odd length, bad characters, length), downlink format;
   short formats padded to 112 bits (rs1090 writes them so) are cut back to 56 bits;
2. CRC-24 remainders for all frames at once (numpy, table driven); DF17/18 must have a
   zero remainder, DF11 may only carry an interrogator code, and the address/parity
   formats (DF0/4/5/16/20/21) are kept only when the address the parity gives is one seen
   in a valid DF11/17/18 frame of the same file, or the address the source states;
3. the ADS-B frames that make state vectors (identification, surface and airborne
   position, velocity) are decoded with ``pyModeS.decode``; squawks come from DF5/21;
4. CPR positions per aircraft: even/odd pairs within 10 s give global positions (two
   agreeing pairs start a track), later frames are decoded locally against the last
   accepted position (``airborne_position_with_ref``), each checked for reachable speed;
   surface frames are decoded against the nearest low airborne or surface position of the
   same aircraft (or a receiver position) with ``surface_position_with_ref``.

Bad frames are counted by reason, never fatal.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyModeS
from pyModeS.position import (
    airborne_position_pair,
    airborne_position_with_ref,
    surface_position_with_ref,
)
from pyModeS.util import idcode

from watchkeeper.movement.air.geodesy import KM_PER_NM, distance_km
from watchkeeper.movement.air.states import MAX_TIME, MIN_TIME, StateVectors, parse_time_text

FloatArray = npt.NDArray[np.float64]

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_JSON_FRAME = re.compile(r'"frame"\s*:\s*"([^"\\]*)"')
_JSON_TIME = re.compile(r'"timestamp"\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*[,}]')
_CRC_POLY = 0x1FFF409
SHORT_DFS = frozenset((0, 4, 5, 11))
LONG_DFS = frozenset((16, 17, 18, 19, 20, 21, 22, 24))
ADDRESS_PARITY_DFS = frozenset((0, 4, 5, 16, 20, 21))

PAIR_WINDOW_S = 10.0  # even/odd frames further apart may straddle a latitude zone
LOCAL_WINDOW_S = 30.0  # a reference older than this is not trusted for local decoding
SURFACE_REF_WINDOW_S = 1800.0  # a low airborne fix within 30 min anchors surface frames
SURFACE_REF_MAX_ALT_FT = 10_000.0
MAX_SPEED_KT = 1200.0  # faster than any airliner with wind: a decoding error, or a jump
MARGIN_KM = 3.0
VELOCITY_WINDOW_S = 10.0
SQUAWK_WINDOW_S = 120.0


def _crc_table() -> npt.NDArray[np.uint32]:
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i << 16
        for _ in range(8):
            c <<= 1
            if c & 0x1000000:
                c ^= _CRC_POLY
        table[i] = c & 0xFFFFFF
    return table


CRC_TABLE = _crc_table()


def crc_remainders(frames: Sequence[str]) -> npt.NDArray[np.uint32]:
    """CRC-24 remainder of each frame (all the same length, valid hex), vectorised.

    Zero for a valid DF17/18; the ICAO address for the address/parity formats."""
    if not frames:
        return np.zeros(0, dtype=np.uint32)
    width = len(frames[0]) // 2
    data = np.frombuffer(bytes.fromhex("".join(frames)), dtype=np.uint8).reshape(-1, width)
    crc = np.zeros(len(frames), dtype=np.uint32)
    for j in range(width - 3):
        idx = ((crc >> 16) ^ data[:, j]) & 0xFF
        crc = ((crc << 8) & 0xFFFFFF) ^ CRC_TABLE[idx]
    parity = (
        (data[:, -3].astype(np.uint32) << 16)
        | (data[:, -2].astype(np.uint32) << 8)
        | data[:, -1].astype(np.uint32)
    )
    return np.asarray(crc ^ parity, dtype=np.uint32)


@dataclass
class RawFrames:
    """Frames as read: epoch seconds, hex text, the address the source states (or None)."""

    times: list[float] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    hints: list[str | None] = field(default_factory=list)

    def add(self, t: float, frame: str, hint: str | None = None) -> None:
        self.times.append(t)
        self.frames.append(frame)
        self.hints.append(hint)


@dataclass
class FrameTable:
    """Accepted frames, time-ordered: what ``air_frames`` stores (evidence for states)."""

    time: FloatArray
    icao24: npt.NDArray[np.object_]
    df: npt.NDArray[np.int16]
    typecode: npt.NDArray[np.int16]  # -1 when not ADS-B
    frame: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.time)


@dataclass
class DecodedFrames:
    frames: FrameTable
    states: StateVectors
    rejects: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)


# --- readers ----------------------------------------------------------------------------


def _hint(value: Any) -> str | None:
    if isinstance(value, str) and len(value.strip()) == 6 and _HEX.match(value.strip()):
        return value.strip().upper()
    return None


def _seconds(t: float) -> float:
    """Epoch seconds from seconds or milliseconds."""
    return t / 1000.0 if abs(t) > 1e11 else t


def read_frames_jsonl(lines: Iterable[str], rejects: Counter[str]) -> RawFrames:
    """rs1090 JSON lines: ``{"timestamp": <epoch s>, "frame": "<hex>", ...}``. The decoded
    fields rs1090 added are ignored: pyModeS decodes the frame again."""
    raw = RawFrames()
    for line in lines:
        line = line.strip()
        if not line:
            continue
        # Fast path: the two fields that matter, from a line that is a JSON object.
        fm = _JSON_FRAME.search(line)
        tm = _JSON_TIME.search(line)
        if fm and tm and line[0] == "{" and line[-1] == "}":
            raw.add(_seconds(float(tm.group(1))), fm.group(1), None)
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            rejects["bad_json_line"] += 1
            continue
        add_frame_record(raw, obj, rejects)
    return raw


def add_frame_record(raw: RawFrames, obj: Any, rejects: Counter[str]) -> None:
    if not isinstance(obj, dict):
        rejects["unknown_line_format"] += 1
        return
    frame = obj.get("frame", obj.get("rawmsg"))
    t = obj.get("timestamp", obj.get("time", obj.get("ts")))
    if not isinstance(frame, str):
        rejects["unknown_line_format"] += 1
        return
    if isinstance(t, int | float) and not isinstance(t, bool):
        seconds = _seconds(float(t))
    elif isinstance(t, str):
        seconds = parse_time_text(t)
    else:
        seconds = float("nan")
    raw.add(seconds, frame.strip(), None)


_TIME_NAMES = ("timestamp", "time", "ts", "t", "mintime")
_FRAME_NAMES = ("frame", "rawmsg", "msg", "message", "hex", "raw")


def read_frames_csv(text: str, rejects: Counter[str]) -> RawFrames:
    """CSV of frames: with a header naming a time and a frame column, or headerless like the
    pyModeS samples (first field the time, the frame the field of 14 or 28 hex digits, a
    6-hex-digit field the address the source states)."""
    raw = RawFrames()
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    first = next(rows, None)
    if first is None:
        return raw
    names = [c.strip().lower() for c in first]
    time_col = next((names.index(n) for n in _TIME_NAMES if n in names), None)
    frame_col = next((names.index(n) for n in _FRAME_NAMES if n in names), None)
    hint_col = next((names.index(n) for n in ("icao24", "icao") if n in names), None)
    header = time_col is not None and frame_col is not None
    body: Iterable[list[str]] = rows if header else [first, *rows]
    for row in body:
        if not row or not any(c.strip() for c in row):
            continue
        fields = [c.strip() for c in row]
        if header:
            assert time_col is not None and frame_col is not None
            if max(time_col, frame_col) >= len(fields):
                rejects["bad_csv_row"] += 1
                continue
            hint = (
                _hint(fields[hint_col]) if hint_col is not None and hint_col < len(fields) else None
            )
            raw.add(parse_time_text(fields[time_col]), fields[frame_col], hint)
            continue
        frame = next((f for f in fields[1:] if len(f) in (14, 28) and _HEX.match(f)), None)
        if frame is None:
            # The longest hex-looking field, so odd lengths and bad hex are counted by reason.
            rest = [f for f in fields[1:] if len(f) > 6]
            if not rest:
                rejects["unknown_line_format"] += 1
                continue
            frame = max(rest, key=len)
        hint = next((_hint(f) for f in fields[1:] if f != frame and _hint(f)), None)
        raw.add(parse_time_text(fields[0]), frame, hint)
    return raw


def read_beast(data: bytes, rejects: Counter[str], start: float | None) -> tuple[RawFrames, str]:
    """dump1090 / Beast binary: ``0x1a`` type(``'1'`` Mode-A/C, ``'2'`` short, ``'3'`` long,
    ``'4'`` status) + 6-byte 12 MHz clock + 1 signal byte + message, ``0x1a`` doubled inside.

    The clock counts from receiver start; ``start`` is the epoch second of the first frame
    (when None, the caller anchors later). Returns the frames and a note on the anchoring."""
    sizes = {0x31: 2, 0x32: 7, 0x33: 14, 0x34: 14}
    ticks: list[int] = []
    frames: list[str] = []
    i = 0
    n = len(data)
    while i < n:
        if data[i] != 0x1A or i + 1 >= n or data[i + 1] not in sizes:
            rejects["beast_desync"] += 1
            nxt = data.find(b"\x1a", i + 1)
            i = n if nxt < 0 else nxt
            continue
        kind = data[i + 1]
        want = 6 + 1 + sizes[kind]
        j = i + 2
        buf = bytearray()
        while len(buf) < want and j < n:
            b = data[j]
            j += 1
            if b == 0x1A:
                if j < n and data[j] == 0x1A:
                    j += 1
                else:
                    break  # an unescaped 0x1a: the frame was cut short
            buf.append(b)
        if len(buf) < want:
            rejects["truncated_frame"] += 1
            i = j if j > i + 2 else i + 2
            if i < n and data[i - 1] == 0x1A:
                i -= 1
            continue
        i = j
        if kind == 0x31:
            rejects["mode_ac"] += 1
            continue
        if kind == 0x34:
            rejects["beast_status"] += 1
            continue
        ticks.append(int.from_bytes(buf[:6], "big"))
        frames.append(buf[7:].hex())
    raw = RawFrames()
    if not ticks:
        return raw, "no frames"
    t0 = ticks[0]
    base = 0.0 if start is None else start
    for tick, frame in zip(ticks, frames, strict=True):
        raw.add(base + (tick - t0) / 12e6, frame, None)
    return raw, "beast clock is relative (12 MHz from receiver start)"


# --- checking ---------------------------------------------------------------------------


def check_frames(
    raw: RawFrames, rejects: Counter[str], repaired: Counter[str]
) -> tuple[FloatArray, list[str], list[str], npt.NDArray[np.int16], npt.NDArray[np.uint32]]:
    """Keep frames with a usable time, valid hex of a Mode-S length and a CRC/parity that
    holds; return them time-ordered as (times, hex, address, df, remainder)."""
    times: list[float] = []
    hexes: list[str] = []
    hints: list[str | None] = []
    dfs: list[int] = []
    for t, frame, hint in zip(raw.times, raw.frames, raw.hints, strict=True):
        if not (MIN_TIME <= t <= MAX_TIME):  # also NaN
            rejects["bad_time"] += 1
            continue
        if len(frame) % 2:
            rejects["odd_length_hex"] += 1
            continue
        if not frame or not _HEX.match(frame):
            rejects["bad_hex"] += 1
            continue
        if len(frame) not in (14, 28):
            rejects["bad_length"] += 1
            continue
        df = int(frame[:2], 16) >> 3
        if df >= 24:
            df = 24
        if df in SHORT_DFS and len(frame) == 28:
            frame = frame[:14]
            repaired["short_frame_padded"] += 1
        elif df in LONG_DFS and len(frame) == 14:
            rejects["bad_length"] += 1
            continue
        elif df not in SHORT_DFS and df not in LONG_DFS:
            rejects["unknown_df"] += 1
            continue
        times.append(t)
        hexes.append(frame.lower())
        hints.append(hint)
        dfs.append(df)

    n = len(hexes)
    rem = np.zeros(n, dtype=np.uint32)
    for width in (14, 28):
        idx = [i for i, h in enumerate(hexes) if len(h) == width]
        if idx:
            rem[np.array(idx)] = crc_remainders([hexes[i] for i in idx])
    df_arr = np.array(dfs, dtype=np.int16)

    # Addresses known from frames that carry them in clear with a checkable parity.
    known: set[int] = set()
    for i in range(n):
        if (df_arr[i] in (17, 18) and rem[i] == 0) or (
            df_arr[i] == 11 and int(rem[i]) & ~0x7F == 0
        ):
            known.add(int(hexes[i][2:8], 16))
    keep = np.zeros(n, dtype=bool)
    for i in range(n):
        d = int(df_arr[i])
        if d in (17, 18):
            if rem[i] == 0:
                keep[i] = True
            else:
                rejects["crc_error"] += 1
        elif d == 11:
            if int(rem[i]) & ~0x7F == 0:
                keep[i] = True
            else:
                rejects["parity_error"] += 1
        elif d in ADDRESS_PARITY_DFS:
            hint = hints[i]
            if hint is not None:
                if int(hint, 16) == int(rem[i]):
                    keep[i] = True
                else:
                    rejects["parity_error"] += 1
            elif int(rem[i]) in known:
                keep[i] = True
            else:
                rejects["unverified_address"] += 1
        else:
            rejects["unsupported_df"] += 1

    t_arr = np.array(times, dtype=np.float64)
    backwards = int((np.diff(t_arr[keep]) < 0).sum()) if keep.any() else 0
    if backwards:
        repaired["out_of_order"] += backwards
    kept = np.flatnonzero(keep)
    order = kept[np.argsort(t_arr[kept], kind="stable")]
    address = [hexes[i][2:8] if df_arr[i] in (11, 17, 18) else f"{int(rem[i]):06x}" for i in order]
    return (
        t_arr[order],
        [hexes[i] for i in order],
        address,
        df_arr[order],
        rem[order],
    )


# --- CPR --------------------------------------------------------------------------------


def _reachable(lat1: float, lon1: float, t1: float, lat2: float, lon2: float, t2: float) -> bool:
    return (
        distance_km(lat1, lon1, lat2, lon2)
        <= MAX_SPEED_KT * KM_PER_NM * abs(t2 - t1) / 3600 + MARGIN_KM
    )


def resolve_airborne(
    t: FloatArray,
    fmt: npt.NDArray[np.int8],
    cpr_lat: npt.NDArray[np.int64],
    cpr_lon: npt.NDArray[np.int64],
    counts: Counter[str],
) -> tuple[FloatArray, FloatArray]:
    """Positions for one aircraft's time-ordered airborne CPR frames (NaN when unresolved).

    Global decoding from even/odd pairs within 10 s; a track starts when two pairs agree
    (reachable at 1,200 kt); then frames decode locally against the last accepted fix, or
    globally when a pair is at hand. A fix out of reach of the track is rejected, unless two
    such fixes agree with each other: then the track restarts there (so a real jump, such
    as GNSS spoofing, stays visible instead of being filtered out)."""
    n = len(t)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    last: dict[int, int] = {}
    ref: tuple[float, float, float] | None = None
    candidates: list[tuple[float, float, float, int]] = []
    for i in range(n):
        f = int(fmt[i])
        partner = last.get(1 - f)
        last[f] = i
        pos: tuple[float, float] | None = None
        paired = False
        if partner is not None and t[i] - t[partner] <= PAIR_WINDOW_S:
            e, o = (i, partner) if f == 0 else (partner, i)
            pos = airborne_position_pair(
                int(cpr_lat[e]),
                int(cpr_lon[e]),
                int(cpr_lat[o]),
                int(cpr_lon[o]),
                even_is_newer=f == 0,
            )
            paired = pos is not None
        if pos is None and ref is not None and t[i] - ref[2] <= LOCAL_WINDOW_S:
            pos = airborne_position_with_ref(f, int(cpr_lat[i]), int(cpr_lon[i]), ref[0], ref[1])
        if pos is None:
            continue
        plat, plon = pos
        if ref is not None and _reachable(ref[0], ref[1], ref[2], plat, plon, t[i]):
            lat[i], lon[i] = plat, plon
            ref = (plat, plon, float(t[i]))
            counts["positions_paired" if paired else "positions_local"] += 1
            continue
        if not paired:
            counts["position_out_of_reach"] += 1
            continue
        agree = [c for c in candidates if _reachable(c[0], c[1], c[2], plat, plon, t[i])]
        if agree:
            c = agree[-1]
            lat[c[3]], lon[c[3]] = c[0], c[1]
            lat[i], lon[i] = plat, plon
            counts["positions_paired"] += 2
            if ref is not None:
                counts["track_restarted"] += 1
            ref = (plat, plon, float(t[i]))
            candidates = []
        else:
            if ref is not None:
                counts["position_out_of_reach"] += 1
            candidates = [*candidates[-3:], (plat, plon, float(t[i]), i)]
    return lat, lon


def resolve_surface(
    t: FloatArray,
    fmt: npt.NDArray[np.int8],
    cpr_lat: npt.NDArray[np.int64],
    cpr_lon: npt.NDArray[np.int64],
    air_t: FloatArray,
    air_lat: FloatArray,
    air_lon: FloatArray,
    air_alt: FloatArray,
    receiver: tuple[float, float] | None,
    counts: Counter[str],
) -> tuple[FloatArray, FloatArray]:
    """Positions for one aircraft's surface CPR frames, each decoded against a reference
    within 45 NM: the previous surface fix (10 min), the nearest accepted airborne fix below
    10,000 ft within 30 min (the take-off or landing), or the receiver position."""
    n = len(t)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    low = np.isfinite(air_lat) & (~np.isfinite(air_alt) | (air_alt <= SURFACE_REF_MAX_ALT_FT))
    low_t = air_t[low]
    low_lat = air_lat[low]
    low_lon = air_lon[low]
    prev: tuple[float, float, float] | None = None
    for i in range(n):
        ref: tuple[float, float] | None = None
        if prev is not None and t[i] - prev[2] <= 600:
            ref = (prev[0], prev[1])
        elif len(low_t):
            k = int(np.searchsorted(low_t, t[i]))
            best = min(
                (j for j in (k - 1, k) if 0 <= j < len(low_t)),
                key=lambda j: abs(low_t[j] - t[i]),
            )
            if abs(low_t[best] - t[i]) <= SURFACE_REF_WINDOW_S:
                ref = (float(low_lat[best]), float(low_lon[best]))
        if ref is None and receiver is not None:
            ref = receiver
        if ref is None:
            counts["surface_no_reference"] += 1
            continue
        plat, plon = surface_position_with_ref(
            int(fmt[i]), int(cpr_lat[i]), int(cpr_lon[i]), ref[0], ref[1]
        )
        if prev is not None and not _reachable(prev[0], prev[1], prev[2], plat, plon, t[i]):
            counts["position_out_of_reach"] += 1
            continue
        lat[i], lon[i] = plat, plon
        prev = (plat, plon, float(t[i]))
        counts["positions_surface"] += 1
    return lat, lon


# --- decoding ---------------------------------------------------------------------------


def _nearest_before(times: FloatArray, t: FloatArray, window: float) -> npt.NDArray[np.intp]:
    """For each t, the index of the last time <= t within ``window`` seconds, else -1."""
    if len(times) == 0:
        return np.full(len(t), -1, dtype=np.intp)
    k = np.searchsorted(times, t, side="right") - 1
    ok = (k >= 0) & (t - times[np.clip(k, 0, None)] <= window)
    return np.where(ok, k, -1)


def decode_frames(
    raw: RawFrames,
    *,
    receiver: tuple[float, float] | None = None,
    rejects: Counter[str] | None = None,
    repaired: Counter[str] | None = None,
) -> DecodedFrames:
    """Check, decode and position raw frames; see the module docstring for the steps."""
    rejects = Counter() if rejects is None else rejects
    repaired = Counter() if repaired is None else repaired
    counts: Counter[str] = Counter()
    times, hexes, address, dfs, _ = check_frames(raw, rejects, repaired)
    n = len(hexes)
    typecodes = np.full(n, -1, dtype=np.int16)

    # Per-aircraft event lists, filled in time order.
    ident: dict[str, list[tuple[float, str]]] = {}
    squawks: dict[str, list[tuple[float, str]]] = {}
    velocity: dict[str, list[tuple[float, float, float, float]]] = {}
    air: dict[str, list[tuple[int, int, int, int, float, bool]]] = {}
    surface: dict[str, list[tuple[int, int, int, int, float, float]]] = {}

    for i in range(n):
        d = int(dfs[i])
        counts[f"df{d}"] += 1
        if d in (17, 18):
            tc = int(hexes[i][8:10], 16) >> 3
            typecodes[i] = tc
            if not (1 <= tc <= 22):
                continue
            msg = pyModeS.decode(hexes[i])
            addr = address[i]
            if 1 <= tc <= 4:
                cs = str(msg.get("callsign") or "").strip("_ #").strip()
                if cs:
                    ident.setdefault(addr, []).append((float(times[i]), cs))
            elif 5 <= tc <= 8:
                if "cpr_format" in msg:
                    gs = msg.get("groundspeed")
                    trk = msg.get("track")
                    surface.setdefault(addr, []).append(
                        (
                            i,
                            int(msg["cpr_format"]),
                            int(msg["cpr_lat"]),
                            int(msg["cpr_lon"]),
                            float(gs) if gs is not None else np.nan,
                            float(trk) if trk is not None else np.nan,
                        )
                    )
            elif tc == 19:
                gs = msg.get("groundspeed")
                trk = msg.get("track")
                vr = msg.get("vertical_rate")
                velocity.setdefault(addr, []).append(
                    (
                        float(times[i]),
                        float(gs) if gs is not None else np.nan,
                        float(trk) if trk is not None else np.nan,
                        float(vr) if vr is not None else np.nan,
                    )
                )
            elif "cpr_format" in msg:
                alt = msg.get("altitude")
                air.setdefault(addr, []).append(
                    (
                        i,
                        int(msg["cpr_format"]),
                        int(msg["cpr_lat"]),
                        int(msg["cpr_lon"]),
                        float(alt) if alt is not None else np.nan,
                        tc >= 20,  # GNSS height rather than barometric altitude
                    )
                )
        elif d in (5, 21):
            code = idcode(hexes[i])
            if code:
                squawks.setdefault(address[i], []).append((float(times[i]), str(code)))

    parts: list[StateVectors] = []
    for addr in sorted(set(air) | set(surface)):
        a = air.get(addr, [])
        a_idx = np.array([x[0] for x in a], dtype=np.intp)
        a_t = times[a_idx] if len(a) else np.zeros(0)
        a_alt = np.array([x[4] for x in a], dtype=np.float64)
        a_gnss = np.array([x[5] for x in a], dtype=bool)
        a_lat, a_lon = resolve_airborne(
            a_t,
            np.array([x[1] for x in a], dtype=np.int8),
            np.array([x[2] for x in a], dtype=np.int64),
            np.array([x[3] for x in a], dtype=np.int64),
            counts,
        )
        s = surface.get(addr, [])
        s_idx = np.array([x[0] for x in s], dtype=np.intp)
        s_t = times[s_idx] if len(s) else np.zeros(0)
        s_lat, s_lon = resolve_surface(
            s_t,
            np.array([x[1] for x in s], dtype=np.int8),
            np.array([x[2] for x in s], dtype=np.int64),
            np.array([x[3] for x in s], dtype=np.int64),
            a_t,
            a_lat,
            a_lon,
            np.where(a_gnss, np.nan, a_alt) if len(a) else np.zeros(0),
            receiver,
            counts,
        )
        unresolved = int((~np.isfinite(a_lat)).sum() + (~np.isfinite(s_lat)).sum())
        if unresolved:
            counts["positions_unresolved"] += unresolved
        ok_a = np.isfinite(a_lat)
        ok_s = np.isfinite(s_lat)
        m = int(ok_a.sum() + ok_s.sum())
        if not m:
            continue
        t_all = np.concatenate([a_t[ok_a], s_t[ok_s]])
        order = np.argsort(t_all, kind="stable")
        n_air = int(ok_a.sum())
        alt_all = np.concatenate(
            [np.where(a_gnss, np.nan, a_alt)[ok_a], np.full(int(ok_s.sum()), np.nan)]
        )
        geo_all = np.concatenate(
            [np.where(a_gnss, a_alt, np.nan)[ok_a], np.full(int(ok_s.sum()), np.nan)]
        )
        gs_all = np.concatenate(
            [np.full(n_air, np.nan), np.array([x[4] for x in s])[ok_s] if len(s) else np.zeros(0)]
        )
        trk_all = np.concatenate(
            [np.full(n_air, np.nan), np.array([x[5] for x in s])[ok_s] if len(s) else np.zeros(0)]
        )
        vr_all = np.full(m, np.nan)
        ground = np.concatenate(
            [np.zeros(n_air, dtype=np.int8), np.ones(int(ok_s.sum()), dtype=np.int8)]
        )
        frame_idx = np.concatenate([a_idx[ok_a], s_idx[ok_s]]).astype(np.int64)
        lat_all = np.concatenate([a_lat[ok_a], s_lat[ok_s]])
        lon_all = np.concatenate([a_lon[ok_a], s_lon[ok_s]])

        # Velocity (airborne only), callsign and squawk: the latest report before each fix.
        v = velocity.get(addr, [])
        if v:
            v_t = np.array([x[0] for x in v])
            k = _nearest_before(v_t, t_all, VELOCITY_WINDOW_S)
            has = (k >= 0) & (ground == 0)
            gs_all[has] = np.array([x[1] for x in v])[k[has]]
            trk_all[has] = np.array([x[2] for x in v])[k[has]]
            vr_all[has] = np.array([x[3] for x in v])[k[has]]
        callsign = np.empty(m, dtype=object)
        ids = ident.get(addr, [])
        if ids:
            c_t = np.array([x[0] for x in ids])
            k = _nearest_before(c_t, t_all, float("inf"))
            names = np.array([x[1] for x in ids], dtype=object)
            callsign = np.where(k >= 0, names[np.clip(k, 0, None)], names[0])
        squawk = np.empty(m, dtype=object)
        sq = squawks.get(addr, [])
        if sq:
            q_t = np.array([x[0] for x in sq])
            k = _nearest_before(q_t, t_all, SQUAWK_WINDOW_S)
            codes = np.array([x[1] for x in sq], dtype=object)
            squawk = codes[np.clip(k, 0, None)]
            squawk[k < 0] = None
        parts.append(
            StateVectors.from_columns(
                m,
                {
                    "icao24": [addr] * m,
                    "time": t_all[order],
                    "lat": lat_all[order],
                    "lon": lon_all[order],
                    "altitude_ft": alt_all[order],
                    "geoaltitude_ft": geo_all[order],
                    "groundspeed_kt": gs_all[order],
                    "track_deg": trk_all[order],
                    "vertical_rate_fpm": vr_all[order],
                    "onground": ground[order],
                    "callsign": callsign[order],
                    "squawk": squawk[order],
                    "frame_index": frame_idx[order],
                },
            )
        )
    table = FrameTable(
        time=times,
        icao24=np.array(address, dtype=object),
        df=dfs,
        typecode=typecodes,
        frame=np.array(hexes, dtype=object),
    )
    counts["frames_accepted"] = n
    return DecodedFrames(table, StateVectors.concat(parts), rejects, repaired, counts)
