"""World Port Index (NGA Pub 150): ports with their country, and nearest-port lookup.

The bundled copy is ``data/reference/UpdatedPub150.csv.gz`` (the NGA file, gzipped).
Country codes are ISO 3166 alpha-2, lower case (``ir``), as FtM writes them: from the
port's UN/LOCODE when it has one, else from its country name.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from followthemoney.types import registry
from normality import normalize
from scipy.spatial import cKDTree

from watchkeeper.errors import InputError
from watchkeeper.io import open_text
from watchkeeper.movement.geo import FloatArray, IntArray, unit_xyz_km
from watchkeeper.settings import Settings

WPI_FILE = "reference/UpdatedPub150.csv.gz"

# Official names in the ITU MID table and the WPI that FtM's English country labels
# do not spell this way. FtM's full fuzzy lookup would find most of them, but it costs
# seconds per process (it builds its territory index), so they are listed here.
_COUNTRY_NAMES = {
    "vatican city state": "va",
    "united kingdom of great britain and northern ireland": "gb",
    "slovak republic": "sk",
    "czech republic": "cz",
    "republic of turkiye": "tr",
    "turkey": "tr",
    "russian federation": "ru",
    "united states of america": "us",
    "alaska": "us",
    "united states virgin islands": "vi",
    "korea": "kr",
    "state of palestine": "ps",
    "democratic people s republic of korea": "kp",
    "kyrgyz republic": "kg",
    "syrian arab republic": "sy",
    "brunei darussalam": "bn",
    "lao people s democratic republic": "la",
    "nauru": "nr",
    "pitcairn island": "pn",
    "viet nam": "vn",
    "congo": "cg",
    "cabo verde": "cv",
    "gabonese republic": "ga",
    "saint helena": "sh",
    "togolese republic": "tg",
    "democratic republic of the congo": "cd",
    "argentine republic": "ar",
    "federated states of micronesia": "fm",
    "burma": "mm",
    "wake island": "um",
    "south georgia and south sandwich islands": "gs",
    "caribbean netherlands": "bq",
    "johnson atoll": "um",
    "midway islands": "um",
    "falkland islands": "fk",
    "saint vincent and the grenadines": "vc",
    "guiana": "gf",
}


@lru_cache(maxsize=1)
def _country_labels() -> dict[str, str]:
    return {normalize(label) or "": code for code, label in registry.country.names.items()}


def country_code(name: str) -> str | None:
    """ISO alpha-2 (lower case) for a country name as the ITU or NGA write it:
    ``'Iran (Islamic Republic of)'``, ``'Portugal - Madeira'`` (the territory wins)."""
    labels = _country_labels()
    for part in reversed([p.strip() for p in name.split(" - ")]):
        for candidate in (part, re.sub(r"\s*\(.*?\)\s*", " ", part).strip()):
            key = normalize(candidate) or ""
            code = labels.get(key) or _COUNTRY_NAMES.get(key)
            if code:
                return code
    return registry.country.clean(name)  # slow path, for names not seen before


_REQUIRED = ("World Port Index Number", "Main Port Name", "Country Code", "Latitude", "Longitude")


def data_file(relative: str, data_dir: Path | None = None) -> Path:
    """A bundled data file: under ``data_dir`` (settings), else the checkout's ``data/``."""
    candidates = []
    if data_dir is not None:
        candidates.append(data_dir / relative)
    candidates.append(Settings.from_env().data_dir / relative)
    candidates.append(Path(__file__).resolve().parents[3] / "data" / relative)
    for path in candidates:
        if path.exists():
            return path
    raise InputError(candidates[-1], "bundled data file is missing")


@dataclass(frozen=True)
class Port:
    wpi: str
    name: str
    locode: str | None
    country: str | None  # ISO alpha-2, lower case
    country_name: str
    lat: float
    lon: float

    def label(self) -> str:
        code = f" ({self.locode})" if self.locode else ""
        return f"{self.name}{code}, {self.country_name}"


def _country(locode: str | None, name: str) -> str | None:
    if locode and len(locode) >= 2 and locode[:2].lower() in registry.country.names:
        return locode[:2].lower()
    return country_code(name) if name else None


def load_ports(path: Path | None = None) -> list[Port]:
    """Every port of the WPI CSV; a row without a position raises ``InputError``."""
    path = path or data_file(WPI_FILE)
    ports: list[Port] = []
    with open_text(path, encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in _REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(path, f"not a World Port Index CSV: no column {missing[0]!r}", line=1)
        for line, row in enumerate(reader, start=2):
            try:
                lat = float(row["Latitude"])
                lon = float(row["Longitude"])
            except (TypeError, ValueError) as exc:
                raise InputError(path, f"bad coordinate: {exc}", line=line) from exc
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise InputError(path, f"coordinate out of range: {lat}, {lon}", line=line)
            locode = (row.get("UN/LOCODE") or "").strip() or None
            name = (row["Country Code"] or "").strip()
            ports.append(
                Port(
                    wpi=(row["World Port Index Number"] or "").strip(),
                    name=(row["Main Port Name"] or "").strip(),
                    locode=locode,
                    country=_country(locode, name),
                    country_name=name,
                    lat=lat,
                    lon=lon,
                )
            )
    if not ports:
        raise InputError(path, "no ports in the file")
    return ports


class PortIndex:
    """Nearest-port lookup over many positions at once (a k-d tree on Earth-centred
    coordinates, so no special case at poles or the antimeridian)."""

    def __init__(self, ports: list[Port]) -> None:
        if not ports:
            raise ValueError("PortIndex needs at least one port")
        self.ports = ports
        lat = np.array([p.lat for p in ports], dtype=np.float64)
        lon = np.array([p.lon for p in ports], dtype=np.float64)
        self._tree = cKDTree(np.column_stack(unit_xyz_km(lat, lon)))

    def nearest(
        self, lat: FloatArray, lon: FloatArray, max_km: float = np.inf
    ) -> tuple[IntArray, FloatArray]:
        """Index of the nearest port (-1 when none within ``max_km``) and its distance
        in km (chord distance: equal to great-circle within 0.01 % at port scales;
        ``inf`` when none within ``max_km``)."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        if lat.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        pts = np.column_stack(unit_xyz_km(lat, lon))
        dist, idx = self._tree.query(pts, k=1, distance_upper_bound=max_km)
        idx = np.asarray(idx, dtype=np.int64)
        idx[idx >= len(self.ports)] = -1
        return idx, np.asarray(dist, dtype=np.float64)

    def nearest_one(self, lat: float, lon: float) -> tuple[Port, float]:
        idx, dist = self.nearest(np.array([lat]), np.array([lon]))
        return self.ports[int(idx[0])], float(dist[0])


@lru_cache(maxsize=4)
def port_index(path: Path | None = None) -> PortIndex:
    """The bundled WPI, loaded once per process."""
    return PortIndex(load_ports(path))
