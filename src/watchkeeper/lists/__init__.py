"""Official sanctions lists, each format behind the ``ListParser`` Protocol."""

from watchkeeper.lists.base import ListEntity, ListParser, ParsedList
from watchkeeper.lists.registry import PARSERS, detect_parser, parse_files

__all__ = ["PARSERS", "ListEntity", "ListParser", "ParsedList", "detect_parser", "parse_files"]
