"""Hypothesis strategies that damage a list file the way real downloads get damaged:
cut short, bytes lost or inserted, an element or a CSV field dropped; and the check
every such test makes."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import ListParser, ParsedList

_XML_LEAF = re.compile(rb"<([A-Za-z_][\w.-]*)[^<>]*?(?:/>|>[^<>]*</\1>)")
_CSV_FIELD = re.compile(rb"(?:\"[^\"]*\"|[^,\r\n]*),")

# Small and fast: the whole suite must stay quick on a shared 2-core machine.
MUTATION_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def mutations(data: bytes, *, csv: bool = False) -> st.SearchStrategy[bytes]:
    n = len(data)
    truncate = st.integers(0, n).map(lambda i: data[:i])
    delete = st.tuples(st.integers(0, n), st.integers(1, 64)).map(
        lambda t: data[: t[0]] + data[t[0] + t[1] :]
    )
    insert = st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=16)).map(
        lambda t: data[: t[0]] + t[1] + data[t[0] :]
    )
    pattern = _CSV_FIELD if csv else _XML_LEAF
    spans = [m.span() for m in pattern.finditer(data)]
    drop = st.sampled_from(spans).map(lambda span: data[: span[0]] + data[span[1] :])
    return st.one_of(truncate, delete, insert, drop)


def parse_or_format_error(parser: ListParser, path: Path) -> ParsedList | None:
    """Parse a damaged file: our error naming the file (None), or a whole result whose
    entities all have an id, each once."""
    try:
        parsed = parser.parse([path])
    except ListFormatError as exc:
        assert exc.path == str(path)
        return None
    ids = [e.proxy.id for e in parsed.entities]
    assert len(ids) == len(set(ids)) and all(ids)
    return parsed
