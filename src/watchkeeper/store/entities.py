"""Reading list entities back: the current merged view, one entity, plain name search."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from watchkeeper.store.base import StoreBase
from watchkeeper.store.normalize import search_key

# The newest version of every source: what "the lists" mean unless a version is named.
CURRENT_VERSIONS = """
    SELECT version_id, source, version, published FROM (
        SELECT *, row_number() OVER (
            PARTITION BY source ORDER BY published DESC NULLS LAST, version_id DESC
        ) AS rank FROM list_versions
    ) WHERE rank = 1
"""


@dataclass
class Provenance:
    """Where an entity comes from: one list, one entry, the versions that carried it."""

    source: str
    entry_id: str
    version: str
    first_seen: str | None = None
    last_seen: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "entry_id": self.entry_id,
            "version": self.version,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


@dataclass
class StoredEntity:
    """An FtM entity as stored, merged across the lists that carry the same id."""

    id: str
    schema: str
    caption: str
    properties: dict[str, list[str]]
    datasets: list[str] = field(default_factory=list)
    provenance: list[Provenance] = field(default_factory=list)
    primary: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "schema": self.schema,
            "caption": self.caption,
            "properties": self.properties,
            "datasets": self.datasets,
            "provenance": [p.to_dict() for p in self.provenance],
        }

    def get(self, prop: str) -> list[str]:
        return self.properties.get(prop, [])


def _merge(into: StoredEntity, other: StoredEntity) -> None:
    if into.schema != other.schema:
        from followthemoney import model  # here: importing FtM costs every command 0.6 s

        # Unrelated schemata (a list error): keep the first list's.
        with contextlib.suppress(Exception):
            into.schema = model.common_schema(into.schema, other.schema).name
    for prop, values in other.properties.items():
        merged = into.properties.setdefault(prop, [])
        merged.extend(v for v in values if v not in merged)
    for ds in other.datasets:
        if ds not in into.datasets:
            into.datasets.append(ds)
    into.provenance.extend(other.provenance)


def _rows_to_entities(rows: Iterable[tuple[Any, ...]]) -> Iterator[StoredEntity]:
    """Rows (id, schema, caption, properties, source, entry_id, version, is_primary),
    ordered by id, merged into one entity per id."""
    current: StoredEntity | None = None
    for entity_id, schema, caption, properties, source, entry_id, version, primary in rows:
        entity = StoredEntity(
            id=entity_id,
            schema=schema,
            caption=caption,
            properties=json.loads(properties),
            datasets=[source],
            provenance=[Provenance(source=source, entry_id=entry_id, version=str(version))],
            primary=primary,
        )
        if current is not None and current.id == entity_id:
            _merge(current, entity)
            continue
        if current is not None:
            yield current
        current = entity
    if current is not None:
        yield current


class EntitiesMixin(StoreBase):
    def current_entities(
        self, schemata: Iterable[str] | None = None, *, primary_only: bool = True
    ) -> Iterator[StoredEntity]:
        """Every entity in the newest version of each list, merged by id.

        ``schemata`` keeps entities whose schema is, or descends from, one of these
        (``LegalEntity`` takes people, companies and organisations).
        """
        sql = (
            "SELECT e.id, e.schema, e.caption, e.properties, v.source, e.entry_id, "
            f"v.version, e.is_primary FROM entities e JOIN ({CURRENT_VERSIONS}) v "
            "USING (version_id)"
        )
        params: list[Any] = []
        where: list[str] = []
        if primary_only:
            where.append("e.is_primary")
        if schemata is not None:
            from followthemoney import model

            names = sorted(
                {s.name for wanted in schemata for s in model.schemata.values() if s.is_a(wanted)}
            )
            where.append("e.schema IN (SELECT unnest(?))")
            params.append(names)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY e.id, v.source"
        cursor = self.con.execute(sql, params)
        while batch := cursor.fetchmany(5000):
            yield from _rows_to_entities(batch)

    def version_entities(self, version_id: int) -> Iterator[StoredEntity]:
        cursor = self.con.execute(
            "SELECT e.id, e.schema, e.caption, e.properties, v.source, e.entry_id, v.version, "
            "e.is_primary FROM entities e JOIN list_versions v USING (version_id) "
            "WHERE version_id = ? ORDER BY e.id",
            [version_id],
        )
        while batch := cursor.fetchmany(5000):
            yield from _rows_to_entities(batch)

    def _current_by_ids(self, entity_ids: list[str]) -> dict[str, StoredEntity]:
        """These entities as the current lists carry them, merged by id, with the first
        and last version of each list that carried them."""
        rows = self.con.execute(
            "SELECT e.id, e.schema, e.caption, e.properties, v.source, e.entry_id, v.version, "
            f"e.is_primary FROM entities e JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
            "WHERE e.id IN (SELECT unnest(?)) ORDER BY e.id, v.source",
            [entity_ids],
        ).fetchall()
        found = {e.id: e for e in _rows_to_entities(rows)}
        if not found:
            return found
        seen = self.con.execute(
            "SELECT e.id, v.source, min(coalesce(v.published::VARCHAR, v.version)), "
            "max(coalesce(v.published::VARCHAR, v.version)) "
            "FROM entities e JOIN list_versions v USING (version_id) "
            "WHERE e.id IN (SELECT unnest(?)) GROUP BY e.id, v.source",
            [sorted(found)],
        ).fetchall()
        spans = {(entity_id, source): (first, last) for entity_id, source, first, last in seen}
        for entity in found.values():
            for prov in entity.provenance:
                prov.first_seen, prov.last_seen = spans.get((entity.id, prov.source), (None, None))
        return found

    def get_entity(self, entity_id: str) -> tuple[StoredEntity, list[StoredEntity]] | None:
        """The entity in the current lists, with its full provenance, and the entities
        that hang off the same list entry (sanctions, addresses, identifications, links)."""
        entity = self._current_by_ids([entity_id]).get(entity_id)
        if entity is None:
            return None
        related_rows = self.con.execute(
            "SELECT e.id, e.schema, e.caption, e.properties, v.source, e.entry_id, v.version, "
            f"e.is_primary FROM entities e JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
            "WHERE NOT e.is_primary AND (e.version_id, e.entry_id) IN "
            f"(SELECT (e2.version_id, e2.entry_id) FROM entities e2 JOIN ({CURRENT_VERSIONS}) "
            "v2 USING (version_id) WHERE e2.id = ?) ORDER BY e.id",
            [entity_id],
        ).fetchall()
        return entity, list(_rows_to_entities(related_rows))

    def search_entities(self, text: str, *, limit: int = 20) -> list[tuple[StoredEntity, str]]:
        """Plain name search over the current lists: exact names first, then prefixes
        of a whole name or of any word in it. Returns (entity, matched name)."""
        key = search_key(text)
        if not key:
            return []
        like = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.con.execute(
            "WITH hits AS ("
            "  SELECT n.id, n.name, CASE WHEN n.norm = ? THEN 0 "
            "    WHEN starts_with(n.norm, ?) THEN 1 ELSE 2 END AS rank "
            f"  FROM entity_names n JOIN ({CURRENT_VERSIONS}) v USING (version_id) "
            "  WHERE n.norm = ? OR starts_with(n.norm, ?) OR n.norm LIKE ? ESCAPE '\\'"
            "), best AS ("
            "  SELECT id, arg_min(name, rank) AS name, min(rank) AS rank FROM hits GROUP BY id"
            ") SELECT id, name FROM best ORDER BY rank, length(name), id LIMIT ?",
            [key, key, key, key, f"% {like}%", limit],
        ).fetchall()
        found = self._current_by_ids([entity_id for entity_id, _ in rows])
        return [(found[entity_id], name) for entity_id, name in rows if entity_id in found]

    def entity_count(self) -> int:
        row = self.con.execute(
            f"SELECT count(DISTINCT e.id) FROM entities e JOIN ({CURRENT_VERSIONS}) v "
            "USING (version_id) WHERE e.is_primary"
        ).fetchone()
        return int(row[0]) if row else 0


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
