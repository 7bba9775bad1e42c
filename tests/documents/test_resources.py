"""The reader's word resources are derived from general bundled data (issue 11, item 10):
the shipped files are what the derivation gives, and they hold what a reader needs."""

from __future__ import annotations

from watchkeeper.documents import resources
from watchkeeper.documents.gazetteer import place_index
from watchkeeper.documents.tokens import name_key


def test_shipped_files_are_what_the_bundled_data_derive() -> None:
    assert list(resources._read(resources.TITLES)) == resources.derive_titles()
    assert list(resources._read(resources.REGIONS)) == resources.derive_regions()


def test_titles_are_people_words_not_organisation_words() -> None:
    titles = resources.titles()
    # Heads of the lists' titles ("Minister of Defense", UN "Maulavi") and rigour's ranks.
    for word in ("minister", "commander", "governor", "maulavi", "sheikh", "admiral", "mr"):
        assert word in titles, word
    # "Bank of ..." heads some titles too, but names far more organisations.
    for word in ("bank", "ministry", "council", "republic", "the", "of"):
        assert word not in titles, word


def test_title_head_is_the_word_before_of() -> None:
    assert resources.title_head("Deputy Minister of Defense") == "minister"
    assert resources.title_head("Commander of the IRGC-QF") == "commander"
    assert resources.title_head("Maulavi") == "maulavi"
    assert resources.title_head("Member of the State Duma of the Federal Assembly") == "member"
    assert resources.title_head("Scientific Studies Center employee") is None


def test_regions_and_seas_are_places() -> None:
    places = place_index()
    for name in ("Middle East", "Latin America", "Southeast Asia", "West Africa"):
        assert places[name_key(name)].kind == "region", name
    for name in ("Aegean Sea", "Persian Gulf", "Gulf of Oman", "Strait of Hormuz", "Red Sea"):
        assert places[name_key(name)].kind == "region", name
    # Descriptions in the World Port Index's column are no names.
    assert "philippine inland seas" not in places
