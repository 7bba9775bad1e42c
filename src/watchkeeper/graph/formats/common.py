"""What the graph readers share: opening (optionally gzipped) files, reading JSON as an
array, one object or JSON lines, partial dates, percentage strings, and the last step
of every load (nodes for parties a relation names but no record describes)."""

from __future__ import annotations

import gzip
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

from watchkeeper.errors import InputError
from watchkeeper.graph.model import GraphBatch, Node, Relation, Share


def open_text(path: Path) -> TextIO:
    """A file as text (UTF-8, a BOM dropped); ``.gz`` files are decompressed."""
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


@dataclass(frozen=True)
class JsonRecord:
    """One record of a JSON file: ``index`` counts from 0 in an array (the ``$[i]`` of
    JSON Schema messages); ``line`` is the file line of a JSON-lines record."""

    index: int
    line: int | None
    value: Any

    def where(self, field: str = "") -> str:
        """The field's path as JSON Schema tools write it: ``$[3].recordDetails.name``
        for an array element, ``recordDetails.name`` for a JSON-lines record."""
        if self.line is not None:
            return field
        head = f"$[{self.index}]"
        if not field:
            return head
        return head + (field if field.startswith("[") else "." + field)

    def error(self, path: Path, message: str, field: str = "") -> InputError:
        # An array element is named by its path ($[3].recordDetails...), a JSON line by its line.
        return InputError(path, message, line=self.line, field=self.where(field) or None)


def read_json_records(path: Path) -> Iterator[JsonRecord]:
    """The records of a JSON array, a single JSON object (one record) or JSON lines
    (one object per line; blank lines skipped). JSON lines are streamed, so files of
    millions of statements do not need to fit in memory as one document."""
    try:
        with open_text(path) as handle:
            head = handle.read(4096)
            first = head.lstrip()[:1]
            if first == "[":
                text = head + handle.read()
                yield from _array_records(path, text)
                return
            if first != "{":
                if not head.strip():
                    raise InputError(path, "empty file: expected JSON or JSON lines")
                raise InputError(path, "not JSON: expected '[' or '{' at the start", line=1)
            handle.seek(0)
            first_line = handle.readline()
            if _is_json_object(first_line):
                yield from _line_records(path, first_line, handle)
                return
            text = first_line + handle.read()
    except UnicodeDecodeError as exc:
        raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise InputError(path, f"cannot read: {exc}") from None
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(
            path, f"not JSON: {_json_reason(exc)}", line=getattr(exc, "lineno", None)
        ) from None
    yield JsonRecord(0, None, value)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _json_reason(exc: Exception) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"


def _array_records(path: Path, text: str) -> Iterator[JsonRecord]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(
            path, f"not JSON: {_json_reason(exc)}", line=getattr(exc, "lineno", None)
        ) from None
    for index, item in enumerate(value):
        yield JsonRecord(index, None, item)


def _line_records(path: Path, first_line: str, rest: TextIO) -> Iterator[JsonRecord]:
    index = 0
    for number, line in enumerate(_chain(first_line, rest), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InputError(path, f"not a JSON line: {_json_reason(exc)}", line=number) from None
        yield JsonRecord(index, number, value)
        index += 1


def _chain(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


# Partial dates as FollowTheMoney and registers write them: "2019", "2019-05",
# "2019-05-03", optionally with a time ("2019-05-03T10:00:00Z"), which is dropped.
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][0-9:.+\-Z]*)?$")


@lru_cache(maxsize=65536)  # registers repeat the same dates; a date is immutable
def parse_date(text: str, *, end: bool = False) -> date:
    """A full or partial date. A partial ``start`` is the first day of its period; a
    partial ``end`` is the day *after* its period ("2019" -> 2020-01-01), because
    ``Relation.end`` is exclusive and "ended in 2019" may mean 31 December. Raises
    ``ValueError`` on anything else."""
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else None
    day = int(match.group(3)) if match.group(3) else None
    if year < 1 or (month is not None and not 1 <= month <= 12):
        raise ValueError(f"{text!r} is not a date")
    if day is not None:
        assert month is not None
        return date(year, month, day)  # ValueError on 2019-02-30
    if month is not None:
        if not end:
            return date(year, month, 1)
        return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    if not end:
        return date(year, 1, 1)
    if year >= 9999:
        raise ValueError(f"{text!r} is beyond the calendar")
    return date(year + 1, 1, 1)


# "50", "50%", "50.5", "50,5 %", "25-50", "25 to 50", "<25%", ">50", ">=50", "≥ 50"
_NUMBER = r"(\d+(?:[.,]\d+)?)"
_RANGE = re.compile(rf"^{_NUMBER}\s*%?\s*(?:-|–|to)\s*{_NUMBER}\s*%?$", re.IGNORECASE)
_BOUND = re.compile(rf"^(<=|>=|≤|≥|<|>)\s*{_NUMBER}\s*%?$")
_SINGLE = re.compile(rf"^{_NUMBER}\s*%?$")


def _number(text: str) -> float:
    return float(text.replace(",", "."))


@lru_cache(maxsize=65536)  # a Share is frozen
def parse_percentage(text: str, *, unit: float = 100.0) -> Share:
    """A percentage string as a ``Share`` of fractions, never rounded: "50" and "50%"
    are exactly one half; "25-50" is the range 25%..50%; ">50" is more than half (the
    low bound exclusive) up to everything; "<25%" is nothing up to less than a quarter.
    ``unit`` is what a whole is written as (100 for percentages, 1 for fractions).
    Raises ``ValueError`` on anything else or on values outside 0..unit."""
    value = text.strip()
    if match := _SINGLE.match(value):
        return Share.exact(_fraction(match.group(1), unit, text))
    if match := _RANGE.match(value):
        low, high = _fraction(match.group(1), unit, text), _fraction(match.group(2), unit, text)
        if low > high:
            raise ValueError(f"share {text!r}: the range runs backwards")
        return Share(low, high)
    if match := _BOUND.match(value):
        sign, bound = match.group(1), _fraction(match.group(2), unit, text)
        if sign in ("<", "<=", "≤"):
            return Share(0.0, bound, high_exclusive=sign == "<")
        return Share(bound, 1.0, low_exclusive=sign == ">")
    raise ValueError(f"share {text!r} is not a percentage (50, 50%, 25-50, <25%, >50)")


def _fraction(number: str, unit: float, text: str) -> float:
    value = _number(number)
    if not math.isfinite(value) or not 0.0 <= value <= unit:
        raise ValueError(f"share {text!r} is outside 0..{unit:g}")
    return value / unit


def merge_nodes(first: Node, second: Node) -> Node:
    """One party stated twice (two files, or a BODS record updated): the later record's
    name, schema and country win when it states them; identifiers are united."""
    identifiers = {k: tuple(v) for k, v in first.identifiers.items()}
    for kind, values in second.identifiers.items():
        known = identifiers.get(kind, ())
        identifiers[kind] = known + tuple(v for v in values if v not in known)
    return Node(
        id=second.id,
        name=second.name or first.name,
        schema=second.schema or first.schema,
        country=second.country or first.country,
        identifiers=identifiers,
        unknown=second.unknown,
        source_ref=second.source_ref or first.source_ref,
    )


def finish_batch(
    source: str,
    files: list[str],
    nodes: dict[str, Node],
    relations: list[Relation],
    replaced: set[str],
    counts: dict[str, int],
) -> GraphBatch:
    """The batch a reader hands back. A party that relations name but no record in the
    files describes gets a node of its own (name: its source id, ``source_ref`` empty),
    counted as ``placeholder_nodes``, so every relation's ends exist."""
    for relation in relations:
        for end in (relation.holder, relation.held):
            if end not in nodes:
                nodes[end] = Node(id=end, name=end.removeprefix(f"{source}:"), schema="LegalEntity")
    placeholders = sum(1 for node in nodes.values() if not node.source_ref)
    counts = dict(counts)
    counts["nodes"] = len(nodes)
    counts["relations"] = len(relations)
    counts["placeholder_nodes"] = placeholders
    counts["replaced"] = len(replaced)
    return GraphBatch(
        source=source,
        files=files,
        nodes=list(nodes.values()),
        relations=relations,
        replaced=replaced,
        counts=counts,
    )


def check_source(source: str) -> str:
    """A load's name, the prefix (``<source>:``) of its node and relation ids."""
    name = source.strip()
    if not name:
        raise InputError(None, "a graph load needs a source name", field="source")
    return name
