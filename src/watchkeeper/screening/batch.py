"""Batch screening: yente match queries as JSON lines, or a customer file as CSV with a
column mapping, screened one record at a time. A bad record becomes an error line
naming the line and what was wrong; the batch goes on."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from watchkeeper.errors import InputError
from watchkeeper.screening.engine import DEFAULT_THRESHOLD, Query, Screener
from watchkeeper.screening.query_names import NAME_PART_PROPS

# CSV columns read without a mapping when the header already uses these names.
DEFAULT_CSV_COLUMNS = ("id", "schema", "name", "alias", "birthDate", "country", "nationality")


@dataclass
class BatchOptions:
    threshold: float = DEFAULT_THRESHOLD
    limit: int = 5
    schema: str = "LegalEntity"


def parse_column_mapping(text: str | None) -> dict[str, str]:
    """``name=Customer Name,birthDate=DOB`` -> {"name": "Customer Name", ...}."""
    mapping: dict[str, str] = {}
    if not text:
        return mapping
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        prop, sep, column = part.partition("=")
        if not sep or not prop.strip() or not column.strip():
            raise InputError(None, f"column mapping {part!r} is not PROPERTY=COLUMN")
        mapping[prop.strip()] = column.strip()
    return mapping


def _describe(exc: InputError) -> str:
    where = f"field {exc.field!r}: " if exc.field else ""
    return where + exc.message


def query_from_json_line(line: str, lineno: int) -> Query:
    """One JSON line -> Query; ``InputError`` naming the line on anything wrong."""
    try:
        body = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(
            None, f"malformed JSON: {exc.msg} (column {exc.colno})", line=lineno
        ) from exc
    try:
        # A lone surrogate escape ("\\ud800") is not text: it could be neither audited
        # nor written out, so the record is refused like any other bad one.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start]
        raise InputError(
            None, f"not valid Unicode: a lone surrogate (U+{ord(bad):04X})", line=lineno
        ) from exc
    try:
        return Query.from_yente(body)
    except InputError as exc:
        raise InputError(None, _describe(exc), line=lineno) from exc


def _line_id(line: str) -> Any:
    try:
        body = json.loads(line)
    except json.JSONDecodeError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    # An id holding a lone surrogate is shown escaped (it cannot be written as is).
    return found.encode("utf-8", "backslashreplace").decode() if isinstance(found, str) else found


def records_from_jsonl(
    lines: Iterable[str | bytes],
) -> Iterator[tuple[int, Any, Query | InputError]]:
    """(line number, query id, Query or the error) for each non-blank line."""
    for lineno, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield lineno, None, InputError(None, f"not UTF-8 text: {exc.reason}", line=lineno)
                continue
        else:
            line = raw
        if not line.strip():
            continue
        try:
            query = query_from_json_line(line, lineno)
        except InputError as exc:
            yield lineno, _line_id(line), exc
            continue
        yield lineno, query.id, query


def records_from_csv(
    handle: TextIO, mapping: dict[str, str], default_schema: str
) -> Iterator[tuple[int, Any, Query | InputError]]:
    """Rows of a CSV file with a header; ``mapping`` is property -> column name."""
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    if not header:
        raise InputError(None, "the CSV input has no header row", line=1)
    if not mapping:
        mapping = {c: c for c in header if c in DEFAULT_CSV_COLUMNS}
    missing = [c for c in mapping.values() if c not in header]
    if missing:
        raise InputError(
            None,
            f"column(s) {', '.join(repr(c) for c in missing)} not in the CSV header "
            f"({', '.join(header)})",
            line=1,
        )
    if (
        "name" not in mapping
        and not any(p in NAME_PART_PROPS for p in mapping)
        and not any(p.endswith("Number") for p in mapping)
    ):
        raise InputError(
            None,
            "no column is mapped to 'name' or to name parts "
            "(use --csv-columns name=COLUMN, or firstName=...,lastName=...)",
        )
    for row in reader:
        lineno = reader.line_num
        row_id = row.get(mapping["id"]) if "id" in mapping else str(lineno)
        if None in row:
            yield lineno, row_id, InputError(None, "more fields than the header has", line=lineno)
            continue
        properties: dict[str, list[str]] = {}
        schema = default_schema
        for prop, column in mapping.items():
            value = (row.get(column) or "").strip()
            if prop == "id":
                continue
            if prop == "schema":
                schema = value or default_schema
                continue
            if value:
                properties.setdefault(prop, []).append(value)
        if schema == "LegalEntity" and any(p in NAME_PART_PROPS for p in properties):
            schema = "Person"  # given and family names: only people have them
        try:
            query = Query.from_yente({"id": row_id, "schema": schema, "properties": properties})
        except InputError as exc:
            yield lineno, row_id, InputError(None, _describe(exc), line=lineno)
            continue
        yield lineno, row_id, query


def screen_records(
    screener: Screener,
    records: Iterable[tuple[int, Any, Query | InputError]],
    options: BatchOptions,
) -> Iterator[dict[str, Any]]:
    """One output object per record: ``{"id", "results"}`` or ``{"id", "error"}``."""
    for lineno, record_id, item in records:
        if isinstance(item, InputError):
            yield {"id": record_id, "error": f"line {lineno}: {_describe(item)}"}
            continue
        hits = screener.screen(item, threshold=options.threshold, limit=options.limit)
        yield {"id": record_id, "results": [h.to_yente() for h in hits]}
