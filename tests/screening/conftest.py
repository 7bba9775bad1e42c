"""Screening fixtures: one index over the real bundled OFAC SDN list per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from watchkeeper.screening import Screener
from watchkeeper.store import Store


@pytest.fixture(scope="session")
def sdn_store_path(sdn_db_path: Path) -> Path:
    """The session's SDN store (tests/conftest.py), shared with the other packages' tests."""
    return sdn_db_path


@pytest.fixture(scope="session")
def sdn_screener(sdn_store_path: Path) -> Iterator[Screener]:
    with Store(sdn_store_path, read_only=True) as store:
        yield Screener.from_store(store)
