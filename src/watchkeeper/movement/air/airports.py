"""Airports from ``airportsdata`` (offline, ICAO-keyed): lookup and nearest-airport search."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from watchkeeper.movement.air.geodesy import haversine_km


@dataclass(frozen=True)
class Airport:
    """One airport: ICAO code, IATA code ('' when none), ISO 3166 alpha-2 country (upper case)."""

    icao: str
    iata: str
    name: str
    city: str
    country: str
    lat: float
    lon: float
    elevation_ft: float

    def label(self) -> str:
        return f"{self.icao} ({self.name}, {self.country})"


class AirportIndex:
    """Airports sorted by latitude, so a nearest search only scans a latitude band."""

    def __init__(self, airports: list[Airport]) -> None:
        self.airports = sorted(airports, key=lambda a: a.lat)
        self.by_icao = {a.icao: a for a in self.airports}
        self._lat = np.array([a.lat for a in self.airports], dtype=np.float64)
        self._lon = np.array([a.lon for a in self.airports], dtype=np.float64)

    def get(self, icao: str | None) -> Airport | None:
        return self.by_icao.get(icao.upper()) if icao else None

    def nearest(self, lat: float, lon: float, max_km: float) -> tuple[Airport, float] | None:
        """The airport nearest to (lat, lon) within ``max_km``, with its distance in km."""
        band = max_km / 111.0 + 0.01
        lo = int(np.searchsorted(self._lat, lat - band, side="left"))
        hi = int(np.searchsorted(self._lat, lat + band, side="right"))
        if hi <= lo:
            return None
        d = haversine_km(lat, lon, self._lat[lo:hi], self._lon[lo:hi])
        best = int(np.argmin(d))
        if d[best] > max_km:
            return None
        return self.airports[lo + best], float(d[best])


@lru_cache(maxsize=1)
def default_airports() -> AirportIndex:
    """Every airport in the installed ``airportsdata`` package (28k, ICAO-keyed)."""
    import airportsdata

    table = airportsdata.load("ICAO")
    return AirportIndex(
        [
            Airport(
                icao=code,
                iata=row.get("iata") or "",
                name=row.get("name") or "",
                city=row.get("city") or "",
                country=(row.get("country") or "").upper(),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                elevation_ft=float(row.get("elevation") or 0.0),
            )
            for code, row in table.items()
        ]
    )
