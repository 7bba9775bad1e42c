"""What every ``watchkeeper`` command shares: usage errors, ``--version``, ``--db`` before
the command, and a start-up that imports none of the heavy packages.

With typer 0.29 a usage error (``--bogus``, a missing argument, ``--db`` before the
command) raised ``typer._click`` exceptions that ``run_guarded`` did not know: a
30-line traceback and exit 1. And every command, ``--help`` included, imported DuckDB,
pyarrow, FollowTheMoney, SciPy... first: 3.5-6 s before anything happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.cli._lists_stores import run_main
from tests.conftest import ROOT
from watchkeeper.store import Store

# Packages a command that does not need them must not pay for at start-up (each costs
# 0.1-1.2 s to import).
HEAVY = (
    "duckdb",
    "pyarrow",
    "followthemoney",
    "fastapi",
    "pyspark",
    "trafilatura",
    "rapidfuzz",
    "numpy",
    "scipy",
    "lxml",
    "pandas",
    "uvicorn",
    "rigour",
    "wordfreq",
    "pyais",
    "pyModeS",
)

_IMPORTED_BY = """
import json, sys
from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded
for args in {runs!r}:
    sys.argv = ["watchkeeper", *args]
    code = run_guarded(app)
    assert code == 0, (args, code)
heavy = {heavy!r}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
"""


def imported_by(*runs: list[str]) -> list[str]:
    """The heavy modules imported after running these command lines in a fresh process."""
    script = _IMPORTED_BY.format(runs=[list(r) for r in runs], heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "WATCHKEEPER_DB_PATH": "/nonexistent/watchkeeper.duckdb"},
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def test_help_imports_no_heavy_package() -> None:
    assert imported_by(["--help"]) == []


def test_every_command_help_imports_no_heavy_package() -> None:
    from typer.main import get_command

    from watchkeeper.cli import app

    root = get_command(app)
    commands: list[list[str]] = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        commands.append([name, "--help"])
        for sub in getattr(command, "commands", {}):
            commands.append([name, sub, "--help"])
    assert ["lists", "show", "--help"] in commands and ["events", "--help"] in commands
    assert imported_by(*commands) == []


# What reading the store needs (DuckDB, and pyarrow with numpy for its tables) is all
# that a command that neither loads lists nor screens may import.
STORE_ONLY = ("duckdb", "pyarrow", "numpy")


def test_reading_the_store_imports_only_the_store(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    Store(path).close()
    runs = [["lists", "show", "--db", str(path)], ["events", "--db", str(path), "--json"]]
    assert {m.split(".")[0] for m in imported_by(*runs)} - set(STORE_ONLY) == set()


def test_version(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    res = run_main(monkeypatch, capsys, "--version")
    assert res.code == 0
    assert res.out == f"watchkeeper {version('watchkeeper')}\n"
    with (ROOT / "pyproject.toml").open("rb") as fh:
        assert version("watchkeeper") == tomllib.load(fh)["project"]["version"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["lists", "show", "--bogus"], "No such option: --bogus"),
        (["lists", "diff"], "Missing argument"),
        (["lists", "show", "--db"], "Option '--db' requires an argument"),
        (["events", "--limit", "many"], "Invalid value for '--limit'"),
        (["nonsense"], "No such command 'nonsense'"),
        (["--db", "x.duckdb"], "Missing command"),
    ],
)
def test_usage_errors_exit_2_in_one_line(
    args: list[str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    res = run_main(monkeypatch, capsys, *args)
    assert res.code == 2, res.err
    assert says in res.err
    assert res.err.startswith("error: ") and res.err.count("\n") == 1, res.err
    assert res.out == ""


def test_usage_error_through_the_console_script(tmp_path: Path) -> None:
    """The installed entry point, as a user runs it: no traceback, exit 2."""
    script = Path(sys.executable).parent / "watchkeeper"
    done = subprocess.run(
        [str(script), "--bogus"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: No such option: --bogus")
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1


def test_no_command_prints_the_help(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    res = run_main(monkeypatch, capsys)
    assert res.code == 2
    shown = res.out + res.err  # typer prints the help itself when rich is installed
    assert "[OPTIONS] COMMAND [ARGS]" in shown and "lists" in shown
    assert "error" not in shown


@pytest.fixture
def empty_store(tmp_path: Path) -> Path:
    path = tmp_path / "here.duckdb"
    Store(path).close()
    return path


def test_db_before_the_command(
    empty_store: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A read command on a store file that does not exist is a store error (exit 3)
    naming it: which file a command opened shows in its exit code."""
    missing = tmp_path / "missing.duckdb"
    monkeypatch.setenv("WATCHKEEPER_DB_PATH", str(empty_store))
    res = run_main(monkeypatch, capsys, "--db", missing, "lists", "show")
    assert res.code == 3 and str(missing) in res.message and "--db" in res.message
    assert (
        run_main(monkeypatch, capsys, "--db", missing, "lists", "show", "--db", empty_store).code
        == 0
    )
    res = run_main(monkeypatch, capsys, "--db", empty_store, "lists", "show", "--db", missing)
    assert res.code == 3 and str(missing) in res.message  # the one after the command wins
    # Kept for one invocation only: the next one reads $WATCHKEEPER_DB_PATH again.
    assert run_main(monkeypatch, capsys, "lists", "show", "--json").code == 0
    monkeypatch.setenv("WATCHKEEPER_DB_PATH", str(missing))
    res = run_main(monkeypatch, capsys, "--db", empty_store, "lists", "show", "--json")
    assert res.code == 0 and json.loads(res.out) == []
    res = run_main(monkeypatch, capsys, "lists", "show")
    assert res.code == 3 and "WATCHKEEPER_DB_PATH" in res.message


def test_screen_default_threshold_is_the_engines() -> None:
    """The CLI keeps its own copy so that loading it does not import the engine."""
    from watchkeeper.cli.screening import DEFAULT_THRESHOLD
    from watchkeeper.screening import DEFAULT_THRESHOLD as ENGINE_DEFAULT

    assert DEFAULT_THRESHOLD == ENGINE_DEFAULT
