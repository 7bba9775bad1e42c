"""``watchkeeper lists fetch`` against a local HTTP server serving the bundled files as
the publishers do (OFAC's upper-case ``SDN.CSV`` set, uncompressed; the UN XML).

The publishers cannot be reached from here, so the URLs come from
``WATCHKEEPER_LIST_URLS`` and point at 127.0.0.1.
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.cli._lists_stores import (
    TRIO_2023,
    UN,
    cli,
    cli_json,
    run_main,
    snapshot,
)
from tests.conftest import DATA
from watchkeeper.io import read_bytes

# The served name of each bundled file, and the ``source.part`` key of its URL.
SERVED: dict[str, tuple[Path, str]] = {
    "SDN.CSV": (TRIO_2023[0], "ofac_sdn"),
    "ADD.CSV": (TRIO_2023[1], "ofac_sdn.add"),
    "ALT.CSV": (TRIO_2023[2], "ofac_sdn.alt"),
    "SDN_COMMENTS.CSV": (TRIO_2023[3], "ofac_sdn.comments"),
    "consolidated.xml": (UN[0], "un_sc"),
}


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Publisher:
    root: Path
    base: str

    def urls(self, **override: str) -> str:
        """The ``WATCHKEEPER_LIST_URLS`` value for the served files (``override``
        replaces the URL of a ``source.part`` key, dots written as ``__``)."""
        urls = {key: f"{self.base}/{name}" for name, (_, key) in SERVED.items()}
        urls.update({k.replace("__", "."): v for k, v in override.items()})
        return ",".join(f"{k}={v}" for k, v in urls.items())


@pytest.fixture(scope="module")
def publisher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Publisher]:
    root = tmp_path_factory.mktemp("publisher")
    for name, (path, _) in SERVED.items():
        (root / name).write_bytes(read_bytes(path))  # uncompressed, as published
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Publisher(root, f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def use_settings(
    mp: pytest.MonkeyPatch, publisher: Publisher, downloads: Path, **override: str
) -> None:
    mp.setenv("WATCHKEEPER_LIST_URLS", publisher.urls(**override))
    mp.setenv("WATCHKEEPER_DOWNLOAD_DIR", str(downloads))


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@dataclass
class Fetched:
    db: Path
    downloads: Path
    result: list[dict[str, Any]]


@pytest.fixture(scope="module")
def fetched(publisher: Publisher, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fetched]:
    """One real fetch of ofac_sdn and un_sc into a new store (the expensive part: both
    publications are parsed)."""
    folder = tmp_path_factory.mktemp("fetched")
    with pytest.MonkeyPatch.context() as mp:
        use_settings(mp, publisher, folder / "downloads")
        result = cli_json("lists", "fetch", "ofac_sdn", "un_sc", "--db", folder / "x.duckdb")
    yield Fetched(folder / "x.duckdb", folder / "downloads", result)


def test_fetch_downloads_the_publishers_files(fetched: Fetched, publisher: Publisher) -> None:
    assert [item["source"] for item in fetched.result] == ["ofac_sdn", "un_sc"]
    by_source = {item["source"]: [Path(f) for f in item["files"]] for item in fetched.result}
    assert sorted(p.name for p in by_source["ofac_sdn"]) == [
        "add.csv",
        "alt.csv",
        "sdn.csv",
        "sdn_comments.csv",
    ]
    assert [p.name for p in by_source["un_sc"]] == ["consolidated.xml"]
    for name, (_, key) in SERVED.items():
        (path,) = [p for p in by_source[key.split(".")[0]] if p.name == name.lower()]
        assert path.read_bytes() == (publisher.root / name).read_bytes()
        # download_dir/<source>/<UTC time>/<file>
        assert path.parent.parent == fetched.downloads / key.split(".")[0]
    leftovers = [p for p in fetched.downloads.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_fetch_loads_what_it_downloaded(fetched: Fetched) -> None:
    un_root = etree.fromstring(read_bytes(UN[0]))
    un_count = len(un_root.findall("INDIVIDUALS/INDIVIDUAL")) + len(
        un_root.findall("ENTITIES/ENTITY")
    )
    ofac, un = fetched.result
    assert (ofac["entities"], ofac["new"]) == (13_821, True)
    assert (un["entities"], un["new"]) == (un_count, True)
    assert un["version"] == str(un_root.get("dateGenerated"))[:10]
    # OFAC's CSV carries no date: the version is the day it was fetched (UTC).
    stamp_folder = Path(ofac["files"][0]).parent.name
    assert ofac["version"] == stamp_folder[:10]
    shown = cli_json("lists", "show", "--db", fetched.db)
    assert sorted((v["source"], v["entities"]) for v in shown) == [
        ("ofac_sdn", 13_821),
        ("un_sc", un_count),
    ]


def test_fetching_the_same_files_again_adds_no_version(
    fetched: Fetched, publisher: Publisher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(fetched.db.read_bytes())
    before = snapshot(db)
    use_settings(monkeypatch, publisher, tmp_path / "downloads")
    again = cli_json("lists", "fetch", "ofac_sdn", "un_sc", "--db", db)
    assert [(i["source"], i["new"]) for i in again] == [("ofac_sdn", False), ("un_sc", False)]
    assert [i["version"] for i in again] == [i["version"] for i in fetched.result]
    text = cli("lists", "fetch", "ofac_sdn", "--db", str(db))
    assert text.exit_code == 0, text.stderr
    ofac_version = fetched.result[0]["version"]
    assert f"ofac_sdn: downloaded 4 file(s); {ofac_version}: already loaded, 13,821 entries" in (
        " ".join(text.stdout.split())
    )
    assert snapshot(db) == before


def test_no_load_only_downloads(
    publisher: Publisher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, publisher, tmp_path / "downloads")
    out = cli_json("lists", "fetch", "un_sc", "--no-load", "--db", tmp_path / "x.duckdb")
    assert [(i["source"], len(i["files"])) for i in out] == [("un_sc", 1)]
    assert "version" not in out[0]
    assert (
        Path(out[0]["files"][0]).read_bytes() == (publisher.root / "consolidated.xml").read_bytes()
    )
    assert not (tmp_path / "x.duckdb").exists()


def _refused_url() -> str:
    """A loopback port nobody listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/SDN.CSV"


@pytest.mark.parametrize(
    ("failing_key", "says"),
    [
        ("un_sc", "download failed: HTTP 404"),  # after all OFAC files arrived
        ("ofac_sdn__alt", "download failed: HTTP 404"),  # in the middle of OFAC's set
        ("ofac_sdn", "download failed: cannot connect"),
    ],
)
def test_failed_download_exits_2_naming_the_url_and_leaves_nothing(
    failing_key: str,
    says: str,
    fetched: Fetched,
    publisher: Publisher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "x.duckdb"
    db.write_bytes(fetched.db.read_bytes())
    before = snapshot(db)
    downloads = tmp_path / "downloads"
    (downloads / "un_sc" / "earlier").mkdir(parents=True)
    (downloads / "un_sc" / "earlier" / "consolidated.xml").write_bytes(b"kept")
    files_before = files_under(downloads)
    url = _refused_url() if "connect" in says else f"{publisher.base}/no-such-file.csv"
    use_settings(monkeypatch, publisher, downloads, **{failing_key: url})
    got = run_main(monkeypatch, capsys, "lists", "fetch", "ofac_sdn", "un_sc", "--db", db)
    assert got.code == 2, got
    assert got.message.startswith(f"error: {url}: {says}"), got.message
    assert got.message.count("error:") == 1 and "Traceback" not in got.err
    assert files_under(downloads) == files_before  # no partial file, no other source's
    assert [p.name for p in downloads.iterdir()] == ["un_sc"]
    assert snapshot(db) == before


def test_unknown_list_name_is_bad_input(
    publisher: Publisher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    use_settings(monkeypatch, publisher, tmp_path / "downloads")
    got = run_main(monkeypatch, capsys, "lists", "fetch", "un_sc", "eu_fsf", "--db", tmp_path / "x")
    assert got.code == 2
    assert "no URL set for list(s) eu_fsf" in got.message
    assert files_under(tmp_path / "downloads") == {}


def test_a_download_that_does_not_parse_loads_nothing(
    publisher: Publisher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The publisher serves the founding report instead of the CSL (hand-made fault):
    the UN list, downloaded and parsed fine in the same run, is not stored either."""
    report = DATA / "articles" / "seed-iran-venezuela.txt"
    (publisher.root / "report.csv").write_bytes(report.read_bytes())
    use_settings(
        monkeypatch, publisher, tmp_path / "downloads", us_csl=f"{publisher.base}/report.csv"
    )
    db = tmp_path / "x.duckdb"
    got = run_main(monkeypatch, capsys, "lists", "fetch", "un_sc", "us_csl", "--db", db)
    assert got.code == 2, got
    assert "report.csv:1:" in got.message and "Consolidated Screening List" in got.message
    assert not db.exists()  # nothing stored: the store was not even created


def test_a_download_with_far_fewer_entries_is_refused_unless_allowed(
    fetched: Fetched,
    publisher: Publisher,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Hand-made fault: the publisher serves the real UN list with only its first 50
    individuals and 20 entities, a well-formed document that lost most of its entries."""
    root = etree.fromstring(read_bytes(UN[0]))
    for section, keep in (("INDIVIDUALS", 50), ("ENTITIES", 20)):
        parent = root.find(section)
        assert parent is not None
        for entry in list(parent)[keep:]:
            parent.remove(entry)
    (publisher.root / "partial.xml").write_bytes(etree.tostring(root, xml_declaration=True))
    use_settings(
        monkeypatch, publisher, tmp_path / "downloads", un_sc=f"{publisher.base}/partial.xml"
    )
    db = tmp_path / "x.duckdb"
    db.write_bytes(fetched.db.read_bytes())
    before = snapshot(db)
    got = run_main(monkeypatch, capsys, "lists", "fetch", "un_sc", "--db", db)
    assert got.code == 2, got
    assert "un_sc would shrink from" in got.message and "to 70," in got.message
    assert "--allow-shrink" in got.message
    assert snapshot(db) == before
    (loaded,) = cli_json("lists", "fetch", "un_sc", "--allow-shrink", "--db", db)
    assert (loaded["entities"], loaded["new"]) == (70, True)
