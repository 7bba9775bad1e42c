"""Who became blocked or unblocked between two versions of a list: the graph is read
twice, once with each list version (``graph.view.load_view(list_version_ids=...)``),
assessed under the regime, and the statuses compared. A party can change because it
was listed or delisted itself, or because an owner up its chain was."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from watchkeeper.errors import StoreError
from watchkeeper.graph.control import ControlResult, assess
from watchkeeper.graph.queries import GraphLike, node_of
from watchkeeper.graph.regimes import RegimeName

if TYPE_CHECKING:
    from watchkeeper.store import Store

Change = Literal["became_blocked", "became_unblocked", "became_possibly_blocked"]
# Each regime's own list, whose versions are compared by default.
REGIME_LIST: dict[RegimeName, str] = {"ofac": "ofac_sdn", "eu": "eu_fsf", "uk": "uk_ofsi"}


@dataclass(frozen=True)
class StatusChange:
    """One party whose status differs between the two versions. ``listed_*``: named by
    the list itself (else blocked, if at all, by ownership). ``exposure``: the
    explanation on the side where it is blocked (after, or before when unblocked)."""

    entity: str
    name: str
    change: Change
    before: str
    after: str
    listed_before: bool
    listed_after: bool
    exposure: dict[str, Any]

    @property
    def by_ownership(self) -> bool:
        """Blocked (or unblocked) through its owners, not by its own listing."""
        return not (self.listed_before or self.listed_after)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "name": self.name,
            "change": self.change,
            "before": self.before,
            "after": self.after,
            "listed_before": self.listed_before,
            "listed_after": self.listed_after,
            "by_ownership": self.by_ownership,
            "exposure": self.exposure,
        }


@dataclass
class GraphDiff:
    regime: RegimeName
    as_of: date
    source: str
    from_version: int | None
    to_version: int | None
    changes: list[StatusChange] = field(default_factory=list)

    def of(self, change: Change) -> list[StatusChange]:
        return [c for c in self.changes if c.change == change]

    def to_dict(self) -> dict[str, Any]:
        counts = {k: len(self.of(k)) for k in _ORDER}
        return {
            "regime": self.regime,
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "from_version": self.from_version,
            "to_version": self.to_version,
            "counts": counts,
            "changes": [c.to_dict() for c in self.changes],
        }


_ORDER: tuple[Change, ...] = ("became_blocked", "became_unblocked", "became_possibly_blocked")


def _kind(before: str, after: str) -> Change | None:
    if after == "blocked" and before != "blocked":
        return "became_blocked"
    if before == "blocked" and after != "blocked":
        return "became_unblocked"
    if after == "possibly_blocked" and before == "not_blocked":
        return "became_possibly_blocked"
    return None  # unchanged, or possibly blocked -> not blocked (never was blocked)


def _name(views: Sequence[GraphLike], entity: str) -> str:
    for view in views:
        if entity in view.nodes:
            return node_of(view, entity).name
    return entity


def compare(
    before: ControlResult,
    after: ControlResult,
    *,
    listed_before: AbstractSet[str],
    listed_after: AbstractSet[str],
    views: Sequence[GraphLike] = (),
) -> list[StatusChange]:
    """Status changes between two assessments, blocked first, then by id. ``listed_*``
    hold the ids each side's lists name; ``views`` give names (the first naming one)."""
    old, new = before.statuses(), after.statuses()
    out: list[StatusChange] = []
    for entity in sorted(set(old) | set(new)):
        was, now = old.get(entity, "not_blocked"), new.get(entity, "not_blocked")
        kind = _kind(was, now)
        if kind is None:
            continue
        side = before if kind == "became_unblocked" else after
        out.append(
            StatusChange(
                entity=entity,
                name=_name(views, entity),
                change=kind,
                before=was,
                after=now,
                listed_before=entity in listed_before,
                listed_after=entity in listed_after,
                exposure=side.exposure(entity).to_dict(),
            )
        )
    out.sort(key=lambda c: (_ORDER.index(c.change), c.entity))
    return out


def graph_diff(
    store: Store,
    from_version: int | None = None,
    to_version: int | None = None,
    *,
    as_of: date,
    regime: RegimeName = "ofac",
    source: str | None = None,
) -> GraphDiff:
    """Which parties became blocked, unblocked or possibly blocked under ``regime`` on
    ``as_of`` between two versions (ids) of the regime's list (``ofac_sdn`` for OFAC),
    by default the two newest. Each view reads only that list version."""
    from watchkeeper.graph.view import load_view

    source = source or REGIME_LIST[regime]
    new = store.find_version(source, None if to_version is None else str(to_version))
    if from_version is None:
        # The version before ``new`` in the list's own order (publication date).
        ids = [v.version_id for v in store.list_versions(source)]
        at = ids.index(new.version_id)
        if at == 0:
            raise StoreError(
                f"list {source!r} has no version before version id {new.version_id}: "
                "name both with --from and --to"
            )
        old = store.list_versions(source)[at - 1]
    else:
        old = store.find_version(source, str(from_version))
    sides = []
    for version in (old, new):
        view = load_view(store, as_of, list_version_ids=[version.version_id])
        listed = view.listed.get(regime, set())
        result = assess(view.relations, listed, regime, as_of=as_of, unknown=view.unknown)
        sides.append((view, listed, result))
    (v0, l0, r0), (v1, l1, r1) = sides
    changes = compare(r0, r1, listed_before=l0, listed_after=l1, views=(v1, v0))
    # Listed parties with no statement are in no view: their names are the lists'.
    unnamed = [c.entity for c in changes if c.name == c.entity]
    captions = dict(
        store.con.execute(
            "SELECT id, any_value(caption) FROM entities WHERE version_id IN (?, ?) "
            "AND id IN (SELECT unnest(?)) GROUP BY id",
            [old.version_id, new.version_id, unnamed],
        ).fetchall()
    )
    changes = [replace(c, name=str(captions.get(c.entity) or c.name)) for c in changes]
    return GraphDiff(
        regime=regime,
        as_of=as_of,
        source=source,
        from_version=old.version_id,
        to_version=new.version_id,
        changes=changes,
    )
