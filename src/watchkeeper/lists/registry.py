"""The parsers Watchkeeper knows, and which one reads a given set of files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from watchkeeper.errors import ListFormatError
from watchkeeper.lists import eu_fsf, ofac_csv, ofac_xml, uk_lists, un_xml, us_csl
from watchkeeper.lists.base import ListParser, ParsedList

# Each format module exposes ``PARSERS``; their ``source`` names are the keys here.
PARSERS: dict[str, ListParser] = {
    parser.source: parser
    for module in (ofac_csv, un_xml, us_csl, ofac_xml, eu_fsf, uk_lists)
    for parser in module.PARSERS
}


def detect_parser(paths: Sequence[Path], source: str | None = None) -> ListParser:
    """The parser for these files: named by ``source``, or the one that recognises them."""
    for path in paths:
        if not path.is_file():
            raise ListFormatError(path, "no such file")
    if source is not None:
        if source not in PARSERS:
            known = ", ".join(sorted(PARSERS))
            raise ListFormatError(None, f"unknown list source {source!r} (known: {known})")
        return PARSERS[source]
    matches = [p for p in PARSERS.values() if p.detect(paths)]
    if not matches:
        raise ListFormatError(
            paths[0] if paths else None,
            "not a list format Watchkeeper knows (give --source to say which it is)",
        )
    return matches[0]


def parse_files(paths: Sequence[Path], source: str | None = None) -> ParsedList:
    return detect_parser(paths, source).parse(paths)
