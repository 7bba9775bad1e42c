"""Download the current official list files from the publishers' URLs in settings."""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

import httpx

from watchkeeper.errors import InputError
from watchkeeper.settings import Settings


@dataclass
class FetchedList:
    source: str
    paths: list[Path]


def _file_name(url: str) -> str:
    name = Path(urlparse(url).path).name.lower()
    return name or "download"


def _why(exc: httpx.HTTPError) -> str:
    """One line saying why a download failed (httpx's own text spans several lines)."""
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        return f"HTTP {response.status_code} {response.reason_phrase}".strip()
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({type(exc).__name__})"
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {detail}"
    return detail


def _download(client: httpx.Client, url: str, target: Path) -> None:
    try:
        with client.stream("GET", url) as response, open(target, "wb") as out:
            response.raise_for_status()
            for chunk in response.iter_bytes():
                out.write(chunk)
    except httpx.HTTPError as exc:
        raise InputError(url, f"download failed: {_why(exc)}") from None
    except httpx.InvalidURL as exc:
        raise InputError(url, f"not a URL Watchkeeper can fetch: {exc}") from None


def _unique_dir(parent: Path, name: str) -> Path:
    candidate = parent / name
    n = 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{name}-{n}"
    return candidate


def fetch_lists(
    settings: Settings, names: list[str] | None = None, *, timeout: float = 120.0
) -> list[FetchedList]:
    """Download each wanted source's files into ``download_dir/<source>/<UTC time>/``.

    All or nothing: every file of every wanted source is downloaded into a staging
    folder first and moved into place only when all arrived, so a failed download
    (HTTP error, refused connection, timeout) leaves no files behind and raises an
    ``InputError`` naming the URL."""
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for key, url in settings.list_urls.items():
        source, _, part = key.partition(".")
        groups[source][part or "main"] = url
    wanted = list(dict.fromkeys(names)) if names else sorted(groups)
    unknown = [n for n in wanted if n not in groups]
    if unknown:
        raise InputError(None, f"no URL set for list(s) {', '.join(unknown)}", field="list_urls")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    settings.download_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=settings.download_dir))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            for source in wanted:
                folder = staging / source
                folder.mkdir()
                for part, url in sorted(groups[source].items()):
                    name = _file_name(url)
                    if (folder / name).exists():  # two parts served under one name
                        name = f"{part}-{name}"
                    _download(client, url, folder / name)
        fetched: list[FetchedList] = []
        for source in wanted:
            parent = settings.download_dir / source
            parent.mkdir(parents=True, exist_ok=True)
            final = _unique_dir(parent, stamp)
            (staging / source).rename(final)
            fetched.append(FetchedList(source=source, paths=sorted(final.iterdir())))
        return fetched
    finally:
        shutil.rmtree(staging, ignore_errors=True)
