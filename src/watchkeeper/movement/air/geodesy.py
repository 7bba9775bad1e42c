"""Great-circle helpers for aircraft tracks (kept here so ``movement/air`` stands alone).

Distances in kilometres on a sphere of the mean Earth radius; speeds in knots.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
KM_PER_NM = 1.852
FloatArray = npt.NDArray[np.float64]


def haversine_km(
    lat1: FloatArray | float,
    lon1: FloatArray | float,
    lat2: FloatArray | float,
    lon2: FloatArray | float,
) -> FloatArray:
    """Great-circle distance in km between points given in degrees (arrays broadcast)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return np.asarray(
        2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points in degrees."""
    return float(haversine_km(lat1, lon1, lat2, lon2))


def speed_kt(km: float, seconds: float) -> float:
    """Average speed in knots over ``km`` in ``seconds`` (infinite when no time passed)."""
    if seconds <= 0:
        return float("inf") if km > 0 else 0.0
    return km / KM_PER_NM / (seconds / 3600.0)


def great_circle_points(
    lat1: float, lon1: float, lat2: float, lon2: float, n: int
) -> list[tuple[float, float]]:
    """``n`` (>= 2) points evenly spaced on the great circle from the first point to the second."""
    p1, l1, p2, l2 = np.radians([lat1, lon1, lat2, lon2])
    v1 = np.array([np.cos(p1) * np.cos(l1), np.cos(p1) * np.sin(l1), np.sin(p1)])
    v2 = np.array([np.cos(p2) * np.cos(l2), np.cos(p2) * np.sin(l2), np.sin(p2)])
    omega = float(np.arccos(np.clip(np.dot(v1, v2), -1.0, 1.0)))
    points: list[tuple[float, float]] = []
    for f in np.linspace(0.0, 1.0, max(n, 2)):
        if omega < 1e-12:
            v = v1
        else:
            v = (np.sin((1 - f) * omega) * v1 + np.sin(f * omega) * v2) / np.sin(omega)
        lat = float(np.degrees(np.arcsin(np.clip(v[2], -1.0, 1.0))))
        lon = float(np.degrees(np.arctan2(v[1], v[0])))
        points.append((lat, lon))
    return points
