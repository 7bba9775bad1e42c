"""Aircraft and operator identity, and links to listed entities (real SDN rows)."""

from __future__ import annotations

from pathlib import Path

from tests.movement.air._support import load_sdn_subset
from watchkeeper.movement.air.identity import (
    ExactNameMatcher,
    ListedIndex,
    designator,
    identify,
    load_airlines,
    load_registers,
    registration_from_callsign,
)
from watchkeeper.store import Store


def test_address_blocks_give_the_register() -> None:
    regs = load_registers()
    for address, country, iso in [
        ("730000", "Iran", "ir"),
        ("737fff", "Iran", "ir"),
        ("393322", "France", "fr"),
        ("ac671b", "United States", "us"),
        ("778001", "Syria", "sy"),
        ("0d8000", "Venezuela", "ve"),
        ("140ae7", "Russia", "ru"),
    ]:
        reg = regs.for_address(address)
        assert reg is not None and (reg.country, reg.iso2) == (country, iso), address
    assert regs.for_address("738000") is None or regs.for_address("738000").country != "Iran"  # type: ignore[union-attr]


def test_designators_name_the_airlines() -> None:
    airlines = load_airlines()
    assert designator("IRM7150") == "IRM" and airlines["IRM"].name == "Mahan Air"
    assert airlines["IRA"].name == "Iran Air"
    assert airlines["VCV"].name == "Conviasa"
    assert airlines["SYR"].name == "Syrian Arab Airlines"
    assert designator("GTEKV") is None  # a registration, not a flight number
    assert designator("N899DN") is None


def test_registration_from_callsign() -> None:
    regs = load_registers()
    assert registration_from_callsign("GTEKV", regs.for_address("407918")) == "G-TEKV"
    assert registration_from_callsign("N899DN", regs.for_address("ac671b")) == "N899DN"
    assert registration_from_callsign("AFR34ZG", regs.for_address("393322")) is None


def test_links_to_listed_aircraft_and_operators(tmp_path: Path) -> None:
    store = Store(":memory:")
    load_sdn_subset(store, tmp_path)
    regs = load_registers()
    listed = ListedIndex.from_store(store, regs)
    # By registration (and the address lies in Iran's block).
    ident = identify("7300f1", regs, registration="EP-MNG")
    links = listed.aircraft_links(ident)
    assert [(lk.entity_id, lk.basis) for lk in links] == [("ofac-15438", "registration")]
    assert "0x730000-0x737FFF" in links[0].detail
    ops = listed.operators_of_listed(links[0])
    assert [o.entity_id for o in ops] == ["ofac-12927"]
    # By Mode S transponder code (the list gives EP-PUS's address).
    by_code = listed.aircraft_links(identify("7342b3", regs))
    assert [(lk.entity_id, lk.basis) for lk in by_code] == [("ofac-48727", "mode_s")]
    # By serial number (MSN) when a source states it.
    ident = identify("778abc", regs)
    ident.serial = "17311406"
    assert [lk.entity_id for lk in listed.aircraft_links(ident)] == ["ofac-15613"]
    # Operators by name through screening: airline names from OpenFlights.
    airlines = load_airlines()
    mahan = listed.operator_links(airlines["IRM"].name, airlines["IRM"].country)
    assert [lk.entity_id for lk in mahan] == ["ofac-12927"]
    syrian = listed.operator_links(airlines["SYR"].name, airlines["SYR"].country)
    assert [lk.entity_id for lk in syrian] == ["ofac-13440"]
    assert listed.operator_links(airlines["AFR"].name, airlines["AFR"].country) == []
    assert listed.aircraft_links(identify("393322", regs)) == []


def test_exact_name_fallback(tmp_path: Path) -> None:
    store = Store(":memory:")
    load_sdn_subset(store, tmp_path)
    matcher = ExactNameMatcher(store.current_entities(["Organization"]))
    hits = matcher.match("Mahan Air", "Iran")
    assert [h.entity_id for h in hits] == ["ofac-12927"] and hits[0].basis == "exact_name"
    assert matcher.match("Mahan Airlines", None) == []
