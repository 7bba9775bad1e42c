"""OFAC advanced XML (``sdn_advanced.xml``, ``cons_advanced.xml``), and the OFAC mapping
of id types and features that the classic ``sdn.xml`` parser shares.

Written to OFAC's published ``ADVANCED_XML.xsd`` (the UN "Sanctions List Data Standard"
layout; document element ``Sanctions`` in the namespace
``https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML``,
or ``http://www.un.org/sanctions/1.0`` in files published before 2024). Its sections,
in schema order: ``DateOfIssue``, ``ReferenceValueSets`` (every coded value: alias
types, name part types, countries, feature types, document types, relation types,
lists, sanctions types...), ``Locations``, ``IDRegDocuments``, ``DistinctParties``
(one ``DistinctParty`` with ``Profile``/``Identity``/``Alias``/``Feature`` per listed
party), ``ProfileRelationships`` and ``SanctionsEntries``. Coded values are resolved by
their text in the file's own ``ReferenceValueSets``, never by hard-coded numbers.

The file is streamed: references, locations and documents are kept as small records,
each ``DistinctParty`` becomes an entity as soon as it is read, and relationships and
sanctions entries are attached to those entities afterwards. An id that points at
nothing (a location, a reference value, a profile) is a format error, not a silent gap.

Entity ids: ``ofac-<FixedRef>`` for each party (FixedRef is the uid of sdn.xml and the
ent_num of the legacy CSV), ``ofac-<FixedRef>-sanction`` for its SDN List entry and
``-sanction-cons`` for a non-SDN list entry (as the CSV parser names them),
``ofac-addr-<Location ID>`` (the ``Add_num`` of add.csv), ``ofac-<FixedRef>-id-<IDRegDocument
ID>``, ``ofac-<From FixedRef>-rel-<ProfileRelationship ID>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from followthemoney import model

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import EntityProxy, ParsedList, make_entity
from watchkeeper.lists.common import (
    Element,
    EntityBag,
    clean_text,
    iso_prefix,
    key_of,
    line_of,
    localname,
    note,
    parse_publication,
    put,
    put_all,
    put_date,
    require_attr,
    secondary,
    stream_records,
    text_of,
    xml_roots_are,
)

AUTHORITY = "US Office of Foreign Assets Control (OFAC)"

# OFAC's party words (sdnType, PartyType / PartySubType) -> FtM schema.
SDN_TYPES = {
    "individual": "Person",
    "entity": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
}


def ofac_id(uid: str) -> str:
    """The entity id of an OFAC entry: the same number in every OFAC format."""
    return f"ofac-{uid}"


# --- identity documents and features (shared with the classic sdn.xml parser) -------------


@dataclass(frozen=True)
class IdRule:
    """Where one OFAC id type / feature type goes.

    ``prop`` is a property of the listed entity; ``document`` makes an Identification
    or Passport entity as well; ``sanction`` puts the value on the entry's Sanction
    (``summary``, ``startDate``, ``listingDate``); ``kind`` marks values that become
    their own entity (``owner``, ``operator``, ``wallet``, ``security``) or are dates.
    """

    prop: str | None = None
    document: str | None = None
    sanction: str | None = None
    kind: str | None = None


_PASSPORTS = (
    "Passport",
    "Diplomatic Passport",
    "British National Overseas Passport",
    "Stateless Person Passport",
)
_TAX_IDS = (
    "Tax ID No.",
    "RUC #",
    "R.F.C.",
    "RFC",
    "Italian Fiscal Code",
    "RIF #",
    "RTN",
    "Fiscal Code",
    "Paraguayan tax identification number",
    "Romanian Tax Registration",
    "C.I.F.",
    "N.I.F.",
    "NIT #",
)
_REGISTRATIONS = (
    "Commercial Registry Number",
    "Registration Number",
    "Registered Charity No.",
    "Registration ID",
    "Company Number",
    "Business Registration Document #",
    "Matricula Mercantil No",
    "Dubai Chamber of Commerce Membership No.",
    "Business Registration Number",
    "UK Company Number",
    "Certificate of Incorporation Number",
    "Business Number",
    "Public Registration Number",
    "Chinese Commercial Code",
    "C.R. No.",
    "Chamber of Commerce Number",
    "Enterprise Number",
    "Istanbul Chamber of Comm. No.",
    "RSIN",
    "Organization Code",
    "Economic Register Number (CBLS)",
    "Unified Social Credit Code (USCC)",
    "United Social Credit Code Certificate (USCCC)",
    "Government Gazette Number",
    "Folio Mercantil No.",
    "Central Registration System Number",
    "Romanian C.R.",
)
_SANCTION_SUMMARIES = (
    "Additional Sanctions Information -",
    "Secondary sanctions risk:",
    "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions:",
    "CAATSA Section 235 Information:",
    "IFCA Determination -",
    "PEESA Information:",
    "Executive Order 13662 Directive Determination -",
    "Executive Order 13846 information:",
    "Executive Order 14014 Directive Information:",
    "Executive Order 14024 Directive Information",
    "Executive Order 14024 Directive Information -",
)

ID_RULES: dict[str, IdRule] = {
    **{t: IdRule(prop="passportNumber", document="Passport") for t in _PASSPORTS},
    **{t: IdRule(prop="taxNumber", document="Identification") for t in _TAX_IDS},
    **{t: IdRule(prop="registrationNumber", document="Identification") for t in _REGISTRATIONS},
    **{t: IdRule(sanction="summary") for t in _SANCTION_SUMMARIES},
    "Legal Entity Number": IdRule(prop="leiCode", document="Identification"),
    "LE Number": IdRule(prop="leiCode", document="Identification"),
    "V.A.T. Number": IdRule(prop="vatCode", document="Identification"),
    "Vessel Registration Identification": IdRule(prop="imoNumber"),
    "MMSI": IdRule(prop="mmsi"),
    "Aircraft Serial Identification": IdRule(prop="serialNumber"),
    "SWIFT/BIC": IdRule(prop="swiftBic"),
    "Website": IdRule(prop="website"),
    "Email Address": IdRule(prop="email"),
    "Phone Number": IdRule(prop="phone"),
    "Gender": IdRule(prop="gender"),
    "Title": IdRule(prop="position"),
    "D-U-N-S Number": IdRule(prop="dunsCode"),
    "BIK (RU)": IdRule(prop="bikCode"),
    "Organization Type:": IdRule(prop="sector"),
    "Organization Established Date": IdRule(prop="incorporationDate", kind="date"),
    "Target Type": IdRule(prop="legalForm"),
    "Nationality Country": IdRule(prop="nationality"),
    "Citizenship Country": IdRule(prop="citizenship"),
    "Nationality of Registration": IdRule(prop="jurisdiction"),
    "Registration Country": IdRule(prop="jurisdiction"),
    "Vessel Flag": IdRule(prop="flag"),
    "Former Vessel Flag": IdRule(prop="pastFlags"),
    "Other Vessel Flag": IdRule(prop="pastFlags"),
    "VESSEL TYPE": IdRule(prop="type"),
    "Vessel Type": IdRule(prop="type"),
    "Other Vessel Type": IdRule(prop="pastTypes"),
    "Vessel Call Sign": IdRule(prop="callSign"),
    "Other Vessel Call Sign": IdRule(prop="callSign"),
    "Vessel Tonnage": IdRule(prop="tonnage"),
    "Vessel Gross Registered Tonnage": IdRule(prop="grossRegisteredTonnage"),
    "Vessel Year of Build": IdRule(prop="buildDate", kind="date"),
    "Vessel Owner": IdRule(kind="owner"),
    "Aircraft Operator": IdRule(kind="operator"),
    "Aircraft Manufacturer's Serial Number (MSN)": IdRule(prop="serialNumber"),
    "Aircraft Manufacturer’s Serial Number (MSN)": IdRule(prop="serialNumber"),
    "Aircraft Construction Number (also called L/N or S/N or F/N)": IdRule(prop="serialNumber"),
    "Aircraft Manufacture Date": IdRule(prop="buildDate", kind="date"),
    "Aircraft Model": IdRule(prop="model"),
    "Aircraft Tail Number": IdRule(prop="registrationNumber"),
    "Previous Aircraft Tail Number": IdRule(prop="registrationNumber"),
    # FtM has no Mode S (ICAO 24-bit) property: kept as a registration number and,
    # labelled, in notes so nothing says which of the two it was.
    "Aircraft Mode S Transponder Code": IdRule(prop="registrationNumber", kind="labelled"),
    "ISIN": IdRule(kind="security"),
    "Equity Ticker": IdRule(kind="security"),
    "Birthdate": IdRule(prop="birthDate", kind="date"),
    "Place of Birth": IdRule(prop="birthPlace"),
}

_PREFIX_RULES = (
    ("Digital Currency Address - ", IdRule(kind="wallet")),
    ("Effective Date", IdRule(sanction="startDate", kind="date")),
    ("Purchase/Sales For Divestment Date", IdRule(sanction="startDate", kind="date")),
    ("Listing Date", IdRule(sanction="listingDate", kind="date")),
)

# An id type not named above is an identity document: kept as an Identification.
DOCUMENT_FALLBACK = IdRule(prop="idNumber", document="Identification")


def id_rule(label: str) -> IdRule | None:
    """The rule for an OFAC id or feature type; None when the label is not known."""
    rule = ID_RULES.get(label) or ID_RULES.get(label.strip())
    if rule is not None:
        return rule
    for prefix, prefixed in _PREFIX_RULES:
        if label.startswith(prefix):
            return prefixed
    return None


def _looks_like_imo(value: str) -> bool:
    digits = value.upper().replace("IMO", "").strip()
    return digits.isdigit() and len(digits) == 7


class Entry:
    """One OFAC list entry being built: the listed entity and what hangs off it.

    Used by both OFAC XML parsers, so an id type or a feature lands in the same place
    whichever format it was read from.
    """

    def __init__(self, bag: EntityBag, proxy: EntityProxy, uid: str) -> None:
        self.bag = bag
        self.proxy = proxy
        self.uid = uid
        # Values for the entry's Sanction(s), read before the Sanction exists.
        self.sanction_summaries: list[str] = []
        self.sanction_dates: list[tuple[str, str, str]] = []  # (prop, text, label)

    @property
    def base(self) -> str:
        assert self.proxy.id is not None
        return self.proxy.id

    def add_secondary(self, proxy: EntityProxy) -> EntityProxy:
        return self.bag.add_secondary(proxy, self.uid)

    def apply(
        self,
        label: str,
        value: str,
        *,
        key: str,
        country: str | None = None,
        issued: str | None = None,
        expires: str | None = None,
        authority: str | None = None,
        summary: str | None = None,
        fallback: IdRule | None = DOCUMENT_FALLBACK,
    ) -> None:
        """Put one typed value: an sdn.xml ``id``, an advanced feature or document."""
        rule = id_rule(label)
        if rule is None:
            if fallback is None:
                note(self.proxy, label, value)
                return
            rule = fallback
        if rule.sanction is not None:
            if rule.kind == "date":
                self.sanction_dates.append((rule.sanction, value, label))
            else:
                self.sanction_summaries.append(f"{label.rstrip(' :-')}: {value}")
            return
        if rule.kind == "owner":
            self.owner(value, label)
        elif rule.kind == "operator":
            self.operator(value, label)
        elif rule.kind == "wallet":
            self.wallet(label, value, key)
        elif rule.kind == "security":
            self.security(label, value, key, country)
        elif rule.prop is not None:
            if rule.kind == "date":
                put_date(self.proxy, rule.prop, value, label)
            elif rule.prop == "imoNumber" and not _looks_like_imo(value):
                put(self.proxy, "registrationNumber", value, label)
            else:
                put(self.proxy, rule.prop, value, label)
            if rule.kind == "labelled":
                note(self.proxy, label, value)
        if rule.document is not None:
            self.document(
                rule.document, label, value, key, country, issued, expires, authority, summary
            )
        else:
            if country:
                put(self.proxy, "country", country, f"{label} country")
            if summary:
                note(self.proxy, f"{label} {value}", summary)

    def document(
        self,
        schema: str,
        label: str,
        number: str,
        key: str,
        country: str | None,
        issued: str | None,
        expires: str | None,
        authority: str | None,
        summary: str | None,
    ) -> None:
        if not self.proxy.schema.is_a("LegalEntity"):
            # Identification.holder must be a LegalEntity: a vessel's papers stay in notes.
            note(self.proxy, label, " ".join(x for x in (number, country, summary) if x))
            return
        if schema == "Passport" and not self.proxy.schema.is_a("Person"):
            schema = "Identification"
        doc = secondary(schema, f"{self.base}-id-{key}")
        put(doc, "holder", self.base)
        put(doc, "number", number)
        put(doc, "type", label)
        put(doc, "country", country, "Issuing country")
        put_date(doc, "startDate", issued, "Issue date")
        put_date(doc, "endDate", expires, "Expiration date")
        put(doc, "authority", authority)
        put(doc, "summary", summary)
        if country and not doc.has("country"):
            note(self.proxy, f"{label} {number} issuing country", country)
        self.add_secondary(doc)

    def owner(self, name: str, label: str) -> None:
        owner = secondary("LegalEntity", f"{self.base}-owner-{key_of(name)}")
        put(owner, "name", name)
        self.add_secondary(owner)
        put(self.proxy, "owner", owner.id, label)
        if self.proxy.schema.is_a("Asset"):
            link = secondary("Ownership", f"{self.base}-ownership-{key_of(name)}")
            put(link, "owner", owner.id)
            put(link, "asset", self.base)
            put(link, "role", label)
            self.add_secondary(link)

    def operator(self, name: str, label: str) -> None:
        operator = secondary("LegalEntity", f"{self.base}-operator-{key_of(name)}")
        put(operator, "name", name)
        self.add_secondary(operator)
        if self.proxy.schema.get("operator") is not None:
            put(self.proxy, "operator", operator.id, label)
        else:
            note(self.proxy, label, name)

    def wallet(self, label: str, address: str, key: str) -> None:
        currency = label.replace("Digital Currency Address - ", "").strip()
        wallet = secondary("CryptoWallet", f"{self.base}-wallet-{key}")
        put(wallet, "publicKey", address)
        put(wallet, "currency", currency)
        put(wallet, "topics", "sanction")
        if self.proxy.schema.is_a("LegalEntity"):
            put(wallet, "holder", self.base)
        else:
            note(wallet, "Holder", self.base)
        self.add_secondary(wallet)

    def security(self, label: str, value: str, key: str, country: str | None) -> None:
        sec = secondary("Security", f"{self.base}-security-{key}")
        put(sec, "isin" if label == "ISIN" else "ticker", value, label)
        put(sec, "country", country, "Country")
        if self.proxy.schema.is_a("LegalEntity"):
            put(sec, "issuer", self.base)
        self.add_secondary(sec)

    def new_sanction(self, suffix: str) -> EntityProxy:
        """A Sanction of this entry, with the sanction-level values read from features."""
        sanction = secondary("Sanction", f"{self.base}-sanction{suffix}")
        put(sanction, "entity", self.base)
        put(sanction, "authority", AUTHORITY)
        put(sanction, "authorityId", self.uid)
        put(sanction, "country", "us")
        put_all(sanction, "summary", self.sanction_summaries)
        for prop, text, label in self.sanction_dates:
            put_date(sanction, prop, text, label)
        return sanction


# --- the advanced XML -------------------------------------------------------------------

ADVANCED_NAMESPACES = (
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML",
    "http://www.un.org/sanctions/1.0",
)

_RECORDS = {
    ("Sanctions", "DateOfIssue"),
    ("Sanctions", "ReferenceValueSets"),
    ("Sanctions", "Locations", "Location"),
    ("Sanctions", "IDRegDocuments", "IDRegDocument"),
    ("Sanctions", "DistinctParties", "DistinctParty"),
    ("Sanctions", "ProfileRelationships", "ProfileRelationship"),
    ("Sanctions", "SanctionsEntries", "SanctionsEntry"),
}

# RelationType text -> (FtM schema, property of the From party, property of the To party).
RELATIONS: dict[str, tuple[str, str, str]] = {
    "associate of": ("UnknownLink", "subject", "object"),
    "providing support to": ("UnknownLink", "subject", "object"),
    "acting for or on behalf of": ("Representation", "agent", "client"),
    "owned or controlled by": ("Ownership", "asset", "owner"),
    "owns, controls, or operates": ("Ownership", "owner", "asset"),
    "property in the interest of": ("Ownership", "asset", "owner"),
    "family member of": ("Family", "person", "relative"),
    "leader or official of": ("Directorship", "director", "organization"),
    "principal executive officer": ("Directorship", "director", "organization"),
    "playing a significant role in": ("Membership", "member", "organization"),
}
GENERIC_RELATION = ("UnknownLink", "subject", "object")

# Features whose location stands for a country, not a place.
_COUNTRY_PROPS = ("nationality", "citizenship", "jurisdiction", "flag", "pastFlags")

# LocPartType text -> Address property (street2 collects ADDRESS2 and ADDRESS3).
_LOC_PARTS = {
    "ADDRESS1": "street",
    "ADDRESS2": "street2",
    "ADDRESS3": "street2",
    "CITY": "city",
    "STATE/PROVINCE": "state",
    "POSTAL CODE": "postalCode",
    "REGION": "region",
}

# Person name part types, in the order a name is said.
_NAME_ORDER = [
    "First Name",
    "Middle Name",
    "Patronymic",
    "Matronymic",
    "Last Name",
    "Maiden Name",
]
_NAME_PROPS = {
    "First Name": "firstName",
    "Middle Name": "middleName",
    "Last Name": "lastName",
    "Patronymic": "fatherName",
    "Matronymic": "motherName",
}


@dataclass
class RefValue:
    text: str
    attrs: dict[str, str]


class Refs:
    """The file's ReferenceValueSets: every coded value, by set and ID."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sets: dict[str, dict[str, RefValue]] = {}

    def load(self, element: Element) -> None:
        for values in element:
            name = localname(values.tag)
            if not name.endswith("Values"):
                continue
            kind = name[: -len("Values")]
            table = self.sets.setdefault(kind, {})
            for item in values:
                ref_id = item.get("ID")
                if ref_id is None:
                    continue
                attrs = {str(k): str(v) for k, v in item.attrib.items()}
                table[ref_id] = RefValue(clean_text(item.text) or "", attrs)

    def get(self, kind: str, element: Element, attr: str) -> RefValue:
        """The reference value ``element/@attr`` points at in the ``kind`` set."""
        ref_id = require_attr(self.path, element, attr)
        value = self.sets.get(kind, {}).get(ref_id)
        if value is None:
            raise ListFormatError(
                self.path,
                f"{attr}={ref_id} on <{localname(element.tag)}> is not in "
                f"ReferenceValueSets/{kind}Values",
                line=line_of(element),
                field=attr,
            )
        return value

    def text(self, kind: str, element: Element, attr: str) -> str:
        return self.get(kind, element, attr).text

    def optional_text(self, kind: str, element: Element, attr: str) -> str | None:
        if element.get(attr) is None:
            return None
        return self.get(kind, element, attr).text or None

    def country(self, element: Element, attr: str) -> str | None:
        """A country reference as its name (FtM reads names; ISO2 is the fallback)."""
        if element.get(attr) is None:
            return None
        value = self.get("Country", element, attr)
        return value.text or value.attrs.get("ISO2") or None


@dataclass
class LocationRec:
    """One Location, read: its parts in order and the countries it names."""

    parts: list[tuple[str, str]] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)

    @property
    def full(self) -> str | None:
        values = [v for _, v in self.parts] + [c for c in self.countries if c]
        return clean_text(", ".join(dict.fromkeys(values))) if values else None


@dataclass
class DocRec:
    """One IDRegDocument, read."""

    doc_id: str
    doc_type: str
    number: str | None
    country: str | None
    authority: str | None
    comment: str | None
    validity: str | None
    issued: str | None
    expires: str | None
    other_dates: list[str]
    line: int | None


@dataclass
class _Party:
    entry: Entry
    pending: bool = True  # no SanctionsEntry seen yet


def _ymd(element: Element | None) -> str | None:
    """``<Year/><Month/><Day/>`` as an ISO date prefix."""
    if element is None:
        return None
    try:
        year = int(text_of(element, "Year") or "")
    except ValueError:
        return None
    month_s, day_s = text_of(element, "Month"), text_of(element, "Day")
    try:
        month = int(month_s) if month_s else None
        day = int(day_s) if day_s and month is not None else None
    except ValueError:
        return None
    return iso_prefix(year, month, day)


def _span(start: str | None, end: str | None) -> str | None:
    """The common prefix of two ISO dates that still is a date (day, month or year)."""
    if start is None or end is None:
        return start or end
    for size in (10, 7, 4):
        if len(start) >= size and len(end) >= size and start[:size] == end[:size]:
            return start[:size]
    return None


def period_text(period: Element | None) -> str | None:
    """A DatePeriod as text ``put_date`` reads: ``1958-07-02``, ``1958``,
    ``1958-01-01 to 1962-12-31``, ``circa 1958``."""
    if period is None:
        return None
    start_el, end_el = period.find("Start"), period.find("End")
    if start_el is None and end_el is None:
        return None
    start_from = _ymd(start_el.find("From")) if start_el is not None else None
    start_to = _ymd(start_el.find("To")) if start_el is not None else None
    end_from = _ymd(end_el.find("From")) if end_el is not None else None
    end_to = _ymd(end_el.find("To")) if end_el is not None else None
    start = _span(start_from, start_to) or start_from
    end = _span(end_from, end_to) or end_to
    if start is None and end is None:
        return None
    approximate = any(
        el is not None and (el.get("Approximate") or "").lower() == "true"
        for el in (start_el, end_el)
    )
    if start == end or end is None or start is None:
        text = start or end
    elif start.endswith("-01-01") and end.endswith("-12-31") and start[:4] == end[:4]:
        text = start[:4]
    else:
        text = f"{start} to {end}"
    assert text is not None
    return f"circa {text}" if approximate else text


class OfacAdvancedParser:
    """OFAC ``sdn_advanced.xml`` / ``cons_advanced.xml`` (ADVANCED_XML.xsd)."""

    source = "ofac_advanced"

    def detect(self, paths: Sequence[Path]) -> bool:
        return xml_roots_are(paths, "Sanctions", ADVANCED_NAMESPACES)

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        return parse_publication(
            self.source,
            paths,
            lambda path, bag: _AdvancedFile(path, bag).read(),
            stated_field="DateOfIssue",
        )


class _AdvancedFile:
    """The reading of one advanced XML file into the shared bag."""

    def __init__(self, path: Path, bag: EntityBag) -> None:
        self.path = path
        self.bag = bag
        self.refs = Refs(path)
        self.locations: dict[str, LocationRec] = {}
        self.documents: dict[str, list[DocRec]] = defaultdict(list)
        self.used_identities: set[str] = set()
        self.parties: dict[str, _Party] = {}  # by Profile ID
        self.published: date | None = None

    def read(self) -> date | None:
        for key, element in stream_records(
            self.path, root="Sanctions", namespaces=ADVANCED_NAMESPACES, records=_RECORDS
        ):
            name = key[-1]
            if name == "DateOfIssue":
                self.published = self._date_of_issue(element)
            elif name == "ReferenceValueSets":
                self.refs.load(element)
            elif name == "Location":
                self._location(element)
            elif name == "IDRegDocument":
                self._document(element)
            elif name == "DistinctParty":
                self._party(element)
            elif name == "ProfileRelationship":
                self._relation(element)
            elif name == "SanctionsEntry":
                self._sanctions_entry(element)
        self._finish()
        return self.published

    # -- small records --------------------------------------------------------------------

    def _date_of_issue(self, element: Element) -> date | None:
        iso = _ymd(element)
        if iso is None or len(iso) != 10:
            raise ListFormatError(
                self.path,
                "DateOfIssue is not a full Year/Month/Day date",
                line=line_of(element),
                field="DateOfIssue",
            )
        return date.fromisoformat(iso)

    def _location(self, element: Element) -> None:
        loc_id = require_attr(self.path, element, "ID")
        rec = LocationRec()
        for part in element.iterfind("LocationPart"):
            part_type = self.refs.text("LocPartType", part, "LocPartTypeID")
            values = part.findall("LocationPartValue")
            # The primary value first, then the alternatives OFAC also publishes.
            values.sort(key=lambda v: (v.get("Primary") or "").lower() != "true")
            for value in values:
                text = text_of(value, "Value")
                if text:
                    rec.parts.append((part_type, text))
        for country in element.iterfind("LocationCountry"):
            name = self.refs.country(country, "CountryID")
            if name and name.lower() != "undetermined":
                rec.countries.append(name)
        for area in element.iterfind("LocationAreaCode"):
            code = self.refs.get("AreaCode", area, "AreaCodeID")
            described = code.attrs.get("Description") or code.text
            if described and described not in rec.countries:
                rec.countries.append(described)
        self.locations[loc_id] = rec

    def _document(self, element: Element) -> None:
        doc_id = require_attr(self.path, element, "ID")
        identity = require_attr(self.path, element, "IdentityID")
        issued = expires = None
        others: list[str] = []
        for doc_date in element.iterfind("DocumentDate"):
            kind = self.refs.text("IDRegDocDateType", doc_date, "IDRegDocDateTypeID")
            text = period_text(doc_date.find("DatePeriod"))
            if text is None:
                continue
            if kind == "Issue Date":
                issued = text
            elif kind == "Expiration Date":
                expires = text
            else:
                others.append(f"{kind}: {text}")
        self.documents[identity].append(
            DocRec(
                doc_id=doc_id,
                doc_type=self.refs.text("IDRegDocType", element, "IDRegDocTypeID"),
                number=text_of(element, "IDRegistrationNo"),
                country=self.refs.country(element, "IssuedBy-CountryID"),
                authority=text_of(element, "IssuingAuthority"),
                comment=text_of(element, "Comment"),
                validity=self.refs.optional_text("Validity", element, "ValidityID"),
                issued=issued,
                expires=expires,
                other_dates=others,
                line=line_of(element),
            )
        )

    # -- parties --------------------------------------------------------------------------

    def _party(self, element: Element) -> None:
        fixed_ref = require_attr(self.path, element, "FixedRef")
        profiles = element.findall("Profile")
        if len(profiles) != 1:
            raise ListFormatError(
                self.path,
                f"DistinctParty {fixed_ref} has {len(profiles)} Profile elements, expected 1",
                line=line_of(element),
                field="Profile",
            )
        profile = profiles[0]
        profile_id = require_attr(self.path, profile, "ID")
        schema, type_note = self._schema(profile)
        proxy = make_entity(schema, ofac_id(fixed_ref))
        if type_note:
            note(proxy, "Party type", type_note)
        put(proxy, "topics", "sanction")
        for comment in (text_of(element, "Comment"), text_of(profile, "Comment")):
            put(proxy, "notes", comment)
        entry = Entry(self.bag, proxy, fixed_ref)

        identities = profile.findall("Identity")
        if not identities:
            raise ListFormatError(
                self.path,
                f"Profile {profile_id} has no Identity",
                line=line_of(profile),
                field="Identity",
            )
        for identity in identities:
            self._identity(entry, identity)
        if not proxy.has("name"):
            for prop in ("alias", "weakAlias", "previousName"):
                if proxy.has(prop):
                    put(proxy, "name", proxy.first(prop))
                    break
        for feature in profile.iterfind("Feature"):
            self._feature(entry, feature)

        if profile_id in self.parties:
            raise ListFormatError(
                self.path,
                f"Profile ID {profile_id} appears in two DistinctParty elements",
                line=line_of(profile),
                field="ID",
            )
        self.parties[profile_id] = _Party(entry)
        self.bag.add_entry(self.path, proxy, fixed_ref, line_of(element))

    def _schema(self, profile: Element) -> tuple[str, str | None]:
        sub_type = self.refs.get("PartySubType", profile, "PartySubTypeID")
        word = sub_type.text
        if word.lower() == "unknown" or word.lower() not in SDN_TYPES:
            party_type_id = sub_type.attrs.get("PartyTypeID")
            party_type = self.refs.sets.get("PartyType", {}).get(party_type_id or "")
            if party_type is not None and party_type.text.lower() in SDN_TYPES:
                word = party_type.text
        schema = SDN_TYPES.get(word.lower())
        if schema is None:
            return "LegalEntity", word
        return schema, None

    def _identity(self, entry: Entry, identity: Element) -> None:
        proxy = entry.proxy
        identity_id = identity.get("ID")
        false_identity = (identity.get("False") or "").lower() == "true"
        groups: dict[str, str] = {}
        for group in identity.iterfind("NamePartGroups/MasterNamePartGroup/NamePartGroup"):
            group_id = require_attr(self.path, group, "ID")
            groups[group_id] = self.refs.text("NamePartType", group, "NamePartTypeID")
        for alias in identity.iterfind("Alias"):
            alias_type = self.refs.text("AliasType", alias, "AliasTypeID")
            primary = (alias.get("Primary") or "").lower() == "true"
            weak = (alias.get("LowQuality") or "").lower() == "true"
            for documented in alias.iterfind("DocumentedName"):
                self._documented_name(
                    proxy, documented, groups, alias_type, primary, weak, false_identity
                )
        if identity_id is not None:
            self.used_identities.add(identity_id)
            for doc in self.documents.get(identity_id, []):
                self._apply_document(entry, doc)

    def _documented_name(
        self,
        proxy: EntityProxy,
        documented: Element,
        groups: dict[str, str],
        alias_type: str,
        primary: bool,
        weak: bool,
        false_identity: bool,
    ) -> None:
        parts: list[tuple[str, str]] = []
        latin = True
        for part in documented.iterfind("DocumentedNamePart/NamePartValue"):
            text = clean_text(part.text)
            if text is None:
                continue
            group_id = require_attr(self.path, part, "NamePartGroupID")
            part_type = groups.get(group_id)
            if part_type is None:
                raise ListFormatError(
                    self.path,
                    f"NamePartGroupID={group_id} is not a NamePartGroup of this identity",
                    line=line_of(part),
                    field="NamePartGroupID",
                )
            script = self.refs.optional_text("Script", part, "ScriptID")
            if script is not None and script.lower() != "latin":
                latin = False
            parts.append((part_type, text))
        if not parts:
            return
        ordered = sorted(
            parts,
            key=lambda p: _NAME_ORDER.index(p[0]) if p[0] in _NAME_ORDER else len(_NAME_ORDER),
        )
        full = clean_text(" ".join(v for _, v in ordered))
        if full is None:
            return
        kind = alias_type.lower()
        if false_identity:
            put(proxy, "weakAlias", full)
            note(proxy, "Name of an identity OFAC marks as false", full)
            return
        if kind == "name":
            prop = "name" if latin and (primary or not proxy.has("name")) else "alias"
        elif kind == "f.k.a.":
            prop = "previousName"
        elif kind == "n.k.a.":
            prop = "name" if latin else "alias"
        else:  # a.k.a. and any other alias type
            prop = "weakAlias" if weak else "alias"
            if kind != "a.k.a.":
                note(proxy, f"Name ({alias_type})", full)
        put(proxy, prop, full)
        if not latin and prop == "alias" and kind == "name":
            note(proxy, "Name in original script", full)
        if kind == "name" and latin and proxy.schema.is_a("Person"):
            for part_type, value in parts:
                if part_type in _NAME_PROPS:
                    put(proxy, _NAME_PROPS[part_type], value)
                elif part_type == "Nickname":
                    put(proxy, "alias", value)

    def _apply_document(self, entry: Entry, doc: DocRec) -> None:
        summary_parts = [doc.comment]
        if doc.validity and doc.validity.lower() != "valid":
            summary_parts.append(f"Validity: {doc.validity}")
        summary_parts.extend(doc.other_dates)
        summary = clean_text("; ".join(p for p in summary_parts if p))
        if doc.number is None:
            note(entry.proxy, doc.doc_type, summary or doc.country or "(no number)")
            return
        entry.apply(
            doc.doc_type,
            doc.number,
            key=doc.doc_id,
            country=doc.country,
            issued=doc.issued,
            expires=doc.expires,
            authority=doc.authority,
            summary=summary,
        )

    def _feature(self, entry: Entry, feature: Element) -> None:
        proxy = entry.proxy
        label = self.refs.text("FeatureType", feature, "FeatureTypeID")
        feature_id = feature.get("ID") or key_of(label)
        for version in feature.iterfind("FeatureVersion"):
            version_id = version.get("ID") or feature_id
            reliability = self.refs.optional_text("Reliability", version, "ReliabilityID")
            values: list[str] = []
            for loc_ref in version.iterfind("VersionLocation"):
                loc_id = require_attr(self.path, loc_ref, "LocationID")
                location = self.locations.get(loc_id)
                if location is None:
                    raise ListFormatError(
                        self.path,
                        f"LocationID={loc_id} is not in Locations",
                        line=line_of(loc_ref),
                        field="LocationID",
                    )
                if label == "Location" and reliability != "False":
                    self._address(entry, loc_id, location)
                    continue
                rule = ID_RULES.get(label)
                if rule is not None and rule.prop in _COUNTRY_PROPS:
                    values.extend(location.countries or [location.full or ""])
                else:
                    values.append(location.full or "")
                if label == "Place of Birth" and reliability != "False":
                    for country in location.countries:
                        put(proxy, "birthCountry", country, "Country of birth")
            for period in version.iterfind("DatePeriod"):
                values.append(period_text(period) or "")
            for detail in version.iterfind("VersionDetail"):
                if detail.get("DetailReferenceID") is not None:
                    values.append(self.refs.text("DetailReference", detail, "DetailReferenceID"))
                else:
                    values.append(clean_text(detail.text) or "")
            for value in values:
                if not value:
                    continue
                if reliability == "False":
                    note(proxy, f"{label} (OFAC marks this value false)", value)
                    continue
                entry.apply(label, value, key=version_id, fallback=None)
            comment = text_of(version, "Comment")
            if comment:
                note(proxy, f"{label} comment", comment)

    def _address(self, entry: Entry, loc_id: str, location: LocationRec) -> None:
        full = location.full
        if full is None:
            return
        address = secondary("Address", f"ofac-addr-{loc_id}")
        put(address, "full", full)
        street2: list[str] = []
        for part_type, value in location.parts:
            prop = _LOC_PARTS.get(part_type.upper())
            if prop == "street2":
                street2.append(value)
            elif prop is not None:
                put(address, prop, value, part_type)
            elif part_type.lower() != "unknown":
                note(address, part_type, value)
        put(address, "street2", clean_text(", ".join(street2)) if street2 else None)
        for country in location.countries:
            put(address, "country", country, "Country")
        entry.add_secondary(address)
        put(entry.proxy, "addressEntity", address.id)
        put(entry.proxy, "address", full)
        for country in location.countries:
            put(entry.proxy, "country", country, "Address country")

    # -- after the parties ----------------------------------------------------------------

    def _party_for(self, element: Element, attr: str) -> _Party:
        profile_id = require_attr(self.path, element, attr)
        party = self.parties.get(profile_id)
        if party is None:
            raise ListFormatError(
                self.path,
                f"{attr}={profile_id} is not the Profile of any DistinctParty",
                line=line_of(element),
                field=attr,
            )
        return party

    def _relation(self, element: Element) -> None:
        rel_id = require_attr(self.path, element, "ID")
        source = self._party_for(element, "From-ProfileID")
        target = self._party_for(element, "To-ProfileID")
        rel_type = self.refs.text("RelationType", element, "RelationTypeID")
        schema_name, from_prop, to_prop = RELATIONS.get(rel_type.lower(), GENERIC_RELATION)
        link_schema = model.get(schema_name)
        assert link_schema is not None
        if not (
            self._fits(source.entry.proxy, link_schema.get(from_prop))
            and self._fits(target.entry.proxy, link_schema.get(to_prop))
        ):
            schema_name, from_prop, to_prop = GENERIC_RELATION
        link = secondary(schema_name, f"{source.entry.base}-rel-{rel_id}")
        put(link, from_prop, source.entry.base)
        put(link, to_prop, target.entry.base)
        put(link, "relationship" if schema_name == "Family" else "role", rel_type)
        put(link, "summary", text_of(element, "Comment"))
        quality = self.refs.optional_text("RelationQuality", element, "RelationQualityID")
        if quality and quality.lower() != "unknown":
            put(link, "description", f"Relation quality: {quality}")
        if (element.get("Former") or "").lower() == "true":
            if link.schema.get("status") is not None:
                put(link, "status", "Former")
            else:
                put(link, "description", "Former relation")
        source.entry.add_secondary(link)

    @staticmethod
    def _fits(proxy: EntityProxy, prop: object) -> bool:
        """Whether the party can stand in ``prop``; an Organization that is owned
        becomes a Company (the FtM schema that is both Organization and Asset)."""
        from followthemoney.property import Property

        if not isinstance(prop, Property) or prop.range is None:
            return False
        if proxy.schema.is_a(prop.range):
            return True
        if prop.range.name == "Asset" and proxy.schema.name == "Organization":
            proxy.schema = model.common_schema(proxy.schema, "Company")
            return True
        return False

    def _sanctions_entry(self, element: Element) -> None:
        entry_id = require_attr(self.path, element, "ID")
        party = self._party_for(element, "ProfileID")
        entry = party.entry
        party.pending = False
        list_name = self.refs.optional_text("List", element, "ListID")
        suffix = "" if (list_name or "").lower() == "sdn list" else "-cons"
        if f"{entry.base}-sanction{suffix}" in self.bag:
            suffix = f"{suffix}-{entry_id}"
        sanction = entry.new_sanction(suffix)
        put(sanction, "description", list_name)
        for event in element.iterfind("EntryEvent"):
            kind = self.refs.optional_text("EntryEventType", event, "EntryEventTypeID")
            basis = self.refs.optional_text("LegalBasis", event, "LegalBasisID")
            if basis and basis.lower() != "unknown":
                put(sanction, "reason", basis)
            when = _ymd(event.find("Date"))
            if when is not None:
                if (kind or "").lower() == "created":
                    put(sanction, "listingDate", when)
                    put(entry.proxy, "createdAt", when)
                else:
                    put(sanction, "modifiedAt", when)
                    put(sanction, "summary", f"{kind or 'Event'}: {when}")
            put(sanction, "summary", text_of(event, "Comment"))
        for measure in element.iterfind("SanctionsMeasure"):
            kind = self.refs.text("SanctionsType", measure, "SanctionsTypeID")
            comment = text_of(measure, "Comment")
            if kind.lower() == "program":
                if comment:
                    put(sanction, "program", comment)
                    put(entry.proxy, "program", comment)
            else:
                put(sanction, "provisions", f"{kind}: {comment}" if comment else kind)
            period = period_text(measure.find("DatePeriod"))
            if period:
                note(sanction, f"{kind} period", period)
        entry.add_secondary(sanction)

    def _finish(self) -> None:
        unused = [
            doc
            for identity, docs in self.documents.items()
            if identity not in self.used_identities
            for doc in docs
        ]
        if unused:
            doc = unused[0]
            raise ListFormatError(
                self.path,
                f"IDRegDocument {doc.doc_id} belongs to an Identity no DistinctParty has"
                f" ({len(unused)} such documents)",
                line=doc.line,
                field="IdentityID",
            )
        for party in self.parties.values():
            if party.pending:
                # Listed without a SanctionsEntry: keep its sanction-level values anyway.
                put_all(party.entry.proxy, "notes", party.entry.sanction_summaries)
                for _prop, text, label in party.entry.sanction_dates:
                    note(party.entry.proxy, label, text)
