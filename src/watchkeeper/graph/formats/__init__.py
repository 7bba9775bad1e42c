"""Relations in, from real formats: pure readers from files to a ``GraphBatch``.

- ``read_ftm``: FollowTheMoney entities (OpenSanctions, Aleph);
- ``read_bods``: Beneficial Ownership Data Standard statements, 0.4 and 0.2/0.3;
- ``read_edge_csv``: a user's CSV edge list through an ``EdgeMapping``;
- ``read_graph_files``: any mix of those, the format told by the file, merged into one
  batch whose node and relation ids start ``<source>:``.

They read and check; they store nothing (``graph load`` stores a batch, all or nothing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from watchkeeper.errors import InputError
from watchkeeper.graph.formats.bods import BodsReader, looks_like_bods, read_bods
from watchkeeper.graph.formats.common import (
    check_source,
    finish_batch,
    merge_nodes,
    open_text,
    read_json_records,
)
from watchkeeper.graph.formats.edges import EdgeMapping, EdgeReader, read_edge_csv
from watchkeeper.graph.formats.ftm import FtmReader, looks_like_ftm, read_ftm
from watchkeeper.graph.model import GraphBatch, Node, Relation

FORMATS = ("ftm", "bods", "csv")
_CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")


_BODS_KEY = re.compile(r'"(recordType|statementType|statementID)"\s*:')
_FTM_KEY = re.compile(r'"schema"\s*:')


def sniff_format(path: str | Path) -> str:
    """``"csv"`` by the name (.csv, .tsv, optionally .gz); otherwise the first JSON
    record says: ``"bods"`` (recordType, statementType or statementID) or ``"ftm"``
    (a schema name with properties or an id). ``InputError`` when it is neither."""
    path = Path(path)
    if path.name.lower().endswith(_CSV_SUFFIXES):
        return "csv"
    head = _head(path)
    if head.lstrip().startswith("["):
        # A JSON array is parsed once, by its reader: the keys in its first 64 KiB decide
        # (a key inside a string value has escaped quotes and does not match).
        if _BODS_KEY.search(head):
            return "bods"
        if _FTM_KEY.search(head):
            return "ftm"
    for record in read_json_records(path):
        if looks_like_bods(record.value):
            return "bods"
        if looks_like_ftm(record.value):
            return "ftm"
        raise InputError(
            path,
            "neither BODS statements nor FollowTheMoney entities (first record has "
            "no recordType/statementType nor schema)",
            line=record.line,
        )
    raise InputError(path, "no records")


def _head(path: Path, size: int = 65536) -> str:
    try:
        with open_text(path) as handle:
            return handle.read(size)
    except (UnicodeDecodeError, OSError, EOFError):
        return ""  # read_json_records says what is wrong, with the file's name


def read_graph_files(
    paths: Iterable[str | Path],
    source: str,
    fmt: str | None = None,
    mapping: EdgeMapping | None = None,
) -> GraphBatch:
    """Read every file (each in its own format, sniffed unless ``fmt`` says: ``"ftm"``,
    ``"bods"``, ``"csv"`` or its alias ``"edges"``) into one batch. Files of one format
    are read together, so a relation in one file may name a party described in another. All or nothing: the first bad file raises
    ``InputError`` and nothing is returned."""
    source = check_source(source)
    if fmt == "edges":
        fmt = "csv"
    if fmt is not None and fmt not in FORMATS:
        raise InputError(None, f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    files = [Path(p) for p in paths]
    if not files:
        raise InputError(None, "no files to read")
    ftm, bods, edges = (
        FtmReader(source),
        BodsReader(source),
        EdgeReader(source, mapping or EdgeMapping()),
    )
    used: list[str] = []
    for path in files:
        kind = fmt or sniff_format(path)
        if kind == "ftm":
            ftm.read_file(path)
        elif kind == "bods":
            bods.read_file(path)
        else:
            edges.read_file(path)
        used.append(kind)
    names = [str(p) for p in files]
    batches = [
        reader.finish(names)
        for reader, kind in ((ftm, "ftm"), (bods, "bods"), (edges, "csv"))
        if kind in used
    ]
    return _merge(source, names, batches)


def _merge(source: str, files: list[str], batches: list[GraphBatch]) -> GraphBatch:
    if len(batches) == 1:
        return batches[0]
    nodes: dict[str, Node] = {}
    relations: dict[str, Relation] = {}
    replaced: set[str] = set()
    counts: dict[str, int] = {}
    for batch in batches:
        for node in batch.nodes:
            known = nodes.get(node.id)
            # A placeholder (no source_ref) never overrides a described party.
            if known is None or (known.source_ref == "" and node.source_ref):
                nodes[node.id] = node
            elif node.source_ref:
                nodes[node.id] = merge_nodes(known, node)
        for relation in batch.relations:
            relations[relation.id] = relation
        replaced |= batch.replaced
        for key, value in batch.counts.items():
            if key not in ("nodes", "relations", "placeholder_nodes", "replaced"):
                counts[key] = counts.get(key, 0) + value
    return finish_batch(source, files, nodes, list(relations.values()), replaced, counts)


__all__ = [
    "FORMATS",
    "EdgeMapping",
    "read_bods",
    "read_edge_csv",
    "read_ftm",
    "read_graph_files",
    "sniff_format",
]
