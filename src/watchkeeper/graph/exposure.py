"""Ownership exposure of a party as cargo and other checks ask it: blocked (or possibly
blocked) by ownership under OFAC's 50% rule on one day, with the chain of holdings in
words. Built from a ``GraphView`` and its ``ControlResult`` (the cli loads them, the api
takes them from its per-day cache); shaped for ``cargo.decide``'s ``ExposureChecker``
without importing cargo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from watchkeeper.graph.control import ControlResult
    from watchkeeper.graph.view import GraphView
    from watchkeeper.store import Store


@dataclass(frozen=True)
class OwnershipExposure:
    """``status``: ``blocked_by_ownership`` or ``possibly_blocked_by_ownership``;
    ``chain``: who holds what of whom, ending with the margin."""

    status: str
    chain: str


class GraphOwnership:
    """Ownership exposure from the graph under OFAC's 50% rule, as of one day: a listed
    hit's entity id or a party the graph names exactly is looked up, and a party no list
    names but blocked persons own (or may own) is reported with the chain of holdings."""

    def __init__(self, view: GraphView, result: ControlResult) -> None:
        self.view = view
        self.result = result

    @classmethod
    def from_store(cls, store: Store, as_of: date) -> GraphOwnership:
        """The stored graph and lists as of ``as_of`` (UTC day), assessed for OFAC."""
        from watchkeeper.graph.control import assess
        from watchkeeper.graph.view import load_view

        view = load_view(store, as_of)
        listed = view.listed.get("ofac", set())
        return cls(view, assess(view.relations, listed, "ofac", as_of=as_of, unknown=view.unknown))

    def exposure(self, entity_id: str) -> OwnershipExposure | None:
        """None for a listed or not-blocked party (screening already says listed)."""
        node = self.view.canonical_id(entity_id)
        found = self.result.exposure(node)
        if found.listed or found.status == "not_blocked":
            return None
        status = (
            "blocked_by_ownership" if found.status == "blocked" else "possibly_blocked_by_ownership"
        )
        steps = "; ".join(
            f"{self._name(st.holder)} ({st.holder}) holds {st.share} of {self._name(st.held)}"
            if st.kind == "ownership"
            else f"{self._name(st.holder)} ({st.holder}) {st.kind} of {self._name(st.held)}"
            for st in found.chain
        )
        return OwnershipExposure(status, f"{steps} ({found.margin})" if steps else found.margin)

    def _name(self, node: str) -> str:
        found = self.view.nodes.get(node)
        return found.name if found is not None else node

    def exposed_party(self, name: str) -> tuple[str, str] | None:
        """(node id, name) of the one graph party named exactly ``name`` when it is
        exposed; None when no party or several carry the name, or it is not exposed."""
        from watchkeeper.errors import WatchkeeperError
        from watchkeeper.graph.queries import resolve

        try:
            node = resolve(self.view, name)
        except WatchkeeperError:
            return None
        if self.exposure(node) is None:
            return None
        caption = self.view.nodes[node].name if node in self.view.nodes else node
        return node, caption
