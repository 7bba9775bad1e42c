"""EU Financial Sanctions Files XML parser.

No real FSF file is available here: the tests run on a hand-built excerpt
(tests/fixtures/lists/eu_fsf.xml, real published entries written to the
xmlFullSanctionsList_1_1 export schema; see the README there). Variants made in a
test by editing the excerpt are hand-made edge cases.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.eu_fsf import PARSERS, EuFsfParser
from watchkeeper.lists.registry import detect_parser
from watchkeeper.store import Store

from ._helpers import FIXTURES, by_id, variant
from ._mutate import MUTATION_SETTINGS, mutations, parse_or_format_error

FIXTURE = FIXTURES / "eu_fsf.xml"
PARSER = EuFsfParser()


def test_entries_ids_and_version() -> None:
    parsed = PARSER.parse([FIXTURE])
    assert parsed.source == "eu_fsf" and [p.source for p in PARSERS] == ["eu_fsf"]
    assert parsed.version == "2026-08-05"
    assert {e.proxy.id for e in parsed.entities if e.primary} == {
        "eu-fsf-13",
        "eu-fsf-20",
        "eu-fsf-6177",
        "eu-fsf-6428",
        "eu-fsf-3745",
    }
    schemas = {e.proxy.id: e.proxy.schema.name for e in parsed.entities}
    assert schemas["eu-fsf-13"] == "Person" and schemas["eu-fsf-6428"] == "Organization"
    entry_of = {e.proxy.id: e.entry_id for e in parsed.entities}
    assert entry_of["eu-fsf-6177-id-564"] == "6177"


def test_person_names_birth_and_citizenship() -> None:
    ents = by_id(PARSER.parse([FIXTURE]))
    saddam = ents["eu-fsf-13"]
    assert saddam["name"] == ["Saddam Hussein Al-Tikriti"]
    assert saddam["alias"] == ["Abu Ali", "Abou Ali"]
    assert saddam["birthDate"] == ["1937-04-28"]
    assert saddam["birthPlace"] == ["al-Awja, near Tikrit, IRAQ"]
    assert saddam["nationality"] == ["iq"] and saddam["gender"] == ["male"]
    assert "UNSC RESOLUTION 1483" in saddam["notes"]
    # Two year-only birth dates; the UNKNOWN country is no country.
    qusay = ents["eu-fsf-20"]
    assert sorted(qusay["birthDate"]) == ["1965", "1966"]
    assert "birthCountry" not in qusay
    assert qusay["position"] == [
        "Oversaw Special Republican Guard, Special Security Organisation, and Republican Guard"
    ]
    asiri = ents["eu-fsf-6177"]
    # The listing name is the strong Latin alias with the function, not the first alias.
    assert asiri["name"] == ["Ibrahim Hassan Tali Al-Asiri"]
    assert "إبراهيم حسن طالع عسيري" in asiri["alias"]
    assert asiri["weakAlias"] == ["Abu-Salaah"]  # remarked "low quality alias"
    assert asiri["birthDate"] == ["1982-04-19"]
    assert "Date of birth (islamic calendar): 1402-6-24" in asiri["notes"]


def test_identifications_addresses_and_sanctions() -> None:
    ents = by_id(PARSER.parse([FIXTURE]))
    passport = ents["eu-fsf-6177-id-564"]
    assert passport["number"] == ["F654645"]
    assert passport["startDate"] == ["2005-04-30"] and passport["endDate"] == ["2010-03-07"]
    assert "flag: knownExpired" in passport["summary"][0]
    assert ents["eu-fsf-6177"]["passportNumber"] == ["F654645"]
    assert ents["eu-fsf-6177-id-565"]["type"] == ["National identification card"]
    address = ents["eu-fsf-6428-addr-177674"]
    assert address["city"] == ["Teheran"] and address["postOfficeBox"] == ["14316"]
    assert address["country"] == ["ir"]
    assert address["remarks"] == ["Principal place of business: Tehran, Iran"]
    # "-" is no registration number: the identification is kept as a note.
    assert any(n.startswith("Registration Number:") for n in ents["eu-fsf-6428"]["notes"])
    # FtM rejects this phone number; it is kept, labelled.
    assert "Phone: +253 (0) 99 983 784" in ents["eu-fsf-3745"]["notes"]
    sanction = ents["eu-fsf-6428-sanction-216042"]
    assert sanction["program"] == ["IRN"]
    assert sanction["authorityId"] == ["EU.2417.3"]
    assert sanction["startDate"] == ["2011-05-23"]
    assert sanction["listingDate"] == ["2025-07-28"]
    assert sanction["reason"] == ["2025/1559 (OJ L202501559)"]
    assert ents["eu-fsf-6428"]["createdAt"] == ["2011-05-23"]
    # Without a designationDate the regulation's entry into force is the start.
    assert ents["eu-fsf-13-sanction-348"]["startDate"] == ["2003-07-07"]


def test_detection_and_wrong_namespace(tmp_path: Path) -> None:
    assert detect_parser([FIXTURE]).source == "eu_fsf"
    wrong = variant(
        tmp_path, FIXTURE, "http://eu.europa.ec/fpi/fsd/export", "http://example.org/other"
    )
    assert not PARSER.detect([wrong])
    with pytest.raises(ListFormatError) as err:
        PARSER.parse([wrong])
    assert err.value.field == "export" and err.value.line == 2


def test_bad_files(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    cut = tmp_path / "cut.xml"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(ListFormatError) as err:
        PARSER.parse([cut])
    assert err.value.line is not None
    no_type = variant(
        tmp_path, FIXTURE, '<subjectType code="enterprise" classificationCode="E"/>', ""
    )
    with pytest.raises(ListFormatError) as err:
        PARSER.parse([no_type])
    assert err.value.field == "subjectType"
    empty_list = tmp_path / "empty_list.xml"
    empty_list.write_text(
        '<export xmlns="http://eu.europa.ec/fpi/fsd/export" generationDate="2026-08-05"/>'
    )
    with pytest.raises(ListFormatError, match="no <sanctionEntity>"):
        PARSER.parse([empty_list])


def test_loads_into_the_store() -> None:
    parsed = PARSER.parse([FIXTURE])
    store = Store(":memory:")
    try:
        version, new = store.add_list_version(parsed)
        assert new and version.entity_count == 5
    finally:
        store.close()


@MUTATION_SETTINGS
@given(data=mutations(FIXTURE.read_bytes()))
def test_mutated_excerpt(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("m") / "eu.xml"
    path.write_bytes(data)
    parse_or_format_error(PARSER, path)
