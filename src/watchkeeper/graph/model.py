"""The ownership and control graph's records: parties (nodes), the statements that
join them (relations) and the shares those statements give, with their sources.

Every loader (FtM, BODS, a CSV register, the shadow-fleet history, the lists' own
relations) produces these; the store keeps them versioned; the control rules
(``graph.control``) read them as of a date. Shares are fractions in 0..1, never
percentages, and a share is a range: a register that says "25-50%" is not rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

RelationKind = Literal[
    "ownership",  # shares or other proprietary rights (FtM Ownership, BODS shareholding)
    "voting",  # voting rights (BODS votingRights)
    "control",  # board appointment, dominant influence, control by agreement
    "directorship",
    "membership",
    "family",
    "associate",
    "representation",
    "unknown_link",  # OFAC "Linked To", related-party notes with no stated nature
    "vessel_owner",  # registered owner of a vessel
    "vessel_manager",  # ISM, ship or commercial manager of a vessel
    "aircraft_operator",
]

RELATION_KINDS: tuple[RelationKind, ...] = (
    "ownership",
    "voting",
    "control",
    "directorship",
    "membership",
    "family",
    "associate",
    "representation",
    "unknown_link",
    "vessel_owner",
    "vessel_manager",
    "aircraft_operator",
)

# Kinds that can make the held party blocked under some regime.
CONTROL_KINDS: frozenset[RelationKind] = frozenset({"ownership", "voting", "control"})


@dataclass(frozen=True)
class Share:
    """A holding as a range of fractions (0..1). ``exact`` holdings have low == high.
    ``low_exclusive``/``high_exclusive`` keep BODS's ``exclusiveMinimum`` and
    ``exclusiveMaximum`` ("more than 25%" is not "25% or more")."""

    low: float
    high: float
    low_exclusive: bool = False
    high_exclusive: bool = False

    def __post_init__(self) -> None:
        if not (0.0 <= self.low <= self.high <= 1.0):
            raise ValueError(f"share range {self.low}..{self.high} is not within 0..1")

    @classmethod
    def exact(cls, value: float) -> Share:
        return cls(value, value)

    @classmethod
    def unknown(cls) -> Share:
        """A holding of unstated size: anything from nothing to everything."""
        return cls(0.0, 1.0)

    @property
    def is_exact(self) -> bool:
        return self.low == self.high

    def describe(self) -> str:
        """``"60%"``, ``"25-50%"``, ``">25-50%"``, ``"unknown share"``."""
        if self.is_exact:
            return f"{self.low * 100:g}%"
        if self.low == 0.0 and self.high == 1.0:
            return "unknown share"
        lo = (">" if self.low_exclusive else "") + f"{self.low * 100:g}"
        hi = ("<" if self.high_exclusive else "") + f"{self.high * 100:g}%"
        return f"{lo}-{hi}"


@dataclass(frozen=True)
class Node:
    """A party or asset named by a source. ``id`` is unique within the load
    (``<source>:<the source's own id>``, or a list entity id such as ``ofac-12927``).
    ``identifiers`` maps a kind to values: ``imo`` (vessel), ``imo_company`` (IMO
    company number), ``lei``, ``registration`` (``"<jurisdiction>:<number>"``),
    ``inn``, ``ogrn``, ``tax``, ``icao24``, ``registration_mark``. ``unknown`` marks an
    unknown or anonymous holder (BODS ``unknownPerson``/``anonymousEntity``...)."""

    id: str
    name: str
    schema: str  # FtM schema: Person, Company, Organization, LegalEntity, Vessel, Airplane
    country: str | None = None
    identifiers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unknown: bool = False
    source_ref: str = ""  # where it was stated: "file.json#statement-id", "file.csv:12"


@dataclass(frozen=True)
class Relation:
    """One statement: ``holder`` owns, controls, directs, manages, operates or is
    linked to ``held``. For symmetric kinds (family, associate, unknown_link) the order
    is the source's. ``start``/``end`` bound its validity (``None``: open)."""

    id: str
    kind: RelationKind
    holder: str
    held: str
    share: Share | None = None
    interests: tuple[str, ...] = ()  # the source's own interest types or roles
    direct: bool | None = None  # BODS directOrIndirect; None when unstated
    start: date | None = None
    end: date | None = None
    role: str = ""
    source_ref: str = ""

    def valid_on(self, day: date) -> bool:
        """In force on ``day``: started on or before it and not ended before it."""
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


@dataclass
class GraphBatch:
    """What one ``graph load`` reads from its files: all of it is stored, or none.
    ``replaced`` are ids of earlier statements that these replace (BODS
    ``replacesStatements``); they stay in history but drop out of the current graph."""

    source: str
    files: list[str]
    nodes: list[Node] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    replaced: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
