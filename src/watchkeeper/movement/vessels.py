"""Vessel identity over time, and links from broadcast identities to listed vessels.

Per MMSI: every name, IMO number, call sign, ship type and dimension it has
broadcast (with first/last seen and the report that first showed it), its flag
state from the MMSI's Maritime Identification Digits (ITU MID table), and the
span of its position reports.

Linking to listed ``Vessel`` entities, strongest first, each link saying why:
1. IMO number, exact, only when the IMO passes its check digit;
2. IMO via the shadow-fleet registry's MMSI history (the MMSI was that IMO's);
3. MMSI, exact;
4. name + flag + ship type, scored.
Owners and operators of linked vessels (FtM ``owner``/``operator``, and companies
in the shadow-fleet registry by their IMO company number) are linked too.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
from followthemoney.types import registry
from rapidfuzz import fuzz, process
from rigour.ids import IMO

from watchkeeper.errors import InputError
from watchkeeper.io import open_text
from watchkeeper.movement.ports import country_code, data_file
from watchkeeper.store import Store, StoredEntity
from watchkeeper.store.normalize import search_key

MID_FILE = "reference/MaritimeIdentificationDigits.csv"
SHADOW_FLEET_DIR = "shadow_fleet"

# ITU names whose territory part FtM resolves to the wrong code.
_MID_OVERRIDES = {"745": "gf", "555": "pn"}


# --------------------------------------------------------------------------- MID


@dataclass(frozen=True)
class MidEntry:
    mid: str
    allocated_to: str
    country: str | None  # ISO alpha-2, lower case


def _mid_country(mid: str, name: str) -> str | None:
    return _MID_OVERRIDES.get(mid) or country_code(name)


def load_mid_table(path: Path | None = None) -> dict[str, MidEntry]:
    """The ITU MID table (``MID,Allocated_to``): MID -> flag state."""
    path = path or data_file(MID_FILE)
    table: dict[str, MidEntry] = {}
    with open_text(path, encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames is None or not {"MID", "Allocated_to"} <= set(reader.fieldnames):
            raise InputError(path, "not a MID table: need columns MID, Allocated_to", line=1)
        for line, row in enumerate(reader, start=2):
            mid = (row["MID"] or "").strip()
            if not (len(mid) == 3 and mid.isdigit() and mid[0] in "234567"):
                raise InputError(path, f"bad MID {mid!r}", line=line, field="MID")
            name = (row["Allocated_to"] or "").strip()
            if mid in table:  # one MID shared by several territories (306)
                prev = table[mid]
                table[mid] = MidEntry(mid, f"{prev.allocated_to}; {name}", prev.country)
                continue
            table[mid] = MidEntry(mid, name, _mid_country(mid, name))
    return table


@lru_cache(maxsize=1)
def mid_table() -> dict[str, MidEntry]:
    return load_mid_table()


def mmsi_mid(mmsi: int) -> str | None:
    """The MID of an MMSI: a ship station's first three digits (2xx-7xx); for
    craft associated with a ship (98MIDxxxx) and aids to navigation (99MIDxxxx)
    digits 3-5; ``None`` when the MMSI has no MID (not nine digits, SART, ...)."""
    text = str(mmsi)
    if len(text) != 9:
        return None
    if text[0] in "234567":
        return text[:3]
    if text[:2] in ("98", "99"):
        return text[2:5]
    return None


def mmsi_flag(mmsi: int, table: dict[str, MidEntry] | None = None) -> MidEntry | None:
    """The flag state the MMSI claims, or ``None`` when its MID is not allocated."""
    mid = mmsi_mid(mmsi)
    if mid is None:
        return None
    return (table if table is not None else mid_table()).get(mid)


def imo_valid(imo: int | str | None) -> bool:
    """Seven digits whose check digit is right (IMO 9187629: 9*7+1*6+...=149 -> 9)."""
    if imo is None:
        return False
    text = str(imo).strip().upper().removeprefix("IMO").strip()
    return len(text) == 7 and text.isdigit() and bool(IMO.is_valid(text))


def imo_digits(value: str | int | None) -> str | None:
    """``'IMO 9187629'``, ``9187629`` -> ``'9187629'``; ``None`` when not seven digits."""
    if value is None:
        return None
    text = re.sub(r"[^0-9]", "", str(value))
    return text if len(text) == 7 else None


# --------------------------------------------------------------------- ship types

_TYPE_CODES: list[tuple[range, str]] = [
    (range(20, 30), "wing_in_ground"),
    (range(30, 31), "fishing"),
    (range(31, 33), "towing"),
    (range(33, 34), "dredging"),
    (range(34, 35), "diving"),
    (range(35, 36), "military"),
    (range(36, 37), "sailing"),
    (range(37, 38), "pleasure"),
    (range(40, 50), "high_speed_craft"),
    (range(50, 51), "pilot"),
    (range(51, 52), "search_and_rescue"),
    (range(52, 53), "tug"),
    (range(53, 54), "port_tender"),
    (range(54, 55), "anti_pollution"),
    (range(55, 56), "law_enforcement"),
    (range(58, 59), "medical"),
    (range(60, 70), "passenger"),
    (range(70, 80), "cargo"),
    (range(80, 90), "tanker"),
    (range(90, 100), "other"),
]

# Words in free-text types (decoded CSVs, list entries) -> category; first hit wins.
_TYPE_WORDS: list[tuple[str, str]] = [
    ("law enforce", "law_enforcement"),
    ("law_enforce", "law_enforcement"),
    ("military", "military"),
    ("naval", "military"),
    ("navy", "military"),
    ("warship", "military"),
    ("frigate", "military"),
    ("corvette", "military"),
    ("destroyer", "military"),
    ("patrol", "law_enforcement"),
    ("coast guard", "law_enforcement"),
    ("tanker", "tanker"),
    ("lpg", "tanker"),
    ("lng", "tanker"),
    ("fishing", "fishing"),
    ("trawler", "fishing"),
    ("passenger", "passenger"),
    ("ferry", "passenger"),
    ("cruise", "passenger"),
    ("tug", "tug"),
    ("towing", "towing"),
    ("dredg", "dredging"),
    ("pilot", "pilot"),
    ("sailing", "sailing"),
    ("pleasure", "pleasure"),
    ("yacht", "pleasure"),
    ("cargo", "cargo"),
    ("bulk", "cargo"),
    ("container", "cargo"),
    ("ro-ro", "cargo"),
    ("reefer", "cargo"),
    ("carrier", "cargo"),
    ("hsc", "high_speed_craft"),
    ("high speed", "high_speed_craft"),
    ("sar", "search_and_rescue"),
    ("search", "search_and_rescue"),
]

GUARD_CATEGORIES = frozenset({"military", "law_enforcement"})


def ship_category(code: int | None = None, text: str | None = None) -> str | None:
    """A coarse category from an ITU-R M.1371 ship type code or a type text."""
    if code is not None:
        for codes, category in _TYPE_CODES:
            if code in codes:
                return category
    if text:
        low = text.strip().lower()
        for word, category in _TYPE_WORDS:
            if word in low:
                return category
    return None


# ------------------------------------------------------------------ identities


@dataclass
class Observed:
    """One value a vessel broadcast, with when it was seen and the first report."""

    value: str
    first_seen: datetime | None
    last_seen: datetime | None
    reports: int
    evidence: str  # ais:<msg_id> of the earliest report carrying it

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "reports": self.reports,
            "evidence": self.evidence,
        }


@dataclass
class VesselIdentity:
    """Everything one MMSI has said about itself."""

    mmsi: int
    mid: str | None
    flag: str | None  # ISO alpha-2 from the MID; None when the MID is not allocated
    flag_name: str | None
    names: list[Observed] = field(default_factory=list)
    imos: list[Observed] = field(default_factory=list)
    callsigns: list[Observed] = field(default_factory=list)
    ship_types: list[Observed] = field(default_factory=list)
    dimensions: list[Observed] = field(default_factory=list)  # 'LxB m'
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    positions: int = 0

    @property
    def categories(self) -> set[str]:
        out = set()
        for obs in self.ship_types:
            code, _, text = obs.value.partition(" ")
            cat = ship_category(int(code) if code.isdigit() else None, text or obs.value)
            if cat:
                out.add(cat)
        return out

    @property
    def name(self) -> str | None:
        """The most recently broadcast name."""
        return _latest(self.names)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mmsi": self.mmsi,
            "mid": self.mid,
            "flag": self.flag,
            "flag_name": self.flag_name,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "positions": self.positions,
            "names": [o.to_dict() for o in self.names],
            "imos": [dict(o.to_dict(), valid=imo_valid(o.value)) for o in self.imos],
            "callsigns": [o.to_dict() for o in self.callsigns],
            "ship_types": [o.to_dict() for o in self.ship_types],
            "dimensions": [o.to_dict() for o in self.dimensions],
        }


def _latest(values: list[Observed]) -> str | None:
    if not values:
        return None
    floor = datetime.min.replace(tzinfo=UTC)
    return max(values, key=lambda o: (o.last_seen or floor, o.reports)).value


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value is not None else None


# One row per (mmsi, kind, value): first/last seen, reports, first msg_id.
_IDENTITY_SQL = """
WITH s AS (
    SELECT * FROM ais_static {where}
), v AS (
    SELECT mmsi, 'name' AS kind, trim(name) AS value, time, msg_id FROM s
        WHERE trim(coalesce(name, '')) <> ''
    UNION ALL SELECT mmsi, 'imo', CAST(imo AS VARCHAR), time, msg_id FROM s
        WHERE imo IS NOT NULL AND imo > 0
    UNION ALL SELECT mmsi, 'callsign', trim(callsign), time, msg_id FROM s
        WHERE trim(coalesce(callsign, '')) <> ''
    UNION ALL SELECT mmsi, 'ship_type',
        trim(concat_ws(' ', CAST(ship_type AS VARCHAR), ship_type_text)), time, msg_id FROM s
        WHERE coalesce(ship_type, 0) > 0 OR trim(coalesce(ship_type_text, '')) <> ''
    UNION ALL SELECT mmsi, 'dimensions',
        CAST({length} AS VARCHAR) || 'x' || CAST({width} AS VARCHAR) || ' m', time, msg_id
        FROM s WHERE coalesce({length}, 0) > 0 AND coalesce({width}, 0) > 0
)
SELECT mmsi, kind, value, min(time), max(time), count(*), arg_min(msg_id, coalesce(time, TIMESTAMPTZ '9999-01-01'))
FROM v GROUP BY ALL ORDER BY mmsi, kind, min(time) NULLS LAST, value
"""


_KIND_ATTR = {
    "name": "names",
    "imo": "imos",
    "callsign": "callsigns",
    "ship_type": "ship_types",
    "dimensions": "dimensions",
}


def build_identities(store: Store, mmsis: Sequence[int] | None = None) -> dict[int, VesselIdentity]:
    """Identity over time for every MMSI with reports in the store (or only ``mmsis``)."""
    params: list[Any] = []
    where = ""
    if mmsis is not None:
        where = "WHERE mmsi IN (SELECT unnest(?))"
        params.append([int(m) for m in mmsis])
    table = mid_table()
    out: dict[int, VesselIdentity] = {}

    def identity(mmsi: int) -> VesselIdentity:
        if mmsi not in out:
            entry = mmsi_flag(mmsi, table)
            out[mmsi] = VesselIdentity(
                mmsi=mmsi,
                mid=mmsi_mid(mmsi),
                flag=entry.country if entry else None,
                flag_name=entry.allocated_to if entry else None,
            )
        return out[mmsi]

    for mmsi, first, last, count in store.con.execute(
        f"SELECT mmsi, min(time), max(time), count(*) FROM ais_positions {where} "
        "GROUP BY mmsi ORDER BY mmsi",
        params,
    ).fetchall():
        ident = identity(int(mmsi))
        ident.first_seen, ident.last_seen, ident.positions = _utc(first), _utc(last), int(count)
    columns = {
        r[0]
        for r in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ais_static'"
        ).fetchall()
    }
    # Decoded CSVs give length and width without the antenna offsets.
    length = "to_bow + to_stern"
    width = "to_port + to_starboard"
    if {"length", "width"} <= columns:
        length = f"round(coalesce(length, {length}))::INTEGER"
        width = f"round(coalesce(width, {width}))::INTEGER"
    sql = _IDENTITY_SQL.format(where=where, length=length, width=width)
    for mmsi, kind, value, first, last, count, msg_id in store.con.execute(sql, params).fetchall():
        ident = identity(int(mmsi))
        obs = Observed(str(value), _utc(first), _utc(last), int(count), f"ais:{msg_id}")
        getattr(ident, _KIND_ATTR[kind]).append(obs)
        for t in (obs.first_seen, obs.last_seen):
            if t is None:
                continue
            if ident.first_seen is None or t < ident.first_seen:
                ident.first_seen = t
            if ident.last_seen is None or t > ident.last_seen:
                ident.last_seen = t
    return out


def mmsis_for_imo(store: Store, imo: str) -> list[int]:
    """MMSIs that broadcast this IMO number."""
    rows = store.con.execute(
        "SELECT DISTINCT mmsi FROM ais_static WHERE imo = ? ORDER BY mmsi", [int(imo)]
    ).fetchall()
    return [int(r[0]) for r in rows]


# ------------------------------------------------------- shadow-fleet registry


@dataclass(frozen=True)
class Period:
    value: str
    start: date | None
    end: date | None  # None: still current at the data date

    def covers(self, when: date) -> bool:
        return (self.start is None or self.start <= when) and (self.end is None or when < self.end)

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }

    def span(self) -> str:
        return f"{self.start or '?'} to {self.end or 'now'}"


@dataclass
class RegistryVessel:
    """One tanker's identity history in the shadow-fleet data set."""

    imo: str
    name: str
    size: str
    build_year: str
    mmsis: list[Period] = field(default_factory=list)
    names: list[Period] = field(default_factory=list)
    flags: list[Period] = field(default_factory=list)
    companies: list[tuple[str, Period]] = field(default_factory=list)  # (role, company IMO)
    sanctions: list[tuple[date, str]] = field(default_factory=list)

    def name_at(self, when: date) -> str | None:
        for p in self.names:
            if p.covers(when):
                return p.value
        return None

    def has_name(self, name: str) -> bool:
        key = search_key(name)
        return any(search_key(p.value) == key for p in self.names) or search_key(self.name) == key

    def to_dict(self) -> dict[str, Any]:
        return {
            "imo": self.imo,
            "name": self.name,
            "size": self.size,
            "build_year": self.build_year,
            "mmsis": [p.to_dict() for p in self.mmsis],
            "names": [p.to_dict() for p in self.names],
            "flags": [p.to_dict() for p in self.flags],
            "companies": [dict(p.to_dict(), role=role) for role, p in self.companies],
            "sanctions": [{"date": d.isoformat(), "by": by} for d, by in self.sanctions],
        }


def _date(path: Path, line: int, name: str, value: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise InputError(path, f"bad date {value!r}", line=line, field=name) from exc


def _rows(path: Path, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    with open_text(path) as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, f"no column {missing[0]!r}", line=1)
        for line, row in enumerate(reader, start=2):
            imo = imo_digits(row.get("vessel_imo"))
            if imo is None:
                raise InputError(path, "vessel_imo is not 7 digits", line=line, field="vessel_imo")
            row["vessel_imo"] = imo
            yield line, row


class ShadowFleetRegistry:
    """The shadow-fleet tanker histories (FtM/KSE data, 2024-10): IMO <-> MMSI,
    names, flags, companies and sanctions over time, keyed by IMO."""

    def __init__(self, vessels: dict[str, RegistryVessel]) -> None:
        self.vessels = vessels
        self._by_mmsi: dict[int, list[tuple[str, Period]]] = defaultdict(list)
        for v in vessels.values():
            for p in v.mmsis:
                self._by_mmsi[int(p.value)].append((v.imo, p))

    @classmethod
    def load(cls, folder: Path | None = None) -> ShadowFleetRegistry:
        folder = folder or data_file(SHADOW_FLEET_DIR)

        def path(name: str) -> Path:
            for candidate in (folder / f"{name}.csv.gz", folder / f"{name}.csv"):
                if candidate.exists():
                    return candidate
            raise InputError(folder / f"{name}.csv", "shadow-fleet file is missing")

        vessels: dict[str, RegistryVessel] = {}
        p = path("vessels")
        for _, row in _rows(p, ("vessel_imo", "vessel_name", "tanker_size", "buildyear")):
            vessels[row["vessel_imo"]] = RegistryVessel(
                row["vessel_imo"], row["vessel_name"], row["tanker_size"], row["buildyear"]
            )

        def vessel(p: Path, line: int, imo: str) -> RegistryVessel:
            if imo not in vessels:
                raise InputError(p, f"IMO {imo} is not in vessels.csv", line=line)
            return vessels[imo]

        for name, column, attr in (
            ("vessel_mmsi", "mmsi", "mmsis"),
            ("vessel_names", "vessel_name", "names"),
            ("vessel_flags", "flag", "flags"),
        ):
            p = path(name)
            for line, row in _rows(p, ("vessel_imo", column, "start_date", "end_date")):
                value = (row[column] or "").strip()
                if column == "mmsi" and not value.isdigit():
                    raise InputError(p, f"bad MMSI {value!r}", line=line, field="mmsi")
                getattr(vessel(p, line, row["vessel_imo"]), attr).append(
                    Period(
                        value,
                        _date(p, line, "start_date", row["start_date"]),
                        _date(p, line, "end_date", row["end_date"]),
                    )
                )
        p = path("vessel_company")
        for line, row in _rows(p, ("vessel_imo", "company_imo", "role", "start_date", "end_date")):
            vessel(p, line, row["vessel_imo"]).companies.append(
                (
                    row["role"].strip(),
                    Period(
                        row["company_imo"].strip(),
                        _date(p, line, "start_date", row["start_date"]),
                        _date(p, line, "end_date", row["end_date"]),
                    ),
                )
            )
        p = path("sanctions")
        for line, row in _rows(p, ("vessel_imo", "earliest_sanction_date", "sanction_country")):
            when = _date(p, line, "earliest_sanction_date", row["earliest_sanction_date"])
            item = (when or date.min, row["sanction_country"].strip())
            v = vessel(p, line, row["vessel_imo"])
            if item not in v.sanctions:
                v.sanctions.append(item)
        for v in vessels.values():
            for periods in (v.mmsis, v.names, v.flags):
                periods.sort(key=lambda q: (q.start or date.min, q.value))
            v.companies.sort(key=lambda rq: (rq[1].start or date.min, rq[0]))
        return cls(vessels)

    def get(self, imo: str | None) -> RegistryVessel | None:
        return self.vessels.get(imo) if imo else None

    def imos_for_mmsi(self, mmsi: int, when: date | None = None) -> list[tuple[str, Period]]:
        """IMOs the registry gives this MMSI (at ``when``, or ever)."""
        found = self._by_mmsi.get(int(mmsi), [])
        if when is None:
            return list(found)
        return [(imo, p) for imo, p in found if p.covers(when)]


@lru_cache(maxsize=1)
def shadow_fleet() -> ShadowFleetRegistry:
    return ShadowFleetRegistry.load()


# --------------------------------------------------------------------- linking


@dataclass(frozen=True)
class VesselLink:
    """Why a broadcast identity is taken to be a listed entity (or its owner)."""

    mmsi: int
    entity_id: str
    caption: str
    method: str  # imo | registry_imo | mmsi | name_flag_type | owner | operator
    score: float
    detail: str
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "mmsi": self.mmsi,
            "entity_id": self.entity_id,
            "caption": self.caption,
            "method": self.method,
            "score": round(self.score, 3),
            "detail": self.detail,
            "evidence": list(self.evidence),
        }


@dataclass(frozen=True)
class NameFlagTypeParams:
    min_name_similarity: float = 0.88  # 0..1, rapidfuzz ratio on normalised names
    min_score: float = 0.85  # a flag mismatch can never reach it
    weight_name: float = 0.6
    weight_flag: float = 0.25
    weight_type: float = 0.15


@dataclass
class ListedVessels:
    """Listed vessels indexed by IMO, MMSI and normalised name."""

    entities: dict[str, StoredEntity]
    by_imo: dict[str, list[str]]
    by_mmsi: dict[str, list[str]]
    names: list[str]  # normalised
    name_ids: list[str]

    @classmethod
    def build(cls, entities: Iterable[StoredEntity]) -> ListedVessels:
        ents: dict[str, StoredEntity] = {}
        by_imo: dict[str, list[str]] = defaultdict(list)
        by_mmsi: dict[str, list[str]] = defaultdict(list)
        names: list[str] = []
        name_ids: list[str] = []
        for e in entities:
            ents[e.id] = e
            for value in e.get("imoNumber"):
                imo = imo_digits(value)
                if imo and e.id not in by_imo[imo]:
                    by_imo[imo].append(e.id)
            for value in e.get("mmsi"):
                digits = re.sub(r"[^0-9]", "", value)
                if digits and e.id not in by_mmsi[digits]:
                    by_mmsi[digits].append(e.id)
            for prop in ("name", "alias", "previousName"):
                for value in e.get(prop):
                    key = search_key(value)
                    if key:
                        names.append(key)
                        name_ids.append(e.id)
        return cls(ents, dict(by_imo), dict(by_mmsi), names, name_ids)

    @classmethod
    def from_store(cls, store: Store) -> ListedVessels:
        return cls.build(store.current_entities(["Vessel"]))

    def flags(self, entity_id: str) -> set[str]:
        e = self.entities[entity_id]
        out = set()
        for prop in ("flag", "pastFlags"):
            for v in e.get(prop):
                code = registry.country.clean(v)
                if code:
                    out.add(code)
        return out

    def category(self, entity_id: str) -> str | None:
        for t in self.entities[entity_id].get("type"):
            cat = ship_category(text=t)
            if cat:
                return cat
        return None

    def is_guard(self, entity_id: str) -> bool:
        """A naval or law-enforcement vessel by its listed type or name."""
        e = self.entities[entity_id]
        texts = e.get("type") + e.get("name")
        return any(ship_category(text=t) in GUARD_CATEGORIES for t in texts)


def _link_imo(
    ident: VesselIdentity, listed: ListedVessels, registry_: ShadowFleetRegistry | None
) -> list[VesselLink]:
    links: list[VesselLink] = []
    for obs in ident.imos:
        imo = imo_digits(obs.value)
        if imo is None or not imo_valid(imo):
            continue
        for entity_id in listed.by_imo.get(imo, []):
            e = listed.entities[entity_id]
            detail = f"broadcast IMO {imo} (check digit valid) is the IMO of listed {e.caption}"
            names = {search_key(n) for n in e.get("name") + e.get("alias") + e.get("previousName")}
            broadcast = [o.value for o in ident.names]
            if broadcast and not any(search_key(n) in names for n in broadcast):
                detail += f"; broadcast name {', '.join(broadcast)} is not a listed name"
                rec = registry_.get(imo) if registry_ else None
                if rec is not None and all(rec.has_name(n) for n in broadcast):
                    detail += " but is in the shadow-fleet name history of this IMO"
            links.append(
                VesselLink(ident.mmsi, entity_id, e.caption, "imo", 1.0, detail, (obs.evidence,))
            )
    if links or registry_ is None:
        return links
    # No usable broadcast IMO: the registry may know whose MMSI this was.
    when = ident.last_seen or ident.first_seen
    for imo, period in registry_.imos_for_mmsi(ident.mmsi, when.date() if when else None):
        for entity_id in listed.by_imo.get(imo, []):
            e = listed.entities[entity_id]
            detail = (
                f"MMSI {ident.mmsi} was IMO {imo} from {period.span()} in the shadow-fleet "
                f"registry; IMO {imo} is listed {e.caption}"
            )
            links.append(
                VesselLink(
                    ident.mmsi,
                    entity_id,
                    e.caption,
                    "registry_imo",
                    0.9,
                    detail,
                    (f"registry:shadow_fleet/vessel_mmsi#{imo}",),
                )
            )
    return links


def _link_mmsi(ident: VesselIdentity, listed: ListedVessels) -> list[VesselLink]:
    links = []
    for entity_id in listed.by_mmsi.get(str(ident.mmsi), []):
        e = listed.entities[entity_id]
        detail = f"MMSI {ident.mmsi} is the MMSI of listed {e.caption}"
        listed_imos = {imo_digits(v) for v in e.get("imoNumber")} - {None}
        broadcast_imos = {imo_digits(o.value) for o in ident.imos} - {None}
        if listed_imos and broadcast_imos and not listed_imos & broadcast_imos:
            # An MMSI is reassigned when a ship changes flag: weaker than an IMO.
            detail += f" but the vessel broadcasts IMO {', '.join(sorted(broadcast_imos))}"  # type: ignore[arg-type]
            score = 0.5
        else:
            score = 0.85
        links.append(VesselLink(ident.mmsi, entity_id, e.caption, "mmsi", score, detail))
    return links


def _link_name(
    ident: VesselIdentity, listed: ListedVessels, params: NameFlagTypeParams
) -> list[VesselLink]:
    if not listed.names:
        return []
    best: dict[str, VesselLink] = {}
    for obs in ident.names:
        key = search_key(obs.value)
        if len(key) < 3:
            continue
        hits = process.extract(
            key,
            listed.names,
            scorer=fuzz.ratio,
            score_cutoff=params.min_name_similarity * 100,
            limit=10,
        )
        for matched, sim, index in hits:
            entity_id = listed.name_ids[index]
            e = listed.entities[entity_id]
            name_sim = sim / 100.0
            reasons = [f"broadcast name {obs.value!r} ~ listed name {matched!r} ({name_sim:.2f})"]
            flags = listed.flags(entity_id)
            flag_score = 0.0
            if ident.flag and flags:
                if ident.flag in flags:
                    flag_score = 1.0
                    reasons.append(f"flag {ident.flag} (MID {ident.mid}) is a listed flag")
                else:
                    reasons.append(
                        f"flag {ident.flag} (MID {ident.mid}) is not listed flag "
                        f"{'/'.join(sorted(flags))}"
                    )
            else:
                flag_score = 0.5
                reasons.append("flag unknown on one side")
            cat = listed.category(entity_id)
            type_score = 0.5
            if cat and ident.categories:
                type_score = 1.0 if cat in ident.categories else 0.0
                reasons.append(
                    f"type {'/'.join(sorted(ident.categories))} "
                    f"{'matches' if type_score else 'differs from'} listed {cat}"
                )
            score = (
                params.weight_name * name_sim
                + params.weight_flag * flag_score
                + params.weight_type * type_score
            )
            if score < params.min_score:
                continue
            link = VesselLink(
                ident.mmsi,
                entity_id,
                e.caption,
                "name_flag_type",
                min(score, 0.8),
                "; ".join(reasons),
                (obs.evidence,),
            )
            if entity_id not in best or link.score > best[entity_id].score:
                best[entity_id] = link
    return sorted(best.values(), key=lambda lk: -lk.score)


def link_identity(
    ident: VesselIdentity,
    listed: ListedVessels,
    registry_: ShadowFleetRegistry | None = None,
    params: NameFlagTypeParams | None = None,
) -> list[VesselLink]:
    """Links of one identity to listed vessels, strongest method first: IMO, then
    MMSI, then name + flag + type (only when the stronger ones find nothing)."""
    links = _link_imo(ident, listed, registry_)
    seen = {lk.entity_id for lk in links}
    links += [lk for lk in _link_mmsi(ident, listed) if lk.entity_id not in seen]
    if not links:
        links = _link_name(ident, listed, params or NameFlagTypeParams())
    return links


def owner_links(
    store: Store,
    vessel_links: Sequence[VesselLink],
    listed: ListedVessels,
    registry_: ShadowFleetRegistry | None = None,
    identity: VesselIdentity | None = None,
) -> list[VesselLink]:
    """Listed owners/operators behind linked vessels: the listed vessel's own
    ``owner``/``operator`` (an entity id, or a name matching a listed party exactly),
    and companies the shadow-fleet registry names by IMO company number."""
    out: list[VesselLink] = []
    seen: set[tuple[str, str]] = set()

    def add(mmsi: int, entity: StoredEntity, method: str, detail: str, score: float) -> None:
        if (entity.id, method) in seen:
            return
        seen.add((entity.id, method))
        out.append(VesselLink(mmsi, entity.id, entity.caption, method, score, detail))

    for lk in vessel_links:
        if lk.method in ("owner", "operator") or lk.entity_id not in listed.entities:
            continue
        vessel = listed.entities[lk.entity_id]
        for method in ("owner", "operator"):
            for value in vessel.get(method):
                got = store.get_entity(value)
                if got is not None:
                    add(lk.mmsi, got[0], method, f"{method} of listed {vessel.caption}", lk.score)
                    continue
                for entity, name in store.search_entities(value, limit=5):
                    if search_key(name) == search_key(value) and entity.id != vessel.id:
                        add(
                            lk.mmsi,
                            entity,
                            method,
                            f"{method} {value!r} of listed {vessel.caption} is the name of "
                            f"listed {entity.caption}",
                            lk.score * 0.9,
                        )
    if registry_ is not None and identity is not None:
        imos = {imo_digits(o.value) for o in identity.imos if imo_valid(o.value)} - {None}
        imos |= {imo for imo, _ in registry_.imos_for_mmsi(identity.mmsi)}
        companies: dict[str, list[tuple[str, Period, str]]] = defaultdict(list)
        for imo in sorted(i for i in imos if i):
            rec = registry_.get(imo)
            for role, p in rec.companies if rec else []:
                companies[p.value].append((role, p, imo))
        if companies:
            for entity in _entities_by_imo(store, list(companies)):
                for company_imo in {imo_digits(v) for v in entity.get("imoNumber")}:
                    for role, p, imo in companies.get(company_imo or "", []):
                        method = "owner" if "owner" in role.lower() else "operator"
                        add(
                            identity.mmsi,
                            entity,
                            method,
                            f"{role} of IMO {imo} from {p.span()} in the shadow-fleet registry "
                            f"is company IMO {company_imo}, listed {entity.caption}",
                            0.8,
                        )
    return out


def _entities_by_imo(store: Store, imos: list[str]) -> list[StoredEntity]:
    """Listed non-vessel parties (companies) carrying one of these IMO numbers."""
    wanted = set(imos)
    found = []
    for e in store.current_entities(["Organization"]):
        if {imo_digits(v) for v in e.get("imoNumber")} & wanted:
            found.append(e)
    return found


def link_all(
    store: Store,
    identities: dict[int, VesselIdentity] | None = None,
    listed: ListedVessels | None = None,
    registry_: ShadowFleetRegistry | None = None,
) -> list[VesselLink]:
    """Links for every identity; written to ``vessel_links`` (replacing the old ones)."""
    identities = identities if identities is not None else build_identities(store)
    listed = listed or ListedVessels.from_store(store)
    registry_ = registry_ if registry_ is not None else shadow_fleet()
    links: list[VesselLink] = []
    for ident in identities.values():
        found = link_identity(ident, listed, registry_)
        links += found
        if found:
            links += owner_links(store, found, listed, registry_, ident)
    write_links(store, links)
    return links


def write_links(store: Store, links: Sequence[VesselLink]) -> None:
    """Replace the stored links, in one transaction (bulk insert through Arrow)."""
    now = datetime.now(UTC)
    table = pa.table(
        {
            "mmsi": pa.array([lk.mmsi for lk in links], pa.int32()),
            "entity_id": [lk.entity_id for lk in links],
            "method": [lk.method for lk in links],
            "score": pa.array([lk.score for lk in links], pa.float64()),
            "detail": [lk.detail for lk in links],
            "evidence": pa.array([list(lk.evidence) for lk in links], pa.list_(pa.string())),
            "linked_at": pa.array([now] * len(links), pa.timestamp("us", tz="UTC")),
        }
    )
    with store.transaction() as con:
        con.execute("DELETE FROM vessel_links")
        if len(links):
            con.register("_links", table)
            con.execute("INSERT INTO vessel_links BY NAME SELECT * FROM _links")
            con.unregister("_links")


def stored_links(store: Store) -> dict[int, list[tuple[str, str, float]]]:
    """mmsi -> [(entity id, method, score)] as last written by ``link_all``."""
    out: dict[int, list[tuple[str, str, float]]] = defaultdict(list)
    for mmsi, entity_id, method, score in store.con.execute(
        "SELECT mmsi, entity_id, method, score FROM vessel_links ORDER BY mmsi, score DESC"
    ).fetchall():
        out[int(mmsi)].append((entity_id, method, float(score)))
    return dict(out)


# ------------------------------------------------------------ listings, names

# Roles of FtM links that say who owns, manages or controls a listed vessel.
_LINK_SIDES = {
    "Ownership": ("asset", "owner"),
    "UnknownLink": ("subject", "object"),
    "Directorship": ("organization", "director"),
}


def listing(store: Store, entity_id: str) -> dict[str, Any] | None:
    """A listed vessel as its lists publish it, with or without any AIS: its
    properties, where it is listed (provenance), its sanctions (authority, programme,
    provisions) and the parties it is linked to (owner, operator, ``Linked To``), each
    with the link that says so. ``None`` when no current list has ``entity_id``."""
    found = store.get_entity(entity_id)
    if found is None:
        return None
    entity, related = found
    sanctions = []
    parties: list[dict[str, Any]] = []
    for prop in ("owner", "operator"):
        for value in entity.get(prop):
            parties.append({"role": prop, "value": value, "via": f"{prop} of {entity.caption}"})
    for r in related:
        if r.schema == "Sanction":
            sanctions.append(
                {
                    "id": r.id,
                    "authority": r.get("authority"),
                    "program": r.get("program"),
                    "provisions": r.get("provisions"),
                    "start_date": r.get("startDate"),
                    "summary": r.get("summary"),
                }
            )
            continue
        sides = _LINK_SIDES.get(r.schema)
        if sides is None:
            continue
        own, other = sides
        if entity.id not in r.get(own):
            own, other = other, own
        for value in r.get(other):
            role = "; ".join(r.get("role")) or r.schema
            parties.append({"role": role, "value": value, "via": f"{r.schema} {r.id}"})
    for party in parties:
        got = store.get_entity(party["value"])
        party["entity_id"] = got[0].id if got else None
        party["caption"] = got[0].caption if got else party["value"]
        party["schema"] = got[0].schema if got else None
        del party["value"]
    out = entity.to_dict()
    out.update({"sanctions": sanctions, "parties": parties})
    return out


@dataclass(frozen=True)
class VesselCandidate:
    """A vessel whose name is like the one asked for: listed (``entity_id``) or heard
    on AIS (``mmsi``), with the name that matched, how closely (0..1, rapidfuzz WRatio
    on normalised names: a whole word of a longer name scores 0.9) and whether the
    normalised names are equal."""

    name: str
    score: float
    exact: bool
    entity_id: str | None = None
    mmsi: int | None = None
    imo: str | None = None
    caption: str | None = None

    def to_dict(self) -> dict[str, Any]:
        kind = "listed" if self.entity_id else "ais"
        return {"kind": kind, **{k: v for k, v in self.__dict__.items() if v is not None}}


def vessels_named(
    store: Store, listed: ListedVessels, name: str, *, min_similarity: float = 0.85, limit: int = 10
) -> list[VesselCandidate]:
    """Listed vessels (name, alias, former name) and AIS vessels (broadcast names)
    whose normalised name is at least ``min_similarity`` like ``name``, exact ones
    first, then best first; one candidate per entity or MMSI."""
    key = search_key(name)
    if not key:
        raise InputError(None, f"{name!r} is not a vessel name, MMSI or IMO", field="vessel")
    best: dict[str, VesselCandidate] = {}

    def keep(ref: str, cand: VesselCandidate) -> None:
        if ref not in best or (cand.exact, cand.score) > (best[ref].exact, best[ref].score):
            best[ref] = cand

    for matched, sim, index in process.extract(
        key, listed.names, scorer=fuzz.WRatio, score_cutoff=min_similarity * 100, limit=limit * 3
    ):
        entity_id = listed.name_ids[index]
        e = listed.entities[entity_id]
        imos = sorted({i for i in (imo_digits(v) for v in e.get("imoNumber")) if i})
        imo = imos[0] if imos else None
        exact = matched == key
        spelled = next(
            (
                v
                for p in ("name", "alias", "previousName")
                for v in e.get(p)
                if search_key(v) == matched
            ),
            matched,
        )
        keep(
            entity_id, VesselCandidate(spelled, sim / 100.0, exact, entity_id, None, imo, e.caption)
        )
    rows = store.con.execute(
        "SELECT mmsi, trim(name) AS name, max(imo) FROM ais_static "
        "WHERE name IS NOT NULL AND trim(name) <> '' GROUP BY ALL"
    ).fetchall()
    ais_keys = [search_key(str(n)) for _, n, _ in rows]
    for _, sim, index in process.extract(
        key, ais_keys, scorer=fuzz.WRatio, score_cutoff=min_similarity * 100, limit=limit * 3
    ):
        mmsi, broadcast, imo_value = rows[index]
        imo = imo_digits(imo_value) if imo_value else None
        exact = ais_keys[index] == key
        cand = VesselCandidate(str(broadcast), sim / 100.0, exact, None, int(mmsi), imo)
        keep(f"mmsi:{mmsi}", cand)
    ranked = sorted(
        best.values(), key=lambda c: (not c.exact, -c.score, c.name, c.entity_id or "", c.mmsi or 0)
    )
    return ranked[:limit]
