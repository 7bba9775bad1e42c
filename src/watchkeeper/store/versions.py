"""List versions: store a parsed publication in one transaction, list them, diff two."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from watchkeeper.errors import InputError, StoreError
from watchkeeper.store.base import StoreBase
from watchkeeper.store.normalize import search_key
from watchkeeper.store.records import ListPart, ParsedList, file_sha256

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
    # Versions loaded before these were recorded have None.
    dated_by: str | None = None
    parts: list[ListPart] | None = None

    @property
    def part_names(self) -> list[str]:
        """The files this version was read from, by name (``sdn.csv``, ``add.csv``)."""
        if self.parts is not None:
            return [p.name for p in self.parts]
        return [_logical(f) for f in self.files]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "source": self.source,
            "version": self.version,
            "published": self.published.isoformat() if self.published else None,
            "dated_by": self.dated_by,
            "file_hash": self.file_hash,
            "files": self.files,
            "parts": self.part_names,
            "entities": self.entity_count,
            "counts": self.counts,
            "loaded_at": self.loaded_at.isoformat(),
        }


def _logical(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".gz") else name


@dataclass
class ChangedEntry:
    id: str
    properties: list[str]
    name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "properties": self.properties}


@dataclass
class VersionDiff:
    """Entries added, removed and changed between two versions of one list.

    When the two versions were read from different files (a full OFAC set against a
    lone ``sdn.csv``), only what both carry is compared: ``only_in_from`` and
    ``only_in_to`` name the files one side lacks, ``not_compared`` the properties left
    out for that, and ``entries_not_compared`` the entries a one-sided file touched
    throughout (OFAC's remarks overflow)."""

    source: str
    from_version: ListVersion
    to_version: ListVersion
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ChangedEntry] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # entity id -> its name
    only_in_from: list[str] = field(default_factory=list)
    only_in_to: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    entries_not_compared: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        """True when the versions were read from different files."""
        return bool(self.only_in_from or self.only_in_to)

    def compared_note(self) -> str | None:
        """One line saying what was left out, or None when everything was compared."""
        if not self.partial:
            return None
        sides = []
        if self.only_in_from:
            sides.append(f"{', '.join(self.only_in_from)} only in {self.from_version.version}")
        if self.only_in_to:
            sides.append(f"{', '.join(self.only_in_to)} only in {self.to_version.version}")
        note = f"compared only what both versions carry ({'; '.join(sides)})"
        if self.not_compared:
            note += f"; not compared: {', '.join(self.not_compared)}"
        if self.entries_not_compared:
            note += f"; {len(self.entries_not_compared):,} entries not compared"
        return note

    def to_dict(self) -> dict[str, Any]:
        def named(ids: list[str]) -> list[dict[str, str]]:
            return [{"id": i, "name": self.names.get(i, "")} for i in ids]

        return {
            "source": self.source,
            "from": self.from_version.to_dict(),
            "to": self.to_version.to_dict(),
            "compared": {
                "partial": self.partial,
                "only_in_from": self.only_in_from,
                "only_in_to": self.only_in_to,
                "not_compared": self.not_compared,
                "entries_not_compared": self.entries_not_compared,
                "note": self.compared_note(),
            },
            "added": named(self.added),
            "removed": named(self.removed),
            "changed": [c.to_dict() for c in self.changed],
        }


def canonical_properties(properties: dict[str, list[str]]) -> str:
    return json.dumps(
        {k: sorted(v) for k, v in sorted(properties.items()) if v},
        ensure_ascii=False,
        separators=(",", ":"),
    )


_VERSION_COLS = (
    "version_id, source, version, published, file_hash, files, entity_count, counts, loaded_at, "
    "dated_by, parts"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _version_from_row(row: tuple[Any, ...]) -> ListVersion:
    parts = _json(row[10])
    return ListVersion(
        version_id=row[0],
        source=row[1],
        version=row[2],
        published=row[3],
        file_hash=row[4],
        files=list(row[5]),
        entity_count=row[6],
        counts=_json(row[7]),
        loaded_at=row[8],
        dated_by=row[9],
        parts=[ListPart.from_dict(p) for p in parts] if parts is not None else None,
    )


def check_shrink(parsed: ParsedList, newest: ListVersion | None, max_shrink: float) -> None:
    """Refuse a publication with more than ``max_shrink`` (a fraction) fewer entries than
    the newest version of its list: a file cut short by an interrupted download, or a
    partial export, would otherwise take those entries out of screening."""
    if newest is None or newest.entity_count == 0:
        return
    count = parsed.primary_count
    floor = newest.entity_count * (1.0 - max_shrink)
    if count >= floor:
        return
    lost = newest.entity_count - count
    raise InputError(
        parsed.files[0] if parsed.files else None,
        f"refused: {parsed.source} would shrink from {newest.entity_count:,} entries "
        f"(version {newest.version}, id {newest.version_id}) to {count:,}, "
        f"{lost:,} fewer ({lost / newest.entity_count:.1%}; at most {max_shrink:.0%} is "
        "allowed, WATCHKEEPER_MAX_LIST_SHRINK): a truncated or partial file? "
        "Give --allow-shrink to load it anyway",
        field="entries",
    )


class ListVersionsMixin(StoreBase):
    def add_list_version(
        self, parsed: ParsedList, *, max_shrink: float | None = None
    ) -> tuple[ListVersion, bool]:
        """Store a parsed publication as a new version, all or nothing.

        Returns the version and whether it was new: loading the same files again
        (same source, same hash) adds nothing and returns the version already there.
        With ``max_shrink`` (a fraction, 0.1 = 10%), a publication with that many fewer
        entries than the newest stored version of its list is refused (``InputError``)
        and the store is left as it was.
        """
        file_hash = file_sha256(parsed.files)
        known = self.loaded_version(parsed.source, file_hash)
        if known is not None:
            return known, False
        if max_shrink is not None:
            versions = self.list_versions(parsed.source)
            check_shrink(parsed, versions[-1] if versions else None, max_shrink)

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
                "entity_count, counts, loaded_at, dated_by, parts) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
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
                    parsed.dated_by,
                    json.dumps([p.to_dict() for p in parsed.parts]),
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
        self, version_id: int, names: dict[str, str]
    ) -> tuple[dict[str, str], dict[str, frozenset[tuple[str, bool, str, str]]]]:
        """(entry id -> primary entity id, entry id -> its entities' (id, primary, schema,
        digest)) for one version: equal fingerprints mean equal entries, without reading
        the properties. The primary entities' names go into ``names``."""
        rows = self.con.execute(
            "SELECT entry_id, id, is_primary, schema, digest, caption FROM entities "
            "WHERE version_id = ?",
            [version_id],
        ).fetchall()
        primaries: dict[str, str] = {}
        prints: dict[str, set[tuple[str, bool, str, str]]] = defaultdict(set)
        for entry_id, entity_id, is_primary, schema, digest, caption in rows:
            if is_primary:
                primaries[entry_id] = entity_id
                names[entity_id] = caption
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
        """Entries added, removed and changed (with the names of the changed properties).

        Versions read from different files are compared on what both carry: the
        properties that only a one-sided file fills are left out (see ``VersionDiff``)."""
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
        old_names: dict[str, str] = {}
        new_names: dict[str, str] = {}
        old_primaries, old_prints = self._entry_fingerprints(old.version_id, old_names)
        new_primaries, new_prints = self._entry_fingerprints(new.version_id, new_names)
        diff = VersionDiff(source=source, from_version=old, to_version=new)
        diff.names = {**old_names, **new_names}
        scope = _CompareScope.between(old, new)
        diff.only_in_from, diff.only_in_to = scope.only_in_from, scope.only_in_to
        diff.not_compared = scope.described()
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
        common = new_primaries.keys() & old_primaries.keys()
        diff.entries_not_compared = sorted(
            (new_primaries[e] for e in scope.skipped_entries & common), key=_id_key
        )
        for entry_id in sorted(suspects, key=_id_key):
            if entry_id in scope.skipped_entries:
                continue
            a = before[entry_id][1]
            b = after[entry_id][1]
            keys = sorted(
                k
                for k in a.keys() | b.keys()
                if a.get(k) != b.get(k) and scope.compares(entry_id, k)
            )
            if keys:
                entity_id = after[entry_id][0]
                diff.changed.append(
                    ChangedEntry(id=entity_id, properties=keys, name=diff.names.get(entity_id, ""))
                )
        return diff

    def _previous(self, source: str, version: ListVersion) -> ListVersion:
        versions = self.list_versions(source)
        index = [v.version_id for v in versions].index(version.version_id)
        if index == 0:
            raise StoreError(f"{source} {version.version} is the oldest version loaded")
        return versions[index - 1]


@dataclass
class _CompareScope:
    """What two versions both carry: the files only one of them was read from, and the
    diff keys those files alone fill (everywhere, or only on the entries they touched)."""

    only_in_from: list[str]
    only_in_to: list[str]
    patterns: set[str]
    entry_patterns: dict[str, set[str]]
    skipped_entries: set[str]

    @classmethod
    def between(cls, old: ListVersion, new: ListVersion) -> _CompareScope:
        old_parts = _parts_by_name(old)
        new_parts = _parts_by_name(new)
        only_old = sorted(old_parts.keys() - new_parts.keys())
        only_new = sorted(new_parts.keys() - old_parts.keys())
        scope = cls(only_old, only_new, set(), defaultdict(set), set())
        for part in [old_parts[n] for n in only_old] + [new_parts[n] for n in only_new]:
            if part.entries is None:
                scope.patterns.update(part.keys)
            elif "*" in part.keys:
                scope.skipped_entries.update(part.entries)
            else:
                for entry in part.entries:
                    scope.entry_patterns[entry].update(part.keys)
        return scope

    def compares(self, entry_id: str, key: str) -> bool:
        patterns = self.patterns | self.entry_patterns.get(entry_id, set())
        return not any(_key_matches(p, key) for p in patterns)

    def described(self) -> list[str]:
        keys = set(self.patterns)
        for extra in self.entry_patterns.values():
            keys |= extra
        return sorted(keys)


def _parts_by_name(version: ListVersion) -> dict[str, ListPart]:
    if version.parts is not None:
        return {p.name: p for p in version.parts}
    # Loaded before parts were recorded: the file names, with nothing known about them.
    return {name: ListPart(name) for name in version.part_names}


def _key_matches(pattern: str, key: str) -> bool:
    if pattern == "*" or pattern == key:
        return True
    return pattern.endswith(".*") and key.startswith(pattern[:-1])


def _id_key(value: str) -> tuple[str, int, str]:
    """Sort 'ofac-9' before 'ofac-10'."""
    head, _, tail = value.rpartition("-")
    return (head, int(tail), "") if tail.isdigit() else (value, 0, value)
