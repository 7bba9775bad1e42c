"""UK lists: OFSI Consolidated List CSV (ConList.csv) and FCDO UK Sanctions List XML.

No real UK list file is available here: the tests run on hand-built excerpts
(tests/fixtures/lists/uk_conlist.csv and uk_sanctions_list.xml, real designations
written to the published layouts; see the README there). Variants made in a test by
editing an excerpt are hand-made edge cases.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.registry import detect_parser
from watchkeeper.lists.uk_lists import PARSERS, UkFcdoParser, UkOfsiParser, numbered
from watchkeeper.store import Store

from ._helpers import FIXTURES, by_id, schema_of, variant
from ._mutate import MUTATION_SETTINGS, mutations, parse_or_format_error

CONLIST = FIXTURES / "uk_conlist.csv"
UKSL = FIXTURES / "uk_sanctions_list.xml"
OFSI = UkOfsiParser()
FCDO = UkFcdoParser()


def test_sources_and_detection() -> None:
    assert [p.source for p in PARSERS] == ["uk_ofsi", "uk_fcdo"]
    assert detect_parser([CONLIST]).source == "uk_ofsi"
    assert detect_parser([UKSL]).source == "uk_fcdo"
    assert not OFSI.detect([UKSL]) and not FCDO.detect([CONLIST])


def test_numbered_lists() -> None:
    assert numbered("(1) Afghanistan (2) Pakistan") == ["Afghanistan", "Pakistan"]
    assert numbered("Syria") == ["Syria"]
    assert numbered(None) == []


# --- OFSI ConList.csv ---------------------------------------------------------------------


def test_ofsi_groups_rows_into_targets() -> None:
    parsed = OFSI.parse([CONLIST])
    assert parsed.version == "2024-05-02"
    assert {e.proxy.id for e in parsed.entities if e.primary} == {
        "gb-hmt-12703",
        "gb-hmt-7172",
        "gb-hmt-12431",
    }
    ents = by_id(parsed)
    exchange = ents["gb-hmt-12703"]
    assert schema_of(parsed, "gb-hmt-12703") == "Organization"
    assert exchange["name"] == ["HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE"]
    assert "Haji Alim Hawala" in exchange["alias"]
    assert "حاجی خيرالله و حاجی ستار صرافی" in exchange["alias"]
    # Alias Quality "Low quality" -> a weak alias.
    assert exchange["weakAlias"] == ["Haji Khairullah-Haji Sattar Sarafi"]
    # One address per distinct address on the rows, each its own Address entity.
    assert len(exchange["addressEntity"]) == 3
    assert sorted(exchange["country"]) == ["ae", "af"]
    sanction = ents["gb-hmt-12703-sanction"]
    assert sanction["authorityId"] == ["AFG0001"]
    assert sanction["program"] == ["Afghanistan"]
    assert sanction["listingDate"] == ["2012-06-29"]
    assert sanction["startDate"] == ["2020-12-31"]
    entry_of = {e.proxy.id: e.entry_id for e in parsed.entities}
    assert entry_of["gb-hmt-12703-sanction"] == "12703"


def test_ofsi_person() -> None:
    ents = by_id(OFSI.parse([CONLIST]))
    akhund = ents["gb-hmt-7172"]
    assert akhund["name"] == ["Mohammad Hassan AKHUND"]
    assert akhund["firstName"] == ["Mohammad"] and akhund["lastName"] == ["AKHUND"]
    assert akhund["alias"] == ["محمد حسن آخوند", "Mohammed Hassan AKHUND"]
    # dd/mm are placeholders: the year alone is known.
    assert sorted(akhund["birthDate"]) == ["1945", "1958"]
    assert akhund["title"] == ["Mullah", "Haji"]
    assert len(akhund["position"]) == 4
    assert akhund["nationality"] == ["af"] and akhund["birthCountry"] == ["af"]
    assert any("Pashto" in n for n in akhund["notes"])


def test_ofsi_passport_column(tmp_path: Path) -> None:
    # Hand-made: the passport of AFG0006 (from the FCDO record) in the OFSI columns.
    with CONLIST.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[1]
    first_akhund = next(r for r in rows if r[0] == "AKHUND")
    first_akhund[header.index("Passport Number")] = "P04581926"
    first_akhund[header.index("Passport Details")] = "Afghanistan passport number P04581926"
    path = tmp_path / "ConList.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    ents = by_id(OFSI.parse([path]))
    assert ents["gb-hmt-7172"]["passportNumber"] == ["P04581926"]
    (passport,) = [v for k, v in ents.items() if k.startswith("gb-hmt-7172-id-")]
    assert passport["summary"] == ["Afghanistan passport number P04581926"]


def test_ofsi_unknown_column_is_kept(tmp_path: Path) -> None:
    # Hand-made: a column OFSI might add is kept in notes, not dropped.
    text = CONLIST.read_bytes().decode("utf-8")
    lines = text.split("\r\n")
    lines[1] += ",Ship IMO"
    for i in range(2, len(lines)):
        if lines[i]:
            lines[i] += ",IMO9999999" if i == 2 else ","
    lines[0] += ","
    path = tmp_path / "ConList.csv"
    path.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    ents = by_id(OFSI.parse([path]))
    assert "Ship IMO: IMO9999999" in ents["gb-hmt-12703"]["notes"]


def test_ofsi_bad_files(tmp_path: Path) -> None:
    text = CONLIST.read_bytes().decode("utf-8")
    # A row with a column too many: the line is named.
    lines = text.split("\r\n")
    lines[4] += ",extra"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("\r\n".join(lines), encoding="utf-8", newline="")
    with pytest.raises(ListFormatError) as err:
        OFSI.parse([wrong])
    assert err.value.line == 5 and "37 columns" in err.value.message
    # Not UTF-8.
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        text.replace("Baramkeh", "Baramk\u00e9h").encode("utf-8").replace("é".encode(), b"\xe9")
    )
    with pytest.raises(ListFormatError, match="not UTF-8") as err:
        OFSI.parse([latin])
    assert err.value.line == 9
    # No banner row; no Group ID column; a Group ID that is no number; empty file.
    no_banner = tmp_path / "nobanner.csv"
    no_banner.write_text("\r\n".join(lines[1:]), encoding="utf-8", newline="")
    with pytest.raises(ListFormatError, match="banner"):
        OFSI.parse([no_banner])
    no_group = variant(tmp_path, CONLIST, "Last Updated,Group ID", "Last Updated,Group")
    with pytest.raises(ListFormatError) as err:
        OFSI.parse([no_group])
    assert err.value.field == "Group ID"
    bad_group = variant(tmp_path, CONLIST, ",12431", ",G-12431")
    with pytest.raises(ListFormatError) as err:
        OFSI.parse([bad_group])
    assert err.value.field == "Group ID" and err.value.line == 9
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ListFormatError):
        OFSI.parse([empty])


# --- FCDO UK Sanctions List XML -------------------------------------------------------------


def test_fcdo_designations() -> None:
    parsed = FCDO.parse([UKSL])
    assert parsed.version == "2026-09-07"
    ents = by_id(parsed)
    assert {e.proxy.id for e in parsed.entities if e.primary} == {
        "gb-fcdo-AFG0001",
        "gb-fcdo-AFG0006",
        "gb-fcdo-DPR0075",
    }
    exchange = ents["gb-fcdo-AFG0001"]
    assert exchange["name"] == ["HAJI KHAIRULLAH HAJI SATTAR MONEY EXCHANGE"]
    assert exchange["email"] == ["helmand_exchange_msp@yahoo.com"]
    # FtM rejects this phone number; it is kept, labelled.
    assert "Phone: 0202-104748" in exchange["notes"]
    assert "OFSI Group ID: 12703 (gb-hmt-12703)" in exchange["notes"]
    sanction = ents["gb-fcdo-AFG0006-sanction"]
    assert sanction["provisions"] == ["Asset freeze", "Travel Ban"]
    assert sanction["unscId"] == ["TAi.002"]
    assert sanction["startDate"] == ["2001-01-25"]
    assert "Sanctions imposed indicators: AssetFreeze, TravelBan" in sanction["summary"]
    akhund = ents["gb-fcdo-AFG0006"]
    assert akhund["name"] == ["MOHAMMAD HASSAN AKHUND"]
    assert akhund["birthDate"] == ["1945", "1958"]
    assert akhund["birthPlace"] == [
        "Pashmul village, Panjwai District, Kandahar Province, Afghanistan"
    ]
    # The passport repeated in the file is one Passport entity.
    passports = [k for k in ents if k.startswith("gb-fcdo-AFG0006-id-")]
    assert len(passports) == 1
    assert ents[passports[0]]["number"] == ["P04581926"]


def test_fcdo_ship() -> None:
    parsed = FCDO.parse([UKSL])
    ents = by_id(parsed)
    ship = ents["gb-fcdo-DPR0075"]
    assert schema_of(parsed, "gb-fcdo-DPR0075") == "Vessel"
    assert ship["imoNumber"] == ["IMO9562233"]
    assert ship["flag"] == ["km"] and ship["pastFlags"] == ["in"]
    assert ship["type"] == ["Bulk Carrier"] and ship["tonnage"] == ["7078"]
    assert ship["buildDate"] == ["2011"]
    # An element this parser does not map stays, with its path.
    assert "ShipDetails/Ship/LengthOfShipDetails/LengthOfShip: 116" in ship["notes"]
    (owner_id,) = ship["owner"]
    assert ents[owner_id]["name"] == ["Global United Shipping India"]
    ownership = [v for k, v in ents.items() if k.startswith("gb-fcdo-DPR0075-owner-link-")]
    assert ownership[0]["asset"] == ["gb-fcdo-DPR0075"]


def test_fcdo_parent_company_makes_a_company(tmp_path: Path) -> None:
    # Hand-made: an entity with a parent company is owned, so it becomes a Company.
    path = variant(
        tmp_path,
        UKSL,
        "    <PhoneNumbers>",
        "    <EntityDetails><Entity><ParentCompanies><ParentCompany>HKHS Holding"
        "</ParentCompany></ParentCompanies><BusinessRegistrationNumbers>"
        "<BusinessRegistrationNumber>044</BusinessRegistrationNumber>"
        "</BusinessRegistrationNumbers></Entity></EntityDetails>\n    <PhoneNumbers>",
    )
    parsed = FCDO.parse([path])
    assert schema_of(parsed, "gb-fcdo-AFG0001") == "Company"
    ents = by_id(parsed)
    assert ents["gb-fcdo-AFG0001"]["registrationNumber"] == ["044"]
    links = [v for k, v in ents.items() if k.startswith("gb-fcdo-AFG0001-parent-link-")]
    assert links[0]["asset"] == ["gb-fcdo-AFG0001"]


def test_fcdo_bad_files(tmp_path: Path) -> None:
    namespaced = variant(
        tmp_path, UKSL, "<Designations ", '<Designations xmlns="urn:example:other" '
    )
    with pytest.raises(ListFormatError) as err:
        FCDO.parse([namespaced])
    assert err.value.field == "Designations"
    no_id = variant(tmp_path, UKSL, "<UniqueID>DPR0075</UniqueID>", "")
    with pytest.raises(ListFormatError) as err:
        FCDO.parse([no_id])
    assert err.value.field == "UniqueID" and err.value.line is not None
    cut = tmp_path / "cut.xml"
    cut.write_bytes(UKSL.read_bytes()[:3000])
    with pytest.raises(ListFormatError, match="not well-formed"):
        FCDO.parse([cut])
    bad_date = variant(tmp_path, UKSL, "<DateGenerated>07/09/2026", "<DateGenerated>2026-09-07")
    with pytest.raises(ListFormatError) as err:
        FCDO.parse([bad_date])
    assert err.value.field == "DateGenerated"


def test_loads_into_the_store() -> None:
    store = Store(":memory:")
    try:
        for parsed in (OFSI.parse([CONLIST]), FCDO.parse([UKSL])):
            version, new = store.add_list_version(parsed)
            assert new and version.entity_count == 3
    finally:
        store.close()


# --- mutated excerpts: only ListFormatError or a valid result ------------------------------


@MUTATION_SETTINGS
@given(data=mutations(CONLIST.read_bytes(), csv=True))
def test_mutated_conlist(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "ConList.csv"
    path.write_bytes(data)
    parse_or_format_error(OFSI, path)


@MUTATION_SETTINGS
@given(data=mutations(UKSL.read_bytes()))
def test_mutated_uk_sanctions_list(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "UK-Sanctions-List.xml"
    path.write_bytes(data)
    parse_or_format_error(FCDO, path)
