"""Shared fixtures: the project's bundled data and, when present, ../shared/data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED = ROOT.parent / "shared" / "data"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the test is skipped, saying why, when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/data is only beside CI and dev checkouts)")
    return path


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "test.duckdb"


OFAC_2023 = [
    DATA / "lists" / "ofac" / "sdn_csv_2023-12-28" / name
    for name in ("sdn.csv.gz", "add.csv.gz", "alt.csv.gz", "sdn_comments.csv.gz")
]


@pytest.fixture(scope="session")
def ofac_store() -> Iterator[Store]:
    """The bundled OFAC SDN 2023-12-28 trio, loaded once per test session (read only:
    tests must not write to it)."""
    from watchkeeper.lists import parse_files

    s = Store(":memory:")
    s.add_list_version(parse_files(OFAC_2023, "ofac_sdn"))
    try:
        yield s
    finally:
        s.close()
