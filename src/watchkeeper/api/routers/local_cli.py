"""``POST /_local/cli``: a read command of the ``watchkeeper`` CLI, run by the server that
holds the store, for another process of the same user on this machine.

DuckDB lets one process hold a file read-write or many read it, never both: while
``watchkeeper serve`` runs, ``watchkeeper events`` cannot open the store at all. The CLI
then sends its arguments here (``watchkeeper.cli.served``) with the secret ``serve``
wrote into ``<db>.server`` (mode 0600: only its user reads it), and prints what comes
back. The command runs in this process exactly as the CLI would run it, against a
cursor on the server's own connection inside a transaction that is rolled back: a
command that opens the store for writing is refused when it tries, and nothing it did
is kept. Loopback clients only; one command at a time (it redirects the process's
standard streams while it runs).
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import ctypes
import functools
import hmac
import io
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath
from typing import Annotated, Any, Literal, get_args, get_origin

import duckdb
from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel, Field, field_validator
from rich.console import Console

from watchkeeper.api.deps import StateDep
from watchkeeper.errors import StoreError
from watchkeeper.store.db import SERVED_STORE, held_by_server
from watchkeeper.web.security import is_loopback

PATH = "/_local/cli"

router = APIRouter(include_in_schema=False)

# One command at a time: it swaps sys.stdout, sys.stderr and the CLI's consoles.
_RUNNING = threading.Lock()
_CLONE_FS = 0x200  # <sched.h>: the thread stops sharing its working directory


class ConsoleFacts(BaseModel):
    """What the client's console is, so rich renders here as it would there."""

    width: int = Field(default=80, ge=1, le=10_000)
    height: int = Field(default=25, ge=1, le=10_000)
    color_system: Literal["standard", "256", "truecolor", "windows"] | None = None
    is_terminal: bool = False
    is_interactive: bool = False
    no_color: bool = False
    encoding: str = "utf-8"
    errors: Literal["strict", "replace", "backslashreplace", "surrogateescape", "ignore"] = "strict"

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class CliRun(BaseModel):
    argv: list[str] = Field(..., description="The arguments after the program name.")
    prog: str = Field(default="watchkeeper", description="The program name the CLI was run as.")
    cwd: str = Field(..., description="The client's working directory (absolute).")
    db: str = Field(..., description="The store file the client tried to open (absolute).")
    db_as_given: str | None = Field(
        default=None, description="The same file as the command named it (maybe relative)."
    )
    stdout: ConsoleFacts = Field(default_factory=lambda: ConsoleFacts())
    stderr: ConsoleFacts = Field(default_factory=lambda: ConsoleFacts())


class CliResult(BaseModel):
    exit_code: int
    stdout: str = Field(..., description="What the command wrote to stdout, base64.")
    stderr: str = Field(..., description="What the command wrote to stderr, base64.")


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class _ServedReads:
    """How a store is opened while a forwarded command runs: the served file through a
    cursor of the server's connection, in a transaction never committed; any open for
    writing is refused."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str, server: dict[str, Any]):
        self.con = con
        self.path = os.path.abspath(path)  # the command runs in the client's directory
        self.server = server
        self.cursors: list[duckdb.DuckDBPyConnection] = []

    def connect(self, path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection | None:
        if not read_only:
            url = self.server["url"]
            raise StoreError(
                f"this command writes to the store {path}, and `watchkeeper serve` at {url} "
                f"(pid {self.server['pid']}) holds it; only read commands run through the "
                f"server: stop the server to run it, or use the API ({url}/docs)"
            )
        if not _same_file(path, self.path):
            return None  # another file: opened read-only as usual
        cursor = self.con.cursor()
        self.cursors.append(cursor)
        cursor.execute("SET TimeZone = 'UTC'")
        cursor.execute("BEGIN TRANSACTION")  # never committed: rolled back on close
        return cursor

    def close(self) -> None:
        for cursor in self.cursors:
            with contextlib.suppress(duckdb.Error):
                cursor.close()


def _takes_paths(param: Any) -> bool:
    """Whether a typer parameter's value is a path (or paths)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if get_origin(annotation) in (list, tuple):
        return any(isinstance(a, type) and issubclass(a, PurePath) for a in get_args(annotation))
    return isinstance(annotation, type) and issubclass(annotation, PurePath)


def _from(cwd: str, value: Any) -> Any:
    """A relative path typed by the client, made absolute from the client's directory."""
    if isinstance(value, list | tuple):
        return type(value)(_from(cwd, v) for v in value)
    if isinstance(value, str | PurePath) and str(value) not in ("", "-"):
        return os.path.join(cwd, value)  # an absolute value stays as it is
    return value


def _paths_from(cwd: str, command: Any) -> None:
    """Every path parameter of ``command`` and its subcommands reads relative paths
    from ``cwd`` (the command tree is built for this one request)."""
    for param in getattr(command, "params", []):
        if _takes_paths(param):
            process: Callable[[Any, Any], Any] = param.process_value
            param.process_value = lambda ctx, value, process=process: process(
                ctx, _from(cwd, value)
            )
    for sub in getattr(command, "commands", {}).values():
        _paths_from(cwd, sub)


def _own_working_directory(cwd: str) -> bool:
    """Give the calling thread a working directory of its own, ``cwd`` (Linux:
    ``unshare(CLONE_FS)``, then ``chdir``), leaving the server's other threads where they
    are; False where that cannot be done."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        if ctypes.CDLL(None, use_errno=True).unshare(_CLONE_FS) != 0:
            return False
        os.chdir(cwd)
    except (OSError, AttributeError):
        return False
    return True


class _NoInput(io.StringIO):
    """Standard input of a forwarded command: the client's is not sent, so reading it
    is refused in words rather than read as empty."""

    def _refuse(self) -> StoreError:
        return StoreError(
            "this command reads standard input, which `watchkeeper serve` cannot pass on "
            "while it holds the store: stop the server to run it"
        )

    def read(self, size: int | None = -1, /) -> str:
        raise self._refuse()

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        raise self._refuse()

    @property
    def buffer(self) -> Any:
        raise self._refuse()


def _console(facts: ConsoleFacts, file: io.TextIOWrapper) -> Console:
    return Console(
        file=file,
        width=facts.width,
        height=facts.height,
        color_system=facts.color_system,
        force_terminal=facts.is_terminal,
        force_interactive=facts.is_interactive,
        no_color=facts.no_color,
    )


@contextlib.contextmanager
def _captured(body: CliRun) -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    """The process's standard streams and the CLI's two consoles, writing to buffers
    as the client's would (its width, colours, encoding) while the block runs."""
    from watchkeeper.cli import common

    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, body.stdout.encoding, body.stdout.errors, write_through=True)
    err_text = io.TextIOWrapper(err, body.stderr.encoding, body.stderr.errors, write_through=True)
    consoles = (
        (common.console, body.stdout, out_text),
        (common.err_console, body.stderr, err_text),
    )
    saved = [dict(c.__dict__) for c, _, _ in consoles]
    streams = (sys.stdin, sys.stdout, sys.stderr)
    try:
        for shown, facts, file in consoles:
            shown.__dict__.clear()
            shown.__dict__.update(_console(facts, file).__dict__)
        sys.stdin, sys.stdout, sys.stderr = _NoInput(), out_text, err_text
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        for (shown, _, _), before in zip(consoles, saved, strict=True):
            shown.__dict__.clear()
            shown.__dict__.update(before)
        for text in (out_text, err_text):
            text.flush()
            text.detach()  # else its collection would close the buffer it wraps


def run_forwarded(
    body: CliRun, con: duckdb.DuckDBPyConnection, path: str, server: dict[str, Any]
) -> CliResult:
    """Run ``watchkeeper ARGV`` here as the client would have, reading ``path`` through
    ``con``: its exit code and the bytes it wrote."""
    import typer.main

    from watchkeeper.cli import app
    from watchkeeper.cli.common import run_guarded

    command = typer.main.get_command(app)
    reads = _ServedReads(con, path, server)
    codes: list[int] = []

    def run() -> None:
        # A thread of its own, in the client's directory, so that relative paths are
        # read and printed as the client typed them; elsewhere they are made absolute.
        db = body.db
        if _own_working_directory(body.cwd):
            db = body.db_as_given or db
        else:
            _paths_from(body.cwd, command)
        argv = ["--db", db, *body.argv]  # the file the client meant, whatever our env
        token = SERVED_STORE.set(reads)
        try:
            main = functools.partial(command.main, args=argv, prog_name=body.prog)
            codes.append(run_guarded(main))
        except SystemExit as exc:
            codes.append(exc.code if isinstance(exc.code, int) else 1)
        except Exception:
            traceback.print_exc()  # as the CLI would, to the captured stderr
            codes.append(1)
        finally:
            SERVED_STORE.reset(token)
            reads.close()

    with _RUNNING, _captured(body) as (out, err):
        thread = threading.Thread(target=run, name="watchkeeper-local-cli", daemon=True)
        thread.start()
        thread.join()
    return CliResult(
        exit_code=codes[0] if codes else 1,
        stdout=base64.b64encode(out.getvalue()).decode("ascii"),
        stderr=base64.b64encode(err.getvalue()).decode("ascii"),
    )


@router.post(PATH, response_model=CliResult)
def local_cli(
    body: CliRun,
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header()] = None,
) -> CliResult:
    """Run a read command of the CLI for a process of this machine that has the secret
    of ``<db>.server``; 403 from any other address, 401 without the secret."""
    if not is_loopback(request.client.host if request.client else None):
        raise HTTPException(403, detail="The CLI runs through the server from this machine only.")
    server = held_by_server(state.store.path)
    if server is None or server.get("pid") != os.getpid() or not server.get("secret"):
        raise HTTPException(503, detail="This server was not started by `watchkeeper serve`.")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), str(server["secret"]).encode()
    ):
        raise HTTPException(401, detail="The secret of <db>.server is needed.")
    if not os.path.isabs(body.cwd) or not _same_file(body.db, state.store.path):
        raise HTTPException(409, detail=f"This server holds {state.store.path}, not {body.db}.")
    return run_forwarded(body, state.store.con, state.store.path, server)
