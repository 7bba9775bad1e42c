"""The case file: one self-contained HTML page (and its PDF) of a case, on a store of real
bundled data with a hand-made case written into the contract tables (see
``_export_store``), whose names, titles and link kinds carry hostile text."""

from __future__ import annotations

import html
import re
import shutil
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.alerts._export_store import (
    CASE,
    DOC,
    HALLAND,
    HOSTILE,
    HOSTILE_MMSI,
    OTHER_CASE,
    build,
)
from watchkeeper.alerts import casefile
from watchkeeper.alerts.casefile import (
    RendererMissing,
    case_file_html,
    case_file_json,
    case_file_pdf,
    html_to_pdf,
    layout,
)
from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded
from watchkeeper.errors import InputError
from watchkeeper.store import Store


@pytest.fixture(scope="module")
def store_path(sdn_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("casefile") / "case.duckdb"
    build(sdn_db_path, path).close()
    return path


@pytest.fixture(scope="module")
def store(store_path: Path) -> Iterator[Store]:
    s = Store(store_path, read_only=True)
    yield s
    s.close()


@pytest.fixture(scope="module")
def page(store: Store) -> str:
    return case_file_html(store, CASE)


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of <script> (there must be none)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


def test_page_is_self_contained(page: str) -> None:
    tags = _parse(page).tags
    for tag, attrs in tags:
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "ftp:")), (tag, name, value)
    names = {t for t, _ in tags}
    assert not names & {"script", "link", "iframe", "img", "object", "embed"}
    assert "@import" not in page and "url(" not in page
    assert {"svg", "style", "table"} <= names
    assert re.search(r"""(?:src|href)\s*=\s*["']?https?://""", page) is None


def test_hostile_text_is_escaped_everywhere(page: str) -> None:
    assert "<script" not in page
    assert HOSTILE not in page  # never raw: always escaped
    escaped = html.escape(HOSTILE, quote=True)
    # title, score part, alert title, event detail, link kind, report sentence, shipper
    assert page.count(escaped) >= 6
    parsed = _parse(page)
    assert not any(t == "script" for t, _ in parsed.tags)
    text = "".join(parsed.text)
    assert f"Fuel and flights: {HOSTILE}" in text  # read back by a parser, exactly the text


def test_every_alert_of_the_case_and_nothing_of_another(page: str, store: Store) -> None:
    alerts = store.con.execute("SELECT alert_id, case_id FROM alerts").fetchall()
    for alert_id, case_id in alerts:
        if case_id == CASE:
            assert f"id='{alert_id}'" in page
        else:
            assert alert_id not in page
    assert OTHER_CASE not in page
    assert f"mmsi:{HOSTILE_MMSI}" not in page


def test_evidence_two_steps_from_the_alerts(page: str, store: Store) -> None:
    text = "".join(_parse(page).text)
    # list entries from the real OFAC SDN 2023-12-28, with their programs
    assert "MAHAN AIR" in text and "NATIONAL IRANIAN TANKER COMPANY" in text
    assert "ofac_sdn 2023-12-28" in text
    # the report sentence that names the listed party, cut at its full stops
    assert "The carrier MAHAN AIR flew the Tehran route again." in text
    assert f"{DOC}#" in text
    # the shipment line behind the cargo event, its parties
    assert "SHIP-1/1" in text and "271012" in text and f"consignee: {HOSTILE}" in text
    # the positions of HALLAND from the real Baltic sample
    reported = store.con.execute(
        "SELECT count(*) FROM ais_positions WHERE mmsi = ? AND time BETWEEN "
        "TIMESTAMPTZ '2018-03-29' AND TIMESTAMPTZ '2018-04-04'",
        [HALLAND],
    ).fetchone()
    assert reported is not None and reported[0] > 0
    assert f"mmsi:{HALLAND}HALLANDvessel{reported[0]}" in text.replace("\n", "")
    # sources: the AIS file and the list version's hash
    sha = store.con.execute(
        "SELECT file_hash FROM list_versions WHERE version = '2023-12-28'"
    ).fetchone()
    assert sha is not None and sha[0] in text
    assert "decoded_reports_baltic_all_ships_april_2018" in text


def test_timeline_is_in_time_order(page: str) -> None:
    section = page[page.index("<h2>Timeline") : page.index("<h2>Map")]
    times = re.findall(r"<tr><td>(\d{4}-\d\d-\d\d \d\d:\d\d) UTC</td>", section)
    assert len(times) == 3 + 4  # three alerts, four events
    assert times == sorted(times)
    assert section.count("<rect ") == 4  # one mark per event on the SVG lanes


def test_map_and_network_are_drawn(page: str, store: Store) -> None:
    section = page[page.index("<h2>Map") : page.index("<h2>Network")]
    assert "<polyline" in section  # HALLAND's track
    assert section.count("class='ev'") == 2  # the two located events
    assert section.count("class='grat'") >= 4  # meridians and parallels
    assert section.count("class='port'") > 10  # WPI ports in the frame (Gulf of Finland)
    network = page[page.index("<h2>Network") : page.index("<h3>Subjects")]
    subjects, links = store.con.execute(
        "SELECT len(subjects), json_array_length(links) FROM cases WHERE case_id = ?", [CASE]
    ).fetchone() or (0, 0)
    assert network.count("<circle") == subjects == 6
    assert network.count("<line") == links == 4


def test_layout_is_deterministic_and_inside_the_square() -> None:
    nodes = [f"n{i}" for i in range(12)]
    edges = [(f"n{i}", f"n{i + 1}") for i in range(6)]
    a, b = layout(nodes, edges), layout(list(reversed(nodes)), edges)
    assert a == b
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in a.values())
    assert len({(round(x, 3), round(y, 3)) for x, y in a.values()}) == len(nodes)


def test_json_has_the_same_content(store: Store) -> None:
    data = case_file_json(store, CASE)
    assert {a["alert_id"] for a in data["alerts"]} == {"alert-a", "alert-b", "alert-c"}
    assert data["case"]["score"] == 0.87
    assert [p["part"] for p in data["case"]["score_parts"]] == ["alerts", "listed"]
    assert data["unresolved_evidence"] == []
    assert data["sources"]["list_versions"]


def test_unknown_case_is_bad_input(store: Store) -> None:
    with pytest.raises(InputError, match="no case 'case-nope'"):
        case_file_html(store, "case-nope")


def test_pdf_without_a_renderer_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(RendererMissing, match="headless Chromium.*not installed"):
        html_to_pdf("<p>x</p>", chromium=Path("/nonexistent/chromium"))


@pytest.mark.skipif(
    not casefile.CHROMIUM.exists(), reason=f"{casefile.CHROMIUM} is not installed (no PDF renderer)"
)
def test_pdf_is_rendered(store: Store) -> None:
    pdf = case_file_pdf(store, CASE)
    assert pdf.startswith(b"%PDF-")
    assert b"%%EOF" in pdf[-1024:]
    assert len(pdf) > 10_000
    import io

    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    width, height = (float(x) for x in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (595, 842)  # A4, in points
    import unicodedata

    def text(page: pypdf.PageObject) -> str:  # NFKC: the font's ligatures read as letters
        return " ".join(unicodedata.normalize("NFKC", page.extract_text()).split())

    first = text(reader.pages[0])
    assert "Fuel and flights: <script>" in first  # the hostile title, printed as text
    every = " ".join(text(p) for p in reader.pages)
    assert all(a in every for a in ("alert-a", "alert-b", "alert-c"))


def test_cli_writes_the_case_file(
    store_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "case.html"
    with monkeypatch.context() as m:
        m.setattr(
            sys,
            "argv",
            ["watchkeeper", "--db", str(store_path), "export", "case", CASE, "-o", str(out)],
        )
        assert run_guarded(app) == 0
    written = out.read_text(encoding="utf-8")
    assert written.startswith("<!DOCTYPE html>")
    # the same page but for the moment it was generated
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
    with Store(store_path, read_only=True) as s:
        assert stamp.sub("T", written) == stamp.sub("T", case_file_html(s, CASE))
