"""The shadow-fleet ownership and management history as graph relations.

``vessel_company.csv`` (FtM ``shadowfleet_owners``, KSE data, 2024-10) says which
company, by its IMO company number, was a tanker's registered owner, ISM manager or
ship/commercial manager, and from when to when. The file names no companies, only
their numbers: company nodes carry ``identifiers={"imo_company": (number,)}`` so they
resolve to listed companies that state the same number; vessel nodes carry ``imo``.
Vessel names come from ``vessels.csv`` (else the newest of ``vessel_names.csv``).
"""

from __future__ import annotations

import csv
import gzip
import zlib
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

from watchkeeper.errors import InputError
from watchkeeper.graph.model import GraphBatch, Node, Relation, RelationKind
from watchkeeper.io import open_text

SOURCE = "shadow_fleet"

# The file's roles, and the relation kind each is.
ROLES: dict[str, RelationKind] = {
    "registered owner": "vessel_owner",
    "ism manager": "vessel_manager",
    "ship manager / commercial manager": "vessel_manager",
}


def vessel_node_id(imo: str) -> str:
    return f"{SOURCE}:vessel:{imo}"


def company_node_id(number: str) -> str:
    return f"{SOURCE}:company:{number}"


def _find(folder: Path, name: str, *, required: bool = True) -> Path | None:
    for candidate in (folder / f"{name}.csv.gz", folder / f"{name}.csv"):
        if candidate.is_file():
            return candidate
    if required:
        raise InputError(folder / f"{name}.csv", "shadow-fleet file is missing")
    return None


def _rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file; any damage is an ``InputError`` naming file and line."""
    line = 1
    try:
        with open_text(path) as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in columns if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(path, f"no column {missing[0]!r}", line=1, field=missing[0])
            for line, row in enumerate(reader, start=2):
                if None in row or any(row.get(c) is None for c in columns):
                    raise InputError(path, "wrong number of fields", line=line)
                yield line, row
    except (UnicodeDecodeError, csv.Error, gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(path, f"cannot read the file: {exc}", line=line) from exc


def _imo(path: Path, line: int, field: str, value: str, *, company: bool = False) -> str:
    digits = value.strip().upper().removeprefix("IMO").strip()
    if company and 4 <= len(digits) < 7 and digits.isdigit():
        # Company numbers lost their leading zeros in the CSV ('555505' is 0555505).
        digits = digits.zfill(7)
    if len(digits) != 7 or not digits.isdigit() or not digits.isascii():
        raise InputError(path, f"{value!r} is not a 7-digit IMO number", line=line, field=field)
    return digits


def _date(path: Path, line: int, field: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InputError(path, f"bad date {value!r}", line=line, field=field) from exc


def _slug(role: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in role.lower()).split())


def read_shadow_fleet(folder: Path) -> GraphBatch:
    """The vessel-company history under ``folder`` as one batch (source ``shadow_fleet``):
    a vessel node per tanker, a company node per IMO company number, a ``vessel_owner``
    or ``vessel_manager`` relation (company -> vessel) per row, with its dates.
    Exact repeated rows are read once (counted in ``counts["repeated_rows"]``).
    Raises ``InputError`` (file, line, field) on any bad row: nothing is returned half."""
    folder = Path(folder)
    companies_path = _find(folder, "vessel_company")
    assert companies_path is not None
    vessels_path = _find(folder, "vessels", required=False)
    names_path = _find(folder, "vessel_names", required=False)
    files = [str(p) for p in (companies_path, vessels_path, names_path) if p is not None]

    names: dict[str, str] = {}
    if vessels_path is not None:
        for line, row in _rows(vessels_path, ("vessel_imo", "vessel_name")):
            imo = _imo(vessels_path, line, "vessel_imo", row["vessel_imo"])
            if row["vessel_name"].strip():
                names[imo] = row["vessel_name"].strip()
    if names_path is not None:
        newest: dict[str, tuple[date, str]] = {}
        for line, row in _rows(names_path, ("vessel_imo", "vessel_name", "start_date")):
            imo = _imo(names_path, line, "vessel_imo", row["vessel_imo"])
            since = _date(names_path, line, "start_date", row["start_date"]) or date.min
            name = row["vessel_name"].strip()
            if name and (imo not in newest or since >= newest[imo][0]):
                newest[imo] = (since, name)
        for imo, (_, name) in newest.items():
            names.setdefault(imo, name)

    batch = GraphBatch(source=SOURCE, files=files)
    vessels: dict[str, Node] = {}
    companies: dict[str, Node] = {}
    seen: set[tuple[str, str, str, str, str]] = set()
    repeated = 0
    columns = ("vessel_imo", "company_imo", "role", "start_date", "end_date")
    ref_name = companies_path.name
    for line, row in _rows(companies_path, columns):
        imo = _imo(companies_path, line, "vessel_imo", row["vessel_imo"])
        number = _imo(companies_path, line, "company_imo", row["company_imo"], company=True)
        role = " ".join(row["role"].split())
        kind = ROLES.get(role.lower())
        if kind is None:
            known = ", ".join(repr(r) for r in ROLES)
            raise InputError(
                companies_path, f"unknown role {role!r} (known: {known})", line=line, field="role"
            )
        start = _date(companies_path, line, "start_date", row["start_date"])
        end = _date(companies_path, line, "end_date", row["end_date"])
        if start is not None and end is not None and end < start:
            raise InputError(
                companies_path, f"ends {end} before it starts {start}", line=line, field="end_date"
            )
        key = (imo, number, role.lower(), str(start), str(end))
        if key in seen:
            repeated += 1
            continue
        seen.add(key)
        if imo not in vessels:
            vessels[imo] = Node(
                id=vessel_node_id(imo),
                name=names.get(imo, f"IMO {imo}"),
                schema="Vessel",
                identifiers={"imo": (imo,)},
                source_ref=f"{ref_name}:{line}",
            )
        if number not in companies:
            companies[number] = Node(
                id=company_node_id(number),
                name=f"IMO company {number}",
                schema="Company",
                identifiers={"imo_company": (number,)},
                source_ref=f"{ref_name}:{line}",
            )
        batch.relations.append(
            Relation(
                id=f"{SOURCE}:{imo}:{number}:{_slug(role)}:{start or '-'}:{end or '-'}",
                kind=kind,
                holder=companies[number].id,
                held=vessels[imo].id,
                interests=(role,),
                start=start,
                end=end,
                role=role,
                source_ref=f"{ref_name}:{line}",
            )
        )
    batch.nodes = [*vessels.values(), *companies.values()]
    batch.counts = {
        "vessels": len(vessels),
        "companies": len(companies),
        "relations": len(batch.relations),
        "repeated_rows": repeated,
    }
    return batch
