"""OFAC classic XML lists: ``sdn.xml`` (SDN List) and ``cons.xml`` (Consolidated non-SDN).

Written to OFAC's published ``sdn.xsd`` (document element ``sdnList`` in the namespace
``https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML``,
or ``http://tempuri.org/sdnList.xsd`` in files published before 2024): a
``publshInformation`` header (OFAC's spelling) with ``Publish_Date`` (MM/DD/YYYY) and
``Record_Count``, then one ``sdnEntry`` per listed party with ``uid``, ``firstName``,
``lastName``, ``title``, ``sdnType``, ``remarks``, ``programList``, ``idList``,
``akaList``, ``addressList``, ``nationalityList``, ``citizenshipList``,
``dateOfBirthList``, ``placeOfBirthList`` and ``vesselInfo``.

Entity ids: OFAC has one number space across its formats. ``uid`` here, ``ent_num`` in
the legacy CSV and ``DistinctParty/@FixedRef`` in the advanced XML are the same number,
so every OFAC parser names the entry ``ofac-<uid>`` (``ofac-12927`` is MAHAN AIR in all
of them). Secondary entities follow the legacy CSV parser where the two formats share a number:
``ofac-<uid>-sanction`` (``-sanction-cons`` for cons.xml), ``ofac-addr-<address uid>``
(the ``Add_num`` of add.csv); the rest are ``ofac-<uid>-id-<id uid>``,
``ofac-<uid>-owner-<key>``, ``ofac-<uid>-wallet-<id uid>``.

The ``idList`` of sdn.xml carries identity documents *and* OFAC's typed "features"
(gender, website, vessel flags, aircraft details, digital currency addresses, sanction
directives); ``ID_RULES`` says where each goes, and the advanced parser
(``ofac_advanced``) uses the same table for its features and documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from watchkeeper.errors import ListFormatError
from watchkeeper.io import logical_name
from watchkeeper.lists.base import EntityProxy, ListParser, ParsedList, make_entity
from watchkeeper.lists.common import (
    Element,
    EntityBag,
    clean_text,
    key_of,
    line_of,
    note,
    parse_publication,
    put,
    put_all,
    put_date,
    require_text,
    secondary,
    stream_records,
    text_of,
    texts_of,
    xml_roots_are,
)
from watchkeeper.lists.ofac_advanced import SDN_TYPES, Entry, OfacAdvancedParser, ofac_id

SDN_NAMESPACES = (
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML",
    "http://tempuri.org/sdnList.xsd",
)

# "Linked To: NATIONAL IRANIAN TANKER COMPANY" inside remarks, up to ";" or ")".
_LINKED_TO = re.compile(r"Linked To:\s*([^;)]+)")

SDN_LIST = "Specially Designated Nationals (SDN) List"
CONS_LIST = "Consolidated Sanctions List (non-SDN)"

# --- the classic XML ---------------------------------------------------------------------


def _person_name(first: str | None, last: str | None) -> str | None:
    return clean_text(" ".join(p for p in (first, last) if p))


class OfacClassicXmlParser:
    """OFAC ``sdn.xml`` and ``cons.xml`` (classic XML, sdn.xsd)."""

    source = "ofac_sdn_xml"

    def detect(self, paths: Sequence[Path]) -> bool:
        return xml_roots_are(paths, "sdnList", SDN_NAMESPACES)

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        # "Linked To:" names are resolved once every file is read: they may cross files.
        links: list[tuple[Entry, str]] = []
        return parse_publication(
            self.source,
            paths,
            lambda path, bag: self._parse_file(path, bag, links),
            lambda bag: self._resolve_links(bag, links),
            stated_field="Publish_Date",
        )

    def _parse_file(
        self, path: Path, bag: EntityBag, links: list[tuple[Entry, str]]
    ) -> date | None:
        records = {("sdnList", "publshInformation"), ("sdnList", "sdnEntry")}
        consolidated = logical_name(path).lower().startswith("cons")
        published: date | None = None
        expected: int | None = None
        expected_line: int | None = None
        seen = 0
        for key, element in stream_records(
            path, root="sdnList", namespaces=SDN_NAMESPACES, records=records
        ):
            if key[-1] == "publshInformation":
                published = self._publish_date(path, element)
                count = text_of(element, "Record_Count")
                if count is not None:
                    if not count.isdigit():
                        raise ListFormatError(
                            path,
                            f"Record_Count is {count!r}, not a number",
                            line=line_of(element),
                            field="Record_Count",
                        )
                    expected, expected_line = int(count), line_of(element)
                continue
            self._entry(path, element, bag, consolidated, links)
            seen += 1
        if expected is not None and expected != seen:
            raise ListFormatError(
                path,
                f"publshInformation says {expected} records but the file has {seen} sdnEntry",
                line=expected_line,
                field="Record_Count",
            )
        return published

    @staticmethod
    def _publish_date(path: Path, element: Element) -> date | None:
        raw = text_of(element, "Publish_Date")
        if raw is None:
            return None
        parts = raw.split("/")
        try:
            month, day, year = (int(p) for p in parts)
            return date(year, month, day)
        except ValueError as exc:
            raise ListFormatError(
                path,
                f"Publish_Date {raw!r} is not a MM/DD/YYYY date",
                line=line_of(element),
                field="Publish_Date",
            ) from exc

    def _entry(
        self,
        path: Path,
        el: Element,
        bag: EntityBag,
        consolidated: bool,
        links: list[tuple[Entry, str]],
    ) -> None:
        uid = require_text(path, el, "uid")
        if not uid.isdigit():
            raise ListFormatError(
                path, f"uid {uid!r} is not a number", line=line_of(el), field="uid"
            )
        sdn_type = require_text(path, el, "sdnType")
        last = require_text(path, el, "lastName")
        schema = SDN_TYPES.get(sdn_type.lower())
        proxy = make_entity(schema or "LegalEntity", ofac_id(uid))
        if schema is None:
            note(proxy, "sdnType", sdn_type)
        entry = Entry(bag, proxy, uid)
        first = text_of(el, "firstName")
        put(proxy, "name", _person_name(first, last))
        if schema == "Person":
            put(proxy, "firstName", first)
            put(proxy, "lastName", last)
        put(proxy, "position" if schema == "Person" else "title", text_of(el, "title"), "Title")
        remarks = text_of(el, "remarks")
        put(proxy, "notes", remarks)
        for target in _LINKED_TO.findall(remarks or ""):
            links.append((entry, target.strip().rstrip(".")))
        put(proxy, "topics", "sanction")
        programs = texts_of(el, "programList/program")
        put_all(proxy, "program", programs)

        for aka in el.iterfind("akaList/aka"):
            self._aka(proxy, aka)
        for item in el.iterfind("addressList/address"):
            self._address(entry, item)
        for item in el.iterfind("nationalityList/nationality"):
            prop = "nationality" if proxy.schema.is_a("Person") else "country"
            put(proxy, prop, text_of(item, "country"), "Nationality")
        for item in el.iterfind("citizenshipList/citizenship"):
            prop = "citizenship" if proxy.schema.is_a("Person") else "country"
            put(proxy, prop, text_of(item, "country"), "Citizenship")
        for item in el.iterfind("dateOfBirthList/dateOfBirthItem"):
            put_date(proxy, "birthDate", text_of(item, "dateOfBirth"), "Date of birth")
        for item in el.iterfind("placeOfBirthList/placeOfBirthItem"):
            put(proxy, "birthPlace", text_of(item, "placeOfBirth"), "Place of birth")
        for item in el.iterfind("idList/id"):
            self._id(path, entry, item)
        vessel = el.find("vesselInfo")
        if vessel is not None:
            self._vessel(entry, vessel)

        sanction = entry.new_sanction("-cons" if consolidated else "")
        put_all(sanction, "program", programs)
        put(sanction, "description", CONS_LIST if consolidated else SDN_LIST)
        bag.add_entry(path, proxy, uid, line_of(el))
        entry.add_secondary(sanction)

    @staticmethod
    def _resolve_links(bag: EntityBag, links: list[tuple[Entry, str]]) -> None:
        """``Linked To: NAME`` in remarks -> an UnknownLink to the entry of that name,
        when the publication has one (as the legacy CSV parser does); the remark stays
        in notes either way."""
        by_name: dict[str, str] = {}
        for item in bag.items:
            if item.primary:
                for name in item.proxy.get("name"):
                    by_name.setdefault(name.upper(), item.entry_id)
                if item.proxy.schema.is_a("Person"):
                    last, first = item.proxy.first("lastName"), item.proxy.first("firstName")
                    if last and first:
                        by_name.setdefault(f"{last}, {first}".upper(), item.entry_id)
        for entry, target in links:
            target_uid = by_name.get(target.upper())
            if target_uid is None or target_uid == entry.uid:
                continue
            link = secondary("UnknownLink", f"{entry.base}-link-{target_uid}")
            put(link, "subject", entry.base)
            put(link, "object", ofac_id(target_uid))
            put(link, "role", "Linked To")
            entry.add_secondary(link)

    @staticmethod
    def _aka(proxy: EntityProxy, aka: Element) -> None:
        name = _person_name(text_of(aka, "firstName"), text_of(aka, "lastName"))
        if name is None:
            return
        kind = (text_of(aka, "type") or "a.k.a.").lower()
        strong = (text_of(aka, "category") or "strong").lower() != "weak"
        if kind == "f.k.a.":
            put(proxy, "previousName", name)
        elif kind == "n.k.a.":
            put(proxy, "name", name)
        else:
            put(proxy, "alias" if strong else "weakAlias", name)
            if kind != "a.k.a.":
                note(proxy, f"Name ({kind})", name)

    @staticmethod
    def _address(entry: Entry, item: Element) -> None:
        key = text_of(item, "uid") or key_of(*(n.text for n in item.iter()))
        street = text_of(item, "address1")
        street2 = clean_text(" ".join(t for t in texts_of(item, "address2")))
        street3 = text_of(item, "address3")
        city = text_of(item, "city")
        state = text_of(item, "stateOrProvince")
        postal = text_of(item, "postalCode")
        country = text_of(item, "country")
        region = text_of(item, "region")
        parts = [street, street2, street3, city, state, postal, region, country]
        full = clean_text(", ".join(p for p in parts if p))
        if full is None:
            return
        address = secondary("Address", f"ofac-addr-{key}")
        put(address, "full", full)
        put(address, "street", street)
        put(address, "street2", clean_text(" ".join(p for p in (street2, street3) if p)))
        put(address, "city", city)
        put(address, "state", state)
        put(address, "region", region)
        put(address, "postalCode", postal)
        put(address, "country", country, "Country")
        entry.add_secondary(address)
        put(entry.proxy, "addressEntity", address.id)
        put(entry.proxy, "address", full)
        put(entry.proxy, "country", country, "Address country")

    @staticmethod
    def _id(path: Path, entry: Entry, item: Element) -> None:
        label = text_of(item, "idType")
        number = text_of(item, "idNumber")
        if number is None:
            if label:
                note(entry.proxy, label, text_of(item, "idCountry") or "(no number)")
            return
        key = text_of(item, "uid") or key_of(label, number)
        entry.apply(
            label or "Identification",
            number,
            key=key,
            country=text_of(item, "idCountry"),
            issued=text_of(item, "issueDate"),
            expires=text_of(item, "expirationDate"),
        )

    @staticmethod
    def _vessel(entry: Entry, vessel: Element) -> None:
        proxy = entry.proxy
        put(proxy, "callSign", text_of(vessel, "callSign"), "Call sign")
        put(proxy, "type", text_of(vessel, "vesselType"), "Vessel type")
        put(proxy, "flag", text_of(vessel, "vesselFlag"), "Vessel flag")
        put(proxy, "tonnage", _number(text_of(vessel, "tonnage")), "Tonnage")
        put(
            proxy,
            "grossRegisteredTonnage",
            _number(text_of(vessel, "grossRegisteredTonnage")),
            "Gross registered tonnage",
        )
        owner = text_of(vessel, "vesselOwner")
        if owner:
            entry.owner(owner, "Vessel Owner")


def _number(text: str | None) -> str | None:
    """``1,234`` -> ``1234``; anything else unchanged (put keeps it in notes if unusable)."""
    if text is None:
        return None
    plain = text.replace(",", "")
    return plain if plain.replace(".", "", 1).isdigit() else text


PARSERS: list[ListParser] = [OfacClassicXmlParser(), OfacAdvancedParser()]
