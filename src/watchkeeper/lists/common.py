"""Helpers the list parsers share: dates, countries, and adding values without losing any.

FollowTheMoney drops a value it cannot clean (a country it does not know, a date
it cannot read) without a word. Lists must lose nothing, so parsers add values
through :func:`add_or_note`, which keeps whatever FtM rejects as a readable note.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from followthemoney import registry

from watchkeeper.io import open_binary
from watchkeeper.store.records import EntityProxy

__all__ = [
    "MISSING",
    "add_or_note",
    "country_code",
    "iso_date",
    "put",
    "read_head",
    "single_path",
    "slug",
]

# Values that lists write to say "nothing here".
MISSING = frozenset({"", "na", "n/a", "-0-", "none", "none identified", "unknown", "-"})

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

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ].*|[+-]\d{2}:\d{2}|Z)?$")
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2}) ([A-Za-z]{3,9})\.? (\d{4})$")
_MONTH_YEAR = re.compile(r"^([A-Za-z]{3,9})\.? (\d{4})$")


def _valid(year: int, month: int | None = None, day: int | None = None) -> bool:
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
    m = _ISO.match(value)
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


# Types whose cleaning needs no context and whose values repeat across a list (the
# same few source URLs on every row): cleaned once per distinct value.
_CACHED_TYPES = frozenset({"url", "date", "country", "gender", "topic"})


@functools.lru_cache(maxsize=65536)
def _clean_cached(type_name: str, fmt: str | None, value: str) -> str | None:
    return registry.get(type_name).clean_text(value, format=fmt)


def put(proxy: EntityProxy, prop: str, value: str) -> str | None:
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

    The note reads ``"<label>: <value>"`` (label defaults to the property name),
    so nothing the list said is dropped. Returns whether the value was added.
    """
    if value is None:
        return False
    value = value.strip()
    if not value:
        return False
    added = put(proxy, prop, value)
    # FtM may shorten an identifier when it cleans it (an 11-letter SWIFT/BIC loses its
    # branch code): then the list's own text is kept as a note too.
    lossy = (
        added is not None
        and proxy.schema.properties[prop].type.name == "identifier"
        and _alnum(added) != _alnum(value)
    )
    if added is not None and not lossy:
        return True
    note = f"{label or prop}: {value}"
    if note not in notes:
        notes.append(note)
    return added is not None


_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case letters and digits joined by ``-`` (``NS-MBS List`` -> ``ns-mbs-list``)."""
    return _SLUG.sub("-", text.lower()).strip("-")


def read_head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file (decompressed when gzip); empty when it cannot be read."""
    try:
        with open_binary(path) as fh:
            return fh.read(size)
    except (OSError, EOFError, zlib.error):
        return b""


def single_path(paths: Sequence[Path]) -> Path | None:
    """The one file of a one-file list format, or None when given another number."""
    return paths[0] if len(paths) == 1 else None
