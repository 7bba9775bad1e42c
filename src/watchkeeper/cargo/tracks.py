"""Papers against tracks: does the vessel or aircraft a shipment line names go where and
when the papers say?

For each line the declared carrier is resolved to the MMSI or ICAO 24-bit address that
used that identity during the declared voyage (IMO, else name and flag; aircraft
registration, else flight number), then the declared route is compared with what
``movement`` wrote to the store: positions, port calls, AIS gaps, ship-to-ship
encounters, loitering, flights and transponder gaps. ``cargo`` does not import
``movement`` (same layer): it reads those tables with SQL, and anything else it needs
from there (the flag an MMSI claims) is a plain function passed in by the caller. The
events are those the detectors stored (`watchkeeper detect`, `flights detect`); on a
store where the ship detectors never ran, lines say so (``tracks_not_analysed``) rather
than report every declared port as missed.

Every query runs once over all lines at once: lines with the same declared carrier,
route and dates share one voyage, and the store is asked about the distinct voyages in
one join each, so a million lines cost a few queries, not a million.

The window: the declared loading date (00:00 UTC) to the day after the declared
discharge date, widened by ``sea_tolerance_days`` (2) or ``air_tolerance_days`` (1). A
bill of lading is dated when loading ended, after a day or two alongside, and a
manifest's arrival date is an estimate that slips with weather and anchorage waits;
two days absorbs that without reaching into a tanker's previous or next voyage (weeks
apart). Flights keep to their schedule within hours, so one day. The voyage itself
runs from the end of the call at the declared port of loading to the start of the call
at the declared port of discharge (the dates when no such call is seen); what happens
in between and was not declared is a mismatch.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.events import Event
from watchkeeper.io import open_text
from watchkeeper.settings import Settings
from watchkeeper.store import Store

EVENT_TYPE = "manifest_track_mismatch"

# The flag state (ISO alpha-2) an MMSI claims by its MID, or None; passed in by cli/api
# (``movement.vessels.mmsi_flag``), so cargo does not import movement.
FlagOf = Callable[[int], str | None]
# The MMSIs an IMO number used between two dates by a registry's identity history (the
# shadow-fleet data set), with each period as text; passed in like ``FlagOf``.
IdentityHistory = Callable[[int, date, date], list[tuple[int, str]]]

# kind -> (is it a mismatch, what it means)
FINDING_KINDS: dict[str, tuple[bool, str]] = {
    "not_checkable": (False, "the line names no vessel or flight, or no date to check"),
    "identity_resolved": (False, "the declared vessel or aircraft, resolved to a transponder"),
    "identity_unresolved": (False, "no transponder ever used the declared identity"),
    "identity_ambiguous": (False, "several transponders used the declared identity then"),
    "vessel_name_differs": (True, "the vessel broadcast another name than the papers give"),
    "tracks_absent": (False, "no position of the vessel or aircraft in the declared window"),
    "tracks_not_analysed": (False, "positions are stored, but the ship detectors never ran"),
    "declared_port_called": (False, "the track shows a call at the declared port"),
    "declared_port_not_called": (True, "heard on the declared day, but no call at the port"),
    "declared_port_unobserved": (False, "not heard on the declared day: cannot tell"),
    "declared_port_visited": (False, "heard at the declared port, but no stop was detected"),
    "declared_port_unknown": (False, "the declared port is not in the World Port Index"),
    "undeclared_port_call": (True, "a call at a port the papers do not declare"),
    "transit_port_call": (False, "a call in a declared transit country"),
    "encounter_during_voyage": (True, "a ship-to-ship encounter during the declared voyage"),
    "ais_gap_during_voyage": (True, "the vessel went silent during the declared voyage"),
    "loitering_during_voyage": (True, "the vessel loitered at sea during the declared voyage"),
    "flight_as_declared": (False, "a flight from and to the declared airports"),
    "flight_landed_elsewhere": (True, "the flight landed at another airport than declared"),
    "flight_departed_elsewhere": (True, "the flight took off from another airport"),
    "flight_arrival_unobserved": (False, "the flight's landing was not seen"),
    "transponder_gap_during_flight": (True, "the transponder went silent during the flight"),
}


@dataclass(frozen=True)
class TrackCheckParams:
    """Tolerances and scores (see the module docstring for the window)."""

    sea_tolerance_days: int = 2
    air_tolerance_days: int = 1
    # The World Port Index lists neighbouring basins as ports of their own: a call at a
    # port within this distance (km) of the declared one is a call there.
    same_port_km: float = 10.0
    sanctioned: tuple[str, ...] = Settings.sanctioned_countries
    score_undeclared_sanctioned: float = 0.9
    score_undeclared: float = 0.5
    score_port_not_called: float = 0.6
    score_encounter: float = 0.8
    score_gap: float = 0.6
    score_loitering: float = 0.4
    score_name_differs: float = 0.5
    score_landed_elsewhere: float = 0.7
    score_landed_sanctioned: float = 0.95
    score_departed_elsewhere: float = 0.6
    score_transponder_gap: float = 0.5
    max_evidence: int = 25
    # Links of a resolved MMSI to listed entities (vessel_links) cited from this score up,
    # as the ship detectors cite them.
    min_link_score: float = 0.75


@dataclass(frozen=True)
class Place:
    """A declared port or airport: UN/LOCODE without its space (``VEJTC``) or ICAO
    airport code, when known; its country (ISO alpha-2, lower case) and position."""

    text: str
    code: str | None = None
    name: str = ""
    country: str | None = None
    lat: float | None = None
    lon: float | None = None

    def label(self) -> str:
        if self.code and self.name and self.name.upper() != self.code:
            return f"{self.code} ({self.name})"
        return self.code or self.text


# Not frozen: a million lines make millions of findings, and a frozen dataclass is built
# five times slower.
@dataclass(slots=True)
class TrackFinding:
    """One thing the tracks say about one shipment line: ``kind`` (see
    ``FINDING_KINDS``), whether it contradicts the papers, how strongly (0..1), a
    plain-language ``detail`` and the evidence: ``cargo:<line_id>`` first, then
    ``event:<id>``, ``ais:<msg_id>``, ``flight:<id>``, ``adsb:<row>``."""

    line_id: str
    kind: str
    mismatch: bool
    score: float
    detail: str
    subject: str | None = None  # 'mmsi:211462260', 'icao24:7300f1'
    evidence: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    lat: float | None = None
    lon: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "kind": self.kind,
            "mismatch": self.mismatch,
            "score": self.score,
            "detail": self.detail,
            "subject": self.subject,
            "evidence": list(self.evidence),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "lat": self.lat,
            "lon": self.lon,
            "params": self.params,
        }


# ------------------------------------------------------------------ declared voyages


@dataclass(frozen=True, eq=False)
class Voyage:
    """What one or more lines declare about the carrier and route, normalised: lines
    that declare the same are checked once."""

    mode: Literal["sea", "air"]
    carrier: str  # as the papers name it, for details
    imo: int | None
    imo_note: str  # why a declared IMO was not used
    name_key: str | None
    flag: str | None
    flight_keys: tuple[str, ...]
    reg_key: str | None
    pol: Place | None
    pod: Place | None
    transit: frozenset[str]
    loading: date | None
    discharge: date | None
    w0: datetime  # the window the tracks are read in (tolerance included)
    w1: datetime

    def day(self, which: Literal["pol", "pod"]) -> date | None:
        return self.loading if which == "pol" else self.discharge

    def summary(self) -> str:
        def leg(p: Place | None, d: date | None) -> str:
            place = p.label() if p else "?"
            return f"{place} on {d.isoformat()}" if d else place

        return f"{self.carrier}: {leg(self.pol, self.loading)} -> {leg(self.pod, self.discharge)}"


_KEY = re.compile(r"[^A-Z0-9]")
_LOCODE = re.compile(r"^([A-Z]{2})\s?([A-Z2-9]{3})$")


def key(text: str | None) -> str | None:
    """Upper-case letters and digits only: how names, callsigns and registrations are
    compared (``'EP-MNG'`` and ``'EPMNG'`` are one)."""
    if not text:
        return None
    return _KEY.sub("", text.upper()) or None


def imo_number(text: str | None) -> tuple[int | None, str]:
    """A declared IMO number when it is one (seven digits, right check digit), else
    ``None`` and why."""
    if not text or not text.strip():
        return None, ""
    digits = re.sub(r"[^0-9]", "", text)
    if len(digits) != 7:
        return None, f"declared IMO {text!r} is not seven digits"
    check = sum(int(d) * (7 - i) for i, d in enumerate(digits[:6])) % 10
    if check != int(digits[6]):
        return None, f"declared IMO {text!r} fails its check digit"
    return int(digits), ""


# Declared dates outside these are typos (0001-01-01, 9999-12-31), not voyages.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _at_us(us: int) -> datetime:
    """UTC from microseconds since the epoch (SQL ``epoch_us``): cheaper than converting
    the session time zone's datetimes DuckDB returns."""
    return _EPOCH + timedelta(microseconds=us)


def _ts(us: int | None) -> datetime | None:
    return _at_us(us) if us is not None else None


def declared_voyage(
    line: ShipmentLine, params: TrackCheckParams, places: PlaceLookup
) -> Voyage | str:
    """The line's declared voyage, or why it cannot be checked."""
    sea = bool(line.vessel_imo or line.vessel_name)
    air = bool(line.flight_number or line.aircraft_registration)
    if line.mode == "air" or (air and not sea and line.mode != "sea"):
        if not air:
            return "an air shipment naming no flight number or aircraft registration"
        mode: Literal["sea", "air"] = "air"
    elif sea:
        mode = "sea"
    else:
        return "the line names no vessel, flight or aircraft"
    days = [d for d in (line.loading_date, line.declared_date, line.discharge_date) if d]
    if not days:
        return "the line gives no loading, declaration or discharge date"
    start = line.loading_date or line.declared_date or line.discharge_date
    end = line.discharge_date or line.loading_date or line.declared_date
    assert start is not None and end is not None
    start, end = min(start, end), max(start, end)
    if start < _FIRST_DAY or end > _LAST_DAY:
        return f"the line's dates ({start} to {end}) are outside any track (1900 to 2199)"
    tol = timedelta(days=params.air_tolerance_days if mode == "air" else params.sea_tolerance_days)
    if mode == "sea":
        imo, imo_note = imo_number(line.vessel_imo)
        carrier = " ".join(
            p
            for p in (
                f"IMO {line.vessel_imo.strip()}" if line.vessel_imo else "",
                (line.vessel_name or "").strip(),
                f"({line.vessel_flag.upper()} flag)" if line.vessel_flag else "",
            )
            if p
        )
        flight_keys: tuple[str, ...] = ()
        reg = None
        name = key(line.vessel_name)
    else:
        imo, imo_note, name = None, "", None
        flight_keys = flight_callsigns(line.flight_number)
        reg = key(line.aircraft_registration)
        carrier = " ".join(
            p
            for p in (
                f"flight {line.flight_number.strip()}" if line.flight_number else "",
                f"aircraft {line.aircraft_registration.strip()}"
                if line.aircraft_registration
                else "",
            )
            if p
        )
    return Voyage(
        mode=mode,
        carrier=carrier,
        imo=imo,
        imo_note=imo_note,
        name_key=name,
        flag=(line.vessel_flag or "").strip().lower()[:2] or None if mode == "sea" else None,
        flight_keys=flight_keys,
        reg_key=reg,
        pol=places(line.port_of_loading, mode),
        pod=places(line.port_of_discharge, mode),
        transit=frozenset(c.strip().lower() for c in line.transit_countries if c.strip()),
        loading=line.loading_date,
        discharge=line.discharge_date,
        w0=_day(start) - tol,
        w1=_day(end) + timedelta(days=1) + tol,
    )


# ------------------------------------------------------------ reference look-ups


PlaceLookup = Callable[[str | None, str], Place | None]


def _data_file(*parts: str) -> Path | None:
    for base in (Settings.from_env().data_dir, Path(__file__).resolve().parents[3] / "data"):
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return None


@lru_cache(maxsize=1)
def _wpi() -> tuple[dict[str, Place], dict[str, Place]]:
    """World Port Index ports by UN/LOCODE and by name (``data/reference``)."""
    by_code: dict[str, Place] = {}
    by_name: dict[str, Place] = {}
    path = _data_file("reference", "UpdatedPub150.csv.gz")
    if path is None:
        return by_code, by_name
    with open_text(path, encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            code = key(row.get("UN/LOCODE"))
            name = (row.get("Main Port Name") or "").strip()
            try:
                lat, lon = float(row["Latitude"]), float(row["Longitude"])
            except (KeyError, TypeError, ValueError):
                continue
            place = Place(
                code or name,
                code,
                name,
                code[:2].lower() if code and len(code) == 5 else None,
                lat,
                lon,
            )
            if code:
                by_code.setdefault(code, place)
            name_key = key(name)
            if name_key:
                by_name.setdefault(name_key, place)
    return by_code, by_name


@lru_cache(maxsize=1)
def _airports() -> tuple[dict[str, Place], dict[str, Place]]:
    """Airports by ICAO and by IATA code (the ``airportsdata`` package, offline)."""
    import airportsdata

    by_icao: dict[str, Place] = {}
    by_iata: dict[str, Place] = {}
    for code, row in airportsdata.load("ICAO").items():
        place = Place(
            code,
            code,
            str(row.get("name") or ""),
            str(row.get("country") or "").lower() or None,
            float(row["lat"]),
            float(row["lon"]),
        )
        by_icao[code] = place
        if row.get("iata"):
            by_iata.setdefault(str(row["iata"]), place)
    return by_icao, by_iata


def default_places(text: str | None, mode: str) -> Place | None:
    """A declared port (UN/LOCODE or a World Port Index name) or airport (ICAO or IATA
    code); unknown text is kept as written, with no code or position."""
    if not text or not text.strip():
        return None
    raw = text.strip()
    if mode == "air":
        by_icao, by_iata = _airports()
        code = raw.upper()
        return by_icao.get(code) or by_iata.get(code) or Place(raw)
    by_code, by_name = _wpi()
    m = _LOCODE.match(raw.upper())
    if m:
        code = m.group(1) + m.group(2)
        found = by_code.get(code)
        if found:
            return Place(raw, code, found.name, found.country, found.lat, found.lon)
        return Place(raw, code, "", code[:2].lower())
    found = by_name.get(key(raw) or "")
    if found:
        return Place(raw, found.code, found.name, found.country, found.lat, found.lon)
    return Place(raw)


@lru_cache(maxsize=1)
def _airline_icao() -> dict[str, str]:
    """IATA airline designator -> ICAO designator (OpenFlights ``airlines.dat``; an
    active airline wins over a defunct one with the same IATA code)."""
    path = _data_file("reference", "openflights", "airlines.dat.gz")
    out: dict[str, tuple[bool, str]] = {}
    if path is None:
        return {}
    with open_text(path, encoding="utf-8") as fh:
        for row in csv.reader(fh):
            if len(row) < 8:
                continue
            iata, icao, active = row[3].strip(), row[4].strip(), row[7].strip() == "Y"
            if len(iata) != 2 or len(icao) != 3 or not icao.isalpha():
                continue
            if iata not in out or (active and not out[iata][0]):
                out[iata] = (active, icao.upper())
    return {k: v for k, (_, v) in out.items()}


def flight_callsigns(flight_number: str | None) -> tuple[str, ...]:
    """The callsigns a declared flight number flies under: as written (``IRM7150``)
    and, for an IATA number (``W5 7150``), with the airline's ICAO designator."""
    k = key(flight_number)
    if not k:
        return ()
    out = [k]
    m = re.match(r"^([A-Z0-9]{2})([0-9]{1,4}[A-Z]?)$", k)
    if m and not m.group(1).isdigit():
        icao = _airline_icao().get(m.group(1))
        if icao:
            out.append(icao + m.group(2).lstrip("0"))
            out.append(icao + m.group(2))
    return tuple(dict.fromkeys(out))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _sql_km(lat: str, lon: str, lat0: str, lon0: str) -> str:
    """Great-circle km in SQL; NULL when the reference point is unknown."""
    return (
        f"CASE WHEN {lat0} IS NULL OR {lon0} IS NULL THEN NULL ELSE "
        f"2 * 6371.0088 * asin(least(1.0, sqrt(pow(sin(radians({lat} - {lat0}) / 2), 2) + "
        f"cos(radians({lat0})) * cos(radians({lat})) * "
        f"pow(sin(radians({lon} - {lon0}) / 2), 2)))) END"
    )


def _who(subject: str) -> str:
    """``'mmsi:211462260'`` -> ``'MMSI 211462260'``; ``'icao24:7300f1'`` -> ``'aircraft 7300f1'``."""
    kind, _, ref = subject.partition(":")
    return f"MMSI {ref}" if kind == "mmsi" else f"aircraft {ref}" if kind == "icao24" else subject


def _register(store: Store, name: str, columns: dict[str, pa.Array]) -> None:
    store.con.register(name, pa.table(columns))


# ------------------------------------------------------------------ identities


@dataclass(frozen=True)
class Candidate:
    """A transponder that used the declared identity: when, how often, how."""

    ref: str  # MMSI digits or ICAO 24-bit address (hex)
    method: str  # imo | name | registration | flight_number
    first: datetime | None
    last: datetime | None
    reports: int
    in_window: int
    evidence: str
    names: tuple[str, ...] = ()  # names broadcast with the IMO (sea)
    note: str = ""

    def days_off(self, w0: datetime, w1: datetime) -> float:
        """0 when it used the identity inside the window, else days to the window."""
        if self.first is None or self.last is None:
            return math.inf
        if self.first < w1 and self.last >= w0:
            return 0.0
        gap = (w0 - self.last) if self.last < w0 else (self.first - w1)
        return gap.total_seconds() / 86400.0


@dataclass(frozen=True)
class Resolution:
    """The transponder a declared carrier resolves to (``subject`` None when none or
    several), with a score (0..1) and why."""

    subject: str | None
    score: float
    reason: str
    ambiguous: bool = False
    candidates: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    listed: tuple[str, ...] = ()  # listed entities the MMSI is linked to (vessel_links)

    @property
    def ref(self) -> str | None:
        return self.subject.split(":", 1)[1] if self.subject else None


def _when(t: datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC" if t else "at an unknown time"


def _span(c: Candidate) -> str:
    return f"{c.reports} report(s) {_when(c.first)} to {_when(c.last)}"


_VESSEL_SQL = """
WITH st AS (
    SELECT mmsi, imo, regexp_replace(upper(coalesce(name, '')), '[^A-Z0-9]', '', 'g') AS nk,
           time, msg_id
    FROM ais_static WHERE time IS NOT NULL
), hits AS (
    SELECT k.kid, 'imo' AS method, s.mmsi, s.nk, s.time, s.msg_id, k.w0, k.w1
    FROM _wk_vkeys k JOIN st s ON s.imo = k.imo
    UNION ALL
    SELECT k.kid, 'name', s.mmsi, s.nk, s.time, s.msg_id, k.w0, k.w1
    FROM _wk_vkeys k JOIN st s ON s.nk = k.name_key WHERE k.imo IS NULL
)
SELECT kid, method, mmsi, epoch_us(min(time)), epoch_us(max(time)), count(*),
       count(*) FILTER (WHERE time >= w0 AND time < w1),
       arg_min(msg_id, time),
       list(DISTINCT nk) FILTER (WHERE nk <> '')
FROM hits GROUP BY kid, method, mmsi
"""


def _resolve_vessels(
    store: Store,
    voyages: Sequence[Voyage],
    flag_of: FlagOf | None,
    history: IdentityHistory | None = None,
) -> dict[Voyage, Resolution]:
    keys = sorted({(v.imo, v.name_key, v.w0, v.w1) for v in voyages}, key=repr)
    kid = {k: i for i, k in enumerate(keys)}
    _register(
        store,
        "_wk_vkeys",
        {
            "kid": pa.array(range(len(keys)), pa.int64()),
            "imo": pa.array([k[0] for k in keys], pa.int64()),
            "name_key": pa.array([k[1] for k in keys], pa.string()),
            "w0": pa.array([k[2] for k in keys], pa.timestamp("us", tz="UTC")),
            "w1": pa.array([k[3] for k in keys], pa.timestamp("us", tz="UTC")),
        },
    )
    found: dict[int, list[Candidate]] = {}
    try:
        for k, method, mmsi, first, last, n, n_in, ev, names in store.con.execute(
            _VESSEL_SQL
        ).fetchall():
            found.setdefault(int(k), []).append(
                Candidate(
                    str(mmsi),
                    str(method),
                    _ts(first),
                    _ts(last),
                    int(n),
                    int(n_in),
                    f"ais:{ev}",
                    tuple(sorted(names or ())),
                )
            )
    finally:
        store.con.unregister("_wk_vkeys")
    return {
        v: _with_history(
            v,
            _decide_vessel(v, found.get(kid[(v.imo, v.name_key, v.w0, v.w1)], []), flag_of),
            history,
        )
        for v in voyages
    }


def _with_history(v: Voyage, r: Resolution, history: IdentityHistory | None) -> Resolution:
    """What a registry's identity history says of the declared IMO during the window:
    it confirms the AIS resolution, or resolves an IMO no AIS report carried then."""
    if not v.imo or history is None:
        return r
    periods = history(v.imo, v.w0.date(), v.w1.date())
    if not periods:
        return r
    said = "; ".join(f"MMSI {m} ({span})" for m, span in periods)
    if r.subject in {f"mmsi:{m}" for m, _ in periods}:
        return replace(r, reason=f"{r.reason}; the identity history agrees: {said}")
    if r.subject is not None and r.score >= 1.0:
        # Broadcast during the voyage by another MMSI than the history's: say both.
        return replace(r, reason=f"{r.reason}; but the identity history gives the IMO {said}")
    before = f"; {r.reason}" if r.reason else ""
    if len(periods) > 1:
        return replace(
            r,
            subject=None,
            ambiguous=True,
            score=round(0.8 / len(periods), 3),
            reason=f"ambiguous: the identity history gives IMO {v.imo} {said}{before}",
            candidates=tuple(f"mmsi:{m}" for m, _ in periods),
        )
    m, span = periods[0]
    return Resolution(
        f"mmsi:{m}",
        0.8,
        f"the identity history gives IMO {v.imo} the MMSI {m} ({span}), covering the "
        f"declared voyage{before}",
        candidates=(f"mmsi:{m}", *r.candidates),
    )


def _decide_vessel(v: Voyage, cands: list[Candidate], flag_of: FlagOf | None) -> Resolution:
    what = f"IMO {v.imo}" if v.imo else f"name {v.name_key}"
    prefix = f"{v.imo_note}; " if v.imo_note else ""
    if not cands:
        return Resolution(None, 0.0, f"{prefix}no AIS static report ever carried the {what}")
    flag_note = ""
    base = 1.0 if v.imo else 0.7
    if not v.imo and v.flag and flag_of is not None:
        flags = {c.ref: flag_of(int(c.ref)) for c in cands}
        same = [c for c in cands if flags[c.ref] == v.flag]
        if same:
            cands, base = same, 0.85
            flag_note = f", flying the declared {v.flag.upper()} flag (MMSI MID)"
        else:
            base = 0.5
            seen = ", ".join(sorted(f"{c.ref}: {(flags[c.ref] or '?').upper()}" for c in cands))
            flag_note = f"; none flies the declared {v.flag.upper()} flag ({seen})"
    elif not v.imo and v.flag:
        flag_note = "; the declared flag was not checked (no MID table given)"
    off = {c.ref: c.days_off(v.w0, v.w1) for c in cands}
    ranked = sorted(cands, key=lambda c: (off[c.ref], -c.in_window, -c.reports, c.ref))
    best = off[ranked[0].ref]
    tied = [c for c in ranked if off[c.ref] == best]
    listing = tuple(f"mmsi:{c.ref}" for c in ranked)
    if len(tied) > 1:
        return Resolution(
            None,
            round(base / len(tied), 3),
            f"{prefix}ambiguous: {len(tied)} MMSIs broadcast the {what}"
            + (" during the declared voyage" if best == 0 else " nearest in time to it")
            + ": "
            + "; ".join(f"MMSI {c.ref} ({_span(c)})" for c in tied)
            + flag_note,
            ambiguous=True,
            candidates=listing,
            evidence=tuple(c.evidence for c in tied),
        )
    c = tied[0]
    if best == 0:
        score = base
        when = f"during the declared voyage ({_span(c)})"
    else:
        score = max(0.3, base - 0.1 - 0.01 * best)
        when = f"{best:.0f} day(s) from the declared voyage, not during it ({_span(c)})"
    others = len(cands) - 1
    reason = f"{prefix}MMSI {c.ref} broadcast the {what} {when}{flag_note}" + (
        f"; {others} other MMSI(s) used it at other times" if others else ""
    )
    return Resolution(
        f"mmsi:{c.ref}",
        round(score, 3),
        reason,
        candidates=listing,
        evidence=(c.evidence,),
        names=c.names,
    )


def _with_links(store: Store, res: dict[Voyage, Resolution], min_score: float) -> None:
    """Add to each resolved vessel what ``movement`` linked its MMSI to on the lists
    (``vessel_links``: the listed vessel itself, or its listed owner or operator)."""
    mmsis = sorted({int(r.ref) for r in res.values() if r.ref is not None})
    if not mmsis:
        return
    links: dict[int, list[tuple[str, str, float, str]]] = {}
    for mmsi, entity, method, score, detail in store.con.execute(
        "SELECT mmsi, entity_id, method, max(score), arg_max(detail, score) FROM vessel_links "
        "WHERE mmsi IN (SELECT unnest(?)) AND score >= ? GROUP BY ALL "
        "ORDER BY mmsi, max(score) DESC, entity_id",
        [mmsis, min_score],
    ).fetchall():
        links.setdefault(int(mmsi), []).append((str(entity), str(method), float(score), detail))
    for v, r in res.items():
        found = links.get(int(r.ref)) if r.ref is not None else None
        if not found:
            continue
        said = "; ".join(
            f"{'owned or operated by' if m in ('owner', 'operator') else 'linked to'} listed "
            f"{e} ({m}, {sc:.2f})"
            for e, m, sc, _ in found
        )
        res[v] = replace(
            r,
            reason=f"{r.reason}; {said}",
            listed=tuple(e for e, m, _, _ in found if m not in ("owner", "operator")),
        )


_REGISTRATION_SQL = """
SELECT k.kid, a.icao24, a.registration, coalesce(a.registration_source, ''),
       epoch_us(a.first_seen), epoch_us(a.last_seen), a.n_states
FROM _wk_akeys k
JOIN air_aircraft a
  ON regexp_replace(upper(coalesce(a.registration, '')), '[^A-Z0-9]', '', 'g') = k.reg_key
"""

_CALLSIGN_SQL = """
WITH f AS (
    SELECT icao24, flight_id, start_time, end_time, unnest(callsigns) AS cs FROM air_flights
)
SELECT k.kid, f.icao24, epoch_us(min(f.start_time)), epoch_us(max(f.end_time)),
       count(DISTINCT f.flight_id),
       arg_min(f.flight_id, f.start_time), min(f.cs)
FROM _wk_fkeys q JOIN _wk_akeys k USING (kid)
JOIN f ON f.cs = q.fkey AND f.start_time < k.w1 AND f.end_time > k.w0
GROUP BY k.kid, f.icao24
"""


def _resolve_aircraft(store: Store, voyages: Sequence[Voyage]) -> dict[Voyage, Resolution]:
    keys = sorted({(v.reg_key, v.flight_keys, v.w0, v.w1) for v in voyages}, key=repr)
    kid = {k: i for i, k in enumerate(keys)}
    fk = [(i, f) for i, k in enumerate(keys) for f in k[1]]
    _register(
        store,
        "_wk_akeys",
        {
            "kid": pa.array(range(len(keys)), pa.int64()),
            "reg_key": pa.array([k[0] for k in keys], pa.string()),
            "w0": pa.array([k[2] for k in keys], pa.timestamp("us", tz="UTC")),
            "w1": pa.array([k[3] for k in keys], pa.timestamp("us", tz="UTC")),
        },
    )
    _register(
        store,
        "_wk_fkeys",
        {
            "kid": pa.array([i for i, _ in fk], pa.int64()),
            "fkey": pa.array([f for _, f in fk], pa.string()),
        },
    )
    by_reg: dict[int, list[Candidate]] = {}
    by_flight: dict[int, list[Candidate]] = {}
    try:
        for k, icao, reg, source, first, last, n in store.con.execute(_REGISTRATION_SQL).fetchall():
            by_reg.setdefault(int(k), []).append(
                Candidate(
                    str(icao),
                    "registration",
                    _ts(first),
                    _ts(last),
                    int(n),
                    0,
                    f"icao24:{icao}",
                    note=f"registration {reg} ("
                    + ("stated by the source file" if source in ("", "source") else source)
                    + ")",
                )
            )
        for k, icao, first, last, n, flight_id, cs in store.con.execute(_CALLSIGN_SQL).fetchall():
            by_flight.setdefault(int(k), []).append(
                Candidate(
                    str(icao),
                    "flight_number",
                    _ts(first),
                    _ts(last),
                    int(n),
                    int(n),
                    f"flight:{flight_id}",
                    note=f"callsign {cs}",
                )
            )
    finally:
        for name in ("_wk_akeys", "_wk_fkeys"):
            store.con.unregister(name)
    out = {}
    for v in voyages:
        i = kid[(v.reg_key, v.flight_keys, v.w0, v.w1)]
        out[v] = _decide_aircraft(v, by_reg.get(i, []), by_flight.get(i, []))
    return out


def _decide_aircraft(v: Voyage, regs: list[Candidate], flights: list[Candidate]) -> Resolution:
    flown = {c.ref for c in flights}
    if len(regs) == 1:
        c = regs[0]
        reason = f"aircraft {c.ref}: {c.note}"
        if flights and c.ref not in flown:
            reason += (
                "; the declared flight number was flown by "
                + ", ".join(sorted(flown))
                + " in the window, not by this aircraft"
            )
        elif flights:
            reason += "; it flew the declared flight number in the window"
        return Resolution(f"icao24:{c.ref}", 0.95, reason, evidence=(c.evidence,))
    if len(regs) > 1:
        narrowed = [c for c in regs if c.ref in flown]
        if len(narrowed) == 1:
            c = narrowed[0]
            return Resolution(
                f"icao24:{c.ref}",
                0.9,
                f"aircraft {c.ref}: {c.note}, the one of {len(regs)} with that registration "
                "that flew the declared flight number in the window",
                evidence=(c.evidence,),
            )
        return Resolution(
            None,
            round(0.95 / len(regs), 3),
            "ambiguous: " + "; ".join(f"aircraft {c.ref} ({c.note})" for c in regs),
            ambiguous=True,
            candidates=tuple(f"icao24:{c.ref}" for c in regs),
        )
    if len(flights) == 1:
        c = flights[0]
        return Resolution(
            f"icao24:{c.ref}",
            0.85,
            f"aircraft {c.ref} flew {c.note} ({c.reports} flight(s) {_when(c.first)} to "
            f"{_when(c.last)}) in the declared window",
            evidence=(c.evidence,),
        )
    if len(flights) > 1:
        return Resolution(
            None,
            round(0.85 / len(flights), 3),
            "ambiguous: the declared flight number was flown by "
            + ", ".join(f"aircraft {c.ref} ({c.note})" for c in flights)
            + " in the window",
            ambiguous=True,
            candidates=tuple(f"icao24:{c.ref}" for c in flights),
            evidence=tuple(c.evidence for c in flights),
        )
    what = " or ".join(
        w
        for w in (
            f"registration {v.reg_key}" if v.reg_key else "",
            f"callsign {'/'.join(v.flight_keys)} in the window" if v.flight_keys else "",
        )
        if w
    )
    return Resolution(None, 0.0, f"no aircraft with the {what} in the store")


# ------------------------------------------------------------------ what the tracks show


@dataclass(frozen=True)
class _Seen:
    """Positions of one vessel in one voyage's window."""

    n: int
    first: datetime | None
    last: datetime | None
    first_id: int | None
    last_id: int | None
    n_load_day: int
    n_discharge_day: int
    pol_km: float | None
    pol_id: int | None
    pod_km: float | None
    pod_id: int | None


@dataclass(frozen=True)
class _Ev:
    """A stored movement event (port call, gap, encounter, loitering, transponder gap)."""

    event_id: str
    type: str
    start: datetime
    end: datetime
    lat: float | None
    lon: float | None
    score: float
    detail: str
    locode: str | None
    port_name: str | None
    country: str | None
    gap_h: float | None
    evidence: tuple[str, ...]
    others: tuple[str, ...]  # the other vessels of an encounter

    def overlaps(self, t0: datetime, t1: datetime) -> bool:
        return self.start < t1 and self.end > t0


@dataclass(frozen=True)
class _Flight:
    flight_id: str
    callsign: str | None
    callsigns: tuple[str, ...]
    start: datetime
    end: datetime
    takeoff: datetime | None
    landing: datetime | None
    departure: str | None
    arrival: str | None
    departure_row: int | None
    arrival_row: int | None
    first_row: int
    last_row: int
    last_lat: float
    last_lon: float
    arrival_detail: str | None


_TS = pa.timestamp("us", tz="UTC")


def _sea_tracks(
    store: Store, voyages: dict[Voyage, int]
) -> tuple[dict[tuple[Voyage, int], _Seen], dict[tuple[Voyage, int], list[_Ev]]]:
    """Positions and movement events of each (voyage, MMSI), in two joins."""
    rows = list(voyages.items())

    def day(d: date | None, add: int = 0) -> datetime | None:
        return _day(d) + timedelta(days=add) if d else None

    _register(
        store,
        "_wk_voy",
        {
            "vid": pa.array(range(len(rows)), pa.int64()),
            "mmsi": pa.array([m for _, m in rows], pa.int64()),
            "w0": pa.array([v.w0 for v, _ in rows], _TS),
            "w1": pa.array([v.w1 for v, _ in rows], _TS),
            "l0": pa.array([day(v.loading) for v, _ in rows], _TS),
            "l1": pa.array([day(v.loading, 1) for v, _ in rows], _TS),
            "d0": pa.array([day(v.discharge) for v, _ in rows], _TS),
            "d1": pa.array([day(v.discharge, 1) for v, _ in rows], _TS),
            "pol_lat": pa.array([v.pol.lat if v.pol else None for v, _ in rows], pa.float64()),
            "pol_lon": pa.array([v.pol.lon if v.pol else None for v, _ in rows], pa.float64()),
            "pod_lat": pa.array([v.pod.lat if v.pod else None for v, _ in rows], pa.float64()),
            "pod_lon": pa.array([v.pod.lon if v.pod else None for v, _ in rows], pa.float64()),
        },
    )
    pol_km = _sql_km("p.lat", "p.lon", "v.pol_lat", "v.pol_lon")
    pod_km = _sql_km("p.lat", "p.lon", "v.pod_lat", "v.pod_lon")
    seen: dict[tuple[Voyage, int], _Seen] = {}
    events: dict[tuple[Voyage, int], list[_Ev]] = {}
    try:
        for r in store.con.execute(
            f"""
            SELECT v.vid, count(*), epoch_us(min(p.time)), epoch_us(max(p.time)),
                   arg_min(p.msg_id, p.time),
                   arg_max(p.msg_id, p.time),
                   count(*) FILTER (WHERE p.time >= v.l0 AND p.time < v.l1),
                   count(*) FILTER (WHERE p.time >= v.d0 AND p.time < v.d1),
                   min({pol_km}), arg_min(p.msg_id, {pol_km}),
                   min({pod_km}), arg_min(p.msg_id, {pod_km})
            FROM _wk_voy v JOIN ais_positions p
              ON p.mmsi = v.mmsi AND p.time >= v.w0 AND p.time < v.w1
            GROUP BY v.vid
            """
        ).fetchall():
            seen[rows[int(r[0])]] = _Seen(
                int(r[1]),
                _ts(r[2]),
                _ts(r[3]),
                r[4],
                r[5],
                int(r[6]),
                int(r[7]),
                r[8],
                r[9],
                r[10],
                r[11],
            )
        for r in store.con.execute(
            """
            WITH ev AS (
                SELECT *, unnest(subjects) AS subject FROM events
                WHERE type IN ('port_call', 'ais_gap', 'encounter', 'loitering')
            )
            SELECT v.vid, ev.event_id, ev.type, epoch_us(ev.start_time), epoch_us(ev.end_time),
                   ev.lat, ev.lon, ev.score, ev.detail, ev.params->>'port_locode', ev.params->>'port_name',
                   ev.params->>'port_country', TRY_CAST(ev.params->>'gap_h' AS DOUBLE),
                   ev.evidence[1:3], ev.subjects
            FROM _wk_voy v JOIN ev
              ON ev.subject = 'mmsi:' || CAST(v.mmsi AS VARCHAR)
             AND ev.start_time < v.w1 AND ev.end_time > v.w0
            ORDER BY v.vid, ev.start_time, ev.event_id
            """
        ).fetchall():
            v, m = rows[int(r[0])]
            me = f"mmsi:{m}"
            events.setdefault((v, m), []).append(
                _Ev(
                    str(r[1]),
                    str(r[2]),
                    _at_us(r[3]),
                    _at_us(r[4]),
                    r[5],
                    r[6],
                    float(r[7]),
                    str(r[8]),
                    key(r[9]),
                    r[10],
                    r[11],
                    r[12],
                    tuple(r[13] or ()),
                    tuple(s for s in r[14] if s.startswith("mmsi:") and s != me),
                )
            )
    finally:
        store.con.unregister("_wk_voy")
    return seen, events


def _ships_detected(store: Store) -> bool:
    """Whether the ship detectors ever wrote to this store (else silence about port calls
    would read as 'no call')."""
    row = store.con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE type IN "
        "('port_call', 'ais_gap', 'encounter', 'loitering', 'voyage') LIMIT 1)"
    ).fetchone()
    return bool(row and row[0])


def _air_tracks(
    store: Store, voyages: dict[Voyage, str]
) -> tuple[dict[tuple[Voyage, str], list[_Flight]], dict[tuple[Voyage, str], list[_Ev]]]:
    rows = list(voyages.items())
    _register(
        store,
        "_wk_air",
        {
            "vid": pa.array(range(len(rows)), pa.int64()),
            "icao24": pa.array([a for _, a in rows], pa.string()),
            "w0": pa.array([v.w0 for v, _ in rows], _TS),
            "w1": pa.array([v.w1 for v, _ in rows], _TS),
        },
    )
    flights: dict[tuple[Voyage, str], list[_Flight]] = {}
    events: dict[tuple[Voyage, str], list[_Ev]] = {}
    try:
        for r in store.con.execute(
            """
            SELECT v.vid, f.flight_id, f.callsign, f.callsigns, epoch_us(f.start_time),
                   epoch_us(f.end_time), epoch_us(f.takeoff), epoch_us(f.landing), f.departure, f.arrival, f.departure_row,
                   f.arrival_row, f.first_row, f.last_row, f.last_lat, f.last_lon,
                   f.arrival_detail
            FROM _wk_air v JOIN air_flights f
              ON f.icao24 = v.icao24 AND f.start_time < v.w1 AND f.end_time > v.w0
            ORDER BY v.vid, f.start_time
            """
        ).fetchall():
            flights.setdefault(rows[int(r[0])], []).append(
                _Flight(
                    str(r[1]),
                    r[2],
                    tuple(r[3] or ()),
                    _at_us(r[4]),
                    _at_us(r[5]),
                    _ts(r[6]),
                    _ts(r[7]),
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                    int(r[12]),
                    int(r[13]),
                    float(r[14]),
                    float(r[15]),
                    r[16],
                )
            )
        for r in store.con.execute(
            """
            WITH ev AS (
                SELECT *, unnest(subjects) AS subject FROM events WHERE type = 'transponder_gap'
            )
            SELECT v.vid, ev.event_id, ev.type, epoch_us(ev.start_time), epoch_us(ev.end_time),
                   ev.lat, ev.lon, ev.score, ev.detail, ev.evidence[1:3]
            FROM _wk_air v JOIN ev
              ON ev.subject = 'icao24:' || v.icao24
             AND ev.start_time < v.w1 AND ev.end_time > v.w0
            ORDER BY v.vid, ev.start_time, ev.event_id
            """
        ).fetchall():
            events.setdefault(rows[int(r[0])], []).append(
                _Ev(
                    str(r[1]),
                    str(r[2]),
                    _at_us(r[3]),
                    _at_us(r[4]),
                    r[5],
                    r[6],
                    float(r[7]),
                    str(r[8]),
                    None,
                    None,
                    None,
                    None,
                    tuple(r[9] or ()),
                    (),
                )
            )
    finally:
        store.con.unregister("_wk_air")
    return flights, events


# ------------------------------------------------------------------ comparing


def _finding(kind: str, score: float, detail: str, **kw: Any) -> TrackFinding:
    """A finding not yet tied to a line (lines declaring the same voyage share it)."""
    return TrackFinding("", kind, FINDING_KINDS[kind][0], round(score, 3), detail, **kw)


def _at(place: Place | None, e: _Ev, same_km: float) -> bool:
    """Whether a port call is at the declared port: same UN/LOCODE, or within
    ``same_km`` of it, or the same name."""
    if place is None:
        return False
    if place.code and e.locode == place.code:
        return True
    near = (
        place.lat is not None
        and place.lon is not None
        and e.lat is not None
        and e.lon is not None
        and _km(place.lat, place.lon, e.lat, e.lon) <= same_km
    )
    if near:
        return True
    return bool(e.port_name and key(e.port_name) == key(place.name or place.text))


def _port(e: _Ev) -> str:
    code = f" ({e.locode})" if e.locode else ""
    country = f", {e.country.upper()}" if e.country else ""
    return f"{e.port_name or 'a port'}{code}{country}"


def _span_text(t0: datetime, t1: datetime) -> str:
    same_day = t0.date() == t1.date()
    return (
        f"{t0:%Y-%m-%d %H:%M} to {t1:%H:%M} UTC"
        if same_day
        else (f"{t0:%Y-%m-%d %H:%M} to {t1:%Y-%m-%d %H:%M} UTC")
    )


def _identity_finding(v: Voyage, res: Resolution) -> TrackFinding:
    common: dict[str, Any] = {
        "subject": res.subject,
        "start": v.w0,
        "end": v.w1,
        "params": {
            "declared": v.summary(),
            "mode": v.mode,
            "score": res.score,
            "candidates": list(res.candidates),
            "listed": list(res.listed),
            "window": [v.w0.isoformat(), v.w1.isoformat()],
        },
        "evidence": res.evidence,
    }
    if res.ambiguous:
        return _finding("identity_ambiguous", res.score, f"{v.carrier}: {res.reason}", **common)
    if res.subject is None:
        return _finding("identity_unresolved", 0.0, f"{v.carrier}: {res.reason}", **common)
    return _finding("identity_resolved", res.score, f"{v.carrier}: {res.reason}", **common)


def _sea_findings(
    v: Voyage,
    res: Resolution,
    seen: _Seen | None,
    evs: list[_Ev],
    p: TrackCheckParams,
    detected: bool = True,
) -> list[TrackFinding]:
    out = [_identity_finding(v, res)]
    if res.subject is None:
        return out
    mmsi = res.subject
    if v.imo and v.name_key and res.names and v.name_key not in res.names:
        out.append(
            _finding(
                "vessel_name_differs",
                p.score_name_differs,
                f"the papers name the vessel {v.name_key}; {_who(mmsi)} broadcast IMO "
                f"{v.imo} with the name(s) {', '.join(res.names)}",
                subject=mmsi,
                evidence=res.evidence,
                start=v.w0,
                end=v.w1,
            )
        )
    if seen is None or seen.n == 0:
        out.append(
            _finding(
                "tracks_absent",
                0.0,
                f"no AIS position of {_who(mmsi)} from {v.w0:%Y-%m-%d} to {v.w1:%Y-%m-%d} "
                f"(the declared dates +/- {p.sea_tolerance_days} days): the voyage cannot be "
                "checked against its track",
                subject=mmsi,
                start=v.w0,
                end=v.w1,
            )
        )
        return out
    if not detected:
        out.append(
            _finding(
                "tracks_not_analysed",
                0.0,
                f"{_who(mmsi)} was heard {seen.n} time(s) in the window, but the ship "
                "detectors have not been run on this store (`watchkeeper detect`): there are "
                "no port calls, gaps or encounters to compare the papers with",
                subject=mmsi,
                start=v.w0,
                end=v.w1,
            )
        )
        return out
    tol = timedelta(days=p.sea_tolerance_days)

    def leg(d: date | None) -> tuple[datetime, datetime]:
        return (_day(d) - tol, _day(d) + timedelta(days=1) + tol) if d else (v.w0, v.w1)

    calls = [e for e in evs if e.type == "port_call"]
    pol_calls = [c for c in calls if _at(v.pol, c, p.same_port_km) and c.overlaps(*leg(v.loading))]
    pod_calls = [
        c for c in calls if _at(v.pod, c, p.same_port_km) and c.overlaps(*leg(v.discharge))
    ]
    floor = min((c.end for c in pol_calls), default=_day(v.loading) if v.loading else v.w0)
    arr_call = min((c for c in pod_calls if c.start >= floor), key=lambda c: c.start, default=None)
    limit = (
        arr_call.start
        if arr_call
        else (_day(v.discharge) + timedelta(days=1) if v.discharge else v.w1)
    )
    dep_call = max((c for c in pol_calls if c.end <= limit), key=lambda c: c.end, default=None)
    dep = dep_call.end if dep_call else floor
    arr = max(limit, dep)
    for which, place, d, called, n_day, km, km_id in (
        ("loading", v.pol, v.loading, pol_calls, seen.n_load_day, seen.pol_km, seen.pol_id),
        (
            "discharge",
            v.pod,
            v.discharge,
            pod_calls,
            seen.n_discharge_day,
            seen.pod_km,
            seen.pod_id,
        ),
    ):
        if place is None:
            continue
        on = f" on {d.isoformat()}" if d else ""
        t0, t1 = leg(d)
        if called:
            c = (
                dep_call
                if which == "loading" and dep_call
                else (arr_call if which == "discharge" and arr_call else called[0])
            )
            out.append(
                _finding(
                    "declared_port_called",
                    0.0,
                    f"declared {which} {place.label()}{on}: {_who(mmsi)} called at "
                    f"{_port(c)} {_span_text(c.start, c.end)}",
                    subject=mmsi,
                    evidence=(f"event:{c.event_id}", *c.evidence[:1]),
                    start=c.start,
                    end=c.end,
                    lat=c.lat,
                    lon=c.lon,
                )
            )
            continue
        heard = n_day if d else seen.n
        if place.lat is None or place.lon is None:
            out.append(
                _finding(
                    "declared_port_unknown",
                    0.0,
                    f"declared {which} {place.label()}{on} is not in the World Port Index, "
                    "where port calls are detected: a call there can be neither confirmed nor "
                    "denied",
                    subject=mmsi,
                    start=t0 + tol,
                    end=t1 - tol,
                )
            )
        elif heard and km is not None and km <= p.same_port_km:
            out.append(
                _finding(
                    "declared_port_visited",
                    0.0,
                    f"declared {which} {place.label()}{on}: {_who(mmsi)} was heard "
                    f"{km:.1f} km from it, but no stop there was detected (too few reports "
                    "below the stop speed)",
                    subject=mmsi,
                    evidence=(f"ais:{km_id}",),
                    start=t0 + tol,
                    end=t1 - tol,
                    lat=place.lat,
                    lon=place.lon,
                )
            )
        elif heard:
            where = f", never closer than {km:.1f} km to it" if km is not None else ""
            out.append(
                _finding(
                    "declared_port_not_called",
                    p.score_port_not_called,
                    f"declared {which} {place.label()}{on}: no port call there by "
                    f"{_who(mmsi)}, heard {heard} time(s) "
                    + ("that day" if d else "in the window")
                    + where,
                    subject=mmsi,
                    evidence=(f"ais:{km_id}",) if km_id is not None else (),
                    start=t0 + tol,
                    end=t1 - tol,
                    lat=place.lat,
                    lon=place.lon,
                    params={"closest_km": round(km, 3) if km is not None else None},
                )
            )
        else:
            out.append(
                _finding(
                    "declared_port_unobserved",
                    0.0,
                    f"declared {which} {place.label()}{on}: {_who(mmsi)} was not heard "
                    "that day, so the call can be neither confirmed nor denied",
                    subject=mmsi,
                    start=t0 + tol,
                    end=t1 - tol,
                )
            )
    sanctioned = {c.lower() for c in p.sanctioned}
    for e in evs:
        if not e.overlaps(dep, arr):
            continue
        ev = (f"event:{e.event_id}", *e.evidence[:2])
        at = {
            "subject": mmsi,
            "evidence": ev,
            "start": e.start,
            "end": e.end,
            "lat": e.lat,
            "lon": e.lon,
        }
        when = _span_text(e.start, e.end)
        if e.type == "port_call":
            if _at(v.pol, e, p.same_port_km) or _at(v.pod, e, p.same_port_km):
                continue
            country = (e.country or "").lower()
            if country and country in v.transit:
                out.append(
                    _finding(
                        "transit_port_call",
                        0.0,
                        f"port call at {_port(e)} {when}, in a declared transit country",
                        **at,
                    )
                )
                continue
            bad = country in sanctioned
            out.append(
                _finding(
                    "undeclared_port_call",
                    p.score_undeclared_sanctioned if bad else p.score_undeclared,
                    f"a port call at {_port(e)} {when} that the papers do not declare"
                    + (f"; {country.upper()} is a sanctioned country" if bad else ""),
                    params={
                        "port_locode": e.locode,
                        "port_country": country or None,
                        "sanctioned": bad,
                    },
                    **at,
                )
            )
        elif e.type == "ais_gap":
            hours = f"{e.gap_h:g} h " if e.gap_h is not None else ""
            off = (
                f" (last heard at {e.lat:.3f}, {e.lon:.3f})"
                if e.lat is not None and e.lon is not None
                else ""
            )
            out.append(
                _finding(
                    "ais_gap_during_voyage",
                    max(p.score_gap, e.score),
                    f"an AIS gap of {hours}from {_span_text(e.start, e.end)}{off} during the "
                    "declared voyage",
                    **at,
                )
            )
        elif e.type == "encounter":
            other = ", ".join(_who(o) for o in e.others) or "another vessel"
            where = (
                f" at {e.lat:.3f}, {e.lon:.3f}" if e.lat is not None and e.lon is not None else ""
            )
            out.append(
                _finding(
                    "encounter_during_voyage",
                    max(p.score_encounter, e.score),
                    f"a ship-to-ship encounter with {other}{where} {when} during the declared "
                    "voyage",
                    **at,
                )
            )
        elif e.type == "loitering":
            where = (
                f" at {e.lat:.3f}, {e.lon:.3f}" if e.lat is not None and e.lon is not None else ""
            )
            out.append(
                _finding(
                    "loitering_during_voyage",
                    p.score_loitering,
                    f"loitering at sea{where} {when} during the declared voyage",
                    **at,
                )
            )
    return out


def _airport(code: str | None) -> str:
    if not code:
        return "?"
    place = _airports()[0].get(code)
    return f"{code} ({place.name}, {(place.country or '?').upper()})" if place else code


def _air_findings(
    v: Voyage,
    res: Resolution,
    flights: list[_Flight],
    evs: list[_Ev],
    p: TrackCheckParams,
) -> list[TrackFinding]:
    out = [_identity_finding(v, res)]
    if res.subject is None:
        return out
    icao = res.subject
    if not flights:
        out.append(
            _finding(
                "tracks_absent",
                0.0,
                f"no flight of {_who(icao)} from {v.w0:%Y-%m-%d} to {v.w1:%Y-%m-%d} (the "
                f"declared dates +/- {p.air_tolerance_days} day(s))",
                subject=icao,
                start=v.w0,
                end=v.w1,
            )
        )
        return out
    keys = set(v.flight_keys)
    chosen = [f for f in flights if keys & {f.callsign or "", *f.callsigns}] if keys else []
    if not chosen:
        from_pol = [f for f in flights if v.pol and v.pol.code and f.departure == v.pol.code]
        chosen = from_pol or flights
    sanctioned = {c.lower() for c in p.sanctioned}
    pol = v.pol.code if v.pol else None
    pod = v.pod.code if v.pod else None
    for f in chosen:
        name = f"flight {f.callsign or f.flight_id}"
        at: dict[str, Any] = {"subject": icao, "start": f.start, "end": f.end}
        ev = [f"flight:{f.flight_id}"]
        if pod and f.arrival and f.arrival != pod:
            country = (_airports()[0].get(f.arrival) or Place("")).country or ""
            bad = country in sanctioned
            out.append(
                _finding(
                    "flight_landed_elsewhere",
                    p.score_landed_sanctioned if bad else p.score_landed_elsewhere,
                    f"declared arrival {_airport(pod)}"
                    + (f" on {v.discharge.isoformat()}" if v.discharge else "")
                    + f"; {name} from {_airport(f.departure)} landed at {_airport(f.arrival)}"
                    + (f" at {_when(f.landing)}" if f.landing else "")
                    + (f"; {country.upper()} is a sanctioned country" if bad else ""),
                    evidence=(*ev, f"adsb:{f.arrival_row or f.last_row}"),
                    lat=f.last_lat,
                    lon=f.last_lon,
                    params={
                        "arrival": f.arrival,
                        "arrival_country": country or None,
                        "sanctioned": bad,
                    },
                    **at,
                )
            )
        if pol and f.departure and f.departure != pol:
            out.append(
                _finding(
                    "flight_departed_elsewhere",
                    p.score_departed_elsewhere,
                    f"declared departure {_airport(pol)}"
                    + (f" on {v.loading.isoformat()}" if v.loading else "")
                    + f"; {name} took off from {_airport(f.departure)}"
                    + (f" at {_when(f.takeoff)}" if f.takeoff else ""),
                    evidence=(*ev, f"adsb:{f.departure_row or f.first_row}"),
                    **at,
                )
            )
        if not (pod and f.arrival and f.arrival != pod) and not (
            pol and f.departure and f.departure != pol
        ):
            if f.arrival is None:
                out.append(
                    _finding(
                        "flight_arrival_unobserved",
                        0.0,
                        f"{name} from {_airport(f.departure)}: its landing was not seen "
                        f"(last heard {_when(f.end)})",
                        evidence=(*ev, f"adsb:{f.last_row}"),
                        **at,
                    )
                )
            else:
                out.append(
                    _finding(
                        "flight_as_declared",
                        0.0,
                        f"{name} flew {_airport(f.departure)} -> {_airport(f.arrival)}, "
                        f"{_span_text(f.start, f.end)}",
                        evidence=(*ev, f"adsb:{f.arrival_row or f.last_row}"),
                        **at,
                    )
                )
        for e in evs:
            if e.overlaps(f.start, f.end):
                out.append(
                    _finding(
                        "transponder_gap_during_flight",
                        max(p.score_transponder_gap, e.score),
                        e.detail,
                        subject=icao,
                        evidence=(f"event:{e.event_id}", *e.evidence[:2]),
                        start=e.start,
                        end=e.end,
                        lat=e.lat,
                        lon=e.lon,
                    )
                )
    return out


# ------------------------------------------------------------------ the entry points


def check_tracks(
    store: Store,
    lines: Iterable[ShipmentLine],
    params: TrackCheckParams | None = None,
    *,
    flag_of: FlagOf | None = None,
    history: IdentityHistory | None = None,
    places: PlaceLookup = default_places,
) -> list[TrackFinding]:
    """Every finding for every line, in line order: how its carrier resolved, then what
    the tracks show against the declared route and dates. Nothing is written.

    ``flag_of`` (MMSI -> ISO alpha-2 flag) lets a vessel declared by name and flag be
    told from namesakes; without it the flag is not checked (and says so).
    ``history`` (IMO, first day, last day -> MMSIs with their periods) resolves an IMO
    that no AIS report carried during the voyage through a registry's identity history
    (the shadow-fleet data set), and confirms or questions one that did."""
    params = params or TrackCheckParams()
    known: dict[tuple[str | None, str], Place | None] = {}

    def place(text: str | None, mode: str) -> Place | None:
        if (text, mode) not in known:
            known[(text, mode)] = places(text, mode)
        return known[(text, mode)]

    cache: dict[tuple[Any, ...], Voyage | str] = {}
    per_line: list[tuple[ShipmentLine, Voyage | str]] = []
    for line in lines:
        k = (
            line.mode,
            line.vessel_imo,
            line.vessel_name,
            line.vessel_flag,
            line.flight_number,
            line.aircraft_registration,
            line.port_of_loading,
            line.port_of_discharge,
            line.transit_countries,
            line.loading_date,
            line.discharge_date,
            line.declared_date,
        )
        v = cache.get(k)
        if v is None:
            v = cache[k] = declared_voyage(line, params, place)
        per_line.append((line, v))
    voyages = {v for v in cache.values() if isinstance(v, Voyage)}
    sea = [v for v in voyages if v.mode == "sea"]
    air = [v for v in voyages if v.mode == "air"]
    res: dict[Voyage, Resolution] = {}
    if sea:
        res.update(_resolve_vessels(store, sea, flag_of, history))
        _with_links(store, res, params.min_link_score)
    if air:
        res.update(_resolve_aircraft(store, air))
    sea_keys = {v: int(r) for v in sea if (r := res[v].ref) is not None}
    air_keys = {v: r for v in air if (r := res[v].ref) is not None}
    seen, sea_evs = _sea_tracks(store, sea_keys) if sea_keys else ({}, {})
    detected = (bool(sea_evs) or _ships_detected(store)) if sea_keys else True
    flights, air_evs = _air_tracks(store, air_keys) if air_keys else ({}, {})
    shared: dict[Voyage, list[TrackFinding]] = {}
    for v in sea:
        m = sea_keys.get(v)
        shared[v] = _sea_findings(
            v,
            res[v],
            seen.get((v, m)) if m is not None else None,
            sea_evs.get((v, m), []) if m is not None else [],
            params,
            detected,
        )
    for v in air:
        a = air_keys.get(v)
        shared[v] = _air_findings(
            v,
            res[v],
            flights.get((v, a), []) if a else [],
            air_evs.get((v, a), []) if a else [],
            params,
        )
    out: list[TrackFinding] = []
    for line, v in per_line:
        cite = f"cargo:{line.line_id}"
        if isinstance(v, str):
            out.append(
                TrackFinding(
                    line.line_id,
                    "not_checkable",
                    False,
                    0.0,
                    f"{line.source_ref}: {v}",
                    evidence=(cite,),
                )
            )
            continue
        for t in shared[v]:
            out.append(
                TrackFinding(
                    line.line_id,
                    t.kind,
                    t.mismatch,
                    t.score,
                    t.detail,
                    t.subject,
                    (cite, *t.evidence),
                    t.start,
                    t.end,
                    t.lat,
                    t.lon,
                    t.params,
                )
            )
    return out


def mismatch_events(
    lines: Iterable[ShipmentLine],
    findings: Iterable[TrackFinding],
    params: TrackCheckParams | None = None,
) -> list[Event]:
    """One ``manifest_track_mismatch`` event per line whose tracks contradict it,
    citing the line (``cargo:<line_id>``) and the movement evidence."""
    params = params or TrackCheckParams()
    findings = list(findings)
    # Most lines hold to their papers: group only the findings of lines that do not.
    contradicted = {f.line_id for f in findings if f.mismatch}
    by_line: dict[str, list[TrackFinding]] = {}
    for f in findings:
        if f.line_id in contradicted:
            by_line.setdefault(f.line_id, []).append(f)
    events = []
    for line in lines:
        if not by_line:
            break
        found = by_line.pop(line.line_id, None)
        if found is None:
            continue
        bad = [f for f in found if f.mismatch]
        ident = next((f for f in found if f.kind.startswith("identity_")), None)
        subject = ident.subject if ident else bad[0].subject
        imo, _ = imo_number(line.vessel_imo)
        listed = tuple(ident.params.get("listed", ())) if ident else ()
        subjects = tuple(
            dict.fromkeys(
                s
                for s in (f"cargo:{line.line_id}", subject, f"imo:{imo}" if imo else None, *listed)
                if s
            )
        )
        evidence: list[str] = []
        for f in bad:
            for e in f.evidence:
                if e not in evidence:
                    evidence.append(e)
        evidence = evidence[: params.max_evidence]
        declared = ident.params.get("declared") if ident else None
        subject_text = f" tracks of {_who(subject)}:" if subject else ""
        detail = (
            f"{line.source_ref} ({line.line_id}) declares {declared or line.line_id};"
            f"{subject_text} " + "; ".join(f.detail for f in bad)
        )
        located = next((f for f in bad if f.lat is not None and f.lon is not None), None)
        starts = [f.start for f in bad if f.start]
        ends = [f.end for f in bad if f.end]
        start = min(starts) if starts else datetime(1970, 1, 1, tzinfo=UTC)
        end = max([*ends, start])
        events.append(
            Event(
                type=EVENT_TYPE,
                subjects=subjects,
                start=start,
                end=end,
                score=max(f.score for f in bad),
                detail=detail,
                evidence=tuple(evidence),
                lat=located.lat if located else None,
                lon=located.lon if located else None,
                params={
                    "line_id": line.line_id,
                    "shipment_id": line.shipment_id,
                    "source_ref": line.source_ref,
                    "resolution": ident.detail if ident else None,
                    "findings": [
                        {"kind": f.kind, "score": f.score, "detail": f.detail} for f in bad
                    ],
                },
            )
        )
    return events


def save_mismatch_events(store: Store, line_ids: Sequence[str], events: Sequence[Event]) -> int:
    """Replace the ``manifest_track_mismatch`` events of these lines with ``events``, in
    one transaction (a line that no longer mismatches keeps no stale event)."""
    cites = pa.table({"subject": pa.array([f"cargo:{i}" for i in line_ids], pa.string())})
    with store.transaction() as con:
        con.register("_wk_cites", cites)
        try:
            con.execute(
                """
                DELETE FROM events WHERE type = ? AND event_id IN (
                    SELECT e.event_id FROM (
                        SELECT event_id, unnest(subjects) AS subject FROM events WHERE type = ?
                    ) e JOIN _wk_cites c USING (subject)
                )
                """,
                [EVENT_TYPE, EVENT_TYPE],
            )
        finally:
            con.unregister("_wk_cites")
        store.write_events(events)
    return len(events)
