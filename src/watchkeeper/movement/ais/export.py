"""Writing the stored position reports out as CSV or Parquet."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from watchkeeper.errors import InputError
from watchkeeper.store import Store

EXPORT_COLUMNS = (
    "msg_id",
    "mmsi",
    "time",
    "lat",
    "lon",
    "sog",
    "cog",
    "heading",
    "nav_status",
    "msg_type",
    "accuracy",
    "source",
)


def positions_table(
    store: Store, *, mmsi: list[int] | None = None, since: datetime | None = None
) -> Any:
    """Decoded positions (UTC times, knots, degrees) as an Arrow table, by MMSI and time."""
    where: list[str] = []
    params: list[object] = []
    if mmsi:
        where.append(f"mmsi IN ({', '.join('?' for _ in mmsi)})")
        params.extend(mmsi)
    if since is not None:
        if since.tzinfo is None:
            raise InputError(None, "--since must be a UTC time", field="since")
        where.append("time >= ?")
        params.append(since)
    sql = f"SELECT {', '.join(EXPORT_COLUMNS)} FROM ais_positions"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY mmsi, time, msg_id"
    return store.con.execute(sql, params).to_arrow_table()


def write_positions(table: Any, fmt: Literal["csv", "parquet"], output: Path | IO[bytes]) -> int:
    """Write ``table`` as CSV (ISO 8601 UTC times) or Parquet; returns the row count."""
    if fmt == "parquet":
        pq.write_table(table, output)
    else:
        times = table.column("time").cast(pa.timestamp("us", tz="UTC"))
        as_text = pc.strftime(times, format="%Y-%m-%dT%H:%M:%SZ")
        table = table.set_column(table.schema.get_field_index("time"), "time", as_text)
        pacsv.write_csv(table, output)
    return int(table.num_rows)
