"""A minimal reader of the OFAC SDN CSV trio, used only while the real parsers
(``watchkeeper.lists``) cannot read it yet: names, aliases, DOB, nationality, IMO.

It reads the real bundled files; it is not a parser of record (no remarks grammar,
no provenance detail) and exists so screening tests run on real names.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

from followthemoney import model

from watchkeeper.io import open_binary
from watchkeeper.store.records import ListEntity, ParsedList

_DOB = re.compile(r"DOB (?:circa )?(\d{1,2} \w{3} \d{4}|\w{3} \d{4}|\d{4})")
_NAT = re.compile(r"(?:nationality|citizen) ([A-Z][a-z]+(?: [A-Z][a-z]+)*)")
_IMO = re.compile(r"IMO (\d{7})")
_SCHEMA = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}


def _rows(path: Path) -> list[list[str]]:
    with open_binary(path) as fh:
        text = fh.read().decode("cp1252", errors="replace").replace("\x1a", "")
    return [r for r in csv.reader(io.StringIO(text)) if r]


def _clean(value: str) -> str:
    value = value.strip()
    return "" if value == "-0-" else value


def _date(text: str) -> str | None:
    for fmt, size in (("%d %b %Y", 10), ("%b %Y", 7), ("%Y", 4)):
        try:
            return datetime.strptime(text, fmt).date().isoformat()[:size]  # noqa: DTZ007
        except ValueError:
            continue
    return None


def read_sdn(folder: Path, source: str = "ofac_sdn", prefix: str = "") -> ParsedList:
    sdn = (
        _rows(folder / f"{prefix}sdn.csv.gz")
        if (folder / f"{prefix}sdn.csv.gz").exists()
        else _rows(folder / f"{prefix}prim.csv.gz")
    )
    alt_path = folder / f"{prefix}alt.csv.gz"
    aliases: dict[str, list[str]] = {}
    if alt_path.exists():
        for row in _rows(alt_path):
            aliases.setdefault(row[0].strip(), []).append(_clean(row[3]))
    entities: list[ListEntity] = []
    for row in sdn:
        ent_num, name, kind = row[0].strip(), _clean(row[1]), _clean(row[2])
        remarks = _clean(row[11]) if len(row) > 11 else ""
        proxy = model.make_entity(_SCHEMA.get(kind, "LegalEntity"))
        proxy.id = f"ofac-{ent_num}"
        proxy.add("name", name)
        for alias in aliases.get(ent_num, []):
            proxy.add("alias", alias)
        if proxy.schema.name == "Person":
            for m in _DOB.finditer(remarks):
                proxy.add("birthDate", _date(m.group(1)))
            for m in _NAT.finditer(remarks):
                proxy.add("nationality", m.group(1))
        if proxy.schema.name == "Vessel":
            for m in _IMO.finditer(remarks):
                proxy.add("imoNumber", m.group(1))
        entities.append(ListEntity(proxy=proxy, entry_id=ent_num))
    files = sorted(folder.glob(f"{prefix}*.csv.gz"))
    return ParsedList(
        source=source, version=folder.name, published=None, files=files, entities=entities
    )
