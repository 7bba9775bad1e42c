"""A candidate index shaped like yente's, so nomenklatura's logic-v2 runs in the benchmark
as yente runs it: an index query picks the candidates, logic-v2 scores them.

yente asks Elasticsearch, per query name, for entities whose names match (a ``match``
on the ``names`` field, ``fuzziness: AUTO``, every word required, boost 3), whose
name key equals the query's (the sorted name parts), whose name parts equal a query
part, or whose name parts sound alike (metaphone, boost 0.8); Elasticsearch ranks the
entities by BM25 over those clauses and yente scores the best ``limit x
MATCH_CANDIDATES`` (5 x 10 = 50) with the matcher. This module rebuilds that query in
memory: the same clauses and boosts, IDF weights over the indexed names, fuzzy words
expanded as Elasticsearch's ``AUTO`` fuzziness does (0 edits up to 2 letters, 1 up to 5,
then 2; at most 50 expansions a word). It is a faithful sketch, not Elasticsearch:
no BM25 length normalisation, no shard statistics.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from normality import ascii_text, category_replace, collapse_spaces
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from rigour.text import metaphone

NAME_PROPS = ("name", "alias", "previousName", "weakAlias")
CANDIDATES = 50  # yente: limit 5 x MATCH_CANDIDATES 10
MAX_EXPANSIONS = 50  # Elasticsearch's default for fuzzy queries


def name_parts(name: str) -> list[str]:
    """Lower-case ASCII words, as an analyser that folds accents and scripts gives."""
    text = ascii_text(category_replace(name.lower())) or ""
    return [w for w in (collapse_spaces(text) or "").split(" ") if w]


def auto_fuzziness(word: str) -> int:
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


class YenteCandidateIndex:
    def __init__(self, entities: Iterable[Any]) -> None:
        self.entities = list(entities)
        self.parts: dict[str, set[int]] = defaultdict(set)
        self.keys: dict[str, set[int]] = defaultdict(set)
        self.phonetic: dict[str, set[int]] = defaultdict(set)
        for i, e in enumerate(self.entities):
            for prop in NAME_PROPS:
                for name in e.get(prop):
                    words = name_parts(name)
                    if not words:
                        continue
                    self.keys["".join(sorted(words))].add(i)
                    for w in words:
                        self.parts[w].add(i)
                        if len(w) > 2:
                            self.phonetic[metaphone(w)].add(i)
        self.vocabulary = list(self.parts)
        self.n = max(1, len(self.entities))

    def _idf(self, postings: set[int]) -> float:
        return math.log(1 + (self.n - len(postings) + 0.5) / (len(postings) + 0.5))

    def _fuzzy(self, word: str) -> list[str]:
        edits = auto_fuzziness(word)
        if edits == 0:
            return [word] if word in self.parts else []
        found = process.extract(
            word,
            self.vocabulary,
            scorer=Levenshtein.distance,
            score_cutoff=edits,
            limit=MAX_EXPANSIONS,
        )
        return [w for w, _d, _i in found]

    def candidates(self, name: str, limit: int = CANDIDATES) -> list[int]:
        """Entity positions, best first, for one query name."""
        words = name_parts(name)
        if not words:
            return []
        score: dict[int, float] = defaultdict(float)
        # match on names, fuzziness AUTO, every word required, boost 3
        per_word: list[dict[int, float]] = []
        for w in words:
            hit: dict[int, float] = {}
            for term in self._fuzzy(w):
                postings = self.parts[term]
                weight = self._idf(postings)
                for i in postings:
                    hit[i] = max(hit.get(i, 0.0), weight)
            per_word.append(hit)
        common = set(per_word[0])
        for hit in per_word[1:]:
            common &= set(hit)
        for i in common:
            score[i] += 3.0 * sum(hit[i] for hit in per_word)
        # term on the name key
        key = self.keys.get("".join(sorted(words)))
        if key:
            weight = self._idf(key)
            for i in key:
                score[i] += weight
        # terms on name parts, and on their sound (boost 0.8)
        for w in words:
            postings = self.parts.get(w)
            if postings:
                weight = self._idf(postings)
                for i in postings:
                    score[i] += weight
            if len(w) > 2:
                sounds = self.phonetic.get(metaphone(w))
                if sounds:
                    weight = 0.8 * self._idf(sounds)
                    for i in sounds:
                        score[i] += weight
        ranked = sorted(score.items(), key=lambda kv: -kv[1])
        return [i for i, _s in ranked[:limit]]
