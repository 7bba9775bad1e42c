"""Mentions: spans that name listed parties (linked, with a score and the reason),
places, vessels by IMO, aircraft by tail number, dates and money amounts."""

from __future__ import annotations

import gzip
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from watchkeeper.documents.gazetteer import (
    BIG_CITY,
    CONNECTORS,
    NameEntry,
    NameGazetteer,
    Place,
    distinctive_key,
    place_index,
)
from watchkeeper.documents.layout import Block
from watchkeeper.documents.resources import titles
from watchkeeper.documents.tokens import Token, is_common_word, name_key, tokenize, word_key


@dataclass
class LinkCandidate:
    entity_id: str
    caption: str
    schema: str
    score: float
    reason: str
    countries: list[str] = field(default_factory=list)


class PartyLinker(Protocol):
    """Finds listed parties for a name that is not written as any listed name."""

    def link(self, name: str, *, schema: str, countries: Sequence[str]) -> list[LinkCandidate]: ...


@dataclass
class Mention:
    start: int
    end: int
    text: str
    kind: str  # party, place, vessel, aircraft, date, money
    entity_id: str | None = None
    caption: str | None = None
    schema: str | None = None
    score: float = 0.0
    reason: str = ""
    country: str | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "kind": self.kind,
            "entity_id": self.entity_id,
            "caption": self.caption,
            "schema": self.schema,
            "score": round(self.score, 3),
            "reason": self.reason,
            "country": self.country,
            "candidates": self.candidates,
        }


_CONNECTORS = CONNECTORS
_PERSON_CONNECTORS = frozenset({"de", "del", "da", "al", "el", "bin", "ibn", "van", "von", "y"})
_WATER = re.compile(
    r"\b(?:Lake|Gulf of|Strait of|Straits of|Sea of|Bay of|Port of|Cape|Gulf|Canal)\s+"
    r"(?:the\s+)?[A-Z][\w’'\-]+(?:\s+[A-Z][\w’'\-]+)?"
)
_KIND_OF_SCHEMA = {"Vessel": "vessel", "Airplane": "aircraft"}
_COUNTRY_PROPS = ("country", "nationality", "citizenship", "jurisdiction", "flag", "pastFlags")
# The English prepositions of place and direction (Quirk, Greenbaum, Leech and
# Svartvik, A Comprehensive Grammar of the English Language, 1985, sections 9.15-9.29),
# the one-word ones: before a name, they say the name is a place ("in Forest").
_PLACE_CUES = frozenset(
    """at on in to onto into from off near inside outside within across through along
    past beyond toward towards via between among around beside behind under above below
    beneath""".split()
)
_IMO = re.compile(r"\bIMO(?:\s*(?:No\.?|number|:))?\s*(\d{7})\b", re.I)
REGISTERS = (
    Path(__file__).resolve().parents[3] / "data" / "reference" / "icao" / "registers.json.gz"
)


@lru_cache(maxsize=1)
def tail_pattern() -> re.Pattern[str]:
    """A registration mark written with its dash ("EP-CAR", "YK-AKA", "4L-GEA"), for
    every national register ICAO allocates (the bundled register table); not an aircraft
    type ("F-35A", "B-52H")."""
    with gzip.open(REGISTERS, "rt", encoding="utf-8") as f:
        registers = json.load(f)["registers"]
    prefixes = set()
    for register in registers:
        body = register.get("pattern", "").lstrip("^").replace("(", "(?:")
        if body.endswith("-"):
            prefixes.add(body[:-1])
        elif re.fullmatch(r"[A-Z0-9()?:|]+", body) and len(body) >= 2:
            prefixes.add(body)  # "YV", "HL": marks often written with a dash too
    alternatives = "|".join(sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})-(?!\d{{2}}[A-Z]\b)[A-Z0-9]{{3,5}}\b")


_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?\s+\d{{4}}|"
    rf"(?:in|since|until|by|from)\s+(?:{_MONTHS})(?:\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}|"
    r"(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)|"
    r"(?:earlier|later|last|next|this)\s+(?:year|month|week))\b",
    re.I,
)
_CALENDAR = frozenset(m.lower() for m in _MONTHS.split("|")) | frozenset(
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
_SENTENCE_END = re.compile(r"[.!?:;\n\u2022]")
_MONEY = re.compile(
    r"(?:[$€£]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|bn|m))?|"
    r"\b\d[\d,.]*\s?(?:million|billion|trillion)?\s?(?:dollars|euros|pounds|rials|bolivars|USD|EUR)\b|"
    r"\b(?:USD|EUR|GBP|IRR|VES)\s?\d[\d,.]*(?:\s?(?:million|billion))?)",
    re.I,
)


def imo_valid(number: str) -> bool:
    """The IMO check digit: sum of the first six digits times 7..2, last digit of that."""
    if not re.fullmatch(r"\d{7}", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(number[6])


@lru_cache(maxsize=4096)
def _territory(word: str) -> str | None:
    """The country a word names or describes ("Syrian" -> "sy"), or None."""
    from rigour.territories import lookup_territory

    if len(word) < 4 or not word[0].isupper():
        return None
    found = lookup_territory(word)
    if found is None and word.endswith("s"):
        found = lookup_territory(word[:-1])  # "Cubans", "Russians"
    if found is None or not found.is_country:
        return None
    return str(found.code)


def _country_word(token: Token) -> str | None:
    """The country a word names or describes ("Iranian", "Iran's"), but not through a
    city in it ("Athens" is a place of its own, and may be part of a name)."""
    place = place_index().get(token.key)
    if place is not None and place.kind != "country":
        return None
    return _territory(token.text)


def _is_cap(token: Token) -> bool:
    return token.text[:1].isupper() or token.text[:1].isdigit()


def _capitalised_spans(tokens: list[Token], text: str) -> list[tuple[int, int]]:
    """Runs of capitalised tokens, bridged by connectors ("Quds Forces of the Islamic
    Revolutionary Guard Corps", "Guillermo del Toro"); never across punctuation."""
    spans = []
    i = 0
    n = len(tokens)
    while i < n:
        if not _is_cap(tokens[i]) or tokens[i].key in _CONNECTORS:
            i += 1
            continue
        j = i + 1
        while j < n:
            gap = text[tokens[j - 1].end : tokens[j].start]
            if gap.strip(" -") or "\n" in gap:
                break
            if _is_cap(tokens[j]):
                j += 1
                continue
            # connectors, only when a capitalised word follows
            k = j
            while (
                k < n
                and tokens[k].text.lower() in _CONNECTORS
                and not text[tokens[k - 1].end : tokens[k].start].strip(" -")
            ):
                k += 1
            if (
                k > j
                and k < n
                and _is_cap(tokens[k])
                and not text[tokens[k - 1].end : tokens[k].start].strip(" -")
            ):
                j = k
                continue
            break
        spans.append((i, j))
        i = j
    return spans


def _context_countries(tokens: list[Token]) -> list[str]:
    """The countries a text names or describes, most mentioned first."""
    counts: dict[str, int] = {}
    for t in tokens:
        code = _territory(t.text)
        if code:
            counts[code] = counts.get(code, 0) + 1
    return sorted(counts, key=lambda c: -counts[c])


class _Ranges:
    """Sorted, merged character ranges: whether a position falls in one, in log time."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        merged: list[tuple[int, int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.starts = [r[0] for r in merged]
        self.ends = [r[1] for r in merged]

    def __contains__(self, pos: int) -> bool:
        k = bisect_right(self.starts, pos) - 1
        return k >= 0 and pos < self.ends[k]


def _sentence_start(tokens: list[Token], i: int, text: str) -> bool:
    """The token is the first word of a sentence, a line or a list item."""
    return i == 0 or _SENTENCE_END.search(text, tokens[i - 1].end, tokens[i].start) is not None


def _is_calendar(token: Token) -> bool:
    """A month, a weekday, a number or an ordinal ("21st"): a date's word, not a name's."""
    return token.key in _CALENDAR or token.key[:1].isdigit()


def _possessive(token: Token) -> bool:
    return token.text.endswith(("'s", "’s"))


def _bare(token: Token) -> str:
    """The word without its possessive ("Maduro's" -> "Maduro")."""
    return re.sub(r"['’]s$", "", token.text)


def _is_title(token: Token) -> bool:
    """A title or rank ("Minister", "Sheikh"): see ``resources.titles``."""
    return token.key in titles()


def _detachable(token: Token, *, everyday: bool, country: bool = True) -> bool:
    """A word that may stand beside a name without being part of it: a joining word, a
    title, a country ("Iranian", "Venezuela's"), a date, and with ``everyday`` an
    everyday word that is no place ("Aircraft Operator MAHAN AIR"). Beside a name that is
    an everyday word a country is part of another name ("Panama City")."""
    if (
        token.key in _CONNECTORS
        or _is_title(token)
        or _possessive(token)
        or _is_calendar(token)
        or (country and _country_word(token))
    ):
        return True
    return everyday and is_common_word(token.key) and token.key not in place_index()


_LEADING_FUNCTION_ZIPF = 5.7  # "In", "Since", "After", "He": a sentence's first word


def _trim(
    tokens: list[Token], i: int, j: int, text: str
) -> tuple[int, int, str | None, str | None]:
    """The name in a capitalised span, without a sentence's first function word, the
    titles, countries, dates and joining words around it ("Venezuelan President Nicolas
    Maduro" -> "Nicolas Maduro"), with a schema hint (a title says Person) and the country
    the text gives it. Everyday words before a title go with it ("Prime Minister",
    "Treasury Secretary")."""
    schema_hint: str | None = None
    country: str | None = None
    if (
        j - i > 1
        and _sentence_start(tokens, i, text)
        and is_common_word(tokens[i].key, _LEADING_FUNCTION_ZIPF)
    ):
        i += 1
    last_title = -1
    k = i
    while k < j - 1 and (
        _is_title(tokens[k])
        or tokens[k].key in _CONNECTORS
        or _country_word(tokens[k])
        or is_common_word(tokens[k].key)
    ):
        if _is_title(tokens[k]):
            last_title = k
        k += 1
    if last_title >= i:
        schema_hint = "Person"
        country = next(
            (c for t in tokens[i:last_title] if (c := _country_word(t)) is not None), None
        )
        i = last_title + 1
    while i < j and (
        _is_title(tokens[i])
        or tokens[i].key in _CONNECTORS
        or _is_calendar(tokens[i])
        or _country_word(tokens[i])
    ):
        if _is_title(tokens[i]):
            schema_hint = "Person"
        elif not _is_calendar(tokens[i]) and tokens[i].key not in _CONNECTORS:
            country = country or _country_word(tokens[i])
        i += 1
    while i < j and (
        _is_title(tokens[j - 1]) or tokens[j - 1].key in _CONNECTORS or _is_calendar(tokens[j - 1])
    ):
        j -= 1
    return i, j, schema_hint, country


def _remember_person(people: dict[str, Mention], mention: Mention) -> None:
    """A linked person's name parts that may name them alone later in the text: the
    surnames of a listed 'LAST, First', else parts that are no everyday word; never a
    first name ("Nicolas"), which names anybody."""
    if mention.schema != "Person":
        return
    caption = mention.caption or ""
    if "," in caption:
        parts = name_key(caption.partition(",")[0]).split()
    else:
        parts = [p for p in name_key(caption).split() if not is_common_word(p)]
    for part in parts:
        if len(part) >= 4:
            people.setdefault(part, mention)


class MentionFinder:
    """Finds mentions in one text with the names of one set of list versions."""

    def __init__(
        self,
        gazetteer: NameGazetteer,
        linker: PartyLinker | None = None,
        *,
        link_threshold: float = 0.8,
    ) -> None:
        self.gazetteer = gazetteer
        self.linker = linker
        self.link_threshold = link_threshold
        self.places = place_index()
        # One screening per distinct name in a text: a report names the same parties
        # again and again.
        self._linked: dict[tuple[str, str, tuple[str, ...]], list[LinkCandidate]] = {}

    # -- listed parties written as a listed name --------------------------------------
    def _choose(
        self, entries: list[NameEntry], countries: list[str], schema_hint: str | None
    ) -> tuple[NameEntry, float, list[dict[str, Any]]]:
        """The candidate the context supports best: countries of the article, schema."""
        scored = []
        for entry in entries:
            entity = self.gazetteer.entities[entry.entity_id]
            score = 0.9 if entry.prop == "name" else 0.85
            ent_countries = set(
                entity.get("country") + entity.get("nationality") + entity.get("citizenship")
            )
            if ent_countries & set(countries):
                score += 0.05
            if schema_hint and entry.schema != schema_hint:
                score -= 0.1
            scored.append((score, entry))
        scored.sort(key=lambda x: (-x[0], x[1].entity_id))
        others = [
            {"entity_id": e.entity_id, "caption": e.caption, "score": round(s, 3)}
            for s, e in scored[1:6]
        ]
        return scored[0][1], min(scored[0][0], 1.0), others

    def _exact_hits(
        self, tokens: list[Token], countries: list[str]
    ) -> list[tuple[int, int, Mention]]:
        hits = []
        for i, j, key in self.gazetteer.find(tokens):
            span = tokens[i:j]
            # A listed name in running text is written as a proper noun.
            significant = [t for t in span if t.key not in _CONNECTORS]
            if not significant or not all(_is_cap(t) for t in significant):
                continue
            entry, score, others = self._choose(self.gazetteer.entries[key], countries, None)
            text = " ".join(t.text for t in span)
            hits.append(
                (
                    i,
                    j,
                    Mention(
                        span[0].start,
                        span[-1].end,
                        text,
                        "party",
                        entry.entity_id,
                        entry.caption,
                        entry.schema,
                        score,
                        f"'{text}' is written as the listed {entry.prop} '{entry.name}' "
                        f"of {entry.entity_id}",
                        candidates=others,
                    ),
                )
            )
        return hits

    def _unit_of(
        self, hits: list[tuple[int, int, Mention]], tokens: list[Token]
    ) -> list[tuple[int, int, Mention]]:
        """ "Quds Forces of the Islamic Revolutionary Guard Corps": when A's listed name
        also contains B's, "A of (the) B" names A, the unit of B."""
        by_start = {i: (i, j, m) for i, j, m in hits}
        merged = []
        for i, j, a in hits:
            k = j
            while k < len(tokens) and tokens[k].key in ("of", "the"):
                k += 1
            if k == j or k not in by_start:
                continue
            _, end_tok, b = by_start[k]
            assert a.entity_id is not None
            entity = self.gazetteer.entities[a.entity_id]
            b_key = name_key(b.text)
            names = [n for p in ("name", "alias") for n in entity.get(p)]
            carrier = next((n for n in names if b_key in name_key(n)), None)
            if carrier is None:
                continue
            text = " ".join(t.text for t in tokens[i:end_tok])
            merged.append(
                (
                    i,
                    end_tok,
                    Mention(
                        a.start,
                        b.end,
                        text,
                        "party",
                        a.entity_id,
                        a.caption,
                        a.schema,
                        min(a.score + 0.05, 1.0),
                        f"{a.reason}; its listed name '{carrier}' contains '{b.text}' "
                        f"({b.entity_id}): the unit of that organisation, not {b.entity_id}",
                        candidates=[
                            {"entity_id": b.entity_id, "caption": b.caption, "score": b.score}
                        ],
                    ),
                )
            )
        return merged

    def _setting_agrees(self, span: list[Token], mention: Mention, countries: list[str]) -> bool:
        """A listed name that is one everyday word ("Bella", "Fortune") names that party
        only in a text about one of its countries (its flags, country, nationality): a
        tanker called BELLA under the Russian flag is not the Liberian-flagged "Bella" of
        a text about Iran. A party the list gives no country is not judged so."""
        words = [t for t in span if t.key not in _CONNECTORS]
        if len(words) != 1 or not is_common_word(words[0].key) or mention.entity_id is None:
            return True
        entity = self.gazetteer.entities[mention.entity_id]
        own = {c for p in _COUNTRY_PROPS for c in entity.get(p)}
        return not own or bool(own & set(countries))

    def _whole_name(
        self,
        tokens: list[Token],
        i: int,
        j: int,
        spans: list[tuple[int, int]],
        span_of: list[int],
        text: str,
    ) -> bool:
        """A listed name found as written names a party only as the whole capitalised
        name around it, never cut out of a longer one ("Voyager" in "Athens Voyager").
        Beside it may stand titles, countries, dates, a possessive ("Venezuela's"), and
        everyday words that label it ("Aircraft Operator MAHAN AIR"); beside a name that
        is itself an everyday word ("Fortune") only the first kinds, and such a name is
        not read in a sentence's first word unless written in capitals."""
        significant = [k for k in range(i, j) if tokens[k].key not in _CONNECTORS]
        if not significant:
            return False
        first, last = span_of[significant[0]], span_of[significant[-1]]
        if first < 0 or any(span_of[k] < 0 for k in significant):
            return False
        if any(
            _SENTENCE_END.search(text, tokens[k - 1].end, tokens[k].start) for k in range(i + 1, j)
        ):
            return False  # across sentences or lines; a comma may stand in "LAST, First"
        everyday_name = len(significant) == 1 and is_common_word(tokens[significant[0]].key)
        if everyday_name:
            word = tokens[significant[0]]
            if _sentence_start(tokens, significant[0], text) and not word.text.isupper():
                return False
        start, end = spans[first][0], spans[last][1]
        return all(
            _detachable(tokens[k], everyday=not everyday_name, country=not everyday_name)
            for k in range(start, end)
            if not i <= k < j
        )

    # -- everything ------------------------------------------------------------------
    def find(self, text: str, blocks: Sequence[Block]) -> list[Mention]:
        """Every mention in the text, outside promo blocks, in text order. Linear in the
        text: each token is looked at a bounded number of times, and each distinct name
        is screened once."""
        promo = _Ranges((b.start, b.end) for b in blocks if b.kind == "promo")
        tokens = [t for t in tokenize(text) if t.start not in promo]
        countries = _context_countries(tokens)
        spans = _capitalised_spans(tokens, text)
        # Countries of more than one word ("United States") are named by a whole span.
        for i, j in spans:
            named = self.places.get(" ".join(t.key for t in tokens[i:j])) if j - i > 1 else None
            if named is not None and named.kind == "country" and named.country not in countries:
                countries.append(named.country or "")
        span_of = [-1] * len(tokens)
        for n, (i, j) in enumerate(spans):
            span_of[i:j] = [n] * (j - i)
        used = bytearray(len(tokens))
        taken: list[tuple[int, int, Mention]] = []

        def free(i: int, j: int) -> bool:
            return used.find(1, i, j) < 0

        def take(i: int, j: int, mention: Mention) -> None:
            used[i:j] = b"\x01" * (j - i)
            taken.append((i, j, mention))

        exact = self._exact_hits(tokens, countries)
        for i, j, m in sorted(
            self._unit_of(exact, tokens) + exact, key=lambda h: (-(h[1] - h[0]), h[0])
        ):
            if (
                free(i, j)
                and self._whole_name(tokens, i, j, spans, span_of, text)
                and self._setting_agrees(tokens[i:j], m, countries)
            ):
                take(i, j, m)

        # Capitalised names that are no listed name as written: places, then the
        # fuzzy linker, then surnames of people already linked. A surname of a person
        # the text names is that person, not a town ("Delcy Rodriguez ... Rodriguez").
        people: dict[str, Mention] = {}
        for _i, _j, m in taken:
            _remember_person(people, m)
        surnames = self._surnames(tokens, spans, text)
        pending: list[tuple[int, int, str | None, str | None]] = []
        for i, j in spans:
            if not free(i, j):
                continue
            alone = j - i == 1 and (tokens[i].key in people or tokens[i].key in surnames)
            found = None if alone else self._place(tokens, i, j, countries)
            if found is not None:
                take(*found)
                continue
            i, j, schema_hint, country = _trim(tokens, i, j, text)
            if i < j:
                pending.append((i, j, schema_hint, country))
        # Whole names first, so a surname can take the entity of the full name even
        # where it comes earlier (a headline's "Maduro's government").
        pending.sort(key=lambda p: (p[1] - p[0] == 1, p[0]))
        for i, j, schema_hint, country in pending:
            mention = self._link(tokens, i, j, schema_hint, country, countries)
            if mention is None and j - i == 1 and tokens[i].key in people:
                ref = people[tokens[i].key]
                mention = Mention(
                    tokens[i].start,
                    tokens[i].end,
                    tokens[i].text,
                    "party",
                    ref.entity_id,
                    ref.caption,
                    ref.schema,
                    ref.score * 0.95,
                    f"'{tokens[i].text}' is part of the name of {ref.entity_id} "
                    f"('{ref.text}'), named earlier in this text",
                )
            if mention is not None:
                take(i, j, mention)
                _remember_person(people, mention)
        mentions = [m for _, _, m in taken]
        for m in mentions:
            if m.kind == "party" and m.schema in _KIND_OF_SCHEMA:
                m.kind = _KIND_OF_SCHEMA[m.schema]
        mentions += self._patterns(text, blocks, [(m.start, m.end) for m in mentions])
        return sorted(mentions, key=lambda m: (m.start, m.end))

    def _surnames(self, tokens: list[Token], spans: list[tuple[int, int]], text: str) -> set[str]:
        """The surnames of the people a text names: the last word of a name that begins
        with a listed person's given name ("John R. Bolton", "Delcy Rodriguez"), is no
        place as a whole and has no country in it. An initial's full stop does not end
        the name."""
        out: set[str] = set()
        n = 0
        while n < len(spans):
            i, j = spans[n]
            while (
                n + 1 < len(spans)
                and len(tokens[spans[n][1] - 1].text) == 1
                and text[tokens[spans[n][1] - 1].end : tokens[spans[n + 1][0]].start] in (". ", ".")
            ):
                n += 1
                j = spans[n][1]
            n += 1
            i, j, _, _ = _trim(tokens, i, j, text)
            words = tokens[i:j]
            if not 2 <= len(words) <= 4 or words[0].key not in self.gazetteer.given_names:
                continue
            if " ".join(t.key for t in words) in self.places or any(
                t.key in ("of", "the") or _country_word(t) for t in words
            ):
                continue
            if words[0].key in self.places or not _is_cap(words[-1]):
                continue
            out.add(words[-1].key)
        return out

    def _place(
        self, tokens: list[Token], i: int, j: int, countries: Sequence[str]
    ) -> tuple[int, int, Mention] | None:
        """A place named by the whole span. A month or weekday is a date's word, never a
        town ("in March"). A city is read without a cue only when it is big and either
        its country's capital or in a country the text names: a town's name is often an
        everyday word or a name ("Central", "Pandi" among tankers' names)."""
        if all(_is_calendar(t) for t in tokens[i:j]):
            return None
        key = " ".join(t.key for t in tokens[i:j])
        place: Place | None = self.places.get(key)
        if place is None:
            return None
        if place.kind == "city" and (
            place.population < BIG_CITY or not (place.capital or place.country in countries)
        ):
            before = tokens[i - 1].key if i else ""
            after = tokens[j].text if j < len(tokens) else ""
            if before not in _PLACE_CUES and _territory(after) is None:
                return None
        return (
            i,
            j,
            Mention(
                tokens[i].start,
                tokens[j - 1].end,
                " ".join(t.text for t in tokens[i:j]),
                "place",
                score=1.0,
                reason=f"{place.kind}: {place.detail}",
                country=place.country,
            ),
        )

    def _link(
        self,
        tokens: list[Token],
        i: int,
        j: int,
        schema_hint: str | None,
        country: str | None,
        countries: list[str],
    ) -> Mention | None:
        if self.linker is None:
            return None
        span = tokens[i:j]
        # "Nicolás Maduro's government" names Nicolás Maduro.
        name = " ".join([t.text for t in span[:-1]] + [_bare(span[-1])])
        if len(span) == 1 and (
            len(span[0].key) < 4 or is_common_word(span[0].key) or span[0].key in self.places
        ):
            # An everyday word or a place is no party's name on its own ("Private",
            # "Nicolas", "Malaysia").
            return None
        if not self.gazetteer.may_name([t.key for t in span if t.key not in _CONNECTORS]):
            return None
        looks_person = schema_hint == "Person" or (
            2 <= len(span) <= 4 and all(t.key in _PERSON_CONNECTORS or _is_cap(t) for t in span)
        )
        schema = schema_hint or ("LegalEntity" if looks_person else "Organization")
        context = [country] if country else countries[:3]
        cache_key = (name, schema, tuple(context))
        found = self._linked.get(cache_key)
        if found is None:
            found = self._linked[cache_key] = self.linker.link(
                name, schema=schema, countries=context
            )
        found = [
            c for c in found if c.score >= self.link_threshold and self._covers(span, c, countries)
        ]
        if not found:
            return None
        best = found[0]
        reason = best.reason
        if country and country in best.countries:
            reason += (
                f"; the text calls them {tokens[i - 1].text if i else ''} ({country})".replace(
                    " ()", ""
                )
            )
        return Mention(
            span[0].start,
            span[-1].end,
            name,
            "party",
            best.entity_id,
            best.caption,
            best.schema,
            best.score,
            reason,
            candidates=[
                {"entity_id": c.entity_id, "caption": c.caption, "score": round(c.score, 3)}
                for c in found[1:6]
            ],
        )

    def _covers(self, span: list[Token], candidate: LinkCandidate, countries: list[str]) -> bool:
        """The text names the candidate, not only part of its name.

        One word names a party only when it is the whole distinctive part of one of its
        names ("Hezbollah"; not "Nicolas" for NICOLAS X or "Malaysia" for NOOR ENERGY
        (MALAYSIA) LTD.). An organisation is named only when the text has every
        distinctive word of one of its names ("Middle East" does not name MIDDLE EAST
        BANK), where a place word may be left out when the text is about that place
        ("Islamic Republic Shipping Lines" in a text about Iran)."""
        entity = self.gazetteer.entities.get(candidate.entity_id)
        if entity is None:
            return len(span) > 1
        from rapidfuzz.fuzz import ratio

        words = [t.key for t in span]
        names = entity.get("name") + entity.get("alias")
        if len(words) == 1:
            return any(
                len(needed) == 1 and ratio(needed[0], words[0]) >= 70
                for needed in (_needed_words(n) for n in names)
            )
        if candidate.schema == "Person":
            return True
        for name in names:
            needed = [
                w
                for w in _needed_words(name)
                if not (w in self.places and self.places[w].country in countries)
            ]
            if needed and all(any(ratio(n, w) >= 70 for w in words) for n in needed):
                return True
        return False

    def _patterns(
        self, text: str, blocks: Sequence[Block], taken: list[tuple[int, int]]
    ) -> list[Mention]:
        out: list[Mention] = []
        promo = _Ranges((b.start, b.end) for b in blocks if b.kind == "promo")
        used = bytearray(len(text))
        for start, end in taken:
            used[start:end] = b"\x01" * (end - start)

        def free(s: int, e: int) -> bool:
            return s not in promo and used.find(1, s, e) < 0

        for m in _WATER.finditer(text):
            if free(m.start(), m.end()):
                out.append(
                    Mention(
                        m.start(),
                        m.end(),
                        m.group(0),
                        "place",
                        score=0.9,
                        reason="a lake, gulf, strait, sea, bay or port named in the text",
                    )
                )
                used[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        for m in _IMO.finditer(text):
            if not free(m.start(), m.end()):
                continue
            number = m.group(1)
            ok = imo_valid(number)
            entity = self._vessel_by_imo(number)
            out.append(
                Mention(
                    m.start(),
                    m.end(),
                    m.group(0),
                    "vessel",
                    entity.id if entity else None,
                    entity.caption if entity else None,
                    "Vessel" if entity else None,
                    1.0 if entity else (0.5 if ok else 0.0),
                    (
                        f"IMO {number} is the IMO number of {entity.id}"
                        if entity
                        else f"IMO {number}: "
                        + ("valid check digit, not on the lists" if ok else "check digit is wrong")
                    ),
                )
            )
        for m in tail_pattern().finditer(text):
            if not free(m.start(), m.end()):
                continue
            entity = self._aircraft_by_tail(m.group(0))
            out.append(
                Mention(
                    m.start(),
                    m.end(),
                    m.group(0),
                    "aircraft",
                    entity.id if entity else None,
                    entity.caption if entity else None,
                    "Airplane" if entity else None,
                    1.0 if entity else 0.5,
                    f"tail number {m.group(0)}"
                    + (f" is the listed aircraft {entity.id}" if entity else ", not on the lists"),
                )
            )
        for kind, pattern in (("date", _DATE), ("money", _MONEY)):
            for m in pattern.finditer(text):
                if free(m.start(), m.end()) and m.group(0).strip():
                    out.append(
                        Mention(
                            m.start(),
                            m.end(),
                            m.group(0),
                            kind,
                            score=1.0,
                            reason=f"{kind} expression",
                        )
                    )
        return out

    def _vessel_by_imo(self, number: str) -> Any:
        return self.gazetteer.by_imo.get(number)

    def _aircraft_by_tail(self, tail: str) -> Any:
        return self.gazetteer.by_tail.get(tail)


@lru_cache(maxsize=1 << 14)
def _needed_words(name: str) -> list[str]:
    """The words of a listed name that must be in the text for it to name that party:
    no parenthesised qualifier, legal form or joining word."""
    return [w for w in distinctive_key(name).split() if w not in _CONNECTORS and w != "and"]


def word_is_country(word: str) -> str | None:
    return _territory(word)


__all__ = ["LinkCandidate", "Mention", "MentionFinder", "PartyLinker", "imo_valid", "word_key"]
