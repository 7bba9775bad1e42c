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
def sdn_db_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file with the bundled OFAC SDN 2023-12-28 trio, built once per session.
    The screening index is cached beside it, so every test that screens against it
    shares one index; copy the file (and its ``.screening`` folder) to write to it."""
    from watchkeeper.lists import parse_files

    path = tmp_path_factory.mktemp("sdn") / "sdn.duckdb"
    with Store(path) as s:
        s.add_list_version(parse_files(OFAC_2023, "ofac_sdn"))
    return path


@pytest.fixture(scope="session")
def ofac_store(sdn_db_path: Path) -> Iterator[Store]:
    """The bundled OFAC SDN 2023-12-28 trio, opened read only."""
    s = Store(sdn_db_path, read_only=True)
    try:
        yield s
    finally:
        s.close()


def copy_store(source: Path, target: Path) -> Path:
    """A writable copy of a store file, with its cached screening index."""
    import shutil

    shutil.copy(source, target)
    cache = source.parent / f"{source.name}.screening"
    if cache.exists():
        shutil.copytree(cache, target.parent / f"{target.name}.screening")
    return target
