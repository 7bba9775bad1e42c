"""Distances on the Earth: great-circle distance, distance from shore, grid cells.

Units: kilometres unless a name says nautical miles (``_nm``); degrees WGS84.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.errors import WatchkeeperError

EARTH_RADIUS_KM = 6371.0088
KM_PER_NM = 1.852

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray:
    """Great-circle distance in km between points (arrays broadcast together)."""
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))


def haversine_one(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return float(haversine_km(lat1, lon1, lat2, lon2))


def step_km(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Distance from each position to the next (length n-1)."""
    return haversine_km(lat[:-1], lon[:-1], lat[1:], lon[1:])


def unit_xyz_km(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Earth-centred coordinates in km: straight-line (chord) distance between two such
    points is within 0.01 % of the great-circle distance below 100 km, and cells of a
    3-D grid over them have no poles or antimeridian to special-case."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    cos_phi = np.cos(phi)
    return (
        EARTH_RADIUS_KM * cos_phi * np.cos(lam),
        EARTH_RADIUS_KM * cos_phi * np.sin(lam),
        EARTH_RADIUS_KM * np.sin(phi),
    )


def grid_cells(lat: FloatArray, lon: FloatArray, cell_km: float) -> IntArray:
    """One int64 key per point for the 3-D cube of side ``cell_km`` it falls in.

    Two points closer than ``cell_km`` are always in the same or an adjacent cube
    (see ``neighbour_offsets``); each axis index fits 20 bits for cells of 20 m or more.
    """
    x, y, z = unit_xyz_km(lat, lon)
    return _pack(
        np.floor(x / cell_km).astype(np.int64),
        np.floor(y / cell_km).astype(np.int64),
        np.floor(z / cell_km).astype(np.int64),
    )


_AXIS_BITS = 20
_AXIS_OFFSET = 1 << (_AXIS_BITS - 1)


def _pack(ix: IntArray, iy: IntArray, iz: IntArray) -> IntArray:
    ix = ix + _AXIS_OFFSET
    iy = iy + _AXIS_OFFSET
    iz = iz + _AXIS_OFFSET
    return np.asarray((ix << (2 * _AXIS_BITS)) | (iy << _AXIS_BITS) | iz, dtype=np.int64)


def neighbour_offsets() -> list[int]:
    """Key deltas from a cube to itself and its 26 neighbours (add to a packed key)."""
    out = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            for dz in (-1, 0, 1):
                out.append((dx << (2 * _AXIS_BITS)) + (dy << _AXIS_BITS) + dz)
    return out


class ShoreDistance:
    """Distance from the nearest coastline, km (negative on land), from the GSHHG
    0.1-degree grid that ships inside the ``landmetrics`` wheel: no download."""

    def __init__(self) -> None:
        try:
            import landmetrics
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise WatchkeeperError(
                "the landmetrics package is needed for distance from shore"
            ) from exc
        try:
            self._grid: Any = landmetrics.open_distance_to_land(download=False)
        except Exception as exc:
            raise WatchkeeperError(f"cannot open landmetrics' distance grid: {exc}") from exc

    def km(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        lat_a = np.atleast_1d(np.asarray(lat, dtype=np.float64))
        lon_a = np.atleast_1d(np.asarray(lon, dtype=np.float64))
        if lat_a.size == 0:
            return np.empty(0, dtype=np.float64)
        return np.asarray(self._grid.query(lat_a, lon_a), dtype=np.float64).reshape(lat_a.shape)

    def nm(self, lat: npt.ArrayLike, lon: npt.ArrayLike) -> FloatArray:
        return self.km(lat, lon) / KM_PER_NM

    def one_nm(self, lat: float, lon: float) -> float:
        return float(self.nm([lat], [lon])[0])


@lru_cache(maxsize=1)
def shore_distance() -> ShoreDistance:
    """One shared grid reader per process (it keeps an open netCDF handle)."""
    return ShoreDistance()
