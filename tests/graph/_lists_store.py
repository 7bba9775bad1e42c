"""A store with the real bundled lists loaded, built once per test session for the graph
tests (relations in the lists, resolution, ``graph load``), and its screening index.

Parsing the lists is what costs time (about 8 s), so it happens once: the 2023-12-28
``sdn.csv`` alone and then the 2024-05-03 one (two OFAC versions, for relations between
list versions), the UN list and the US CSL. Tests that write copy it (``copy_lists_store``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA
from watchkeeper.store import Store

LOADS: list[tuple[str, list[str]]] = [
    ("ofac_sdn", ["lists/ofac/sdn_csv_2023-12-28/sdn.csv.gz"]),
    ("ofac_sdn", ["lists/ofac/sdn_csv_2024-05-03/sdn.csv.gz"]),
    ("un_sc", ["lists/un/consolidated.xml.gz"]),
    ("us_csl", ["lists/us_csl/consolidated.csv.gz"]),
]

_BUILT: dict[str, Path] = {}


def lists_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The path of the session's lists store (read only: copy it to write)."""
    if "lists" not in _BUILT:
        from watchkeeper.lists.registry import parse_files

        path = tmp_path_factory.mktemp("graph-lists") / "lists.duckdb"
        with Store(path) as store:
            for source, files in LOADS:
                store.add_list_version(parse_files([DATA / f for f in files], source))
            from watchkeeper.screening import Screener

            Screener.from_store(store)  # writes <db>.screening, which copies carry along
        _BUILT["lists"] = path
    return _BUILT["lists"]


def copy_lists_store(source: Path, folder: Path) -> Path:
    """A private copy of the lists store and its screening index."""
    target = folder / source.name
    shutil.copyfile(source, target)
    index = source.with_name(source.name + ".screening")
    if index.is_dir():
        shutil.copytree(index, target.with_name(target.name + ".screening"))
    return target
