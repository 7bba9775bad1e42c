"""Names as the reader meets them in text, screened against the bundled SDN list:
trade words, possessives, a name written as one word or two, a lone given name."""

from __future__ import annotations

import pytest

from watchkeeper.screening import Query, Screener
from watchkeeper.screening.query_names import possessor, with_possessor

MAHAN_AIR = "ofac-12927"
MADURO = "ofac-22790"  # MADURO MOROS, Nicolas
HIZBALLAH = "ofac-4697"
HIZB_ULLAH_KHAN = "ofac-23685"  # a person whose weak a.k.a.s include 'Hizb Allah'
NICOLAS_ALIAS = "ofac-16409"  # MORENO TUBERQUIA, Carlos Antonio; weak a.k.a. NICOLAS


def screen(screener: Screener, name: str, schema: str = "LegalEntity") -> list[tuple[str, bool]]:
    query = Query.from_yente({"schema": schema, "properties": {"name": [name]}})
    return [(h.entity.id, h.match) for h in screener.screen(query)]


@pytest.mark.parametrize(
    "name", ["Mahan Airlines", "Mahan airlines", "Mahan Air Lines", "MAHAN AIRWAYS", "Mahan Air"]
)
def test_trade_words_do_not_block_a_match(sdn_screener: Screener, name: str) -> None:
    assert screen(sdn_screener, name)[0] == (MAHAN_AIR, True)
    assert screen(sdn_screener, name, "Company")[0] == (MAHAN_AIR, True)


def test_trade_word_alone_is_not_the_name(sdn_screener: Screener) -> None:
    # 'Airlines' pairs with 'AIR' as a low-weight word: another name is still another.
    assert (MAHAN_AIR, True) not in screen(sdn_screener, "Meraj Airlines")


@pytest.mark.parametrize(
    "name", ["Nicolás Maduro's government", "Nicolás Maduro’s regime", "Nicolas Maduro's"]
)
def test_possessive_ends_the_name(sdn_screener: Screener, name: str) -> None:
    assert screen(sdn_screener, name)[0] == (MADURO, True)


def test_possessor() -> None:
    assert possessor("Nicolás Maduro's government") == "Nicolás Maduro"
    assert possessor("the Assads' regime") == "the Assads"
    assert possessor("People's Bank of China") == ""  # one word left of a name of its own
    assert possessor("O'Brien Shipping") == ""
    assert possessor("Mahan Air") == ""
    assert with_possessor(["Bashar al-Assad's forces", "X"]) == [
        "Bashar al-Assad's forces",
        "Bashar al-Assad",
        "X",
    ]


def test_arabic_party_of_god_ranks_the_organisation_first(sdn_screener: Screener) -> None:
    """'حزب الله' is HIZBALLAH written in two words; a person whose weak a.k.a. is 'Hizb
    Allah' is found too, but below, and not as a match."""
    hits = screen(sdn_screener, "حزب الله")
    assert hits[0] == (HIZBALLAH, True)
    assert (HIZB_ULLAH_KHAN, True) not in hits


def test_lone_given_name_is_not_a_match(sdn_screener: Screener) -> None:
    """'Nicolas' is a weak a.k.a. of one SDN person and the given name of others."""
    hits = screen(sdn_screener, "Nicolas")
    assert not any(match for _id, match in hits)
    assert NICOLAS_ALIAS in [i for i, _m in hits]  # reported, not called a match
    # The weak a.k.a. with the person's other names is still found as a match.
    assert screen(sdn_screener, "Carlos Antonio Moreno Tuberquia", "Person")[0] == (
        NICOLAS_ALIAS,
        True,
    )
