"""The UN Security Council Consolidated List (XML) as FtM entities.

Format: ``CONSOLIDATED_LIST`` (attribute ``dateGenerated``) with
``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY`` entries, as published at
https://scsanctions.un.org/resources/xml/en/consolidated.xml (schema
https://www.un.org/sc/resources/sc-sanctions.xsd).

Entity ids (stable across list versions; ``DATAID`` is the UN's own record id):

- ``unsc-<DATAID>``: the entry, a ``Person`` (INDIVIDUAL) or ``Organization`` (ENTITY);
- ``unsc-<DATAID>-sanction``: its ``Sanction`` (regime ``UN_LIST_TYPE`` as program,
  ``REFERENCE_NUMBER`` as ``unscId``, ``LISTED_ON`` as ``listingDate``,
  ``LAST_DAY_UPDATED`` values as ``modifiedAt``);
- ``unsc-<DATAID>-doc-<n>``: the n-th ``INDIVIDUAL_DOCUMENT`` with a number, a
  ``Passport`` when its type names a passport, else an ``Identification``;
- ``unsc-<DATAID>-address-<n>``: the n-th address that says more than a country.

Every secondary entity carries its entry's ``DATAID`` as ``entry_id``. The UN's
name parts do not follow a given-name/family-name order, so FIRST_NAME,
SECOND_NAME, THIRD_NAME and FOURTH_NAME go to ``firstName``, ``secondName``,
``middleName`` (third and fourth) and, joined, to ``name``. Alias quality
``Good``/``a.k.a.`` gives ``alias``, ``Low`` gives ``weakAlias``, ``f.k.a.``
gives ``previousName``. Anything that has no FtM property, or that FtM cannot
clean, is kept in the entry's ``notes`` as ``"<field>: <text>"``.

The version is the date of ``dateGenerated``; when it is missing or unreadable,
a date in the file's path, else the file's modification date.

The file is read with ``lxml.etree.iterparse`` and each entry is freed once
mapped, so memory follows one entry, not the whole file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from lxml import etree

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
    dated_by,
    iso_date,
    line_of,
    read_head,
    release,
)

SOURCE = "un_sc"
ROOT = "CONSOLIDATED_LIST"
AUTHORITY = "United Nations Security Council"

# Where entries may sit: the section element and the entry element inside it.
_SECTIONS = {"INDIVIDUALS": "INDIVIDUAL", "ENTITIES": "ENTITY"}
_SCHEMA = {"INDIVIDUAL": "Person", "ENTITY": "Organization"}
_NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
_NAME_PART_PROPS = {
    "FIRST_NAME": "firstName",
    "SECOND_NAME": "secondName",
    "THIRD_NAME": "middleName",
    "FOURTH_NAME": "middleName",
}
_ALIAS_QUALITY = {
    "": "alias",
    "good": "alias",
    "a.k.a.": "alias",
    "low": "weakAlias",
    "f.k.a.": "previousName",
}
_PASSPORT_WORDS = ("passport", "pasaporte", "passeport")


def _text(el: etree._Element | None) -> str:
    """The element's text with whitespace runs made single spaces (the UN wraps long lines)."""
    if el is None or el.text is None:
        return ""
    return " ".join(el.text.split())


def _children(el: etree._Element) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _flatten(el: etree._Element, prefix: str = "") -> list[str]:
    """``"TAG: text"`` for an element we do not map, nested ones as ``A/B: text``."""
    path = f"{prefix}{el.tag}"
    out = [f"{path}: {_text(el)}"] if _text(el) else []
    for child in _children(el):
        out.extend(_flatten(child, f"{path}/"))
    return out


class _Entry(EntryNotes):
    """Maps one INDIVIDUAL or ENTITY element to its FtM entities."""

    def __init__(self, path: Path, elem: etree._Element, dataid: str) -> None:
        super().__init__()
        self.path = path
        self.elem = elem
        self.kind = str(elem.tag)
        self.dataid = dataid
        self.id = f"unsc-{dataid}"
        self.proxy = make_entity(_SCHEMA[self.kind], self.id)
        self.proxy.add("topics", "sanction")
        self.sanction = make_entity("Sanction", f"{self.id}-sanction")
        self.sanction.add("entity", self.id)
        self.sanction.add("authority", AUTHORITY)
        self.sanction.add("recordId", dataid)
        self.secondary: list[EntityProxy] = []
        self.docs = 0
        self.addresses = 0

    def fail(self, message: str, el: etree._Element | None = None) -> ListFormatError:
        where = el if el is not None else self.elem
        tag = f"{self.kind}/{where.tag}" if where is not self.elem else self.kind
        return ListFormatError(
            self.path,
            f"{self.kind} DATAID={self.dataid}: {message}",
            line=line_of(where),
            field=tag,
        )

    # -- the mapping -------------------------------------------------------

    def build(self) -> list[ListEntity]:
        parts: dict[str, str] = {}
        for child in _children(self.elem):
            tag = str(child.tag)
            if tag in _NAME_PARTS:
                if _text(child):
                    if tag in parts:
                        raise self.fail(f"{tag} appears twice", child)
                    parts[tag] = _text(child)
                continue
            handler = _HANDLERS.get(tag)
            if handler is None:
                self.notes.extend(n for n in _flatten(child) if n not in self.notes)
            else:
                handler(self, child)
        name = " ".join(parts[t] for t in _NAME_PARTS if t in parts)
        if not name:
            raise self.fail("the entry has no name (FIRST_NAME is empty)")
        self.proxy.add("name", name)
        if self.kind == "INDIVIDUAL":
            for tag, value in parts.items():
                self.proxy.add(_NAME_PART_PROPS[tag], value)
        for note in self.notes:
            self.proxy.add("notes", note)
        entities = [ListEntity(self.proxy, self.dataid, True)]
        entities.append(ListEntity(self.sanction, self.dataid, False))
        entities.extend(ListEntity(p, self.dataid, False) for p in self.secondary)
        return entities

    def skip(self, el: etree._Element) -> None:
        """DATAID (read before) and empty SORT_KEY-like fields."""

    def plain_note(self, el: etree._Element) -> None:
        self.note(str(el.tag), _text(el))

    def comments(self, el: etree._Element) -> None:
        self.add(self.proxy, "notes", _text(el), "COMMENTS1")

    def version_num(self, el: etree._Element) -> None:
        if _text(el):
            self.sanction.add("summary", f"UN record version {_text(el)}")

    def list_type(self, el: etree._Element) -> None:
        program = _text(el)
        if program:
            self.proxy.add("program", program)
            self.sanction.add("program", program)

    def reference(self, el: etree._Element) -> None:
        self.add(self.sanction, "unscId", _text(el), "REFERENCE_NUMBER")

    def listed_on(self, el: etree._Element) -> None:
        self.add_date(self.sanction, "listingDate", _text(el), "LISTED_ON")

    def gender(self, el: etree._Element) -> None:
        self.add(self.proxy, "gender", _text(el), "GENDER")

    def original_script(self, el: etree._Element) -> None:
        self.add(self.proxy, "alias", _text(el), "NAME_ORIGINAL_SCRIPT")

    def values(self, el: etree._Element) -> list[tuple[etree._Element, str]]:
        out = []
        for child in _children(el):
            if child.tag != "VALUE":
                self.notes.extend(n for n in _flatten(child, f"{el.tag}/") if n not in self.notes)
            elif _text(child):
                out.append((child, _text(child)))
        return out

    def designation(self, el: etree._Element) -> None:
        for _, value in self.values(el):
            self.add(self.proxy, "position", value, "DESIGNATION")

    def title(self, el: etree._Element) -> None:
        for _, value in self.values(el):
            self.add(self.proxy, "title", value, "TITLE")

    def nationality(self, el: etree._Element) -> None:
        prop = "nationality" if self.proxy.schema.get("nationality") else "country"
        for _, value in self.values(el):
            self.add_country(self.proxy, prop, value, "NATIONALITY")

    def list_type_value(self, el: etree._Element) -> None:
        for _, value in self.values(el):
            self.sanction.add("description", value)

    def last_updated(self, el: etree._Element) -> None:
        for _, value in self.values(el):
            self.add_date(self.sanction, "modifiedAt", value, "LAST_DAY_UPDATED")

    def fields(self, el: etree._Element, known: Sequence[str]) -> dict[str, str]:
        """Sub-elements by tag; repeated or unknown ones are kept as notes."""
        out: dict[str, str] = {}
        for child in _children(el):
            tag = str(child.tag)
            value = _text(child)
            if tag in known and tag not in out:
                out[tag] = value
            else:
                self.notes.extend(n for n in _flatten(child, f"{el.tag}/") if n not in self.notes)
        return out

    def alias(self, el: etree._Element) -> None:
        f = self.fields(
            el,
            ("QUALITY", "ALIAS_NAME", "NOTE", "DATE_OF_BIRTH", "CITY_OF_BIRTH", "COUNTRY_OF_BIRTH"),
        )
        name = f.get("ALIAS_NAME", "")
        quality = f.get("QUALITY", "")
        label = f"{el.tag} {name}" if name else str(el.tag)
        if name:
            prop = _ALIAS_QUALITY.get(quality.lower())
            if prop is None:
                prop = "alias"
                self.note(f"{label} QUALITY", quality)
            self.add(self.proxy, prop, name, str(el.tag))
        elif quality:
            self.note(f"{el.tag} QUALITY (no name)", quality)
        self.note(f"{label} NOTE", f.get("NOTE", ""))
        # Birth details given for one alias: add them (screening needs them) and say whose.
        dob = f.get("DATE_OF_BIRTH", "")
        if dob:
            self.add_date(self.proxy, "birthDate", dob, f"{label} DATE_OF_BIRTH")
            self.note(f"{label} DATE_OF_BIRTH", dob)
        city = f.get("CITY_OF_BIRTH", "")
        if city:
            self.add(self.proxy, "birthPlace", city, f"{label} CITY_OF_BIRTH")
            self.note(f"{label} CITY_OF_BIRTH", city)
        country = f.get("COUNTRY_OF_BIRTH", "")
        if country:
            self.add_country(self.proxy, "birthCountry", country, f"{label} COUNTRY_OF_BIRTH")
            self.note(f"{label} COUNTRY_OF_BIRTH", country)

    def date_of_birth(self, el: etree._Element) -> None:
        f = self.fields(el, ("TYPE_OF_DATE", "DATE", "YEAR", "FROM_YEAR", "TO_YEAR", "NOTE"))
        kind = f.get("TYPE_OF_DATE", "").upper()
        given = [f[k] for k in ("DATE", "YEAR") if f.get(k)]
        for value in given:
            self.add_date(self.proxy, "birthDate", value, "DATE_OF_BIRTH")
        start, end = f.get("FROM_YEAR", ""), f.get("TO_YEAR", "")
        if start or end:
            if start.isdigit() and end.isdigit() and 0 <= int(end) - int(start) <= 20:
                for year in range(int(start), int(end) + 1):
                    self.add_date(self.proxy, "birthDate", str(year), "DATE_OF_BIRTH")
            else:
                self.add_date(self.proxy, "birthDate", start, "DATE_OF_BIRTH FROM_YEAR")
                self.add_date(self.proxy, "birthDate", end, "DATE_OF_BIRTH TO_YEAR")
            given.append(f"{start}-{end}")
        if kind not in ("", "EXACT") and given:
            self.note(f"DATE_OF_BIRTH {kind}", ", ".join(given))
        elif kind not in ("", "EXACT", "APPROXIMATELY", "BETWEEN"):
            self.note("DATE_OF_BIRTH TYPE_OF_DATE", kind)
        self.note("DATE_OF_BIRTH NOTE", f.get("NOTE", ""))

    def place_of_birth(self, el: etree._Element) -> None:
        f = self.fields(el, ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY", "NOTE"))
        place = ", ".join(f[k] for k in ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY") if f.get(k))
        if place:
            self.add(self.proxy, "birthPlace", place, "PLACE_OF_BIRTH")
        if f.get("COUNTRY"):
            self.add_country(self.proxy, "birthCountry", f["COUNTRY"], "PLACE_OF_BIRTH COUNTRY")
        self.note("PLACE_OF_BIRTH NOTE", f.get("NOTE", ""))

    def document(self, el: etree._Element) -> None:
        f = self.fields(
            el,
            (
                "TYPE_OF_DOCUMENT",
                "TYPE_OF_DOCUMENT2",
                "NUMBER",
                "ISSUING_COUNTRY",
                "COUNTRY_OF_ISSUE",
                "CITY_OF_ISSUE",
                "DATE_OF_ISSUE",
                "NOTE",
            ),
        )
        if not any(f.values()):
            return
        number = f.get("NUMBER", "")
        kinds = [f[k] for k in ("TYPE_OF_DOCUMENT", "TYPE_OF_DOCUMENT2") if f.get(k)]
        if not number:
            described = "; ".join(f"{k}: {v}" for k, v in f.items() if v)
            self.note("INDIVIDUAL_DOCUMENT (no number)", described)
            return
        self.docs += 1
        is_passport = any(w in k.lower() for k in kinds for w in _PASSPORT_WORDS)
        doc = make_entity(
            "Passport" if is_passport else "Identification", f"{self.id}-doc-{self.docs}"
        )
        doc.add("holder", self.id)
        label = f"INDIVIDUAL_DOCUMENT {number}"
        self.add(doc, "number", number, label)
        for kind in kinds:
            doc.add("type", kind)
        for key in ("ISSUING_COUNTRY", "COUNTRY_OF_ISSUE"):
            if f.get(key):
                self.add_country(doc, "country", f[key], f"{label} {key}")
        self.add_date(doc, "startDate", f.get("DATE_OF_ISSUE", ""), f"{label} DATE_OF_ISSUE")
        if f.get("CITY_OF_ISSUE"):
            doc.add("description", f"issued in {f['CITY_OF_ISSUE']}")
        if f.get("NOTE"):
            doc.add("summary", f["NOTE"])
        prop = "passportNumber" if is_passport else "idNumber"
        self.add(self.proxy, prop, number, label)
        self.secondary.append(doc)

    def address(self, el: etree._Element) -> None:
        keys = ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY", "NOTE")
        f = self.fields(el, keys)
        country = f.get("COUNTRY", "")
        if country:
            self.add_country(self.proxy, "country", country, f"{el.tag} COUNTRY")
        if not any(f.get(k) for k in keys if k != "COUNTRY"):
            return
        self.addresses += 1
        addr = make_entity("Address", f"{self.id}-address-{self.addresses}")
        full = ", ".join(f[k] for k in keys[:-1] if f.get(k))
        if full:
            addr.add("full", full)
        addr.add("street", f.get("STREET"))
        addr.add("city", f.get("CITY"))
        addr.add("state", f.get("STATE_PROVINCE"))
        addr.add("postalCode", f.get("ZIP_CODE"))
        if country:
            self.add_country(addr, "country", country, f"{el.tag} COUNTRY")
        addr.add("remarks", f.get("NOTE"))
        if full:
            self.add(self.proxy, "address", full, str(el.tag))
        else:  # only a note: keep the note on the entry, where a reader sees it
            self.note(f"{el.tag} NOTE", f.get("NOTE", ""))
        self.proxy.add("addressEntity", addr.id)
        self.secondary.append(addr)


_HANDLERS = {
    "DATAID": _Entry.skip,
    "VERSIONNUM": _Entry.version_num,
    "UN_LIST_TYPE": _Entry.list_type,
    "REFERENCE_NUMBER": _Entry.reference,
    "LISTED_ON": _Entry.listed_on,
    "GENDER": _Entry.gender,
    "COMMENTS1": _Entry.comments,
    "NAME_ORIGINAL_SCRIPT": _Entry.original_script,
    "DESIGNATION": _Entry.designation,
    "TITLE": _Entry.title,
    "NATIONALITY": _Entry.nationality,
    "LIST_TYPE": _Entry.list_type_value,
    "LAST_DAY_UPDATED": _Entry.last_updated,
    "INDIVIDUAL_ALIAS": _Entry.alias,
    "ENTITY_ALIAS": _Entry.alias,
    "INDIVIDUAL_ADDRESS": _Entry.address,
    "ENTITY_ADDRESS": _Entry.address,
    "INDIVIDUAL_DATE_OF_BIRTH": _Entry.date_of_birth,
    "INDIVIDUAL_PLACE_OF_BIRTH": _Entry.place_of_birth,
    "INDIVIDUAL_DOCUMENT": _Entry.document,
    "SORT_KEY": _Entry.plain_note,
    "SORT_KEY_LAST_MOD": _Entry.plain_note,
}


def _dataid(path: Path, elem: etree._Element) -> str:
    found = [c for c in _children(elem) if c.tag == "DATAID"]
    if len(found) != 1:
        raise ListFormatError(
            path,
            f"{elem.tag} has {len(found)} DATAID elements (expected one)",
            line=line_of(elem),
            field=str(elem.tag),
        )
    value = _text(found[0])
    if not value.isdigit():
        raise ListFormatError(
            path,
            f"{elem.tag} DATAID {value!r} is not a number",
            line=line_of(found[0]),
            field=f"{elem.tag}/DATAID",
        )
    return value


class UNConsolidatedParser:
    """UN Security Council Consolidated List, XML (one file)."""

    source = SOURCE

    def detect(self, paths: Sequence[Path]) -> bool:
        if len(paths) != 1 or not logical_name(paths[0]).lower().endswith(".xml"):
            return False
        return f"<{ROOT}".encode() in read_head(paths[0])

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        if len(paths) != 1:
            raise ListFormatError(
                paths[0] if paths else None,
                f"the UN consolidated list is one XML file; got {len(paths)} files",
            )
        path = paths[0]
        try:
            entities, counts, generated = self._read(path)
        except etree.XMLSyntaxError as exc:
            raise ListFormatError(
                path, f"not well-formed XML: {exc.msg}", line=exc.lineno or None
            ) from None
        except READ_ERRORS as exc:
            raise ListFormatError(path, f"cannot read the file: {exc}") from None
        published = _version_date(generated)
        stated = published is not None
        if published is None:
            published = date_from_paths(paths) or file_date(paths)
        return ParsedList(
            source=SOURCE,
            version=published.isoformat(),
            published=published,
            files=[path],
            entities=entities,
            counts=dict(counts),
            dated_by=dated_by(paths, "dateGenerated", stated),
        )

    def _read(self, path: Path) -> tuple[list[ListEntity], Counter[str], str | None]:
        entities: list[ListEntity] = []
        counts: Counter[str] = Counter()
        seen: dict[str, int | None] = {}
        generated: str | None = None
        stack: list[str] = []
        with open_binary(path) as fh:
            parser = etree.iterparse(
                fh,
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                remove_comments=True,
                remove_pis=True,
            )
            for event, elem in parser:
                if event == "start":
                    self._check_place(path, elem, stack)
                    stack.append(str(elem.tag))
                    if len(stack) == 1:
                        generated = elem.get("dateGenerated")
                    continue
                stack.pop()
                if len(stack) != 2:
                    continue
                dataid = _dataid(path, elem)
                if dataid in seen:
                    raise ListFormatError(
                        path,
                        f"DATAID {dataid} appears twice (first at line {seen[dataid]})",
                        line=line_of(elem),
                        field=f"{elem.tag}/DATAID",
                    )
                seen[dataid] = line_of(elem)
                entities.extend(_Entry(path, elem, dataid).build())
                counts[str(elem.tag)] += 1
                release(elem)  # memory follows one entry, not the file
        if not counts:
            raise ListFormatError(path, "the list has no INDIVIDUAL or ENTITY entries", field=ROOT)
        return entities, counts, generated

    @staticmethod
    def _check_place(path: Path, elem: etree._Element, stack: list[str]) -> None:
        """The list's skeleton is strict: an unknown section or entry would be lost."""
        tag = str(elem.tag)
        depth = len(stack)
        expected: str | None = None
        if depth == 0 and tag != ROOT:
            expected = ROOT
        elif depth == 1 and tag not in _SECTIONS:
            expected = " or ".join(_SECTIONS)
        elif depth == 2 and tag != _SECTIONS[stack[1]]:
            expected = _SECTIONS[stack[1]]
        if expected is not None:
            where = "/".join([*stack, tag])
            raise ListFormatError(
                path,
                f"unexpected element <{tag}> at {where} (expected {expected}): "
                "not a UN consolidated list, or a damaged one",
                line=line_of(elem),
                field=where,
            )


def _version_date(generated: str | None) -> date | None:
    iso = iso_date(generated)
    if iso is None or len(iso) != 10:
        return None
    return date.fromisoformat(iso)


PARSERS: list[ListParser] = [UNConsolidatedParser()]
