"""Stores built through ``watchkeeper lists load``, once per test session, shared by the
list CLI tests (test_lists_cli, test_entities_cli, test_fetch).

Parsing the big lists is what costs time, so each bundled publication is parsed once:

- ``trio``: the 2023-12-28 SDN trio (sdn, add, alt, sdn_comments);
- ``lists``: the 2023-12-28 ``sdn.csv`` alone, then the 2024-05-03 ``sdn.csv``, the
  consolidated non-SDN set, the UN list and the US CSL.

Every load is run without ``--source`` (the format is detected) and with ``--json``;
the outputs are kept for the tests to check. Tests that write copy the file first
(``copy_store``).
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.conftest import DATA
from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded
from watchkeeper.cli.run import BUNDLED_LISTS
from watchkeeper.store import Store

runner = CliRunner()


def bundled(index: int) -> list[Path]:
    """The files of ``BUNDLED_LISTS[index]`` (what ``watchkeeper run`` loads)."""
    return [DATA / f for f in BUNDLED_LISTS[index][1]]


TRIO_2023 = bundled(0)
SDN_2024 = bundled(1)
CONS = bundled(2)
UN = bundled(3)
CSL = bundled(4)
SDN_2023_ALONE = [p for p in TRIO_2023 if p.name == "sdn.csv.gz"]


def cli(*args: str | Path) -> Result:
    """``watchkeeper ARGS`` through typer's runner (standalone mode, as a user runs it)."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def cli_ok(*args: str | Path) -> Result:
    result = cli(*args)
    assert result.exit_code == 0, (args, result.stdout, result.stderr)
    return result


def cli_json(*args: str | Path) -> Any:
    return json.loads(cli_ok(*args, "--json").stdout)


@dataclass
class Guarded:
    """What ``watchkeeper.cli.main`` would do: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """stderr as the one line it was printed as: rich wraps it at the console width
        (keeping the spaces, splitting long paths anywhere), so the newlines go."""
        return self.err.replace("\n", "").strip()


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> Guarded:
    """Run the command the way the console script does (``run_guarded(app)``), which
    turns our errors into exit codes 2 (bad input) and 3 (store)."""
    capsys.readouterr()
    with monkeypatch.context() as m:
        m.setattr(sys, "argv", ["watchkeeper", *(str(a) for a in args)])
        code = run_guarded(app)
    captured = capsys.readouterr()
    return Guarded(code, captured.out, captured.err)


@dataclass
class BuiltStore:
    path: Path
    loads: dict[str, dict[str, Any]] = field(default_factory=dict)


_BUILT: dict[str, BuiltStore] = {}

RECIPES: dict[str, list[tuple[str, list[Path]]]] = {
    "trio": [("ofac_sdn trio 2023-12-28", TRIO_2023)],
    "lists": [
        ("ofac_sdn sdn.csv 2023-12-28", SDN_2023_ALONE),
        ("ofac_sdn sdn.csv 2024-05-03", SDN_2024),
        ("ofac_cons", CONS),
        ("un_sc", UN),
        ("us_csl", CSL),
    ],
}


def built_store(name: str, tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    """The store ``name`` (see the module docstring), built on first use. Read only."""
    if name not in _BUILT:
        path = tmp_path_factory.mktemp(f"store-{name}") / f"{name}.duckdb"
        built = BuiltStore(path)
        for label, files in RECIPES[name]:
            built.loads[label] = cli_json("lists", "load", *files, "--db", path)
        _BUILT[name] = built
    return _BUILT[name]


def copy_store(built: BuiltStore, folder: Path) -> Path:
    """A private copy of a built store for a test that writes to it."""
    assert not built.path.with_name(built.path.name + ".wal").exists()
    target = folder / built.path.name
    shutil.copyfile(built.path, target)
    return target


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a load writes, to show that a failed command changed nothing:
    ``lists show --json``, the entity count, and a checksum of every entity and name row."""
    with Store(db, read_only=True) as store:
        tables = {
            table: store.con.execute(
                f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} t"
            ).fetchone()
            for table in ("list_versions", "entities", "entity_names")
        }
        count = store.entity_count()
    return {"show": cli_json("lists", "show", "--db", db), "entities": count, "tables": tables}
