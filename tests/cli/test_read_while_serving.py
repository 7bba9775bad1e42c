"""Read commands while ``watchkeeper serve`` holds the store (checked with a real server
process and real CLI processes): DuckDB lets no other process open the file, not even
read-only, so the CLI has the server run the command (``POST /_local/cli``) and prints
what it printed, byte for byte what the same command prints once the server is gone.
Before, every one of them exited 3 ("held by `watchkeeper serve`").

The store holds a sample of two real OFAC SDN publications and every bundled AIS
sample with the ship detectors' events.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.ofac_rows import ASSAD, NEW, OLD, load_sdn, sample
from tests.conftest import DATA
from watchkeeper.api import create_app
from watchkeeper.movement.ais.ingest import ingest_paths
from watchkeeper.movement.detect import run_detectors
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.store.db import announce_server, held_by_server, server_note

READ_THROUGH = "(read through watchkeeper serve at "


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    env.pop("COLUMNS", None)
    return {**env, **extra}


@dataclass
class Served:
    path: Path  # the store file
    cwd: Path  # where the CLI runs (not the server's directory)
    url: str
    server: subprocess.Popen[bytes]
    mmsi: str  # the vessel with the most positions

    def stop(self) -> None:
        """Stop the server (uvicorn's clean shutdown) and wait until the file is free."""
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()


def _build(path: Path) -> str:
    """The store; returns the MMSI with the most positions."""
    with Store(path) as store:
        load_sdn(store, OLD, sample(OLD))
        load_sdn(store, NEW, sample(NEW))
        ingest_paths(store, [DATA / "ais"])
        counts = run_detectors(store)
        assert counts["port_call"] > 0 and counts["encounter"] > 0
        row = store.con.execute(
            "SELECT mmsi FROM ais_positions GROUP BY mmsi ORDER BY count(*) DESC, mmsi LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``watchkeeper serve`` holding the store, run from a directory of its own."""
    root = tmp_path_factory.mktemp("served")
    (root / "server").mkdir()
    (root / "cli").mkdir()
    path = root / "cli" / "wk.duckdb"
    mmsi = _build(path)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", "from watchkeeper.cli import main; main()", "serve"]
        + ["--db", "../cli/wk.duckdb", "--port", str(port), "--no-access-log", "--no-audit"],
        cwd=root / "server",
        env=_clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    found = Served(path, root / "cli", url, server, mmsi)
    try:
        deadline = time.monotonic() + 90
        while not (_up(url) and server_note(path).exists()):
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"watchkeeper serve did not start: {err[-2000:]}")
            time.sleep(0.2)
        yield found
    finally:
        found.stop()


def _cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, bytes, bytes]:
    """``watchkeeper ARGS`` in a process of its own: exit code, stdout, stderr."""
    done = subprocess.run(
        [sys.executable, "-c", "from watchkeeper.cli import main; main()", *args],
        cwd=cwd,
        env=env or _clean_env(COLUMNS="118"),  # not the server's 80: the width goes along
        capture_output=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def _cli_all(cwd: Path, commands: list[tuple[list[str], dict[str, str] | None]]) -> list[Any]:
    """The commands run side by side (the server runs them one at a time)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda c: _cli(cwd, *c[0], env=c[1]), commands))


def _post(url: str, body: dict[str, Any], secret: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    request = urllib.request.Request(
        f"{url}/_local/cli", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _secret(path: Path) -> str:
    note = held_by_server(path)
    assert note is not None
    return str(note["secret"])


def test_note_holds_a_secret_only_its_user_reads(served: Served) -> None:
    note = server_note(served.path)
    assert stat.S_IMODE(note.stat().st_mode) == 0o600
    assert len(_secret(served.path)) >= 32


def test_write_command_is_refused_and_changes_nothing(served: Served) -> None:
    """A command that opens the store for writing is not sent to the server (exit 3,
    as before); sent anyway with the secret, the server refuses it when it opens the
    store for writing, and the store has no decision afterwards."""
    add = ["decisions", "add", "Bashar al-Assad", "--entity", f"ofac-{ASSAD}"]
    add += ["--by", "t.tester", "--reason", "not him", "--db", "wk.duckdb"]
    code, out, err = _cli(served.cwd, *add)
    message = err.decode().replace("\n", "")
    assert code == 3, (out, err)
    assert f"held by `watchkeeper serve` at {served.url}" in message
    assert "stop the server" in message and READ_THROUGH not in message

    body = {"argv": add, "cwd": str(served.cwd), "db": str(served.path)}
    status, answer = _post(served.url, body, _secret(served.path))
    assert status == 200
    said = base64.b64decode(answer["stderr"]).decode().replace("\n", "")
    assert answer["exit_code"] == 3, said
    assert "this command writes to the store" in said and "stop the server" in said

    code, out, err = _cli(served.cwd, "decisions", "list", "--json", "--db", "wk.duckdb")
    assert code == 0, err
    assert json.loads(out) == []
    assert err.decode().startswith(READ_THROUGH)


def test_wrong_or_missing_secret_is_refused(served: Served) -> None:
    body = {"argv": ["events"], "cwd": str(served.cwd), "db": str(served.path)}
    for secret in ("wrong", "", None, _secret(served.path)[:-1]):
        status, answer = _post(served.url, body, secret)
        assert status == 401, (secret, answer)
        assert "exit_code" not in answer


def test_unreachable_server_keeps_the_store_error(served: Served) -> None:
    """A note naming a live process (the server) but an address nobody answers: the
    command says who holds the store, exit 3, as before the server could run it."""
    note = server_note(served.path)
    kept = note.read_text(encoding="utf-8")
    record = json.loads(kept)
    nobody = f"http://127.0.0.1:{_free_port()}"
    tmp = note.with_name(note.name + ".test.tmp")
    tmp.write_text(json.dumps({**record, "url": nobody}), encoding="utf-8")
    tmp.replace(note)
    try:
        code, out, err = _cli(served.cwd, "events", "--db", "wk.duckdb")
    finally:
        tmp.write_text(kept, encoding="utf-8")
        tmp.replace(note)
    message = err.decode().replace("\n", "")
    assert code == 3, (out, err)
    assert f"held by `watchkeeper serve` at {nobody}" in message
    assert out == b""


def _read_commands(mmsi: str, phase: str) -> list[tuple[list[str], dict[str, str] | None]]:
    """Read commands of several kinds, with the store named every way the CLI takes it:
    the command's --db (relative to the CLI's directory), the root --db, and
    $WATCHKEEPER_DB_PATH."""
    db = ["--db", "wk.duckdb"]
    return [
        (["lists", "show", *db], None),
        (["lists", "diff", "ofac_sdn", *db], None),
        (["--db", "wk.duckdb", "events", "--type", "encounter"], None),
        (["events", "--json", "--limit", "40"], _clean_env(WATCHKEEPER_DB_PATH="wk.duckdb")),
        (["vessels", "show", mmsi, *db], None),
        (["screen", "Bashar al-Assad", "--no-audit", *db], None),
        (["entities", "get", f"ofac-{ASSAD}", *db], None),
        (["export", "events", "-f", "csv", "-o", f"events-{phase}.csv", *db], None),
        (["lists", "diff", "no_such_list", *db], None),  # an error passes through too
    ]


def test_read_commands_print_what_they_print_without_the_server(served: Served) -> None:
    while_serving = _cli_all(served.cwd, _read_commands(served.mmsi, "a"))
    pid = served.server.pid
    served.stop()
    assert not server_note(served.path).exists()
    alone = _cli_all(served.cwd, _read_commands(served.mmsi, "b"))

    commands = _read_commands(served.mmsi, "-")
    for (args, _), (code, out, err), (code_alone, out_alone, err_alone) in zip(
        commands, while_serving, alone, strict=True
    ):
        first, _, rest = err.partition(b"\n")
        assert first.decode() == f"{READ_THROUGH}{served.url}, pid {pid})", (args, err)
        assert (code, out, rest) == (code_alone, out_alone, err_alone.replace(b"-b.", b"-a.")), args
    codes = [code for code, _, _ in alone]
    assert codes.count(0) == len(codes) - 1 and codes[-1] != 0, codes
    assert all(out or err for _, out, err in alone[:-1])  # every read said something
    assert b"encounter" in alone[2][1] and len(json.loads(alone[3][1])) == 40
    # The tables are as wide as the CLI's console ($COLUMNS), not the server's (80).
    assert max(len(line) for line in alone[0][1].decode().splitlines()) > 80
    written = (served.cwd / "events-a.csv").read_bytes()
    assert written and written == (served.cwd / "events-b.csv").read_bytes()


# In-process: the refusals that need no second process.


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[tuple[Path, Any]]:
    path = tmp_path / "wk.duckdb"
    with Store(path) as store:
        load_sdn(store, OLD, sample(OLD)[:20])
    app = create_app(Settings(db_path=path, audit_api=False))
    try:
        yield path, app
    finally:
        app.state.watchkeeper.close()


def test_other_address_is_refused(app_client: tuple[Path, Any]) -> None:
    path, app = app_client
    body = {"argv": ["lists", "show"], "cwd": str(path.parent), "db": str(path)}
    with announce_server(path, "http://127.0.0.1:1"):
        secret = _secret(path)
        auth = {"Authorization": f"Bearer {secret}"}
        far = TestClient(app, client=("192.0.2.7", 50000))
        assert far.post("/_local/cli", json=body, headers=auth).status_code == 403
        near = TestClient(app, client=("127.0.0.1", 50000))
        answer = near.post("/_local/cli", json=body, headers=auth)
        assert answer.status_code == 200 and answer.json()["exit_code"] == 0
        assert b"ofac_sdn" in base64.b64decode(answer.json()["stdout"])
        other = {**body, "db": str(path.with_name("other.duckdb"))}
        assert near.post("/_local/cli", json=other, headers=auth).status_code == 409
    # Not started by `watchkeeper serve` (no note of this process): nothing runs.
    near = TestClient(app, client=("127.0.0.1", 50000))
    assert near.post("/_local/cli", json=body, headers=auth).status_code == 503


def test_reading_standard_input_is_refused_in_words() -> None:
    """The client's stdin is not sent: a forwarded command that reads it fails with a
    store error saying so, instead of reading nothing."""
    from watchkeeper.api.routers.local_cli import _NoInput
    from watchkeeper.errors import StoreError

    stdin = _NoInput()
    for read in (stdin.read, stdin.readline, lambda: next(iter(stdin)), lambda: stdin.buffer):
        with pytest.raises(StoreError, match="reads standard input"):
            read()


def test_relative_paths_where_a_thread_has_no_directory_of_its_own(
    app_client: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not on Linux, the command cannot run in the client's directory: the paths the
    client typed are read from that directory all the same (this test runs elsewhere,
    where ``wk.duckdb`` is no file)."""
    from watchkeeper.api.routers import local_cli

    path, app = app_client
    assert not (Path.cwd() / path.name).exists()
    monkeypatch.setattr(local_cli, "_own_working_directory", lambda cwd: False)
    body = {
        "argv": ["lists", "show", "--db", path.name],
        "cwd": str(path.parent),
        "db": str(path),
        "db_as_given": path.name,
    }
    near = TestClient(app, client=("127.0.0.1", 50000))
    with announce_server(path, "http://127.0.0.1:1"):
        auth = {"Authorization": f"Bearer {_secret(path)}"}
        answer = near.post("/_local/cli", json=body, headers=auth).json()
        assert answer["exit_code"] == 0, base64.b64decode(answer["stderr"])
        assert b"ofac_sdn" in base64.b64decode(answer["stdout"])
        garbled = {**body, "stdout": {"encoding": "no-such-codec"}}
        assert near.post("/_local/cli", json=garbled, headers=auth).status_code == 422
