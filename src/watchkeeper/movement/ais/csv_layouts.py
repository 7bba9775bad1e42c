"""Decoded-AIS CSV files: one column-mapping mechanism, one small layout per publisher.

A :class:`CsvLayout` says which header identifies the file and, for each field of our
tables, which column holds it and how to convert it (units to knots, degrees, metres,
UTC; "not available" codes to null). :func:`map_columns` applies a layout to a batch
of string columns, vectorised, and says for each row what was wrong with it.

Layouts shipped (``LAYOUTS``, a plain list; add one to read another publisher):

- ``noaa``: NOAA MarineCadastre (``MMSI,BaseDateTime,LAT,LON,SOG,COG,Heading,...``).
- ``dma``: Danish Maritime Authority (``# Timestamp,Type of mobile,MMSI,Latitude,...``).
- ``aisdb``: the AISdb decoded export (``MMSI,Message_ID,...,Time,Millisecond,...``).
- ``baltic_decoded``: the Baltic research sample (``"timestamp_pretty";"timestamp";"msgid";...``).
- ``marinetraffic``: MarineTraffic-style (``MMSI;SHIP_ID;STATUS;SPEED_KNOTSx10;...``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from watchkeeper.movement.ais.nmea import NO_TIME

B = npt.NDArray[np.bool_]

# Cells that mean "no value" in numeric and time columns (compared lower-case).
NULL_TOKENS: Final = ["", "null", "none", "nan", "unknown", "undefined", "n/a", "na", "-"]
TEXT_NULL_TOKENS: Final = ["", "NULL", "None", "nan", "NaN", "Unknown", "UNKNOWN", "N/A"]


@dataclass
class Converted:
    """A converted column: typed values (null = not given/not available) and bad cells."""

    values: Any  # pa.Array
    bad: B  # a value was given but could not be read

    @staticmethod
    def of(values: Any, bad: B | None = None) -> Converted:
        return Converted(values, np.zeros(len(values), bool) if bad is None else bad)


Converter = Callable[..., Converted]


@dataclass(frozen=True)
class Col:
    """Where a field comes from: one or more source columns and a converter."""

    sources: tuple[str, ...]
    convert: Converter

    @staticmethod
    def of(source: str | Sequence[str], convert: Converter) -> Col:
        return Col((source,) if isinstance(source, str) else tuple(source), convert)


@dataclass(frozen=True)
class CsvLayout:
    """One publisher's CSV: how to recognise its header and map its columns."""

    name: str
    description: str
    delimiter: str
    signature: frozenset[str]  # normalised header names that must all be present
    columns: dict[str, Col]
    # Static columns repeated on every position row (joined by the publisher): stored
    # as identity rows, first and last time seen, not once per position.
    identity_on_every_row: bool = True
    # (column, allowed normalised values): rows of other kinds (base stations, AtoN) are skipped.
    row_filter: tuple[str, frozenset[str]] | None = None
    # (column, values): rows with these message types are position reports / static reports.
    position_types: frozenset[int] = field(default_factory=lambda: frozenset({1, 2, 3, 18, 19, 27}))
    static_types: frozenset[int] = field(default_factory=lambda: frozenset({5, 19, 24}))

    def source_columns(self) -> set[str]:
        cols = {s for c in self.columns.values() for s in c.sources}
        if self.row_filter:
            cols.add(self.row_filter[0])
        return cols


def normalise_header(name: str) -> str:
    """``'"# Timestamp"'`` -> ``'timestamp'``: compare headers without case, quotes, '#'."""
    return name.strip().strip('"').strip("\ufeff").lstrip("#").strip().lower()


# -- converters (each takes Arrow string arrays, returns Converted) --------------------


def _is_null(arr: Any, tokens: list[str], lower: bool = True) -> Any:
    trimmed = pc.utf8_trim_whitespace(arr)
    key = pc.utf8_lower(trimmed) if lower else trimmed
    return pc.or_kleene(pc.is_null(arr), pc.is_in(key, value_set=pa.array(tokens)))


def _parse_float(arr: Any) -> Converted:
    """Numbers; null tokens -> null; unreadable or non-finite -> bad (and null)."""
    null = _is_null(arr, NULL_TOKENS)
    cleaned = pc.if_else(null, pa.scalar(None, pa.string()), pc.utf8_trim_whitespace(arr))
    try:
        values = pc.cast(cleaned, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pa.array([_float_or_nan(v) for v in cleaned.to_pylist()], pa.float64())
    np_values = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    given = ~np.asarray(null.to_numpy(zero_copy_only=False), dtype=bool)
    bad = given & ~np.isfinite(np_values)
    ok = given & ~bad
    return Converted(pa.array(np.where(ok, np_values, 0.0), mask=~ok), bad)


def _float_or_nan(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return math.nan


def number(
    divide: float = 1.0,
    *,
    na: float | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> Converter:
    """A decimal number divided by ``divide`` (10 for tenths); ``na`` (raw) means not available;
    outside lo..hi (after dividing) is bad."""

    def convert(arr: Any) -> Converted:
        c = _parse_float(arr)
        raw = c.values.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(c.values.is_null().to_numpy(zero_copy_only=False))
        not_available = valid & (raw == na) if na is not None else np.zeros(len(raw), bool)
        value = raw / divide
        bad = c.bad.copy()
        if lo is not None:
            bad |= valid & ~not_available & (value < lo)
        if hi is not None:
            bad |= valid & ~not_available & (value > hi)
        ok = valid & ~not_available & ~bad
        return Converted(pa.array(np.where(ok, value, 0.0), mask=~ok), bad)

    return convert


def integer(
    *,
    na: Sequence[int] = (),
    lo: int | None = None,
    hi: int | None = None,
    out_of_range_is_null: bool = False,
) -> Converter:
    """A whole number (``70`` or ``70.0``); ``na`` codes -> null; outside lo..hi bad (or null)."""

    def convert(arr: Any) -> Converted:
        c = _parse_float(arr)
        raw = c.values.to_numpy(zero_copy_only=False)
        valid = ~np.asarray(c.values.is_null().to_numpy(zero_copy_only=False))
        bad = c.bad | (valid & (np.floor(np.where(valid, raw, 0.0)) != np.where(valid, raw, 0.0)))
        as_int = np.where(valid & ~bad, raw, 0).astype(np.int64)
        null = ~valid | bad | np.isin(as_int, list(na))
        out_of_range = np.zeros(len(raw), bool)
        if lo is not None:
            out_of_range |= as_int < lo
        if hi is not None:
            out_of_range |= as_int > hi
        out_of_range &= ~null
        if out_of_range_is_null:
            null |= out_of_range
        else:
            bad |= out_of_range
            null |= out_of_range
        return Converted(pa.array(as_int, mask=null), bad)

    return convert


def text(arr: Any) -> Converted:
    """Free text, trimmed (also of AIS '@' padding); empty -> null."""
    trimmed = pc.utf8_trim_whitespace(pc.utf8_trim(arr, characters="@"))
    null = _is_null(trimmed, TEXT_NULL_TOKENS, lower=False)
    return Converted.of(pc.if_else(null, pa.scalar(None, pa.string()), trimmed))


def imo(arr: Any) -> Converted:
    """``IMO9307839`` or ``9307839``; 0 -> null. (The IMO check digit is for the detectors.)"""
    stripped = pc.replace_substring_regex(
        pc.utf8_trim_whitespace(arr), pattern="^(?i:IMO)\\s*", replacement=""
    )
    return integer(na=(0,), lo=1, hi=999_999_999)(stripped)


def times(*formats: str) -> Converter:
    """Naive date-time text in UTC, in the first of ``formats`` that reads it."""

    def convert(arr: Any) -> Converted:
        null = _is_null(arr, NULL_TOKENS)
        trimmed = pc.utf8_trim_whitespace(arr)
        result = pa.nulls(len(arr), pa.timestamp("us"))
        for fmt in formats:
            parsed = pc.strptime(trimmed, format=fmt, unit="us", error_is_null=True)
            result = pc.coalesce(result, parsed)
        values = pc.cast(result, pa.int64())
        given = ~null.to_numpy(zero_copy_only=False)
        bad = given & values.is_null().to_numpy(zero_copy_only=False)
        return Converted(values, bad)

    return convert


def compact_time_with_millis(time_arr: Any, millis_arr: Any) -> Converted:
    """AISdb: ``20210701_185151`` plus a ``Millisecond`` column."""
    base = times("%Y%m%d_%H%M%S")(time_arr)
    ms = integer(lo=0, hi=999, out_of_range_is_null=True)(millis_arr)
    ms_np = ms.values.fill_null(0).to_numpy(zero_copy_only=False)
    values = pc.add(base.values, pa.array(ms_np * 1000))
    return Converted(values, base.bad)


_NAV_STATUS_TEXT: Final = {
    "underwayusingengine": 0,
    "atanchor": 1,
    "notundercommand": 2,
    "restrictedmanoeuverability": 3,
    "restrictedmaneuverability": 3,
    "restrictedmanoeuvrability": 3,
    "constrainedbyherdraught": 4,
    "moored": 5,
    "aground": 6,
    "engagedinfishing": 7,
    "underwaysailing": 8,
    "reservedforfutureamendmenthsc": 9,
    "reservedforfutureamendmentwig": 10,
    "powerdrivenvesseltowingastern": 11,
    "powerdrivenvesselpushingaheadortowingalongside": 12,
    "reservedforfutureuse": 13,
    "aissart": 14,
    "aissartisactive": 14,
    "unknownvalue": 15,
    "undefined": 15,
    "unknown": 15,
}


def nav_status_text(arr: Any) -> Converted:
    """DMA's words (``Under way using engine``) -> ITU navigational status code."""
    keys = pc.replace_substring_regex(pc.utf8_lower(arr), pattern="[^a-z]", replacement="")
    lookup = pa.array(list(_NAV_STATUS_TEXT))
    codes = pa.array(list(_NAV_STATUS_TEXT.values()), pa.int64())
    pos = pc.index_in(keys, value_set=lookup)
    values = pc.take(codes, pos)
    given = ~_is_null(arr, [""]).to_numpy(zero_copy_only=False)
    bad = given & pos.is_null().to_numpy(zero_copy_only=False)
    return Converted(values, bad)


# -- the layouts ------------------------------------------------------------------------

_LAT = number(lo=-91, hi=91)  # 91 = not available, rejected with the row
_LON = number(lo=-181, hi=181)
_SOG = number(na=102.3, lo=0, hi=102.3)
_COG = number(lo=0, hi=360)  # 360 = not available -> null below
_HEADING = number(na=511, lo=0, hi=511)  # 360..510 are invalid -> null below
_STATUS = integer(lo=0, hi=15, out_of_range_is_null=True)
_SHIP_TYPE = integer(na=(0,), lo=1, hi=255, out_of_range_is_null=True)
_MMSI = integer(lo=0, hi=999_999_999)  # 0 and other invalid MMSIs are kept
_DIM = integer(lo=0, hi=511)
_METRES = number(lo=0, hi=1000)
_MSG_TYPE = integer(lo=1, hi=27)

LAYOUTS: list[CsvLayout] = [
    CsvLayout(
        name="noaa",
        description="NOAA MarineCadastre AIS CSV",
        delimiter=",",
        signature=frozenset({"mmsi", "basedatetime", "lat", "lon", "sog", "cog"}),
        columns={
            "mmsi": Col.of("MMSI", _MMSI),
            "time": Col.of("BaseDateTime", times("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")),
            "lat": Col.of("LAT", _LAT),
            "lon": Col.of("LON", _LON),
            "sog": Col.of("SOG", _SOG),
            "cog": Col.of("COG", _COG),
            "heading": Col.of("Heading", _HEADING),
            "nav_status": Col.of("Status", _STATUS),
            "name": Col.of("VesselName", text),
            "imo": Col.of("IMO", imo),
            "callsign": Col.of("CallSign", text),
            "ship_type": Col.of("VesselType", _SHIP_TYPE),
            "length": Col.of("Length", _METRES),
            "width": Col.of("Width", _METRES),
            "draught": Col.of("Draft", _METRES),
        },
    ),
    CsvLayout(
        name="dma",
        description="Danish Maritime Authority AIS CSV (aisdk)",
        delimiter=",",
        signature=frozenset({"timestamp", "type of mobile", "mmsi", "latitude", "longitude"}),
        columns={
            "mmsi": Col.of("MMSI", _MMSI),
            "time": Col.of("Timestamp", times("%d/%m/%Y %H:%M:%S")),
            "lat": Col.of("Latitude", _LAT),
            "lon": Col.of("Longitude", _LON),
            "sog": Col.of("SOG", _SOG),
            "cog": Col.of("COG", _COG),
            "heading": Col.of("Heading", _HEADING),
            "nav_status": Col.of("Navigational status", nav_status_text),
            "imo": Col.of("IMO", imo),
            "callsign": Col.of("Callsign", text),
            "name": Col.of("Name", text),
            "ship_type_text": Col.of("Ship type", text),
            "width": Col.of("Width", _METRES),
            "length": Col.of("Length", _METRES),
            "draught": Col.of("Draught", _METRES),
            "destination": Col.of("Destination", text),
            "to_bow": Col.of("A", _DIM),
            "to_stern": Col.of("B", _DIM),
            "to_port": Col.of("C", _DIM),
            "to_starboard": Col.of("D", _DIM),
        },
        row_filter=("Type of mobile", frozenset({"class a", "class b"})),
    ),
    CsvLayout(
        name="aisdb",
        description="AISdb decoded AIS export (one row per message, ~130 columns)",
        delimiter=",",
        signature=frozenset({"mmsi", "message_id", "time", "millisecond", "latitude", "longitude"}),
        columns={
            "mmsi": Col.of("MMSI", _MMSI),
            "msg_type": Col.of("Message_ID", _MSG_TYPE),
            "time": Col.of(("Time", "Millisecond"), compact_time_with_millis),
            "lat": Col.of("Latitude", _LAT),
            "lon": Col.of("Longitude", _LON),
            "sog": Col.of("SOG", number(na=102.3, lo=0, hi=102.3)),
            "cog": Col.of("COG", _COG),
            "heading": Col.of("Heading", _HEADING),
            "nav_status": Col.of("Navigational_status", _STATUS),
            "accuracy": Col.of("Accuracy", integer(lo=0, hi=1)),
            "name": Col.of("Vessel_Name", text),
            "callsign": Col.of("Call_sign", text),
            "imo": Col.of("IMO", imo),
            "ship_type": Col.of("Ship_Type", _SHIP_TYPE),
            "to_bow": Col.of("Dimension_to_Bow", _DIM),
            "to_stern": Col.of("Dimension_to_stern", _DIM),
            "to_port": Col.of("Dimension_to_port", _DIM),
            "to_starboard": Col.of("Dimension_to_starboard", _DIM),
            "draught": Col.of("Draught", number(10, na=0, lo=0, hi=25.5)),  # decimetres
            "destination": Col.of("Destination", text),
        },
        identity_on_every_row=False,
    ),
    CsvLayout(
        name="baltic_decoded",
        description="Decoded Baltic AIS sample (Argenni/AIS_data_reconstruction), ';'-separated",
        delimiter=";",
        signature=frozenset({"timestamp_pretty", "msgid", "mmsi", "lat", "long", "sog", "cog"}),
        columns={
            "mmsi": Col.of("mmsi", _MMSI),
            "msg_type": Col.of("msgid", _MSG_TYPE),
            # The pretty form has full precision; some Unix-ms cells are rounded (1.522551e+12).
            "time": Col.of("timestamp_pretty", times("%d/%m/%Y %H:%M:%S")),
            "lat": Col.of("lat", _LAT),
            "lon": Col.of("long", _LON),
            "accuracy": Col.of("posacc", integer(lo=0, hi=1)),
            "sog": Col.of("sog", _SOG),
            "cog": Col.of("cog", _COG),
            "ship_type_text": Col.of("shipType", text),
            "to_bow": Col.of("dimBow", _DIM),
            "to_stern": Col.of("dimStern", _DIM),
            "to_port": Col.of("dimPort", _DIM),
            "to_starboard": Col.of("dimStarboard", _DIM),
            "draught": Col.of("draught", number(na=0, lo=0, hi=25.5)),
            "imo": Col.of("imo", imo),
            "name": Col.of("name", text),
            "callsign": Col.of("callsign", text),
        },
    ),
    CsvLayout(
        name="marinetraffic",
        description="MarineTraffic-style export (Gibraltar sample), ';'-separated, x10 units",
        delimiter=";",
        signature=frozenset({"mmsi", "ship_id", "speed_knotsx10", "lon", "lat", "timestamp_utc"}),
        columns={
            "mmsi": Col.of("MMSI", _MMSI),
            "nav_status": Col.of("STATUS", _STATUS),
            "sog": Col.of("SPEED_KNOTSx10", number(10, na=1023, lo=0, hi=102.3)),
            "lon": Col.of("LON", _LON),
            "lat": Col.of("LAT", _LAT),
            "cog": Col.of("COURSE", _COG),
            "heading": Col.of("HEADING", _HEADING),
            "time": Col.of("TIMESTAMP_UTC", times("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")),
            "ship_type_text": Col.of("VESSEL_TYPE", text),
            "length": Col.of("LENGTH", _METRES),
            "width": Col.of("WIDTH", _METRES),
            "draught": Col.of("DRAUGHT_METERSx10", number(10, na=0, lo=0, hi=25.5)),
        },
    ),
]

IDENTITY_FIELDS: Final = (
    "imo",
    "name",
    "callsign",
    "ship_type",
    "ship_type_text",
    "to_bow",
    "to_stern",
    "to_port",
    "to_starboard",
    "draught",
    "destination",
    "length",
    "width",
)
POSITION_FIELDS: Final = ("sog", "cog", "heading", "nav_status", "accuracy")


def find_layout(header: Sequence[str]) -> CsvLayout | None:
    """The layout whose signature columns are all in this header (most specific first)."""
    names = {normalise_header(h) for h in header}
    matches = [lay for lay in LAYOUTS if lay.signature <= names]
    return max(matches, key=lambda lay: len(lay.signature)) if matches else None


def split_header(line: str) -> tuple[str, list[str]] | None:
    """Guess the delimiter of a header line: ``(delimiter, names)``."""
    best: tuple[str, list[str]] | None = None
    for delim in (",", ";", "\t", "|"):
        names = [normalise_header(n) for n in line.rstrip("\r\n").split(delim)]
        if len(names) > 1 and (best is None or len(names) > len(best[1])):
            best = (delim, names)
    return best


@dataclass
class MappedRows:
    """One batch of CSV rows mapped onto our fields (Arrow arrays), with per-row problems."""

    fields: dict[str, Any]  # field name -> pa.Array (times as int64 microseconds)
    keep: B  # rows of a kind we store (row_filter)
    bad: dict[str, B]  # source column -> rows whose cell could not be read

    def __len__(self) -> int:
        return len(self.keep)


def map_columns(layout: CsvLayout, table: Any, header_map: dict[str, str]) -> MappedRows:
    """Apply ``layout`` to a pyarrow Table of string columns named as in the file.

    ``header_map`` maps normalised header names to the file's own column names.
    Columns the file lacks become nulls.
    """
    n = table.num_rows
    fields: dict[str, Any] = {}
    bad: dict[str, B] = {}
    for name, col in layout.columns.items():
        arrays = []
        for src in col.sources:
            real = header_map.get(normalise_header(src))
            arrays.append(
                table.column(real).combine_chunks()
                if real is not None
                else pa.nulls(n, pa.string())
            )
        converted = col.convert(*arrays)
        fields[name] = converted.values
        if converted.bad.any():
            bad[col.sources[0]] = converted.bad
    for name in ("cog", "heading"):  # cog 360 means "not available"; heading 360-510 invalid
        if name in fields:
            v = fields[name]
            fields[name] = pc.if_else(pc.greater_equal(v, 360.0), pa.scalar(None, pa.float64()), v)
    keep = np.ones(n, bool)
    if layout.row_filter is not None:
        real = header_map.get(normalise_header(layout.row_filter[0]))
        if real is not None:
            kinds = pc.utf8_lower(pc.utf8_trim_whitespace(table.column(real).combine_chunks()))
            allowed = pa.array(sorted(layout.row_filter[1]))
            keep = pc.is_in(kinds, value_set=allowed).to_numpy(zero_copy_only=False)
    return MappedRows(fields, keep, bad)


def time_us(values: Any) -> npt.NDArray[np.int64]:
    """An int64 Arrow array of microseconds -> numpy, ``NO_TIME`` for nulls."""
    return np.asarray(values.fill_null(NO_TIME).to_numpy(zero_copy_only=False), dtype=np.int64)


def now_us() -> int:
    return int(datetime.now(UTC).timestamp() * 1_000_000)
