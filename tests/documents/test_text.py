"""Text in: plain, HTML (main text only), PDF (text layer), URL, and bad input."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.text import from_bytes, load_source
from watchkeeper.errors import InputError

SEED = (DATA / "articles" / "seed-iran-venezuela.txt").read_text("utf-8")
STORY = SEED.split("\n\n")[2]  # the report's second paragraph, as published


def _html() -> bytes:
    # Hand-made page around a real paragraph of the founding report: navigation,
    # a related-links box and a footer that must not reach the text.
    return f"""<!doctype html><html><head><title>Iran and Venezuela</title></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>20 Iranian fighters and weapons reinforce Maduro's government</h1>
<p>{STORY}</p><p>{SEED.split(chr(10) + chr(10))[4]}</p></article>
<aside class="related"><h3>Related</h3><ul><li><a href="/a">Best memes of the week</a></li>
<li><a href="/b">Ten recipes for summer</a></li></ul></aside>
<footer>Copyright 2020 Example News. All rights reserved.</footer></body></html>""".encode()


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF with a text layer (Helvetica), offsets computed."""
    stream = f"BT /F1 10 Tf 40 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def test_plain_text_keeps_every_character() -> None:
    doc = from_bytes(SEED.encode("utf-8"), "seed.txt")
    assert doc.text == SEED and doc.media_type == "text/plain"


def test_html_main_text_only() -> None:
    doc = from_bytes(_html(), "page.html")
    assert doc.media_type == "text/html"
    assert "Quds Forces of the Islamic Revolutionary Guard Corps" in doc.text
    for boilerplate in ("Home", "Ten recipes", "Copyright 2020"):
        assert boilerplate not in doc.text


def test_pdf_text_layer() -> None:
    doc = from_bytes(_pdf("Mahan Air restarted flights between Iran and Venezuela."), "r.pdf")
    assert doc.media_type == "application/pdf"
    assert "Mahan Air restarted flights" in doc.text


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "story.html").write_bytes(_html())
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_url_the_user_gives(served: str) -> None:
    doc = load_source(f"{served}/story.html")
    assert "Quds Forces" in doc.text
    with pytest.raises(InputError, match="404"):
        load_source(f"{served}/missing.html")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"%PDF-1.4 broken", "PDF"),
        (b"\x00\x01\x02binary\x00", "binary"),
    ],
)
def test_bad_input_is_named(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        from_bytes(data, "input.bin")


def test_missing_file() -> None:
    with pytest.raises(InputError, match="no such file"):
        load_source("/nonexistent/report.txt")


@given(st.binary(max_size=300))
def test_any_bytes_give_text_or_our_error(data: bytes) -> None:
    try:
        doc = from_bytes(data, "fuzz")
    except InputError:
        return
    assert isinstance(doc.text, str)


class _EndlessHandler(http.server.BaseHTTPRequestHandler):
    """A server that announces no length and never stops sending."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        try:
            while True:
                self.wfile.write(b"Mahan Air flights resumed. " * 1024)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, *args: object) -> None:
        return


def test_url_download_is_capped(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A document past WATCHKEEPER_INPUT_MAX_BYTES is refused while it downloads, both
    when the server announces its length and when it streams without end."""
    monkeypatch.setenv("WATCHKEEPER_INPUT_MAX_BYTES", "200000")
    (tmp_path / "big.txt").write_bytes(b"x" * 300_000)
    with pytest.raises(InputError, match="announced, over the cap of 200,000"):
        load_source(f"{served}/big.txt")
    assert "Quds Forces" in load_source(f"{served}/story.html").text
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(InputError, match="more than the cap of 200,000"):
            load_source(f"http://127.0.0.1:{server.server_address[1]}/", timeout=10)
    finally:
        server.shutdown()
