"""Property tests: damaged real input (cut short, bytes lost or inserted, a field dropped)
gives our InputError or a clean load with the damage counted; never a bare traceback,
never a half-loaded store."""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.lists._mutate import mutations
from tests.movement.air._support import (
    DUMP1090,
    FULL_FLIGHT,
    NOISY,
    PYMODES_ADSB,
    QUICKSTART_PART,
    TRACE_FULL,
)
from watchkeeper.errors import InputError
from watchkeeper.io import read_bytes
from watchkeeper.movement.air import ingest_paths
from watchkeeper.store import Store


def _head(path: Path, lines: int, skip: int = 0) -> bytes:
    with gzip.open(path, "rb") as fh:
        for _ in range(skip):
            fh.readline()
        return b"".join(fh.readline() for _ in range(lines))


def _noisy_columns(rows: int = 40) -> bytes:
    doc = json.loads(read_bytes(NOISY))
    keep = [str(i) for i in range(rows)]
    return json.dumps({c: {k: v[k] for k in keep if k in v} for c, v in doc.items()}).encode()


def _trace_full(points: int = 40) -> bytes:
    doc = json.loads(read_bytes(TRACE_FULL))
    doc["trace"] = doc["trace"][:points]
    return json.dumps(doc).encode()


MUTATION_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def binary_mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """Cut short, bytes lost, bytes inserted, one byte changed."""
    n = len(data)
    return st.one_of(
        st.integers(0, n).map(lambda i: data[:i]),
        st.tuples(st.integers(0, n), st.integers(1, 64)).map(
            lambda t: data[: t[0]] + data[t[0] + t[1] :]
        ),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=16)).map(
            lambda t: data[: t[0]] + t[1] + data[t[0] :]
        ),
        st.tuples(st.integers(0, n - 1), st.integers(0, 255)).map(
            lambda t: data[: t[0]] + bytes([t[1]]) + data[t[0] + 1 :]
        ),
    )


SAMPLES = {
    "frames.jsonl": _head(FULL_FLIGHT, 80, skip=30000),  # in cruise: airborne CPR pairs
    "frames.csv": _head(PYMODES_ADSB, 80),
    "states.jsonl": _head(QUICKSTART_PART, 60),
    "columns.json": _noisy_columns(),
    "trace.json": _trace_full(),
    "capture.bin": read_bytes(DUMP1090),
}


def _check(name: str, data: bytes) -> None:
    store = Store(":memory:")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            report = ingest_paths(store, [path])
        except InputError as exc:
            assert name in str(exc)
            assert store.con.execute("SELECT count(*) FROM air_states").fetchone() == (0,)
            assert store.con.execute("SELECT count(*) FROM air_ingests").fetchone() == (0,)
            return
    stored = store.con.execute("SELECT count(*) FROM air_states").fetchone()
    assert stored == (report.states,)
    lat, lon = store.con.execute("SELECT list(lat), list(lon) FROM air_states").fetchone()  # type: ignore[misc]
    assert all(np.isfinite(x) and abs(x) <= 90 for x in lat or [])
    assert all(np.isfinite(x) and abs(x) <= 180 for x in lon or [])


@MUTATION_SETTINGS
@given(mutations(SAMPLES["frames.jsonl"], csv=True))
def test_damaged_rs1090_frames(data: bytes) -> None:
    _check("frames.jsonl", data)


@MUTATION_SETTINGS
@given(mutations(SAMPLES["frames.csv"], csv=True))
def test_damaged_pymodes_csv(data: bytes) -> None:
    _check("frames.csv", data)


@MUTATION_SETTINGS
@given(mutations(SAMPLES["states.jsonl"], csv=True))
def test_damaged_traffic_jsonl(data: bytes) -> None:
    _check("states.jsonl", data)


@MUTATION_SETTINGS
@given(mutations(SAMPLES["columns.json"], csv=True))
def test_damaged_column_json(data: bytes) -> None:
    _check("columns.json", data)


@MUTATION_SETTINGS
@given(mutations(SAMPLES["trace.json"], csv=True))
def test_damaged_trace_full(data: bytes) -> None:
    _check("trace.json", data)


@MUTATION_SETTINGS
@given(binary_mutations(SAMPLES["capture.bin"]))
def test_damaged_beast_stream(data: bytes) -> None:
    _check("capture.bin", data)


def test_undamaged_samples_load() -> None:
    for name, data in SAMPLES.items():
        store = Store(":memory:")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            report = ingest_paths(store, [path])
        assert report.states > 0 or name == "capture.bin", name
