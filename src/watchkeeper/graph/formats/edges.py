"""A CSV edge list (a user's own register of shareholders, directors, managers) -> a
``GraphBatch``, through a column mapping.

One row is one relation: ``owner`` holds, directs or manages ``owned``. Columns, by
field (the default column name is the field's name):

- ``owner``, ``owned`` (required): the parties' names;
- ``owner_id``, ``owned_id``: the parties' ids in the register (default: the name);
- ``owner_type``, ``owned_type``: FtM schema (Person, Company, LegalEntity, Vessel...;
  default LegalEntity); ``owner_country``, ``owned_country``;
- ``share``: a percentage ("50", "50%", "25-50", ">50"; with ``share_unit=fraction``
  "0.5" is one half); ``role``; ``start``, ``end`` (YYYY, YYYY-MM or YYYY-MM-DD; a
  partial end is the day after its period); ``source`` (where the row says it comes
  from);
- ``kind``: one of ``RELATION_KINDS`` (or an FtM interval schema such as Ownership).
  Without it the kind follows the role: on a Vessel, a role naming a manager is
  ``vessel_manager`` and any other ``vessel_owner``; on an Airplane, an operator is
  ``aircraft_operator``; a director, board member, officer or secretary is
  ``directorship``; a member ``membership``; anything else ``ownership``.

A mapped value written in single quotes is a constant for every row:
``owned_type='Vessel'``. Node ids are ``<source>:<id>``; relation ids
``<source>:<file name>:<line>``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from followthemoney import model
from followthemoney.schema import Schema

from watchkeeper.errors import InputError
from watchkeeper.graph.formats.common import (
    check_source,
    finish_batch,
    open_text,
    parse_date,
    parse_percentage,
)
from watchkeeper.graph.model import RELATION_KINDS, GraphBatch, Node, Relation, RelationKind

_FTM_KINDS: dict[str, RelationKind] = {
    "ownership": "ownership",
    "directorship": "directorship",
    "membership": "membership",
    "family": "family",
    "associate": "associate",
    "unknownlink": "unknown_link",
    "representation": "representation",
}
_OPTIONAL = (
    "owner_id",
    "owned_id",
    "owner_country",
    "owned_country",
    "owner_type",
    "owned_type",
    "kind",
)
_DEFAULTED = ("owner", "owned", "share", "role", "start", "end", "source")


@dataclass(frozen=True)
class EdgeMapping:
    """Which column holds which field; ``None``: not in the file. ``explicit`` are the
    fields the user named (a named column missing from the file is an error; a default
    one missing is simply absent)."""

    owner: str = "owner"
    owned: str = "owned"
    share: str | None = "share"
    role: str | None = "role"
    start: str | None = "start"
    end: str | None = "end"
    source: str | None = "source"
    owner_id: str | None = None
    owned_id: str | None = None
    owner_country: str | None = None
    owned_country: str | None = None
    owner_type: str | None = None
    owned_type: str | None = None
    kind: str | None = None
    share_unit: Literal["percent", "fraction"] = "percent"
    explicit: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str) -> EdgeMapping:
        """``"owner=Shareholder,owned=Company,share=Pct"``: field=column pairs, the rest
        keeping their defaults. ``field='constant'`` gives every row that value."""
        names = {f.name for f in fields(cls)} - {"explicit"}
        chosen: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise InputError(
                    None, f"mapping {part.strip()!r} is not field=column", field=key or part
                )
            if key not in names:
                raise InputError(
                    None, f"unknown field {key!r}; fields: {', '.join(sorted(names))}", field=key
                )
            chosen[key] = value
        unit = chosen.pop("share_unit", "percent")
        if unit not in ("percent", "fraction"):
            raise InputError(
                None, f"share_unit {unit!r} is percent or fraction", field="share_unit"
            )
        return cls(
            **chosen,
            share_unit="fraction" if unit == "fraction" else "percent",
            explicit=frozenset(chosen),
        )

    def column(self, name: str) -> str | None:
        value: str | None = getattr(self, name)
        return value


def read_edge_csv(
    paths: Iterable[str | Path], source: str, mapping: EdgeMapping | None = None
) -> GraphBatch:
    """Read CSV edge lists (``,``, ``;``, tab or ``|`` separated; ``.gz`` allowed) into
    one batch. All or nothing: a bad row raises ``InputError`` with the file, the line
    and the column."""
    source = check_source(source)
    reader = EdgeReader(source, mapping or EdgeMapping())
    files = []
    for path in paths:
        files.append(str(path))
        reader.read_file(Path(path))
    return reader.finish(files)


@dataclass
class EdgeReader:
    source: str
    mapping: EdgeMapping
    nodes: dict[str, Node] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    file_names: dict[str, Path] = field(default_factory=dict)

    def finish(self, files: list[str]) -> GraphBatch:
        return finish_batch(self.source, files, self.nodes, self.relations, set(), self.counts)

    def _file_key(self, path: Path) -> str:
        """The file's name in relation ids; its whole path when two files share a name
        (2023/register.csv and 2024/register.csv)."""
        known = self.file_names.setdefault(path.name, path)
        return path.name if known == path else str(path)

    def read_file(self, path: Path) -> None:
        try:
            with open_text(path) as handle:
                head = handle.readline()
                dialect = _dialect(head)
                handle.seek(0)
                rows = csv.reader(handle, dialect)
                header = next(rows, None)
                if not header or not any(h.strip() for h in header):
                    raise InputError(path, "empty file: expected a header row", line=1)
                columns = self._columns(path, [h.strip() for h in header])
                key = self._file_key(path)
                for row in rows:
                    self._row(path, key, rows.line_num, row, columns, len(header))
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except csv.Error as exc:
            raise InputError(path, f"not CSV: {exc}") from None
        except (OSError, EOFError) as exc:
            raise InputError(path, f"cannot read: {exc}") from None

    def _columns(self, path: Path, header: list[str]) -> dict[str, int | str]:
        """field -> column index, or the constant every row takes."""
        out: dict[str, int | str] = {}
        for name in _DEFAULTED + _OPTIONAL:
            column = self.mapping.column(name)
            if column is None:
                continue
            if len(column) >= 2 and column[0] == column[-1] == "'":
                out[name] = column[1:-1]
            elif column in header:
                out[name] = header.index(column)
            elif name in ("owner", "owned") or name in self.mapping.explicit:
                raise InputError(
                    path,
                    f"no column {column!r} for {name} (columns: {', '.join(header)})",
                    line=1,
                    field=column,
                )
        return out

    def _row(
        self,
        path: Path,
        key: str,
        line: int,
        row: list[str],
        columns: dict[str, int | str],
        width: int,
    ) -> None:
        if not any(cell.strip() for cell in row):
            return
        if len(row) != width:
            raise InputError(path, f"{len(row)} cells where the header has {width}", line=line)

        def cell(name: str) -> str:
            where = columns.get(name)
            if where is None:
                return ""
            return where if isinstance(where, str) else row[where].strip()

        def column_name(name: str) -> str:
            return self.mapping.column(name) or name

        def fail(name: str, message: str) -> InputError:
            return InputError(path, message, line=line, field=column_name(name))

        ends = []
        for side in ("owner", "owned"):
            name = cell(side)
            party_id = cell(f"{side}_id") or name
            if not party_id:
                raise fail(side, f"the {side} is empty")
            schema_name = cell(f"{side}_type") or "LegalEntity"
            schema = _party_schema(schema_name)
            if schema is None:
                raise fail(
                    f"{side}_type", f"{schema_name!r} is not a FollowTheMoney party or asset schema"
                )
            country = cell(f"{side}_country").lower() or None
            if country is not None and not re.fullmatch(r"[a-z]{2}(-[a-z0-9]{1,3})?", country):
                raise fail(f"{side}_country", f"{country!r} is not an ISO 3166 country code")
            node_id = f"{self.source}:{party_id}"
            if node_id not in self.nodes:
                self.nodes[node_id] = Node(
                    id=node_id,
                    name=name or party_id,
                    schema=schema.name,
                    country=country,
                    source_ref=f"{path.name}:{line}",
                )
            ends.append(node_id)
        share = None
        if text := cell("share"):
            try:
                share = parse_percentage(
                    text, unit=1.0 if self.mapping.share_unit == "fraction" else 100.0
                )
            except ValueError as exc:
                raise fail("share", str(exc)) from None
        start = self._date(cell("start"), end=False, fail=lambda m: fail("start", m))
        end = self._date(cell("end"), end=True, fail=lambda m: fail("end", m))
        # "2019" as an end is read as 2020-01-01 (exclusive); its period must not end
        # before the start, so compare the period's first day.
        end_floor = self._date(cell("end"), end=False, fail=lambda m: fail("end", m))
        if start and end_floor and end_floor < start:
            raise fail("end", f"ends ({end_floor}) before it starts ({start})")
        role = cell("role")
        kind = self._kind(cell("kind"), role, self.nodes[ends[1]].schema, fail)
        origin = cell("source")
        self.relations.append(
            Relation(
                id=f"{self.source}:{key}:{line}",
                kind=kind,
                holder=ends[0],
                held=ends[1],
                share=share,
                interests=(role,) if role else (),
                start=start,
                end=end,
                role=role,
                source_ref=f"{path.name}:{line}" + (f" {origin}" if origin else ""),
            )
        )
        self.counts["rows"] = self.counts.get("rows", 0) + 1

    @staticmethod
    def _date(text: str, *, end: bool, fail: Callable[[str], InputError]) -> date | None:
        if not text:
            return None
        try:
            return parse_date(text, end=end)
        except ValueError as exc:
            raise fail(str(exc)) from None

    @staticmethod
    def _kind(
        text: str, role: str, held_schema: str, fail: Callable[[str, str], InputError]
    ) -> RelationKind:
        if text:
            key = text.strip().lower().replace("-", "_").replace(" ", "_")
            for kind in RELATION_KINDS:
                if key == kind:
                    return kind
            ftm = _FTM_KINDS.get(key.replace("_", ""))
            if ftm is None:
                raise fail("kind", f"{text!r} is not a relation kind ({', '.join(RELATION_KINDS)})")
            return ftm
        return kind_from_role(role, held_schema)


@lru_cache(maxsize=4096)
def _party_schema(name: str) -> Schema | None:
    """The FtM schema of a party or asset (a Thing), or None."""
    schema = model.get(name)
    return schema if schema is not None and schema.is_a("Thing") else None


@lru_cache(maxsize=4096)
def kind_from_role(role: str, held_schema: str) -> RelationKind:
    """The kind a role names, when the file has no kind column (see the module doc)."""
    text = role.lower()
    schema = model.get(held_schema)
    if schema is not None and schema.is_a("Vessel"):
        return "vessel_manager" if "manag" in text else "vessel_owner"
    if schema is not None and schema.is_a("Airplane") and "operat" in text:
        return "aircraft_operator"
    if re.search(r"director|board|officer|secretary|chair", text):
        return "directorship"
    if "member" in text:
        return "membership"
    return "ownership"


def _dialect(head: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|")
    except csv.Error:
        return csv.excel
