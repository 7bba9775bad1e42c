"""Reviewed false positives: "this query is not that list entity", who said so, when, why.

A decision is keyed by the *fingerprint* of the query (a stable hash of its normalised
form: schema, sorted normalised names, key identifiers, and the facts that tell namesakes
apart: dates, countries, gender) and the list entity id, so the
same customer screened again, with its names in another order, case or spelling of
diacritics, meets the reviewer's decision again. A decision made on "Nicolas Maduro born
1990-01-01" is about that man only: it applies to queries with the same birth date, never
to a namesake with another one or with none. Decisions are revoked, never deleted: the
record of who decided and who took it back stays.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from followthemoney import model, registry

from watchkeeper.errors import InputError
from watchkeeper.store import Store
from watchkeeper.store.normalize import search_key

NOT_A_MATCH = "not_a_match"
DECISION_KINDS = (NOT_A_MATCH,)

# Name parts that make a full name when a query gives no ``name``.
_NAME_PARTS = ("firstName", "secondName", "middleName", "fatherName", "motherName", "lastName")
# Identifiers of the subject itself (a sanctions programme id is not one).
_NOT_KEY_IDS = frozenset({"programId"})
_ID_CHARS = re.compile(r"[^0-9A-Z]+")
# Property types that tell namesakes apart: a decision on a query that gives them holds
# only for queries that give the same.
_QUALIFIER_TYPES = (registry.date, registry.country, registry.gender)


@dataclass(frozen=True)
class NormalisedQuery:
    """What a fingerprint is made of; kept with each decision so a reviewer can read it."""

    schema: str
    names: tuple[str, ...]
    identifiers: tuple[str, ...]
    # (property, sorted values) of the facts that tell namesakes apart, by property name.
    qualifiers: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": self.schema,
            "names": list(self.names),
            "identifiers": list(self.identifiers),
        }
        # Only when there are some: a query of names alone keeps the fingerprint it had
        # before qualifiers were part of it, and so its decisions.
        if self.qualifiers:
            data["qualifiers"] = {prop: list(values) for prop, values in self.qualifiers}
        return data

    @property
    def fingerprint(self) -> str:
        canon = json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:32]


def _values(properties: Mapping[str, Any], prop: str) -> list[str]:
    raw = properties.get(prop)
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw]
    return [v for v in raw if isinstance(v, str)]


def _qualifier(value: str, type_: Any) -> str:
    value = value.strip()
    return value if type_ == registry.date else value.lower()


def normalise_query(schema: str, properties: Mapping[str, Any]) -> NormalisedQuery:
    """The parts of a query that identify its subject, in a canonical form.

    Names: every name-typed property (and the name parts joined, when given), as
    lower-case ASCII words sorted alphabetically, so "Bush, George" and "GEORGE BUSH"
    agree. Identifiers: upper-case letters and digits only. Qualifiers: dates (birth
    date), countries and gender, by property, as given (dates) or lower case.
    """
    schema_obj = model.get(schema)
    if schema_obj is None:
        raise InputError(None, f"unknown schema {schema!r}", field="schema")
    names: set[str] = set()
    identifiers: set[str] = set()
    qualifiers: dict[str, set[str]] = {}
    for name in properties:
        prop = schema_obj.get(name)
        if prop is None:
            continue
        if prop.type == registry.name:
            for value in _values(properties, prop.name):
                key = " ".join(sorted(search_key(value).split()))
                if key:
                    names.add(key)
        elif prop.type == registry.identifier and prop.name not in _NOT_KEY_IDS:
            for value in _values(properties, prop.name):
                ident = _ID_CHARS.sub("", value.upper())
                if ident:
                    identifiers.add(ident)
        elif prop.type in _QUALIFIER_TYPES:
            for value in _values(properties, prop.name):
                if value.strip():
                    qualifiers.setdefault(prop.name, set()).add(_qualifier(value, prop.type))
    parts = [v for p in _NAME_PARTS for v in _values(properties, p)]
    if parts:
        key = " ".join(sorted(search_key(" ".join(parts)).split()))
        if key:
            names.add(key)
    if not names and not identifiers:
        raise InputError(None, "the query has no name and no identifier", field="properties")
    return NormalisedQuery(
        schema_obj.name,
        tuple(sorted(names)),
        tuple(sorted(identifiers)),
        tuple((prop, tuple(sorted(values))) for prop, values in sorted(qualifiers.items())),
    )


def fingerprint(schema: str, properties: Mapping[str, Any]) -> str:
    """Stable hash (32 hex digits) of the normalised query."""
    return normalise_query(schema, properties).fingerprint


@dataclass(frozen=True)
class Decision:
    decision_id: int
    fingerprint: str
    entity_id: str
    decision: str
    decided_by: str
    decided_at: datetime
    reason: str
    query: dict[str, Any] = field(default_factory=dict)
    revoked_by: str | None = None
    revoked_at: datetime | None = None
    revoke_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "fingerprint": self.fingerprint,
            "entity_id": self.entity_id,
            "decision": self.decision,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat(),
            "reason": self.reason,
            "query": self.query,
            "revoked_by": self.revoked_by,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "revoke_reason": self.revoke_reason,
        }


_COLS = (
    "decision_id, fingerprint, entity_id, decision, decided_by, decided_at, reason, query, "
    "revoked_by, revoked_at, revoke_reason"
)


def _from_row(row: Sequence[Any]) -> Decision:
    return Decision(
        decision_id=int(row[0]),
        fingerprint=row[1],
        entity_id=row[2],
        decision=row[3],
        decided_by=row[4],
        decided_at=row[5],
        reason=row[6],
        query=json.loads(row[7]) if isinstance(row[7], str) else dict(row[7]),
        revoked_by=row[8],
        revoked_at=row[9],
        revoke_reason=row[10],
    )


def _required(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise InputError(None, f"{name} must not be empty", field=name)
    if len(value) > 2000:
        raise InputError(None, f"{name} is longer than 2,000 characters", field=name)
    return value


class DecisionStore:
    """The decisions table, with the active decisions held in memory for fast lookups.

    One process writes the store (DuckDB takes a file lock), so the cache is exact
    for the process that holds it.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._active: dict[str, dict[str, Decision]] = {}
        for decision in self.list():
            self._remember(decision)

    def _remember(self, decision: Decision) -> None:
        by_entity = self._active.setdefault(decision.fingerprint, {})
        if decision.active:
            by_entity[decision.entity_id] = decision
        else:
            by_entity.pop(decision.entity_id, None)

    def for_fingerprint(self, fp: str) -> Mapping[str, Decision]:
        """entity id -> the active decision about this query and that entity."""
        return self._active.get(fp, {})

    def add(
        self,
        schema: str,
        properties: Mapping[str, Any],
        entity_id: str,
        *,
        by: str,
        reason: str,
        decision: str = NOT_A_MATCH,
    ) -> tuple[Decision, bool]:
        """Record a decision; returns it and whether it is new (an active decision on the
        same query and entity is returned as it is)."""
        if decision not in DECISION_KINDS:
            raise InputError(None, f"unknown decision {decision!r}", field="decision")
        by = _required(by, "by")
        reason = _required(reason, "reason")
        entity_id = entity_id.strip()
        normalised = normalise_query(schema, properties)
        fp = normalised.fingerprint
        known = self.for_fingerprint(fp).get(entity_id)
        if known is not None:
            return known, False
        if self.store.get_entity(entity_id) is None:
            raise InputError(
                None, f"no entity {entity_id!r} in the current lists", field="entity_id"
            )
        with self.store.transaction() as con:
            row = con.execute(
                "INSERT INTO screening_decisions (fingerprint, entity_id, decision, decided_by, "
                "decided_at, reason, query) VALUES (?, ?, ?, ?, ?, ?, ?) "
                f"RETURNING {_COLS}",
                [
                    fp,
                    entity_id,
                    decision,
                    by,
                    datetime.now(UTC),
                    reason,
                    json.dumps(normalised.to_dict(), ensure_ascii=False),
                ],
            ).fetchone()
        assert row is not None
        made = _from_row(row)
        self._remember(made)
        return made, True

    def revoke(self, decision_id: int, *, by: str, reason: str) -> Decision:
        """Take a decision back; later screenings report the entity again."""
        by = _required(by, "by")
        reason = _required(reason, "reason")
        current = self.get(decision_id)
        if current is None:
            raise InputError(None, f"no decision {decision_id}", field="decision_id")
        if not current.active:
            raise InputError(
                None,
                f"decision {decision_id} was already revoked by {current.revoked_by} "
                f"at {current.revoked_at}",
                field="decision_id",
            )
        with self.store.transaction() as con:
            row = con.execute(
                "UPDATE screening_decisions SET revoked_by = ?, revoked_at = ?, "
                f"revoke_reason = ? WHERE decision_id = ? RETURNING {_COLS}",
                [by, datetime.now(UTC), reason, decision_id],
            ).fetchone()
        assert row is not None
        revoked = _from_row(row)
        self._remember(revoked)
        return revoked

    def get(self, decision_id: int) -> Decision | None:
        row = self.store.con.execute(
            f"SELECT {_COLS} FROM screening_decisions WHERE decision_id = ?", [decision_id]
        ).fetchone()
        return _from_row(row) if row else None

    def list(
        self,
        *,
        include_revoked: bool = True,
        entity_id: str | None = None,
        fingerprint: str | None = None,
    ) -> list[Decision]:
        where: list[str] = []
        params: list[Any] = []
        if not include_revoked:
            where.append("revoked_at IS NULL")
        if entity_id is not None:
            where.append("entity_id = ?")
            params.append(entity_id)
        if fingerprint is not None:
            where.append("fingerprint = ?")
            params.append(fingerprint)
        sql = f"SELECT {_COLS} FROM screening_decisions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY decision_id"
        return [_from_row(r) for r in self.store.con.execute(sql, params).fetchall()]


def reviewed(decisions: DecisionStore, fp: str, entity_ids: Iterable[str]) -> dict[str, Decision]:
    """The active decisions that apply to these results of the query ``fp``."""
    known = decisions.for_fingerprint(fp)
    return {eid: known[eid] for eid in entity_ids if eid in known}
