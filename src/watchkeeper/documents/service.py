"""The gazetteer and linker for the store's current list versions (built once, reused)."""

from __future__ import annotations

from collections.abc import Sequence

from watchkeeper.documents.gazetteer import NameGazetteer
from watchkeeper.documents.mentions import LinkCandidate, PartyLinker
from watchkeeper.store import Store

_CACHE: dict[tuple[str, tuple[int, ...]], NameGazetteer] = {}


def _key(store: Store) -> tuple[str, tuple[int, ...]]:
    return (store.path, tuple(v.version_id for v in store.list_versions()))


def gazetteer_for(store: Store) -> NameGazetteer:
    key = _key(store)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = NameGazetteer.from_store(store)
    return _CACHE[key]


class ScreeningLinker:
    """Links a name through the screening engine: fuzzy, transliterated, reordered."""

    def __init__(self, store: Store) -> None:
        from watchkeeper.screening import Screener

        self.screener = Screener.from_store(store)

    def link(self, name: str, *, schema: str, countries: Sequence[str]) -> list[LinkCandidate]:
        from watchkeeper.screening import Query

        props: dict[str, list[str]] = {"name": [name]}
        if countries:
            props["country"] = list(countries)
        hits = self.screener.screen(Query(schema=schema, properties=props), threshold=0.0, limit=5)
        out = []
        for hit in hits:
            entity = hit.entity
            why = "; ".join(e.detail for e in hit.explanations if e.detail)
            out.append(
                LinkCandidate(
                    entity.id,
                    entity.caption,
                    entity.schema,
                    hit.score,
                    f"screening matched '{name}' to {entity.id} ({entity.caption}): {why}",
                    countries=entity.get("country") + entity.get("nationality"),
                )
            )
        return out


def linker_for(store: Store) -> PartyLinker | None:
    """The screening linker, when the store has lists loaded."""
    if not store.list_versions():
        return None
    return ScreeningLinker(store)
