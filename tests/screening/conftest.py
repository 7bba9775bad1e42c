"""Screening fixtures: one index over the real bundled OFAC SDN list per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.screening import Screener
from watchkeeper.store import Store

from ._fallback_lists import read_sdn

ROOT = Path(__file__).resolve().parents[2]
SDN_FOLDER = ROOT / "data" / "lists" / "ofac" / "sdn_csv_2023-12-28"


def load_sdn(store: Store) -> None:
    """The bundled 2023-12-28 SDN trio: through the real parser once it reads it."""
    from watchkeeper.errors import WatchkeeperError
    from watchkeeper.lists import parse_files

    files = sorted(SDN_FOLDER.glob("*.csv.gz"))
    try:
        parsed = parse_files(files)
        if parsed.primary_count == 0:
            raise ValueError("parser returned nothing")
    except (WatchkeeperError, ValueError, NotImplementedError):
        parsed = read_sdn(SDN_FOLDER)
    store.add_list_version(parsed)


@pytest.fixture(scope="session")
def sdn_store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("screening") / "sdn.duckdb"
    with Store(path) as store:
        load_sdn(store)
    return path


@pytest.fixture(scope="session")
def sdn_screener(sdn_store_path: Path) -> Iterator[Screener]:
    with Store(sdn_store_path, read_only=True) as store:
        yield Screener.from_store(store)
