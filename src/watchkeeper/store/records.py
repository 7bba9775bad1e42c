"""The records a list load hands to the store: FtM entities with their list entry."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from followthemoney.proxy import EntityProxy as _EntityProxy

EntityProxy = _EntityProxy


@dataclass
class ListEntity:
    """One FtM entity from a list, with the source entry it came from.

    ``primary`` entities are the list's entries (one per OFAC ``ent_num``, per UN
    ``DATAID``...); the others (Sanction, Address, Identification, links) hang off
    an entry and share its ``entry_id``, so a change to them is a change to the entry.
    """

    proxy: EntityProxy
    entry_id: str
    primary: bool = True


@dataclass
class ParsedList:
    """A whole list publication, parsed and checked, ready to be stored in one go."""

    source: str
    version: str
    published: date | None
    files: list[Path]
    entities: list[ListEntity]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def primary_count(self) -> int:
        return sum(1 for e in self.entities if e.primary)


def file_sha256(paths: Sequence[Path]) -> str:
    """One hash over all files of a publication, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode())
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
