"""While ``watchkeeper serve`` runs, DuckDB lets no other process open its store, not
even read only (checked here with a real server process): a command that meets the
lock says which server holds the store and where its API is, instead of DuckDB's bare
lock error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cli._lists_stores import run_main
from tests.conftest import DATA
from watchkeeper.errors import StoreError
from watchkeeper.movement.ais.ingest import ingest_paths
from watchkeeper.store import Store
from watchkeeper.store.db import announce_server, held_by_server, server_note


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


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, int]]:
    """A store with a real AIS sample, held by ``watchkeeper serve`` in its own process."""
    path = tmp_path_factory.mktemp("served") / "wk.duckdb"
    with Store(path) as store:
        ingest_paths(store, [DATA / "ais" / "pyais"])
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHKEEPER_")}
    server = subprocess.Popen(
        [sys.executable, "-c", "from watchkeeper.cli import main; main()", "serve"]
        + ["--db", str(path), "--port", str(port), "--no-access-log", "--no-audit"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while not (_up(url) and server_note(path).exists()):
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr else ""
                pytest.fail(f"watchkeeper serve did not start: {err[-2000:]}")
            time.sleep(0.2)
        yield path, url, server.pid
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGINT)  # uvicorn's own clean shutdown
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def test_read_command_names_the_server_holding_the_store_until_it_stops(
    served: tuple[Path, str, int],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """This test process is the second process: before, it got DuckDB's "Could not set
    lock" and no word of the server or its API."""
    path, url, pid = served
    note = json.loads(server_note(path).read_text())
    assert held_by_server(path) == {
        "url": url,
        "pid": pid,
        "started_at": note["started_at"],
        "secret": note["secret"],
    }
    # A read command is run by the server (tests/cli/test_read_while_serving.py)...
    for command in (["events"], ["ais", "export"], ["lists", "show"]):
        res = run_main(monkeypatch, capsys, *command, "--db", path)
        assert res.code == 0, (command, res.out, res.err)
        assert f"(read through watchkeeper serve at {url}, pid {pid})" in res.err
    # ... a write command is not.
    res = run_main(monkeypatch, capsys, "detect", "--db", path)
    assert res.code == 3, (res.out, res.err)
    assert f"held by `watchkeeper serve` at {url} (pid {pid})" in res.message
    assert f"{url}/docs" in res.message and "stop the server" in res.message
    with pytest.raises(StoreError, match="held by `watchkeeper serve`"):
        Store(path, read_only=True)
    # Once the server stops, its note goes and the store opens again.
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while server_note(path).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not server_note(path).exists()
    while True:  # the process may still be letting go of the file
        try:
            with Store(path, read_only=True) as store:
                row = store.con.execute("SELECT count(*) FROM ais_positions").fetchone()
                assert row is not None and row[0] > 0
            break
        except StoreError:
            assert time.monotonic() < deadline
            time.sleep(0.2)


def test_note_of_a_dead_server_is_ignored(tmp_path: Path) -> None:
    """Hand-made: a note left by a server that was killed names no holder."""
    path = tmp_path / "wk.duckdb"
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    server_note(path).write_text(json.dumps({"url": "http://127.0.0.1:1", "pid": gone.pid}))
    assert held_by_server(path) is None
    server_note(path).write_text("{not json")
    assert held_by_server(path) is None


def test_announce_server_writes_then_removes_its_note(tmp_path: Path) -> None:
    path = tmp_path / "wk.duckdb"
    with announce_server(path, "http://127.0.0.1:8123") as note:
        assert note == tmp_path / "wk.duckdb.server"
        found = held_by_server(path)
        assert found is not None and found["url"] == "http://127.0.0.1:8123"
        assert found["pid"] == os.getpid()
    assert not note.exists()


@settings(max_examples=60, deadline=None)
@given(
    st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | st.fixed_dictionaries(
        {"url": st.text(max_size=20) | st.integers(), "pid": st.integers() | st.text(max_size=5)}
    ).map(lambda d: json.dumps(d).encode())
    | st.integers().map(lambda pid: json.dumps({"url": "http://x", "pid": pid}).encode())
    | st.just(b'{"url": 8000, "pid": 1}')  # pid 1 always runs
)
def test_any_note_content_is_read_or_ignored(content: bytes) -> None:
    """Property: whatever a ``.server`` file holds (cut short, not JSON, not UTF-8, a
    pid that is no number), reading it names a running server or ``None``; no crash."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wk.duckdb"
        server_note(path).write_bytes(content)
        found = held_by_server(path)
        assert found is None or (isinstance(found["url"], str) and int(found["pid"]) > 0)
