"""Shipment file layouts as data: which column of which file holds which field of a
``ShipmentLine``. One reader per file format (CSV, JSON lines, XLSX) and one mapping
per layout (``layouts/*.toml``), not one parser per file.

A layout has one or more *tables*. A one-file layout (a customs declaration export)
has a single ``lines`` table. A joined layout (the US CBP AMS public extract: header,
shipper, consignee, notify party, cargo description, tariff files) names a
``join_key`` column (AMS ``identifier``) and gives each table a *role*:

- ``lines``: one row per goods line (AMS cargo description);
- ``header``: one row per shipment, its fields go to every line of it;
- ``parties``: any number of rows per shipment, each a party of every line;
- ``detail``: rows matched to a line by the join key and the table's ``line_key``
  columns (AMS tariff rows by container and description sequence number).

A file is recognised as a table by its columns (``match``). Field specs are a column
name, a list of columns (the first non-empty), or a table with ``column``/``first``/
``join``, ``value`` (a constant), ``unit_column`` (weights), ``take = "after_comma"``
(the country of "Yantian, China (Mainland)"), ``prefix``, and ``if_column`` /
``if_contains`` (read the field only when another column says so). The layouts shipped are
documented in ``docs/cargo-layouts.md``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from watchkeeper.errors import InputError

Role = Literal["lines", "header", "parties", "detail"]
ROLES: tuple[Role, ...] = ("lines", "header", "parties", "detail")

# What each ShipmentLine field is read as (see ingest.convert).
FIELD_KINDS: dict[str, str] = {
    "shipment_id": "text",
    "line_no": "int",
    "mode": "mode",
    "goods": "text",
    "hs_code": "hs",
    "quantity": "float",
    "quantity_unit": "text",
    "weight_kg": "weight",
    "value": "float",
    "currency": "currency",
    "vessel_name": "text",
    "vessel_imo": "imo",
    "vessel_flag": "country",
    "flight_number": "text",
    "aircraft_registration": "text",
    "origin_country": "country",
    "destination_country": "country",
    "transit_countries": "countries",
    "port_of_loading": "text",
    "port_of_discharge": "text",
    "loading_date": "date",
    "discharge_date": "date",
    "declared_date": "date",
    "license_number": "text",
    "end_use": "text",
    "end_user": "text",
    "notes": "text",
}
PARTY_FIELDS = ("name", "country", "address")
TAKES = ("after_comma",)


@dataclass(frozen=True)
class FieldSpec:
    """Where one field's value comes from in a row."""

    columns: tuple[str, ...] = ()
    how: Literal["column", "first", "join"] = "column"
    value: str | None = None  # a constant instead of a column
    unit_column: str | None = None  # weights: the column naming kg, lb, t
    unit: str | None = None  # weights: the unit when no column names it
    take: str | None = None  # "after_comma": the text after the last comma
    prefix: str = ""
    # Read only when this column's value contains ``if_contains`` (case-insensitive):
    # AMS ``conveyance_id`` is an IMO number only when its qualifier says Lloyd's.
    if_column: str | None = None
    if_contains: str = ""

    def read(self, row: Mapping[str, Any]) -> Any:
        """The raw value of this field in ``row`` (None when empty)."""
        if self.if_column is not None:
            guard = str(row.get(self.if_column) or "").lower()
            if self.if_contains.lower() not in guard or not guard:
                return None
        if self.value is not None:
            return self.value
        if self.how == "join":
            parts = [str(v).strip() for c in self.columns if (v := row.get(c)) not in (None, "")]
            return ", ".join(p for p in parts if p) or None
        for column in self.columns:
            v = row.get(column)
            if v is not None and (not isinstance(v, str) or v.strip()):
                return v
        return None

    @property
    def source(self) -> str:
        """The column (or columns) an error names."""
        return "+".join(self.columns) if self.columns else "(constant)"


@dataclass(frozen=True)
class Table:
    """One file of a layout: how it is recognised and what it gives."""

    name: str
    role: Role
    match: tuple[str, ...]  # columns every file of this table has
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    parties: dict[str, dict[str, FieldSpec]] = field(default_factory=dict)
    line_key: tuple[str, ...] = ()  # detail tables: columns naming the line

    def matches(self, columns: Sequence[str]) -> bool:
        have = {c.strip().lower() for c in columns}
        return all(m.lower() in have for m in self.match)


@dataclass(frozen=True)
class Layout:
    """A named column mapping for one kind of shipment paper."""

    name: str
    title: str
    mode: str = "unknown"  # the mode when no field gives one
    join_key: str | None = None
    tables: tuple[Table, ...] = ()
    date_formats: tuple[str, ...] = ()
    sheet: str | None = None  # XLSX: the sheet to read (default: the first)

    @property
    def joined(self) -> bool:
        return len(self.tables) > 1

    def table_for(self, columns: Sequence[str]) -> Table | None:
        """The table a file with these columns is, or None."""
        return next((t for t in self.tables if t.matches(columns)), None)


def _spec(path: str, raw: Any) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(columns=(raw,))
    if isinstance(raw, list) and raw and all(isinstance(c, str) for c in raw):
        return FieldSpec(columns=tuple(raw), how="first")
    if not isinstance(raw, dict):
        raise InputError(path, f"a field is a column, a list of columns or a table: {raw!r}")
    known = {"column", "first", "join", "value", "unit_column", "unit", "take", "prefix"}
    known |= {"if_column", "if_contains"}
    if unknown := set(raw) - known:
        raise InputError(path, f"unknown field keys {sorted(unknown)}")
    if raw.get("take") not in (None, *TAKES):
        raise InputError(path, f"take must be one of {TAKES}, not {raw['take']!r}")
    how: Literal["column", "first", "join"] = "column"
    columns: tuple[str, ...] = ()
    if "column" in raw:
        columns = (str(raw["column"]),)
    elif "first" in raw:
        how, columns = "first", tuple(map(str, raw["first"]))
    elif "join" in raw:
        how, columns = "join", tuple(map(str, raw["join"]))
    elif "value" not in raw:
        raise InputError(path, f"field needs column, first, join or value: {raw!r}")
    return FieldSpec(
        columns=columns,
        how=how,
        value=None if raw.get("value") is None else str(raw["value"]),
        unit_column=raw.get("unit_column"),
        unit=raw.get("unit"),
        take=raw.get("take"),
        prefix=str(raw.get("prefix", "")),
        if_column=raw.get("if_column"),
        if_contains=str(raw.get("if_contains", "")),
    )


def parse_layout(text: str, origin: str = "<layout>") -> Layout:
    """A layout from its TOML text; bad layouts are InputError naming ``origin``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(origin, f"not TOML: {exc}") from exc
    try:
        name, title = str(data["name"]), str(data.get("title", data["name"]))
        raw_tables = data["tables"]
    except KeyError as exc:
        raise InputError(origin, f"a layout needs {exc}") from exc
    tables: list[Table] = []
    for table_name, raw in raw_tables.items():
        where = f"{origin} [tables.{table_name}]"
        role = raw.get("role", "lines")
        if role not in ROLES:
            raise InputError(where, f"role must be one of {ROLES}, not {role!r}")
        fields = {}
        for f, spec in raw.get("fields", {}).items():
            if f not in FIELD_KINDS:
                raise InputError(where, f"{f!r} is not a ShipmentLine field", field=f)
            fields[f] = _spec(f"{where}.fields.{f}", spec)
        parties = {}
        for party_role, spec in raw.get("parties", {}).items():
            if unknown := set(spec) - set(PARTY_FIELDS):
                raise InputError(where, f"party fields are {PARTY_FIELDS}, not {sorted(unknown)}")
            if "name" not in spec:
                raise InputError(where, f"party {party_role!r} needs a name column")
            parties[party_role] = {
                k: _spec(f"{where}.parties.{party_role}.{k}", v) for k, v in spec.items()
            }
        tables.append(
            Table(
                name=table_name,
                role=role,
                match=tuple(raw.get("match", ())),
                fields=fields,
                parties=parties,
                line_key=tuple(raw.get("line_key", ())),
            )
        )
    layout = Layout(
        name=name,
        title=title,
        mode=str(data.get("mode", "unknown")),
        join_key=data.get("join_key"),
        tables=tuple(tables),
        date_formats=tuple(data.get("date_formats", ())),
        sheet=data.get("sheet"),
    )
    _check(layout, origin)
    return layout


def _check(layout: Layout, origin: str) -> None:
    lines = [t for t in layout.tables if t.role == "lines"]
    if len(lines) != 1:
        raise InputError(origin, f"a layout has exactly one lines table, not {len(lines)}")
    if layout.joined and not layout.join_key:
        raise InputError(origin, "a layout of several tables needs a join_key")
    if any(not t.match for t in layout.tables):
        raise InputError(origin, "every table names the columns that recognise it (match)")
    has_id = any("shipment_id" in t.fields for t in layout.tables)
    if not has_id:
        raise InputError(origin, "no table maps shipment_id")


@cache
def builtin_layouts() -> dict[str, Layout]:
    """The layouts shipped in ``watchkeeper/cargo/layouts/*.toml``, by name."""
    folder = resources.files("watchkeeper.cargo") / "layouts"
    found: dict[str, Layout] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            layout = parse_layout(entry.read_text("utf-8"), f"layouts/{entry.name}")
            found[layout.name] = layout
    return found


def get_layout(name: str | Path) -> Layout:
    """A built-in layout by name, or a layout TOML file by path."""
    layouts = builtin_layouts()
    if str(name) in layouts:
        return layouts[str(name)]
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return parse_layout(path.read_text("utf-8"), str(path))
    raise InputError(None, f"unknown layout {str(name)!r} (known: {', '.join(layouts)})")


def detect_layout(columns: Sequence[str]) -> Layout | None:
    """The built-in layout one of whose tables a file with these columns is; a
    one-file layout wins over a joined one."""
    candidates = [lay for lay in builtin_layouts().values() if lay.table_for(columns)]
    candidates.sort(key=lambda lay: lay.joined)
    return candidates[0] if candidates else None
