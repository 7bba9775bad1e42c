"""Shipment lines in the store: ``shipment_lines`` and ``cargo_batches`` (schema
``store/schema/080_cargo.sql``). A batch is written in one transaction: every line
of the file, or none."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import itertools
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from watchkeeper.cargo.model import Party, ShipmentLine
from watchkeeper.errors import InputError

if TYPE_CHECKING:
    from watchkeeper.store import Store

# Columns of shipment_lines besides line_id and batch_id: every ShipmentLine field.
_FIELDS = tuple(f.name for f in dataclasses.fields(ShipmentLine))


@dataclass(frozen=True)
class CargoBatch:
    batch_id: int
    layout: str
    sources: tuple[str, ...]
    source_hash: str
    lines: int
    shipments: int
    ingested_at: datetime


def _parties_json(parties: tuple[Party, ...], cache: dict[tuple[Party, ...], str]) -> str:
    text = cache.get(parties)
    if text is None:
        text = json.dumps(
            [
                {"role": p.role, "name": p.name, "country": p.country, "address": p.address}
                for p in parties
            ],
            ensure_ascii=False,
        )
        cache[parties] = text
    return text


# Lines are written in chunks of this many, inside the batch's one transaction, so a
# million-line file never holds all its records (or their Arrow copy) at once.
CHUNK_LINES = 50_000


def store_batch(
    store: Store,
    lines: Iterable[ShipmentLine],
    *,
    sources: Sequence[str],
    layout: str,
    source_hash: str,
) -> CargoBatch:
    """Write one batch of lines in one transaction (``lines`` may be a generator: they
    are read and written a chunk at a time). A line id twice in the batch, or already
    stored from another batch, is InputError naming the line's source row; any error,
    the reader's included, leaves nothing of the batch stored."""
    seen: dict[str, str] = {}
    shipments: set[str] = set()
    cache: dict[tuple[Party, ...], str] = {}
    now = datetime.now(UTC)
    with store.transaction() as con:
        top = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM cargo_batches").fetchone()
        batch_id = int(top[0]) if top else 1
        it = iter(lines)
        while chunk := list(itertools.islice(it, CHUNK_LINES)):
            for line in chunk:
                line_id = line.line_id
                if (first := seen.get(line_id)) is not None:
                    path, _, row = line.source_ref.rpartition(":")
                    raise InputError(
                        path or line.source_ref,
                        f"shipment line {line_id} is already in this file at {first}",
                        line=int(row) if row.isdigit() else None,
                    )
                seen[line_id] = line.source_ref
                shipments.add(line.shipment_id)
            _insert_chunk(con, chunk, batch_id, cache, sources)
        con.execute(
            "INSERT INTO cargo_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
            [batch_id, layout, list(sources), source_hash, len(seen), len(shipments), now],
        )
    return CargoBatch(batch_id, layout, tuple(sources), source_hash, len(seen), len(shipments), now)


def store_table(
    store: Store,
    table: Any,
    *,
    sources: Sequence[str],
    layout: str,
    source_hash: str,
) -> CargoBatch:
    """Write one batch given as the columns of ``shipment_lines`` (an Arrow table from
    ``cargo.columnar``, line ids already unique within it), in one transaction: a line
    id already stored from another batch is InputError naming its source row."""
    import pyarrow.compute as pc

    now = datetime.now(UTC)
    lines = int(table.num_rows)
    shipments = int(pc.count_distinct(table.column("shipment_id")).as_py())
    with store.transaction() as con:
        top = con.execute("SELECT coalesce(max(batch_id), 0) + 1 FROM cargo_batches").fetchone()
        batch_id = int(top[0]) if top else 1
        _insert_arrow(con, table, batch_id, sources)
        con.execute(
            "INSERT INTO cargo_batches VALUES (?, ?, ?, ?, ?, ?, ?)",
            [batch_id, layout, list(sources), source_hash, lines, shipments, now],
        )
    return CargoBatch(batch_id, layout, tuple(sources), source_hash, lines, shipments, now)


def _insert_chunk(
    con: Any,
    chunk: list[ShipmentLine],
    batch_id: int,
    cache: dict[tuple[Party, ...], str],
    sources: Sequence[str],
) -> None:
    import pyarrow as pa

    # One C-level attrgetter per line, then columns.
    rows = list(map(operator.attrgetter(*_FIELDS), chunk))
    columns: dict[str, list[Any]] = {"line_id": [ln.line_id for ln in chunk]}
    for name, values in zip(_FIELDS, zip(*rows, strict=True), strict=True):
        if name == "parties":
            columns[name] = [_parties_json(p, cache) for p in values]
        elif name in ("transit_countries", "notes"):
            columns[name] = [list(v) for v in values]
        else:
            columns[name] = list(values)
    _insert_arrow(con, pa.table(_arrow_columns(columns)), batch_id, sources)


def _insert_arrow(con: Any, table: Any, batch_id: int, sources: Sequence[str]) -> None:
    con.register("_cargo_incoming", table)
    try:
        clash = con.execute(
            "SELECT i.line_id, i.source_ref FROM _cargo_incoming i "
            "JOIN shipment_lines s USING (line_id) LIMIT 1"
        ).fetchone()
        if clash is not None:
            path, _, row_no = str(clash[1]).rpartition(":")
            raise InputError(
                sources[0] if len(sources) == 1 else path,
                f"shipment line {clash[0]} is already stored (from an earlier file)",
                line=int(row_no) if row_no.isdigit() else None,
            )
        con.execute(
            f"INSERT INTO shipment_lines (line_id, batch_id, {', '.join(_FIELDS)}) "
            f"SELECT line_id, {batch_id}, {', '.join(_FIELDS)} FROM _cargo_incoming"
        )
    finally:
        con.unregister("_cargo_incoming")


def _arrow_columns(columns: dict[str, list[Any]]) -> dict[str, Any]:
    import pyarrow as pa

    types = {
        "line_no": pa.int32(),
        "quantity": pa.float64(),
        "weight_kg": pa.float64(),
        "value": pa.float64(),
        "loading_date": pa.date32(),
        "discharge_date": pa.date32(),
        "declared_date": pa.date32(),
        "transit_countries": pa.list_(pa.string()),
        "notes": pa.list_(pa.string()),
    }
    return {
        name: pa.array(values, type=types.get(name, pa.string()))
        for name, values in columns.items()
    }


def batch_for_hash(store: Store, source_hash: str) -> CargoBatch | None:
    """The batch a file with these bytes was ingested in, if any."""
    row = store.con.execute(
        "SELECT batch_id, layout, sources, source_hash, lines, shipments, ingested_at "
        "FROM cargo_batches WHERE source_hash = ?",
        [source_hash],
    ).fetchone()
    return None if row is None else _batch(row)


def list_batches(store: Store) -> list[CargoBatch]:
    rows = store.con.execute(
        "SELECT batch_id, layout, sources, source_hash, lines, shipments, ingested_at "
        "FROM cargo_batches ORDER BY batch_id"
    ).fetchall()
    return [_batch(r) for r in rows]


def _batch(row: tuple[Any, ...]) -> CargoBatch:
    return CargoBatch(
        batch_id=int(row[0]),
        layout=str(row[1]),
        sources=tuple(row[2]),
        source_hash=str(row[3]),
        lines=int(row[4]),
        shipments=int(row[5]),
        ingested_at=row[6],
    )


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while many acyclic records are made (a collection
    every few thousand new objects costs a third of the time on a million lines)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_lines(
    store: Store,
    *,
    shipment_id: str | None = None,
    batch_id: int | None = None,
    limit: int | None = None,
) -> list[ShipmentLine]:
    """Stored shipment lines, by shipment and line number."""
    where: list[str] = []
    params: list[Any] = []
    if shipment_id is not None:
        where.append("shipment_id = ?")
        params.append(shipment_id)
    if batch_id is not None:
        where.append("batch_id = ?")
        params.append(batch_id)
    sql = f"SELECT {', '.join(_FIELDS)} FROM shipment_lines"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY shipment_id, line_no"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    table = store.con.execute(sql, params).arrow()
    if hasattr(table, "read_all"):  # a RecordBatchReader in newer DuckDB
        table = table.read_all()
    return lines_from_arrow(table)


def lines_from_arrow(table: Any) -> list[ShipmentLine]:
    """``ShipmentLine`` records from an Arrow table of ``shipment_lines`` columns (every
    ``ShipmentLine`` field; parties as their JSON text)."""
    parties_at = _FIELDS.index("parties")
    lists_at = {_FIELDS.index("transit_countries"), _FIELDS.index("notes")}
    parsed: dict[str, tuple[Party, ...]] = {}  # lines repeat their parties: parse once
    out = []
    with paused_gc():
        # A chunk of rows at a time: Python copies of every column at once would be
        # tens of millions of objects for a million lines.
        for batch in table.to_batches(max_chunksize=CHUNK_LINES):
            columns = [batch.column(name).to_pylist() for name in _FIELDS]
            for row in zip(*columns, strict=True):
                values = list(row)
                raw = values[parties_at]
                if (parties := parsed.get(raw)) is None:
                    parties = parse_parties(raw)
                    parsed[raw] = parties
                values[parties_at] = parties
                for i in lists_at:
                    values[i] = tuple(values[i] or ())
                out.append(ShipmentLine(*values))
    return out


def parse_parties(text: str) -> tuple[Party, ...]:
    """A line's parties from their stored JSON text."""
    return tuple(Party(**p) for p in json.loads(text))
