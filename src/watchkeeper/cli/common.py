"""What every command shares: the store option, JSON output, errors as exit codes."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from watchkeeper.errors import InputError, StoreError, WatchkeeperError
from watchkeeper.settings import Settings
from watchkeeper.store import Store

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db", help="DuckDB store file (default: $WATCHKEEPER_DB_PATH or ./watchkeeper.duckdb)"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_STORE = 3


def settings(db: Path | None) -> Settings:
    return Settings.from_env().with_db(db)


def open_db(db: Path | None, *, read_only: bool = False) -> Store:
    """The store for a command. A read command on the default path before anything was
    loaded reads an empty store; on any other path (``--db``, $WATCHKEEPER_DB_PATH) a
    missing file is a store error, exit 3, as ``screen --audit`` has it (a typo must not
    read as "nothing found"). A store held by ``watchkeeper serve`` is a store error
    naming the server's URL."""
    path = settings(db).db_path
    if read_only and not path.exists():
        if path != Settings().db_path:
            named = "--db" if db is not None else "WATCHKEEPER_DB_PATH"
            raise StoreError(
                f"no store at {path} ({named}): no lists are loaded and nothing is stored "
                "there; read commands never create a store: check the path, or load data "
                "into it first"
            )
        # Nothing loaded yet: an empty, migrated in-memory store reads as empty.
        return Store(":memory:")
    return Store(path, read_only=read_only)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def _print_error(exc: Exception) -> None:
    # List text and file names can hold "[...]": never read them as markup; one line.
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)


def run_guarded(app: typer.Typer) -> int:
    """Run the CLI; our own errors become one clear line and a non-zero exit code."""
    try:
        result = app(standalone_mode=False)
    except InputError as exc:
        _print_error(exc)
        return EXIT_BAD_INPUT
    except WatchkeeperError as exc:
        _print_error(exc)
        return EXIT_STORE
    except ValueError as exc:
        # Settings read from the environment (WATCHKEEPER_*) name the variable.
        if "WATCHKEEPER_" not in str(exc):
            raise
        _print_error(exc)
        return EXIT_BAD_INPUT
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        return EXIT_FAILURE
    except Exception as exc:  # click's usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return EXIT_BAD_INPUT
        raise
    return result if isinstance(result, int) else EXIT_OK


def parse_time(value: str | None, field: str = "since") -> datetime | None:
    """An ISO date or time from an option (UTC when it names no zone); None stays None."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputError(None, f"{value!r} is not an ISO date or time", field=field) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
