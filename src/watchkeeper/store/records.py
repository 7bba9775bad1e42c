"""The records a list load hands to the store: FtM entities with their list entry."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from watchkeeper.io import logical_name

if TYPE_CHECKING:
    from followthemoney.proxy import EntityProxy as EntityProxy


def __getattr__(name: str) -> Any:
    # EntityProxy on first use: importing FtM costs 0.6 s, and every command opens the
    # store (which imports this module), most without reading a list file.
    if name == "EntityProxy":
        from followthemoney.proxy import EntityProxy

        return EntityProxy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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


@dataclass(frozen=True)
class ListPart:
    """One file of a publication, and what only it puts on the entries.

    ``keys`` are the diff keys (``alias``, ``Address.full``; ``Address.*`` for every
    property of a secondary schema, ``*`` for all) that come from this file alone, so a
    diff against a version loaded without it leaves them out instead of reporting them
    removed. ``entries``, when given, limits that to the entries the file touched (an
    overflow file that continues a few entries' remarks).
    """

    name: str
    keys: tuple[str, ...] = ()
    entries: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "keys": list(self.keys)}
        if self.entries is not None:
            out["entries"] = list(self.entries)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListPart:
        entries = data.get("entries")
        return cls(
            name=str(data["name"]),
            keys=tuple(data.get("keys") or ()),
            entries=tuple(entries) if entries is not None else None,
        )


@dataclass
class ParsedList:
    """A whole list publication, parsed and checked, ready to be stored in one go.

    ``dated_by`` says where ``published`` came from (a date the file states, a date in
    its path, or the file's modification time); ``parts`` which files it was read from.
    """

    source: str
    version: str
    published: date | None
    files: list[Path]
    entities: list[ListEntity]
    counts: dict[str, int] = field(default_factory=dict)
    dated_by: str = "file modification time"
    parts: list[ListPart] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.parts:
            self.parts = [ListPart(logical_name(p).lower()) for p in self.files]

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
