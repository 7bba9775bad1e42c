"""The US Consolidated Screening List (trade.gov CSV) as FtM entities.

Format: one UTF-8 CSV whose header starts ``_id,source,entity_number,type,...``
(https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv).
Multi-valued cells are ``; ``-separated; ``ids`` items read
``[country, ][expiry date, ][issue date, ]number, type``.

Entity ids (stable across list versions):

- ``ofac-<entity_number>`` for rows of an OFAC list (a ``source`` of the Treasury
  Department: SDN, SSI, FSE, PLC, CAP, NS-MBS, CMIC): the same id the OFAC parsers
  give ``ent_num``, so the store merges the CSL's copy with OFAC's own entity instead
  of duplicating it. One OFAC entry listed by several Treasury lists (SDN and SSI
  and CAP) is one entity here too, with one ``Sanction`` per list;
- ``uscsl-<_id>`` for every other row (BIS Entity List, DPL, UVL, MEU; State's
  DTC and ISN): ``_id`` is trade.gov's own record id;
- secondary entities are ``uscsl-<_id>-<kind>-<n>`` (``uscsl-ofac-<entity_number>-...``
  for OFAC rows): ``sanction-<list code>`` (one per source list, e.g.
  ``sanction-sdn``), ``address-<n>``, ``id-<n>`` (``Identification``/``Passport``),
  ``wallet-<n>`` (``CryptoWallet``), ``link-<n>`` (``UnknownLink`` for "Linked To:"
  remarks resolved to an entity on this list), ``party-<n>`` (a vessel owner or
  aircraft operator that is not on the list). Each carries its entry's id
  (``entity_number`` or ``_id``) as ``entry_id``.

``type`` gives the schema: Individual -> Person, Entity -> Organization, Vessel ->
Vessel, Aircraft -> Airplane, empty (BIS and State lists) -> LegalEntity. The source
list name goes to the Sanction's ``authority`` and the entity's ``publisher``;
``start_date`` to ``listingDate``. Whatever has no FtM property, or that FtM cannot
clean, is kept in ``notes`` as ``"<column or id type>: <text>"``.

The version is the newest ``start_date`` in the file (the list carries no
publication date, so this is the latest listing it contains; it is a lower bound
of the publication date); with no start date, a date in the file's path, else
the file's modification date.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from followthemoney import model
from followthemoney.exc import InvalidData

from watchkeeper.errors import ListFormatError
from watchkeeper.io import logical_name, open_binary
from watchkeeper.lists.base import (
    EntityProxy,
    ListEntity,
    ListParser,
    ParsedList,
    date_from_paths,
    file_date,
    make_entity,
)
from watchkeeper.lists.common import (
    READ_ERRORS,
    EntryNotes,
    country_code,
    dated_by,
    iso_date,
    read_head,
    slug,
)

SOURCE = "us_csl"
HEADER_START = "_id,source,entity_number"
REQUIRED = ("_id", "source", "name")
COLUMNS = (
    "_id",
    "source",
    "entity_number",
    "type",
    "programs",
    "name",
    "title",
    "addresses",
    "federal_register_notice",
    "start_date",
    "end_date",
    "standard_order",
    "license_requirement",
    "license_policy",
    "call_sign",
    "vessel_type",
    "gross_tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
    "source_list_url",
    "alt_names",
    "citizenships",
    "dates_of_birth",
    "nationalities",
    "places_of_birth",
    "source_information_url",
    "ids",
)
OFAC_AGENCY = "Treasury Department"

_SCHEMAS = {
    "individual": "Person",
    "entity": "Organization",
    "vessel": "Vessel",
    "aircraft": "Airplane",
    "": "LegalEntity",
}
_RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CC = re.compile(r"^[A-Z]{2}$")
_LIST_CODE = re.compile(r"\(([^)]+)\)")
_YEAR_RANGE = re.compile(r"^(\d{4}) to (\d{4})$")
_CIRCA = re.compile(r"^circa (.+)$", re.IGNORECASE)

# ``ids`` items that are plain properties of the entity.
_ID_PROPS = {
    "Gender": "gender",
    "Website": "website",
    "Email Address": "email",
    "Phone Number": "phone",
    "SWIFT/BIC": "swiftBic",
    "D-U-N-S Number": "dunsCode",
    "MMSI": "mmsi",
    "Vessel Registration Identification": "imoNumber",
    "Other Vessel Call Sign": "callSign",
    "Other Vessel Type": "type",
    "Aircraft Model": "model",
    "Aircraft Manufacturer's Serial Number (MSN)": "serialNumber",
    "Aircraft Serial Identification": "serialNumber",
    "Aircraft Tail Number": "registrationNumber",
    "Target Type": "classification",
    "Organization Type:": "sector",
}
_ID_COUNTRIES = {
    "Other Vessel Flag": "flag",
    "Former Vessel Flag": "pastFlags",
    "Nationality of Registration": "country",
    "Registration Country": "country",
}
_ID_DATES = {
    "Organization Established Date": "incorporationDate",
    "Aircraft Manufacture Date": "buildDate",
}
_ID_PARTIES = {"Aircraft Operator": "operator"}
# Kept as notes: facts about securities and codes that have no FtM property here.
_ID_NOTES = frozenset(
    {
        "Issuer Name",
        "ISIN",
        "Equity Ticker",
        "MICEX Code",
        "UN/LOCODE",
        "Chinese Commercial Code",
        "Previous Aircraft Tail Number",
        "Aircraft Construction Number (also called L/N or S/N or F/N)",
        "Aircraft Mode S Transponder Code",
    }
)
# ``ids`` items that describe the sanction, not an identity: they go to the
# Sanction's ``provisions``.
_SANCTION_INFO = re.compile(
    r"sanction|directive|executive order|effective date|listing date|prohibited|caatsa|"
    r"divestment|ifca|peesa",
    re.IGNORECASE,
)
_CRYPTO = re.compile(r"^Digital Currency Address - (\w+)$")
# Identity documents: which entity property also gets the number.
_DOC_PROPS = (
    (re.compile(r"passport", re.I), "passportNumber"),
    (re.compile(r"^SSN$"), "socialSecurityNumber"),
    (re.compile(r"V\.A\.T\.", re.I), "vatCode"),
    (re.compile(r"legal entity number", re.I), "leiCode"),
    (
        re.compile(
            r"tax|R\.F\.C\.|^RFC$|NIT #|RUC #|FEIN|fiscal|C\.I\.F\.|C\.U\.I\.T\.|RIF #|NUIT|^RTN$|^RSIN$",
            re.I,
        ),
        "taxNumber",
    ),
    (re.compile(r"licen[cs]e", re.I), "licenseNumber"),
    (
        re.compile(
            r"registration|registry|company number|folio|matricula|C\.R\.|chamber|gazette|"
            r"incorporation|business number|enterprise number|branch unit|credit code|"
            r"file number|charity|BIK",
            re.I,
        ),
        "registrationNumber",
    ),
)


# Normalised name -> ids of the entries that carry it.
_NameIndex = dict[str, set[str]]


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _norm_name(name: str) -> str:
    return " ".join(name.upper().split())


def _list_code(source: str) -> str:
    m = _LIST_CODE.search(source)
    return m[1] if m else source


def _is_ofac(source: str) -> bool:
    return source.strip().endswith(OFAC_AGENCY)


@dataclass
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()


@dataclass
class _Group:
    """The rows of one entry: one row, or one OFAC entry carried by several Treasury lists."""

    entity_id: str
    entry_id: str
    prefix: str
    rows: list[_Row] = field(default_factory=list)


def _linked_to(remark: str) -> tuple[list[str], str]:
    """Names after ``Linked To:`` (they may hold brackets) and the rest of the remark."""
    names: list[str] = []
    rest: list[str] = []
    pos = 0
    marker = "Linked To:"
    while True:
        start = remark.find(marker, pos)
        if start < 0:
            rest.append(remark[pos:])
            break
        rest.append(remark[pos:start])
        i = start + len(marker)
        depth = 0
        while i < len(remark):
            ch = remark[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    break
                depth -= 1
            elif ch == ";" and depth == 0:
                break
            i += 1
        name = remark[start + len(marker) : i].strip()
        if name:
            names.append(name)
        pos = i + 1 if i < len(remark) and remark[i] == ";" else i
    leftover = "".join(rest)
    # What the groups leave behind: "()", "( )", stray separators.
    leftover = re.sub(r"\(\s*[;\s]*\)", "", leftover)
    leftover = " ".join(leftover.split()).strip(" ;")
    return names, leftover


class _Builder(EntryNotes):
    """Maps the rows of one entry to its FtM entities."""

    def __init__(self, path: Path, group: _Group, names: tuple[_NameIndex, _NameIndex]) -> None:
        super().__init__()
        self.path = path
        self.group = group
        self.names = names
        self.secondary: list[EntityProxy] = []
        self.serial: Counter[str] = Counter()
        # What one OFAC entry's rows on several Treasury lists repeat is made once.
        self.made: set[tuple[str, ...]] = set()
        self.proxy = make_entity(self._schema(), group.entity_id)
        self.proxy.add("topics", "sanction")

    def _schema(self) -> str:
        schema: str | None = None
        for row in self.group.rows:
            kind = row.get("type")
            name = _SCHEMAS.get(kind.lower())
            if name is None:
                name = "LegalEntity"
                self.note("type", kind)
            if schema is None:
                schema = name
                continue
            try:
                schema = model.common_schema(schema, name).name
            except InvalidData:
                raise ListFormatError(
                    self.path,
                    f"entry {self.group.entry_id} is a {schema} in one row and a {name} here",
                    line=row.line,
                    field="type",
                ) from None
        assert schema is not None
        return schema

    def fail(self, row: _Row, column: str, message: str) -> ListFormatError:
        return ListFormatError(self.path, message, line=row.line, field=column)

    def new_id(self, kind: str) -> str:
        self.serial[kind] += 1
        return f"{self.group.prefix}-{kind}-{self.serial[kind]}"

    def once(self, *key: str) -> bool:
        """True the first time this secondary entity is asked for."""
        if key in self.made:
            return False
        self.made.add(key)
        return True

    # -- the mapping -------------------------------------------------------

    def build(self) -> list[ListEntity]:
        for row in self.group.rows:
            self.row(row)
        for note in self.notes:
            self.proxy.add("notes", note)
        entry = self.group.entry_id
        out = [ListEntity(self.proxy, entry, True)]
        out.extend(ListEntity(p, entry, False) for p in self.secondary)
        return out

    def row(self, row: _Row) -> None:
        proxy = self.proxy
        source = row.get("source")
        proxy.add("publisher", source)
        self.add(proxy, "name", row.get("name"), "name")
        for alias in _split(row.get("alt_names")):
            self.add(proxy, "alias", alias, "alt_names")
        for program in _split(row.get("programs")):
            proxy.add("program", program)
        for title in _split(row.get("title")):
            self.add(proxy, "position", title, "title")
        for text in _split(row.get("addresses")):
            self.address(text)
        for code in _split(row.get("citizenships")):
            self.add_country(proxy, "citizenship", code, "citizenships")
        prop = "nationality" if proxy.schema.get("nationality") else "country"
        for code in _split(row.get("nationalities")):
            self.add_country(proxy, prop, code, "nationalities")
        for text in _split(row.get("dates_of_birth")):
            self.birth_date(text)
        for place in _split(row.get("places_of_birth")):
            self.add(proxy, "birthPlace", place, "places_of_birth")
        self.add(proxy, "callSign", row.get("call_sign"), "call_sign")
        self.add(proxy, "type", row.get("vessel_type"), "vessel_type")
        self.add(proxy, "tonnage", row.get("gross_tonnage"), "gross_tonnage")
        self.add(
            proxy,
            "grossRegisteredTonnage",
            row.get("gross_registered_tonnage"),
            "gross_registered_tonnage",
        )
        if row.get("vessel_flag"):
            self.add_country(proxy, "flag", row.get("vessel_flag"), "vessel_flag")
        if row.get("vessel_owner"):
            self.party("owner", row.get("vessel_owner"), "vessel_owner")
        names, rest = _linked_to(row.get("remarks"))
        for name in names:
            self.link(name)
        self.note("remarks", rest)
        sanction = self.sanction(row, source)
        for item in _split(row.get("ids")):
            self.ident(item, sanction)
        for column, value in row.cells.items():
            if column not in COLUMNS and value.strip():
                self.note(column, value.strip())

    def sanction(self, row: _Row, source: str) -> EntityProxy:
        base = f"{self.group.prefix}-sanction-{slug(_list_code(source)) or 'list'}"
        sanction_id = base
        n = 1
        while any(s.id == sanction_id for s in self.secondary):
            n += 1
            sanction_id = f"{base}-{n}"
        sanction = make_entity("Sanction", sanction_id)
        sanction.add("entity", self.proxy.id)
        sanction.add("authority", source)
        sanction.add("recordId", row.get("_id"))
        for program in _split(row.get("programs")):
            sanction.add("program", program)
        start = row.get("start_date")
        if start:
            self.add_date(sanction, "listingDate", start, "start_date")
            self.add_date(sanction, "startDate", start, "start_date")
        if row.get("end_date"):
            self.add_date(sanction, "endDate", row.get("end_date"), "end_date")
        sanction.add("authorityId", row.get("federal_register_notice"))
        for column, label in (
            ("license_requirement", "License requirement"),
            ("license_policy", "License policy"),
            ("standard_order", "Standard order"),
        ):
            if row.get(column):
                sanction.add("provisions", f"{label}: {row.get(column)}")
        for column in ("source_list_url", "source_information_url"):
            self.add(sanction, "sourceUrl", row.get(column), column)
        self.secondary.append(sanction)
        return sanction

    def address(self, text: str) -> None:
        tail = text.rsplit(",", 1)[-1].strip()
        code = country_code(tail) if _CC.match(tail) else None
        if code is not None:
            self.proxy.add("country", code)
        if code is not None and tail == text:
            return  # a bare country code: no address to speak of
        if not self.once("address", text):
            return
        addr = make_entity("Address", self.new_id("address"))
        addr.add("full", text)
        if code is not None:
            addr.add("country", code)
        self.add(self.proxy, "address", text, "addresses")
        self.proxy.add("addressEntity", addr.id)
        self.secondary.append(addr)

    def birth_date(self, text: str) -> None:
        m = _YEAR_RANGE.match(text)
        circa = _CIRCA.match(text)
        if m and 0 <= int(m[2]) - int(m[1]) <= 20 and self.proxy.schema.get("birthDate"):
            for year in range(int(m[1]), int(m[2]) + 1):
                self.proxy.add("birthDate", str(year))
            self.note("dates_of_birth", text)
        elif circa and iso_date(circa[1]) and self.proxy.schema.get("birthDate"):
            self.proxy.add("birthDate", iso_date(circa[1]))
            self.note("dates_of_birth", text)
        else:
            self.add_date(self.proxy, "birthDate", text, "dates_of_birth")

    def resolve(self, name: str) -> str | None:
        """The one entity on this list with this name, else the one with this alias, if one.

        Names first: "NATIONAL IRANIAN TANKER COMPANY" is one entry's name and
        another entry's alias (its Rotterdam office).
        """
        key = _norm_name(name)
        for index in self.names:
            found = index.get(key, set()) - {self.group.entity_id}
            if found:
                return next(iter(found)) if len(found) == 1 else None
        return None

    def link(self, name: str) -> None:
        target = self.resolve(name)
        if target is None:
            self.note("Linked To", name)
            return
        if not self.once("link", target, name):
            return
        link = make_entity("UnknownLink", self.new_id("link"))
        link.add("subject", self.proxy.id)
        link.add("object", target)
        link.add("role", "Linked To")
        link.add("description", name)
        self.secondary.append(link)

    def party(self, prop: str, name: str, label: str) -> None:
        """A vessel owner or aircraft operator: the entity on the list, else a new one."""
        if self.proxy.schema.get(prop) is None:
            self.note(label, name)
            return
        if not self.once("party", prop, name):
            return
        target = self.resolve(name)
        if target is None:
            other = make_entity("LegalEntity", self.new_id("party"))
            other.add("name", name)
            self.secondary.append(other)
            target = other.id
        self.proxy.add(prop, target)

    def ident(self, item: str, sanction: EntityProxy) -> None:
        parts = [p.strip() for p in item.split(", ")]
        if len(parts) < 2:
            self.note("ids", item)
            return
        label = parts[-1]
        value = ", ".join(parts[:-1])
        crypto = _CRYPTO.match(label)
        if label in _ID_PROPS:
            self.add(self.proxy, _ID_PROPS[label], value, label)
        elif label in _ID_COUNTRIES:
            self.add_country(self.proxy, _ID_COUNTRIES[label], value, label)
        elif label in _ID_DATES:
            self.add_date(self.proxy, _ID_DATES[label], value, label)
        elif label in _ID_PARTIES:
            self.party(_ID_PARTIES[label], value, label)
        elif label in _ID_NOTES:
            self.note(label, value)
        elif crypto is not None:
            self.wallet(crypto[1], value, label)
        elif _SANCTION_INFO.search(label):
            sanction.add("provisions", f"{label} {value}")
        else:
            self.document(label, parts[:-1])

    def wallet(self, currency: str, address: str, label: str) -> None:
        if self.proxy.schema.get("cryptoWallets") is None:
            self.note(label, address)
            return
        if not self.once("wallet", currency, address):
            return
        wallet = make_entity("CryptoWallet", self.new_id("wallet"))
        wallet.add("publicKey", address)
        wallet.add("currency", currency)
        wallet.add("holder", self.proxy.id)
        self.secondary.append(wallet)

    def document(self, label: str, parts: list[str]) -> None:
        country = parts.pop(0) if len(parts) > 1 and _CC.match(parts[0]) else None
        dates: list[str] = []
        while len(parts) > 1 and _ISO_DAY.match(parts[0]) and len(dates) < 2:
            dates.append(parts.pop(0))
        number = ", ".join(parts)
        if not self.proxy.schema.is_a("LegalEntity"):
            # Vessels and aircraft cannot hold an Identification in FtM.
            self.note(label, ", ".join([*(c for c in [country] if c), *dates, number]))
            return
        if not self.once("id", label, country or "", *dates, number):
            return
        is_passport = "passport" in label.lower()
        doc = make_entity("Passport" if is_passport else "Identification", self.new_id("id"))
        doc.add("holder", self.proxy.id)
        doc.add("number", number)
        doc.add("type", label)
        if country is not None:
            self.add_country(doc, "country", country, f"{label} {number} country")
        if len(dates) == 2:  # trade.gov writes the expiry first, then the issue date
            doc.add("endDate", dates[0])
            doc.add("startDate", dates[1])
        elif dates:
            doc.add("date", dates[0])
            doc.add("description", "one date given, not said whether of issue or expiry")
        self.secondary.append(doc)
        # The number also goes to the entity's own property for it (taxNumber,
        # passportNumber...), or to idNumber when that one rejects it (an LEI check).
        prop = next((p for rx, p in _DOC_PROPS if rx.search(label)), "idNumber")
        schema_prop = self.proxy.schema.get(prop)
        if schema_prop is None or self.proxy.unsafe_add(schema_prop, number) is None:
            self.proxy.add("idNumber", number)


class ConsolidatedScreeningListParser:
    """US Consolidated Screening List, trade.gov CSV (one file)."""

    source = SOURCE

    def detect(self, paths: Sequence[Path]) -> bool:
        if len(paths) != 1 or not logical_name(paths[0]).lower().endswith(".csv"):
            return False
        head = read_head(paths[0], 256).decode("utf-8", errors="replace").lstrip("\ufeff")
        return head.startswith(HEADER_START)

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        if len(paths) != 1:
            raise ListFormatError(
                paths[0] if paths else None,
                f"the Consolidated Screening List is one CSV file; got {len(paths)} files",
            )
        path = paths[0]
        try:
            groups, names, counts, newest = self._read(path)
        except READ_ERRORS as exc:
            raise ListFormatError(path, f"cannot read the file: {exc}") from None
        entities: list[ListEntity] = []
        for group in groups.values():
            entities.extend(_Builder(path, group, names).build())
        counts["entries"] = len(groups)
        counts["ofac_linked"] = sum(1 for g in groups if g.startswith("ofac-"))
        published = (
            date.fromisoformat(newest) if newest else (date_from_paths(paths) or file_date(paths))
        )
        return ParsedList(
            source=SOURCE,
            version=published.isoformat(),
            published=published,
            files=[path],
            entities=entities,
            counts=dict(counts),
            # The list states no publication date: its newest start_date is the nearest.
            dated_by=dated_by(paths, "newest start_date", newest is not None),
        )

    def _read(
        self, path: Path
    ) -> tuple[dict[str, _Group], tuple[_NameIndex, _NameIndex], Counter[str], str | None]:
        groups: dict[str, _Group] = {}
        names: _NameIndex = {}
        aliases: _NameIndex = {}
        counts: Counter[str] = Counter()
        newest: str | None = None
        with open_binary(path) as fh:
            for row in _rows(path, fh):
                group = _group_for(path, row, groups)
                group.rows.append(row)
                counts["rows"] += 1
                counts[f"rows:{_list_code(row.get('source'))}"] += 1
                names.setdefault(_norm_name(row.get("name")), set()).add(group.entity_id)
                for alias in _split(row.get("alt_names")):
                    aliases.setdefault(_norm_name(alias), set()).add(group.entity_id)
                start = iso_date(row.get("start_date"))
                if start is not None and len(start) == 10 and (newest is None or start > newest):
                    newest = start
        if not groups:
            raise ListFormatError(path, "the list has a header but no rows", line=2)
        return groups, (names, aliases), counts, newest


def _group_for(path: Path, row: _Row, groups: dict[str, _Group]) -> _Group:
    """The entry a row belongs to: its OFAC entity number or trade.gov's record id."""
    source = row.get("source")
    number = row.get("entity_number")
    record = row.get("_id")
    for column in REQUIRED:
        if not row.get(column):
            raise ListFormatError(path, f"{column} is empty", line=row.line, field=column)
    if not _RECORD_ID.match(record):
        raise ListFormatError(
            path, f"_id {record!r} is not a record id", line=row.line, field="_id"
        )
    if _is_ofac(source) and number:
        if not number.isdigit():
            raise ListFormatError(
                path,
                f"entity_number {number!r} of an OFAC row is not a number",
                line=row.line,
                field="entity_number",
            )
        key, entry, prefix = f"ofac-{number}", number, f"uscsl-ofac-{number}"
    else:
        key, entry, prefix = f"uscsl-{record}", record, f"uscsl-{record}"
    group = groups.get(key)
    if group is None:
        group = groups[key] = _Group(key, entry, prefix)
    return group


def _lines(path: Path, fh: IO[bytes]) -> Iterator[str]:
    """The file's lines as text, failing on the exact line that is not UTF-8."""
    for number, raw in enumerate(fh, 1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ListFormatError(
                path,
                f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {exc.start + 1}",
                line=number,
            ) from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _rows(path: Path, fh: IO[bytes]) -> Iterator[_Row]:
    reader = csv.reader(_lines(path, fh), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ListFormatError(path, "empty file: no CSV header", line=1)
        _check_header(path, header)
        start = reader.line_num + 1
        for cells in reader:
            if not cells:  # a blank line
                start = reader.line_num + 1
                continue
            if len(cells) != len(header):
                raise ListFormatError(
                    path,
                    f"row has {len(cells)} fields, the header has {len(header)}",
                    line=start,
                )
            yield _Row(start, dict(zip(header, cells, strict=True)))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ListFormatError(path, f"bad CSV: {exc}", line=reader.line_num) from None


def _check_header(path: Path, header: list[str]) -> None:
    if ",".join(header[:3]) != HEADER_START:
        raise ListFormatError(
            path,
            f"header starts {','.join(header[:3])!r}, not {HEADER_START!r}: "
            "not a trade.gov Consolidated Screening List CSV",
            line=1,
        )
    missing = [c for c in REQUIRED if c not in header]
    repeated = sorted({c for c in header if header.count(c) > 1})
    if missing or repeated:
        raise ListFormatError(path, f"header lacks {missing} or repeats {repeated}", line=1)


PARSERS: list[ListParser] = [ConsolidatedScreeningListParser()]
