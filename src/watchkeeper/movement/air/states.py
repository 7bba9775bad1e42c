"""Aircraft state vectors: one documented set of columns and units, whatever the source.

Internal units (what ``air_states`` stores):

=================== =========================================================
``time``            UTC, seconds since the Unix epoch (stored as TIMESTAMPTZ)
``icao24``          the 24-bit ICAO address, 6 lower-case hex digits
``lat``, ``lon``    degrees, WGS84
``altitude_ft``     barometric altitude, feet
``geoaltitude_ft``  geometric (GNSS) altitude, feet
``groundspeed_kt``  knots
``track_deg``       degrees true, 0-360
``vertical_rate_fpm`` feet per minute
``onground``        1 on the ground, 0 airborne, -1 not known
``callsign``        as broadcast, upper case, no padding
``squawk``          4 octal digits
=================== =========================================================

Sources are read by column mapping (:data:`LAYOUTS`): OpenSky's historical
``state_vectors_data4`` (m/s, m) and the traffic library's layout (ft, kt, ft/min), from
JSON (a list of records or column-oriented ``{col: {row: value}}``), JSON lines, CSV and
Parquet; and readsb / ADS-B Exchange ``trace_full`` JSON. Bad rows are counted by reason,
never fatal; a file that is none of these raises :class:`InputError` naming it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import InputError

FT_PER_M = 3.280839895013123
KT_PER_MPS = 1.9438444924406046
FPM_PER_MPS = 196.85039370078738

FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

FLOAT_FIELDS = (
    "lat",
    "lon",
    "altitude_ft",
    "geoaltitude_ft",
    "groundspeed_kt",
    "track_deg",
    "vertical_rate_fpm",
)
TEXT_FIELDS = ("callsign", "squawk")
# Plausible times: from the first ADS-B trials to well in the future.
MIN_TIME = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
MAX_TIME = datetime(2100, 1, 1, tzinfo=UTC).timestamp()
_ICAO24 = re.compile(r"^[0-9a-f]{6}$")
_SQUAWK = re.compile(r"^[0-7]{4}$")


@dataclass
class StateVectors:
    """Columns of state vectors in the internal units above (NaN / None / -1 = unknown)."""

    icao24: ObjArray
    time: FloatArray
    lat: FloatArray
    lon: FloatArray
    altitude_ft: FloatArray
    geoaltitude_ft: FloatArray
    groundspeed_kt: FloatArray
    track_deg: FloatArray
    vertical_rate_fpm: FloatArray
    onground: npt.NDArray[np.int8]
    callsign: ObjArray
    squawk: ObjArray
    frame_index: npt.NDArray[np.int64]  # index into the file's accepted frames, -1 if none

    def __len__(self) -> int:
        return len(self.time)

    @classmethod
    def empty(cls) -> StateVectors:
        return cls.from_columns(0, {})

    @classmethod
    def from_columns(cls, n: int, cols: Mapping[str, Any]) -> StateVectors:
        """Build from already-converted columns; missing ones are unknown."""

        def floats(name: str) -> FloatArray:
            v = cols.get(name)
            return np.full(n, np.nan) if v is None else np.asarray(v, dtype=np.float64)

        def objs(name: str) -> ObjArray:
            v = cols.get(name)
            out = np.empty(n, dtype=object)
            if v is not None:
                out[:] = list(v)
            return out

        onground = cols.get("onground")
        frame_index = cols.get("frame_index")
        return cls(
            icao24=objs("icao24"),
            time=floats("time"),
            lat=floats("lat"),
            lon=floats("lon"),
            altitude_ft=floats("altitude_ft"),
            geoaltitude_ft=floats("geoaltitude_ft"),
            groundspeed_kt=floats("groundspeed_kt"),
            track_deg=floats("track_deg"),
            vertical_rate_fpm=floats("vertical_rate_fpm"),
            onground=(
                np.full(n, -1, dtype=np.int8)
                if onground is None
                else np.asarray(onground, dtype=np.int8)
            ),
            callsign=objs("callsign"),
            squawk=objs("squawk"),
            frame_index=(
                np.full(n, -1, dtype=np.int64)
                if frame_index is None
                else np.asarray(frame_index, dtype=np.int64)
            ),
        )

    def take(self, idx: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> StateVectors:
        return StateVectors(**{k: getattr(self, k)[idx] for k in self.__dataclass_fields__})

    @classmethod
    def concat(cls, parts: Sequence[StateVectors]) -> StateVectors:
        if not parts:
            return cls.empty()
        return cls(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in cls.__dataclass_fields__}
        )


@dataclass
class AircraftFacts:
    """What a file says about an aircraft besides its positions (trace_full header, extra
    columns): registration, ICAO type code, description, owner/operator."""

    registration: str | None = None
    typecode: str | None = None
    description: str | None = None
    owner_operator: str | None = None

    def merge(self, other: AircraftFacts) -> None:
        for name in ("registration", "typecode", "description", "owner_operator"):
            if getattr(other, name):
                setattr(self, name, getattr(other, name))


@dataclass
class ParsedStates:
    """One file read and checked: its states plus what was dropped or repaired, by reason."""

    path: Path
    format: str
    rows_read: int
    states: StateVectors
    facts: dict[str, AircraftFacts] = field(default_factory=dict)
    rejects: Counter[str] = field(default_factory=Counter)
    repaired: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


# --- column layouts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How one source names its columns and in which units: canonical -> (column, factor).

    A layout applies when every ``required`` column is present (case-insensitive)."""

    name: str
    required: tuple[str, ...]
    columns: Mapping[str, tuple[str, float]]


OPENSKY = Layout(
    name="opensky",
    required=("time", "icao24", "lat", "lon"),
    columns={
        "time": ("time", 1.0),
        "icao24": ("icao24", 1.0),
        "lat": ("lat", 1.0),
        "lon": ("lon", 1.0),
        "groundspeed_kt": ("velocity", KT_PER_MPS),
        "track_deg": ("heading", 1.0),
        "vertical_rate_fpm": ("vertrate", FPM_PER_MPS),
        "altitude_ft": ("baroaltitude", FT_PER_M),
        "geoaltitude_ft": ("geoaltitude", FT_PER_M),
        "callsign": ("callsign", 1.0),
        "onground": ("onground", 1.0),
        "squawk": ("squawk", 1.0),
        "registration": ("registration", 1.0),
        "typecode": ("typecode", 1.0),
    },
)

TRAFFIC = Layout(
    name="traffic",
    required=("timestamp", "icao24", "latitude", "longitude"),
    columns={
        "time": ("timestamp", 1.0),
        "icao24": ("icao24", 1.0),
        "lat": ("latitude", 1.0),
        "lon": ("longitude", 1.0),
        "groundspeed_kt": ("groundspeed", 1.0),
        "track_deg": ("track", 1.0),
        "vertical_rate_fpm": ("vertical_rate", 1.0),
        "altitude_ft": ("altitude", 1.0),
        "geoaltitude_ft": ("geoaltitude", 1.0),
        "callsign": ("callsign", 1.0),
        "onground": ("onground", 1.0),
        "squawk": ("squawk", 1.0),
        "registration": ("registration", 1.0),
        "typecode": ("typecode", 1.0),
    },
)

LAYOUTS: list[Layout] = [OPENSKY, TRAFFIC]


def find_layout(columns: Iterable[str]) -> Layout | None:
    present = {c.lower() for c in columns}
    for layout in LAYOUTS:
        if all(r in present for r in layout.required):
            return layout
    return None


# --- value conversion -------------------------------------------------------------------


def to_floats(values: Sequence[Any] | np.ndarray) -> tuple[FloatArray, int]:
    """Numbers (or numeric text) as float64; anything else is NaN. Returns (array, bad count)
    where bad counts values that were present but not numbers."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return values.astype(np.float64), 0
    try:  # the common case: numbers and None (numpy reads None as NaN)
        return np.array(values, dtype=np.float64), 0
    except (TypeError, ValueError):
        pass
    out = np.full(len(values), np.nan)
    bad = 0
    for i, v in enumerate(values):
        if v is None or isinstance(v, bool):
            bad += isinstance(v, bool)
            continue
        if isinstance(v, int | float):
            out[i] = float(v)
            continue
        if isinstance(v, str):
            text = v.strip()
            if not text or text.lower() in ("nan", "null", "none", "\\n"):
                continue
            try:
                out[i] = float(text)
            except ValueError:
                bad += 1
            continue
        bad += 1
    return out, bad


def _epoch_scale(x: FloatArray) -> FloatArray:
    """Numbers as epoch seconds, whatever the unit: ns, us, ms or s (by magnitude)."""
    ax = np.abs(x)
    scale = np.where(ax > 1e17, 1e-9, np.where(ax > 1e14, 1e-6, np.where(ax > 1e11, 1e-3, 1.0)))
    return np.asarray(x * scale, dtype=np.float64)


def parse_time_text(text: str) -> float:
    """ISO 8601 text (naive means UTC) or a number as text -> epoch seconds; NaN if neither."""
    text = text.strip()
    if not text:
        return float("nan")
    try:
        return float(_epoch_scale(np.array([float(text)]))[0])
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return float("nan")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def to_times(values: Sequence[Any] | np.ndarray) -> FloatArray:
    """Epoch seconds from numbers (s/ms/us/ns), ISO text or datetimes; NaN when unreadable.
    Naive times are taken as UTC."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        return _epoch_scale(values.astype(np.float64))
    if isinstance(values, np.ndarray) and values.dtype.kind == "M":
        return np.asarray(values.astype("datetime64[us]").astype(np.int64) / 1e6, dtype=np.float64)
    if values and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return _epoch_scale(np.array(values, dtype=np.float64))
    out = np.full(len(values), np.nan)
    numeric_idx: list[int] = []
    numeric_val: list[float] = []
    for i, v in enumerate(values):
        if v is None or isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            numeric_idx.append(i)
            numeric_val.append(float(v))
        elif isinstance(v, str):
            out[i] = parse_time_text(v)
        elif isinstance(v, datetime):
            out[i] = (v if v.tzinfo else v.replace(tzinfo=UTC)).timestamp()
    if numeric_idx:
        out[np.array(numeric_idx)] = _epoch_scale(np.array(numeric_val))
    return out


def to_flags(values: Sequence[Any] | np.ndarray) -> npt.NDArray[np.int8]:
    """Booleans in any common spelling -> 1 / 0; anything else -> -1 (not known)."""
    out = np.full(len(values), -1, dtype=np.int8)
    for i, v in enumerate(values):
        if isinstance(v, bool | np.bool_):
            out[i] = int(bool(v))
        elif isinstance(v, int | float) and v in (0, 1):
            out[i] = int(v)
        elif isinstance(v, str):
            t = v.strip().lower()
            if t in ("true", "t", "1", "yes", "y"):
                out[i] = 1
            elif t in ("false", "f", "0", "no", "n"):
                out[i] = 0
    return out


def _memoised(values: Sequence[Any] | np.ndarray, convert: Any) -> ObjArray:
    """Apply ``convert`` once per distinct value (columns repeat values a lot)."""
    out = np.empty(len(values), dtype=object)
    memo: dict[Any, Any] = {}
    for i, v in enumerate(values):
        try:
            got = memo[v]
        except KeyError:
            got = memo[v] = convert(v)
        except TypeError:  # unhashable (a list or object where a value should be)
            got = None
        out[i] = got
    return out


def _text(v: Any, upper: bool) -> str | None:
    if v is None or isinstance(v, dict | list) or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    if not text or text.lower() in ("nan", "null", "none", "\\n"):
        return None
    return text.upper() if upper else text


def to_texts(values: Sequence[Any] | np.ndarray, *, upper: bool = False) -> ObjArray:
    return _memoised(values, lambda v: _text(v, upper))


def _squawk(v: Any) -> str | None:
    if v is None or isinstance(v, bool | dict | list):
        return None
    if isinstance(v, int | float | np.integer | np.floating):
        if not np.isfinite(v) or v < 0 or v != int(v):
            return None
        text = f"{int(v):04d}"
    else:
        text = str(v).strip()
        if text.endswith(".0"):
            text = text[:-2]
        text = text.zfill(4)
    return text if _SQUAWK.match(text) else None


def to_squawks(values: Sequence[Any] | np.ndarray) -> ObjArray:
    """Squawk codes as 4 octal digits; numbers lose leading zeros in some sources."""
    return _memoised(values, _squawk)


def _icao24(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    text = v.strip().lower()
    return text if _ICAO24.match(text) else None


def to_icao24(values: Sequence[Any] | np.ndarray) -> ObjArray:
    """Addresses as 6 lower-case hex digits; anything else (numbers, '~' non-ICAO) -> None."""
    return _memoised(values, _icao24)


# --- checking and ordering --------------------------------------------------------------


def finish(
    cols: dict[str, Any],
    n: int,
    rejects: Counter[str],
    repaired: Counter[str],
) -> StateVectors:
    """Check rows (time, address, position), drop bad ones by reason, drop exact repeats,
    and sort by (icao24, time). Rows out of time order within an aircraft are counted."""
    return order_rows(check_rows(cols, n, rejects), rejects, repaired)


def check_rows(cols: dict[str, Any], n: int, rejects: Counter[str]) -> StateVectors:
    """The rows with a plausible time, an address and a position (the rest counted by
    reason), in file order: what :func:`finish` does row by row, so batches can do it."""
    sv = StateVectors.from_columns(n, cols)
    if n == 0:
        return sv
    keep = np.ones(n, dtype=bool)

    def drop(mask: npt.NDArray[np.bool_], reason: str) -> None:
        hit = mask & keep
        count = int(hit.sum())
        if count:
            rejects[reason] += count
            keep[hit] = False

    drop(~np.isfinite(sv.time) | (sv.time < MIN_TIME) | (sv.time > MAX_TIME), "bad_time")
    drop(np.array([v is None for v in sv.icao24], dtype=bool), "bad_icao24")
    drop(~np.isfinite(sv.lat) | ~np.isfinite(sv.lon), "no_position")
    drop((np.abs(sv.lat) > 90) | (np.abs(sv.lon) > 180), "bad_position")
    return sv.take(keep)


def order_rows(sv: StateVectors, rejects: Counter[str], repaired: Counter[str]) -> StateVectors:
    """Rows in file order -> sorted by (icao24, time), exact repeats dropped and counted,
    rows out of time order within an aircraft counted."""
    if len(sv) == 0:
        return sv

    # Out of order: a row earlier than the row before it, for the same aircraft, in file order.
    by_aircraft = np.argsort(sv.icao24.astype(str), kind="stable")
    same = sv.icao24[by_aircraft][1:] == sv.icao24[by_aircraft][:-1]
    backwards = np.diff(sv.time[by_aircraft]) < 0
    n_backwards = int((same & backwards).sum())
    if n_backwards:
        repaired["out_of_order"] += n_backwards

    order = np.lexsort((sv.time, sv.icao24.astype(str)))
    sv = sv.take(order)
    dup = np.zeros(len(sv), dtype=bool)
    dup[1:] = (
        (sv.icao24[1:] == sv.icao24[:-1])
        & (sv.time[1:] == sv.time[:-1])
        & (sv.lat[1:] == sv.lat[:-1])
        & (sv.lon[1:] == sv.lon[:-1])
    )
    if dup.any():
        rejects["duplicate"] += int(dup.sum())
        sv = sv.take(~dup)
    return sv


def map_columns(
    raw: Mapping[str, Sequence[Any] | np.ndarray],
    n: int,
    path: Path,
    fmt: str,
    *,
    ordered: bool = True,
) -> ParsedStates:
    """Source columns -> internal columns and units through the matching :class:`Layout`.

    ``ordered=False``: rows checked but left in file order (one batch of a larger file;
    :func:`join_batches` orders them all)."""
    lower = {k.lower(): k for k in raw}
    layout = find_layout(lower)
    if layout is None:
        shown = ", ".join(sorted(raw)[:20]) or "none"
        raise InputError(
            path,
            "no known state-vector layout (need OpenSky time/icao24/lat/lon or traffic "
            f"timestamp/icao24/latitude/longitude); columns found: {shown}",
        )
    rejects: Counter[str] = Counter()
    repaired: Counter[str] = Counter()
    cols: dict[str, Any] = {}

    def source(name: str) -> tuple[Sequence[Any] | np.ndarray, float] | None:
        spec = layout.columns.get(name)
        if spec is None or spec[0] not in lower:
            return None
        return raw[lower[spec[0]]], spec[1]

    for name in FLOAT_FIELDS:
        got = source(name)
        if got is None:
            continue
        values, factor = got
        floats, bad = to_floats(values)
        if bad:
            repaired[f"bad_value.{name}"] += bad
        cols[name] = floats * factor if factor != 1.0 else floats
    got = source("time")
    cols["time"] = to_times(got[0]) if got else np.full(n, np.nan)
    got = source("icao24")
    cols["icao24"] = to_icao24(got[0]) if got else np.empty(n, dtype=object)
    got = source("onground")
    if got:
        cols["onground"] = to_flags(got[0])
    got = source("callsign")
    if got:
        cols["callsign"] = to_texts(got[0], upper=True)
    got = source("squawk")
    if got:
        cols["squawk"] = to_squawks(got[0])

    facts: dict[str, AircraftFacts] = {}
    regs = source("registration")
    types = source("typecode")
    if regs or types:
        reg_vals = to_texts(regs[0], upper=True) if regs else np.empty(n, dtype=object)
        type_vals = to_texts(types[0], upper=True) if types else np.empty(n, dtype=object)
        for addr, reg, typ in zip(cols["icao24"], reg_vals, type_vals, strict=True):
            if addr is None or (reg is None and typ is None):
                continue
            facts.setdefault(addr, AircraftFacts()).merge(
                AircraftFacts(registration=reg, typecode=typ)
            )

    states = finish(cols, n, rejects, repaired) if ordered else check_rows(cols, n, rejects)
    return ParsedStates(
        path=path,
        format=f"{fmt}/{layout.name}",
        rows_read=n,
        states=states,
        facts=facts,
        rejects=rejects,
        repaired=repaired,
    )


# --- readers ----------------------------------------------------------------------------


def records_to_columns(
    records: Sequence[Any], rejects: Counter[str]
) -> tuple[dict[str, list[Any]], int]:
    """A list of JSON objects -> columns (objects that are not dicts are counted and skipped)."""
    good = [r for r in records if isinstance(r, dict)]
    if len(good) != len(records):
        rejects["bad_record"] += len(records) - len(good)
    names: dict[str, None] = {}
    for r in good[:1000]:
        names.update(dict.fromkeys(r))
    for r in good[1000:]:
        for k in r:
            if k not in names:
                names[k] = None
    return {k: [r.get(k) for r in good] for k in names}, len(good)


def column_object_to_columns(
    doc: Mapping[str, Any], path: Path
) -> tuple[dict[str, list[Any]], int]:
    """Column-oriented JSON ``{col: {row: value}}`` (pandas ``to_json()``) -> columns, rows in
    numeric row-key order."""
    keys: dict[str, None] = {}
    for name, column in doc.items():
        if not isinstance(column, dict):
            raise InputError(
                path, "column-oriented JSON: every column must be an object", field=name
            )
        keys.update(dict.fromkeys(column))

    def row_key(k: str) -> tuple[int, int | str]:
        return (0, int(k)) if k.lstrip("-").isdigit() else (1, k)

    order = sorted(keys, key=row_key)
    return {name: [column.get(k) for k in order] for name, column in doc.items()}, len(order)


def read_json_states(doc: Any, path: Path, fmt: str) -> ParsedStates:
    if isinstance(doc, list):
        rejects: Counter[str] = Counter()
        cols, n = records_to_columns(doc, rejects)
        parsed = map_columns(cols, n, path, "json-records")
        parsed.rejects.update(rejects)
        parsed.rows_read = len(doc)
        return parsed
    if isinstance(doc, dict) and "trace" in doc:
        return read_trace_full(doc, path)
    if isinstance(doc, dict) and doc and all(isinstance(v, dict) for v in doc.values()):
        cols, n = column_object_to_columns(doc, path)
        return map_columns(cols, n, path, "json-columns")
    raise InputError(
        path,
        "JSON that is neither a list of state-vector records, column-oriented "
        "{column: {row: value}} nor readsb trace_full",
    )


# Rows converted at a time by the line readers: their text is read as a stream, so a
# large file costs its converted columns, not its text and a Python object per cell.
BATCH_ROWS: Final = 20_000


def join_batches(batches: list[ParsedStates], path: Path, fmt: str) -> ParsedStates:
    """Batches of one file, each checked in file order -> one result, ordered as a whole."""
    if not batches:
        return map_columns({}, 0, path, fmt)  # raises: no layout
    out = ParsedStates(path, batches[0].format, 0, StateVectors.empty())
    for b in batches:
        out.rows_read += b.rows_read
        out.rejects.update(b.rejects)
        out.repaired.update(b.repaired)
        for addr, fact in b.facts.items():
            out.facts.setdefault(addr, AircraftFacts()).merge(fact)
    out.states = order_rows(
        StateVectors.concat([b.states for b in batches]), out.rejects, out.repaired
    )
    return out


def read_jsonl_states(
    lines: Iterable[str], path: Path, batch_rows: int = BATCH_ROWS
) -> ParsedStates:
    """JSON lines, one state-vector record each, read ``batch_rows`` records at a time."""
    batches: list[ParsedStates] = []
    records: list[dict[str, Any]] = []
    rejects: Counter[str] = Counter()
    # Records name their own fields: a batch whose records lack a layout's field (a
    # damaged key) is read as one pass over the whole file reads it, with every field
    # any record named; a batch that still finds no layout waits for the file's end.
    seen: set[str] = set()
    waiting: list[dict[str, Any]] = []

    def flush(last: bool = False) -> None:
        if not records and batches:  # bad lines after the last full batch
            batches[-1].rejects.update(rejects)
            batches[-1].rows_read += sum(rejects.values())
            rejects.clear()
            return
        cols, n = records_to_columns(records, rejects)
        seen.update(cols)
        for key in seen.difference(cols):
            cols[key] = [None] * n
        if not last and find_layout({k.lower(): k for k in cols}) is None:
            waiting.extend(records)
            records.clear()
            return
        parsed = map_columns(cols, n, path, "jsonl", ordered=False)
        parsed.rejects.update(rejects)
        parsed.rows_read = n + sum(rejects.values())
        batches.append(parsed)
        records.clear()
        rejects.clear()

    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            rejects["bad_json_line"] += 1
            continue
        if isinstance(obj, dict):
            records.append(obj)
            if len(records) >= batch_rows:
                flush()
        else:
            rejects["bad_record"] += 1
    records[:0] = waiting
    if records or rejects or not batches:
        flush(last=True)
    return join_batches(batches, path, "jsonl")


def read_csv_states(
    text: str | Iterable[str], path: Path, batch_rows: int = BATCH_ROWS
) -> ParsedStates:
    """CSV with a header row naming the columns of one of the :data:`LAYOUTS` (the text,
    or its lines as a stream), converted ``batch_rows`` rows at a time."""
    reader = csv.reader(io.StringIO(text) if isinstance(text, str) else text)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise InputError(path, "empty CSV") from exc
    except csv.Error as exc:
        raise InputError(path, f"unreadable CSV: {exc}", line=reader.line_num) from exc
    header = [h.strip().lstrip("\ufeff") for h in header]
    batches: list[ParsedStates] = []
    rejects: Counter[str] = Counter()
    columns: list[list[str | None]] = [[] for _ in header]
    n = 0

    def flush() -> None:
        nonlocal columns, n
        if not n and batches:  # bad rows after the last full batch
            batches[-1].rejects.update(rejects)
            batches[-1].rows_read += rejects["bad_csv_row"]
            rejects.clear()
            return
        raw = {h: columns[i] for i, h in enumerate(header)}
        parsed = map_columns(raw, n, path, "csv", ordered=False)
        parsed.rejects.update(rejects)
        parsed.rows_read = n + rejects["bad_csv_row"]
        batches.append(parsed)
        columns = [[] for _ in header]
        n = 0
        rejects.clear()

    try:
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                rejects["bad_csv_row"] += 1
                continue
            for i, v in enumerate(row):
                columns[i].append(v)
            n += 1
            if n >= batch_rows:
                flush()
    except csv.Error as exc:
        raise InputError(path, f"unreadable CSV: {exc}", line=reader.line_num) from exc
    if n or rejects or not batches:
        flush()
    return join_batches(batches, path, "csv")


def read_parquet_states(data: bytes, path: Path) -> ParsedStates:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(path, f"unreadable Parquet: {exc}") from exc
    raw: dict[str, Any] = {}
    for name in table.column_names:
        col = table.column(name).combine_chunks()
        kind = col.type
        if pa.types.is_timestamp(kind):
            unit = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}[kind.unit]
            ints = col.cast(pa.int64()).to_numpy(zero_copy_only=False)
            secs = np.asarray(ints, dtype=np.float64) * unit
            secs[np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = np.nan
            raw[name] = secs  # epoch seconds: below 1e11, so to_times keeps them as seconds
        elif pa.types.is_floating(kind) or pa.types.is_integer(kind):
            raw[name] = np.asarray(col.to_numpy(zero_copy_only=False), dtype=np.float64)
        else:
            raw[name] = col.to_pylist()
    return map_columns(raw, table.num_rows, path, "parquet")


def read_trace_full(doc: Mapping[str, Any], path: Path) -> ParsedStates:
    """readsb / ADS-B Exchange ``trace_full`` JSON: ``{icao, r, t, desc, ownOp, timestamp,
    trace: [[dt, lat, lon, alt|"ground", gs, track, flags, vrate, meta, type, geom_alt,
    geom_rate, ias, roll], ...]}``. Flag bit 1: stale position (dropped, counted), bit 8:
    altitude is geometric."""
    rejects: Counter[str] = Counter()
    repaired: Counter[str] = Counter()
    icao = doc.get("icao")
    base = doc.get("timestamp")
    trace = doc.get("trace")
    if not isinstance(trace, list):
        raise InputError(path, "trace_full: 'trace' is not a list", field="trace")
    if not isinstance(base, int | float) or isinstance(base, bool):
        raise InputError(path, "trace_full: 'timestamp' is not a number", field="timestamp")
    address = to_icao24([icao])[0]
    if address is None:
        reason = (
            "non_icao_address" if isinstance(icao, str) and icao.startswith("~") else "bad_icao24"
        )
        rejects[reason] += len(trace)
        return ParsedStates(path, "trace_full", len(trace), StateVectors.empty(), rejects=rejects)
    n = len(trace)
    t = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    alt = np.full(n, np.nan)
    geo = np.full(n, np.nan)
    gs = np.full(n, np.nan)
    trk = np.full(n, np.nan)
    vr = np.full(n, np.nan)
    ground = np.full(n, -1, dtype=np.int8)
    callsign = np.empty(n, dtype=object)
    squawk = np.empty(n, dtype=object)
    keep = np.ones(n, dtype=bool)
    current_callsign: str | None = None
    current_squawk: str | None = None

    def num(x: Any) -> float:
        return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else np.nan

    for i, point in enumerate(trace):
        if not isinstance(point, list) or len(point) < 8:
            rejects["bad_trace_point"] += 1
            keep[i] = False
            continue
        flags = point[6] if isinstance(point[6], int) and not isinstance(point[6], bool) else 0
        meta = point[8] if len(point) > 8 and isinstance(point[8], dict) else None
        if meta:
            flight = meta.get("flight")
            if isinstance(flight, str) and flight.strip():
                current_callsign = flight.strip().upper()
            sq = meta.get("squawk")
            if isinstance(sq, str) and _SQUAWK.match(sq):
                current_squawk = sq
        if flags & 1:
            rejects["stale_position"] += 1
            keep[i] = False
            continue
        t[i] = base + num(point[0])
        lat[i] = num(point[1])
        lon[i] = num(point[2])
        if point[3] == "ground":
            ground[i] = 1
        else:
            ground[i] = 0 if isinstance(point[3], int | float) else -1
            if flags & 8:
                geo[i] = num(point[3])
            else:
                alt[i] = num(point[3])
        gs[i] = num(point[4])
        trk[i] = num(point[5])
        vr[i] = num(point[7])
        if len(point) > 10 and np.isnan(geo[i]):
            geo[i] = num(point[10])
        callsign[i] = current_callsign
        squawk[i] = current_squawk
    # trace_full writes the callsign only in some points; fill the leading ones backwards.
    first_cs = next((c for c in callsign if c), None)
    for i in range(n):
        if callsign[i] is None:
            callsign[i] = first_cs
        else:
            break
    cols: dict[str, Any] = {
        "icao24": np.array([address] * n, dtype=object),
        "time": t,
        "lat": lat,
        "lon": lon,
        "altitude_ft": alt,
        "geoaltitude_ft": geo,
        "groundspeed_kt": gs,
        "track_deg": trk,
        "vertical_rate_fpm": vr,
        "onground": ground,
        "callsign": callsign,
        "squawk": squawk,
    }
    cols = {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in cols.items()}
    states = finish(cols, int(keep.sum()), rejects, repaired)

    def text(key: str) -> str | None:
        v = doc.get(key)
        return v.strip() if isinstance(v, str) and v.strip() else None

    facts = AircraftFacts(
        registration=(text("r") or "").upper() or None,
        typecode=text("t"),
        description=text("desc"),
        owner_operator=text("ownOp"),
    )
    return ParsedStates(
        path=path,
        format="trace_full",
        rows_read=n,
        states=states,
        facts={address: facts},
        rejects=rejects,
        repaired=repaired,
    )
