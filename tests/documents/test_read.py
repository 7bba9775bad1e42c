"""Reading reports against the real OFAC SDN list (bundled 2023-12-28 publication)."""

from __future__ import annotations

from functools import cache

import pytest

from tests.conftest import DATA
from watchkeeper.documents.gazetteer import NameGazetteer
from watchkeeper.documents.mentions import PartyLinker
from watchkeeper.documents.read import Reading, read_text, store_reading
from watchkeeper.documents.service import ScreeningLinker
from watchkeeper.documents.text import SourceText, from_bytes
from watchkeeper.store import Store

SEED = DATA / "articles" / "seed-iran-venezuela.txt"


@cache
def _tools(store_id: int, store: Store) -> tuple[NameGazetteer, PartyLinker]:
    return NameGazetteer.from_store(store), ScreeningLinker(store)


def _read(store: Store, text: str) -> Reading:
    gazetteer, linker = _tools(id(store), store)
    return read_text(SourceText(text, "test", "text/plain"), gazetteer, linker)


@pytest.fixture(scope="module")
def seed(ofac_store: Store) -> Reading:
    gazetteer, linker = _tools(id(ofac_store), ofac_store)
    return read_text(from_bytes(SEED.read_bytes(), str(SEED)), gazetteer, linker)


def _links(reading: Reading) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in reading.mentions:
        if m.entity_id:
            out.setdefault(m.text, set()).add(m.entity_id)
    return out


def test_founding_report_links_the_listed_parties(seed: Reading) -> None:
    links = _links(seed)
    assert links["Mahan Air"] == {"ofac-12927"}
    assert links["Quds Forces of the Islamic Revolutionary Guard Corps"] == {"ofac-10465"}
    assert links["Islamic Revolutionary Guard Corps"] == {"ofac-10391"}
    assert links["Hezbollah"] == {"ofac-4697"}
    assert links["Nicolas Maduro"] == {"ofac-22790"}
    assert links["Basher Assad"] == {"ofac-12735"}
    # Every link says why.
    assert all(m.reason for m in seed.mentions if m.entity_id)


def test_founding_report_links_nobody_else(seed: Reading) -> None:
    linked = {m.entity_id for m in seed.mentions if m.entity_id}
    assert linked == {
        "ofac-12927",
        "ofac-10465",
        "ofac-10391",
        "ofac-4697",
        "ofac-22790",
        "ofac-12735",
    }
    texts = {m.text for m in seed.mentions if m.entity_id}
    assert not any("Faller" in t or "Craig" in t or "Toro" in t for t in texts)


def test_people_not_on_the_lists_stay_unlinked_in_any_position(ofac_store: Store) -> None:
    # The promo line read as a story of its own, and the caption as a sentence.
    for text in (
        "Guillermo del Toro will make a re-release of Titanes del Pacífico in 3D.",
        "Craig Faller, head of the Southern Hemisphere command, spoke in Miami.",
    ):
        assert [m.entity_id for m in _read(ofac_store, text).mentions if m.entity_id] == []


def test_founding_report_places(seed: Reading) -> None:
    places = {m.text: m.country for m in seed.mentions if m.kind == "place"}
    assert places["Iran"] == "ir"
    assert places["Venezuela"] == "ve"
    assert places["Cabimas"] == "ve"
    assert "Lake Maracaibo" in places
    assert {b.text[:20] for b in seed.set_aside if b.kind == "promo"} == {
        "The best memes about",
        "Guillermo del Toro w",
    }


def test_press_release_excerpt_tanker_and_airline(ofac_store: Store) -> None:
    """Written for this test from facts in OFAC's press releases: the tanker FORTUNE
    (IMO 9283746) carried Iranian gasoline to Venezuela in 2020; Caspian Air, operator
    of EP-CAR, was designated for flying IRGC personnel and weapons to Syria."""
    text = (
        "Treasury sanctioned the captain of the Iranian tanker Fortune (IMO 9283746), "
        "which delivered gasoline to Venezuela in June 2020. Caspian Air, which flew its "
        "Boeing 737 EP-CAR to Damascus for the IRGC, was designated in January 2019."
    )
    reading = _read(ofac_store, text)
    by_kind = {(m.kind, m.entity_id) for m in reading.mentions}
    assert ("vessel", "ofac-15068") in by_kind
    assert ("party", "ofac-17226") in by_kind
    assert ("aircraft", "ofac-24480") in by_kind
    assert any(m.kind == "date" and "2020" in m.text for m in reading.mentions)


def test_remarks_text_of_a_list_entry(ofac_store: Store) -> None:
    """The remarks of OFAC entry 15438 (aircraft EP-MNG), as published, name its operator."""
    text = (
        "Aircraft Construction Number (also called L/N or S/N or F/N) 401; Aircraft "
        "Manufacture Date 02 Feb 1987; Aircraft Model A300B4-603; Aircraft Operator MAHAN "
        "AIR; Additional Sanctions Information - Subject to Secondary Sanctions; Linked To: "
        "MAHAN AIR."
    )
    links = _links(_read(ofac_store, text))
    assert links.get("MAHAN AIR") == {"ofac-12927"}


def test_stored_reading_becomes_events(seed: Reading, tmp_path: object) -> None:
    store = Store(":memory:")
    try:
        written = store_reading(store, seed)
        assert written == 6
        events = store.read_events(types=["report_mention"], subject="ofac-12927")
        assert len(events) == 1
        assert events[0].evidence[-1] == "list:ofac-12927"
        assert all(e.startswith("doc:") for e in events[0].evidence[:-1])
        # Reading it again replaces, never duplicates.
        assert store_reading(store, seed) == 6
        assert len(store.read_events(types=["report_mention"])) == 6
        n_claims = store.con.execute("SELECT count(*) FROM document_claims").fetchone()
        assert n_claims == (len(seed.claims),)
    finally:
        store.close()
