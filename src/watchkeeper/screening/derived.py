"""Parties no list names but a sanctions regime blocks through their owners (the OFAC
50% rule, the EU and UK ownership-and-control tests): the ``owned_by_blocked`` events
the ownership graph wrote, as entities screening can find by name. A hit on one is a
hit of its own kind: ``derived`` says which rule made it blocked and the chain of
statements from the listed owners."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from watchkeeper.store.entities import StoredEntity

if TYPE_CHECKING:
    from watchkeeper.store import Store

OWNED_BY_BLOCKED = "owned_by_blocked"  # written by graph.events (screening may not import it)

# The name a derived hit goes by, per regime: "ofac_50_percent" is what OFAC calls it.
DERIVED_KIND = {
    "ofac": "ofac_50_percent",
    "eu": "eu_ownership_or_control",
    "uk": "uk_ownership_or_control",
}

# FtM properties an identifier kind of the graph goes to, so identifiers match too.
_IDENTIFIER_PROPS = {
    "imo_company": "imoNumber",
    "imo": "imoNumber",
    "lei": "leiCode",
    "inn": "innCode",
    "ogrn": "ogrnCode",
    "tax": "taxNumber",
    "registration": "registrationNumber",
}


def derived_entities(store: Store) -> tuple[list[StoredEntity], dict[str, dict[str, Any]]]:
    """The entities blocked (or possibly blocked) by ownership, and per entity id what a
    hit on it reports: ``{"kind", "status", "regimes": {regime: {status, chain,
    exposure}}, "event"}``."""
    entities: list[StoredEntity] = []
    info: dict[str, dict[str, Any]] = {}
    for event in store.read_events(types=[OWNED_BY_BLOCKED]):
        params = event.params
        name = params.get("name")
        if not name or not event.subjects:
            continue  # written before events named their party: nothing to match on
        entity_id = event.subjects[0]
        regimes: dict[str, Any] = params.get("regimes", {})
        props: dict[str, list[str]] = {"name": [str(name)]}
        if params.get("country"):
            props["country"] = [str(params["country"])]
        for kind, values in (params.get("identifiers") or {}).items():
            prop = _IDENTIFIER_PROPS.get(kind)
            if prop is not None:
                props.setdefault(prop, []).extend(str(v).split(":")[-1] for v in values)
        blocked = [r for r, v in regimes.items() if v.get("status") == "blocked"]
        first = (blocked or sorted(regimes))[0] if regimes else "ofac"
        entities.append(
            StoredEntity(
                id=entity_id,
                schema=str(params.get("schema") or "LegalEntity"),
                caption=str(name),
                properties=props,
                datasets=[f"derived_{DERIVED_KIND.get(r, r)}" for r in sorted(regimes)],
            )
        )
        info[entity_id] = {
            "kind": DERIVED_KIND.get(first, first),
            "status": regimes.get(first, {}).get("status", "blocked"),
            "detail": event.detail,
            "event": event.event_id,
            "regimes": regimes,
        }
    return entities, info
