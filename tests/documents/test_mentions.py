"""Mention finding: linear in the text, and a mention is a whole name, never an everyday
word, a place or a qualifier cut out of a listed name (issue 11, items 8 and 9).

Sentences are from the founding report and real news pages (islamtimes.org, 2020-06-25,
on the captains of five Iranian tankers), read against the bundled OFAC SDN 2023-12-28
list."""

from __future__ import annotations

import gzip
import html
import re
import time
from collections.abc import Sequence
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.gazetteer import NameGazetteer, distinctive_key, name_variants
from watchkeeper.documents.layout import Block
from watchkeeper.documents.mentions import LinkCandidate, Mention, MentionFinder
from watchkeeper.documents.read import read_text
from watchkeeper.documents.service import ScreeningLinker
from watchkeeper.documents.text import SourceText
from watchkeeper.store import Store

SEED = DATA / "articles" / "seed-iran-venezuela.txt"
UN = DATA / "lists" / "un" / "consolidated.xml.gz"


@cache
def _gazetteer(store_id: int, store: Store) -> NameGazetteer:
    return NameGazetteer.from_store(store)


@cache
def _linker(store_id: int, store: Store) -> ScreeningLinker:
    return ScreeningLinker(store)


def _links(store: Store, text: str) -> dict[str, str | None]:
    gazetteer, linker = _gazetteer(id(store), store), _linker(id(store), store)
    reading = read_text(SourceText(text, "test", "text/plain"), gazetteer, linker)
    return {m.text: m.entity_id for m in reading.mentions if m.kind not in ("date", "money")}


@cache
def real_text() -> str:
    """The founding report and the UN list's narrative remarks on listed people, one
    paragraph each: varied real prose that names listed parties, places and dates."""
    with gzip.open(UN, "rt", encoding="utf-8") as xml:
        remarks = re.findall(r"<COMMENTS1>([^<]*)</COMMENTS1>", xml.read())
    return "\n\n".join([SEED.read_text("utf-8"), *(html.unescape(r).strip() for r in remarks)])


def text_of(size: int) -> str:
    base = real_text()
    return (base * (size // len(base) + 1))[:size]


# -- item 9: what a mention is ----------------------------------------------------------


def test_parenthesised_qualifiers_are_not_names() -> None:
    keys = name_variants("NOOR ENERGY (MALAYSIA) LTD.", "Company")
    assert "malaysia" not in keys and "noor energy" in keys
    assert "private" not in name_variants("MARANGE RESOURCES (PRIVATE) LIMITED", "Company")
    assert distinctive_key("MARANGE RESOURCES (PRIVATE) LIMITED") == "marange resource"
    # A parenthesised acronym is an alias, and is kept.
    assert "irgc" in name_variants("ISLAMIC REVOLUTIONARY GUARD CORPS (IRGC)", "Organization")


def test_everyday_words_and_places_do_not_link(ofac_store: Store) -> None:
    links = _links(
        ofac_store,
        "Private security firms guard the mine. Malaysia said it would look into it. "
        "Nicolas told reporters on Monday that nothing had changed.",
    )
    assert links.get("Private") is None
    assert links.get("Malaysia") is None and "Malaysia" in links  # a place, not a party
    assert links.get("Nicolas") is None


def test_a_name_is_never_cut_out_of_a_longer_one(ofac_store: Store) -> None:
    # VOYAGER is a former name of the listed tanker NAVARZ (ofac-15074).
    links = _links(ofac_store, "The tanker Athens Voyager called at Piraeus last week.")
    assert "ofac-15074" not in links.values()
    # A listed everyday word ("CITY", ofac-46470) beside a country is another name.
    assert "ofac-46470" not in _links(ofac_store, "The ship sailed from Panama City.").values()
    # As a whole name it is still found.
    assert _links(ofac_store, "The tanker, renamed from Voyager, called at Bandar Abbas.")[
        "Voyager"
    ] == ("ofac-15074")


def test_listed_names_the_screener_finds_are_proposed_by_the_reader(ofac_store: Store) -> None:
    text = (
        "US Treasury said the captains worked for Iran's state-owned Islamic Republic "
        "Shipping Lines. These captains, who led five Iranian flagged tankers — Clavel, "
        "Petunia, Fortune, Forest and Faxon — delivered gasoline to Venezuela."
    )
    links = _links(ofac_store, text)
    assert links["Islamic Republic Shipping Lines"] == "ofac-25396"
    assert links["Faxon"] == "ofac-25708"
    assert links["Fortune"] == "ofac-15068"


def test_a_possessive_does_not_hide_the_name(ofac_store: Store) -> None:
    links = _links(ofac_store, "In Venezuela, Nicolás Maduro's government welcomed the tankers.")
    assert links["Nicolás Maduro"] == "ofac-22790"


def test_a_surname_names_the_person_named_before_but_a_first_name_does_not(
    ofac_store: Store,
) -> None:
    links = _links(
        ofac_store,
        "Venezuelan President Nicolas Maduro met the crews. Maduro thanked Iran. "
        "Nicolas, a sailor, was not there.",
    )
    assert links["Maduro"] == "ofac-22790"
    assert links.get("Nicolas") is None


def test_a_name_written_as_listed_may_cross_a_comma_but_not_a_sentence(
    ofac_store: Store,
) -> None:
    links = _links(ofac_store, "Payments were routed to Maduro Moros, Nicolas in 2021.")
    assert links["Maduro Moros Nicolas"] == "ofac-22790"
    links = _links(ofac_store, "The ship sailed to Iran. Air strikes followed in May.")
    assert "Iran Air" not in links and links["Iran"] is None


def test_tail_numbers_of_every_icao_register_but_not_aircraft_types(ofac_store: Store) -> None:
    gazetteer = _gazetteer(id(ofac_store), ofac_store)
    text = (
        "Mahan Air's A300 EP-MNG and a British jet, G-TEKV, flew past two F-35A fighters "
        "and a B-52H."
    )
    aircraft = {
        m.text: m.entity_id for m in MentionFinder(gazetteer).find(text, []) if m.kind == "aircraft"
    }
    assert aircraft == {"EP-MNG": "ofac-15438", "G-TEKV": None}


# -- item 8: linear in the text ----------------------------------------------------------


class CountingLinker:
    """Links nothing; counts the names it is asked about."""

    def __init__(self) -> None:
        self.calls = 0

    def link(self, name: str, *, schema: str, countries: Sequence[str]) -> list[LinkCandidate]:
        self.calls += 1
        return []


def _find_seconds(finder: MentionFinder, text: str, blocks: list[Block]) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        finder.find(text, blocks)
        best = min(best, time.perf_counter() - t0)
    return best


def _paragraph_blocks(text: str) -> list[Block]:
    """One block per paragraph, every fourth a promo, as a long report has many."""
    blocks = []
    for n, m in enumerate(re.finditer(r"[^\n]+", text)):
        blocks.append(Block(m.start(), m.end(), m.group(0), "promo" if n % 4 == 3 else "body"))
    return blocks


def test_finding_mentions_is_linear_in_the_text(ofac_store: Store) -> None:
    gazetteer = _gazetteer(id(ofac_store), ofac_store)
    small, large = text_of(32 * 1024), text_of(128 * 1024)
    finder = MentionFinder(gazetteer, CountingLinker())
    finder.find(small, _paragraph_blocks(small))  # warm caches (word lists, places)
    ratio = _find_seconds(
        MentionFinder(gazetteer, CountingLinker()), large, _paragraph_blocks(large)
    ) / _find_seconds(MentionFinder(gazetteer, CountingLinker()), small, _paragraph_blocks(small))
    # Four times the text: about four times the time; quadratic work would be ~16x.
    assert ratio < 7, ratio


def test_each_distinct_name_is_screened_once_per_text(ofac_store: Store) -> None:
    gazetteer = _gazetteer(id(ofac_store), ofac_store)
    once, four_times = CountingLinker(), CountingLinker()
    text = real_text()[:20_000]
    MentionFinder(gazetteer, once).find(text, [])
    MentionFinder(gazetteer, four_times).find("\n\n".join([text] * 4), [])
    assert 0 < once.calls == four_times.calls


def test_promo_blocks_are_skipped(ofac_store: Store) -> None:
    gazetteer = _gazetteer(id(ofac_store), ofac_store)
    text = "Mahan Air flew to Caracas.\nMahan Air flew to Damascus."
    promo = Block(27, len(text), text[27:], "promo")
    found = MentionFinder(gazetteer).find(text, [promo])
    assert [(m.start, m.entity_id) for m in found if m.kind == "party"] == [(0, "ofac-12927")]


# -- any text ------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    "Mahan Air Lines Islamic Revolutionary Guard Corps of the al Nicolás Maduro's Iran "
    "Athens Voyager PRIVATE (MALAYSIA) IMO 9283746 EP-CAR June 2020 $5 million — , . \n "
    "Hezbollah Faxon".split(" ")
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_WORDS, st.text(max_size=12)), max_size=60).map(" ".join),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 400)), max_size=4),
)
def test_any_text_gives_well_formed_mentions(
    ofac_store: Store, text: str, ranges: list[tuple[int, int]]
) -> None:
    blocks = [Block(min(a, b), max(a, b), "", "promo") for a, b in ranges]
    mentions: list[Mention] = MentionFinder(
        _gazetteer(id(ofac_store), ofac_store), CountingLinker()
    ).find(text, blocks)
    assert mentions == sorted(mentions, key=lambda m: (m.start, m.end))
    for m in mentions:
        assert 0 <= m.start < m.end <= len(text)
        assert not any(b.start <= m.start < b.end for b in blocks)
    named = [m for m in mentions if m.kind in ("party", "vessel", "aircraft", "place")]
    for a, b in zip(named, named[1:], strict=False):
        assert a.end <= b.start, (a, b)


# -- items 9-10 leftovers: misses on held-out news, fixed in a general way --------------


def test_a_small_town_does_not_hide_a_listed_name(ofac_store: Store) -> None:
    # Forest is a Belgian town of 56,000 (GeoNames) and the listed tanker FOREST.
    links = _links(
        ofac_store,
        "These captains, who led five Iranian flagged tankers — Clavel, Petunia, Fortune, "
        "Forest and Faxon — delivered gasoline to Venezuela.",
    )
    assert links["Forest"] == "ofac-15049"
    # With a place cue and nothing listed about it, a town is still a town.
    assert _links(ofac_store, "The fair was held in Forest, near Brussels.")["Forest"] is None


def test_an_everyday_word_names_a_listed_party_only_in_a_text_about_its_countries(
    ofac_store: Store,
) -> None:
    # BELLA (ofac-24510) is a Russian-flagged tanker listed under the DPRK programme; the
    # Bella whose Iranian cargo the US seized in 2020 flew Liberia's flag.
    seized = (
        "The Justice Department seized the Iranian fuel aboard the Liberia-flagged tankers "
        "Luna, Pandi, Bering and Bella on their way to Venezuela."
    )
    assert _links(ofac_store, seized).get("Bella") != "ofac-24510"
    dprk = "The Russian tanker Bella delivered refined oil to North Korea in a transfer at sea."
    assert _links(ofac_store, dprk)["Bella"] == "ofac-24510"


def test_a_city_outside_the_texts_countries_needs_a_place_cue(ofac_store: Store) -> None:
    # Pandi is a Philippine city of 160,000; here it is one of four tankers' names.
    seized = (
        "The Justice Department seized the Iranian fuel aboard the tankers Luna, Pandi, "
        "Bering and Bella on their way to Venezuela."
    )
    assert "Pandi" not in _links(ofac_store, seized)
    assert "Pandi" in _links(ofac_store, "Floods reached homes in Pandi on Tuesday.")
    # A capital, or a city in a country the text names, needs no cue.
    assert "Tehran" in _links(ofac_store, "Tehran warned of retaliation.")
    links = _links(ofac_store, "A tanker bound for Venezuela left the United States. Houston said")
    assert "Houston" in links


def test_a_month_is_a_date_not_a_town(ofac_store: Store) -> None:
    # March is also a town of 21,000 in England.
    reading = read_text(
        SourceText(
            "Conviasa said it would start service in March to Damascus, in Syria.",
            "test",
            "text/plain",
        ),
        _gazetteer(id(ofac_store), ofac_store),
        _linker(id(ofac_store), ofac_store),
    )
    places = {m.text for m in reading.mentions if m.kind == "place"}
    assert "March" not in places and "Damascus" in places
    assert any(m.kind == "date" and "March" in m.text for m in reading.mentions)


def test_a_surname_of_a_person_the_text_names_is_that_person_not_a_town(
    ofac_store: Store,
) -> None:
    # Rodriguez is a Philippine city of 134,000; here it is Delcy Rodriguez, listed.
    links = _links(
        ofac_store,
        "Venezuela's Vice President Delcy Rodriguez met the crews in Caracas. "
        "Rodriguez said the ships were welcome.",
    )
    assert links["Rodriguez"] == "ofac-25077"
    # Bolton is an English town of 141,000; here it is John R. Bolton, not listed.
    links = _links(
        ofac_store,
        "On Friday, U.S. national security adviser John R. Bolton tweeted about the "
        "tanker off Syria. Bolton had tweeted a satellite image of Britain's seizure.",
    )
    assert "Bolton" not in links and "Syria" in links  # no place, no listed party
    reading = read_text(
        SourceText(
            "U.S. national security adviser John R. Bolton tweeted. Bolton had tweeted.",
            "test",
            "text/plain",
        ),
        _gazetteer(id(ofac_store), ofac_store),
        _linker(id(ofac_store), ofac_store),
    )
    assert not [m for m in reading.mentions if m.kind == "place"]


def test_a_title_takes_the_everyday_words_before_it(ofac_store: Store) -> None:
    # "Supreme Leader", "Prime Minister": the title is not part of the name screened.
    links = _links(
        ofac_store, "Supreme Leader Ali Khamenei spoke on Friday. Khamenei said Iran would reply."
    )
    assert links["Ali Khamenei"] == "ofac-26945"
    assert links["Khamenei"] == "ofac-26945"
