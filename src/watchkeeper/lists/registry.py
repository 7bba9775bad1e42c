"""The parsers Watchkeeper knows, and which one reads a given set of files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import ListParser, ParsedList

PARSERS: dict[str, ListParser] = {}


def detect_parser(paths: Sequence[Path], source: str | None = None) -> ListParser:
    """The parser for these files: named by ``source``, or the one that recognises them."""
    if source is not None:
        if source not in PARSERS:
            known = ", ".join(sorted(PARSERS))
            raise ListFormatError(None, f"unknown list source {source!r} (known: {known})")
        return PARSERS[source]
    for path in paths:
        if not path.is_file():
            raise ListFormatError(path, "no such file")
    matches = [p for p in PARSERS.values() if p.detect(paths)]
    if not matches:
        raise ListFormatError(
            paths[0] if paths else None,
            "not a list format Watchkeeper knows (give --source to say which it is)",
        )
    return matches[0]


def parse_files(paths: Sequence[Path], source: str | None = None) -> ParsedList:
    return detect_parser(paths, source).parse(paths)
