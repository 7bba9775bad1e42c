"""OFAC's legacy CSV lists: the SDN set and the consolidated non-SDN set.

Both publications share one layout (OFAC "legacy" CSV, no header row):

* primary file (``sdn.csv`` / ``cons_prim.csv``), 12 columns
  ``ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,Vess_owner,Remarks``
* addresses (``add.csv`` / ``cons_add.csv``): ``ent_num,Add_num,Address,City/State/Province/Postal Code,Country,Add_remarks``
* alternate names (``alt.csv`` / ``cons_alt.csv``): ``ent_num,alt_num,alt_type,alt_name,alt_remarks``
* remarks overflow (``sdn_comments.csv`` / ``cons_comments.csv``): ``ent_num,Remarks``, the
  continuation of a ``Remarks`` that the primary file cut off (appended without a separator).

Text is cp1252 (plain ASCII in practice; strict UTF-8 is accepted too), lines end in CRLF,
``-0-`` (usually ``-0- ``) is the null and the file ends with a Ctrl-Z (0x1A) byte. That
byte is the only sign a file is whole (every real file here ends with it, the 2023 and
2024 SDN sets and the 2025 non-SDN set alike, ``sdn_comments.csv`` after a bare LF): a
file without it, cut at a line boundary by an interrupted download, is refused.

The files state no publication date: the version is a date in their path
(``sdn_csv_2024-05-03/``), else their modification time, and says which (``dated_by``).

Mapping to FollowTheMoney (one primary entity per ``ent_num``):

* ``SDN_Type`` ``individual`` -> ``Person``, ``vessel`` -> ``Vessel``, ``aircraft`` ->
  ``Airplane``, ``-0-`` -> ``Organization``. We chose ``Organization`` over ``LegalEntity``
  because OFAC's untyped entries are companies, banks, armed groups, ministries and
  networks: all organisations, and ``Organization`` keeps every ``LegalEntity`` property
  plus ``imoNumber`` (ship managers carry an IMO company number).
* Ids: ``ofac-<ent_num>`` for SDN *and* non-SDN entries (OFAC numbers both lists from one
  sequence; the 61 ``ent_num`` on both are the same party, merged by the store). Secondary
  entities carry the entry's id and a key taken from their own content, so the same
  fact gets the same id in every publication: ``ofac-<n>-sanction`` (SDN) /
  ``ofac-<n>-sanction-cons`` (non-SDN), ``ofac-<n>-sanction-<qualifier>`` (CMIC and
  directive dates), ``ofac-addr-<Add_num>``, ``ofac-<n>-id-<sha1 of label|number|country>``,
  ``ofac-<n>-link-<target ent_num>``, ``ofac-<n>-wallet-<sha1>``, ``ofac-<n>-security-<sha1>``.
* Names: ``SDN_Name`` -> ``name``; ``alt.csv`` a.k.a. / n.k.a. -> ``alias``, f.k.a. ->
  ``previousName``; the quoted a.k.a.'s of the Remarks (OFAC's low-quality aliases) ->
  ``weakAlias``, Remarks f.k.a. -> ``previousName``, n.k.a. -> ``alias``.
* Remarks: parsed by :mod:`watchkeeper.lists.ofac_remarks`; every clause that does not land
  in a structured property is kept verbatim in ``notes``. ``Linked To: NAME`` becomes an
  ``UnknownLink`` to the entry whose primary name is NAME in the same publication; when no
  single entry has that name the clause stays in ``notes``. ``Aircraft Operator`` and
  ``Vess_owner`` resolve the same way to ``operator`` / ``owner``.
* Each entry gets a ``Sanction`` (programs, authority OFAC, provisions from the sanctions
  clauses of the Remarks, and listing/effective dates when the Remarks give them).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from followthemoney import model
from followthemoney.property import Property
from followthemoney.schema import Schema

from watchkeeper.errors import ListFormatError
from watchkeeper.io import logical_name, read_bytes
from watchkeeper.lists.base import (
    EntityProxy,
    ListEntity,
    ListParser,
    ListPart,
    ParsedList,
    date_from_paths,
    file_date,
)
from watchkeeper.lists.common import READ_ERRORS, slug
from watchkeeper.lists.ofac_remarks import IDENTIFIER_LABELS, Kind, Remark, parse_remarks

NULL = "-0-"
PRIMARY_COLUMNS = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
ADDRESS_COLUMNS = (
    "ent_num",
    "Add_num",
    "Address",
    "City/State/Province/Postal Code",
    "Country",
    "Add_remarks",
)
ALIAS_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
# The properties (diff keys) only add.csv / alt.csv fill, so that a diff against a version
# loaded without them leaves these out. The Remarks also give a country and n.k.a./f.k.a.
# names, so those properties cannot be compared at all then. (A note from alt_remarks is
# not listed: no real alt.csv here has one.)
ADDRESS_KEYS = ("address", "addressEntity", "country", "Address.*")
ALIAS_KEYS = ("alias", "previousName")
COMMENT_COLUMNS = ("ent_num", "Remarks")

SCHEMATA = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane", "": "Organization"}
ALIAS_PROPS = {"aka": "alias", "fka": "previousName", "nka": "alias"}
AUTHORITY = "Office of Foreign Assets Control (OFAC)"
# A registration mark as OFAC writes aircraft names (EP-MNG, YK-AYA, N200VR, 4K-AZ38).
_TAIL_NUMBER_RE = re.compile(r"(?:[A-Z0-9]{1,3}-[A-Z0-9]{2,6}|N\d{1,5}[A-Z]{0,2})")


@dataclass(frozen=True)
class CsvSet:
    """The file names of one OFAC CSV publication, by role."""

    primary: str
    addresses: str
    aliases: str
    comments: str
    list_name: str
    sanction_suffix: str
    source_url: str

    @property
    def names(self) -> tuple[str, str, str, str]:
        return (self.primary, self.addresses, self.aliases, self.comments)


SDN_FILES = CsvSet(
    primary="sdn.csv",
    addresses="add.csv",
    aliases="alt.csv",
    comments="sdn_comments.csv",
    list_name="SDN List",
    sanction_suffix="",
    source_url="https://www.treasury.gov/ofac/downloads/sdn.csv",
)
CONS_FILES = CsvSet(
    primary="cons_prim.csv",
    addresses="cons_add.csv",
    aliases="cons_alt.csv",
    comments="cons_comments.csv",
    list_name="Consolidated (non-SDN) List",
    sanction_suffix="-cons",
    source_url="https://www.treasury.gov/ofac/downloads/consolidated/cons_prim.csv",
)


# --- reading the files ----------------------------------------------------------


@dataclass
class Row:
    """One CSV record: its first line in the file, and its cells with nulls as ``""``."""

    line: int
    cells: list[str]


END_MARKER = b"\x1a"
_OFAC_ROW_START = re.compile(rb"(?:\xef\xbb\xbf)?\d+,")


def read_whole(path: Path) -> bytes:
    """The file's bytes, refused unless it ends with OFAC's end-of-file marker."""
    try:
        data = read_bytes(path)
    except READ_ERRORS as exc:
        raise ListFormatError(path, f"cannot read the file: {exc}") from None
    if not _OFAC_ROW_START.match(data):
        return data  # not this format at all: parsing names what is wrong, on line 1
    if not data.rstrip(b"\r\n\t ").endswith(END_MARKER):
        raise ListFormatError(
            path,
            "truncated: no end-of-file marker (OFAC's files end with a Ctrl-Z, 0x1A, byte; "
            "an interrupted download?)",
            line=data.count(b"\n") + 1,
        )
    return data


def decode(path: Path, data: bytes) -> str:
    """The file's text: checks it is cp1252 (or UTF-8) text, drops the closing Ctrl-Z."""
    if not data.strip(b"\x1a\r\n\t "):
        raise ListFormatError(path, "empty file")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or _looks_utf16(data[:400]):
        raise ListFormatError(path, "not cp1252 text: looks like UTF-16", line=1)
    body = data.rstrip(b"\r\n\t ")
    while body.endswith(b"\x1a"):
        body = body[:-1].rstrip(b"\r\n\t ")
    bad = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", body)
    if bad is not None:
        line = body.count(b"\n", 0, bad.start()) + 1
        raise ListFormatError(
            path, f"not text: control byte 0x{bad.group()[0]:02x} (binary file?)", line=line
        )
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp1252")
    except UnicodeDecodeError:
        # Five byte values are unassigned in cp1252; latin-1 maps them to C1 controls.
        return body.decode("latin-1")


def _looks_utf16(head: bytes) -> bool:
    """ASCII text in UTF-16 without a BOM: every other byte is NUL."""
    half = len(head) // 2
    return half >= 4 and max(head[0::2].count(0), head[1::2].count(0)) > 0.8 * half


def _null(cell: str) -> str:
    value = cell.strip()
    return "" if value == NULL else value


def read_rows(path: Path, columns: Sequence[str], data: bytes) -> Iterator[Row]:
    """The records of one file's bytes, each checked for its column count and ``ent_num``."""
    text = decode(path, data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    last_line = 0
    while True:
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ListFormatError(path, f"malformed CSV: {exc}", line=start) from None
        last_line = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != len(columns):
            raise ListFormatError(
                path,
                f"expected {len(columns)} columns ({','.join(columns)}), found {len(cells)}",
                line=start,
            )
        ent_num = cells[0].strip()
        if not ent_num.isdigit() or not ent_num.isascii():
            raise ListFormatError(
                path,
                f"ent_num must be a whole number, not {cells[0]!r}",
                line=start,
                field="ent_num",
            )
        yield Row(start, [str(int(ent_num))] + [_null(c) for c in cells[1:]])


# --- putting values on entities -----------------------------------------------------

_COUNTRY: Property = model.schemata["Thing"].properties["country"]
_CLEAN_CACHE: dict[tuple[str, str | None, str], str | None] = {}
_CLEAN_CACHE_LIMIT = 1 << 19
_UNCACHED_TYPES = frozenset({"name", "text", "address"})  # mostly unique values


def clean_value(prop: Property, value: str) -> str | None:
    """The FtM-normalised value, or ``None`` when the property type rejects it."""
    if prop.type.name in _UNCACHED_TYPES:
        return prop.type.clean_text(value, format=prop.format)
    key = (prop.type.name, prop.format, value)
    try:
        return _CLEAN_CACHE[key]
    except KeyError:
        if len(_CLEAN_CACHE) > _CLEAN_CACHE_LIMIT:
            _CLEAN_CACHE.clear()
        cleaned = _CLEAN_CACHE[key] = prop.type.clean_text(value, format=prop.format)
        return cleaned


def put(proxy: EntityProxy, prop_name: str, value: str | None) -> bool:
    """Add a value if the schema has the property and its type accepts the value."""
    if not value:
        return False
    prop = proxy.schema.get(prop_name)
    if prop is None or prop.stub:
        return False
    cleaned = clean_value(prop, value)
    if cleaned is None:
        return False
    proxy.unsafe_add(prop, cleaned, cleaned=True)
    return True


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode("utf-8")).hexdigest()[:12]


def name_key(name: str) -> str:
    """How ``Linked To:`` names are compared with primary names: case, spaces, final dots."""
    return " ".join(name.casefold().split()).rstrip(". ")


def phone_number(raw: str) -> str:
    """OFAC writes international numbers without the ``+`` (``982188526300``,
    ``(98)(21)(66153220)``, ``0097282851500``): give them one so FtM can check them."""
    text = raw.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return "+" + digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return "+" + digits


# --- one entry ------------------------------------------------------------------


@dataclass
class Entry:
    """The entities of one ``ent_num`` while they are built."""

    ent_num: str
    proxy: EntityProxy
    sanction: EntityProxy
    others: dict[str, EntityProxy] = field(default_factory=dict)
    recognised: int = 0
    clauses: int = 0

    @property
    def schema(self) -> Schema:
        return self.proxy.schema

    def note(self, text: str) -> None:
        self.proxy.unsafe_add(self.proxy.schema.properties["notes"], text, cleaned=True)

    def put_or_note(self, prop: str, value: str | None, note: str) -> bool:
        if put(self.proxy, prop, value):
            return True
        self.note(note)
        return False

    def secondary(self, schema: str, entity_id: str) -> EntityProxy:
        if entity_id not in self.others:
            proxy = model.make_entity(schema)
            proxy.id = entity_id
            self.others[entity_id] = proxy
        return self.others[entity_id]


NameIndex = dict[str, str | None]  # name key -> ent_num (None when several entries share it)


def build_name_index(rows: Sequence[Row]) -> NameIndex:
    index: NameIndex = {}
    for row in rows:
        key = name_key(row.cells[1])
        if not key:
            continue
        index[key] = None if key in index and index[key] != row.cells[0] else row.cells[0]
    return index


class OfacCsvParser:
    """One OFAC legacy CSV publication (SDN or consolidated non-SDN) -> FtM entities."""

    def __init__(self, source: str, files: CsvSet) -> None:
        self.source = source
        self.files = files

    def detect(self, paths: Sequence[Path]) -> bool:
        names = {logical_name(p).lower() for p in paths}
        return self.files.primary in names and names <= set(self.files.names)

    # -- the whole publication

    def roles(self, paths: Sequence[Path]) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in paths:
            name = logical_name(path).lower()
            if name not in self.files.names:
                expected = ", ".join(self.files.names)
                raise ListFormatError(
                    path, f"not a file of the OFAC {self.files.list_name} CSV set ({expected})"
                )
            if name in found:
                raise ListFormatError(path, f"{name} given twice ({found[name]} and {path})")
            found[name] = path
        if self.files.primary not in found:
            raise ListFormatError(
                paths[0] if paths else None, f"{self.files.primary} is missing from the files"
            )
        return found

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        files = self.roles(paths)
        # Every file is checked whole before any is parsed: a cut add.csv is refused at
        # once, not after the primary file's thousands of rows.
        data = {name: read_whole(path) for name, path in files.items()}
        primary_path = files[self.files.primary]
        rows = list(read_rows(primary_path, PRIMARY_COLUMNS, data[self.files.primary]))
        by_ent: dict[str, Row] = {}
        for row in rows:
            if row.cells[0] in by_ent:
                raise ListFormatError(
                    primary_path,
                    f"ent_num {row.cells[0]} appears twice (first on line {by_ent[row.cells[0]].line})",
                    line=row.line,
                    field="ent_num",
                )
            by_ent[row.cells[0]] = row
        counts: dict[str, int] = {f"rows:{self.files.primary}": len(rows)}

        continued: list[str] = []
        if self.files.comments in files:
            n = orphans = 0
            comments = files[self.files.comments]
            for comment in read_rows(comments, COMMENT_COLUMNS, data[self.files.comments]):
                n += 1
                target = by_ent.get(comment.cells[0])
                if target is None:
                    # OFAC ships overflow rows of entries no longer listed (3 in the
                    # 2023-12-28 set): nothing to continue, but say which ones.
                    orphans += 1
                    counts[f"comment_without_entry:{comment.cells[0]}"] = 1
                    continue
                target.cells[11] += comment.cells[1]
                continued.append(comment.cells[0])
            counts[f"rows:{self.files.comments}"] = n
            counts["comments_without_entry"] = orphans

        index = build_name_index(rows)
        entries: dict[str, Entry] = {}
        stats: dict[str, int] = defaultdict(int)
        for row in rows:
            entry = self.build_entry(primary_path, row, index, stats)
            entries[entry.ent_num] = entry

        if self.files.aliases in files:
            counts[f"rows:{self.files.aliases}"] = self.add_aliases(
                files[self.files.aliases], data[self.files.aliases], entries
            )
        if self.files.addresses in files:
            counts[f"rows:{self.files.addresses}"] = self.add_addresses(
                files[self.files.addresses], data[self.files.addresses], entries
            )

        entities: list[ListEntity] = []
        for entry in entries.values():
            entities.append(ListEntity(entry.proxy, entry.ent_num, True))
            entities.append(ListEntity(entry.sanction, entry.ent_num, False))
            entities.extend(ListEntity(p, entry.ent_num, False) for p in entry.others.values())
            stats["remarks_clauses"] += entry.clauses
            stats["remarks_recognised"] += entry.recognised
        counts.update(stats)

        in_path = date_from_paths(paths)
        published = in_path or file_date(paths)
        return ParsedList(
            source=self.source,
            version=published.isoformat(),
            published=published,
            files=list(paths),
            entities=entities,
            counts=counts,
            dated_by=(
                "a date in the file path (OFAC's CSV files state none)"
                if in_path
                else "file modification time (OFAC's CSV files state no date)"
            ),
            parts=self.parts(files, continued),
        )

    def parts(self, files: dict[str, Path], continued: list[str]) -> list[ListPart]:
        """The files read, with what only each of them puts on the entries."""
        only_from: dict[str, ListPart] = {
            self.files.primary: ListPart(self.files.primary),
            self.files.addresses: ListPart(self.files.addresses, ADDRESS_KEYS),
            self.files.aliases: ListPart(self.files.aliases, ALIAS_KEYS),
            # An overflow row continues the Remarks, which fill nearly every property.
            self.files.comments: ListPart(
                self.files.comments, ("*",), tuple(sorted(set(continued), key=int))
            ),
        }
        return [only_from[name] for name in self.files.names if name in files]

    # -- the primary row

    def build_entry(self, path: Path, row: Row, index: NameIndex, stats: dict[str, int]) -> Entry:
        (ent_num, name, sdn_type, program, title, call_sign, vess_type, tonnage, grt, flag,
         owner, remarks) = row.cells  # fmt: skip
        schema_name = SCHEMATA.get(sdn_type.lower())
        if schema_name is None:
            raise ListFormatError(
                path,
                f"unknown SDN_Type {sdn_type!r} (individual, vessel, aircraft or -0-)",
                line=row.line,
                field="SDN_Type",
            )
        if not name:
            raise ListFormatError(path, "entry without a name", line=row.line, field="SDN_Name")
        entity_id = f"ofac-{ent_num}"
        proxy = model.make_entity(schema_name)
        proxy.id = entity_id
        sanction = model.make_entity("Sanction")
        sanction.id = f"{entity_id}-sanction{self.files.sanction_suffix}"
        entry = Entry(ent_num, proxy, sanction)

        # Names keep OFAC's spelling; only runs of spaces are folded (FtM's name cleaning).
        put(proxy, "name", name)
        put(proxy, "topics", "sanction")
        programs = [p.strip() for p in program.split("] [") if p.strip()] if program else []
        for code in programs:
            put(proxy, "program", code)
            put(sanction, "program", code)
            put(sanction, "programId", code)
        put(sanction, "entity", entity_id)
        put(sanction, "authority", AUTHORITY)
        put(sanction, "authorityId", ent_num)
        put(sanction, "country", "us")
        put(sanction, "sourceUrl", self.files.source_url)
        put(sanction, "summary", self.files.list_name)

        if title:
            if schema_name == "Person":
                entry.put_or_note("position", title, f"Title: {title}")
            else:
                entry.note(f"Title: {title}")
        self.vessel_columns(entry, index, call_sign, vess_type, tonnage, grt, flag, owner)
        if schema_name == "Airplane" and _TAIL_NUMBER_RE.fullmatch(name):
            put(proxy, "registrationNumber", name)

        if remarks:
            parsed = parse_remarks(remarks)
            entry.clauses = parsed.clause_count
            for remark in parsed.remarks:
                if self.apply_remark(entry, remark, index, stats):
                    entry.recognised += 1
                else:
                    entry.note(remark.text)
            for clause in parsed.leftover:
                entry.note(clause)
        return entry

    def vessel_columns(
        self,
        entry: Entry,
        index: NameIndex,
        call_sign: str,
        vess_type: str,
        tonnage: str,
        grt: str,
        flag: str,
        owner: str,
    ) -> None:
        """Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner (vessels, in practice)."""
        is_vehicle = entry.schema.is_a("Vehicle")
        for column, prop, value in (
            ("Call_Sign", "callSign", call_sign),
            ("Vess_type", "type", vess_type),
            ("Tonnage", "tonnage", tonnage),
            ("GRT", "grossRegisteredTonnage", grt),
            ("Vess_flag", "flag", flag),
        ):
            if value:
                entry.put_or_note(prop, value, f"{column}: {value}")
        if owner:
            target = index.get(name_key(owner))
            if is_vehicle and target is not None and target != entry.ent_num:
                put(entry.proxy, "owner", f"ofac-{target}")
                ownership = entry.secondary("Ownership", f"ofac-{entry.ent_num}-owner-{target}")
                put(ownership, "owner", f"ofac-{target}")
                put(ownership, "asset", entry.proxy.id)
                put(ownership, "role", "Vess_owner")
                put(ownership, "namesMentioned", owner)
            else:
                entry.note(f"Vess_owner: {owner}")

    # -- the Remarks

    def apply_remark(
        self, entry: Entry, remark: Remark, index: NameIndex, stats: dict[str, int]
    ) -> bool:
        """Put one recognised clause on the entry; False when it only fits ``notes``."""
        proxy = entry.proxy
        kind = remark.kind
        value = remark.value
        if kind is Kind.BIRTH_DATE or kind is Kind.ESTABLISHED:
            prop = "birthDate" if kind is Kind.BIRTH_DATE else "incorporationDate"
            return all([put(proxy, prop, d) for d in remark.dates]) and bool(remark.dates)
        if kind is Kind.AIRCRAFT_BUILD_DATE or kind is Kind.VESSEL_BUILD_YEAR:
            return all([put(proxy, "buildDate", d) for d in remark.dates]) and bool(remark.dates)
        simple = _SIMPLE_PROPS.get(kind)
        if simple is not None:
            if kind is Kind.PHONE:
                value = phone_number(value)
            return put(proxy, simple, value)
        if kind in (Kind.NATIONALITY, Kind.CITIZENSHIP):
            prop = "nationality" if kind is Kind.NATIONALITY else "citizenship"
            if entry.schema.get(prop) is None:
                prop = "country"
            return put(proxy, prop, _region(value))
        if kind is Kind.IDENTIFIER:
            return self.identifier(entry, remark)
        if kind is Kind.LINKED_TO:
            target = index.get(name_key(value))
            if target is None or target == entry.ent_num:
                stats["links_unresolved"] += 1
                return False
            # The name as written stays on the link: a renamed target or a reworded
            # clause is a change of this entry, as it is a change of its row.
            link = entry.secondary("UnknownLink", f"ofac-{entry.ent_num}-link-{target}")
            put(link, "subject", proxy.id)
            put(link, "object", f"ofac-{target}")
            put(link, "role", "Linked To")
            put(link, "namesMentioned", value)
            stats["links_resolved"] += 1
            return True
        if kind is Kind.AIRCRAFT_OPERATOR:
            target = index.get(name_key(value))
            if target is None or target == entry.ent_num:
                return False
            put(proxy, "operator", f"ofac-{target}")
            link = entry.secondary("UnknownLink", f"ofac-{entry.ent_num}-operator-{target}")
            put(link, "subject", f"ofac-{target}")
            put(link, "object", proxy.id)
            put(link, "role", "Aircraft Operator")
            put(link, "namesMentioned", value)
            return True
        if kind is Kind.REGISTRATION_COUNTRY:
            return put(proxy, "country", _region(value))
        if kind is Kind.SANCTIONS_INFO:
            text = remark.text[5:] if remark.alt else remark.text
            return put(entry.sanction, "provisions", text)
        if kind is Kind.INFO_URL:
            return put(entry.sanction, "programUrl", value)
        if kind is Kind.SANCTION_DATE:
            return self.sanction_date(entry, remark)
        if kind is Kind.CRYPTO_WALLET:
            if not entry.schema.is_a("LegalEntity"):
                return False
            wallet = entry.secondary(
                "CryptoWallet", f"ofac-{entry.ent_num}-wallet-{_digest(remark.label or '', value)}"
            )
            put(wallet, "publicKey", value)
            put(wallet, "currencySymbol", remark.label)
            put(wallet, "holder", proxy.id)
            return True
        if kind in (Kind.ISIN, Kind.TICKER):
            if not entry.schema.is_a("LegalEntity"):
                return False
            security = entry.secondary(
                "Security", f"ofac-{entry.ent_num}-security-{_digest(kind.value, value)}"
            )
            put(security, "isin" if kind is Kind.ISIN else "ticker", value)
            put(security, "issuer", proxy.id)
            put(security, "name", value)
            return True
        return False

    def identifier(self, entry: Entry, remark: Remark) -> bool:
        """A numbered document: a holder property plus an Identification/Passport entity."""
        proxy = entry.proxy
        label = remark.label or "Identification"
        category = _category(label)
        number = remark.value
        country = clean_value(_COUNTRY, _region(remark.country))
        place = None
        if remark.country and country is None:
            place = remark.country  # "(Cali)", "(Jalisco)": where it was issued, not a country
        holder_prop = _holder_prop(entry.schema, category)
        if not put(proxy, holder_prop, number):
            fallback = "idNumber" if entry.schema.is_a("LegalEntity") else "registrationNumber"
            if not put(proxy, fallback, number):
                return False
        if category == "usc":
            put(proxy, "registrationNumber", number)
        if country == "ru":
            code = _russian_code(label, category, number)
            if code is not None:
                put(proxy, code, number)
        if not entry.schema.is_a("LegalEntity"):
            return True  # vessels and aircraft cannot hold an Identification entity
        schema = (
            "Passport"
            if category == "passport" and entry.schema.is_a("Person")
            else "Identification"
        )
        doc = entry.secondary(
            schema, f"ofac-{entry.ent_num}-id-{_digest(label, number, remark.country or '')}"
        )
        put(doc, "holder", proxy.id)
        put(doc, "number", number)
        put(doc, "type", label)
        put(doc, "country", country)
        put(doc, "authority", place)
        put(doc, "startDate", remark.issued)
        put(doc, "endDate", remark.expires)
        return True

    def sanction_date(self, entry: Entry, remark: Remark) -> bool:
        qualifier = remark.qualifier or ""
        sanction = entry.secondary("Sanction", f"{entry.sanction.id}-{slug(qualifier)}")
        put(sanction, "entity", entry.proxy.id)
        put(sanction, "authority", AUTHORITY)
        put(sanction, "country", "us")
        put(sanction, "program", qualifier)
        put(sanction, "provisions", qualifier)
        date = remark.dates[0] if remark.dates else None
        if remark.label == "Listing Date":
            return put(sanction, "listingDate", date)
        if remark.label == "Effective Date":
            return put(sanction, "startDate", date)
        # "Purchase/Sales For Divestment Date": no FtM property; kept, dated, on the sanction.
        return put(sanction, "description", f"{remark.label}: {date}")

    # -- alt.csv and add.csv

    def add_aliases(self, path: Path, data: bytes, entries: dict[str, Entry]) -> int:
        n = 0
        for row in read_rows(path, ALIAS_COLUMNS, data):
            ent_num, alt_num, alt_type, alt_name, alt_remarks = row.cells
            entry = self.entry_for(path, row, entries)
            prop = ALIAS_PROPS.get(alt_type.lower())
            if prop is None:
                raise ListFormatError(
                    path, f"unknown alt_type {alt_type!r} (aka, fka or nka)", line=row.line,
                    field="alt_type",
                )  # fmt: skip
            if not alt_name:
                raise ListFormatError(path, "alias without a name", line=row.line, field="alt_name")
            put(entry.proxy, prop, alt_name)
            if alt_remarks:
                entry.note(f"alt_num {alt_num} ({alt_name}): {alt_remarks}")
            n += 1
        return n

    def add_addresses(self, path: Path, data: bytes, entries: dict[str, Entry]) -> int:
        n = 0
        seen: dict[str, int] = {}
        for row in read_rows(path, ADDRESS_COLUMNS, data):
            ent_num, add_num, street, city, country, add_remarks = row.cells
            entry = self.entry_for(path, row, entries)
            if not (add_num.isdigit() and add_num.isascii()):
                raise ListFormatError(
                    path, f"Add_num must be a whole number, not {add_num!r}", line=row.line,
                    field="Add_num",
                )  # fmt: skip
            if add_num in seen:
                raise ListFormatError(
                    path, f"Add_num {add_num} appears twice (first on line {seen[add_num]})",
                    line=row.line, field="Add_num",
                )  # fmt: skip
            add_num = str(int(add_num))
            seen[add_num] = row.line
            address = entry.secondary("Address", f"ofac-addr-{add_num}")
            full = ", ".join(part for part in (street, city, country) if part)
            put(address, "full", full)
            put(address, "street", street)
            put(address, "city", city)
            put(address, "country", _region(country))
            put(address, "remarks", add_remarks)
            put(entry.proxy, "addressEntity", address.id)
            put(entry.proxy, "address", full)
            put(entry.proxy, "country", _region(country))
            n += 1
        return n

    def entry_for(self, path: Path, row: Row, entries: dict[str, Entry]) -> Entry:
        entry = entries.get(row.cells[0])
        if entry is None:
            raise ListFormatError(
                path,
                f"ent_num {row.cells[0]} is not in {self.files.primary}",
                line=row.line,
                field="ent_num",
            )
        return entry


_SIMPLE_PROPS: dict[Kind, str] = {
    Kind.BIRTH_PLACE: "birthPlace",
    Kind.GENDER: "gender",
    Kind.WEAK_ALIAS: "weakAlias",
    Kind.PREVIOUS_NAME: "previousName",
    Kind.NEW_NAME: "alias",
    Kind.ISSUER_NAME: "alias",
    Kind.EMAIL: "email",
    Kind.WEBSITE: "website",
    Kind.PHONE: "phone",
    Kind.IMO: "imoNumber",
    Kind.MMSI: "mmsi",
    Kind.FORMER_FLAG: "pastFlags",
    Kind.OTHER_FLAG: "flag",
    Kind.OTHER_CALL_SIGN: "callSign",
    Kind.OTHER_VESSEL_TYPE: "type",
    Kind.AIRCRAFT_SERIAL: "serialNumber",
    Kind.AIRCRAFT_MODEL: "model",
    Kind.AIRCRAFT_TAIL: "registrationNumber",
    Kind.PREVIOUS_TAIL: "registrationNumber",
    Kind.ORGANIZATION_TYPE: "sector",
    Kind.TARGET_TYPE: "classification",
    Kind.ETHNICITY: "ethnicity",
    Kind.POSITION: "position",
    Kind.POLITICAL: "political",
}


def _region(value: str | None) -> str:
    """``Region: Crimea`` -> ``Crimea`` (FtM knows some regions as territories)."""
    if not value:
        return ""
    return value[len("Region:") :].strip() if value.startswith("Region:") else value


_CATEGORY_PROPS: dict[str, str] = {
    "passport": "passportNumber",
    "national_id": "idNumber",
    "ssn": "socialSecurityNumber",
    "tax": "taxNumber",
    "vat": "vatCode",
    "registration": "registrationNumber",
    "license": "licenseNumber",
    "usc": "uscCode",
    "lei": "leiCode",
    "duns": "dunsCode",
    "swift": "swiftBic",
    "bik": "idNumber",
    "aircraft_serial": "serialNumber",
}


def _category(label: str) -> str:
    known = IDENTIFIER_LABELS.get(label) or IDENTIFIER_LABELS.get(label + ":")
    if known:
        return known
    lowered = label.lower()
    if "passport" in lowered:
        return "passport"
    if "tax" in lowered or "fiscal" in lowered:
        return "tax"
    if "registration" in lowered or "register" in lowered or "license" in lowered:
        return "registration"
    return "national_id"


def _holder_prop(schema: Schema, category: str) -> str:
    if schema.is_a("Vehicle"):
        return "serialNumber" if category == "aircraft_serial" else "registrationNumber"
    prop = _CATEGORY_PROPS.get(category, "idNumber")
    return prop if schema.get(prop) is not None else "idNumber"


def _russian_code(label: str, category: str, number: str) -> str | None:
    """Russian registers OFAC labels generically: INN (tax), OGRN (registration), OKPO."""
    if category == "tax":
        return "innCode"
    if label == "Government Gazette Number":
        return "okpoCode"
    if category == "registration" and len(number) in (13, 15) and number.isdigit():
        return "ogrnCode"
    return None


PARSERS: list[ListParser] = [
    OfacCsvParser("ofac_sdn", SDN_FILES),
    OfacCsvParser("ofac_cons", CONS_FILES),
]
