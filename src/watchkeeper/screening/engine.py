"""The screening engine: yente-style queries in, scored and explained hits out.

``Screener.from_store(store)`` builds (or loads from disk) the candidate index over the
current lists; ``screen(query)`` finds candidates by blocking keys, scores each with
``scoring``, and returns hits in yente's result shape.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from followthemoney import model, registry

from watchkeeper.errors import InputError
from watchkeeper.screening.identifiers import (
    ID_PROPERTIES,
    ID_WEIGHTS,
    identifier_keys,
)
from watchkeeper.screening.index import (
    ANY,
    COUNTRY_PROPERTIES,
    INDEX_SUFFIX,
    KIND_WEIGHT,
    ORGANISATION,
    PERSON,
    WEAK_ALIAS,
    CandidateIndex,
    cache_key,
    schema_kind,
)
from watchkeeper.screening.normalize import (
    ABJAD_SCRIPTS,
    MAX_NAME_CHARS,
    SYLLABIC_SCRIPTS,
    TITLE,
    NormalName,
    normalise_name,
)
from watchkeeper.screening.query_names import with_composed_names, with_possessor
from watchkeeper.screening.scoring import (
    ABJAD_MIDDLE_QUERY_PART,
    EXTRA_LIST_PART,
    MIDDLE_QUERY_PART,
    NameScore,
    align_names,
    birth_date_feature,
    country_feature,
)
from watchkeeper.screening.similarity import (
    abjad_similarity,
    prefix_similarity,
    token_similarity,
)
from watchkeeper.store import Store, StoredEntity
from watchkeeper.store.entities import CURRENT_VERSIONS

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

DEFAULT_THRESHOLD = 0.7
# A title in the query weighs as a name where it pairs with a listed name part
# ('Sayyid'); unpaired, it costs nothing (scoring leaves titles out of what is missing).
QUERY_KIND_WEIGHT = {**KIND_WEIGHT, TITLE: 1.0}
# Results below this score are not returned at all (yente's "cutoff").
DEFAULT_CUTOFF = 0.5
# How many candidate entities a query scores in full, and names of each.
MAX_CANDIDATES = 15
NAMES_PER_ENTITY = 3
# Share of the cut-off a candidate name's estimated score must reach to be scored.
MIN_ESTIMATE = 0.8
ALWAYS_SCORED = 2
LOWEST_ESTIMATE = 0.2
# Tokens on more names than this do not drive candidate search alone ('al', 'company').
COMMON_POSTINGS = 1500
# A name matched only on a weak alias ('NICOLAS', 'Hizb Allah') scores below the
# default threshold: reported, never a match by itself.
WEAK_ALIAS_CAP = 0.65

SCHEMATA = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Airplane", "Thing")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# ---- the contract ----------------------------------------------------------------------


@dataclass
class Query:
    """One yente-style match query: an FtM schema and FtM properties."""

    schema: str
    properties: dict[str, list[str]]
    id: str | None = None

    @classmethod
    def from_yente(cls, body: dict[str, Any]) -> Query:
        """Read ``{"schema": ..., "properties": {...}}``; raise ``InputError`` on bad input."""
        if not isinstance(body, dict):
            raise InputError(None, f"a query must be a JSON object, not {type(body).__name__}")
        qid = body.get("id")
        if qid is not None and not isinstance(qid, str | int):
            raise InputError(None, "'id' must be a string", field="id")
        schema = body.get("schema", "LegalEntity")
        if not isinstance(schema, str) or model.get(schema) is None:
            raise InputError(None, f"unknown schema {schema!r}", field="schema")
        schema_obj = model.get(schema)
        assert schema_obj is not None
        if not schema_obj.is_a("Thing"):
            raise InputError(None, f"schema {schema!r} cannot be screened", field="schema")
        raw_props = body.get("properties", {})
        if not isinstance(raw_props, dict):
            raise InputError(None, "'properties' must be an object", field="properties")
        properties: dict[str, list[str]] = {}
        for prop, values in raw_props.items():
            if not isinstance(prop, str) or schema_obj.get(prop) is None:
                raise InputError(
                    None, f"schema {schema} has no property {prop!r}", field=f"properties.{prop}"
                )
            if isinstance(values, str | int | float) and not isinstance(values, bool):
                values = [values]
            if not isinstance(values, list) or not all(
                isinstance(v, str | int | float) and not isinstance(v, bool) for v in values
            ):
                raise InputError(
                    None, "values must be a string or a list of strings", field=f"properties.{prop}"
                )
            cleaned = [str(v).strip() for v in values if str(v).strip()]
            for value in cleaned:
                _check_value(prop, value)
            if cleaned:
                properties[prop] = [_clean_value(prop, v) for v in cleaned]
        # Name parts alone (firstName, lastName...) also give the full names they make.
        properties = with_composed_names(properties)
        query = cls(schema=schema, properties=properties, id=str(qid) if qid is not None else None)
        if not query.names() and not query.identifiers():
            raise InputError(None, "the query has no name and no identifier", field="properties")
        return query

    def names(self) -> list[str]:
        return [
            n
            for p in ("name", "alias", "previousName", "weakAlias")
            for n in self.properties.get(p, [])
        ]

    def identifiers(self) -> list[tuple[str, str, str]]:
        return identifier_keys(self.properties)


def _check_value(prop: str, value: str) -> None:
    where = f"properties.{prop}"
    for ch in value:
        if unicodedata.category(ch) == "Cc" and ch not in "\t":
            raise InputError(
                None, f"control character U+{ord(ch):04X} in {value[:40]!r}", field=where
            )
    if prop in ("name", "alias", "previousName", "weakAlias", "firstName", "lastName"):
        if len(value) > MAX_NAME_CHARS:
            raise InputError(
                None,
                f"name is {len(value)} characters long (at most {MAX_NAME_CHARS})",
                field=where,
            )
        letters = [c for c in value if c.isalnum()]
        if len(letters) < 2:
            raise InputError(None, f"name {value!r} is too short to screen", field=where)
    elif prop in ("birthDate", "incorporationDate", "buildDate"):
        if not _DATE.match(value) or registry.date.clean(value) is None:
            raise InputError(
                None, f"invalid date {value!r} (use YYYY, YYYY-MM or YYYY-MM-DD)", field=where
            )
    elif prop in COUNTRY_PROPERTIES:
        if registry.country.clean(value) is None:
            raise InputError(None, f"unknown country {value!r}", field=where)
    elif len(value) > MAX_NAME_CHARS:
        raise InputError(None, f"value is {len(value)} characters long", field=where)


def _clean_value(prop: str, value: str) -> str:
    if prop in COUNTRY_PROPERTIES:
        return registry.country.clean(value) or value
    return value


@dataclass
class Explanation:
    """One feature's contribution to a hit's score, and why."""

    feature: str
    score: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "score": round(self.score, 4), "detail": self.detail}


@dataclass
class Hit:
    """A listed entity a query matched (or nearly did), with its score and reasons."""

    entity: StoredEntity
    score: float
    match: bool
    explanations: list[Explanation] = field(default_factory=list)
    # Set on a party no list names but a regime blocks through its owners (the OFAC
    # 50% rule...): the rule ("kind": "ofac_50_percent"), the status and the chain.
    derived: dict[str, Any] | None = None

    def to_yente(self) -> dict[str, Any]:
        seen = [p.first_seen for p in self.entity.provenance if p.first_seen]
        last = [p.last_seen for p in self.entity.provenance if p.last_seen]
        return {
            "id": self.entity.id,
            "caption": self.entity.caption,
            "schema": self.entity.schema,
            "properties": self.entity.properties,
            "datasets": self.entity.datasets,
            "referents": [],
            "target": True,
            "first_seen": min(seen) if seen else None,
            "last_seen": max(last) if last else None,
            "last_change": max(last) if last else None,
            "score": round(self.score, 4),
            "match": self.match,
            "features": {e.feature: round(e.score, 4) for e in self.explanations},
            "explanations": [e.to_dict() for e in self.explanations],
        } | ({"derived": self.derived} if self.derived is not None else {})


# ---- the screener ------------------------------------------------------------------------


@dataclass
class _PreparedQuery:
    query: Query
    names: dict[str, list[tuple[NormalName, tuple[float, ...]]]]  # by schema kind
    blocking: list[NormalName]
    dates: list[str]
    countries: set[str]
    identifiers: list[tuple[str, str, str]]
    kinds: tuple[str, ...]
    notes: list[str]


class _Matches(NamedTuple):
    """The vocabulary tokens a query form is like."""

    matched: list[tuple[int, float]]  # vocabulary token, similarity
    best_idf: float  # rarity of the rarest of them
    weight: float  # what the form weighs in scoring


class _Probe(NamedTuple):
    """What one query form finds in the index."""

    matched: list[tuple[int, float]]  # vocabulary token, similarity x rarity
    best_idf: float  # rarity of the rarest token it is like (words it begins aside)
    weight: float  # what the form weighs in scoring
    names: IntArray  # names carrying a matched token of at most COMMON_POSTINGS names
    weights: FloatArray  # the best similarity x rarity of the form on each of them
    sims: FloatArray  # the similarity of that best token


@lru_cache(maxsize=1024)
def _compatible(query_schema: str, listed_schema: str) -> bool:
    """A person query never matches a vessel; LegalEntity and Thing queries are wide."""
    if query_schema == "Thing":
        return True
    q = model.get(query_schema)
    c = model.get(listed_schema)
    if q is None or c is None:
        return False
    if q.name == c.name:
        return True
    return bool(q.can_match(c))


# Allocations between young-generation collections while screening (CPython's default
# is 700): a query allocates thousands of small tuples, and each collection costs time.
GC_YOUNG_THRESHOLD = 50_000


def settle_gc() -> None:
    """Tell the garbage collector the index is here to stay: its millions of objects move
    to the permanent generation (full collections no longer walk them), and young
    collections run less often. Screening is about a fifth faster for it. The index
    holds no reference cycles, so dropping it still frees it."""
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young and young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


class Screener:
    """Screens queries against an index of the current lists."""

    _memory: dict[tuple[str, str], CandidateIndex] = {}

    def __init__(self, index: CandidateIndex) -> None:
        self.index = index
        # Parties blocked by ownership (screening.derived), screened beside the lists.
        self.derived: Screener | None = None
        self.derived_info: dict[str, dict[str, Any]] = {}
        if "_sorted_forms" not in index.__dict__:
            index.prepare()

    @classmethod
    def from_entities(
        cls, entities: list[StoredEntity], versions: list[int] | None = None
    ) -> Screener:
        return cls(CandidateIndex.build(entities, versions or []))

    @classmethod
    def from_store(cls, store: Store, *, cache_dir: Path | None = None) -> Screener:
        """The index over ``store.current_entities()``, loaded from its on-disk cache when
        one exists for the same list versions, else built and saved there."""
        rows = store.con.execute(
            f"SELECT v.version_id, l.file_hash FROM ({CURRENT_VERSIONS}) v "
            "JOIN list_versions l USING (version_id) ORDER BY v.version_id"
        ).fetchall()
        version_rows = [(int(r[0]), str(r[1])) for r in rows]
        versions = [v for v, _ in version_rows]
        key = cache_key(version_rows)
        if cache_dir is None and store.path != ":memory:":
            db = Path(store.path)
            cache_dir = db.parent / f"{db.name}.screening"
        memo = (str(cache_dir), key)
        if cache_dir is not None and memo in cls._memory:
            return cls(cls._memory[memo])
        path = cache_dir / f"index-{key}{INDEX_SUFFIX}" if cache_dir is not None else None
        index = CandidateIndex.load(path) if path is not None and path.exists() else None
        if index is None:
            index = CandidateIndex.build(store.current_entities(), versions)
            if path is not None:
                try:
                    index.save(path)
                    # Also the pickles older versions wrote: never read, only removed.
                    for old in path.parent.glob("index-*"):
                        if old != path:
                            old.unlink(missing_ok=True)
                except OSError:
                    pass  # a read-only location: the index still works, only slower next time
        if cache_dir is not None:
            cls._memory[memo] = index
        settle_gc()
        screener = cls(index)
        screener.add_derived(store)
        return screener

    def add_derived(self, store: Store) -> None:
        """Screen, beside the lists, the parties the ownership graph found blocked by
        their owners (``owned_by_blocked`` events); none when there are none."""
        from watchkeeper.screening.derived import derived_entities

        entities, info = derived_entities(store)
        self.derived = Screener.from_entities(entities) if entities else None
        self.derived_info = info

    def forget_caches(self) -> None:
        """Forget every memoised word, word pair and query form, as a fresh process that
        loads the index would start (benchmarks measure from there)."""
        from watchkeeper.screening import index as index_module
        from watchkeeper.screening import normalize, scoring, similarity

        for module in (normalize, similarity, scoring, index_module):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
        for key in ("_matches", "_probes", "_entity_cache"):
            self.index.__dict__.pop(key, None)

    def versions(self) -> list[int]:
        return list(self.index.versions)

    def __len__(self) -> int:
        return len(self.index)

    # ---- query preparation --------------------------------------------------------------

    def _prepare(self, query: Query) -> _PreparedQuery:
        qkind = schema_kind(query.schema)
        kinds: tuple[str, ...] = (qkind,) if qkind != ANY else (PERSON, ORGANISATION, ANY)
        prepared = _PreparedQuery(
            query=query,
            names={},
            blocking=[],
            dates=query.properties.get("birthDate", []),
            countries={c.lower() for p in COUNTRY_PROPERTIES for c in query.properties.get(p, [])},
            identifiers=query.identifiers(),
            kinds=kinds,
            notes=[],
        )
        seen: set[tuple[str, ...]] = set()
        for kind in kinds:
            for n, _w in self._query_names(prepared, kind):
                if n.forms not in seen:
                    seen.add(n.forms)
                    prepared.blocking.append(n)
                for note in n.notes:
                    if note not in prepared.notes:
                        prepared.notes.append(note)
        return prepared

    def _query_names(
        self, prepared: _PreparedQuery, kind: str
    ) -> list[tuple[NormalName, tuple[float, ...]]]:
        """The query's names normalised as names of this kind are (cached per query)."""
        found = prepared.names.get(kind)
        if found is None:
            found = []
            for raw in with_possessor(prepared.query.names()):
                for n in normalise_name(raw, kind):
                    abjad = n.script in ABJAD_SCRIPTS
                    w = tuple(
                        self._matches(t.form, True, abjad).weight * QUERY_KIND_WEIGHT[t.kind]
                        for t in n.tokens
                    )
                    found.append((n, w))
            prepared.names[kind] = found
        return found

    # ---- candidates ------------------------------------------------------------------------

    def _matches(self, form: str, full: bool, abjad: bool) -> _Matches:
        """The vocabulary tokens one query form is like, by blocking keys (cached per
        index: common forms recur across a batch)."""
        index = self.index
        cache: dict[tuple[str, bool, bool], _Matches] = index.__dict__.setdefault("_matches", {})
        key = (form, full, abjad)
        found = cache.get(key)
        if found is not None:
            return found
        tid = index.vocab.get(form) if full and not abjad else None
        known = index.known_likes(tid) if tid is not None else None  # from the build
        if known is not None:
            matched = known
        else:
            vocab_forms = index.vocab_forms
            matched = []
            for tid in index.tokens_like(form, full, abjad):
                sim, _ = token_similarity(form, vocab_forms[tid])
                if abjad and sim < 0.8:
                    sim = max(sim, abjad_similarity(form, vocab_forms[tid]))
                if sim > 0:
                    matched.append((tid, sim))
        idf = index.idf
        found = _Matches(
            matched,
            max((idf[t] for t, _s in matched), default=0.0),
            self._form_weight(form, matched),
        )
        if len(cache) > 200_000:
            cache.clear()
        cache[key] = found
        return found

    def _probe(self, form: str, full: bool, abjad: bool, prefix: bool) -> _Probe:
        """What one query form finds: its matches (and, for a last word that may be cut
        off, the words it begins), and the listed names they are on (cached)."""
        index = self.index
        cache: dict[tuple[str, bool, bool, bool], _Probe] = index.__dict__.setdefault("_probes", {})
        key = (form, full, abjad, prefix)
        found = cache.get(key)
        if found is not None:
            return found
        base = self._matches(form, full, abjad)
        matched = base.matched
        if prefix:
            known = {t for t, _s in matched}
            extra = [
                (tid, sim)
                for tid in index.prefix_range(form)
                if tid not in known and (sim := prefix_similarity(form, index.vocab_forms[tid]))
            ]
            matched = matched + extra
        idf = index.idf
        df = index.df
        # The similarity counts for parts joined only on a listed word that is a name
        # part ('hizballah'), not on listed parts joined in the index ('jointstock').
        part = index.like_known
        rare = [
            (t, s * idf[t], s if part[t] else 0.0) for t, s in matched if df[t] <= COMMON_POSTINGS
        ]
        if rare:
            chunks = [index.postings(t) for t, _w, _s in rare]
            sizes = [len(c) for c in chunks]
            names = np.concatenate(chunks).astype(np.int64)
            weights = np.repeat([w for _t, w, _s in rare], sizes)
            sims = np.repeat([s for _t, _w, s in rare], sizes)
            if len(rare) > 1:
                # One form counts once per name: its best token there.
                order = np.lexsort((-weights, names))
                names, weights, sims = names[order], weights[order], sims[order]
                first = np.concatenate([[True], names[1:] != names[:-1]])
                names, weights, sims = names[first], weights[first], sims[first]
        else:
            names, weights, sims = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        found = _Probe(
            [(t, s * idf[t]) for t, s in matched], base.best_idf, base.weight, names, weights, sims
        )
        if len(cache) > 200_000:
            cache.clear()
        cache[key] = found
        return found

    def _form_weight(self, form: str, matched: list[tuple[int, float]]) -> float:
        """How rare a query word is: its own rarity when a list uses it; else that of the
        listed word it most resembles (a misspelt or vowel-less 'mhmd' is as common as
        'muhammad'); a word like nothing listed weighs as a rare one."""
        index = self.index
        tid = index.vocab.get(form)
        if tid is not None:
            return index.idf[tid]
        if not matched:
            return index.unknown_idf
        top = max(s for _t, s in matched)
        return min(index.idf[t] for t, s in matched if s == top)

    def _candidate_names(self, prepared: _PreparedQuery) -> tuple[IntArray, FloatArray]:
        """Name ids sharing blocking keys with the query, each with an estimate of its
        name score: matched rarity over the query's rarity plus the name's unmatched rest."""
        index = self.index
        found_ids: list[IntArray] = []
        found_est: list[FloatArray] = []
        # A person query only: a query that may be a company's (LegalEntity) has
        # middle words that are no middle names.
        person = prepared.kinds == (PERSON,)
        for name in prepared.blocking:
            # Initials find nothing by themselves (they count at scoring, and rank
            # candidates below); titles are not names.
            parts = [t for t in name.tokens if t.kind != TITLE and len(t.form) > 1]
            forms = [t.form for t in parts]
            probes = list(forms)
            probes += [forms[i] + forms[i + 1] for i in range(len(forms) - 1)]
            if 2 < len(forms) <= 4:
                probes.append("".join(forms))
            # A title may be a listed family name ('Ibrahim AL-SAYYID'): it helps find
            # names, and is not missed where a list name lacks it.
            titles = [t.form for t in name.tokens if t.kind == TITLE and len(t.form) > 2]
            probes += titles
            abjad = name.script in ABJAD_SCRIPTS
            # The last word may be cut off (fixed-width fields), also after initials
            # ('P.P. BABUDO' for 'P.P. BABUDOVAC').
            cut = len(name.tokens) > 1 and bool(parts) and parts[-1] is name.tokens[-1]
            last = len(forms) - 1 if cut else None
            infos = [
                self._probe(form, p < len(forms), abjad, p == last) for p, form in enumerate(probes)
            ]
            query_weight = 0.0
            part_weights: list[float] = []
            for p, part in enumerate(parts):
                # A listed word weighs as the rarest word it is like; a misspelt one as
                # the word it is most like ('semiconcluctor', 'semiconductor').
                info = infos[p]
                listed = forms[p] in index.vocab and p != last
                own = (info.best_idf or info.weight) if listed else info.weight
                if abjad and 0 < p < len(parts) - 1:
                    # As in scoring: the father's and grandfather's names an Arabic-script
                    # name carries cost little where a list name leaves them out.
                    own *= ABJAD_MIDDLE_QUERY_PART
                elif person and 0 < p < len(parts) - 1:
                    # As in scoring, a person's middle names cost less where a list name
                    # leaves them out ('Omar Mohammed Othman' / 'Umar Uthman').
                    own *= MIDDLE_QUERY_PART
                part_weights.append(own * KIND_WEIGHT.get(part.kind, 1.0))
                query_weight += part_weights[-1]
            if not any(info.matched for info in infos):
                continue
            # A company form or particle finds names as little as it weighs.
            kinds = [KIND_WEIGHT.get(t.kind, 1.0) for t in parts]
            kinds += [min(kinds[i], kinds[i + 1]) for i in range(len(parts) - 1)]
            if 2 < len(forms) <= 4:
                kinds.append(max(kinds[: len(parts)]))
            kinds += [1.0] * len(titles)
            # In Arabic script, parts joined weigh, where a listed word is like them, as
            # the parts they join, as in scoring: the script writes apart what lists
            # write as one word ('hzb allh' / 'HIZBALLAH'), and one listed word's rarity
            # alone ranks the name far below what it scores. (In Latin names this
            # crowds out better candidates: measured on the dev split.)
            covered = [sum(part_weights[i : i + 2]) for i in range(len(parts) - 1)]
            if 2 < len(forms) <= 4:
                covered.append(query_weight)
            if not abjad:
                covered = []
            if any(len(info.names) for info in infos):
                names = np.concatenate([info.names for info in infos])
                weights = np.concatenate(
                    [
                        np.maximum(info.weights * k, info.sims * covered[p - len(forms)])
                        if len(forms) <= p < len(forms) + len(covered)
                        else info.weights * k
                        for p, (info, k) in enumerate(zip(infos, kinds, strict=True))
                    ]
                )
            else:
                # Only common words matched: the best three drive the search.
                best = sorted(
                    ((w * kinds[p], p, t) for p, info in enumerate(infos) for t, w in info.matched),
                    reverse=True,
                )[:3]
                chunks = [index.postings(t) for _w, _p, t in best]
                sizes = [len(c) for c in chunks]
                names = np.concatenate(chunks).astype(np.int64)
                weights = np.repeat([w for w, _p, _t in best], sizes)
                keys = names * len(probes) + np.repeat([p for _w, p, _t in best], sizes)
                order = np.lexsort((-weights, keys))
                keys, names, weights = keys[order], names[order], weights[order]
                first = np.concatenate([[True], keys[1:] != keys[:-1]])
                names, weights = names[first], weights[first]
            unique, inverse = np.unique(names, return_inverse=True)
            acc = np.minimum(np.bincount(inverse, weights=weights), query_weight)
            rest = np.maximum(index.name_weight[unique] - acc, 0.0)
            est = acc / (query_weight + EXTRA_LIST_PART * rest + 1e-9)
            found_ids.append(unique)
            found_est.append(est)
        if not found_ids:
            return np.zeros(0, np.int64), np.zeros(0)
        if len(found_ids) == 1:
            return found_ids[0], found_est[0]
        ids = np.concatenate(found_ids)
        ests = np.concatenate(found_est)
        order = np.lexsort((-ests, ids))
        ids, ests = ids[order], ests[order]
        first = np.concatenate([[True], ids[1:] != ids[:-1]])
        return ids[first], ests[first]

    # ---- screening -----------------------------------------------------------------------

    def screen(
        self,
        query: Query,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 5,
        datasets: set[str] | None = None,
        exclude_datasets: set[str] | None = None,
        exclude_ids: set[str] | None = None,
        changed_since: set[str] | None = None,
        cutoff: float = DEFAULT_CUTOFF,
    ) -> list[Hit]:
        """The best-scoring listed entities for this query (at most ``limit``, each
        scoring at least ``min(cutoff, threshold)``), best first; with them the parties
        blocked by ownership (``Hit.derived`` set) when no dataset filter is given."""
        hits = self._screen_index(
            query,
            threshold=threshold,
            limit=limit,
            datasets=datasets,
            exclude_datasets=exclude_datasets,
            exclude_ids=exclude_ids,
            changed_since=changed_since,
            cutoff=cutoff,
        )
        if self.derived is None or datasets is not None or changed_since is not None:
            return hits
        extra = self.derived._screen_index(
            query, threshold=threshold, limit=limit, exclude_ids=exclude_ids, cutoff=cutoff
        )
        for hit in extra:
            hit.derived = self.derived_info.get(hit.entity.id)
        if not extra:
            return hits
        merged = sorted([*hits, *extra], key=lambda h: -h.score)
        return merged[:limit]

    def _screen_index(
        self,
        query: Query,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        limit: int = 5,
        datasets: set[str] | None = None,
        exclude_datasets: set[str] | None = None,
        exclude_ids: set[str] | None = None,
        changed_since: set[str] | None = None,
        cutoff: float = DEFAULT_CUTOFF,
    ) -> list[Hit]:
        index = self.index
        prepared = self._prepare(query)

        def eligible(position: int) -> bool:
            facts = index.facts[position]
            entity_id = index.entity_ids[position]
            if not _compatible(query.schema, facts.schema):
                return False
            if exclude_ids and entity_id in exclude_ids:
                return False
            if changed_since is not None and entity_id not in changed_since:
                return False
            if datasets is not None and not datasets.intersection(facts.datasets):
                return False
            return not (exclude_datasets and set(facts.datasets) <= exclude_datasets)

        positions: dict[int, list[int]] = {}
        for _kind, key, _raw in prepared.identifiers:
            for position in index.identifiers.get(key, []):
                if eligible(position):
                    positions[position] = []
        name_ids, name_scores = self._candidate_names(prepared)
        # A name whose estimate is far below the cut-off is not worth scoring.
        floor_estimate = MIN_ESTIMATE * min(cutoff, threshold)
        if len(name_scores):
            # The best few are scored whatever their estimate (it is rough), also when
            # there are no more than that few.
            k = min(ALWAYS_SCORED, len(name_scores))
            nth = np.partition(-name_scores, k - 1)[k - 1]
            floor_estimate = min(floor_estimate, max(-nth, LOWEST_ESTIMATE))
        keep = name_scores >= floor_estimate
        name_ids, name_scores = name_ids[keep], name_scores[keep]
        top = MAX_CANDIDATES * 4
        initials = {t.form for n in prepared.blocking for t in n.tokens if len(t.form) == 1}
        if initials and len(name_ids) > MAX_CANDIDATES:
            # 'G MOHAMMADI' among many MOHAMMADIs: those with a G... name come first.
            name_scores = name_scores.copy()
            for k, name_id in enumerate(name_ids.tolist()):
                firsts = {f[0] for f in index.names[name_id].forms}
                name_scores[k] += 0.2 * len(initials & firsts) / len(initials)
        if len(name_ids) > top:
            best = np.argpartition(-name_scores, top)[:top]
            name_ids, name_scores = name_ids[best], name_scores[best]
        order = np.argsort(-name_scores, kind="stable")
        checked: set[int] = set()
        spare: dict[int, list[int]] = {}
        for name_id in name_ids[order].tolist():
            position = index.names[name_id].entity
            if position in positions:
                if len(positions[position]) < NAMES_PER_ENTITY:
                    positions[position].append(name_id)
                elif positions[position]:
                    spare.setdefault(position, []).append(name_id)
                continue
            if position in checked or len(positions) >= MAX_CANDIDATES:
                continue
            checked.add(position)
            if eligible(position):
                positions[position] = [name_id]

        scored = []
        floor = min(cutoff, threshold)
        for position, found in positions.items():
            score, reasons = self._score(prepared, position, found)
            if floor <= score < threshold and position in spare:
                # Near the threshold on the names estimated best: the estimate is rough,
                # so its other candidate names are scored too (the query may be in the
                # spelling of a fifth alias, 'AL-BTHALY, Mobarak Meshkhas Sanad').
                score, reasons = self._score(prepared, position, found + spare[position])
            if score >= floor:
                scored.append((score, index.entity_ids[position], position, reasons))
        scored.sort(key=lambda s: (-s[0], s[1]))
        return [
            Hit(
                entity=index.entity(position),
                score=score,
                match=score >= threshold,
                explanations=[
                    Explanation(f, v, d if isinstance(d, str) else d()) for f, v, d in reasons
                ],
            )
            for score, _id, position, reasons in scored[:limit]
        ]

    def _score(
        self, prepared: _PreparedQuery, position: int, name_ids: list[int]
    ) -> tuple[float, list[tuple[str, float, str | Callable[[], str]]]]:
        """The entity's score and its reasons (details built only when shown)."""
        index = self.index
        facts = index.facts[position]
        explanations: list[tuple[str, float, str | Callable[[], str]]] = []

        best: NameScore | None = None
        kind = facts.kind
        qnames = self._query_names(prepared, kind)
        person = kind in (PERSON, ANY)
        # Names found by an identifier alone: compare them all.
        names = [index.names[i] for i in name_ids] if name_ids else self._entity_names(position)
        for name in names:
            for qn, qw in qnames:
                ns = align_names(
                    qn.forms,
                    qn.kinds,
                    qw,
                    name.forms,
                    name.kinds,
                    name.weights,
                    q_canons=qn.canons,
                    c_canons=name.canons,
                    c_family_from=name.family_from,
                    abjad=qn.script in ABJAD_SCRIPTS,
                    exact=qn.script in SYLLABIC_SCRIPTS,
                    korean=qn.script == "HANGUL",
                    person=person,
                    query_name=qn.original,
                    list_name=name.original,
                )
                if name.prop == WEAK_ALIAS and ns.score > WEAK_ALIAS_CAP:
                    ns.score = WEAK_ALIAS_CAP
                    ns.capped = "a weak alias: the list says it is broad, not a match alone"
                if best is None or ns.score > best.score:
                    best = ns
        name_score = best.score if best is not None else 0.0
        if best is not None:
            explanations.append(("name_parts", name_score, best.detail))

        id_score = 0.0
        listed_ids = {key: (k, raw) for k, key, raw in facts.identifiers}
        for qkind, key, raw in prepared.identifiers:
            if key in listed_ids:
                lkind, lraw = listed_ids[key]
                weight = max(ID_WEIGHTS.get(qkind, 0.85), ID_WEIGHTS.get(lkind, 0.85))
                if weight > id_score:
                    id_score = weight
                    explanations.append(
                        ("identifier", weight, f"{qkind} {raw!r} matches listed {lkind} {lraw!r}")
                    )
        mismatched = [
            (qkind, raw)
            for qkind, key, raw in prepared.identifiers
            if qkind in ("imo", "mmsi")
            and key not in listed_ids
            and any(k == qkind for k, _ in listed_ids.values())
        ]
        score = max(name_score, id_score)
        if id_score and name_score >= 0.5:
            score = min(1.0, max(score, id_score + 0.05 * name_score))
        if mismatched and not id_score:
            penalty = -0.3
            score += penalty
            listed = ", ".join(raw for k, raw in listed_ids.values() if k == mismatched[0][0])
            explanations.append(
                (
                    "identifier",
                    penalty,
                    f"different {mismatched[0][0]}: query {mismatched[0][1]!r}, listed {listed}",
                )
            )
        if score > 0:
            dob = birth_date_feature(prepared.dates, facts)
            if dob is not None:
                score += dob[0]
                explanations.append(("birth_date", dob[0], dob[1]))
            country = country_feature(prepared.countries, facts)
            if country is not None:
                score += country[0]
                explanations.append(("country", country[0], country[1]))
        if prepared.query.schema != facts.schema:
            explanations.append(
                (
                    "schema",
                    0.0,
                    f"{prepared.query.schema} query may match a listed {facts.schema}",
                )
            )
        for note in prepared.notes:
            explanations.append(("evasion", 0.0, f"query name: {note}"))
        return min(1.0, max(0.0, score)), explanations

    def _entity_names(self, position: int) -> list[Any]:
        lookup = self._names_by_entity()
        return lookup[position]

    def _names_by_entity(self) -> list[list[Any]]:
        cached = getattr(self, "_by_entity", None)
        if cached is None:
            cached = [[] for _ in range(len(self.index))]
            for name in self.index.names:
                cached[name.entity].append(name)
            self._by_entity: list[list[Any]] = cached
        return cached

    def get(self, entity_id: str) -> StoredEntity | None:
        position = self.index.by_id.get(entity_id)
        return self.index.entity(position) if position is not None else None


__all__ = [
    "DEFAULT_THRESHOLD",
    "ID_PROPERTIES",
    "SCHEMATA",
    "Explanation",
    "Hit",
    "Query",
    "Screener",
]
