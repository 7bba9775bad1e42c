"""EU Financial Sanctions Files (FSF): the consolidated list of persons, groups and
entities subject to EU financial sanctions, XML "xmlFullSanctionsList_1_1".

Written to the published export schema: document element ``export`` in the namespace
``http://eu.europa.ec/fpi/fsd/export`` (attributes ``generationDate``,
``globalFileId``), one ``sanctionEntity`` per listed subject (attributes
``logicalId``, ``euReferenceNumber``, ``unitedNationId``, ``designationDate``,
``designationDetails``) with children ``remark``, ``regulation`` (+ ``publicationUrl``),
``subjectType``, ``nameAlias``, ``citizenship``, ``birthdate``, ``address`` (+
``contactInfo``), ``identification``; each carries its own ``logicalId``, ``remark``
and ``regulationSummary``.

Entity ids: ``eu-fsf-<sanctionEntity logicalId>`` (the FSF's own, stable id of the
entry); secondary entities ``eu-fsf-<logicalId>-sanction-<regulation logicalId>``,
``-addr-<address logicalId>``, ``-id-<identification logicalId>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import EntityProxy, ListParser, ParsedList, make_entity
from watchkeeper.lists.common import (
    Element,
    EntityBag,
    clean_text,
    iso_prefix,
    join_text,
    key_of,
    line_of,
    note,
    parse_publication,
    put,
    put_date,
    require_attr,
    secondary,
    stream_records,
    text_of,
    xml_roots_are,
)

EU_NAMESPACE = "http://eu.europa.ec/fpi/fsd/export"
AUTHORITY = "European Union"

SUBJECT_TYPES = {"person": "Person", "enterprise": "Organization"}

# identificationTypeCode -> (property of the listed entity, document schema or None)
IDENTIFICATION_TYPES: dict[str, tuple[str, str | None]] = {
    "passport": ("passportNumber", "Passport"),
    "id": ("idNumber", "Identification"),
    "regnumber": ("registrationNumber", "Identification"),
    "fiscalcode": ("taxNumber", "Identification"),
    "swiftbic": ("swiftBic", None),
    "imo": ("imoNumber", None),
    "ssn": ("socialSecurityNumber", "Identification"),
    "birthcert": ("idNumber", "Identification"),
    "drivinglicence": ("idNumber", "Identification"),
    "travel": ("passportNumber", "Passport"),
    "other": ("idNumber", "Identification"),
}
# Boolean flags of an identification that change what the document is worth.
_ID_FLAGS = ("diplomatic", "knownExpired", "knownFalse", "reportedLost", "revokedByIssuer")

CONTACT_INFO = {"PHONE": "phone", "EMAIL": "email", "WEB": "website", "FAX": "phone"}


def eu_id(logical_id: str) -> str:
    return f"eu-fsf-{logical_id}"


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _country(element: Element) -> str | None:
    """The country of an element: its description, else its ISO code; None for UNKNOWN/00."""
    description = clean_text(element.get("countryDescription"))
    code = clean_text(element.get("countryIso2Code"))
    if description and description.upper() != "UNKNOWN":
        return description
    if code and code != "00":
        return code
    return None


class EuFsfParser:
    """EU FSF consolidated XML (``xmlFullSanctionsList_1_1``)."""

    source = "eu_fsf"

    def detect(self, paths: Sequence[Path]) -> bool:
        return xml_roots_are(paths, "export", (EU_NAMESPACE,))

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        return parse_publication(
            self.source, paths, self._parse_file, stated_field="generationDate"
        )

    def _parse_file(self, path: Path, bag: EntityBag) -> date | None:
        generated: date | None = None
        count = 0
        for _key, element in stream_records(
            path, root="export", namespaces=(EU_NAMESPACE,), records={("export", "sanctionEntity")}
        ):
            if count == 0:
                generated = self._generation_date(path, element)
            _Entity(path, bag, element).build()
            count += 1
        if count == 0:
            raise ListFormatError(path, "the file has no <sanctionEntity> entries")
        return generated

    @staticmethod
    def _generation_date(path: Path, entity: Element) -> date | None:
        root = entity.getparent()
        raw = clean_text(root.get("generationDate")) if root is not None else None
        if raw is None:
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError as exc:
            raise ListFormatError(
                path,
                f"generationDate {raw!r} is not an ISO date",
                line=line_of(root) if root is not None else None,
                field="generationDate",
            ) from exc


class _Entity:
    """One ``sanctionEntity`` turned into FtM entities."""

    def __init__(self, path: Path, bag: EntityBag, element: Element) -> None:
        self.path = path
        self.bag = bag
        self.el = element
        self.logical_id = require_attr(path, element, "logicalId")
        if not self.logical_id.isdigit():
            raise ListFormatError(
                path,
                f"logicalId {self.logical_id!r} is not a number",
                line=line_of(element),
                field="logicalId",
            )
        self.base = eu_id(self.logical_id)
        subject = element.find("subjectType")
        code = clean_text(subject.get("code")) if subject is not None else None
        if code is None:
            raise ListFormatError(
                path,
                f"sanctionEntity {self.logical_id} has no subjectType code",
                line=line_of(element),
                field="subjectType",
            )
        schema = SUBJECT_TYPES.get(code.lower())
        self.proxy = make_entity(schema or "LegalEntity", self.base)
        if schema is None:
            note(self.proxy, "Subject type", code)

    def add(self, proxy: EntityProxy) -> EntityProxy:
        return self.bag.add_secondary(proxy, self.logical_id)

    def build(self) -> None:
        el, proxy = self.el, self.proxy
        put(proxy, "topics", "sanction")
        for remark in el.iterfind("remark"):
            put(proxy, "notes", remark.text)
        put_date(proxy, "createdAt", el.get("designationDate"), "Designation date")
        self._names()
        for node in el.iterfind("citizenship"):
            prop = "nationality" if proxy.schema.is_a("Person") else "country"
            put(proxy, prop, _country(node), "Citizenship")
            note(proxy, "Citizenship region", node.get("region"))
            self._remarks(node, "Citizenship")
        for node in el.iterfind("birthdate"):
            self._birth(node)
        for node in el.iterfind("address"):
            self._address(node)
        for node in el.iterfind("identification"):
            self._identification(node)
        self._sanctions()
        self.bag.add_entry(self.path, proxy, self.logical_id, line_of(el))

    def _remarks(self, node: Element, label: str) -> None:
        for remark in node.iterfind("remark"):
            note(self.proxy, f"{label} remark", remark.text)

    def _names(self) -> None:
        proxy = self.proxy
        aliases = self.el.findall("nameAlias")

        # The FSF marks no primary name. Take the alias that looks like the listing:
        # strong, not remarked as low quality, in Latin script (no nameLanguage or EN),
        # and, best, the one carrying the function or gender the listing states.
        def rank(alias: Element) -> tuple[bool, bool, bool, bool]:
            remarks = " ".join((r.text or "").lower() for r in alias.iterfind("remark"))
            return (
                bool(clean_text(alias.get("wholeName"))),
                _true(alias.get("strong")) and "low quality" not in remarks,
                (alias.get("nameLanguage") or "").upper() in ("", "EN"),
                bool(clean_text(alias.get("function")) or clean_text(alias.get("gender"))),
            )

        primary = max(aliases, key=rank) if aliases else None
        for alias in aliases:
            whole = clean_text(alias.get("wholeName")) or join_text(
                alias.get("firstName"), alias.get("middleName"), alias.get("lastName"), sep=" "
            )
            weak = not _true(alias.get("strong"))
            for remark in alias.iterfind("remark"):
                text = clean_text(remark.text) or ""
                lower = text.lower()
                if "low quality" in lower:
                    weak = True
                elif "quality" in lower:
                    pass  # "good quality alias": the strong flag already says it
                else:
                    note(proxy, f"Name remark ({whole})", text)
            if whole:
                if alias is primary:
                    put(proxy, "name", whole)
                else:
                    put(proxy, "weakAlias" if weak else "alias", whole)
                language = clean_text(alias.get("nameLanguage"))
                if language and language.upper() != "EN":
                    note(proxy, f"Name in language {language}", whole)
            if proxy.schema.is_a("Person"):
                put(proxy, "firstName", alias.get("firstName"))
                put(proxy, "middleName", alias.get("middleName"))
                put(proxy, "lastName", alias.get("lastName"))
                put(proxy, "title", alias.get("title"), "Title")
                put(proxy, "position", alias.get("function"), "Function")
                put(proxy, "gender", alias.get("gender"), "Gender")
            else:
                note(proxy, "Title", alias.get("title"))
                note(proxy, "Function", alias.get("function"))

    def _birth(self, node: Element) -> None:
        proxy = self.proxy
        calendar = (node.get("calendarType") or "GREGORIAN").upper()
        whole = clean_text(node.get("birthdate"))
        text = whole
        if text is None and calendar == "GREGORIAN":
            year = clean_text(node.get("year"))
            if year and year.isdigit():
                month = clean_text(node.get("monthOfYear"))
                day = clean_text(node.get("dayOfMonth"))
                text = (
                    iso_prefix(
                        int(year),
                        int(month) if month and month.isdigit() else None,
                        int(day) if day and day.isdigit() and month else None,
                    )
                    or year
                )
        low, high = clean_text(node.get("yearRangeFrom")), clean_text(node.get("yearRangeTo"))
        if text is None and low and high:
            text = f"{low} to {high}"
        if text is not None:
            if _true(node.get("circa")):
                text = f"circa {text}"
            put_date(proxy, "birthDate", text, "Date of birth")
        if calendar != "GREGORIAN":
            parts = "-".join(
                p for p in (node.get("year"), node.get("monthOfYear"), node.get("dayOfMonth")) if p
            )
            note(proxy, f"Date of birth ({calendar.lower()} calendar)", parts)
        place = join_text(
            node.get("place"),
            node.get("city"),
            node.get("zipCode"),
            node.get("region"),
            _country(node),
        )
        put(proxy, "birthPlace", place, "Place of birth")
        put(proxy, "birthCountry", _country(node), "Country of birth")
        self._remarks(node, "Birth")

    def _address(self, node: Element) -> None:
        proxy = self.proxy
        key = clean_text(node.get("logicalId")) or key_of(*node.attrib.values())
        full = join_text(
            node.get("street"),
            node.get("poBox") and f"PO Box {node.get('poBox')}",
            node.get("place"),
            node.get("city"),
            node.get("zipCode"),
            node.get("region"),
            _country(node),
        )
        if full is not None:
            address = secondary("Address", f"{self.base}-addr-{key}")
            put(address, "full", full)
            put(address, "street", node.get("street"))
            put(address, "postOfficeBox", node.get("poBox"))
            put(address, "city", node.get("city"))
            put(address, "postalCode", node.get("zipCode"))
            put(address, "region", node.get("region"))
            put(address, "country", _country(node), "Country")
            note(address, "Place", node.get("place"))
            if _true(node.get("asAtListingTime")):
                note(address, "Address", "as at listing time")
            for remark in node.iterfind("remark"):
                put(address, "remarks", remark.text)
            self.add(address)
            put(proxy, "addressEntity", address.id)
            put(proxy, "address", full)
            put(proxy, "country", _country(node), "Address country")
        for contact in node.iterfind("contactInfo"):
            kind = (contact.get("key") or "").upper()
            value = clean_text(contact.get("value"))
            prop = CONTACT_INFO.get(kind)
            if value is None:
                continue
            if prop is None or (kind == "FAX"):
                note(proxy, kind.title() or "Contact", value)
                continue
            for part in value.replace(";", ",").split(","):
                put(proxy, prop, part, kind.title())

    def _identification(self, node: Element) -> None:
        proxy = self.proxy
        code = (clean_text(node.get("identificationTypeCode")) or "other").lower()
        described = clean_text(node.get("identificationTypeDescription")) or code
        number = clean_text(node.get("number")) or clean_text(node.get("latinNumber"))
        country = _country(node)
        if number is None or number == "-":
            note(proxy, described, join_text(country, *(r.text for r in node.iterfind("remark"))))
            return
        prop, doc_schema = IDENTIFICATION_TYPES.get(code, ("idNumber", "Identification"))
        put(proxy, prop, number, described)
        latin = clean_text(node.get("latinNumber"))
        if latin and latin != number:
            put(proxy, prop, latin, described)
        flags = [f for f in _ID_FLAGS if _true(node.get(f))]
        remarks = [clean_text(r.text) for r in node.iterfind("remark")]
        summary = join_text(*remarks, *(f"flag: {f}" for f in flags), sep="; ")
        if doc_schema is None or not proxy.schema.is_a("LegalEntity"):
            put(proxy, "country", country, f"{described} country")
            note(proxy, f"{described} {number}", summary)
            return
        if doc_schema == "Passport" and not proxy.schema.is_a("Person"):
            doc_schema = "Identification"
        key = clean_text(node.get("logicalId")) or key_of(code, number)
        doc = secondary(doc_schema, f"{self.base}-id-{key}")
        put(doc, "holder", self.base)
        put(doc, "number", number)
        put(doc, "type", described)
        put(doc, "country", country, "Country")
        put(doc, "authority", node.get("issuedBy"))
        put_date(doc, "startDate", node.get("issueDate") or node.get("validFrom"), "Issue date")
        put_date(doc, "endDate", node.get("validTo"), "Valid to")
        put(doc, "summary", summary)
        note(doc, "Name on document", node.get("nameOnDocument"))
        note(doc, "Region", node.get("region"))
        if latin and latin != number:
            note(doc, "Number in Latin script", latin)
        self.add(doc)

    def _sanctions(self) -> None:
        el, proxy = self.el, self.proxy
        regulations = el.findall("regulation")
        if not regulations:
            regulations_or_none: list[Element | None] = [None]
        else:
            regulations_or_none = list(regulations)
        for regulation in regulations_or_none:
            key = (
                clean_text(regulation.get("logicalId")) if regulation is not None else None
            ) or "entry"
            sanction = secondary("Sanction", f"{self.base}-sanction-{key}")
            put(sanction, "entity", self.base)
            put(sanction, "authority", AUTHORITY)
            put(sanction, "authorityId", el.get("euReferenceNumber"))
            put(sanction, "unscId", el.get("unitedNationId"), "UN id")
            put(sanction, "summary", el.get("designationDetails"))
            designated = clean_text(el.get("designationDate"))
            put_date(sanction, "startDate", designated, "Designation date")
            if regulation is not None:
                programme = clean_text(regulation.get("programme"))
                put(sanction, "program", programme)
                put(proxy, "program", programme)
                put(sanction, "reason", regulation.get("numberTitle"))
                put(sanction, "sourceUrl", text_of(regulation, "publicationUrl"), "Publication")
                put_date(sanction, "listingDate", regulation.get("publicationDate"), "Published")
                if designated is None:
                    put_date(
                        sanction, "startDate", regulation.get("entryIntoForceDate"), "In force"
                    )
                else:
                    note(sanction, "Entry into force", regulation.get("entryIntoForceDate"))
                note(
                    sanction,
                    "Regulation",
                    join_text(
                        regulation.get("regulationType"),
                        regulation.get("organisationType"),
                        sep=" of the ",
                    ),
                )
            self.add(sanction)


PARSERS: list[ListParser] = [EuFsfParser()]
