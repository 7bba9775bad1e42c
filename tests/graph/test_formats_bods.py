"""BODS reader: the standard's own examples and test statements (../shared/data), the
copies under tests/fixtures/graph/bods (a fresh clone), BODS 0.2/0.3 as JSON lines, and
malformed input (hypothesis)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from watchkeeper.errors import InputError
from watchkeeper.graph.formats import read_bods
from watchkeeper.graph.formats.bods import (
    DIRECTNESS,
    ENTITY_TYPES,
    INTEREST_KINDS,
    PERSON_TYPES,
    RECORD_STATUSES,
    UNSPECIFIED_REASONS,
)
from watchkeeper.graph.model import GraphBatch, Relation, Share

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graph" / "bods"


def relations(batch: GraphBatch, holder: str, held: str) -> list[Relation]:
    return [r for r in batch.relations if r.holder.endswith(holder) and r.held.endswith(held)]


# -- the copied examples: a fresh clone tests these ------------------------------------


def test_joint_ownership_is_an_arrangement_owned_half_and_half() -> None:
    batch = read_bods([FIXTURES / "joint-ownership.json"], "oo")
    names = {n.id: n.name for n in batch.nodes}
    assert names["oo:31c55e425764"] == "CHRINON LTD"
    assert len(batch.nodes) == 4 and len(batch.relations) == 3
    (whole,) = relations(batch, ":91b4236a7d89", ":31c55e425764")
    assert whole.kind == "ownership" and whole.share == Share.exact(1.0) and whole.direct is True
    assert whole.start == date(2018, 1, 1) and whole.end is None
    halves = [r for r in batch.relations if r.held == "oo:91b4236a7d89"]
    assert sorted(names[r.holder] for r in halves) == ["Natalie Coleman", "Roberto Lopez"]
    assert all(r.share == Share.exact(0.5) for r in halves)
    company = next(n for n in batch.nodes if n.id == "oo:31c55e425764")
    assert company.identifiers == {"registration": ("GB:07444723",)} and company.country == "gb"
    assert batch.replaced == set()
    assert all(r.source_ref.startswith("joint-ownership.json#") for r in batch.relations)


def test_fermcat_updates_replace_earlier_statements_and_closed_records_end() -> None:
    """Fermcat: two owners at 50%; one leaves on 2021-04-03 (record closed), a new owner
    comes and goes, the remaining owner ends at 100%."""
    batch = read_bods([FIXTURES / "fermcat.json"], "ie")
    current = [r for r in batch.relations if r.id not in batch.replaced]
    shares = sorted(
        (r.holder.split(":")[1], r.share.describe() if r.share else None, r.end)
        for r in current
        if r.kind == "ownership"
    )
    assert shares == [
        ("per-41c0bb0cef246f7c", "100%", None),  # Patrick O'Donohue, last statement
        ("per-5faa4103dee78621", "50%", date(2021, 4, 3)),  # Riyadh: closed, ended
        ("per-e334cc6258e56467", "50%", date(2022, 1, 21)),  # Declan: closed record
    ]
    # every earlier statement of a record is replaced, and its relations with it
    replaced_relations = [r for r in batch.relations if r.id in batch.replaced]
    assert len(replaced_relations) == 12 and len(current) == 5
    assert "ie:39a49605ec98e00f5b16a71c21164994" in batch.replaced  # first of rel-b05e...
    assert {r.kind for r in current} == {"ownership", "directorship"}  # boardMember
    assert batch.counts["closed_records"] == 4  # two people, two relationships
    # a person's tax id (IRL-TAXID) and the company's IRL-BAU register number
    company = next(n for n in batch.nodes if n.name == "Fermcat Ltd")
    assert company.identifiers == {"registration": ("IE:434151",)}
    riyadh = next(n for n in batch.nodes if n.name == "Riyadh Byrne-Amin")
    assert riyadh.identifiers == {"tax": ("7700225VH",)} and riyadh.country == "iq"


def test_listed_company_has_an_unknown_holder() -> None:
    batch = read_bods([FIXTURES / "listed-company-exempt-from-disclosure.json"], "x")
    (relation,) = batch.relations
    holder = next(n for n in batch.nodes if n.id == relation.holder)
    assert holder.unknown and "subjectExemptFromDisclosure" in holder.name
    assert relation.kind == "unknown_link" and relation.share is None  # no interests stated


def test_nomination_maps_nominee_nominator_board_and_indirect_control() -> None:
    batch = read_bods([FIXTURES / "nomination.json"], "mx")
    kinds = {r.interests[0]: (r.kind, r.direct) for r in batch.relations}
    assert kinds == {
        "nominator": ("control", True),
        "nominee": ("representation", True),
        "boardMember": ("directorship", True),
        "otherInfluenceOrControl": ("control", False),  # directOrIndirect: indirect
    }
    company = next(n for n in batch.nodes if n.name == "Los Corazones de Plata")
    assert company.identifiers == {"tax": ("CPL211105123",)}  # MX-RFC is a tax register
    assert company.schema == "Organization"  # legalEntity


def test_exclusive_bounds_are_kept() -> None:
    batch = read_bods([FIXTURES / "relationship_interests_share_exclusive_minmax.json"], "t")
    (relation,) = batch.relations
    assert relation.share == Share(0.25, 0.75, low_exclusive=True, high_exclusive=True)
    assert relation.share.describe() == ">25-<75%"
    assert relation.kind == "unknown_link"  # an interest with no type: unknownInterest


@pytest.mark.parametrize(
    ("name", "field"),
    [
        (
            "relationship_interests_share_exact_too_big.json",
            "$[0].recordDetails.interests[0].share.exact",
        ),
        ("statement_recordId_missing.json", "$[0].recordId"),
    ],
)
def test_copied_invalid_statements_are_refused_naming_the_field(name: str, field: str) -> None:
    with pytest.raises(InputError) as caught:
        read_bods([FIXTURES / name], "t")
    assert caught.value.field == field and caught.value.path == str(FIXTURES / name)


def test_bods_03_json_lines() -> None:
    """Hand-made: the joint-ownership example restated in 0.2/0.3 shape (statementID,
    describedBy..., interestLevel, boolean exclusive flags as the UK PSC register gives
    "more than 25% but not more than 50%", kebab-case 0.2 codes, replacesStatements,
    an unspecified holder)."""
    batch = read_bods([FIXTURES / "joint-ownership-0.3.jsonl"], "v3")
    arrangement = "v3:91b4236a7d89-arrangement-00000000001"
    natalie = [r for r in batch.relations if r.held == arrangement and "1accb8b18b99" in r.holder]
    assert [(r.kind, r.share) for r in natalie] == [
        ("ownership", Share(0.25, 0.5, low_exclusive=True)),
        ("voting", Share(0.25, 0.5, low_exclusive=True)),
    ]
    assert [r.id for r in natalie] == [
        "v3:a86c50f8b3dd-ooc-000000000000000001#0",
        "v3:a86c50f8b3dd-ooc-000000000000000001#1",
    ]
    assert batch.replaced == {
        "v3:b391a41da07e-ooc-000000000000000001",
        "v3:b391a41da07e-ooc-000000000000000001#0",
        "v3:1accb8b18b99-person-0000000000000001",
    }
    # Natalie restated (a new person statement replaces hers): her holdings follow
    assert {r.holder for r in natalie} == {"v3:1accb8b18b99-person-0000000000000002"}
    assert batch.counts["restated_parties"] == 2
    (ended,) = [r for r in batch.relations if r.id == "v3:b391a41da07e-ooc-000000000000000002#0"]
    assert ended.end == date(2019, 3, 1)  # "2019-02": the day after February
    unknown = [n for n in batch.nodes if n.unknown]
    assert len(unknown) == 1 and "successor" in unknown[0].name
    roberto = next(n for n in batch.nodes if n.id.endswith("f040df24d9ec-person-0000000000000001"))
    assert roberto.name == "Roberto Lopez"  # from givenName + familyName
    chrinon = next(n for n in batch.nodes if n.name == "CHRINON LTD")
    assert chrinon.country == "gb" and chrinon.identifiers == {"registration": ("GB:07444723",)}


def test_a_bad_json_line_is_named_by_its_line(tmp_path: Path) -> None:
    lines = (FIXTURES / "joint-ownership-0.3.jsonl").read_text().splitlines()
    lines[5] = lines[5].replace('"minimum": 25', '"minimum": "25"')
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as caught:
        read_bods([path], "t")
    assert caught.value.line == 6
    assert caught.value.field == "interests[0].share.minimum"


def test_noBeneficialOwners_makes_no_holder(tmp_path: Path) -> None:
    statement = {
        "statementID": "s-1",
        "statementType": "ownershipOrControlStatement",
        "subject": {"describedByEntityStatement": "e-1"},
        "interestedParty": {"unspecified": {"reason": "noBeneficialOwners"}},
    }
    path = tmp_path / "none.json"
    path.write_text(json.dumps([statement]))
    batch = read_bods([path], "t")
    assert batch.relations == [] and batch.counts["no_beneficial_owners"] == 1


# -- every file of the standard's examples and tests (../shared/data) -----------------

EXAMPLE_COUNTS = {  # file: (nodes, relations, replaced statement and relation ids)
    "joint-ownership.json": (4, 3, 0),
    "fermcat.json": (4, 17, 28),
    "tecido.json": (3, 18, 19),
    "nomination.json": (4, 4, 0),
    "listed-company-exempt-from-disclosure.json": (2, 1, 0),
    "mixed-direct-and-indirect-ownership.json": (3, 4, 0),
    "plc-entity-statement.json": (1, 0, 0),
}


def test_every_example_loads() -> None:
    folder = shared_path("ownership", "bods", "examples")
    files = sorted(folder.glob("*.json"))
    assert len(files) >= 19
    for path in files:
        batch = read_bods([path], "ex")
        assert batch.counts["placeholder_nodes"] == 0, path.name  # every party described
        if path.name in EXAMPLE_COUNTS:
            got = (len(batch.nodes), len(batch.relations), len(batch.replaced))
            assert got == EXAMPLE_COUNTS[path.name], path.name


def test_every_valid_test_statement_loads() -> None:
    folder = shared_path("ownership", "bods", "tests", "data", "valid-statements")
    files = sorted(folder.glob("*.json"))
    assert len(files) == 111
    for path in files:
        batch = read_bods([path], "ok")
        assert batch.counts["statements"] >= 1, path.name


# The standard's invalid statements, one by one. REJECTED: the reader uses the field,
# so it refuses the file naming it. READABLE: schema-invalid in something the graph does
# not read (or reads leniently, as said), so the statement loads; a BODS validator
# (lib-cove-bods) is the place to report those.
ADDRESS = "addresses and places are not read"
UNREAD_ENTITY = "founding/dissolution dates, statutes, alternate names and URIs are not read"
LISTING = "public listings are not read"
SUBTYPE = "entity subtypes and their details are not read (the type is)"
UNSPECIFIED_DETAILS = "an unknown party's details only label it"
PEP = "political exposure is not read"
UNREAD_PERSON = "birth/death dates, tax residencies and name types are not read"
PUBLICATION = "publication details are not read"
COMPONENTS = "componentRecords are not read (directOrIndirect is)"
UNREAD_INTEREST = "beneficialOwnershipOrControl and interest details text are not read as typed"
ANNOTATIONS = "annotations are not read"
PROVENANCE = "the statement's source block is not read (source_ref is file#statementId)"
DECLARATION = "declarations are not read"
IS_COMPONENT = "isComponent is not read"
ID_LENGTH = "statementId length is not enforced (any non-empty string joins statements)"
STATEMENT_DATE = "statementDate is optional to the graph (only dates a closed record)"
PARTIAL_DATE = "partial dates (YYYY, YYYY-MM) are read as FtM dates are (see parse_date)"
ENTITY_TYPE_STRING = "a 0.2/0.3-style entityType string is read as its code"
JURISDICTION_NAME = "the jurisdiction code is read, not its name"
NAME_PARTS = "a name without fullName is made of its parts"
ONE_STATEMENT = "one statement alone (not in an array) is read as a one-statement file"

REJECTED = {
    "entity_identifiers_id_number.json": "$[0].recordDetails.identifiers[0].id",
    "entity_identifiers_no_scheme_info.json": "$[0].recordDetails.identifiers[0].scheme",
    "entity_identifiers_not_array.json": "$[0].recordDetails.identifiers",
    "entity_identifiers_not_objects.json": "$[0].recordDetails.identifiers[0]",
    "entity_identifiers_schemeName_number.json": "$[0].recordDetails.identifiers[0].schemeName",
    "entity_jurisdiction_code_1char.json": "$[0].recordDetails.jurisdiction.code",
    "entity_jurisdiction_code_3chars.json": "$[0].recordDetails.jurisdiction.code",
    "entity_jurisdiction_not_object.json": "$[0].recordDetails.jurisdiction",
    "entity_name_not_string.json": "$[0].recordDetails.name",
    "entity_type_no_entity_type.json": "$[0].recordDetails.entityType",
    "entity_type_notype.json": "$[0].recordDetails.entityType.type",
    "entity_type_type_not_codelist.json": "$[0].recordDetails.entityType.type",
    "person_identifiers_not_array.json": "$[0].recordDetails.identifiers",
    "person_identifiers_not_object.json": "$[0].recordDetails.identifiers[0]",
    "person_names_familyName_string.json": "$[0].recordDetails.names[0].familyName",
    "person_names_fullName_string.json": "$[0].recordDetails.names[0].fullName",
    "person_names_givenName_string.json": "$[0].recordDetails.names[0].givenName",
    "person_names_not_array.json": "$[0].recordDetails.names",
    "person_names_not_objects.json": "$[0].recordDetails.names[0]",
    "person_names_patronymic.json": "$[0].recordDetails.names[0].patronymicName",
    "person_type_missing.json": "$[0].recordDetails.personType",
    "person_type_not_codelist.json": "$[0].recordDetails.personType",
    "relationship_interestedParty_missing.json": "$[0].recordDetails.interestedParty",
    "relationship_interested_party_invalid_type.json": "$[0].recordDetails.interestedParty",
    "relationship_interests_direct_indirect_code.json": "$[0].recordDetails.interests[0].directOrIndirect",
    "relationship_interests_end_date_string.json": "$[0].recordDetails.interests[0].endDate",
    "relationship_interests_exclusive_max_negative.json": "$[0].recordDetails.interests[0].share.exclusiveMaximum",
    "relationship_interests_exclusive_max_too_big.json": "$[0].recordDetails.interests[0].share.exclusiveMaximum",
    "relationship_interests_exclusive_min_negative.json": "$[0].recordDetails.interests[0].share.exclusiveMinimum",
    "relationship_interests_exclusive_min_too_big.json": "$[0].recordDetails.interests[0].share.exclusiveMinimum",
    "relationship_interests_no_array.json": "$[0].recordDetails.interests",
    "relationship_interests_share_exact_too_big.json": "$[0].recordDetails.interests[0].share.exact",
    "relationship_interests_share_exact_too_small.json": "$[0].recordDetails.interests[0].share.exact",
    "relationship_interests_share_maximum_too_big.json": "$[0].recordDetails.interests[0].share.maximum",
    "relationship_interests_share_maximum_too_small.json": "$[0].recordDetails.interests[0].share.maximum",
    "relationship_interests_share_minimum_too_big.json": "$[0].recordDetails.interests[0].share.minimum",
    "relationship_interests_share_minimum_too_small.json": "$[0].recordDetails.interests[0].share.minimum",
    "relationship_interests_share_not_object.json": "$[0].recordDetails.interests[0].share",
    "relationship_interests_share_startDate_format.json": "$[0].recordDetails.interests[0].startDate",
    "relationship_interests_type_code.json": "$[0].recordDetails.interests[0].type",
    "relationship_subject_invalid_type.json": "$[0].recordDetails.subject",
    "relationship_subject_missing.json": "$[0].recordDetails.subject",
    "statement_recordDetails_missing.json": "$[0].recordDetails",
    "statement_recordDetails_no_object.json": "$[0].recordDetails",
    "statement_recordId_missing.json": "$[0].recordId",
    "statement_recordId_string.json": "$[0].recordId",
    "statement_recordStatus_code.json": "$[0].recordStatus",
    "statement_recordType_code.json": "$[0].recordType",
    "statement_statementDate_not_string.json": "$[0].statementDate",
    "statement_statementId_missing.json": "$[0].statementId",
    "statement_statementId_not_string.json": "$[0].statementId",
}
READABLE = {
    "entity_addressType_placeOfBirth.json": ADDRESS,
    "entity_address_country_code_1chars.json": ADDRESS,
    "entity_address_country_code_3chars.json": ADDRESS,
    "entity_address_country_name_not_string.json": ADDRESS,
    "entity_address_country_no_name.json": ADDRESS,
    "entity_address_country_no_object.json": ADDRESS,
    "entity_address_not_string.json": ADDRESS,
    "entity_addresses_not_array.json": ADDRESS,
    "entity_addresses_not_object.json": ADDRESS,
    "entity_addresses_type.json": ADDRESS,
    "entity_alternate_names_not_array.json": UNREAD_ENTITY,
    "entity_alternate_names_not_strings.json": UNREAD_ENTITY,
    "entity_dissolution_date_number.json": UNREAD_ENTITY,
    "entity_dissolution_date_string.json": UNREAD_ENTITY,
    "entity_formed_by_statute_date_number.json": UNREAD_ENTITY,
    "entity_formed_by_statute_date_year_only.json": UNREAD_ENTITY,
    "entity_formed_by_statute_name_number.json": UNREAD_ENTITY,
    "entity_formed_by_statute_string.json": UNREAD_ENTITY,
    "entity_founding_date_not_date.json": UNREAD_ENTITY,
    "entity_founding_date_not_string.json": UNREAD_ENTITY,
    "entity_identifiers_uri_format.json": UNREAD_ENTITY,
    "entity_isComponent_missing.json": IS_COMPONENT,
    "entity_isComponent_not_boolean.json": IS_COMPONENT,
    "entity_jurisdiction_missing_name.json": JURISDICTION_NAME,
    "entity_jurisdiction_name_number.json": JURISDICTION_NAME,
    "entity_missing_declarationSubject.json": DECLARATION,
    "entity_postcode_not_string.json": ADDRESS,
    "entity_public_listing_company_filings_not_array.json": LISTING,
    "entity_public_listing_company_filings_not_string.json": LISTING,
    "entity_public_listing_company_filings_not_uri.json": LISTING,
    "entity_public_listing_has_public_listing_missing.json": LISTING,
    "entity_public_listing_has_public_listing_not_bool.json": LISTING,
    "entity_public_listing_not_object.json": LISTING,
    "entity_recordDetails_missing_isComponent.json": IS_COMPONENT,
    "entity_security_MIC_string.json": LISTING,
    "entity_security_OMIC_string.json": LISTING,
    "entity_security_id_number.json": LISTING,
    "entity_security_idscheme_wrong_code.json": LISTING,
    "entity_security_listing_no_jurisdiction.json": LISTING,
    "entity_security_listing_no_security.json": LISTING,
    "entity_security_listing_no_stock_exchange.json": LISTING,
    "entity_security_listing_no_ticker.json": LISTING,
    "entity_security_listing_not_array.json": LISTING,
    "entity_security_listing_string.json": LISTING,
    "entity_security_stock_jurisdiction_not_string.json": LISTING,
    "entity_security_stock_jurisdiction_too_long.json": LISTING,
    "entity_security_stock_jurisdiction_too_short.json": LISTING,
    "entity_security_stock_name_string.json": LISTING,
    "entity_security_ticker_number.json": LISTING,
    "entity_statementDate_format.json": PARTIAL_DATE,
    "entity_statementDate_missing.json": STATEMENT_DATE,
    "entity_type_details_number.json": SUBTYPE,
    "entity_type_governmentDepartment_arrangement.json": SUBTYPE,
    "entity_type_nomination_unknown.json": SUBTYPE,
    "entity_type_not_object.json": ENTITY_TYPE_STRING,
    "entity_type_state_stateAgency.json": SUBTYPE,
    "entity_type_subtype_not_codelist.json": SUBTYPE,
    "entity_type_trust_registeredentity.json": SUBTYPE,
    "entity_unspecified_entity_description_not_string.json": UNSPECIFIED_DETAILS,
    "entity_unspecified_entity_details_not_object.json": UNSPECIFIED_DETAILS,
    "entity_unspecified_entity_no_reason.json": UNSPECIFIED_DETAILS,
    "entity_unspecified_entity_reason_not_codelist.json": UNSPECIFIED_DETAILS,
    "entity_uri_format.json": UNREAD_ENTITY,
    "entity_uri_string.json": UNREAD_ENTITY,
    "person_PepStatusDetails_endDate_string.json": PEP,
    "person_PepStatusDetails_jurisdiction_no_object.json": PEP,
    "person_PepStatusDetails_missingInfoReason_string.json": PEP,
    "person_PepStatusDetails_reason.json": PEP,
    "person_PepStatusDetails_source_no_object.json": PEP,
    "person_PepStatusDetails_startDate_string.json": PEP,
    "person_addresses_birthplace.json": ADDRESS,
    "person_addresses_no_array.json": ADDRESS,
    "person_addresses_type.json": ADDRESS,
    "person_birth_date_number.json": UNREAD_PERSON,
    "person_birth_place_not_object.json": ADDRESS,
    "person_death_date_number.json": UNREAD_PERSON,
    "person_isComponent_missing.json": IS_COMPONENT,
    "person_iscomponent_not_bool.json": IS_COMPONENT,
    "person_names_fullName_missing.json": NAME_PARTS,
    "person_names_type_code.json": UNREAD_PERSON,
    "person_politicalExposure_details_not_array.json": PEP,
    "person_politicalExposure_no_object.json": PEP,
    "person_politicalExposure_no_status.json": PEP,
    "person_politicalExposure_status_code.json": PEP,
    "person_taxResidencies_no_object.json": UNREAD_PERSON,
    "person_unspecified_person_details_not_object.json": UNSPECIFIED_DETAILS,
    "publication_details_date_not_date.json": PUBLICATION,
    "publication_details_date_not_string.json": PUBLICATION,
    "publication_details_license_not_string.json": PUBLICATION,
    "publication_details_license_not_uri.json": PUBLICATION,
    "publication_details_not_object.json": PUBLICATION,
    "publication_details_publisher_name_not_string.json": PUBLICATION,
    "publication_details_publisher_no_bods_version.json": PUBLICATION,
    "publication_details_publisher_no_name_url.json": PUBLICATION,
    "publication_details_publisher_no_publication_date.json": PUBLICATION,
    "publication_details_publisher_no_publisher.json": PUBLICATION,
    "publication_details_publisher_not_object.json": PUBLICATION,
    "publication_details_publisher_url_not_string.json": PUBLICATION,
    "publication_details_publisher_url_not_uri.json": PUBLICATION,
    "publication_details_version_not_string.json": PUBLICATION,
    "publication_details_version_not_version.json": PUBLICATION,
    "relationship_component_records_not_array.json": COMPONENTS,
    "relationship_component_records_not_string.json": COMPONENTS,
    "relationship_component_records_true.json": COMPONENTS,
    "relationship_interests_beneficialOwnershipOrControl_not_boolean.json": UNREAD_INTEREST,
    "relationship_interests_details_string.json": UNREAD_INTEREST,
    "relationship_interests_end_date_dateformat.json": PARTIAL_DATE,
    "relationship_isComponent_missing.json": IS_COMPONENT,
    "relationship_isComponent_not_boolean.json": IS_COMPONENT,
    "statement_annotations.statementPointerTarget_missing.json": ANNOTATIONS,
    "statement_annotations_createdBy_name_string.json": ANNOTATIONS,
    "statement_annotations_createdBy_no_object.json": ANNOTATIONS,
    "statement_annotations_createdBy_uri.json": ANNOTATIONS,
    "statement_annotations_creationDate.json": ANNOTATIONS,
    "statement_annotations_description_not_string.json": ANNOTATIONS,
    "statement_annotations_motivation_code.json": ANNOTATIONS,
    "statement_annotations_motivation_missing.json": ANNOTATIONS,
    "statement_annotations_not_array.json": ANNOTATIONS,
    "statement_annotations_not_object.json": ANNOTATIONS,
    "statement_annotations_statementPointerTarget_type.json": ANNOTATIONS,
    "statement_annotations_transformedContent_not_string.json": ANNOTATIONS,
    "statement_annotations_transformedContent_wrong_motivation.json": ANNOTATIONS,
    "statement_annotations_url_format.json": ANNOTATIONS,
    "statement_annotations_url_linking_missing.json": ANNOTATIONS,
    "statement_declarationSubject_missing.json": DECLARATION,
    "statement_declarationSubject_string.json": DECLARATION,
    "statement_declaration_not_string.json": DECLARATION,
    "statement_source_assertedBy_name_string.json": PROVENANCE,
    "statement_source_assertedBy_not_array.json": PROVENANCE,
    "statement_source_assertedBy_uri.json": PROVENANCE,
    "statement_source_description_string.json": PROVENANCE,
    "statement_source_no_object.json": PROVENANCE,
    "statement_source_retrievedAt_date.json": PROVENANCE,
    "statement_source_type_code.json": PROVENANCE,
    "statement_source_type_not_array.json": PROVENANCE,
    "statement_source_url.json": PROVENANCE,
    "statement_statementDate_missing.json": STATEMENT_DATE,
    "statement_statementDate_not_date_string.json": PARTIAL_DATE,
    "statement_statementId_too_long.json": ID_LENGTH,
    "statement_statementId_too_short.json": ID_LENGTH,
    "statements_not_array.json": ONE_STATEMENT,
}


def test_every_invalid_test_statement_is_refused_or_read_as_the_table_says() -> None:
    folder = shared_path("ownership", "bods", "tests", "data", "invalid-statements")
    files = {p.name for p in folder.glob("*.json")}
    assert files == set(REJECTED) | set(READABLE)  # a new file needs a decision
    assert not set(REJECTED) & set(READABLE)
    for name, field in REJECTED.items():
        with pytest.raises(InputError) as caught:
            read_bods([folder / name], "bad")
        assert caught.value.field == field, name
        assert caught.value.path == str(folder / name)
    for name in READABLE:
        assert read_bods([folder / name], "ok").counts["statements"] == 1, name


def test_refusals_agree_with_the_standards_expected_errors() -> None:
    """Where a file is refused, the field named is the one the standard's own test
    table names, or a field inside it (a missing property is named, not its parent)."""
    folder = shared_path("ownership", "bods", "tests", "data", "invalid-statements")
    expected = {}
    for line in (folder / "expected_errors.csv").read_text().splitlines():
        cells = line.split(",")
        expected[cells[0].strip()] = cells[2]
    for name, field in REJECTED.items():
        assert field.startswith(expected[name]), (name, field, expected[name])


# -- malformed input ------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
_BASE = json.loads((FIXTURES / "joint-ownership.json").read_text())
_BASE_03 = [
    json.loads(line) for line in (FIXTURES / "joint-ownership-0.3.jsonl").read_text().splitlines()
]


def _paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


_PATHS = [("0.4", *p) for p in _paths(_BASE)[1:]] + [("0.3", *p) for p in _paths(_BASE_03)[1:]]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(where=st.sampled_from(_PATHS), value=_JSON, drop=st.booleans())  # (version, *path)
def test_damaged_statements_give_input_error_or_a_clean_batch(
    tmp_path: Path, where: tuple[object, ...], value: object, drop: bool
) -> None:
    """Any field of a real 0.4 package (or of the 0.3 JSON-lines case) replaced by any
    JSON value (or removed): the reader refuses it with an InputError naming the file,
    or reads a consistent batch."""
    version, *where = where
    statements = json.loads(json.dumps(_BASE if version == "0.4" else _BASE_03))
    parent = statements
    for key in where[:-1]:
        parent = parent[key]  # type: ignore[index]
    if drop and isinstance(parent, dict):
        del parent[where[-1]]
    else:
        parent[where[-1]] = value  # type: ignore[index]
    path = tmp_path / "damaged.json"
    if version == "0.4":
        path.write_text(json.dumps(statements))
    else:
        path.write_text("\n".join(json.dumps(s) for s in statements))
    try:
        batch = read_bods([path], "h")
    except InputError as exc:
        assert exc.path == str(path)
        return
    ids = {n.id for n in batch.nodes}
    assert all(r.holder in ids and r.held in ids for r in batch.relations)
    assert all(0.0 <= r.share.low <= r.share.high <= 1.0 for r in batch.relations if r.share)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_any_bytes_give_input_error_or_a_batch(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.json"
    path.write_bytes(data)
    try:
        read_bods([path], "h")
    except InputError as exc:
        assert exc.path == str(path)


@pytest.mark.parametrize(
    ("codelist", "known"),
    [
        ("interestType.csv", set(INTEREST_KINDS)),
        ("entityType.csv", ENTITY_TYPES),
        ("personType.csv", PERSON_TYPES),
        ("unspecifiedReason.csv", UNSPECIFIED_REASONS),
        ("recordStatus.csv", RECORD_STATUSES),
        ("directOrIndirect.csv", set(DIRECTNESS)),
    ],
)
def test_every_code_of_the_standards_codelists_is_known(codelist: str, known: set[str]) -> None:
    """A code the standard adds must get a decision here (a kind, a type), not an error."""
    path = shared_path("ownership", "bods", "schema", "codelists", codelist)
    with path.open(encoding="utf-8") as handle:
        codes = {row["code"] for row in csv.DictReader(handle)}
    assert codes and codes <= known, codes - known


def test_a_closed_record_without_a_date_leaves_the_current_graph(tmp_path: Path) -> None:
    statements = json.loads((FIXTURES / "joint-ownership.json").read_text())
    closing = json.loads(json.dumps(statements[2]))  # the arrangement's 100% of Chrinon
    closing.update(statementId="closing-statement-without-a-date-0001", recordStatus="closed")
    del closing["statementDate"]
    path = tmp_path / "closed.json"
    path.write_text(json.dumps([*statements, closing]))
    batch = read_bods([path], "t")
    current = [r for r in batch.relations if r.id not in batch.replaced]
    assert [r.held for r in current] == ["t:91b4236a7d89", "t:91b4236a7d89"]  # the halves
    assert "t:closing-statement-without-a-date-0001#0" in batch.replaced
