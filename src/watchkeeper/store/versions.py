"""List versions: store a parsed publication in one transaction, list them, diff two."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from watchkeeper.errors import StoreError
from watchkeeper.store.base import StoreBase
from watchkeeper.store.normalize import search_key
from watchkeeper.store.records import ParsedList, file_sha256

NAME_PROPS = ("name", "alias", "previousName", "weakAlias")


@dataclass(frozen=True)
class ListVersion:
    version_id: int
    source: str
    version: str
    published: date | None
    file_hash: str
    files: list[str]
    entity_count: int
    counts: dict[str, Any]
    loaded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "source": self.source,
            "version": self.version,
            "published": self.published.isoformat() if self.published else None,
            "file_hash": self.file_hash,
            "files": self.files,
            "entities": self.entity_count,
            "counts": self.counts,
            "loaded_at": self.loaded_at.isoformat(),
        }


@dataclass
class ChangedEntry:
    id: str
    properties: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "properties": self.properties}


@dataclass
class VersionDiff:
    source: str
    from_version: ListVersion
    to_version: ListVersion
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ChangedEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "from": self.from_version.to_dict(),
            "to": self.to_version.to_dict(),
            "added": self.added,
            "removed": self.removed,
            "changed": [c.to_dict() for c in self.changed],
        }


def canonical_properties(properties: dict[str, list[str]]) -> str:
    return json.dumps(
        {k: sorted(v) for k, v in sorted(properties.items()) if v},
        ensure_ascii=False,
        separators=(",", ":"),
    )


_VERSION_COLS = (
    "version_id, source, version, published, file_hash, files, entity_count, counts, loaded_at"
)


def _version_from_row(row: tuple[Any, ...]) -> ListVersion:
    return ListVersion(
        version_id=row[0],
        source=row[1],
        version=row[2],
        published=row[3],
        file_hash=row[4],
        files=list(row[5]),
        entity_count=row[6],
        counts=json.loads(row[7]) if isinstance(row[7], str) else row[7],
        loaded_at=row[8],
    )


class ListVersionsMixin(StoreBase):
    def add_list_version(self, parsed: ParsedList) -> tuple[ListVersion, bool]:
        """Store a parsed publication as a new version, all or nothing.

        Returns the version and whether it was new: loading the same files again
        (same source, same hash) adds nothing and returns the version already there.
        """
        file_hash = file_sha256(parsed.files)
        known = self.loaded_version(parsed.source, file_hash)
        if known is not None:
            return known, False

        ids: list[str] = []
        entries: list[str] = []
        primaries: list[bool] = []
        schemas: list[str] = []
        captions: list[str] = []
        props: list[str] = []
        digests: list[str] = []
        name_ids: list[str] = []
        names: list[str] = []
        norms: list[str] = []
        seen: set[str] = set()
        schema_counts: dict[str, int] = defaultdict(int)
        for item in parsed.entities:
            proxy = item.proxy
            if proxy.id is None:
                raise StoreError(f"{parsed.source}: entity of entry {item.entry_id} has no id")
            if proxy.id in seen:
                raise StoreError(f"{parsed.source}: entity id {proxy.id} appears twice")
            seen.add(proxy.id)
            canon = canonical_properties(proxy.properties)
            ids.append(proxy.id)
            entries.append(item.entry_id)
            primaries.append(item.primary)
            schemas.append(proxy.schema.name)
            captions.append(proxy.caption or proxy.id)
            props.append(canon)
            digests.append(hashlib.sha1(canon.encode("utf-8")).hexdigest())
            schema_counts[proxy.schema.name] += 1
            if item.primary:
                for prop in NAME_PROPS:
                    for name in proxy.get(prop, quiet=True):
                        key = search_key(name)
                        if key:
                            name_ids.append(proxy.id)
                            names.append(name)
                            norms.append(key)

        counts: dict[str, Any] = {"schemas": dict(schema_counts), **parsed.counts}
        loaded_at = datetime.now(UTC)
        with self.transaction() as con:
            row = con.execute(
                "INSERT INTO list_versions (source, version, published, file_hash, files, "
                "entity_count, counts, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                f"RETURNING {_VERSION_COLS}",
                [
                    parsed.source,
                    parsed.version,
                    parsed.published,
                    file_hash,
                    [str(p) for p in parsed.files],
                    parsed.primary_count,
                    json.dumps(counts),
                    loaded_at,
                ],
            ).fetchone()
            assert row is not None
            version = _version_from_row(row)
            n = len(ids)
            entity_table = pa.table(
                {
                    "version_id": pa.array([version.version_id] * n, pa.int32()),
                    "id": ids,
                    "entry_id": entries,
                    "is_primary": primaries,
                    "schema": schemas,
                    "caption": captions,
                    "properties": props,
                    "digest": digests,
                }
            )
            con.register("_new_entities", entity_table)
            con.execute("INSERT INTO entities SELECT * FROM _new_entities")
            con.unregister("_new_entities")
            name_table = pa.table(
                {
                    "version_id": pa.array([version.version_id] * len(name_ids), pa.int32()),
                    "id": name_ids,
                    "name": names,
                    "norm": norms,
                }
            )
            con.register("_new_names", name_table)
            con.execute("INSERT INTO entity_names SELECT * FROM _new_names")
            con.unregister("_new_names")
        return version, True

    def loaded_version(self, source: str, file_hash: str) -> ListVersion | None:
        """The version already loaded from files with this hash (``file_sha256``), if any:
        lets a caller skip parsing a publication the store already holds."""
        row = self.con.execute(
            f"SELECT {_VERSION_COLS} FROM list_versions WHERE source = ? AND file_hash = ? "
            "ORDER BY version_id LIMIT 1",
            [source, file_hash],
        ).fetchone()
        return _version_from_row(row) if row is not None else None

    def list_versions(self, source: str | None = None) -> list[ListVersion]:
        sql = f"SELECT {_VERSION_COLS} FROM list_versions"
        params: list[Any] = []
        if source is not None:
            sql += " WHERE source = ?"
            params.append(source)
        sql += " ORDER BY source, published NULLS FIRST, version_id"
        return [_version_from_row(r) for r in self.con.execute(sql, params).fetchall()]

    def find_version(
        self, source: str, version: str | None = None, *, back: int = 0
    ) -> ListVersion:
        """A version of ``source`` by label or id; without one, the newest (``back`` steps back)."""
        versions = self.list_versions(source)
        if not versions:
            raise StoreError(f"no versions of list {source!r} are loaded")
        if version is None:
            if back >= len(versions):
                raise StoreError(f"list {source!r} has only {len(versions)} version(s)")
            return versions[-1 - back]
        for v in versions:
            if str(v.version_id) == version:
                return v
        labelled = [v for v in versions if v.version == version]
        if len(labelled) == 1:
            return labelled[0]
        if labelled:
            # Two publications with one label (the same day's files loaded two ways):
            # picking one silently would make the diff answer a different question.
            ids = ", ".join(str(v.version_id) for v in labelled)
            raise StoreError(
                f"list {source!r} has {len(labelled)} versions labelled {version!r} "
                f"(version ids {ids}): name one by its id"
            )
        known = ", ".join(f"{v.version} (id {v.version_id})" for v in versions)
        raise StoreError(f"list {source!r} has no version {version!r} (known: {known})")

    def _entry_fingerprints(
        self, version_id: int
    ) -> tuple[dict[str, str], dict[str, frozenset[tuple[str, bool, str, str]]]]:
        """(entry id -> primary entity id, entry id -> its entities' (id, primary, schema,
        digest)) for one version: equal fingerprints mean equal entries, without reading
        the properties."""
        rows = self.con.execute(
            "SELECT entry_id, id, is_primary, schema, digest FROM entities WHERE version_id = ?",
            [version_id],
        ).fetchall()
        primaries: dict[str, str] = {}
        prints: dict[str, set[tuple[str, bool, str, str]]] = defaultdict(set)
        for entry_id, entity_id, is_primary, schema, digest in rows:
            if is_primary:
                primaries[entry_id] = entity_id
            prints[entry_id].add((entity_id, is_primary, schema, digest))
        return primaries, {entry: frozenset(p) for entry, p in prints.items()}

    def _entry_states(
        self, version_id: int, entry_ids: list[str] | None = None
    ) -> dict[str, tuple[str, dict[str, list[str]]]]:
        """entry id -> (primary entity id, {property key: values}) for one version
        (only the entries ``entry_ids`` when given).

        Properties of an entry's secondary entities (sanctions, addresses, ids)
        count as the entry's, keyed ``Schema.property``.
        """
        sql = "SELECT entry_id, id, is_primary, schema, properties FROM entities "
        params: list[Any] = [version_id]
        if entry_ids is None:
            sql += "WHERE version_id = ?"
        else:
            sql += "WHERE version_id = ? AND entry_id IN (SELECT unnest(?))"
            params.append(entry_ids)
        rows = self.con.execute(sql, params).fetchall()
        states: dict[str, tuple[str, dict[str, list[str]]]] = {}
        secondary: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for entry_id, entity_id, is_primary, schema, properties in rows:
            values: dict[str, list[str]] = json.loads(properties)
            if is_primary:
                state = dict(values)
                state["@schema"] = [schema]
                states[entry_id] = (entity_id, state)
            else:
                bucket = secondary[entry_id]
                for prop, vals in values.items():
                    bucket[f"{schema}.{prop}"].extend(vals)
        for entry_id, extra in secondary.items():
            if entry_id in states:
                for key, vals in extra.items():
                    states[entry_id][1][key] = sorted(vals)
        return states

    def diff_versions(
        self, source: str, from_version: str | None = None, to_version: str | None = None
    ) -> VersionDiff:
        """Entries added, removed and changed (with the names of the changed properties)."""
        if to_version is None and from_version is None:
            new = self.find_version(source)
            old = self.find_version(source, back=1)
        else:
            new = self.find_version(source, to_version)
            old = (
                self.find_version(source, from_version)
                if from_version is not None
                else self._previous(source, new)
            )
        old_primaries, old_prints = self._entry_fingerprints(old.version_id)
        new_primaries, new_prints = self._entry_fingerprints(new.version_id)
        diff = VersionDiff(source=source, from_version=old, to_version=new)
        diff.added = sorted(
            (new_primaries[e] for e in new_primaries.keys() - old_primaries.keys()), key=_id_key
        )
        diff.removed = sorted(
            (old_primaries[e] for e in old_primaries.keys() - new_primaries.keys()), key=_id_key
        )
        # Only entries whose entities differ are read property by property.
        suspects = sorted(
            e for e in new_primaries.keys() & old_primaries.keys() if old_prints[e] != new_prints[e]
        )
        before = self._entry_states(old.version_id, suspects)
        after = self._entry_states(new.version_id, suspects)
        for entry_id in sorted(suspects, key=_id_key):
            a = before[entry_id][1]
            b = after[entry_id][1]
            keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            if keys:
                diff.changed.append(ChangedEntry(id=after[entry_id][0], properties=keys))
        return diff

    def _previous(self, source: str, version: ListVersion) -> ListVersion:
        versions = self.list_versions(source)
        index = [v.version_id for v in versions].index(version.version_id)
        if index == 0:
            raise StoreError(f"{source} {version.version} is the oldest version loaded")
        return versions[index - 1]


def _id_key(value: str) -> tuple[str, int, str]:
    """Sort 'ofac-9' before 'ofac-10'."""
    head, _, tail = value.rpartition("-")
    return (head, int(tail), "") if tail.isdigit() else (value, 0, value)
