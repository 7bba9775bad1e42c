"""Text in: plain text, HTML (main text only), PDF (text layer); from a file, stdin or URL."""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

from watchkeeper.errors import InputError
from watchkeeper.io import InputLimits, read_bytes, read_stream


@dataclass(frozen=True)
class SourceText:
    """A document's cleaned text and where it came from."""

    text: str
    source: str  # path, URL or '-'
    media_type: str  # text/plain, text/html, application/pdf
    title: str | None = None
    published: str | None = None  # ISO date when the source gives one

    @property
    def content_hash(self) -> str:
        return hashlib.sha1(self.text.encode("utf-8")).hexdigest()


def _sniff(data: bytes, name: str) -> str:
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf") or name.lower().endswith(".pdf"):
        return "application/pdf"
    if (
        head.startswith((b"<!doctype html", b"<html"))
        or b"<body" in head
        or name.lower().endswith((".html", ".htm"))
    ):
        return "text/html"
    return "text/plain"


def _decode_text(data: bytes, source: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(source, "text is neither UTF-8 nor Windows-1252")


def _html_text(data: bytes, source: str) -> tuple[str, str | None, str | None]:
    import trafilatura

    html = _decode_text(data, source)
    extracted = trafilatura.bare_extraction(
        html, include_comments=False, include_tables=False, favor_precision=True
    )
    if extracted is None:
        raise InputError(source, "no main text found in this HTML page")
    text = getattr(extracted, "text", None) or ""
    if not text.strip():
        raise InputError(source, "no main text found in this HTML page")
    title = getattr(extracted, "title", None)
    date = getattr(extracted, "date", None)
    return text, title, date


def _pdf_text(data: bytes, source: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InputError(source, f"not a readable PDF: {exc}") from exc
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        raise InputError(source, "this PDF has no text layer (scanned?): OCR it first")
    return text


def from_bytes(data: bytes, source: str, media_type: str | None = None) -> SourceText:
    if not data.strip():
        raise InputError(source, "the document is empty")
    kind = media_type or _sniff(data, source)
    if kind == "application/pdf":
        return SourceText(_pdf_text(data, source), source, kind)
    if kind == "text/html":
        text, title, date = _html_text(data, source)
        return SourceText(text, source, kind, title=title, published=date)
    text = _decode_text(data, source)
    if "\x00" in text:
        raise InputError(source, "binary data, not text")
    return SourceText(text.replace("\r\n", "\n").replace("\r", "\n"), source, kind)


def _download(source: str, timeout: float) -> SourceText:
    """An http(s) document, read in chunks and refused past the input cap
    (``WATCHKEEPER_INPUT_MAX_BYTES``) before more of it is held in memory: a server
    that sends an endless body costs the cap, not the machine."""
    cap = InputLimits.from_env().max_bytes
    try:
        with httpx.stream("GET", source, timeout=timeout, follow_redirects=True) as response:
            response.raise_for_status()
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > cap:
                raise InputError(
                    source,
                    f"{int(declared):,} bytes announced, over the cap of {cap:,} bytes "
                    "(WATCHKEEPER_INPUT_MAX_BYTES)",
                )
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise InputError(
                        source,
                        f"more than the cap of {cap:,} bytes (WATCHKEEPER_INPUT_MAX_BYTES)",
                    )
                chunks.append(chunk)
            ctype = response.headers.get("content-type", "").split(";")[0].strip() or None
    except httpx.HTTPError as exc:
        raise InputError(source, f"download failed: {exc}") from exc
    if ctype not in ("text/html", "application/pdf", "text/plain"):
        ctype = None
    return from_bytes(b"".join(chunks), source, ctype)


def load_source(source: str, *, timeout: float = 30.0) -> SourceText:
    """Read a path, ``-`` (stdin) or an http(s) URL the user gave."""
    if source == "-":
        return from_bytes(read_stream(sys.stdin.buffer, "-"), "-")
    if urlparse(source).scheme in ("http", "https"):
        return _download(source, timeout)
    path = Path(source)
    if not path.is_file():
        raise InputError(source, "no such file")
    return from_bytes(read_bytes(path), source)
