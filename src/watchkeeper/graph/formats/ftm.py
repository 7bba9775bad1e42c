"""FollowTheMoney entities (as OpenSanctions and Aleph publish them: a JSON array, one
JSON object, or JSON lines) -> a ``GraphBatch``.

Interval entities become relations (holder -> held):

==============  ==================  ===============
schema          holder -> held      kind
==============  ==================  ===============
Ownership       owner -> asset      ownership (``percentage`` -> share)
Directorship    director -> org.    directorship
Membership      member -> org.      membership
Family          person -> relative  family
Associate       person -> associate associate
UnknownLink     subject -> object   unknown_link
Representation  agent -> client     representation
==============  ==================  ===============

Things (Person, Company, Organization, LegalEntity, PublicBody, Vessel, Airplane...)
become nodes, with identifiers: ``imoNumber`` (``imo`` on a Vessel, ``imo_company`` on a
company), ``leiCode`` -> ``lei``, ``registrationNumber`` -> ``registration``
``"<JURISDICTION>:<number>"`` (the entity's ``jurisdiction``, else its one ``country``;
``"?:<number>"`` when neither says) or ``registration_mark`` on an Airplane,
``innCode`` -> ``inn``, ``ogrnCode`` -> ``ogrn``, ``taxNumber``/``vatCode`` -> ``tax``,
``mmsi`` -> ``mmsi``. Other schemata (Sanction, Address, Identification, Employment...)
are skipped and counted as ``skipped:<schema>``.

Dates: a partial ``startDate`` ("2019-05") is the first day of its period; a partial
``endDate`` is the first day *after* its period (``Relation.end`` is exclusive: "ended
in May 2019" may mean 31 May). Several values: the earliest ``startDate``, the latest
``endDate``, and for ``percentage`` the range from the lowest to the highest they allow.
``sharesCount``/``sharesValue`` give no share without the total, so they are not read.

Ids: ``<source>:<entity id>`` for nodes and relations. A relation whose end is an
embedded entity (FtM's nested JSON) reads that entity too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from followthemoney import model
from followthemoney.schema import Schema

from watchkeeper.errors import InputError
from watchkeeper.graph.formats.common import (
    JsonRecord,
    check_source,
    finish_batch,
    merge_nodes,
    parse_date,
    parse_percentage,
    read_json_records,
)
from watchkeeper.graph.model import GraphBatch, Node, Relation, RelationKind, Share

# schema -> (holder property, held property, kind, properties naming the role)
INTERVALS: dict[str, tuple[str, str, RelationKind, tuple[str, ...]]] = {
    "Ownership": ("owner", "asset", "ownership", ("role", "ownershipType")),
    "Directorship": ("director", "organization", "directorship", ("role",)),
    "Membership": ("member", "organization", "membership", ("role",)),
    "Family": ("person", "relative", "family", ("relationship",)),
    "Associate": ("person", "associate", "associate", ("relationship",)),
    "UnknownLink": ("subject", "object", "unknown_link", ("role",)),
    "Representation": ("agent", "client", "representation", ("role",)),
}

# FtM property -> identifier kind (registrationNumber and imoNumber depend on the schema)
IDENTIFIER_PROPS = {
    "leiCode": "lei",
    "innCode": "inn",
    "ogrnCode": "ogrn",
    "taxNumber": "tax",
    "vatCode": "tax",
    "mmsi": "mmsi",
}
COUNTRY_PROPS = ("jurisdiction", "country", "nationality", "citizenship", "flag")


def read_ftm(paths: Iterable[str | Path], source: str) -> GraphBatch:
    """Read FtM entity files into one batch. All or nothing: a bad entity raises
    ``InputError`` naming the file, the record (``$[i]`` or line) and the field."""
    source = check_source(source)
    reader = FtmReader(source)
    files = []
    for path in paths:
        files.append(str(path))
        reader.read_file(Path(path))
    return reader.finish(files)


def looks_like_ftm(record: Any) -> bool:
    """Whether a JSON record is a FollowTheMoney entity."""
    return (
        isinstance(record, dict)
        and isinstance(record.get("schema"), str)
        and ("properties" in record or "id" in record)
    )


@dataclass
class FtmReader:
    """Reads one or more files into one batch (``read_graph_files`` feeds it several)."""

    source: str
    nodes: dict[str, Node] = field(default_factory=dict)
    relations: dict[str, Relation] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def read_file(self, path: Path) -> None:
        for record in read_json_records(path):
            self._entity(path, record, record.value, "")
            self.counts["entities"] = self.counts.get("entities", 0) + 1

    def finish(self, files: list[str]) -> GraphBatch:
        return finish_batch(
            self.source, files, self.nodes, list(self.relations.values()), set(), self.counts
        )

    def _entity(self, path: Path, record: JsonRecord, value: Any, where: str) -> str:
        """Read one entity (top-level or embedded at ``where``); returns its node id."""
        at = (where + ".") if where else ""
        if not isinstance(value, dict):
            raise record.error(path, "an entity is a JSON object", where)
        entity_id = value.get("id")
        if not isinstance(entity_id, str) or not entity_id.strip():
            raise record.error(path, "an entity needs an id (a non-empty string)", f"{at}id")
        schema_name = value.get("schema")
        if not isinstance(schema_name, str):
            raise record.error(path, "an entity needs a schema name", f"{at}schema")
        schema = model.get(schema_name)
        if schema is None:
            raise record.error(
                path, f"{schema_name!r} is not a FollowTheMoney schema", f"{at}schema"
            )
        props = value.get("properties", {})
        if not isinstance(props, dict):
            raise record.error(path, "properties must be an object", f"{at}properties")
        values = _Props(self, path, record, props, f"{at}properties")
        node_id = f"{self.source}:{entity_id.strip()}"
        ref = f"{path.name}#{entity_id.strip()}"
        if schema.name in INTERVALS:
            self._relation(schema.name, values, node_id, ref)
        elif schema.is_a("Thing"):
            node = _node(schema, values, node_id, ref)
            known = self.nodes.get(node_id)
            self.nodes[node_id] = merge_nodes(known, node) if known else node
        else:
            key = f"skipped:{schema.name}"
            self.counts[key] = self.counts.get(key, 0) + 1
        return node_id

    def _relation(self, schema_name: str, values: _Props, relation_id: str, ref: str) -> None:
        holder_prop, held_prop, kind, role_props = INTERVALS[schema_name]
        holder = values.entity_ref(holder_prop)
        held = values.entity_ref(held_prop)
        start = values.first_date("startDate", end=False)
        end = values.last_date("endDate")
        # A partial end is read as the day after its period; its period must not end
        # before the start, so compare the period's first day.
        end_floor = max(values.dates("endDate", end=False), default=None)
        if start and end_floor and end_floor < start:
            raise values.error("endDate", f"ends ({end_floor}) before it starts ({start})")
        share = values.share("percentage") if schema_name == "Ownership" else None
        roles = tuple(v for prop in role_props for v in values.texts(prop))
        self.relations[relation_id] = Relation(
            id=relation_id,
            kind=kind,
            holder=holder,
            held=held,
            share=share,
            interests=roles,
            start=start,
            end=end,
            role="; ".join(values.texts(role_props[0])),
            source_ref=ref,
        )


@dataclass
class _Props:
    """Typed access to one entity's ``properties`` (every value a list of strings,
    or an embedded entity for an entity-valued property)."""

    reader: FtmReader
    path: Path
    record: JsonRecord
    props: dict[str, Any]
    where: str

    def error(self, prop: str, message: str) -> InputError:
        return self.record.error(self.path, message, f"{self.where}.{prop}")

    def raw(self, prop: str) -> list[Any]:
        value = self.props.get(prop)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]

    def texts(self, prop: str) -> list[str]:
        out = []
        for i, value in enumerate(self.raw(prop)):
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self.error(f"{prop}[{i}]", "must be a string")
            text = str(value).strip()
            if text and text not in out:
                out.append(text)
        return out

    def entity_ref(self, prop: str) -> str:
        values = self.raw(prop)
        if not values:
            raise self.error(prop, "required: the entity this relation links")
        if len(values) > 1:
            raise self.error(prop, f"names {len(values)} entities; a relation links one to one")
        value = values[0]
        if isinstance(value, dict):  # nested JSON: the entity itself
            return self.reader._entity(self.path, self.record, value, f"{self.where}.{prop}[0]")
        if not isinstance(value, str) or not value.strip():
            raise self.error(prop, "must be an entity id (a non-empty string)")
        return f"{self.reader.source}:{value.strip()}"

    def first_date(self, prop: str, *, end: bool) -> date | None:
        dates = self.dates(prop, end=end)
        return min(dates) if dates else None

    def last_date(self, prop: str) -> date | None:
        dates = self.dates(prop, end=True)
        return max(dates) if dates else None

    def dates(self, prop: str, *, end: bool) -> list[date]:
        out = []
        for text in self.texts(prop):
            try:
                out.append(parse_date(text, end=end))
            except ValueError as exc:
                raise self.error(prop, str(exc)) from None
        return out

    def share(self, prop: str) -> Share | None:
        shares = []
        for text in self.texts(prop):
            try:
                shares.append(parse_percentage(text))
            except ValueError as exc:
                raise self.error(prop, str(exc)) from None
        if not shares:
            return None
        if len(shares) == 1:
            return shares[0]
        low = min(shares, key=lambda s: (s.low, not s.low_exclusive))
        high = max(shares, key=lambda s: (s.high, not s.high_exclusive))
        return Share(
            low.low, high.high, low_exclusive=low.low_exclusive, high_exclusive=high.high_exclusive
        )


def _node(schema: Schema, values: _Props, node_id: str, ref: str) -> Node:
    countries = [
        c.lower() for prop in COUNTRY_PROPS if prop in schema.properties for c in values.texts(prop)
    ]
    identifiers: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        identifiers.setdefault(kind, [])
        if value not in identifiers[kind]:
            identifiers[kind].append(value)

    for prop, kind in IDENTIFIER_PROPS.items():
        if prop in schema.properties:
            for value in values.texts(prop):
                add(kind, value)
    if "imoNumber" in schema.properties:
        for value in values.texts("imoNumber"):
            add(
                "imo" if schema.is_a("Vessel") else "imo_company",
                value.upper().removeprefix("IMO").strip(),
            )
    if "registrationNumber" in schema.properties:
        jurisdictions = values.texts("jurisdiction") if "jurisdiction" in schema.properties else []
        if not jurisdictions and len(set(countries)) == 1:
            jurisdictions = countries[:1]
        for value in values.texts("registrationNumber"):
            if schema.is_a("Airplane"):
                add("registration_mark", value.upper())
            else:
                prefix = jurisdictions[0].upper() if jurisdictions else "?"
                add("registration", f"{prefix}:{value}")
    names = values.texts("name")
    name = names[0] if names else ""
    if not name:
        for fallback in ("imoNumber", "registrationNumber", "leiCode"):
            if fallback in schema.properties and values.texts(fallback):
                name = values.texts(fallback)[0]
                break
    return Node(
        id=node_id,
        name=name or node_id.split(":", 1)[1],
        schema=schema.name,
        country=countries[0] if countries else None,
        identifiers={kind: tuple(v) for kind, v in identifiers.items()},
        source_ref=ref,
    )
