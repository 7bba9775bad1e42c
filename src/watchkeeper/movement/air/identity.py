"""Who an aircraft is and who flies it, and how that links to listed entities.

* ICAO 24-bit address -> the national register whose address block holds it
  (``data/reference/icao/registers.json.gz``, from ICAO Annex 10 Vol. III allocations as
  shipped by the traffic library): Iran ``EP-`` 0x730000-0x737FFF, Syria ``YK-``...
* callsign -> operator through the ICAO airline designator (``IRM4650`` -> ``IRM`` ->
  Mahan Air; OpenFlights ``airlines.dat``, ``data/reference/openflights/``);
* a callsign that is itself a registration (``GTEKV`` for ``G-TEKV``) gives the tail;
* links to list entities, each with the reason it holds:
  - aircraft: the address equals a listed aircraft's Mode S transponder code, its
    registration equals a listed ``Airplane``'s registration (tail) number, or its
    manufacturer's serial number (MSN) equals a listed ``serialNumber``;
  - operators: the operator's name (airline from the designator, or the owner/operator a
    source states) screened against listed organisations with
    ``watchkeeper.screening.Screener``; when no screener can be built, exact matching of
    normalised names is the fallback, and the link says which one made it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from watchkeeper.errors import InputError
from watchkeeper.io import open_text
from watchkeeper.store import Store, StoredEntity
from watchkeeper.store.normalize import search_key

REGISTERS_FILE = ("reference", "icao", "registers.json.gz")
AIRLINES_FILE = ("reference", "openflights", "airlines.dat.gz")
OPERATOR_SCHEMATA = ("Organization", "Company", "LegalEntity")
_COUNTRY_PROPS = ("country", "jurisdiction", "mainCountry")
_CALLSIGN = re.compile(r"^([A-Z]{3})([0-9][A-Z0-9]{0,4})$")
_MODE_S = re.compile(r"Mode S Transponder Code\s+([0-9A-Fa-f]{6})\b")
_OPERATOR_NOTE = re.compile(r"Aircraft Operator\s+([^;]+)")


def data_file(parts: Sequence[str], data_dir: Path | None = None) -> Path:
    """A bundled reference file: under ``data_dir`` (settings), else the repository's
    ``data/`` next to ``src/``."""
    candidates = []
    if data_dir is not None:
        candidates.append(data_dir.joinpath(*parts))
    candidates.append(Path(__file__).resolve().parents[4].joinpath("data", *parts))
    for path in candidates:
        if path.exists():
            return path
    raise InputError(candidates[0], "bundled reference file is missing")


def flag_to_iso2(flag: str | None) -> str | None:
    """A flag emoji (two regional-indicator letters) -> ISO 3166 alpha-2, lower case."""
    if not flag:
        return None
    letters = [chr(ord(c) - 0x1F1E6 + ord("a")) for c in flag if 0x1F1E6 <= ord(c) <= 0x1F1FF]
    return "".join(letters) if len(letters) == 2 else None


@dataclass(frozen=True)
class Register:
    """One national register: its ICAO address block and registration-mark pattern."""

    country: str
    iso2: str | None
    pattern: str
    start: int
    end: int

    @property
    def prefix(self) -> str:
        """The fixed start of registration marks: ``^EP-`` -> ``EP-``, ``^R(A|F)-`` -> ``R``."""
        body = self.pattern.lstrip("^")
        m = re.match(r"[A-Z0-9-]+", body)
        return m.group(0) if m else ""

    def block(self) -> str:
        return f"0x{self.start:06X}-0x{self.end:06X}" if self.start >= 0 else "no block"


class Registers:
    """Address blocks, the smallest block containing an address wins."""

    def __init__(self, registers: Iterable[Register]) -> None:
        self.registers = sorted(registers, key=lambda r: r.end - r.start)

    def for_address(self, icao24: str) -> Register | None:
        try:
            value = int(icao24, 16)
        except ValueError:
            return None
        for reg in self.registers:
            if reg.start >= 0 and reg.start <= value <= reg.end:
                return reg
        return None

    def for_registration(self, registration: str) -> Register | None:
        """The register whose mark pattern a registration matches (longest prefix wins)."""
        found = [
            r for r in self.registers if r.pattern and re.match(r.pattern, registration.upper())
        ]
        return max(found, key=lambda r: len(r.prefix), default=None)


@lru_cache(maxsize=4)
def load_registers(data_dir: Path | None = None) -> Registers:
    path = data_file(REGISTERS_FILE, data_dir)
    try:
        with open_text(path) as fh:
            doc = json.load(fh)
        rows = doc["registers"]
        regs = [
            Register(
                country=str(r["country"]),
                iso2=flag_to_iso2(r.get("flag")),
                pattern=str(r.get("pattern") or ""),
                start=int(str(r["start"]), 16) if r.get("start") else -1,
                end=int(str(r["end"]), 16) if r.get("end") else -1,
            )
            for r in rows
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"not a registers table: {exc}") from exc
    return Registers(regs)


@dataclass(frozen=True)
class Airline:
    """One airline of OpenFlights ``airlines.dat``."""

    name: str
    alias: str | None
    iata: str | None
    icao: str
    telephony: str | None
    country: str | None
    active: bool


@lru_cache(maxsize=4)
def load_airlines(data_dir: Path | None = None) -> dict[str, Airline]:
    """ICAO designator -> airline; when several share a code, an active one wins."""
    path = data_file(AIRLINES_FILE, data_dir)
    out: dict[str, Airline] = {}
    with open_text(path) as fh:
        text = fh.read()

    def val(x: str) -> str | None:
        x = x.strip()
        return None if not x or x in ("\\N", "-", "N/A") else x

    for lineno, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if len(row) < 8:
            raise InputError(path, "expected 8 fields", line=lineno)
        code = (val(row[4]) or "").upper()
        if not re.fullmatch(r"[A-Z]{3}", code):
            continue
        airline = Airline(
            name=row[1].strip(),
            alias=val(row[2]),
            iata=val(row[3]),
            icao=code,
            telephony=val(row[5]),
            country=val(row[6]),
            active=row[7].strip() == "Y",
        )
        known = out.get(code)
        if known is None or (airline.active and not known.active):
            out[code] = airline
    return out


def designator(callsign: str | None) -> str | None:
    """The ICAO airline designator of a flight callsign: ``IRM4650`` -> ``IRM``; None for
    callsigns that are not airline flight numbers (registrations such as ``GTEKV``)."""
    if not callsign:
        return None
    m = _CALLSIGN.match(callsign.strip().upper())
    return m.group(1) if m else None


def registration_from_callsign(callsign: str | None, register: Register | None) -> str | None:
    """A callsign that is the aircraft's registration without its hyphen (``GTEKV`` ->
    ``G-TEKV``) or with it (``N899DN``), checked against the address's own register."""
    if not callsign or register is None or not register.pattern:
        return None
    cs = callsign.strip().upper()
    if re.match(register.pattern, cs) and len(cs) <= 8:
        return cs
    prefix = register.prefix
    if prefix.endswith("-"):
        bare = prefix[:-1]
        if cs.startswith(bare) and not cs.startswith(prefix):
            candidate = prefix + cs[len(bare) :]
            if re.match(register.pattern, candidate) and 2 <= len(cs) - len(bare) <= 5:
                return candidate
    return None


def normal_registration(value: str) -> str:
    """Registration marks compared without case, spaces or hyphens: ``EP-MNG`` -> ``EPMNG``."""
    return re.sub(r"[^A-Z0-9]", "", value.upper())


# --- links to listed entities -----------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A listed entity an aircraft or operator links to, and why the link holds."""

    entity_id: str
    caption: str
    schema: str
    kind: str  # 'aircraft' | 'operator'
    basis: (
        str  # 'mode_s' | 'registration' | 'serial' | 'screening' | 'exact_name' | 'listed_operator'
    )
    score: float
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "caption": self.caption,
            "schema": self.schema,
            "kind": self.kind,
            "basis": self.basis,
            "score": round(self.score, 3),
            "detail": self.detail,
        }


class OperatorMatcher(Protocol):
    """Finds listed organisations an operator name (and country) refers to."""

    def match(self, name: str, country: str | None) -> list[Link]: ...


class ExactNameMatcher:
    """Fallback: listed organisations with a name equal to the query after normalisation
    (case, accents, punctuation)."""

    method = "exact_name"

    def __init__(self, entities: Iterable[StoredEntity]) -> None:
        self.by_name: dict[str, list[tuple[StoredEntity, str]]] = {}
        for e in entities:
            for prop in ("name", "alias", "previousName", "weakAlias", "abbreviation"):
                for name in e.get(prop):
                    key = search_key(name)
                    if key:
                        self.by_name.setdefault(key, []).append((e, name))

    def match(self, name: str, country: str | None) -> list[Link]:
        out: dict[str, Link] = {}
        for entity, listed in self.by_name.get(search_key(name), []):
            out.setdefault(
                entity.id,
                Link(
                    entity.id,
                    entity.caption,
                    entity.schema,
                    "operator",
                    "exact_name",
                    0.9,
                    f"operator name {name!r} equals listed name {listed!r} of {entity.id} "
                    "after normalisation (exact-name fallback, no fuzzy screening)",
                ),
            )
        return list(out.values())


class ScreeningMatcher:
    """Operator names screened with the project's screening engine (scored, explained)."""

    method = "screening"

    def __init__(self, screener: Any, threshold: float = 0.9) -> None:
        self.screener = screener
        self.threshold = threshold

    def match(self, name: str, country: str | None) -> list[Link]:
        from followthemoney import registry

        from watchkeeper.screening import Query

        props: dict[str, list[str]] = {"name": [name]}
        iso = registry.country.clean(country) if country else None
        if iso:
            props["country"] = [iso]
        hits = self.screener.screen(Query("Organization", props), threshold=self.threshold)
        links = []
        for hit in hits:
            if not hit.match or hit.score < self.threshold:
                continue
            if hit.entity.schema not in ("Organization", "Company", "LegalEntity", "PublicBody"):
                continue
            # An airline of one country is not a listed party of another.
            theirs = {c.lower() for p in _COUNTRY_PROPS for c in hit.entity.get(p)}
            if iso and theirs and iso.lower() not in theirs:
                continue
            # Airline names are short and generic: besides the score, every word of one name
            # must be in the other ('Blue Air' is not 'BLUE AIRWAYS'), and a list's weak alias
            # alone ('BMI' of BANK MELLI IRAN vs the airline 'bmi') does not count.
            words = set(search_key(name).split())
            same_words = next(
                (
                    listed
                    for p in ("name", "alias", "previousName")
                    for listed in hit.entity.get(p)
                    if words
                    and (
                        words <= set(search_key(listed).split())
                        or set(search_key(listed).split()) <= words
                    )
                ),
                None,
            )
            if same_words is None:
                continue
            why = "; ".join(e.detail for e in hit.explanations[:3])
            links.append(
                Link(
                    hit.entity.id,
                    hit.entity.caption,
                    hit.entity.schema,
                    "operator",
                    "screening",
                    float(min(hit.score, 1.0)),
                    f"operator name {name!r} screened against the lists: {hit.entity.caption} "
                    f"({hit.entity.id}) scores {hit.score:.2f} ({why}); every word of one name "
                    f"is in the other ({same_words!r})",
                )
            )
        return links


def operator_matcher(store: Store, operators: list[StoredEntity]) -> OperatorMatcher:
    """The screening engine over the current lists (its index is cached beside the store
    and shared with screening) when it is installed, else the exact-name fallback."""
    try:
        from watchkeeper.screening import Screener
    except ImportError:
        return ExactNameMatcher(operators)
    return ScreeningMatcher(Screener.from_store(store))


@dataclass
class ListedAircraft:
    """A listed ``Airplane``, with what can identify it in flight data."""

    entity: StoredEntity
    registrations: list[str]
    serials: list[str]
    mode_s: list[str]
    operator_ids: list[str]
    operator_names: list[str]


def _texts(entity: StoredEntity) -> list[str]:
    return [t for p in ("notes", "description", "summary") for t in entity.get(p)]


def listed_aircraft(entity: StoredEntity, registers: Registers) -> ListedAircraft:
    regs = list(entity.get("registrationNumber"))
    for name in entity.get("name") + entity.get("alias"):
        if " " not in name.strip() and len(name) <= 10 and registers.for_registration(name):
            regs.append(name)
    texts = _texts(entity)
    mode_s = sorted({m.lower() for t in texts for m in _MODE_S.findall(t)})
    names = sorted({m.strip().rstrip(".") for t in texts for m in _OPERATOR_NOTE.findall(t)})
    return ListedAircraft(
        entity=entity,
        registrations=sorted({r.upper() for r in regs}),
        serials=sorted({s.strip() for s in entity.get("serialNumber") if s.strip()}),
        mode_s=mode_s,
        operator_ids=list(entity.get("operator")),
        operator_names=names,
    )


@dataclass
class AircraftIdentity:
    """What is known of one aircraft: from its address, the sources and its callsigns."""

    icao24: str
    country: str | None = None
    country_code: str | None = None
    register_pattern: str | None = None
    registration: str | None = None
    registration_source: str | None = None
    serial: str | None = None
    typecode: str | None = None
    description: str | None = None
    owner_operator: str | None = None
    callsigns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def identify(
    icao24: str,
    registers: Registers,
    *,
    registration: str | None = None,
    callsigns: Sequence[str] = (),
    typecode: str | None = None,
    description: str | None = None,
    owner_operator: str | None = None,
) -> AircraftIdentity:
    """An aircraft's identity from its address, what a source states and its callsigns."""
    reg = registers.for_address(icao24)
    ident = AircraftIdentity(
        icao24=icao24,
        country=reg.country if reg else None,
        country_code=reg.iso2 if reg else None,
        register_pattern=reg.pattern if reg else None,
        typecode=typecode,
        description=description,
        owner_operator=owner_operator,
        callsigns=sorted(set(callsigns)),
    )
    if registration:
        ident.registration = registration.upper()
        ident.registration_source = "source"
    else:
        for cs in ident.callsigns:
            got = registration_from_callsign(cs, reg)
            if got:
                ident.registration = got
                ident.registration_source = f"callsign {cs}"
                break
    return ident


class ListedIndex:
    """Listed aircraft and operators of the current lists, ready for linking."""

    def __init__(
        self,
        aircraft: list[ListedAircraft],
        operators: list[StoredEntity],
        matcher: OperatorMatcher,
        registers: Registers,
    ) -> None:
        self.aircraft = aircraft
        self.operators = {e.id: e for e in operators}
        self.matcher = matcher
        self.registers = registers
        self.by_reg: dict[str, list[ListedAircraft]] = {}
        self.by_serial: dict[str, list[ListedAircraft]] = {}
        self.by_mode_s: dict[str, list[ListedAircraft]] = {}
        for a in aircraft:
            for r in a.registrations:
                self.by_reg.setdefault(normal_registration(r), []).append(a)
            for s in a.serials:
                self.by_serial.setdefault(s.upper(), []).append(a)
            for m in a.mode_s:
                self.by_mode_s.setdefault(m, []).append(a)
        self._operator_cache: dict[tuple[str, str | None], list[Link]] = {}

    @classmethod
    def from_store(cls, store: Store, registers: Registers) -> ListedIndex:
        planes = [listed_aircraft(e, registers) for e in store.current_entities(["Airplane"])]
        operators = [
            e
            for e in store.current_entities(["LegalEntity"])
            if e.schema in OPERATOR_SCHEMATA or e.schema == "PublicBody"
        ]
        return cls(planes, operators, operator_matcher(store, operators), registers)

    def aircraft_links(self, ident: AircraftIdentity) -> list[Link]:
        """Listed aircraft this one is, each with the identifier that links them."""
        links: dict[str, Link] = {}
        for a in self.by_mode_s.get(ident.icao24.lower(), []):
            links[a.entity.id] = Link(
                a.entity.id,
                a.entity.caption,
                a.entity.schema,
                "aircraft",
                "mode_s",
                1.0,
                f"address {ident.icao24.upper()} is the Mode S transponder code of listed "
                f"aircraft {a.entity.caption} ({a.entity.id})",
            )
        if ident.registration:
            for a in self.by_reg.get(normal_registration(ident.registration), []):
                if a.entity.id in links:
                    continue
                block = self.registers.for_registration(ident.registration)
                consistent = (
                    block is not None
                    and block.start >= 0
                    and block.start <= int(ident.icao24, 16) <= block.end
                )
                where = (
                    f"; the address lies in {block.country}'s block {block.block()}"
                    if consistent and block
                    else "; the address is outside that register's block"
                    if block
                    else ""
                )
                links[a.entity.id] = Link(
                    a.entity.id,
                    a.entity.caption,
                    a.entity.schema,
                    "aircraft",
                    "registration",
                    0.95 if consistent else 0.8,
                    f"registration {ident.registration} (from {ident.registration_source}) "
                    f"equals the listed registration of {a.entity.caption} ({a.entity.id}){where}",
                )
        if ident.serial:
            for a in self.by_serial.get(ident.serial.upper(), []):
                links.setdefault(
                    a.entity.id,
                    Link(
                        a.entity.id,
                        a.entity.caption,
                        a.entity.schema,
                        "aircraft",
                        "serial",
                        0.9,
                        f"serial number (MSN) {ident.serial} equals the listed serial number of "
                        f"{a.entity.caption} ({a.entity.id})",
                    ),
                )
        return list(links.values())

    def operators_of_listed(self, aircraft_link: Link) -> list[Link]:
        """The operators the list names for a listed aircraft."""
        planes = [a for a in self.aircraft if a.entity.id == aircraft_link.entity_id]
        out: list[Link] = []
        for a in planes:
            for op_id in a.operator_ids:
                op = self.operators.get(op_id)
                out.append(
                    Link(
                        op_id,
                        op.caption if op else op_id,
                        op.schema if op else "LegalEntity",
                        "operator",
                        "listed_operator",
                        aircraft_link.score,
                        f"the list names {op.caption if op else op_id} ({op_id}) as the operator "
                        f"of {a.entity.caption} ({a.entity.id})",
                    )
                )
        return out

    def operator_links(self, name: str, country: str | None = None) -> list[Link]:
        key = (search_key(name), country)
        if key not in self._operator_cache:
            self._operator_cache[key] = self.matcher.match(name, country) if key[0] else []
        return self._operator_cache[key]
