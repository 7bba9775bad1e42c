"""What the API holds while it runs: the store, the screener built from it, the
decisions, the audit log, and what the lists were when the screener was built."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from watchkeeper.api.guards import Rejects
from watchkeeper.screening import Screener
from watchkeeper.screening.audit import AuditWriter
from watchkeeper.screening.decisions import DecisionStore
from watchkeeper.settings import Settings
from watchkeeper.store import Store, StoredEntity

# Path names that mean "every list" (yente's collections).
ALL_LISTS = frozenset({"default", "sanctions"})


@dataclass
class ApiState:
    settings: Settings
    store: Store
    screener: Screener
    decisions: DecisionStore
    audit: AuditWriter | None  # None when settings.audit_api is off
    owns_store: bool = False
    # [{source, version, version_id}] of the versions the screener searches.
    list_versions: list[dict[str, Any]] = field(default_factory=list)
    sources: frozenset[str] = frozenset()
    entity_count: int = 0
    # changed_since value -> entity ids added or changed since then (lists do not
    # change while the server runs: the store is open for writing by this process).
    changed_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    # Requests refused at the edge (body too large, text not Unicode), for /healthz.
    rejects: Rejects = field(default_factory=Rejects)
    _entities: list[StoredEntity] | None = None

    def entities(self) -> list[StoredEntity]:
        """Every listed party, read once (for browsing /search with no query)."""
        if self._entities is None:
            self._entities = list(self.store.current_entities())
        return self._entities

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store | None = None,
        screener: Screener | None = None,
    ) -> ApiState:
        owns = store is None
        if store is None:
            store = Store(settings.db_path)
        if screener is None:
            screener = Screener.from_store(store)
        used = set(screener.versions())
        versions = [
            {"source": v.source, "version": v.version, "version_id": v.version_id}
            for v in store.list_versions()
            if v.version_id in used
        ]
        return cls(
            settings=settings,
            store=store,
            screener=screener,
            decisions=DecisionStore(store),
            audit=AuditWriter(store) if settings.audit_api else None,
            owns_store=owns,
            list_versions=versions,
            sources=frozenset(v.source for v in store.list_versions()),
            entity_count=store.entity_count(),
        )

    def close(self) -> None:
        """Write the audit rows still pending, then close the store if it is ours."""
        try:
            if self.audit is not None:
                self.audit.close()
        finally:
            if self.owns_store:
                self.store.close()
