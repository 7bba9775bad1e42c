"""Shared fixtures: the project's bundled data and, when present, ../shared/data."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from watchkeeper.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
# Tests only: WATCHKEEPER_SHARED_DIR stands for ../shared; `make test` points it at a
# folder that does not exist for a second pass, so a fresh clone's run is proved too.
SHARED = Path(os.environ.get("WATCHKEEPER_SHARED_DIR") or ROOT.parent / "shared") / "data"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data; the test is skipped, saying why, when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not here (../shared/data is only beside CI and dev checkouts)")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shared-readers-only",
        action="store_true",
        help="collect only the test modules that read ../shared/data (themselves, through a "
        "helper module of tests/ or a conftest.py); `make test` runs them again with "
        "WATCHKEEPER_SHARED_DIR pointing nowhere, as on a fresh clone",
    )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("--shared-readers-only"):
        return None
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return not reads_shared(collection_path)
    return None


_READS_SHARED = re.compile(r"\bshared_path\(|\bSHARED\b")


@cache
def reads_shared(module: Path) -> bool:
    """Whether a module of tests/ reads ../shared/data: it calls ``shared_path`` or uses
    ``SHARED``, or a module of tests/ it imports does, or a conftest.py above it does."""
    here = Path(__file__).resolve()
    module = module.resolve()
    if module == here:
        return False  # where shared_path is defined, not where it is used
    source = module.read_text(encoding="utf-8")
    if _READS_SHARED.search(source):
        return True
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = module.parents[node.level - 1]
            parts = (node.module or "").split(".") if node.module else []
        elif node.module and node.module.split(".")[0] == "tests":
            base = ROOT
            parts = node.module.split(".")
        else:
            continue
        for name in [None, *(a.name for a in node.names)]:
            target = base.joinpath(*parts, *([name] if name else []))
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.is_file() and reads_shared(candidate):
                    return True
    conftests = (p / "conftest.py" for p in module.parents if p.is_relative_to(here.parent))
    return any(c.is_file() and c != module and reads_shared(c) for c in conftests)


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


_EXIT_STATUS: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _EXIT_STATUS.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Close every DuckDB connection a test left open, then end the process with the
    session's exit status, skipping the interpreter's teardown.

    DuckDB aborts the process ("terminate called without an active exception", exit
    134) when its objects are destroyed during interpreter shutdown in some orders
    (duckdb/duckdb#13904): a suite that passed every test still failed `make test`.
    Closing the connections first was not enough on a full run with ../shared, so once
    pytest has written its report the process exits with pytest's own status; nothing
    is left to write by then (the report, the cache and every fixture's teardown have
    run)."""
    import gc

    import duckdb

    gc.collect()
    # Connections are not tracked by the collector themselves: find them through the
    # objects that hold them (a Store's __dict__, a fixture's list...).
    held = {
        id(ref): ref
        for obj in gc.get_objects()
        for ref in gc.get_referents(obj)
        if isinstance(ref, duckdb.DuckDBPyConnection)
    }
    for con in held.values():
        with contextlib.suppress(duckdb.Error):
            con.close()
    if _EXIT_STATUS and os.environ.get("WATCHKEEPER_TEST_FULL_TEARDOWN") != "1":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_EXIT_STATUS[-1])
