"""Input files are bounded: gzip is streamed and a decompression bomb is refused early,
by every command that reads files (issue 11, item 7)."""

from __future__ import annotations

import gzip
import io
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import DATA
from watchkeeper.cli import app
from watchkeeper.errors import InputError
from watchkeeper.io import (
    RATIO_FLOOR_BYTES,
    InputLimits,
    open_binary,
    open_text,
    read_bytes,
    read_stream,
)
from watchkeeper.settings import Settings

BOMB_BYTES = 50 << 20  # 50 MiB of zeros: about 50 KB gzipped, a ratio near 1000
runner = CliRunner()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "sdn.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as fh:
        block = bytes(1 << 20)
        for _ in range(BOMB_BYTES >> 20):
            fh.write(block)
    assert path.stat().st_size < 100_000
    return path


def refused_quickly(action: Callable[[], object]) -> tuple[BaseException, int]:
    """Run ``action``; it must raise within seconds. Returns the error and peak bytes."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(Exception) as caught:
            action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 30
    return caught.value, peak


# -- the reader itself -------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "lists/un/consolidated.xml.gz",
        "reference/UpdatedPub150.csv.gz",
        "adsb/trace_full_ac671b.json.gz",
    ],
)
def test_real_gzip_samples_read_whole_and_unchanged(name: str) -> None:
    path = DATA / name
    expected = gzip.decompress(path.read_bytes())
    assert read_bytes(path) == expected
    with open_binary(path) as fh:
        assert b"".join(iter(lambda: fh.read(4096), b"")) == expected
    with open_text(path, errors="replace") as text:
        assert len(text.read()) > 0


def test_bomb_is_refused_by_every_way_of_reading_with_little_memory(bomb: Path) -> None:
    def blocks() -> None:
        with open_binary(bomb) as fh:
            while fh.read(1 << 16):
                pass

    def lines() -> None:
        with open_text(bomb) as fh:
            for _ in fh:
                pass

    for action in (lambda: read_bytes(bomb), blocks, lines):
        error, peak = refused_quickly(action)
        assert isinstance(error, InputError)
        assert error.path == str(bomb)
        assert "WATCHKEEPER_INPUT_MAX_RATIO" in str(error)
        # the cap is 100 x ~50 KB = ~5 MB: nowhere near the 50 MiB it would expand to
        assert peak < 16 << 20, peak


def test_the_caps_are_settings(bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHKEEPER_INPUT_MAX_RATIO", "2000")
    assert len(read_bytes(bomb)) == BOMB_BYTES
    monkeypatch.setenv("WATCHKEEPER_INPUT_MAX_BYTES", str(10 << 20))
    with pytest.raises(InputError, match="WATCHKEEPER_INPUT_MAX_BYTES"):
        read_bytes(bomb)
    monkeypatch.setenv("WATCHKEEPER_INPUT_MAX_RATIO", "-1")
    with pytest.raises(ValueError, match="WATCHKEEPER_INPUT_MAX_RATIO"):
        Settings.from_env()
    assert Settings().input_max_ratio == 100.0


def test_a_plain_file_over_the_absolute_cap_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.nmea"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(InputError, match="5,000 bytes, over the cap of 4,999"):
        open_binary(path, InputLimits(max_bytes=4999))
    assert read_bytes(path, InputLimits(max_bytes=5000)) == b"x" * 5000


def test_a_small_repetitive_gzip_is_not_a_bomb(tmp_path: Path) -> None:
    # 1000x, but under the 1 MiB floor of the ratio cap: a header and identical rows
    path = tmp_path / "rows.csv.gz"
    data = b"a,b,c\n" + b"1,2,3\n" * (RATIO_FLOOR_BYTES // 6 - 1)
    path.write_bytes(gzip.compress(data))
    assert len(data) / path.stat().st_size > 500
    assert read_bytes(path) == data


def test_standard_input_is_capped() -> None:
    assert read_stream(io.BytesIO(b"abc"), "-", InputLimits(max_bytes=3)) == b"abc"
    with pytest.raises(InputError, match="^-: more than the cap of 2 bytes"):
        read_stream(io.BytesIO(b"abc"), "-", InputLimits(max_bytes=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=3000)
    | st.builds(lambda n, b: b * n, st.integers(0, 3000), st.binary(min_size=1, max_size=3)),
    cap=st.integers(0, 4000),
    block=st.integers(1, 700),
)
def test_gzip_gives_its_bytes_or_refuses_at_the_cap(data: bytes, cap: int, block: int) -> None:
    """Whatever the content and the cap: all the bytes when they fit, else InputError at
    the cap, whether read whole or in blocks; never more than cap bytes handed out."""
    compressed = gzip.compress(data)
    limits = InputLimits(max_bytes=cap, max_ratio=1e9)
    raw = io.BytesIO()
    path = Path(f"/tmp/_wk_io_prop_{id(raw)}.gz")
    path.write_bytes(compressed)
    try:
        if len(data) <= cap:
            assert read_bytes(path, limits) == data
        else:
            with pytest.raises(InputError, match=f"expands beyond {cap:,} bytes"):
                read_bytes(path, limits)
        got = b""
        try:
            with open_binary(path, limits) as fh:
                while chunk := fh.read(block):
                    got += chunk
            assert got == data
        except InputError:
            assert len(data) > cap
            assert len(got) <= cap and data.startswith(got)
    finally:
        path.unlink()


# -- the commands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["lists", "load", "{bomb}", "--source", "ofac_sdn"],
        ["lists", "load", "{bomb}"],
        ["flights", "ingest", "{bomb}"],
        ["read", "{bomb}"],
        ["ais", "ingest", "{bomb}"],
    ],
    ids=["lists-load-source", "lists-load", "flights-ingest", "read", "ais-ingest"],
)
def test_commands_refuse_a_gzip_bomb(args: list[str], bomb: Path, tmp_path: Path) -> None:
    argv = [a.format(bomb=bomb) for a in args]
    if argv[0] != "read":
        argv += ["--db", str(tmp_path / "w.duckdb")]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = runner.invoke(app, argv)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 60
    # the CLI turns an InputError into one line and exit code 2 (run_guarded)
    error = result.exception
    assert isinstance(error, InputError), result.output
    assert error.path == str(bomb)
    assert "decompression bomb" in str(error)
    assert peak < 64 << 20, peak


def test_read_refuses_standard_input_over_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHKEEPER_INPUT_MAX_BYTES", "1000")
    result = runner.invoke(app, ["read", "-"], input="Mahan Air flew to Caracas. " * 100)
    error = result.exception
    assert isinstance(error, InputError), result.output
    assert error.path == "-" and "more than the cap of 1,000 bytes" in str(error)
