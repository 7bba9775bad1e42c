"""What the list parsers share: reading files, XML records, dates, countries, and
adding values to FtM entities without losing any.

- Reading: stream an XML file record by record with bounded memory (real OFAC
  advanced files are over 100 MB), and turn every read failure into a
  ``ListFormatError`` that names the file and line.
- Values: FollowTheMoney drops a value it cannot clean (a country it does not
  know, a date it cannot read) without a word. Lists must lose nothing, so
  parsers add values through :func:`put` (which keeps what FtM rejects in the
  entity's own ``notes``) or :func:`add_or_note` (which keeps it in a list of
  notes the parser puts on the entry at the end), each with its label.
- Dates and countries as the lists write them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from followthemoney import registry
from lxml import etree

from watchkeeper.errors import ListFormatError
from watchkeeper.io import logical_name, open_binary
from watchkeeper.lists.base import (
    EntityProxy,
    ListEntity,
    ParsedList,
    date_from_paths,
    file_date,
    make_entity,
)

Element = etree._Element

# Reading a file can fail below the XML parser too: a truncated gzip stream, a bad block.
READ_ERRORS = (OSError, EOFError, zlib.error)


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file (decompressed when gzip); empty when it cannot be read."""
    try:
        with open_binary(path) as fh:
            return fh.read(size)
    except READ_ERRORS:
        return b""


# --- XML -------------------------------------------------------------------------------


def line_of(element: Element) -> int | None:
    """The source line of an element, when the parser recorded one."""
    line = getattr(element, "sourceline", None)
    return line if isinstance(line, int) else None


def localname(tag: object) -> str:
    """``{ns}name`` -> ``name``; comments and entity nodes (non-string tags) -> ``""``."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: object) -> str | None:
    if isinstance(tag, str) and tag.startswith("{"):
        return tag[1:].split("}", 1)[0]
    return None


def strip_namespaces(element: Element) -> None:
    """Drop the namespace from every tag below ``element`` so plain paths find them."""
    for node in element.iter():
        tag = node.tag
        if isinstance(tag, str) and tag.startswith("{"):
            node.tag = tag.split("}", 1)[1]


def sniff_root(path: Path) -> tuple[str | None, str] | None:
    """(namespace, local name) of the document element, or None when it is not XML."""
    try:
        with open_binary(path) as fh:
            for _event, element in etree.iterparse(
                fh, events=("start",), resolve_entities=False, no_network=True
            ):
                return namespace(element.tag), localname(element.tag)
    except (etree.XMLSyntaxError, ValueError, *READ_ERRORS):
        return None
    return None


def stream_records(
    path: Path,
    *,
    root: str,
    namespaces: Collection[str | None],
    records: Collection[tuple[str, ...]],
) -> Iterator[tuple[tuple[str, ...], Element]]:
    """Yield ``(path of local names, element)`` for each complete element at ``records``.

    The document element must be ``root`` in one of ``namespaces``. Each yielded
    element has its namespaces stripped; it is cleared after the consumer is done with
    it, so memory stays bounded by the largest record. Malformed XML, a truncated file,
    bad bytes for the declared encoding or an unreadable gzip stream raise
    ``ListFormatError`` with the line where the parser stopped.
    """
    wanted = set(records)
    # lxml filters by tag in C: only the document element and the record elements reach
    # Python, which keeps a 100 MB file to seconds, not minutes.
    names = {root} | {r[-1] for r in wanted}
    root_seen = False
    try:
        with open_binary(path) as fh:
            events = etree.iterparse(
                fh,
                events=("start", "end"),
                tag=[f"{{*}}{n}" for n in sorted(names)],
                resolve_entities=False,
                no_network=True,
                remove_comments=True,
                remove_pis=True,
                huge_tree=True,
            )
            for event, element in events:
                if event == "start":
                    if not root_seen:
                        top = element
                        while (up := top.getparent()) is not None:
                            top = up
                        check_root(path, top, root, namespaces)
                        root_seen = True
                    continue
                key = _path_of(element)
                if key not in wanted:
                    continue
                strip_namespaces(element)
                yield key, element
                release(element)
    except etree.XMLSyntaxError as exc:
        raise ListFormatError(
            path, f"not well-formed XML: {exc.msg}", line=exc.lineno or None
        ) from exc
    except READ_ERRORS as exc:
        raise ListFormatError(path, f"cannot read the file: {exc}") from exc
    if not root_seen:
        found = sniff_root(path)
        described = f"<{found[1]}>" if found else "no document element"
        raise ListFormatError(path, f"document element is {described}, expected <{root}>")


def release(element: Element) -> None:
    """Free a record the reader is done with, and the siblings read before it, so a
    streamed file holds one record in memory, not all it has read."""
    element.clear()  # its tail (whitespace) too: lxml's keep_tail=False
    parent = element.getparent()
    if parent is not None:
        while element.getprevious() is not None:
            del parent[0]


def _path_of(element: Element) -> tuple[str, ...]:
    """Local names from the document element down to ``element``."""
    names = [localname(element.tag)]
    node = element.getparent()
    while node is not None:
        names.append(localname(node.tag))
        node = node.getparent()
    return tuple(reversed(names))


def check_root(path: Path, element: Element, root: str, namespaces: Collection[str | None]) -> None:
    name, ns = localname(element.tag), namespace(element.tag)
    if name == root and ns in namespaces:
        return
    expected = " or ".join(f"{{{n}}}" if n else "no namespace" for n in namespaces)
    found = f"{{{ns}}}{name}" if ns else name
    raise ListFormatError(
        path,
        f"document element is <{found}>, expected <{root}> in {expected}",
        line=line_of(element),
        field=name,
    )


_SPACES = re.compile(r"\s+")


def clean_text(value: str | None) -> str | None:
    """Whitespace collapsed; None for nothing."""
    if value is None:
        return None
    text = _SPACES.sub(" ", value).strip()
    return text or None


def text_of(element: Element, path: str) -> str | None:
    return clean_text(element.findtext(path))


def texts_of(element: Element, path: str) -> list[str]:
    out: list[str] = []
    for node in element.iterfind(path):
        text = clean_text(node.text)
        if text is not None and text not in out:
            out.append(text)
    return out


def require_text(path: Path, element: Element, child: str) -> str:
    """The text of a child the schema requires; its absence is a format error."""
    value = text_of(element, child)
    if value is None:
        raise ListFormatError(
            path,
            f"<{localname(element.tag)}> has no <{child}>, which the schema requires",
            line=line_of(element),
            field=child,
        )
    return value


def require_attr(path: Path, element: Element, attr: str) -> str:
    value = clean_text(element.get(attr))
    if value is None:
        raise ListFormatError(
            path,
            f"<{localname(element.tag)}> has no {attr} attribute, which the schema requires",
            line=line_of(element),
            field=attr,
        )
    return value


# --- FtM values ---------------------------------------------------------------------------

# Types whose cleaning needs no context and whose values repeat across a list (the
# same few source URLs on every row): cleaned once per distinct value.
_CACHED_TYPES = frozenset({"url", "date", "country", "gender", "topic"})


@functools.lru_cache(maxsize=65536)
def _clean_cached(type_name: str, fmt: str | None, value: str) -> str | None:
    return registry.get(type_name).clean_text(value, format=fmt)


def add_value(proxy: EntityProxy, prop: str, value: str) -> str | None:
    """Add a value when the schema has ``prop`` and FtM accepts it; the value as added, or None."""
    schema_prop = proxy.schema.get(prop)
    if schema_prop is None or schema_prop.stub:
        return None
    if schema_prop.type.name in _CACHED_TYPES:
        cleaned = _clean_cached(schema_prop.type.name, schema_prop.format, value)
        if cleaned is None:
            return None
        return proxy.unsafe_add(schema_prop, cleaned, cleaned=True)
    return proxy.unsafe_add(schema_prop, value)


def note(proxy: EntityProxy, label: str, value: str | None) -> None:
    """Keep a value FtM has no property for, with its label: in ``notes``, or in
    ``summary`` / ``description`` for schemata without notes (Sanction, Passport)."""
    text = clean_text(value)
    if not text:
        return
    for prop in ("notes", "summary", "description"):
        if proxy.schema.get(prop) is not None:
            proxy.add(prop, f"{label}: {text}")
            return


def put(proxy: EntityProxy, prop: str, value: str | None, label: str | None = None) -> bool:
    """Add ``value`` to ``prop``; when the schema lacks it or FtM rejects the value,
    keep it in the entity's own notes as ``label: value``. True when the property holds it."""
    text = clean_text(value)
    if text is None:
        return False
    if add_value(proxy, prop, text) is None:
        note(proxy, label or prop, text)
        return False
    return True


def put_all(
    proxy: EntityProxy, prop: str, values: Iterable[str | None], label: str | None = None
) -> None:
    for value in values:
        put(proxy, prop, value, label)


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def add_or_note(
    proxy: EntityProxy,
    prop: str,
    value: str | None,
    notes: list[str],
    label: str | None = None,
) -> bool:
    """Add ``value`` to ``prop`` when the schema has it and FtM accepts it; else keep a note.

    Unlike :func:`put`, the note goes to ``notes``, a list the parser puts on the
    listed entity at the end (so what a document or address rejects is read there),
    and only the ends of the value are trimmed. The note reads ``"<label>: <value>"``
    (label defaults to the property name), so nothing the list said is dropped.
    Returns whether the value was added.
    """
    if value is None:
        return False
    value = value.strip()
    if not value:
        return False
    added = add_value(proxy, prop, value)
    # FtM may shorten an identifier when it cleans it (an 11-letter SWIFT/BIC loses its
    # branch code): then the list's own text is kept as a note too.
    lossy = (
        added is not None
        and proxy.schema.properties[prop].type.name == "identifier"
        and _alnum(added) != _alnum(value)
    )
    if added is not None and not lossy:
        return True
    text = f"{label or prop}: {value}"
    if text not in notes:
        notes.append(text)
    return added is not None


def key_of(*parts: str | None) -> str:
    """A short stable key for an id made from content (an owner's name, an address)."""
    raw = "\x1f".join(p or "" for p in parts)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:12]


def join_text(*parts: str | None, sep: str = ", ") -> str | None:
    return clean_text(sep.join(p for p in parts if p)) if any(parts) else None


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case letters and digits joined by ``-`` (``NS-MBS List`` -> ``ns-mbs-list``)."""
    return _SLUG.sub("-", text.lower()).strip("-")


# --- countries -----------------------------------------------------------------------------

# Values that lists write to say "nothing here".
MISSING = frozenset({"", "na", "n/a", "-0-", "none", "none identified", "unknown", "-"})


@functools.lru_cache(maxsize=4096)
def _country(text: str) -> str | None:
    return registry.country.clean(text)


def country_code(text: str | None) -> str | None:
    """The FtM country code for a name or ISO code (``Iran (Islamic Republic of)`` -> ``ir``).

    ``na``, ``n/a`` and the like mean "not given" here, not Namibia.
    """
    if text is None or text.strip().lower() in MISSING:
        return None
    return _country(text.strip())


class EntryNotes:
    """The notes of one list entry while its entities are built, and the adding of
    values that fall back to them (:func:`add_or_note`): what FtM rejects on the entry
    or on its documents and addresses is kept as ``"<label>: <value>"``, once, for the
    parser to put on the entry's ``notes`` at the end."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, label: str, value: str) -> None:
        if value:
            text = f"{label}: {value}"
            if text not in self.notes:
                self.notes.append(text)

    def add(self, proxy: EntityProxy, prop: str, value: str, label: str) -> bool:
        return add_or_note(proxy, prop, value, self.notes, label)

    def add_date(self, proxy: EntityProxy, prop: str, value: str, label: str) -> None:
        """A date ``iso_date`` reads; any other text is kept as a note."""
        if not value:
            return
        iso = iso_date(value)
        if iso is None or add_value(proxy, prop, iso) is None:
            self.note(label, value)

    def add_country(self, proxy: EntityProxy, prop: str, value: str, label: str) -> None:
        if not value:
            return
        code = country_code(value)  # None for "na", "None Identified": kept as a note
        if code is None or proxy.schema.get(prop) is None:
            self.note(label, value)
        else:
            proxy.add(prop, code)


# --- dates -------------------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for m in names
}

# The dates of the EU, UK and OFAC XML lists, read by ``parse_date_text``.
_ISO_PARTS = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_DMY_TEXT = re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]{3})[a-z]*\.?\s+(\d{4})$")
_SLASHED = re.compile(r"^(\d{1,2}|[dD]{2}|00)/(\d{1,2}|[mM]{2}|00)/(\d{4})$")
_RANGE = re.compile(r"^(.+?)\s+(?:to|-|–)\s+(.+)$")
_CIRCA = re.compile(r"^(?:circa|ca\.?|approx(?:imately)?\.?|about)\s+(.+)$", re.IGNORECASE)

# The dates of the UN list and the CSL, read by ``iso_date``.
_ISO_STAMP = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*|[+-]\d{2}:\d{2}|Z)?$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2}) ([A-Za-z]{3,9})\.? (\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3,9})\.? (\d{4})$")


def iso_prefix(year: int, month: int | None = None, day: int | None = None) -> str | None:
    """An ISO date prefix (``1958``, ``1958-07``, ``1958-07-02``) for a real calendar date."""
    if not 1000 <= year <= 2999:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _one_date(text: str) -> str | None:
    m = _ISO_PARTS.match(text)
    if m:
        return iso_prefix(int(m[1]), int(m[2]) if m[2] else None, int(m[3]) if m[3] else None)
    m = _DMY_TEXT.match(text)
    if m:
        month = _MONTHS.get(m[2].lower())
        if month is None:
            return None
        return iso_prefix(int(m[3]), month, int(m[1]) if m[1] else None)
    m = _SLASHED.match(text)
    if m:  # UK style dd/mm/yyyy, with dd, mm or 00 where a part is not known
        day = int(m[1]) if m[1].isdigit() and int(m[1]) else None
        month = int(m[2]) if m[2].isdigit() and int(m[2]) else None
        if month is None:
            day = None
        return iso_prefix(int(m[3]), month, day)
    return None


@dataclass
class ParsedDate:
    """Dates read from one published date text; ``exact`` is False for circa and ranges."""

    dates: list[str] = field(default_factory=list)
    exact: bool = True


def parse_date_text(text: str | None) -> ParsedDate | None:
    """``02 Jul 1958``, ``Jul 1958``, ``1958``, ``1958-07-02``, ``dd/mm/1958``,
    ``circa 1958``, ``1958 to 1962``. None when the text is none of these."""
    value = clean_text(text)
    if value is None:
        return None
    single = _one_date(value)
    if single is not None:
        return ParsedDate([single])
    m = _CIRCA.match(value)
    if m:
        inner = parse_date_text(m[1])
        return ParsedDate(inner.dates, exact=False) if inner else None
    m = _RANGE.match(value)
    if m:
        start, end = _one_date(m[1].strip()), _one_date(m[2].strip())
        if start and end:
            return ParsedDate([start, end], exact=False)
    return None


def put_date(proxy: EntityProxy, prop: str, text: str | None, label: str) -> None:
    """Add a published date; circa dates and ranges keep their published text in notes,
    and a text that is no date at all goes to notes whole."""
    value = clean_text(text)
    if value is None:
        return
    parsed = parse_date_text(value)
    if parsed is None or proxy.schema.get(prop) is None:
        note(proxy, label, value)
        return
    for iso in parsed.dates:
        put(proxy, prop, iso, label)
    if not parsed.exact:
        note(proxy, f"{label} (as published)", value)


def _valid(year: int, month: int | None = None, day: int | None = None) -> bool:
    # A month or day of 0 passes here as "not given" (iso_prefix refuses it).
    try:
        date(year, month or 1, day or 1)
    except ValueError:
        return False
    return 1000 <= year <= 2999


def iso_date(text: str | None) -> str | None:
    """A list's date as an ISO prefix (``2012-12-31``, ``1971-03``, ``1971``), or None.

    Reads ISO dates (with a trailing time or UTC offset, as the UN writes
    ``2001-01-25-05:00``), ``17 May 1988`` and ``May 1988``. Impossible dates
    (month 13) give None, so the caller can keep the text as a note.
    """
    if text is None:
        return None
    value = text.strip()
    m = _ISO_STAMP.match(value)
    if m:
        year, month, day = int(m[1]), m[2], m[3]
        if _valid(year, int(month) if month else None, int(day) if day else None):
            return "-".join(p for p in (m[1], month, day) if p)
        return None
    m = _DAY_MONTH_YEAR.match(value)
    if m:
        month_no = _MONTHS.get(m[2].lower())
        if month_no and _valid(int(m[3]), month_no, int(m[1])):
            return f"{m[3]}-{month_no:02d}-{int(m[1]):02d}"
        return None
    m = _MONTH_YEAR.match(value)
    if m:
        month_no = _MONTHS.get(m[1].lower())
        if month_no and _valid(int(m[2]), month_no):
            return f"{m[2]}-{month_no:02d}"
    return None


# --- publications and their entities -------------------------------------------------------


def publication_date(paths: Sequence[Path], found: Iterable[date | None]) -> date | None:
    """The newest date the files state about themselves, else one written in their path."""
    dates = [d for d in found if d is not None]
    if dates:
        return max(dates)
    return date_from_paths(paths)


def version_label(paths: Sequence[Path], published: date | None) -> str:
    return (published or file_date(paths)).isoformat()


def dated_by(paths: Sequence[Path], stated_field: str, stated: bool) -> str:
    """Where a version's date came from, in words, for ``ListVersion.dated_by``: the
    file's own ``stated_field`` when ``stated``, else a date in the path, else mtime."""
    if stated:
        return f"{stated_field} in the file"
    if date_from_paths(paths) is not None:
        return f"a date in the file path (no {stated_field} in the file)"
    return f"file modification time (no {stated_field} in the file)"


class EntityBag:
    """The entities of one publication, each id once.

    A primary entity (a list entry) seen twice is a format error; a secondary entity of
    the same entry seen again (the same address repeated on several rows) is merged.
    """

    def __init__(self) -> None:
        self.items: list[ListEntity] = []
        self._index: dict[str, ListEntity] = {}
        self.files: dict[str, int] = {}

    def __contains__(self, entity_id: str) -> bool:
        return entity_id in self._index

    def get(self, entity_id: str) -> EntityProxy | None:
        item = self._index.get(entity_id)
        return item.proxy if item is not None else None

    def add_entry(
        self, path: Path, proxy: EntityProxy, entry_id: str, line: int | None = None
    ) -> None:
        assert proxy.id is not None
        if proxy.id in self._index:
            raise ListFormatError(
                path, f"entry {entry_id} ({proxy.id}) appears more than once", line=line
            )
        item = ListEntity(proxy, entry_id, primary=True)
        self._index[proxy.id] = item
        self.items.append(item)
        name = logical_name(path)
        self.files[name] = self.files.get(name, 0) + 1

    def add_secondary(self, proxy: EntityProxy, entry_id: str) -> EntityProxy:
        """Add or merge a secondary entity; returns the one kept."""
        assert proxy.id is not None
        known = self._index.get(proxy.id)
        if known is not None:
            if known.proxy.schema != proxy.schema:
                proxy.id = f"{proxy.id}-{proxy.schema.name.lower()}"
                return self.add_secondary(proxy, entry_id)
            known.proxy.merge(proxy)
            return known.proxy
        item = ListEntity(proxy, entry_id, primary=False)
        self._index[proxy.id] = item
        self.items.append(item)
        return proxy

    @property
    def entry_count(self) -> int:
        return sum(1 for i in self.items if i.primary)

    def counts(self) -> dict[str, int]:
        """Entries in all, and per file (``entries:sdn.xml``)."""
        out = {"entries": self.entry_count}
        out.update({f"entries:{name}": n for name, n in self.files.items()})
        return out


def secondary(schema: str, entity_id: str) -> EntityProxy:
    return make_entity(schema, entity_id)


def xml_roots_are(paths: Sequence[Path], root: str, namespaces: Collection[str | None]) -> bool:
    """True when there are files and each is XML whose document element is ``root`` in
    one of ``namespaces`` (``None`` for no namespace): a parser's ``detect``."""
    if not paths:
        return False
    for path in paths:
        found = sniff_root(path)
        if found is None or found[1] != root or found[0] not in namespaces:
            return False
    return True


def parse_publication(
    source: str,
    paths: Sequence[Path],
    read_file: Callable[[Path, EntityBag], date | None],
    finish: Callable[[EntityBag], None] | None = None,
    *,
    stated_field: str = "publication date",
) -> ParsedList:
    """One publication of ``source`` from its files, read each in turn into one bag.

    ``read_file`` adds a file's entries and returns the date the file states about
    itself, if any (its ``stated_field``); ``finish`` runs once all files are read (for
    links across them). The version is the newest stated date, else one in the files'
    path, else their modification date; ``dated_by`` says which.
    """
    if not paths:
        raise ListFormatError(None, "no files given")
    bag = EntityBag()
    dates = [read_file(path, bag) for path in paths]
    if finish is not None:
        finish(bag)
    published = publication_date(paths, dates)
    return ParsedList(
        source=source,
        version=version_label(paths, published),
        published=published,
        files=list(paths),
        entities=bag.items,
        counts=bag.counts(),
        dated_by=dated_by(paths, stated_field, any(d is not None for d in dates)),
    )
