"""Graph loads in the store, versioned like list versions: one ``GraphBatch`` is stored
whole, in one transaction, or not at all; the same files read the same way again add
nothing; "current" is the newest version of each source."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from watchkeeper.errors import InputError, StoreError
from watchkeeper.graph.model import RELATION_KINDS, GraphBatch, Node, Relation, Share
from watchkeeper.graph.resolve import Resolution, node_identifiers

if TYPE_CHECKING:
    from watchkeeper.store import Store

# The newest load of every source: what "the graph" means unless versions are named.
CURRENT_GRAPH_VERSIONS = """
    SELECT version_id FROM (
        SELECT version_id, row_number() OVER (
            PARTITION BY source ORDER BY version_id DESC
        ) AS rank FROM graph_versions
    ) WHERE rank = 1
"""

_COLS = (
    "version_id, source, version, file_hash, digest, files, node_count, relation_count, "
    "counts, loaded_at"
)


@dataclass(frozen=True)
class GraphVersion:
    """One stored graph load."""

    version_id: int
    source: str
    version: str
    file_hash: str
    digest: str
    files: list[str]
    node_count: int
    relation_count: int
    counts: dict[str, Any]
    loaded_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "source": self.source,
            "version": self.version,
            "file_hash": self.file_hash,
            "files": self.files,
            "nodes": self.node_count,
            "relations": self.relation_count,
            "counts": self.counts,
            "loaded_at": self.loaded_at.isoformat(),
        }


def _version(row: tuple[Any, ...]) -> GraphVersion:
    counts = row[8]
    return GraphVersion(
        version_id=int(row[0]),
        source=str(row[1]),
        version=str(row[2]),
        file_hash=str(row[3]),
        digest=str(row[4]),
        files=list(row[5]),
        node_count=int(row[6]),
        relation_count=int(row[7]),
        counts=json.loads(counts) if isinstance(counts, str) else dict(counts),
        loaded_at=row[9],
    )


def files_hash(files: Sequence[str]) -> str:
    """sha256 over the files' names and bytes, in name order (as list versions hash
    theirs); files that are not on disk (a batch made in memory) count by name."""
    digest = hashlib.sha256()
    for name in sorted(files, key=lambda f: Path(f).name):
        path = Path(name)
        digest.update(path.name.encode())
        if path.is_file():
            with open(path, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()


def batch_digest(batch: GraphBatch) -> str:
    """sha256 over what was read (nodes, relations, replaced ids, in order): the same
    files read with another column mapping are another version."""
    digest = hashlib.sha256()
    for node in batch.nodes:
        digest.update(repr((node.id, node.name, node.schema, node.country)).encode())
        digest.update(repr(sorted(node.identifiers.items())).encode())
        digest.update(repr((node.unknown, node.source_ref)).encode())
    for rel in batch.relations:
        digest.update(repr(rel).encode())
    digest.update(repr(sorted(batch.replaced)).encode())
    return digest.hexdigest()


def check_batch(batch: GraphBatch) -> None:
    """Raise ``InputError`` (file, record, field) for a batch that cannot be stored
    whole: repeated node or relation ids, an unknown relation kind, an empty end."""
    where = batch.files[0] if batch.files else batch.source
    if not batch.source.strip():
        raise InputError(where, "a graph load needs a source name", field="source")
    seen: set[str] = set()
    for node in batch.nodes:
        if not node.id:
            raise InputError(where, f"node at {node.source_ref or '?'} has no id", field="id")
        if node.id in seen:
            raise InputError(
                where, f"node id {node.id!r} appears twice ({node.source_ref})", field="id"
            )
        seen.add(node.id)
    seen = set()
    kinds = set(RELATION_KINDS)
    for rel in batch.relations:
        ref = rel.source_ref or rel.id
        if not rel.id:
            raise InputError(where, f"relation at {ref} has no id", field="id")
        if rel.id in seen:
            raise InputError(where, f"relation id {rel.id!r} appears twice ({ref})", field="id")
        seen.add(rel.id)
        if rel.kind not in kinds:
            raise InputError(where, f"relation {ref}: unknown kind {rel.kind!r}", field="kind")
        for name, value in (("holder", rel.holder), ("held", rel.held)):
            if not value:
                raise InputError(where, f"relation {ref} has no {name}", field=name)
        if rel.start is not None and rel.end is not None and rel.end < rel.start:
            raise InputError(
                where,
                f"relation {ref} ends ({rel.end}) before it starts ({rel.start})",
                field="end",
            )


def store_graph_batch(
    store: Store,
    batch: GraphBatch,
    *,
    label: str | None = None,
    resolutions: Mapping[str, Resolution] | None = None,
) -> tuple[GraphVersion, bool]:
    """Store a batch as a new version of ``batch.source``, all or nothing.

    Returns the version and whether it is new: the same files read into the same
    statements again (same source, file hash and digest) add nothing and return the
    version already there. ``label`` names the version (default: today's UTC date);
    ``resolutions`` (node id -> list entity) are stored with it.
    Raises ``InputError`` for a batch that cannot be stored whole (``check_batch``)."""
    check_batch(batch)
    file_hash = files_hash(batch.files)
    digest = batch_digest(batch)
    known = _loaded(store, batch.source, file_hash, digest)
    if known is not None:
        return known, False
    loaded_at = datetime.now(UTC)
    counts: dict[str, Any] = {"kinds": _kind_counts(batch.relations), **batch.counts}
    if resolutions:
        counts["resolved"] = _reason_counts(resolutions.values())
    with store.transaction() as con:
        row = con.execute(
            "INSERT INTO graph_versions (source, version, file_hash, digest, files, node_count, "
            f"relation_count, counts, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLS}",
            [
                batch.source,
                label or loaded_at.date().isoformat(),
                file_hash,
                digest,
                [str(f) for f in batch.files],
                len(batch.nodes),
                len(batch.relations),
                json.dumps(counts),
                loaded_at,
            ],
        ).fetchone()
        assert row is not None
        version = _version(row)
        vid = version.version_id
        _insert(con, "graph_nodes", _nodes_table(vid, batch.nodes))
        _insert(con, "graph_node_identifiers", _identifiers_table(vid, batch.nodes))
        _insert(con, "graph_relations", _relations_table(vid, batch.relations))
        _insert(
            con,
            "graph_replaced",
            pa.table(
                {
                    "version_id": pa.array([vid] * len(batch.replaced), pa.int32()),
                    "statement_id": sorted(batch.replaced),
                }
            ),
        )
        if resolutions:
            _write_resolutions(con, vid, resolutions)
    return version, True


def loaded_graph_version(store: Store, batch: GraphBatch) -> GraphVersion | None:
    """The version this batch was already stored as (same source, files and
    statements), if any: lets a caller skip resolving it again."""
    return _loaded(store, batch.source, files_hash(batch.files), batch_digest(batch))


def _loaded(store: Store, source: str, file_hash: str, digest: str) -> GraphVersion | None:
    row = store.con.execute(
        f"SELECT {_COLS} FROM graph_versions WHERE source = ? AND file_hash = ? AND digest = ? "
        "ORDER BY version_id LIMIT 1",
        [source, file_hash, digest],
    ).fetchone()
    return _version(row) if row is not None else None


def store_resolutions(store: Store, version_id: int, resolutions: Mapping[str, Resolution]) -> None:
    """Replace the resolutions stored with one version (after the lists changed), and
    its ``counts["resolved"]``."""
    counts = dict(find_graph_version(store, version_id).counts)
    counts["resolved"] = _reason_counts(resolutions.values())
    with store.transaction() as con:
        con.execute("DELETE FROM graph_resolutions WHERE version_id = ?", [version_id])
        _write_resolutions(con, version_id, resolutions)
        con.execute(
            "UPDATE graph_versions SET counts = ? WHERE version_id = ?",
            [json.dumps(counts), version_id],
        )


def graph_versions(store: Store, source: str | None = None) -> list[GraphVersion]:
    """Every stored graph load (of ``source``), oldest first."""
    sql = f"SELECT {_COLS} FROM graph_versions"
    params: list[Any] = []
    if source is not None:
        sql += " WHERE source = ?"
        params.append(source)
    sql += " ORDER BY source, version_id"
    return [_version(r) for r in store.con.execute(sql, params).fetchall()]


def current_graph_versions(store: Store) -> list[GraphVersion]:
    """The newest load of every source."""
    rows = store.con.execute(
        f"SELECT {_COLS} FROM graph_versions WHERE version_id IN ({CURRENT_GRAPH_VERSIONS}) "
        "ORDER BY source"
    ).fetchall()
    return [_version(r) for r in rows]


def find_graph_version(store: Store, version_id: int) -> GraphVersion:
    row = store.con.execute(
        f"SELECT {_COLS} FROM graph_versions WHERE version_id = ?", [version_id]
    ).fetchone()
    if row is None:
        raise StoreError(f"no graph version {version_id} is stored")
    return _version(row)


def read_graph_version(store: Store, version_id: int) -> GraphBatch:
    """A stored load back as the batch it was stored from."""
    version = find_graph_version(store, version_id)
    batch = GraphBatch(source=version.source, files=list(version.files))
    rows = store.con.execute(
        "SELECT id, name, schema, country, identifiers, unknown, source_ref FROM graph_nodes "
        "WHERE version_id = ? ORDER BY rowid",
        [version_id],
    ).fetchall()
    for node_id, name, schema, country, identifiers, unknown, ref in rows:
        ids = json.loads(identifiers) if isinstance(identifiers, str) else identifiers
        batch.nodes.append(
            Node(
                id=node_id,
                name=name,
                schema=schema,
                country=country,
                identifiers={k: tuple(v) for k, v in ids.items()},
                unknown=bool(unknown),
                source_ref=ref,
            )
        )
    rel_rows = store.con.execute(
        f"SELECT {RELATION_COLS} FROM graph_relations WHERE version_id = ? ORDER BY rowid",
        [version_id],
    ).fetchall()
    batch.relations = [relation_from_row(r) for r in rel_rows]
    batch.replaced = {
        str(r[0])
        for r in store.con.execute(
            "SELECT statement_id FROM graph_replaced WHERE version_id = ?", [version_id]
        ).fetchall()
    }
    batch.counts = {k: v for k, v in version.counts.items() if isinstance(v, int)}
    return batch


def stored_resolutions(store: Store, version_ids: Sequence[int]) -> dict[str, Resolution]:
    """node id -> resolution stored with these versions (a later version wins)."""
    rows = store.con.execute(
        "SELECT node_id, entity_id, reason, score, detail FROM graph_resolutions "
        "WHERE version_id IN (SELECT unnest(?)) ORDER BY version_id",
        [list(version_ids)],
    ).fetchall()
    return {r[0]: Resolution(r[1], r[2], float(r[3]), r[4]) for r in rows}


RELATION_COLS = (
    "id, kind, holder, held, share_low, share_high, share_low_exclusive, "
    "share_high_exclusive, interests, direct, start_date, end_date, role, source_ref"
)


def relation_from_row(row: Sequence[Any]) -> Relation:
    """A ``Relation`` from the columns ``RELATION_COLS`` name, in that order."""
    (
        rid,
        kind,
        holder,
        held,
        low,
        high,
        low_x,
        high_x,
        interests,
        direct,
        start,
        end,
        role,
        ref,
    ) = row
    share = None
    if low is not None and high is not None:
        share = Share(float(low), float(high), bool(low_x), bool(high_x))
    return Relation(
        id=rid,
        kind=kind,
        holder=holder,
        held=held,
        share=share,
        interests=tuple(interests or ()),
        direct=direct,
        start=_day(start),
        end=_day(end),
        role=role,
        source_ref=ref,
    )


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    assert isinstance(value, date)
    return value


def _kind_counts(relations: Sequence[Relation]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rel in relations:
        counts[rel.kind] = counts.get(rel.kind, 0) + 1
    return counts


def _reason_counts(resolutions: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for res in resolutions:
        counts[res.reason] = counts.get(res.reason, 0) + 1
    return counts


def _insert(con: Any, table: str, data: pa.Table) -> None:
    if data.num_rows == 0:
        return
    name = f"_new_{table}"
    con.register(name, data)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM {name}")
    finally:
        con.unregister(name)


def _nodes_table(vid: int, nodes: Sequence[Node]) -> pa.Table:
    return pa.table(
        {
            "version_id": pa.array([vid] * len(nodes), pa.int32()),
            "id": [n.id for n in nodes],
            "name": [n.name for n in nodes],
            "schema": [n.schema for n in nodes],
            "country": pa.array([n.country for n in nodes], pa.string()),
            "identifiers": [
                json.dumps({k: list(v) for k, v in sorted(n.identifiers.items())}) for n in nodes
            ],
            "unknown": pa.array([n.unknown for n in nodes], pa.bool_()),
            "source_ref": [n.source_ref for n in nodes],
        }
    )


def _identifiers_table(vid: int, nodes: Sequence[Node]) -> pa.Table:
    ids: list[str] = []
    kinds: list[str] = []
    values: list[str] = []
    for node in nodes:
        for kind, value in node_identifiers(node):
            ids.append(node.id)
            kinds.append(kind)
            values.append(value)
    return pa.table(
        {
            "version_id": pa.array([vid] * len(ids), pa.int32()),
            "id": pa.array(ids, pa.string()),
            "kind": pa.array(kinds, pa.string()),
            "value": pa.array(values, pa.string()),
        }
    )


def _relations_table(vid: int, relations: Sequence[Relation]) -> pa.Table:
    shares = [r.share for r in relations]
    return pa.table(
        {
            "version_id": pa.array([vid] * len(relations), pa.int32()),
            "id": pa.array([r.id for r in relations], pa.string()),
            "kind": pa.array([r.kind for r in relations], pa.string()),
            "holder": pa.array([r.holder for r in relations], pa.string()),
            "held": pa.array([r.held for r in relations], pa.string()),
            "share_low": pa.array([s.low if s else None for s in shares], pa.float64()),
            "share_high": pa.array([s.high if s else None for s in shares], pa.float64()),
            "share_low_exclusive": pa.array(
                [s.low_exclusive if s else None for s in shares], pa.bool_()
            ),
            "share_high_exclusive": pa.array(
                [s.high_exclusive if s else None for s in shares], pa.bool_()
            ),
            "interests": pa.array([list(r.interests) for r in relations], pa.list_(pa.string())),
            "direct": pa.array([r.direct for r in relations], pa.bool_()),
            "start_date": pa.array([r.start for r in relations], pa.date32()),
            "end_date": pa.array([r.end for r in relations], pa.date32()),
            "role": pa.array([r.role for r in relations], pa.string()),
            "source_ref": pa.array([r.source_ref for r in relations], pa.string()),
        }
    )


def _write_resolutions(con: Any, vid: int, resolutions: Mapping[str, Resolution]) -> None:
    items = sorted(resolutions.items())
    _insert(
        con,
        "graph_resolutions",
        pa.table(
            {
                "version_id": pa.array([vid] * len(items), pa.int32()),
                "node_id": pa.array([k for k, _ in items], pa.string()),
                "entity_id": pa.array([r.entity_id for _, r in items], pa.string()),
                "reason": pa.array([r.reason for _, r in items], pa.string()),
                "score": pa.array([r.score for _, r in items], pa.float64()),
                "detail": pa.array([r.detail for _, r in items], pa.string()),
            }
        ),
    )
