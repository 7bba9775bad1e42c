"""OFAC classic XML (sdn.xml) and advanced XML (sdn_advanced.xml) parsers.

No real OFAC XML file is available here, so these tests run on hand-built excerpts
(tests/fixtures/lists/ofac_sdn.xml and ofac_sdn_advanced.xml, see the README there):
real entries of the 2023-12-28 SDN publication written out in the two published
schemas. Variants made by editing an excerpt in a test are hand-made edge cases.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.ofac_advanced import OfacAdvancedParser
from watchkeeper.lists.ofac_xml import PARSERS, OfacClassicXmlParser
from watchkeeper.lists.registry import detect_parser
from watchkeeper.store import Store

from ._helpers import FIXTURES, by_id, schema_of, variant
from ._mutate import MUTATION_SETTINGS, mutations, parse_or_format_error

SDN_XML = FIXTURES / "ofac_sdn.xml"
ADVANCED_XML = FIXTURES / "ofac_sdn_advanced.xml"

CLASSIC = OfacClassicXmlParser()
ADVANCED = OfacAdvancedParser()


# --- the classic sdn.xml ------------------------------------------------------------------


def test_classic_reads_every_entry_with_its_ofac_id() -> None:
    parsed = CLASSIC.parse([SDN_XML])
    assert parsed.source == "ofac_sdn_xml"
    assert parsed.published is not None and parsed.published.isoformat() == "2023-12-28"
    assert parsed.version == "2023-12-28"
    primaries = {e.proxy.id for e in parsed.entities if e.primary}
    assert primaries == {
        "ofac-36",
        "ofac-7203",
        "ofac-9647",
        "ofac-12927",
        "ofac-15036",
        "ofac-15436",
        "ofac-26137",
    }
    assert parsed.counts["entries"] == 7
    # Secondary entities carry their entry's id.
    entry_of = {e.proxy.id: e.entry_id for e in parsed.entities}
    assert entry_of["ofac-12927-sanction"] == "12927"
    assert entry_of["ofac-addr-20501"] == "12927"


def test_classic_maps_names_programs_and_sanction() -> None:
    parsed = CLASSIC.parse([SDN_XML])
    ents = by_id(parsed)
    mahan = ents["ofac-12927"]
    assert schema_of(parsed, "ofac-12927") == "Organization"
    assert mahan["name"] == ["MAHAN AIR"]
    assert mahan["alias"] == ["MAHAN AIR CO."]
    assert mahan["program"] == ["SDGT", "NPWMD", "IFSR"]
    assert mahan["addressEntity"] == ["ofac-addr-20501", "ofac-addr-20502"]
    sanction = ents["ofac-12927-sanction"]
    assert sanction["entity"] == ["ofac-12927"]
    assert sanction["program"] == ["SDGT", "NPWMD", "IFSR"]
    assert sanction["summary"] == [
        "Additional Sanctions Information: Subject to Secondary Sanctions"
    ]
    address = ents["ofac-addr-20501"]
    assert address["city"] == ["Tehran"] and address["postalCode"] == ["1481655761"]
    assert address["country"] == ["ir"]


def test_classic_person_details_and_documents() -> None:
    ents = by_id(CLASSIC.parse([SDN_XML]))
    aouadi = ents["ofac-7203"]
    assert aouadi["name"] == ["Mohamed Ben Belgacem AOUADI"]
    assert aouadi["firstName"] == ["Mohamed Ben Belgacem"]
    assert aouadi["lastName"] == ["AOUADI"]
    assert aouadi["birthDate"] == ["1974-12-11"]
    assert aouadi["birthPlace"] == ["Tunisia"]
    assert aouadi["nationality"] == ["tn"]
    assert aouadi["passportNumber"] == ["L 191609"]
    assert aouadi["taxNumber"] == ["DAOMMD74T11Z352Z"]
    passport = ents["ofac-7203-id-4164"]
    assert passport["holder"] == ["ofac-7203"]
    assert passport["startDate"] == ["1996-02-28"] and passport["endDate"] == ["2001-02-27"]
    assert passport["country"] == ["tn"]
    fiscal = ents["ofac-7203-id-4165"]
    assert fiscal["type"] == ["Italian Fiscal Code"]

    zahhar = ents["ofac-9647"]
    assert zahhar["weakAlias"] == ["Mahmoud ZAHAR", "Mahmoud AL-ZAHAR"]
    assert zahhar["alias"] == ["Mahmoud Khaled AL ZAHAR"]
    assert zahhar["birthDate"] == ["1945"]
    assert zahhar["gender"] == ["male"]
    assert zahhar["program"] == ["SDGT", "NS-PLC"]

    cyber = ents["ofac-26137"]
    assert cyber["email"] == ["iranvisacart@yahoo.com"]
    wallet = ents["ofac-26137-wallet-166503"]
    assert wallet["publicKey"] == ["149w62rY42aZBox8fGcmqNsXUzSStKeq8C"]
    assert wallet["currency"] == ["XBT"] and wallet["holder"] == ["ofac-26137"]


def test_classic_vessel_and_aircraft() -> None:
    parsed = CLASSIC.parse([SDN_XML])
    ents = by_id(parsed)
    vessel = ents["ofac-15036"]
    assert schema_of(parsed, "ofac-15036") == "Vessel"
    assert vessel["imoNumber"] == ["IMO9187629"]
    assert vessel["mmsi"] == ["572469210"]
    assert vessel["callSign"] == ["T2EU4"]
    assert vessel["flag"] == ["ir"]
    assert vessel["pastFlags"] == ["mt", "tv"]
    assert vessel["tonnage"] == ["99144"]
    assert vessel["grossRegisteredTonnage"] == ["56068"]
    assert vessel["previousName"] == ["ABADAN", "SHONA"]
    # "None Identified" is no country; it is kept, labelled, not dropped.
    assert "Former Vessel Flag: None Identified" in vessel["notes"]

    plane = ents["ofac-15436"]
    assert schema_of(parsed, "ofac-15436") == "Airplane"
    assert plane["model"] == ["A300B4-622R"]
    assert plane["serialNumber"] == ["838"]
    assert plane["buildDate"] == ["2002-08-28"]
    (operator_id,) = plane["operator"]
    assert ents[operator_id]["name"] == ["MAHAN AIR"]
    # The remark "Linked To: MAHAN AIR" resolves to the listed entry.
    link = ents["ofac-15436-link-12927"]
    assert link["subject"] == ["ofac-15436"] and link["object"] == ["ofac-12927"]


def test_classic_cons_xml_gets_its_own_sanction(tmp_path: Path) -> None:
    cons = variant(tmp_path, SDN_XML, "<uid>36</uid>", "<uid>36</uid>", name="cons.xml")
    ents = by_id(CLASSIC.parse([cons]))
    assert "ofac-36-sanction-cons" in ents
    assert ents["ofac-36-sanction-cons"]["description"] == ["Consolidated Sanctions List (non-SDN)"]


def test_classic_gzip_and_tempuri_namespace(tmp_path: Path) -> None:
    older = variant(
        tmp_path,
        SDN_XML,
        "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML",
        "http://tempuri.org/sdnList.xsd",
    )
    packed = tmp_path / "sdn.xml.gz"
    packed.write_bytes(gzip.compress(older.read_bytes()))
    assert CLASSIC.detect([packed])
    assert CLASSIC.parse([packed]).counts["entries"] == 7


# --- the advanced sdn_advanced.xml -----------------------------------------------------


def test_advanced_reads_parties_with_the_same_ids_as_classic() -> None:
    advanced = ADVANCED.parse([ADVANCED_XML])
    classic = CLASSIC.parse([SDN_XML])
    assert advanced.source == "ofac_advanced"
    assert advanced.version == "2023-12-28"
    adv, cls = by_id(advanced), by_id(classic)
    shared = {e.proxy.id for e in classic.entities if e.primary}
    assert shared <= {e.proxy.id for e in advanced.entities if e.primary}
    # The same entry read from either format has the same names, programs and ids.
    for entity_id in shared:
        assert adv[entity_id].get("name") == cls[entity_id].get("name"), entity_id
        assert sorted(adv[entity_id]["program"]) == sorted(cls[entity_id]["program"])
    for prop in ("imoNumber", "mmsi", "callSign", "flag", "pastFlags", "tonnage"):
        assert adv["ofac-15036"][prop] == cls["ofac-15036"][prop], prop
    for prop in ("birthDate", "nationality", "passportNumber", "taxNumber", "gender"):
        assert adv["ofac-7203"].get(prop) == cls["ofac-7203"].get(prop), prop


def test_advanced_sanctions_entries() -> None:
    ents = by_id(ADVANCED.parse([ADVANCED_XML]))
    sanction = ents["ofac-12927-sanction"]
    assert sanction["listingDate"] == ["2011-10-12"]
    assert sanction["reason"] == ["Executive Order 13224 (Terrorism)"]
    assert sanction["program"] == ["SDGT", "NPWMD", "IFSR"]
    assert sanction["description"] == ["SDN List"]
    assert sanction["summary"] == [
        "Additional Sanctions Information: Subject to Secondary Sanctions"
    ]
    assert ents["ofac-12927"]["createdAt"] == ["2011-10-12"]
    assert ents["ofac-36-sanction"]["provisions"] == ["Block"]


def test_advanced_names_features_and_documents() -> None:
    ents = by_id(ADVANCED.parse([ADVANCED_XML]))
    zahhar = ents["ofac-9647"]
    # The Arabic-script documented name is kept as an alias in its own script.
    assert "محمود خالد الزهار" in zahhar["alias"]
    assert zahhar["name"] == ["Mahmoud Khaled ZAHHAR"]
    assert zahhar["weakAlias"] == ["Mahmoud ZAHAR"]
    # A DatePeriod spanning one whole year is that year.
    assert zahhar["birthDate"] == ["1945"]
    nitc = ents["ofac-15117"]
    assert nitc["website"] == ["http://www.nitc.co.ir/"]
    assert nitc["idNumber"] == ["4891"]
    assert ents["ofac-15117-sanction"]["summary"] == [
        "IFCA Determination: Involved in the Shipping Sector"
    ]
    passport = ents["ofac-26137-id-166504"]
    assert passport["startDate"] == ["2008-10-28"] and passport["endDate"] == ["2013-10-29"]


def test_advanced_relationships() -> None:
    parsed = ADVANCED.parse([ADVANCED_XML])
    ents = by_id(parsed)
    link = ents["ofac-15036-rel-20150"]
    assert schema_of(parsed, "ofac-15036-rel-20150") == "Ownership"
    assert link["asset"] == ["ofac-15036"] and link["owner"] == ["ofac-15117"]
    assert link["role"] == ["Property in the interest of"]
    entry_of = {e.proxy.id: e.entry_id for e in parsed.entities}
    assert entry_of["ofac-15036-rel-20150"] == "15036"


def test_advanced_relation_that_does_not_fit_becomes_unknown_link(tmp_path: Path) -> None:
    # Hand-made: "Family member of" between a vessel and a company cannot be a Family.
    path = variant(
        tmp_path,
        ADVANCED_XML,
        'RelationTypeID="92122" RelationQualityID="1" Former="false" SanctionsEntryID="15036"',
        'RelationTypeID="15004" RelationQualityID="1" Former="true" SanctionsEntryID="15036"',
    )
    parsed = ADVANCED.parse([path])
    assert schema_of(parsed, "ofac-15036-rel-20150") == "UnknownLink"
    link = by_id(parsed)["ofac-15036-rel-20150"]
    assert link["role"] == ["Family member of"] and link["status"] == ["Former"]


def test_advanced_owned_organization_becomes_company(tmp_path: Path) -> None:
    # Hand-made: NITC "Owned or Controlled By" MAHAN AIR -> NITC is an Asset (Company).
    path = variant(
        tmp_path,
        ADVANCED_XML,
        'From-ProfileID="15436" To-ProfileID="12927" RelationTypeID="92122"',
        'From-ProfileID="15117" To-ProfileID="12927" RelationTypeID="15003"',
    )
    parsed = ADVANCED.parse([path])
    assert schema_of(parsed, "ofac-15117") == "Company"
    link = by_id(parsed)["ofac-15117-rel-20151"]
    assert link["asset"] == ["ofac-15117"] and link["owner"] == ["ofac-12927"]


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('LocationID="20501"', 'LocationID="99999"', "LocationID"),
        ('FeatureTypeID="704"', 'FeatureTypeID="7040"', "FeatureTypeID"),
        ('To-ProfileID="15117"', 'To-ProfileID="424242"', "To-ProfileID"),
        ('IdentityID="26137" IssuedBy', 'IdentityID="1" IssuedBy', "IdentityID"),
    ],
)
def test_advanced_broken_references_name_the_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    path = variant(tmp_path, ADVANCED_XML, old, new)
    with pytest.raises(ListFormatError) as err:
        ADVANCED.parse([path])
    assert err.value.field == field
    assert err.value.line is not None and err.value.path == str(path)


# --- bad input -----------------------------------------------------------------------------


def test_detection_by_root_and_namespace(tmp_path: Path) -> None:
    assert detect_parser([SDN_XML]).source == "ofac_sdn_xml"
    assert detect_parser([ADVANCED_XML]).source == "ofac_advanced"
    assert {p.source for p in PARSERS} == {"ofac_sdn_xml", "ofac_advanced"}
    wrong = variant(tmp_path, SDN_XML, "exports/XML", "exports/WRONG")
    assert not CLASSIC.detect([wrong])
    with pytest.raises(ListFormatError) as err:
        CLASSIC.parse([wrong])
    assert err.value.line == 2 and err.value.field == "sdnList"
    assert not CLASSIC.detect([ADVANCED_XML])
    with pytest.raises(ListFormatError, match="expected <sdnList>"):
        CLASSIC.parse([ADVANCED_XML])


def test_truncated_and_empty_files_fail_with_a_line(tmp_path: Path) -> None:
    data = SDN_XML.read_bytes()
    cut = tmp_path / "sdn.xml"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ListFormatError) as err:
        CLASSIC.parse([cut])
    assert "not well-formed XML" in err.value.message and err.value.line
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    with pytest.raises(ListFormatError):
        ADVANCED.parse([empty])
    latin1 = tmp_path / "latin1.xml"
    latin1.write_bytes(data.replace(b"Milano", "Mil\xe1no".encode("latin-1")))
    with pytest.raises(ListFormatError, match="encoding"):
        CLASSIC.parse([latin1])


def test_record_count_must_match(tmp_path: Path) -> None:
    # Hand-made: an entry dropped from a well-formed file is caught by Record_Count.
    path = variant(
        tmp_path, SDN_XML, "<Record_Count>7</Record_Count>", "<Record_Count>8</Record_Count>"
    )
    with pytest.raises(ListFormatError) as err:
        CLASSIC.parse([path])
    assert err.value.field == "Record_Count"


def test_missing_required_element_and_duplicate_entry(tmp_path: Path) -> None:
    path = variant(tmp_path, SDN_XML, "<sdnType>Vessel</sdnType>", "")
    with pytest.raises(ListFormatError) as err:
        CLASSIC.parse([path])
    assert err.value.field == "sdnType"
    dup = variant(tmp_path, SDN_XML, "<uid>7203</uid>", "<uid>36</uid>", name="dup.xml")
    with pytest.raises(ListFormatError, match="more than once"):
        CLASSIC.parse([dup])


def test_loads_into_the_store() -> None:
    store = Store(":memory:")
    try:
        for parsed in (CLASSIC.parse([SDN_XML]), ADVANCED.parse([ADVANCED_XML])):
            version, new = store.add_list_version(parsed)
            assert new and version.entity_count == parsed.primary_count
    finally:
        store.close()


# --- mutated excerpts: only ListFormatError or a valid result ------------------------------


@MUTATION_SETTINGS
@given(data=mutations(SDN_XML.read_bytes()))
def test_mutated_classic_excerpt(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "sdn.xml"
    path.write_bytes(data)
    parse_or_format_error(CLASSIC, path)


@MUTATION_SETTINGS
@given(data=mutations(ADVANCED_XML.read_bytes()))
def test_mutated_advanced_excerpt(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "sdn_advanced.xml"
    path.write_bytes(data)
    parse_or_format_error(ADVANCED, path)
