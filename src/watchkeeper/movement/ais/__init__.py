"""AIS: framing NMEA, decoding payloads, reading decoded CSVs, live feeds, the store tables.

The entry points:

- :func:`ingest_paths` / :func:`ingest_stream` (files, folders, standard input) and
  :func:`watchkeeper.movement.ais.feed.ingest_feed` (a live TCP feed);
- :func:`positions_table` / :func:`write_positions` to export the decoded positions.
"""

from watchkeeper.movement.ais.export import positions_table, write_positions
from watchkeeper.movement.ais.ingest import (
    IngestReport,
    SourceReport,
    ingest_paths,
    ingest_stream,
)

__all__ = [
    "IngestReport",
    "SourceReport",
    "ingest_paths",
    "ingest_stream",
    "positions_table",
    "write_positions",
]
