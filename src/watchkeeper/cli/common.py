"""What every command shares: the store option, JSON output, errors as exit codes.

Every module of ``watchkeeper.cli`` is imported for any command, ``--help`` included:
keep their module-level imports cheap (typer, rich, the standard library, ``errors``,
``settings``) and import the store, lists, screening, movement, documents and api
packages inside the commands that use them. ``tests/cli/test_cli_basics.py`` checks it.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from watchkeeper.errors import InputError, StoreError, WatchkeeperError
from watchkeeper.settings import Settings

if TYPE_CHECKING:
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

# `watchkeeper --db F command`: the root callback keeps F for that one invocation; the
# command's own --db, when given too, wins.
_ROOT_DB: ContextVar[Path | None] = ContextVar("watchkeeper_root_db", default=None)


def package_version() -> str:
    """The installed watchkeeper's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("watchkeeper")
    except PackageNotFoundError:  # a source tree that was never installed
        from watchkeeper import __version__

        return __version__


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"watchkeeper {package_version()}\n")
        raise typer.Exit()


def root_options(
    ctx: typer.Context,
    db: DbOption = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options before the command; ``--db`` here is the default of the command's ``--db``."""
    if db is not None:
        token = _ROOT_DB.set(db)
        ctx.call_on_close(lambda: _ROOT_DB.reset(token))


def settings(db: Path | None) -> Settings:
    """The settings of one command: its own ``--db``, else the one before the command."""
    return Settings.from_env().with_db(db if db is not None else _ROOT_DB.get())


def open_db(db: Path | None, *, read_only: bool = False) -> Store:
    """The store for a command. A read command on the default path before anything was
    loaded reads an empty store; on any other path (``--db``, $WATCHKEEPER_DB_PATH) a
    missing file is a store error, exit 3, as ``screen --audit`` has it (a typo must not
    read as "nothing found"). A store held by ``watchkeeper serve`` is a store error
    naming the server's URL."""
    from watchkeeper.store import Store

    path = settings(db).db_path
    if read_only and not path.exists():
        if path != Settings().db_path:
            named = "--db" if (db or _ROOT_DB.get()) is not None else "WATCHKEEPER_DB_PATH"
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


def _print_error(exc: Exception | str) -> None:
    # List text and file names can hold "[...]": never read them as markup; one line.
    err_console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)


def _usage_error(exc: Exception) -> int | None:
    """A usage error (unknown option, missing argument, bad value) shown in one line; its
    exit code, or None when ``exc`` is not one. Duck-typed: typer 0.29 raises its own copy
    of click's exceptions (``typer._click.exceptions``), older typer raises click's."""
    exit_code = getattr(exc, "exit_code", None)
    format_message = getattr(exc, "format_message", None)
    if type(exc).__module__.split(".")[0] not in ("click", "typer"):
        return None
    if not isinstance(exit_code, int) or not callable(format_message):
        return None
    if any(cls.__name__ == "NoArgsIsHelpError" for cls in type(exc).__mro__):
        shown = str(format_message()).strip("\n")  # the help; empty when typer printed it
        if shown:
            sys.stderr.write(shown + "\n")
        return EXIT_BAD_INPUT
    command = getattr(getattr(exc, "ctx", None), "command_path", None)
    hint = f" (see '{command} --help')" if command else ""
    _print_error(" ".join(str(format_message()).split()) + hint)
    return EXIT_BAD_INPUT


def run_guarded(app: Callable[..., Any]) -> int:
    """Run the CLI; our own errors become one clear line and a non-zero exit code. A read
    command meeting the store held by ``watchkeeper serve`` is run by that server."""
    try:
        result = app(standalone_mode=False)
    except InputError as exc:
        _print_error(exc)
        return EXIT_BAD_INPUT
    except StoreError as exc:
        from watchkeeper.cli.served import read_through_server

        forwarded = read_through_server(exc, sys.argv[1:])
        if forwarded is not None:
            return forwarded
        _print_error(exc)
        return EXIT_STORE
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
    except Exception as exc:
        code = _usage_error(exc)
        if code is None:
            raise
        return code
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


def recompute_graph_events(store: Store) -> dict[str, int]:
    """After a list or graph load: ``owned_by_blocked`` and ``vessel_owner_blocked``
    recomputed as of today (UTC) on the new data, replacing the earlier ones."""
    from datetime import UTC, datetime

    from watchkeeper.graph.events import write_graph_events

    with console.status("recomputing ownership events", spinner="dots"):
        return write_graph_events(store, datetime.now(UTC).date())
