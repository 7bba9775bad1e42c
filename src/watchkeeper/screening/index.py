"""The candidate index: blocking keys over every listed name, built once per set of list
versions and saved beside the store, so a query touches a few dozen names, not the lists.

Keys per name token (see ``normalize.token_keys``): the token and its one-deletion
variants (typos, OCR), its metaphone, its consonant skeleton (transliteration, dropped
vowels), its OCR form. Tokens of adjacent parts are also indexed joined ('kim jong un'
-> 'kimjongun'), so names written as one word or split differently still meet.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import tempfile
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from followthemoney import model

from watchkeeper.screening.identifiers import identifier_keys
from watchkeeper.screening.normalize import (
    LEGAL,
    NAME,
    NUMBER,
    PARTICLE,
    TITLE,
    normalise_name,
    token_keys,
)
from watchkeeper.store.entities import StoredEntity

# Bump when the index layout or normalisation changes: old caches are then ignored.
INDEX_FORMAT = 3

NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias", "abbreviation")
DATE_PROPERTIES = ("birthDate",)
COUNTRY_PROPERTIES = (
    "country",
    "nationality",
    "citizenship",
    "jurisdiction",
    "mainCountry",
    "flag",
    "birthCountry",
)

# Kind of name handling per schema family.
PERSON = "person"
ORGANISATION = "organisation"
OBJECT = "object"
ANY = "any"

# Weight multipliers by part kind: company forms and particles count little, titles not.
KIND_WEIGHT = {NAME: 1.0, NUMBER: 1.0, LEGAL: 0.25, PARTICLE: 0.2, TITLE: 0.0}


def schema_kind(schema: str) -> str:
    """How names of this schema are normalised: person, organisation, object or any."""
    s = model.get(schema)
    if s is None:
        return ANY
    if s.is_a("Person"):
        return PERSON
    if s.is_a("Organization"):
        return ORGANISATION
    if s.is_a("Vessel") or s.is_a("Airplane") or s.is_a("Vehicle"):
        return OBJECT
    if s.name == "LegalEntity":
        return ANY
    return ANY


@dataclass(slots=True)
class IndexedName:
    """One name of one listed entity, normalised."""

    entity: int  # position in CandidateIndex.entities
    original: str
    prop: str  # name, alias, weakAlias, ...
    forms: tuple[str, ...]
    kinds: tuple[str, ...]
    notes: tuple[str, ...] = ()


@dataclass
class EntityFacts:
    """What scoring needs of a listed entity besides its names."""

    schema: str
    kind: str
    birth_dates: tuple[str, ...]
    countries: frozenset[str]
    identifiers: tuple[tuple[str, str, str], ...]


@dataclass
class CandidateIndex:
    versions: list[int]
    entities: list[StoredEntity] = field(default_factory=list)
    facts: list[EntityFacts] = field(default_factory=list)
    names: list[IndexedName] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)
    vocab_forms: list[str] = field(default_factory=list)
    df: list[int] = field(default_factory=list)
    postings: list[array] = field(default_factory=list)  # type: ignore[type-arg]
    keys: dict[str, list[int]] = field(default_factory=dict)
    identifiers: dict[str, list[int]] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)
    idf: list[float] = field(default_factory=list)
    unknown_idf: float = 10.0

    # ---- building ---------------------------------------------------------------------

    @classmethod
    def build(cls, entities: Iterable[StoredEntity], versions: list[int]) -> CandidateIndex:
        index = cls(versions=list(versions))
        for entity in entities:
            index._add_entity(entity)
        index._finish()
        return index

    def _token_id(self, form: str) -> int:
        tid = self.vocab.get(form)
        if tid is None:
            tid = len(self.vocab_forms)
            self.vocab[form] = tid
            self.vocab_forms.append(form)
            self.df.append(0)
            self.postings.append(array("I"))
            for key in token_keys(form):
                self.keys.setdefault(key, []).append(tid)
        return tid

    def _add_entity(self, entity: StoredEntity) -> None:
        kind = schema_kind(entity.schema)
        position = len(self.entities)
        names: list[IndexedName] = []
        seen: set[tuple[str, ...]] = set()
        for prop in NAME_PROPERTIES:
            for raw in entity.properties.get(prop, []):
                for norm in normalise_name(raw, kind):
                    forms = norm.forms
                    if forms in seen:
                        continue
                    seen.add(forms)
                    kinds = tuple(t.kind for t in norm.tokens)
                    names.append(IndexedName(position, raw, prop, forms, kinds, norm.notes))
        if not names:
            return
        self.entities.append(entity)
        self.by_id[entity.id] = position
        countries = frozenset(
            c.lower() for p in COUNTRY_PROPERTIES for c in entity.properties.get(p, [])
        )
        dates = tuple(d for p in DATE_PROPERTIES for d in entity.properties.get(p, []))
        ids = tuple(identifier_keys(entity.properties))
        self.facts.append(EntityFacts(entity.schema, kind, dates, countries, ids))
        for _kind, key, _raw in ids:
            bucket = self.identifiers.setdefault(key, [])
            if position not in bucket:
                bucket.append(position)
        for name in names:
            name_id = len(self.names)
            self.names.append(name)
            tokens = set(name.forms)
            # Adjacent parts joined: 'abdul rahman' meets 'abdulrahman'.
            if 1 < len(name.forms) <= 6:
                for i in range(len(name.forms) - 1):
                    tokens.add(name.forms[i] + name.forms[i + 1])
                if len(name.forms) >= 3:
                    tokens.add("".join(name.forms))
            for form in tokens:
                tid = self._token_id(form)
                self.df[tid] += 1
                self.postings[tid].append(name_id)

    def _finish(self) -> None:
        total = max(len(self.names), 1)
        self.idf = [math.log((total + 1) / (d + 0.5)) for d in self.df]
        self.unknown_idf = math.log((total + 1) / 0.5)

    # ---- lookups ----------------------------------------------------------------------

    def token_idf(self, form: str) -> float:
        tid = self.vocab.get(form)
        return self.idf[tid] if tid is not None else self.unknown_idf

    def matching_tokens(self, form: str) -> set[int]:
        """Vocabulary tokens sharing any blocking key with this query token."""
        found: set[int] = set()
        keys = self.keys
        for key in token_keys(form):
            tids = keys.get(key)
            if tids:
                found.update(tids)
        return found

    # ---- persistence ------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write atomically (a half-written cache must never be read)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((INDEX_FORMAT, self), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> CandidateIndex | None:
        """The saved index, or None when absent, unreadable or of another format."""
        try:
            with open(path, "rb") as fh:
                fmt, index = pickle.load(fh)  # noqa: S301 - our own cache file
        except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
            return None
        if fmt != INDEX_FORMAT or not isinstance(index, cls):
            return None
        return index


def cache_key(version_rows: list[tuple[int, str]]) -> str:
    """One key per set of list versions (id and file hash), and index format."""
    digest = hashlib.sha256(f"format={INDEX_FORMAT}".encode())
    for version_id, file_hash in sorted(version_rows):
        digest.update(f"{version_id}:{file_hash};".encode())
    return digest.hexdigest()[:20]
