"""The web pages over one store built from the bundled data, served two ways: in-process
(``open_client``/``token_client``, Starlette's TestClient) and by a real uvicorn server
on 127.0.0.1 (``live_url``, ``live_token_url``) for Playwright to drive Debian's
Chromium (``page``). Browser tests skip, saying why, when /usr/bin/chromium or the
playwright package is missing.

The store holds what ``watchkeeper run`` loads (lists, AIS, flights, the founding
report, ownership, cargo, alerts and cases), with fewer list versions to stay quick,
plus hostile input: a report with ``<script>`` and markup in it."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.conftest import DATA
from watchkeeper.settings import Settings
from watchkeeper.store import Store

CHROMIUM = Path(os.environ.get("WATCHKEEPER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "web-test-token-5b1e"
LOCAL = ("127.0.0.1", 50000)
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The list versions loaded: the newest SDN and the UN list (the older SDN, the
# consolidated non-SDN list and the CSL add minutes and nothing these pages need).
LISTS = (("ofac_sdn", "sdn_csv_2024-05-03"), ("un_sc", "consolidated"))
HOSTILE_REPORT = (
    "<script>alert('report')</script> Mahan Air & <b>friends</b>\n\n"
    'Iranian airline Mahan Air restarted flights to Caracas, officials said. "<img src=x '
    'onerror=alert(1)>" was written on the manifest.\n\n'
    "Photo: <i>a hangar</i> / File photo\n"
)


def _load_lists(store: Store, data_dir: Path) -> None:
    from watchkeeper.cli.run import BUNDLED_DATES, BUNDLED_LISTS
    from watchkeeper.lists import parse_files

    for source, files in BUNDLED_LISTS:
        if not any(source == s and any(part in f for f in files) for s, part in LISTS):
            continue
        parsed = parse_files([data_dir / f for f in files], source)
        if source in BUNDLED_DATES:
            parsed.published = BUNDLED_DATES[source]
            parsed.version = BUNDLED_DATES[source].isoformat()
        store.add_list_version(parsed)


# The flight samples loaded: the hand-made Mahan Air track and the small real ones (the
# two largest samples take most of the run's time and add no listed flight).
FLIGHT_FILES = (
    "adsb/handmade_mahan_OIIE_SVMI.jsonl.gz",
    "adsb/trace_full_ac671b.json.gz",
    "adsb/noisy_spoofing.json.gz",
    "adsb/sample_data_adsb.csv.gz",
)


def _flights(store: Store, data_dir: Path) -> None:
    from watchkeeper.movement.air import ingest_paths, run_detectors

    ingest_paths(store, [data_dir / f for f in FLIGHT_FILES])
    run_detectors(store)


def _read_hostile_report(store: Store, folder: Path) -> None:
    from watchkeeper.documents.read import read_text, store_reading
    from watchkeeper.documents.service import gazetteer_for, linker_for
    from watchkeeper.documents.text import load_source

    path = folder / "hostile-report.txt"
    path.write_text(HOSTILE_REPORT, encoding="utf-8")
    reading = read_text(load_source(str(path)), gazetteer_for(store), linker_for(store))
    reading.list_versions = [v.version_id for v in store.list_versions()]
    store_reading(store, reading)


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The store every web test reads: ``watchkeeper run``'s steps on the bundled data."""
    from watchkeeper.cli.run import STEPS, flights, load_bundled_lists

    if not (DATA / "lists" / "ofac").is_dir():
        pytest.skip(f"{DATA}/lists is not here: the web tests need the bundled data")
    folder = tmp_path_factory.mktemp("web")
    store = Store(folder / "web.duckdb")
    for _title, step in STEPS:
        if step is load_bundled_lists:
            _load_lists(store, DATA)
        elif step is flights:
            _flights(store, DATA)
        else:
            step(store, DATA)
    _read_hostile_report(store, folder)
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="session")
def web_screener(web_store: Store) -> Any:
    from watchkeeper.screening import Screener

    return Screener.from_store(web_store)


def make_app(store: Store, screener: Any, token: str | None = None) -> FastAPI:
    from watchkeeper.api import create_app

    settings = dataclasses.replace(Settings(), db_path=Path("unused.duckdb"), api_token=token)
    return create_app(settings, store, screener=screener)


@pytest.fixture(scope="session")
def open_app(web_store: Store, web_screener: Any) -> FastAPI:
    """No token configured: pages open to loopback, writes off."""
    return make_app(web_store, web_screener)


@pytest.fixture(scope="session")
def token_app(web_store: Store, web_screener: Any) -> FastAPI:
    """The API token ``TOKEN`` configured: every page needs it."""
    return make_app(web_store, web_screener, TOKEN)


# The clients do not run the app's lifespan: its end would close the audit writer the
# session's other tests still use.
@pytest.fixture
def open_client(open_app: FastAPI) -> TestClient:
    """A client on this machine (127.0.0.1), with no cookies yet."""
    return TestClient(open_app, client=LOCAL, follow_redirects=False)


@pytest.fixture
def token_client(token_app: FastAPI) -> TestClient:
    return TestClient(token_app, client=LOCAL, follow_redirects=False)


# -- a real server and a real browser ---------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a thread, for the test session."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_url(web_store: Store, web_screener: Any) -> Iterator[str]:
    """The pages with no token set, served on 127.0.0.1 (an app of its own: the
    server's lifespan closes its state when it stops)."""
    with serve(make_app(web_store, web_screener)) as url:
        yield url


@pytest.fixture(scope="session")
def live_token_url(web_store: Store, web_screener: Any) -> Iterator[str]:
    """The pages behind the API token ``TOKEN``."""
    with serve(make_app(web_store, web_screener, TOKEN)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium): browser tests skip")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclasses.dataclass
class Console:
    """What the page said on its console and what it threw."""

    errors: list[str] = dataclasses.field(default_factory=list)
    dialogs: list[str] = dataclasses.field(default_factory=list)


def new_page(browser: Any, width: int = 1366, height: int = 768) -> tuple[Any, Any, Console]:
    """A fresh context and page whose console errors, uncaught exceptions and dialogs
    (an ``alert()`` injected script would open) are recorded."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    seen = Console()
    page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen.errors.append(f"uncaught: {e}"))

    def on_dialog(dialog: Any) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.set_default_timeout(15_000)
    return context, page, seen


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A 1366x768 page; the test fails if the page logs a console error, throws, or
    opens a dialog."""
    context, pg, seen = new_page(browser)
    try:
        yield pg
    finally:
        context.close()
    if seen.errors or seen.dialogs:
        pytest.fail(f"console errors {seen.errors}, dialogs {seen.dialogs}")


def _scratch() -> Path:
    return Path(tempfile.gettempdir()) / f"watchkeeper-screenshots-{os.getpid()}"


def screenshot(pg: Any, name: str) -> Path:
    """Save the page as <name>.png: in docs/screenshots/ (committed, the closing note's
    folder) when WATCHKEEPER_SCREENSHOTS=1, else in a temporary folder, so a test run
    leaves the checkout as it found it."""
    folder = SCREENSHOTS if os.environ.get("WATCHKEEPER_SCREENSHOTS") == "1" else _scratch()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    pg.screenshot(path=str(path), full_page=False)
    return path
