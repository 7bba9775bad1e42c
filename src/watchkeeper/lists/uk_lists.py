"""UK sanctions lists: the OFSI Consolidated List (``ConList.csv``) and the FCDO UK
Sanctions List (``UK-Sanctions-List.xml``).

**OFSI Consolidated List of Financial Sanctions Targets, CSV** (source ``uk_ofsi``;
OFSI stopped updating it on 28 January 2026, when the FCDO list replaced it, but
historical publications are still worth loading). Layout from OFSI's column guide: a
banner row ``Last Updated,<dd/mm/yyyy>``, a header row, then one row per *name* of a
target, the rows of one target sharing its ``Group ID``. The 36 columns are ``Name 6``
(surname, or the whole name of an entity), ``Name 1``-``Name 5`` (given names), ``Title``,
``Name Non-Latin Script``, ``Non-Latin Script Type``, ``Non-Latin Script Language``,
``DOB``, ``Town of Birth``, ``Country of Birth``, ``Nationality``, ``Passport Number``,
``Passport Details``, ``National Identification Number``, ``National Identification
Details``, ``Position``, ``Address 1``-``Address 6``, ``Post/Zip Code``, ``Country``,
``Other Information``, ``Group Type``, ``Alias Type``, ``Alias Quality``, ``Regime``,
``Listed On``, ``UK Sanctions List Date Designated``, ``Last Updated``, ``Group ID``.
Columns are found by name; a column this parser does not know is kept in notes.
Entity ids: ``gb-hmt-<Group ID>``.

**FCDO UK Sanctions List, XML** (source ``uk_fcdo``; the FCDO also publishes CSV and
ODS renderings of the same list, which repeat every designation once per combination
of its names, addresses and other repeated fields; the XML states the structure
directly, so it is the one read here). Document element ``Designations`` (no
namespace) with ``DateGenerated`` (dd/mm/yyyy) and one ``Designation`` per target:
``LastUpdated``, ``DateDesignated``, ``UniqueID``, ``OFSIGroupID``, ``UNReferenceNumber``,
``Names/Name`` (``Name1``-``Name6``, ``NameType``, ``AliasStrength``),
``NonLatinNames/NonLatinName``, ``Titles/Title``, ``RegimeName``,
``IndividualEntityShip``, ``DesignationSource``, ``SanctionsImposed``,
``SanctionsImposedIndicators``, ``OtherInformation``, ``UKStatementofReasons``,
``Addresses/Address``, ``PhoneNumbers``, ``EmailAddresses``, ``Websites``,
``IndividualDetails/Individual``, ``EntityDetails/Entity``, ``ShipDetails/Ship``. Any
element not mapped is kept in notes with its path. Entity ids: ``gb-fcdo-<UniqueID>``
(``gb-fcdo-AFG0001``); its historic OFSI Group ID is kept in notes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from followthemoney import model

from watchkeeper.errors import ListFormatError
from watchkeeper.io import open_binary
from watchkeeper.lists.base import EntityProxy, ListParser, ParsedList, make_entity
from watchkeeper.lists.common import (
    READ_ERRORS,
    Element,
    EntityBag,
    clean_text,
    join_text,
    key_of,
    line_of,
    localname,
    note,
    parse_date_text,
    parse_publication,
    put,
    put_date,
    read_head,
    require_text,
    secondary,
    stream_records,
    texts_of,
    xml_roots_are,
)

GROUP_TYPES = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}
NAME_KINDS = {
    "primary name": "name",
    "primary name variation": "alias",
    "aka": "alias",
    "alias": "alias",
    "fka": "previousName",
}
OFSI_AUTHORITY = "HM Treasury Office of Financial Sanctions Implementation (OFSI)"
FCDO_AUTHORITY = "UK Foreign, Commonwealth and Development Office (FCDO)"

# "(1) Afghanistan (2) Pakistan" -> ["Afghanistan", "Pakistan"]
_NUMBERED = re.compile(r"\(\d{1,2}\)")
_UK_REF = re.compile(r"\(UK Sanctions List Ref\):\s*([A-Z]{3}\d{4})")


def numbered(value: str | None) -> list[str]:
    """Split OFSI's numbered lists; a value without numbering is one item."""
    text = clean_text(value)
    if text is None:
        return []
    items = [clean_text(part) for part in _NUMBERED.split(text)]
    return [i.strip(" ,;") for i in items if i and i.strip(" ,;")]


def dmy_date(path: Path, raw: str | None, *, line: int | None, field: str) -> date | None:
    """A dd/mm/yyyy date the file states about itself (not a birth date)."""
    text = clean_text(raw)
    if text is None:
        return None
    parts = text.split("/")
    try:
        day, month, year = (int(p) for p in parts)
        return date(year, month, day)
    except ValueError as exc:
        raise ListFormatError(
            path, f"{field} {text!r} is not a dd/mm/yyyy date", line=line, field=field
        ) from exc


def uk_date(text: str | None) -> str | None:
    """A listing date in dd/mm/yyyy as ISO, or None (the caller keeps the text)."""
    parsed = parse_date_text(text)
    return parsed.dates[0] if parsed and parsed.exact and parsed.dates else None


# --- building a target, shared by both formats ---------------------------------------------


@dataclass
class Target:
    """One UK target being built, whichever file it comes from."""

    bag: EntityBag
    proxy: EntityProxy
    entry_id: str
    authority: str
    programs: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        assert self.proxy.id is not None
        return self.proxy.id

    def add(self, proxy: EntityProxy) -> EntityProxy:
        return self.bag.add_secondary(proxy, self.entry_id)

    def name(self, parts: Sequence[str | None], kind: str | None, quality: str | None) -> None:
        """Name 1-5 are given names, Name 6 the surname or the whole name."""
        given, last = [p for p in parts[:5] if p], parts[5] if len(parts) > 5 else None
        full = join_text(*given, last, sep=" ")
        if full is None:
            return
        kind_key = (kind or "").strip().lower()
        prop = NAME_KINDS.get(kind_key)
        if prop is None:
            prop = "alias"
            note(self.proxy, f"Name ({kind})", full)
        if prop == "alias" and (quality or "").lower().startswith("low"):
            prop = "weakAlias"
        put(self.proxy, prop, full)
        if prop == "name" and self.proxy.schema.is_a("Person"):
            put(self.proxy, "firstName", given[0] if given else None)
            put(self.proxy, "middleName", join_text(*given[1:], sep=" "))
            put(self.proxy, "lastName", last)

    def non_latin(self, name: str | None, script: str | None, language: str | None) -> None:
        if clean_text(name) is None:
            return
        put(self.proxy, "alias", name)
        described = join_text(script, language and f"language {language}", sep=", ")
        if described:
            note(self.proxy, f"Name in original script ({described})", name)

    def address(self, lines: Sequence[str | None], postal: str | None, country: str | None) -> None:
        full = join_text(*lines, postal, country)
        if full is None:
            return
        address = secondary("Address", f"{self.base}-addr-{key_of(full)}")
        put(address, "full", full)
        put(address, "street", join_text(*lines[:3]))
        put(address, "street2", join_text(*lines[3:5]))
        put(address, "city", lines[5] if len(lines) > 5 else None)
        put(address, "postalCode", postal)
        put(address, "country", country, "Country")
        self.add(address)
        put(self.proxy, "addressEntity", address.id)
        put(self.proxy, "address", full)
        put(self.proxy, "country", country, "Address country")

    def document(self, schema: str, label: str, number: str, details: str | None) -> None:
        prop = "passportNumber" if schema == "Passport" else "idNumber"
        put(self.proxy, prop, number, label)
        if not self.proxy.schema.is_a("LegalEntity"):
            note(self.proxy, f"{label} {number}", details)
            return
        if schema == "Passport" and not self.proxy.schema.is_a("Person"):
            schema = "Identification"
        doc = secondary(schema, f"{self.base}-id-{key_of(label, number)}")
        put(doc, "holder", self.base)
        put(doc, "number", number)
        put(doc, "type", label)
        put(doc, "summary", details)
        self.add(doc)

    def linked(self, role: str, name: str, *, owner: bool) -> None:
        """A named owner/operator, parent or subsidiary: its own entity and an Ownership.

        ``owner`` says the named party owns the target; an owned Organization becomes a
        Company (FtM's Organization that is also an Asset)."""
        other = secondary(
            "LegalEntity" if owner else "Company", f"{self.base}-{role}-{key_of(name)}"
        )
        put(other, "name", name)
        self.add(other)
        if owner and not self.proxy.schema.is_a("Asset"):
            if self.proxy.schema.name != "Organization":
                note(self.proxy, role.title(), name)
                return
            self.proxy.schema = model.common_schema(self.proxy.schema, "Company")
        if not owner and not self.proxy.schema.is_a("LegalEntity"):
            note(self.proxy, role.title(), name)
            return
        link = secondary("Ownership", f"{self.base}-{role}-link-{key_of(name)}")
        put(link, "owner", other.id if owner else self.base)
        put(link, "asset", self.base if owner else other.id)
        put(link, "role", role)
        self.add(link)
        if role == "owner":
            put(self.proxy, "owner", other.id, "Owner")


# --- OFSI ConList.csv ----------------------------------------------------------------------

NAME_COLUMNS = ("Name 1", "Name 2", "Name 3", "Name 4", "Name 5", "Name 6")
ADDRESS_COLUMNS = tuple(f"Address {i}" for i in range(1, 7))
KNOWN_COLUMNS = frozenset(
    {
        *NAME_COLUMNS,
        *ADDRESS_COLUMNS,
        "Title",
        "Name Non-Latin Script",
        "Non-Latin Script Type",
        "Non-Latin Script Language",
        "DOB",
        "Town of Birth",
        "Country of Birth",
        "Nationality",
        "Passport Number",
        "Passport Details",
        "National Identification Number",
        "National Identification Details",
        "Position",
        "Post/Zip Code",
        "Country",
        "Other Information",
        "Group Type",
        "Alias Type",
        "Alias Quality",
        "Regime",
        "Listed On",
        "UK Sanctions List Date Designated",
        "Last Updated",
        "Group ID",
    }
)
REQUIRED_COLUMNS = ("Name 6", "Group Type", "Group ID")


@dataclass
class CsvRow:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str | None:
        return clean_text(self.cells.get(column))


def _decode(path: Path) -> str:
    try:
        with open_binary(path) as fh:
            data = fh.read()
    except READ_ERRORS as exc:
        raise ListFormatError(path, f"cannot read the file: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ListFormatError(
            path, f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded", line=line
        ) from exc


class UkOfsiParser:
    """OFSI ``ConList.csv`` (one row per name, grouped by Group ID)."""

    source = "uk_ofsi"

    def detect(self, paths: Sequence[Path]) -> bool:
        if not paths:
            return False
        for path in paths:
            head = read_head(path, 8192).decode("utf-8-sig", errors="replace")
            lines = head.splitlines()
            if len(lines) < 2 or not lines[0].startswith("Last Updated"):
                return False
            if "Group ID" not in lines[1] or "Name 6" not in lines[1]:
                return False
        return True

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        return parse_publication(
            self.source, paths, self._parse_file, stated_field="'Last Updated' banner"
        )

    def _rows(self, path: Path) -> tuple[date | None, Iterator[CsvRow]]:
        text = _decode(path)
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            banner = next(reader, None)
            if not banner or clean_text(banner[0]) != "Last Updated":
                raise ListFormatError(
                    path, "the first row is not the 'Last Updated,<date>' banner", line=1
                )
            updated = dmy_date(
                path, banner[1] if len(banner) > 1 else None, line=1, field="Last Updated"
            )
            header = next(reader, None)
        except csv.Error as exc:
            raise ListFormatError(path, f"not readable CSV: {exc}", line=reader.line_num) from exc
        if not header:
            raise ListFormatError(path, "the file has no header row", line=2)
        columns = [clean_text(c) or "" for c in header]
        for required in REQUIRED_COLUMNS:
            if required not in columns:
                raise ListFormatError(
                    path, f"the header has no {required!r} column", line=2, field=required
                )

        def rows() -> Iterator[CsvRow]:
            try:
                for cells in reader:
                    if not any(c.strip() for c in cells):
                        continue
                    if len(cells) != len(columns):
                        raise ListFormatError(
                            path,
                            f"row has {len(cells)} columns, the header has {len(columns)}",
                            line=reader.line_num,
                        )
                    yield CsvRow(reader.line_num, dict(zip(columns, cells, strict=True)))
            except csv.Error as exc:
                raise ListFormatError(
                    path, f"not readable CSV: {exc}", line=reader.line_num
                ) from exc

        return updated, rows()

    def _parse_file(self, path: Path, bag: EntityBag) -> date | None:
        updated, rows = self._rows(path)
        groups: dict[str, list[CsvRow]] = {}
        for row in rows:
            group_id = row.get("Group ID")
            if group_id is None or not group_id.isdigit():
                raise ListFormatError(
                    path,
                    f"Group ID {group_id!r} is not a number",
                    line=row.line,
                    field="Group ID",
                )
            groups.setdefault(group_id, []).append(row)
        if not groups:
            raise ListFormatError(path, "the file has no target rows")
        for group_id, group_rows in groups.items():
            self._target(path, bag, group_id, group_rows)
        return updated

    def _target(self, path: Path, bag: EntityBag, group_id: str, rows: list[CsvRow]) -> None:
        types = list(dict.fromkeys(t for r in rows if (t := r.get("Group Type"))))
        schema = GROUP_TYPES.get(types[0].lower()) if types else None
        proxy = make_entity(schema or "LegalEntity", f"gb-hmt-{group_id}")
        if schema is None:
            note(proxy, "Group Type", ", ".join(types) or "(none)")
        elif len(types) > 1:
            note(proxy, "Group Type", ", ".join(types))
        target = Target(bag, proxy, group_id, OFSI_AUTHORITY)
        put(proxy, "topics", "sanction")
        has_primary = any((r.get("Alias Type") or "").lower() == "primary name" for r in rows)

        def once(column: str) -> list[str]:
            return list(dict.fromkeys(v for r in rows if (v := r.get(column))))

        for i, row in enumerate(rows):
            kind = row.get("Alias Type")
            if not has_primary and i == 0:
                kind = "Primary name"
            target.name([row.get(c) for c in NAME_COLUMNS], kind, row.get("Alias Quality"))
            target.non_latin(
                row.get("Name Non-Latin Script"),
                row.get("Non-Latin Script Type"),
                row.get("Non-Latin Script Language"),
            )
            target.address(
                [row.get(c) for c in ADDRESS_COLUMNS], row.get("Post/Zip Code"), row.get("Country")
            )
            for column, value in row.cells.items():
                if column not in KNOWN_COLUMNS and clean_text(value):
                    note(proxy, column or "(unnamed column)", value)
        is_person = proxy.schema.is_a("Person")
        for title in once("Title"):
            for item in numbered(title):
                put(proxy, "title" if is_person else "notes", item, "Title")
        for dob in once("DOB"):
            put_date(proxy, "birthDate", dob, "DOB")
        for town in once("Town of Birth"):
            put_all_numbered(proxy, "birthPlace", town, "Town of birth")
        for country in once("Country of Birth"):
            put_all_numbered(proxy, "birthCountry", country, "Country of birth")
        for nationality in once("Nationality"):
            put_all_numbered(proxy, "nationality", nationality, "Nationality")
        for position in once("Position"):
            put_all_numbered(proxy, "position", position, "Position")
        self._documents(target, rows, "Passport Number", "Passport Details", "Passport")
        self._documents(
            target,
            rows,
            "National Identification Number",
            "National Identification Details",
            "Identification",
        )
        for info in once("Other Information"):
            put(proxy, "notes", info)

        sanction = secondary("Sanction", f"{target.base}-sanction")
        put(sanction, "entity", target.base)
        put(sanction, "authority", OFSI_AUTHORITY)
        put(sanction, "country", "gb")
        for regime in once("Regime"):
            put(sanction, "program", regime)
            put(proxy, "program", regime)
        for info in once("Other Information"):
            for ref in _UK_REF.findall(info):
                put(sanction, "authorityId", ref)
        for listed in once("Listed On"):
            put_date(sanction, "listingDate", listed, "Listed on")
            put(proxy, "createdAt", uk_date(listed))
        for designated in once("UK Sanctions List Date Designated"):
            put_date(sanction, "startDate", designated, "UK Sanctions List date designated")
        for updated in once("Last Updated"):
            put_date(sanction, "modifiedAt", updated, "Last updated")
            put(proxy, "modifiedAt", uk_date(updated))
        bag.add_entry(path, proxy, group_id, rows[0].line)
        target.add(sanction)

    @staticmethod
    def _documents(
        target: Target, rows: list[CsvRow], number_col: str, details_col: str, schema: str
    ) -> None:
        seen: set[tuple[str, str | None]] = set()
        label = "Passport" if schema == "Passport" else "National identification number"
        for row in rows:
            numbers = numbered(row.get(number_col))
            details = numbered(row.get(details_col))
            if not numbers and details:
                note(target.proxy, f"{label} details", row.get(details_col))
                continue
            for i, number in enumerate(numbers):
                # Details pair with numbers when both lists have the same length.
                detail = details[i] if len(details) == len(numbers) else row.get(details_col)
                if (number, detail) in seen:
                    continue
                seen.add((number, detail))
                target.document(schema, label, number, detail)


def put_all_numbered(proxy: EntityProxy, prop: str, value: str, label: str) -> None:
    for item in numbered(value):
        put(proxy, prop, item, label)


# --- FCDO UK Sanctions List XML -------------------------------------------------------------

# Leaf paths (below Designation) this parser maps; every other leaf goes to notes.
_FCDO_MAPPED = frozenset(
    {
        "LastUpdated",
        "DateDesignated",
        "UniqueID",
        "OFSIGroupID",
        "UNReferenceNumber",
        *(f"Names/Name/Name{i}" for i in range(1, 7)),
        "Names/Name/NameType",
        "Names/Name/AliasStrength",
        "NonLatinNames/NonLatinName/NameNonLatinScript",
        "NonLatinNames/NonLatinName/NonLatinScriptType",
        "NonLatinNames/NonLatinName/NonLatinScriptLanguage",
        "Titles/Title",
        "RegimeName",
        "IndividualEntityShip",
        "DesignationSource",
        "SanctionsImposed",
        "OtherInformation",
        "UKStatementofReasons",
        *(f"Addresses/Address/AddressLine{i}" for i in range(1, 7)),
        "Addresses/Address/AddressPostalCode",
        "Addresses/Address/AddressCountry",
        "PhoneNumbers/PhoneNumber",
        "EmailAddresses/EmailAddress",
        "Websites/Website",
        "IndividualDetails/Individual/DOBs/DOB",
        "IndividualDetails/Individual/Nationalities/Nationality",
        "IndividualDetails/Individual/Positions/Position",
        "IndividualDetails/Individual/Genders/Gender",
        "IndividualDetails/Individual/BirthDetails/Location/TownOfBirth",
        "IndividualDetails/Individual/BirthDetails/Location/CountryOfBirth",
        "IndividualDetails/Individual/PassportDetails/Passport/PassportNumber",
        "IndividualDetails/Individual/PassportDetails/Passport/PassportAdditionalInformation",
        "IndividualDetails/Individual/NationalIdentifierDetails/NationalIdentifier/NationalIdentifierNumber",
        "IndividualDetails/Individual/NationalIdentifierDetails/NationalIdentifier/NationalIdentifierAdditionalInformation",
        "EntityDetails/Entity/TypeOfEntities/TypeOfEntity",
        "EntityDetails/Entity/ParentCompanies/ParentCompany",
        "EntityDetails/Entity/Subsidiaries/Subsidiary",
        "EntityDetails/Entity/BusinessRegistrationNumbers/BusinessRegistrationNumber",
        "ShipDetails/Ship/IMONumbers/IMONumber",
        "ShipDetails/Ship/CurrentOwnerOperators/CurrentOwnerOperator",
        "ShipDetails/Ship/CurrentBelievedFlagOfShips/CurrentBelievedFlagOfShip",
        "ShipDetails/Ship/PreviousFlags/PreviousFlag",
        "ShipDetails/Ship/TypeOfShipDetails/TypeOfShip",
        "ShipDetails/Ship/TonnageOfShipDetails/TonnageOfShip",
        "ShipDetails/Ship/YearsBuilt/YearBuilt",
        "ShipDetails/Ship/YearBuiltDetails/YearBuilt",
    }
)
_UNIQUE_ID = re.compile(r"^[A-Za-z0-9]{2,32}$")


def _leaves(element: Element, prefix: str = "") -> Iterator[tuple[str, Element]]:
    for child in element:
        name = localname(child.tag)
        if not name:
            continue
        path = f"{prefix}/{name}" if prefix else name
        if len(child):
            yield from _leaves(child, path)
        else:
            yield path, child


class UkFcdoParser:
    """FCDO ``UK-Sanctions-List.xml`` (Designations)."""

    source = "uk_fcdo"

    def detect(self, paths: Sequence[Path]) -> bool:
        return xml_roots_are(paths, "Designations", (None,))

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        return parse_publication(self.source, paths, self._parse_file, stated_field="DateGenerated")

    def _parse_file(self, path: Path, bag: EntityBag) -> date | None:
        generated: date | None = None
        count = 0
        records = {("Designations", "Designation"), ("Designations", "DateGenerated")}
        for key, element in stream_records(
            path, root="Designations", namespaces=(None,), records=records
        ):
            if key[-1] == "DateGenerated":
                generated = dmy_date(
                    path, element.text, line=line_of(element), field="DateGenerated"
                )
                continue
            self._designation(path, bag, element)
            count += 1
        if count == 0:
            raise ListFormatError(path, "the file has no <Designation> entries")
        return generated

    def _designation(self, path: Path, bag: EntityBag, el: Element) -> None:
        unique_id = require_text(path, el, "UniqueID")
        if not _UNIQUE_ID.match(unique_id):
            raise ListFormatError(
                path, f"UniqueID {unique_id!r} is not an id", line=line_of(el), field="UniqueID"
            )
        kind = require_text(path, el, "IndividualEntityShip")
        schema = GROUP_TYPES.get(kind.lower())
        proxy = make_entity(schema or "LegalEntity", f"gb-fcdo-{unique_id}")
        if schema is None:
            note(proxy, "IndividualEntityShip", kind)
        target = Target(bag, proxy, unique_id, FCDO_AUTHORITY)
        put(proxy, "topics", "sanction")
        is_person = proxy.schema.is_a("Person")

        names = el.findall("Names/Name")
        has_primary = any(
            (clean_text(n.findtext("NameType")) or "").lower() == "primary name" for n in names
        )
        for i, name in enumerate(names):
            kind_text = clean_text(name.findtext("NameType"))
            if not has_primary and i == 0:
                kind_text = "Primary Name"
            target.name(
                [clean_text(name.findtext(f"Name{n}")) for n in range(1, 7)],
                kind_text,
                clean_text(name.findtext("AliasStrength")),
            )
        for non_latin in el.iterfind("NonLatinNames/NonLatinName"):
            target.non_latin(
                non_latin.findtext("NameNonLatinScript"),
                clean_text(non_latin.findtext("NonLatinScriptType")),
                clean_text(non_latin.findtext("NonLatinScriptLanguage")),
            )
        for title in texts_of(el, "Titles/Title"):
            put(proxy, "title" if is_person else "notes", title, "Title")
        for address in el.iterfind("Addresses/Address"):
            target.address(
                [clean_text(address.findtext(f"AddressLine{i}")) for i in range(1, 7)],
                clean_text(address.findtext("AddressPostalCode")),
                clean_text(address.findtext("AddressCountry")),
            )
        for phone in texts_of(el, "PhoneNumbers/PhoneNumber"):
            put(proxy, "phone", phone, "Phone")
        for emails in texts_of(el, "EmailAddresses/EmailAddress"):
            for email in re.split(r"[;\s]+", emails):
                put(proxy, "email", email, "Email")
        for website in texts_of(el, "Websites/Website"):
            put(proxy, "website", website, "Website")
        put(proxy, "notes", clean_text(el.findtext("OtherInformation")))
        group_id = clean_text(el.findtext("OFSIGroupID"))
        if group_id:
            note(proxy, "OFSI Group ID", f"{group_id} (gb-hmt-{group_id})")

        self._individual(target, el)
        self._entity(target, el)
        self._ship(target, el)
        for leaf_path, leaf in _leaves(el):
            if leaf_path not in _FCDO_MAPPED and not leaf_path.startswith(
                "SanctionsImposedIndicators/"
            ):
                note(proxy, leaf_path, leaf.text)

        sanction = secondary("Sanction", f"{target.base}-sanction")
        put(sanction, "entity", target.base)
        put(sanction, "authority", FCDO_AUTHORITY)
        put(sanction, "authorityId", unique_id)
        put(sanction, "country", "gb")
        put(sanction, "unscId", clean_text(el.findtext("UNReferenceNumber")), "UN reference")
        regime = clean_text(el.findtext("RegimeName"))
        put(sanction, "program", regime)
        put(proxy, "program", regime)
        source = clean_text(el.findtext("DesignationSource"))
        if source:
            put(sanction, "summary", f"Designation source: {source}")
        for measure in (clean_text(el.findtext("SanctionsImposed")) or "").split("|"):
            put(sanction, "provisions", measure)
        indicators = [
            localname(i.tag)
            for i in el.iterfind("SanctionsImposedIndicators/*")
            if (clean_text(i.text) or "").lower() == "true"
        ]
        if indicators:
            put(sanction, "summary", f"Sanctions imposed indicators: {', '.join(indicators)}")
        put(sanction, "reason", clean_text(el.findtext("UKStatementofReasons")))
        designated = clean_text(el.findtext("DateDesignated"))
        put_date(sanction, "startDate", designated, "Date designated")
        put(proxy, "createdAt", uk_date(designated))
        updated = clean_text(el.findtext("LastUpdated"))
        put_date(sanction, "modifiedAt", updated, "Last updated")
        put(proxy, "modifiedAt", uk_date(updated))
        bag.add_entry(path, proxy, unique_id, line_of(el))
        target.add(sanction)

    @staticmethod
    def _individual(target: Target, el: Element) -> None:
        proxy = target.proxy
        for person in el.iterfind("IndividualDetails/Individual"):
            for dob in texts_of(person, "DOBs/DOB"):
                put_date(proxy, "birthDate", dob, "DOB")
            for nationality in texts_of(person, "Nationalities/Nationality"):
                put(proxy, "nationality", nationality, "Nationality")
            for position in texts_of(person, "Positions/Position"):
                put(proxy, "position", position, "Position")
            for gender in texts_of(person, "Genders/Gender"):
                put(proxy, "gender", gender, "Gender")
            for location in person.iterfind("BirthDetails/Location"):
                town = clean_text(location.findtext("TownOfBirth"))
                country = clean_text(location.findtext("CountryOfBirth"))
                put(proxy, "birthPlace", join_text(town, country), "Place of birth")
                put(proxy, "birthCountry", country, "Country of birth")
            seen: set[tuple[str, str | None]] = set()
            for passport in person.iterfind("PassportDetails/Passport"):
                number = clean_text(passport.findtext("PassportNumber"))
                info = clean_text(passport.findtext("PassportAdditionalInformation"))
                if number is None:
                    note(proxy, "Passport", info)
                elif (number, info) not in seen:
                    seen.add((number, info))
                    target.document("Passport", "Passport", number, info)
            for national in person.iterfind("NationalIdentifierDetails/NationalIdentifier"):
                number = clean_text(national.findtext("NationalIdentifierNumber"))
                info = clean_text(national.findtext("NationalIdentifierAdditionalInformation"))
                if number is None:
                    note(proxy, "National identifier", info)
                elif (number, info) not in seen:
                    seen.add((number, info))
                    target.document("Identification", "National identifier", number, info)

    @staticmethod
    def _entity(target: Target, el: Element) -> None:
        proxy = target.proxy
        for entity in el.iterfind("EntityDetails/Entity"):
            for form in texts_of(entity, "TypeOfEntities/TypeOfEntity"):
                put(proxy, "legalForm", form, "Type of entity")
            for number in texts_of(
                entity, "BusinessRegistrationNumbers/BusinessRegistrationNumber"
            ):
                put(proxy, "registrationNumber", number, "Business registration number")
            for parent in texts_of(entity, "ParentCompanies/ParentCompany"):
                target.linked("parent", parent, owner=True)
            for subsidiary in texts_of(entity, "Subsidiaries/Subsidiary"):
                target.linked("subsidiary", subsidiary, owner=False)

    @staticmethod
    def _ship(target: Target, el: Element) -> None:
        proxy = target.proxy
        for ship in el.iterfind("ShipDetails/Ship"):
            for imo in texts_of(ship, "IMONumbers/IMONumber"):
                put(proxy, "imoNumber", imo, "IMO number")
            for owner in texts_of(ship, "CurrentOwnerOperators/CurrentOwnerOperator"):
                target.linked("owner", owner, owner=True)
            for flag in texts_of(ship, "CurrentBelievedFlagOfShips/CurrentBelievedFlagOfShip"):
                put(proxy, "flag", flag, "Current believed flag")
            for flag in texts_of(ship, "PreviousFlags/PreviousFlag"):
                put(proxy, "pastFlags", flag, "Previous flag")
            for kind in texts_of(ship, "TypeOfShipDetails/TypeOfShip"):
                put(proxy, "type", kind, "Type of ship")
            for tonnage in texts_of(ship, "TonnageOfShipDetails/TonnageOfShip"):
                put(proxy, "tonnage", tonnage.replace(",", ""), "Tonnage")
            for year in texts_of(ship, "YearsBuilt/YearBuilt") + texts_of(
                ship, "YearBuiltDetails/YearBuilt"
            ):
                put_date(proxy, "buildDate", year, "Year built")


PARSERS: list[ListParser] = [UkOfsiParser(), UkFcdoParser()]
