from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import shared_path
from watchkeeper.errors import InputError
from watchkeeper.movement.geo import grid_cells, haversine_km, neighbour_offsets, shore_distance
from watchkeeper.movement.ports import load_ports, port_index


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=0.01)
    # Across the antimeridian: 0.2 degrees of longitude at the equator, not 359.8.
    assert haversine_km(0.0, 179.9, 0.0, -179.9) == pytest.approx(22.24, abs=0.01)


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-89, 89),
    lon=st.floats(-180, 180),
    bearing=st.floats(0, 360),
    km=st.floats(0, 0.499),
)
def test_close_points_share_or_touch_a_cell(
    lat: float, lon: float, bearing: float, km: float
) -> None:
    """The grid join's promise: two points < cell size apart are in the same or an
    adjacent cell (so the 27-cell join never misses a pair)."""
    r = 6371.0088
    b = np.radians(bearing)
    p1, l1 = np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(km / r) + np.cos(p1) * np.sin(km / r) * np.cos(b))
    l2 = l1 + np.arctan2(
        np.sin(b) * np.sin(km / r) * np.cos(p1), np.cos(km / r) - np.sin(p1) * np.sin(p2)
    )
    lat2, lon2 = float(np.degrees(p2)), float((np.degrees(l2) + 540) % 360 - 180)
    c1 = grid_cells(np.array([lat]), np.array([lon]), 0.5)[0]
    c2 = grid_cells(np.array([lat2]), np.array([lon2]), 0.5)[0]
    assert c2 - c1 in neighbour_offsets()


def test_shore_distance_from_the_bundled_gshhg_grid() -> None:
    shore = shore_distance()
    mid_atlantic, madrid = shore.nm([30.0, 40.42], [-40.0, -3.70])
    assert mid_atlantic > 500  # hundreds of nautical miles from any coast
    assert madrid < 0  # on land: negative


def test_bundled_world_port_index() -> None:
    ports = load_ports()
    assert len(ports) == 3768  # the NGA file's rows, all read
    by_name = {(p.name, p.country) for p in ports}
    assert ("Bandar Abbas", "ir") in by_name
    assert ("Kronshtadt", "ru") in by_name
    assert all(p.country for p in ports)  # every port has an ISO country
    # Nearest port to a point in Bandar Abbas harbour.
    port, km = port_index().nearest_one(27.14, 56.21)
    assert (port.name, port.country) == ("Bandar Abbas", "ir") and km < 3


def test_nearest_respects_the_radius() -> None:
    index = port_index()
    port, _ = index.nearest_one(27.14, 56.21)
    # Hand-made: points due north of the port at 2.9 km and 3.1 km.
    lat = port.lat + np.array([2.9, 3.1]) / 111.195
    idx, km = index.nearest(lat, np.array([port.lon, port.lon]), max_km=3.0)
    assert idx[0] >= 0 and km[0] == pytest.approx(2.9, abs=0.01)
    assert idx[1] == -1 and np.isinf(km[1])


def test_same_as_shared_copy() -> None:
    original = shared_path("reference", "ports", "UpdatedPub150.csv").read_bytes()
    bundled = Path(__file__).resolve().parents[2] / "data" / "reference" / "UpdatedPub150.csv.gz"
    assert gzip.decompress(bundled.read_bytes()) == original


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_mutated_port_file_raises_our_error(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Property: a damaged WPI file gives ports or InputError, never another exception."""
    lines = (
        gzip.decompress(
            (
                Path(__file__).resolve().parents[2] / "data/reference/UpdatedPub150.csv.gz"
            ).read_bytes()
        )
        .decode("utf-8")
        .splitlines()[:6]
    )
    row = data.draw(st.integers(0, len(lines) - 1))
    col = data.draw(st.integers(0, 120))
    junk = data.draw(st.sampled_from(["", "abc", "999", '"', "-0-", "1e400", ",,,"]))
    cells = lines[row].split(",")
    if col < len(cells):
        cells[col] = junk
    lines[row] = ",".join(cells)
    path = tmp_path_factory.mktemp("wpi") / "bad.csv"
    path.write_text("\n".join(lines))
    try:
        ports = load_ports(path)
    except InputError as exc:
        assert str(path) in str(exc)
    else:
        assert all(-90 <= p.lat <= 90 and -180 <= p.lon <= 180 for p in ports)
