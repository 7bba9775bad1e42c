"""The one Protocol every list parser follows, and helpers they share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from followthemoney import model

from watchkeeper.store.records import EntityProxy, ListEntity, ListPart, ParsedList, file_sha256

__all__ = [
    "EntityProxy",
    "ListEntity",
    "ListParser",
    "ListPart",
    "ParsedList",
    "date_from_paths",
    "file_date",
    "file_sha256",
    "make_entity",
]


class ListParser(Protocol):
    """Reads one official list format into FtM entities."""

    source: str

    def detect(self, paths: Sequence[Path]) -> bool:
        """True when these files are this parser's format (cheap: looks at names and heads)."""
        ...

    def parse(self, paths: Sequence[Path]) -> ParsedList:
        """Parse every file; raise ``ListFormatError`` (file, line, what) on bad input."""
        ...


def make_entity(schema: str, entity_id: str) -> EntityProxy:
    proxy = model.make_entity(schema)
    proxy.id = entity_id
    return proxy


_DATE_IN_PATH = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def date_from_paths(paths: Sequence[Path]) -> date | None:
    """A publication date written in a folder or file name (``sdn_csv_2024-05-03/``)."""
    for path in paths:
        for part in reversed(path.resolve().parts):
            m = _DATE_IN_PATH.search(part)
            if m:
                try:
                    return date(int(m[1]), int(m[2]), int(m[3]))
                except ValueError:
                    continue
    return None


def file_date(paths: Sequence[Path]) -> date:
    """The newest modification date of the files, the fallback version label."""
    from datetime import UTC, datetime

    newest = max(p.stat().st_mtime for p in paths)
    return datetime.fromtimestamp(newest, tz=UTC).date()
