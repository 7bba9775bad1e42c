"""Shipments in: CSV, JSON lines and XLSX files read through a layout into
``ShipmentLine`` records and stored, one transaction per file (per set of files for
a joined layout such as the CBP AMS extract), all or nothing.

Values are normalised as they are read: countries to ISO 3166-1 alpha-2 (names or
codes, by ``rigour``), dates to ``date``, HS codes to digits, weights to kilograms.
A value that cannot be read is an ``InputError`` naming the file, the row (header is
row 1) and the column, and nothing of that file is stored.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import math
import re
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchkeeper.cargo.hs import hs_digits
from watchkeeper.cargo.layouts import (
    FIELD_KINDS,
    FieldSpec,
    Layout,
    Table,
    detect_layout,
    get_layout,
)
from watchkeeper.cargo.model import Mode, Party, ShipmentLine
from watchkeeper.errors import InputError
from watchkeeper.io import logical_name, open_binary, open_text

if TYPE_CHECKING:
    from watchkeeper.store import Store

Row = dict[str, Any]

# ---------------------------------------------------------------------------
# Readers: (row number, {column: value}) from each format; header is row 1.
# ---------------------------------------------------------------------------


def _header(path: Path, names: Sequence[Any], line: int = 1) -> list[str]:
    columns = ["" if n is None else str(n).strip() for n in names]
    if not any(columns):
        raise InputError(path, "the header row is empty", line=line)
    seen: set[str] = set()
    for c in columns:
        if c and c.lower() in seen:
            raise InputError(path, f"column {c!r} appears twice in the header", line=line)
        seen.add(c.lower())
    return [c.lower() for c in columns]


# A file that starts like gzip but is not (or is cut short) fails in the decompressor.
_BAD_GZIP = (gzip.BadGzipFile, zlib.error, EOFError)


def read_csv(path: Path) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """Columns (lower case) and rows of a CSV file (plain or gzip, UTF-8, BOM allowed).
    The rows open the file again when first asked for, so columns alone hold no file."""
    with open_text(path, encoding="utf-8-sig") as fh:
        try:
            head = fh.readline()
            # European exports use ';', some tools tabs or '|': the header says which.
            delimiter = max(",;\t|", key=head.count) if head else ","
            first = next(csv.reader([head], delimiter=delimiter), None)
        except (csv.Error, UnicodeDecodeError, *_BAD_GZIP) as exc:
            raise InputError(path, f"not a readable CSV header: {exc}", line=1) from exc
    if first is None:
        raise InputError(path, "the file is empty", line=1)
    columns = _header(path, first)

    def rows() -> Iterator[tuple[int, Row]]:
        row_no = 1
        with open_text(path, encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            try:
                next(reader, None)  # the header, read above
                for cells in reader:
                    row_no += 1
                    if not cells or (len(cells) == 1 and not cells[0].strip()):
                        continue  # a blank line
                    if len(cells) != len(columns):
                        raise InputError(
                            path,
                            f"{len(cells)} cells where the header has {len(columns)} columns",
                            line=row_no,
                        )
                    yield row_no, dict(zip(columns, cells, strict=True))
            except (csv.Error, UnicodeDecodeError, *_BAD_GZIP) as exc:
                raise InputError(path, f"not readable as CSV: {exc}", line=row_no + 1) from exc

    return columns, rows()


def read_jsonl(path: Path) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """Columns (the keys of every record, lower case) and records of a JSON-lines file.
    Read whole: the columns are known only once every record has been seen."""
    records: list[tuple[int, Row]] = []
    keys: dict[str, None] = {}
    with open_text(path, encoding="utf-8-sig") as fh:
        line_no = 0
        try:
            for line_no, line in enumerate(fh, start=1):  # noqa: B007 (used in except)
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(path, f"not JSON: {exc.msg}", line=line_no) from exc
                if not isinstance(obj, dict):
                    raise InputError(
                        path, f"a record is a JSON object, not {type(obj).__name__}", line=line_no
                    )
                row = {str(k).strip().lower(): v for k, v in obj.items()}
                keys.update(dict.fromkeys(row))
                records.append((line_no, row))
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text: {exc}", line=line_no + 1) from exc
    if not records:
        raise InputError(path, "the file has no records", line=1)
    return list(keys), iter(records)


def read_xlsx(path: Path, sheet: str | None = None) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """Columns and rows of one sheet of an XLSX workbook (the first unless named)."""
    import openpyxl  # type: ignore[import-untyped]

    with open_binary(path) as fh:
        data = fh.read()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise InputError(path, f"not an XLSX workbook: {exc}") from exc
    except Exception as exc:  # openpyxl raises its own and lxml's errors on bad parts
        raise InputError(path, f"not a readable XLSX workbook: {exc}") from exc
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except (KeyError, IndexError) as exc:
        raise InputError(path, f"no sheet {sheet!r} in the workbook") from exc
    try:
        all_rows = list(ws.iter_rows(values_only=True))
    except Exception as exc:  # a damaged sheet part fails here, not at load
        raise InputError(path, f"a sheet of the workbook cannot be read: {exc}") from exc
    finally:
        book.close()
    if not all_rows:
        raise InputError(path, "the sheet is empty", line=1)
    columns = _header(path, all_rows[0])

    def rows() -> Iterator[tuple[int, Row]]:
        for row_no, cells in enumerate(all_rows[1:], start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue
            if len(cells) > len(columns) and any(c is not None for c in cells[len(columns) :]):
                raise InputError(path, "a cell right of the last named column", line=row_no)
            yield row_no, dict(zip(columns, cells, strict=False))

    return columns, rows()


def read_rows(
    path: Path, layout: Layout | None = None
) -> tuple[list[str], Iterator[tuple[int, Row]]]:
    """Columns and rows of a shipment file, by its extension (``.gz`` allowed)."""
    name = logical_name(path).lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return read_jsonl(path)
    if name.endswith((".xlsx", ".xlsm")):
        return read_xlsx(path, layout.sheet if layout else None)
    if name.endswith((".csv", ".txt")):
        return read_csv(path)
    raise InputError(path, "unknown file type (.csv, .jsonl, .xlsx, optionally .gz)")


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

_KG_PER = {
    "kg": 1.0, "kgs": 1.0, "kilogram": 1.0, "kilograms": 1.0, "k": 1.0,
    "lb": 0.45359237, "lbs": 0.45359237, "pound": 0.45359237, "pounds": 0.45359237, "l": 0.45359237,
    "t": 1000.0, "mt": 1000.0, "tonne": 1000.0, "tonnes": 1000.0, "metric ton": 1000.0,
    "metric tons": 1000.0, "g": 0.001, "gram": 0.001, "grams": 0.001,
}  # fmt: skip
_IMO = re.compile(r"^(?:IMO\s*)?(\d{7})$", re.IGNORECASE)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class BadValue(ValueError):
    """A value that cannot be read as its field's kind."""


@lru_cache(maxsize=8192)
def country_code(raw: str) -> str:
    """ISO 3166-1 alpha-2 (upper case) of a country name or code: 'Iran', 'IRN',
    'China (Mainland)', 'Korea, South' (rigour's territory names and codes)."""
    from rigour.territories import lookup_territory

    text = raw.strip()
    territory = lookup_territory(text)
    if territory is None:
        territory = lookup_territory(re.sub(r"\s*\(.*?\)\s*", " ", text).strip())
    code = None
    if territory is not None:
        code = territory.code if len(territory.code) == 2 else territory.ftm_country
    if not code or len(code) != 2:
        raise BadValue(f"{raw!r} is not a country this knows")
    return code.upper()


def _parse_date(raw: Any, formats: Sequence[str]) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    raise BadValue(f"{text!r} is not a date ({', '.join(('ISO', *formats))})")


def _parse_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise BadValue(f"{raw!r} is not a number")
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = str(raw).strip().replace(",", "").replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            raise BadValue(f"{raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise BadValue(f"{raw!r} is not a finite amount of zero or more")
    return value


_MODE_CODES: dict[str, Mode] = {"1": "sea", "2": "land", "3": "land", "4": "air"}


def _mode(raw: Any) -> Mode:
    text = str(raw).strip().lower()
    if text[:1].isdigit():  # US transport codes: 1x vessel, 2x rail, 3x road, 4x air
        return _MODE_CODES.get(text[0], "unknown")
    if any(w in text for w in ("vessel", "sea", "ocean", "maritime", "ship")):
        return "sea"
    if any(w in text for w in ("air", "flight")):
        return "air"
    if any(w in text for w in ("rail", "road", "truck", "land")):
        return "land"
    return "unknown"


def convert(
    kind: str, raw: Any, spec: FieldSpec, row: Mapping[str, Any], formats: Sequence[str]
) -> Any:
    """One field's value from its raw cell: raises BadValue when it cannot be read."""
    if isinstance(raw, dict | list):
        raise BadValue(f"a {type(raw).__name__} where a single value belongs")
    if spec.take == "after_comma":
        raw = str(raw).rsplit(",", 1)[-1]
    if kind == "date":
        return _parse_date(raw, formats)
    if kind in ("float", "weight"):
        value = _parse_float(raw)
        if kind == "weight":
            unit_raw = row.get(spec.unit_column) if spec.unit_column else None
            unit = str(unit_raw or spec.unit or "kg").strip().lower()
            if unit not in _KG_PER:
                raise BadValue(f"weight unit {unit!r} is not one of kg, lb, t, g")
            value *= _KG_PER[unit]
        return value
    if kind == "int":
        number = _parse_float(raw)
        if number != int(number) or number < 1:
            raise BadValue(f"{raw!r} is not a line number (1, 2, ...)")
        return int(number)
    text = str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))  # a spreadsheet's 271019.0
    if kind == "hs":
        if isinstance(raw, float) and not raw.is_integer():
            # A spreadsheet number: 8419.2 was typed 8419.20 (HS digits come in pairs).
            head, _, frac = repr(raw).partition(".")
            text = head + frac + "0" * (len(frac) % 2)
        return hs_digits(text)
    if kind == "country":
        return country_code(text)
    if kind == "countries":
        return tuple(country_code(p) for p in re.split(r"[;|/]", text) if p.strip())
    if kind == "currency":
        if not _CURRENCY.match(text.upper()):
            raise BadValue(f"{text!r} is not an ISO 4217 currency code")
        return text.upper()
    if kind == "imo":
        match = _IMO.match(text)
        if not match:
            raise BadValue(f"{text!r} is not an IMO number (7 digits)")
        return match.group(1)
    if kind == "mode":
        return _mode(text)
    return spec.prefix + text


# Kinds whose reading is worth remembering per distinct cell: manifests repeat their
# dates, countries, codes and parties on every line. Free text is read afresh.
_MEMO_KINDS = frozenset(
    {"date", "country", "countries", "hs", "currency", "imo", "mode", "weight", "int"}
)
_MEMO_MAX = 200_000


class TableReader:
    """Reads one table's fields and parties from rows, remembering each distinct cell's
    reading (a million lines hold a few thousand distinct dates, countries, parties)."""

    def __init__(self, table: Table, layout: Layout) -> None:
        self.table = table
        self.formats = layout.date_formats
        self.plan: list[tuple[str, FieldSpec, str, dict[Any, Any] | None, str | None]] = []
        for name, spec in table.fields.items():
            simple = (
                spec.columns[0]
                if spec.how == "column" and spec.value is None and spec.if_column is None
                else None
            )
            kind = FIELD_KINDS[name]
            self.plan.append((name, spec, kind, {} if kind in _MEMO_KINDS else None, simple))
        self.party_memo: dict[tuple[Any, ...], Party] = {}

    def fields(self, row: Row, path: Path, row_no: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec, kind, memo, simple in self.plan:
            raw = row.get(simple) if simple is not None else spec.read(row)
            if raw is None or raw == "":
                continue
            if memo is not None:
                key = raw if spec.unit_column is None else (raw, row.get(spec.unit_column))
                try:
                    out[name] = memo[key]
                    continue
                except (KeyError, TypeError):  # not seen yet, or a JSON list/object
                    pass
            if isinstance(raw, str):
                if kind == "text" and spec.take is None:  # the common case, inline
                    text = raw.strip()
                    if text:
                        out[name] = spec.prefix + text if spec.prefix else text
                    continue
                if not raw.strip():
                    continue
            try:
                value = convert(kind, raw, spec, row, self.formats)
            except (BadValue, ValueError) as exc:
                raise InputError(path, str(exc), line=row_no, field=spec.source) from exc
            if memo is not None and not isinstance(raw, list | dict):
                if len(memo) > _MEMO_MAX:
                    memo.clear()
                memo[key] = value
            out[name] = value
        return out

    def parties(self, row: Row, path: Path, row_no: int) -> list[Party]:
        found = []
        for role, specs in self.table.parties.items():
            cells = tuple(spec.read(row) for spec in specs.values())
            try:
                party = self.party_memo.get((role, *cells))
            except TypeError:  # a JSON list/object in a cell
                party = None
            if party is None:
                one = _party(role, specs, row, path, row_no)
                if one is None:
                    continue
                party = one
                if len(self.party_memo) > _MEMO_MAX:
                    self.party_memo.clear()
                with contextlib.suppress(TypeError):  # a JSON list/object in a cell
                    self.party_memo[(role, *cells)] = party
            found.append(party)
        return found


def _party(
    role: str, specs: dict[str, FieldSpec], row: Row, path: Path, row_no: int
) -> Party | None:
    name = specs["name"].read(row)
    if name is None or isinstance(name, list | dict) or not str(name).strip():
        return None
    country = None
    if "country" in specs and (raw := specs["country"].read(row)) not in (None, ""):
        try:
            if isinstance(raw, list | dict):
                raise BadValue(f"a {type(raw).__name__} where a country belongs")
            country = country_code(str(raw))
        except BadValue as exc:
            raise InputError(path, str(exc), line=row_no, field=specs["country"].source) from exc
    address = ""
    if "address" in specs:
        address = str(specs["address"].read(row) or "").strip()
    return Party(role=role, name=" ".join(str(name).split()), country=country, address=address)


# ---------------------------------------------------------------------------
# Files -> lines
# ---------------------------------------------------------------------------


def lines_of_file(path: Path, layout: Layout) -> list[ShipmentLine]:
    """The shipment lines of one file of a one-table layout."""
    return list(iter_lines_of_file(path, layout))


def iter_lines_of_file(path: Path, layout: Layout) -> Iterator[ShipmentLine]:
    """The shipment lines of one file of a one-table layout, as they are read."""
    columns, rows = read_rows(path, layout)
    table = layout.tables[0]
    if not table.matches(columns):
        raise InputError(path, f"not a {layout.name} file: it lacks columns {list(table.match)}")
    name = logical_name(path)
    reader = TableReader(table, layout)
    counters: dict[str, int] = defaultdict(int)
    for row_no, row in rows:
        values = reader.fields(row, path, row_no)
        sid = values.get("shipment_id")
        if not sid:
            raise InputError(
                path, "no shipment id", line=row_no, field=table.fields["shipment_id"].source
            )
        counters[sid] += 1
        values.setdefault("line_no", counters[sid])
        yield _line(values, reader.parties(row, path, row_no), f"{name}:{row_no}", layout)


def _line(
    values: dict[str, Any], parties: Sequence[Party], ref: str, layout: Layout
) -> ShipmentLine:
    notes = values.pop("notes", None)
    mode: Mode = _mode(values.pop("mode", None) or layout.mode)
    return ShipmentLine(
        source_ref=ref,
        layout=layout.name,
        mode=mode,
        parties=tuple(parties),
        notes=(notes,) if isinstance(notes, str) else tuple(notes or ()),
        **values,
    )


def lines_of_set(paths: Sequence[Path], layout: Layout) -> list[ShipmentLine]:
    """The shipment lines of a joined layout's files (any order), joined on its key."""
    key = str(layout.join_key).lower()
    by_table: dict[str, tuple[Table, Path, Iterator[tuple[int, Row]]]] = {}
    for path in paths:
        columns, rows = read_rows(path, layout)
        table = layout.table_for(columns)
        if table is None:
            need = "; ".join(f"{t.name}: {list(t.match)}" for t in layout.tables)
            raise InputError(path, f"matches no file of the {layout.name} layout ({need})")
        if table.name in by_table:
            raise InputError(
                path, f"a second {table.name} file in one set ({by_table[table.name][1]})"
            )
        by_table[table.name] = (table, path, rows)
    lines_table = next(t for t in layout.tables if t.role == "lines")
    if lines_table.name not in by_table:
        raise InputError(paths[0] if paths else None, f"the set has no {lines_table.name} file")

    headers: dict[str, dict[str, Any]] = defaultdict(dict)
    parties: dict[str, list[Party]] = defaultdict(list)
    details: dict[tuple[str, ...], tuple[dict[str, Any], str]] = {}
    extra_notes: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for table in layout.tables:  # layout order, so parties come out in a stable order
        if table.role == "lines" or table.name not in by_table:
            continue
        _, path, rows = by_table[table.name]
        reader = TableReader(table, layout)
        seen: set[str] = set()
        for row_no, row in rows:
            k = _key(row, key, path, row_no)
            if table.role == "header":
                if k in seen:
                    raise InputError(path, f"{key} {k!r} appears twice", line=row_no, field=key)
                seen.add(k)
                headers[k].update(reader.fields(row, path, row_no))
                parties[k].extend(reader.parties(row, path, row_no))
            elif table.role == "parties":
                parties[k].extend(reader.parties(row, path, row_no))
            else:
                dk = (k, *(str(row.get(c) or "").strip() for c in table.line_key))
                values = reader.fields(row, path, row_no)
                if dk in details:  # a second tariff row for one line: keep its code as a note
                    if "hs_code" in values:
                        extra_notes[dk].append(f"also declared HS {values['hs_code']}")
                    continue
                details[dk] = (values, f"{logical_name(path)}:{row_no}")

    table, path, rows = by_table[lines_table.name]
    name = logical_name(path)
    reader = TableReader(table, layout)
    counters: dict[str, int] = defaultdict(int)
    lines: list[ShipmentLine] = []
    for row_no, row in rows:
        k = _key(row, key, path, row_no)
        values = dict(headers.get(k, {}))
        notes = [values.pop("notes")] if "notes" in values else []
        values.update(reader.fields(row, path, row_no))
        dk = (k, *(str(row.get(c) or "").strip() for c in table.line_key))
        if dk in details:
            values.update(details[dk][0])
            notes.append(f"tariff row {details[dk][1]}")
        notes.extend(extra_notes.get(dk, ()))
        if "shipment_id" not in values:
            values["shipment_id"] = f"{layout.name}:{k}"
        counters[k] += 1
        values["line_no"] = counters[k]
        values["notes"] = tuple(notes)
        line_parties = [*parties.get(k, ()), *reader.parties(row, path, row_no)]
        lines.append(_line(values, line_parties, f"{name}:{row_no}", layout))
    return lines


def _key(row: Row, key: str, path: Path, row_no: int) -> str:
    value = row.get(key)
    if value is None or not str(value).strip():
        raise InputError(path, f"no {key}", line=row_no, field=key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# ---------------------------------------------------------------------------
# Ingest
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FileReport:
    """What happened to one file (or one set of files of a joined layout)."""

    paths: tuple[str, ...]
    layout: str
    status: str  # "ingested" | "already_ingested"
    batch_id: int
    lines: int
    shipments: int
    source_hash: str


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def lines(self) -> int:
        return sum(f.lines for f in self.files if f.status == "ingested")

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "files": [
                {
                    "paths": list(f.paths),
                    "layout": f.layout,
                    "status": f.status,
                    "batch_id": f.batch_id,
                    "lines": f.lines,
                    "shipments": f.shipments,
                    "source_hash": f.source_hash,
                }
                for f in self.files
            ],
        }


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes (as stored: a .gz file by its compressed bytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _layout_for(path: Path, layout: Layout | str | None) -> Layout:
    if isinstance(layout, Layout):
        return layout
    if layout is not None:
        return get_layout(layout)
    columns, _ = read_rows(path)
    found = detect_layout(columns)
    if found is None:
        raise InputError(path, "no layout knows these columns: name one with --layout")
    return found


def ingest_files(
    store: Store, paths: Sequence[str | Path], layout: Layout | str | None = None
) -> IngestReport:
    """Read and store shipment files: one transaction per file (per set of files for a
    joined layout, which takes all ``paths`` as one extract); a file already stored
    (same bytes) is skipped. Bad input raises InputError and stores nothing of that
    file; files before it stay stored."""
    from watchkeeper.cargo.columnar import columnar_lines
    from watchkeeper.cargo.store import batch_for_hash, paused_gc, store_batch, store_table

    files = [Path(p) for p in paths]
    for path in files:
        if not path.is_file():
            raise InputError(path, "no such file")
    report = IngestReport()
    units: list[tuple[Layout, list[Path]]] = []
    joined: dict[str, tuple[Layout, list[Path]]] = {}
    for path in files:
        lay = _layout_for(path, layout)
        if lay.joined:
            joined.setdefault(lay.name, (lay, []))[1].append(path)
        else:
            units.append((lay, [path]))
    units.extend(joined.values())
    for lay, unit in units:
        hashes = sorted(file_hash(p) for p in unit)
        source_hash = (
            hashes[0] if len(hashes) == 1 else hashlib.sha256("".join(hashes).encode()).hexdigest()
        )
        names = tuple(str(p) for p in unit)
        earlier = batch_for_hash(store, source_hash)
        if earlier is not None:
            report.files.append(
                FileReport(names, lay.name, "already_ingested", earlier.batch_id, earlier.lines,
                           earlier.shipments, source_hash)
            )  # fmt: skip
            continue
        # A one-table CSV reads column by column when it can; otherwise (and for any
        # bad value, which the row path then names) row by row.
        columns = None if lay.joined else columnar_lines(unit[0], lay)
        if columns is not None:
            batch = store_table(
                store, columns, sources=names, layout=lay.name, source_hash=source_hash
            )
        else:
            with paused_gc():
                lines = lines_of_set(unit, lay) if lay.joined else iter_lines_of_file(unit[0], lay)
                batch = store_batch(
                    store, lines, sources=names, layout=lay.name, source_hash=source_hash
                )
        report.files.append(
            FileReport(
                names,
                lay.name,
                "ingested",
                batch.batch_id,
                batch.lines,
                batch.shipments,
                source_hash,
            )
        )
    return report
