"""The candidate index: blocking keys over every listed name, built once per set of list
versions and saved beside the store, so a query touches a few dozen names, not the lists.

Keys per name token (see ``normalize.token_keys``): the token and its one-deletion
variants (typos, OCR), its consonant skeleton (transliteration, dropped vowels), its
consonants as written, its OCR form, and (for Arabic-script queries) its abjad form. Tokens of adjacent parts are also indexed joined ('kim jong un'
-> 'kimjongun'), so names written as one word or split differently still meet.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
import os
import tempfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import msgpack
import numpy as np
import numpy.typing as npt
from followthemoney import model

from watchkeeper.screening.identifiers import identifier_keys
from watchkeeper.screening.normalize import (
    ARTICLES,
    LEGAL,
    NAME,
    NUMBER,
    PARTICLE,
    TITLE,
    article_said,
    normalise_name,
    token_keys,
)
from watchkeeper.screening.similarity import token_similarity
from watchkeeper.store.entities import Provenance, StoredEntity

# Bump when the index layout or normalisation changes: old caches are then ignored.
INDEX_FORMAT = 19
# The saved index: these bytes, the CRC-32 of the rest, then msgpack (data, never code).
_MAGIC = b"watchkeeper-index\n"
INDEX_SUFFIX = ".msgpack"

NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias", "abbreviation")
# A broad or generic name the list itself says makes many false hits (OFAC's weak
# a.k.a.; FtM does not match on it): found, shown, never a match on its own.
WEAK_ALIAS = "weakAlias"
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


class IndexedName(NamedTuple):
    """One name of one listed entity, normalised."""

    entity: int  # position in CandidateIndex.entities
    original: str
    prop: str  # name, alias, weakAlias, ...
    forms: tuple[str, ...]
    kinds: tuple[str, ...]
    notes: tuple[str, ...] = ()
    weights: tuple[float, ...] = ()  # rarity x kind weight of each part
    canons: tuple[str, ...] = ()  # company forms' generic compare form, else ""
    family_from: int = -1  # position of the family name when the list says which


class EntityFacts(NamedTuple):
    """What scoring needs of a listed entity besides its names."""

    schema: str
    kind: str
    datasets: tuple[str, ...]
    birth_dates: tuple[str, ...]
    countries: frozenset[str]
    identifiers: tuple[tuple[str, str, str], ...]


def key_hash(key: str) -> int:
    """Stable 32-bit hash of a blocking key (collisions only add candidates)."""
    return zlib.crc32(key.encode("utf-8"))


def _entity_to_json(entity: StoredEntity) -> str:
    return json.dumps(
        {**entity.to_dict(), "primary": entity.primary}, ensure_ascii=False, separators=(",", ":")
    )


def _entity_from_json(text: str) -> StoredEntity:
    data: dict[str, Any] = json.loads(text)
    return StoredEntity(
        id=data["id"],
        schema=data["schema"],
        caption=data["caption"],
        properties=data["properties"],
        datasets=data["datasets"],
        provenance=[Provenance(**p) for p in data["provenance"]],
        primary=data.get("primary", True),
    )


IntArray = npt.NDArray[Any]
FloatArray = npt.NDArray[np.float64]

# The index's arrays and the dtype kinds a saved one may have (signed, unsigned, float, bool).
_ARRAYS = {
    "key_hashes": "iu",
    "key_offsets": "iu",
    "key_tokens": "iu",
    "post_offsets": "iu",
    "post_names": "iu",
    "name_weight": "f",
    "like_known": "b",
    "like_offsets": "iu",
    "like_tokens": "iu",
    "like_sims": "f",
}


@dataclass
class CandidateIndex:
    """Compact: numpy arrays for keys and postings, JSON for entities; saved as msgpack."""

    versions: list[int]
    entity_ids: list[str] = field(default_factory=list)
    entity_json: list[str] = field(default_factory=list)
    facts: list[EntityFacts] = field(default_factory=list)
    names: list[IndexedName] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)
    vocab_forms: list[str] = field(default_factory=list)
    df: list[int] = field(default_factory=list)
    idf: list[float] = field(default_factory=list)
    unknown_idf: float = 10.0
    # key hash -> token ids (CSR): sorted unique hashes, offsets, token ids
    key_hashes: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    key_offsets: IntArray = field(default_factory=lambda: np.zeros(1, np.int64))
    key_tokens: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    # token id -> name ids (CSR)
    post_offsets: IntArray = field(default_factory=lambda: np.zeros(1, np.int64))
    post_names: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    name_weight: FloatArray = field(default_factory=lambda: np.zeros(0))
    # token id -> the tokens it is like and how much (CSR), computed once at build: a
    # query word that is on a list needs no similarity work at query time.
    like_known: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, bool))
    like_offsets: IntArray = field(default_factory=lambda: np.zeros(1, np.int64))
    like_tokens: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    like_sims: FloatArray = field(default_factory=lambda: np.zeros(0))
    identifiers: dict[str, list[int]] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)

    # ---- building ---------------------------------------------------------------------

    @classmethod
    def build(cls, entities: Iterable[StoredEntity], versions: list[int]) -> CandidateIndex:
        index = cls(versions=list(versions))
        builder = _Builder(index)
        for entity in entities:
            builder.add_entity(entity)
        builder.finish()
        return index

    def __getstate__(self) -> dict[str, Any]:
        # Plain tuples pickle several times faster than named ones.
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        state["names"] = [tuple(n) for n in self.names]
        state["facts"] = [tuple(f) for f in self.facts]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["names"] = [IndexedName._make(n) for n in state["names"]]
        state["facts"] = [EntityFacts._make(f) for f in state["facts"]]
        self.__dict__.update(state)

    # ---- lookups ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entity_ids)

    def entity(self, position: int) -> StoredEntity:
        cache: dict[int, StoredEntity] = self.__dict__.setdefault("_entity_cache", {})
        found = cache.get(position)
        if found is None:
            if len(cache) > 50_000:
                cache.clear()
            found = cache[position] = _entity_from_json(self.entity_json[position])
        return found

    def token_idf(self, form: str) -> float:
        tid = self.vocab.get(form)
        return self.idf[tid] if tid is not None else self.unknown_idf

    def postings(self, tid: int) -> IntArray:
        return self.post_names[self.post_offsets[tid] : self.post_offsets[tid + 1]]

    def known_likes(self, tid: int) -> list[tuple[int, float]] | None:
        """The (token, similarity) pairs a vocabulary token is like, with a similarity
        above zero, in ``tokens_like`` order (as ``token_similarity`` gives them); None
        when they were not computed at build (parts joined)."""
        if not self.like_known[tid]:
            return None
        start, stop = self.like_offsets[tid], self.like_offsets[tid + 1]
        tokens = self.like_tokens[start:stop].tolist()
        return list(zip(tokens, self.like_sims[start:stop].tolist(), strict=True))

    def tokens_like(self, form: str, full: bool = True, abjad: bool = False) -> set[int]:
        """The vocabulary tokens sharing a blocking key with this query form. Joined parts
        (``full=False``) have fewer keys; consonant-only (abjad) keys are looked up for
        Arabic/Hebrew-script names only."""
        hashes = _key_hashes(form, full, abjad)
        found: set[int] = set()
        if not len(hashes) or not len(self.key_hashes):
            return found
        pos = np.searchsorted(self.key_hashes, hashes)
        pos[pos >= len(self.key_hashes)] = 0
        offsets = self.key_offsets
        tokens = self.key_tokens
        for p in pos[self.key_hashes[pos] == hashes].tolist():
            found.update(tokens[offsets[p] : offsets[p + 1]].tolist())
        return found

    def prepare(self) -> None:
        """Build the lookup tables kept only in memory (after a build or a load)."""
        pairs = sorted((f, t) for f, t in self.vocab.items() if len(f) >= 4)
        self.__dict__["_sorted_forms"] = [f for f, _t in pairs]
        self.__dict__["_sorted_tids"] = [t for _f, t in pairs]

    def prefix_range(self, form: str, most: int = 400) -> list[int]:
        """Vocabulary tokens longer than this (cut-off) word of 2+ letters that begin
        like it; none when more than ``most`` do (too little to go on)."""
        if len(form) < 2 or form.isdigit():
            return []
        if "_sorted_forms" not in self.__dict__:
            self.prepare()
        ordered: list[str] = self.__dict__["_sorted_forms"]
        tids: list[int] = self.__dict__["_sorted_tids"]
        start = bisect.bisect_left(ordered, form)
        stop = bisect.bisect_left(ordered, form + "{")  # '{' sorts after 'z'
        if stop - start > most:
            return []
        return [tids[k] for k in range(start, stop) if ordered[k] != form]

    # ---- persistence ------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write atomically (a half-written cache must never be read), as msgpack: plain
        data only, so a file planted under the cache's name can never run code."""
        payload = msgpack.packb(self._to_plain(), use_bin_type=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_MAGIC)
                fh.write(zlib.crc32(payload).to_bytes(4, "big"))
                fh.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> CandidateIndex | None:
        """The saved index, or None when absent, unreadable, corrupted, of another
        format, or not an index at all (the caller then builds it again)."""
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head = len(_MAGIC) + 4
        if len(data) < head or not data.startswith(_MAGIC):
            return None
        payload = memoryview(data)[head:]
        if zlib.crc32(payload) != int.from_bytes(data[len(_MAGIC) : head], "big"):
            return None
        try:
            plain = msgpack.unpackb(payload, raw=False, use_list=False, strict_map_key=True)
            return cls._from_plain(plain)
        except (msgpack.UnpackException, ValueError, TypeError, KeyError, IndexError):
            # msgpack's own errors (ExtraData, FormatError, StackError) are ValueErrors.
            return None

    def _to_plain(self) -> dict[str, Any]:
        arrays = {
            name: (arr.dtype.str, arr.tobytes())
            for name in _ARRAYS
            for arr in [np.ascontiguousarray(getattr(self, name))]
        }
        return {
            "format": INDEX_FORMAT,
            "versions": self.versions,
            "entity_ids": self.entity_ids,
            "entity_json": self.entity_json,
            "facts": [
                (f.schema, f.kind, f.datasets, f.birth_dates, sorted(f.countries), f.identifiers)
                for f in self.facts
            ],
            "names": self.names,
            "vocab_forms": self.vocab_forms,
            "df": self.df,
            "idf": self.idf,
            "unknown_idf": self.unknown_idf,
            "arrays": arrays,
            "identifiers": self.identifiers,
        }

    @classmethod
    def _from_plain(cls, plain: Any) -> CandidateIndex | None:
        """Rebuild from decoded msgpack; None when the data is not what ``_to_plain`` wrote
        (any error raised here on foreign data is one the caller catches too)."""
        if not isinstance(plain, dict) or plain.get("format") != INDEX_FORMAT:
            return None
        arrays: dict[str, npt.NDArray[Any]] = {}
        for name, kinds in _ARRAYS.items():
            dtype_str, raw = plain["arrays"][name]
            dtype = np.dtype(dtype_str)
            if dtype.kind not in kinds or not isinstance(raw, bytes):
                return None
            arrays[name] = np.frombuffer(raw, dtype=dtype)
        entity_ids = list(plain["entity_ids"])
        vocab_forms = list(plain["vocab_forms"])
        index = cls(
            versions=[int(v) for v in plain["versions"]],
            entity_ids=entity_ids,
            entity_json=list(plain["entity_json"]),
            facts=[
                EntityFacts(schema, kind, datasets, dates, frozenset(countries), ids)
                for schema, kind, datasets, dates, countries, ids in plain["facts"]
            ],
            names=[IndexedName._make(n) for n in plain["names"]],
            vocab=dict(zip(vocab_forms, range(len(vocab_forms)), strict=True)),
            vocab_forms=vocab_forms,
            df=list(plain["df"]),
            idf=list(plain["idf"]),
            unknown_idf=float(plain["unknown_idf"]),
            identifiers={k: list(v) for k, v in plain["identifiers"].items()},
            by_id=dict(zip(entity_ids, range(len(entity_ids)), strict=True)),
            **arrays,
        )
        return index if index._consistent() else None

    def _consistent(self) -> bool:
        """Lengths and offsets agree, so no lookup can index past an array's end."""
        n_tokens, n_names, n_entities = len(self.vocab_forms), len(self.names), len(self)
        if not (
            len(self.vocab) == n_tokens == len(self.df) == len(self.idf)
            and len(self.entity_json) == n_entities == len(self.facts)
            and len(self.name_weight) == n_names
            and len(self.key_offsets) == len(self.key_hashes) + 1
            and len(self.post_offsets) == len(self.like_offsets) == n_tokens + 1
            and len(self.like_known) == n_tokens
            and len(self.like_sims) == len(self.like_tokens)
        ):
            return False
        for offsets, values, bound in (
            (self.key_offsets, self.key_tokens, n_tokens),
            (self.post_offsets, self.post_names, n_names),
            (self.like_offsets, self.like_tokens, n_tokens),
        ):
            if offsets[0] != 0 or offsets[-1] != len(values) or np.any(np.diff(offsets) < 0):
                return False
            if len(values) and (values.min() < 0 or values.max() >= bound):
                return False
        return all(0 <= n.entity < n_entities for n in self.names) and all(
            0 <= p < n_entities for ps in self.identifiers.values() for p in ps
        )


@functools.lru_cache(maxsize=200_000)
def _key_hashes(form: str, full: bool, abjad: bool) -> npt.NDArray[np.uint32]:
    keys = token_keys(form, full)
    if not abjad:
        keys = tuple(k for k in keys if not k.startswith("a:"))
    return np.fromiter((key_hash(k) for k in keys), dtype=np.uint32, count=len(keys))


class _Builder:
    """Accumulates an index in plain dicts, then packs it into arrays."""

    def __init__(self, index: CandidateIndex) -> None:
        self.index = index
        self.keys: dict[int, list[int]] = {}
        self.postings: list[list[int]] = []
        self.parts: set[int] = set()  # tokens that are a name part, not parts joined

    def token_id(self, form: str) -> int:
        index = self.index
        tid = index.vocab.get(form)
        if tid is None:
            tid = len(index.vocab_forms)
            index.vocab[form] = tid
            index.vocab_forms.append(form)
            index.df.append(0)
            self.postings.append([])
            for key in token_keys(form):
                bucket = self.keys.setdefault(key_hash(key), [])
                if not bucket or bucket[-1] != tid:
                    bucket.append(tid)
        return tid

    def add_entity(self, entity: StoredEntity) -> None:
        index = self.index
        kind = schema_kind(entity.schema)
        position = len(index.entity_ids)
        names: list[IndexedName] = []
        seen: set[tuple[str, ...]] = set()
        # OFAC's weak a.k.a.s are also given as aliases: a name the list calls weak is
        # weak wherever else it appears, unless it is the entry's name.
        weak = set(entity.properties.get(WEAK_ALIAS, []))
        family_names = _family_names(entity) if kind == PERSON else []
        for prop in NAME_PROPERTIES:
            for raw in entity.properties.get(prop, []):
                for norm in normalise_name(raw, kind):
                    forms = norm.forms
                    if forms in seen:
                        continue
                    seen.add(forms)
                    names.append(
                        IndexedName(
                            position,
                            raw,
                            WEAK_ALIAS if prop != "name" and raw in weak else prop,
                            forms,
                            norm.kinds,
                            norm.notes,
                            (),
                            norm.canons,
                            _family_from(norm.family_from, forms, family_names),
                        )
                    )
        if not names:
            return
        index.entity_ids.append(entity.id)
        index.entity_json.append(_entity_to_json(entity))
        index.by_id[entity.id] = position
        countries = frozenset(
            c.lower() for p in COUNTRY_PROPERTIES for c in entity.properties.get(p, [])
        )
        dates = tuple(d for p in DATE_PROPERTIES for d in entity.properties.get(p, []))
        ids = tuple(identifier_keys(entity.properties))
        index.facts.append(
            EntityFacts(entity.schema, kind, tuple(entity.datasets), dates, countries, ids)
        )
        for _kind, key, _raw in ids:
            bucket = index.identifiers.setdefault(key, [])
            if position not in bucket:
                bucket.append(position)
        for name in names:
            name_id = len(index.names)
            index.names.append(name)
            tokens = set(name.forms)
            self.parts.update(self.token_id(form) for form in name.forms)
            # Adjacent parts joined: 'abdul rahman' meets 'abdulrahman'.
            if 1 < len(name.forms) <= 6:
                for i in range(len(name.forms) - 1):
                    tokens.add(name.forms[i] + name.forms[i + 1])
                if len(name.forms) >= 3:
                    tokens.add("".join(name.forms))
                # A name with the Arabic article inside ('Nur al-Din'), joined as
                # written and as said ('nuraldin', 'nuraddin' for 'Nourredine').
                for i in range(1, len(name.forms) - 1):
                    if name.forms[i] in ARTICLES:
                        run = name.forms[i - 1 : i + 2]
                        tokens.add("".join(run))
                        if said := article_said(run):
                            tokens.add(said)
            for form in tokens:
                tid = self.token_id(form)
                index.df[tid] += 1
                self.postings[tid].append(name_id)

    def finish(self) -> None:
        index = self.index
        total = max(len(index.names), 1)
        index.idf = [math.log((total + 1) / (d + 0.5)) for d in index.df]
        # A word no list uses weighs like one used twice: rare, yet a typo of a listed
        # word (which then matches it) is the usual reason a word is unknown.
        index.unknown_idf = math.log((total + 1) / 2.5)
        index.names = [
            name._replace(
                weights=tuple(
                    index.idf[index.vocab[f]] * KIND_WEIGHT.get(k, 1.0)
                    for f, k in zip(name.forms, name.kinds, strict=True)
                )
            )
            for name in index.names
        ]
        index.name_weight = np.array([sum(n.weights) for n in index.names], dtype=np.float64)
        hashes = sorted(self.keys)
        index.key_hashes = np.array(hashes, dtype=np.uint32)
        lengths = [len(self.keys[h]) for h in hashes]
        index.key_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
        index.key_tokens = np.fromiter(
            (t for h in hashes for t in self.keys[h]), dtype=np.int32, count=sum(lengths)
        )
        plens = [len(p) for p in self.postings]
        index.post_offsets = np.concatenate([[0], np.cumsum(plens)]).astype(np.int32)
        index.post_names = np.fromiter(
            (n for p in self.postings for n in p), dtype=np.int32, count=sum(plens)
        )
        # Name parts only: adjacent parts joined ('kimjongun') are seldom a query word.
        forms = index.vocab_forms
        likes: list[tuple[int, float]] = []
        offsets = [0]
        known = np.zeros(len(forms), dtype=bool)
        for own, form in enumerate(forms):
            if own in self.parts:
                known[own] = True
                for tid in index.tokens_like(form):
                    sim, _reason = token_similarity(form, forms[tid])
                    if sim > 0:
                        likes.append((tid, sim))
            offsets.append(len(likes))
        index.like_known = known
        index.like_offsets = np.array(offsets, dtype=np.int64)
        index.like_tokens = np.array([t for t, _s in likes], dtype=np.int32)
        index.like_sims = np.array([s for _t, s in likes], dtype=np.float64)


def _family_names(entity: StoredEntity) -> list[tuple[str, ...]]:
    """The entity's family names (``lastName``) as name forms, two words or more: lists
    that give a person's name parts apart (EU, UK, OFAC XML) say which words are the
    family name, as the SDN's 'MADURO MOROS, Nicolas' does with its comma."""
    found: list[tuple[str, ...]] = []
    for raw in entity.properties.get("lastName", []):
        for norm in normalise_name(raw, PERSON):
            if len(norm.forms) >= 2 and norm.forms not in found:
                found.append(norm.forms)
    return found


def _family_from(given: int, forms: tuple[str, ...], family_names: list[tuple[str, ...]]) -> int:
    """Where a name's family name starts: as its own writing says ('FAMILY, Given'),
    else where it ends with one of the entity's family names after a given name."""
    if given >= 0:
        return given
    for family in family_names:
        if len(family) < len(forms) and forms[-len(family) :] == family:
            return len(forms) - len(family)
    return -1


@functools.cache
def _code_stamp() -> str:
    """A hash of the screening code that builds index keys: an index cached by another
    version of the normalisation is never reused with stale keys."""
    folder = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(version_rows: list[tuple[int, str]]) -> str:
    """One key per set of list versions (id and file hash), index format and code."""
    digest = hashlib.sha256(f"format={INDEX_FORMAT};code={_code_stamp()}".encode())
    for version_id, file_hash in sorted(version_rows):
        digest.update(f"{version_id}:{file_hash};".encode())
    return digest.hexdigest()[:20]
