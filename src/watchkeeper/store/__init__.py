"""The embedded DuckDB store: schema migrations, list versions, entities, events."""

from watchkeeper.store.db import Store, open_store
from watchkeeper.store.entities import StoredEntity
from watchkeeper.store.versions import ListVersion

__all__ = ["ListVersion", "Store", "StoredEntity", "open_store"]
