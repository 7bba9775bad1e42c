"""Download the current official list files from the publishers' URLs in settings."""

from __future__ import annotations

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


def fetch_lists(
    settings: Settings, names: list[str] | None = None, *, timeout: float = 120.0
) -> list[FetchedList]:
    """Download each wanted source's files into a dated folder of ``download_dir``.

    A download that fails leaves nothing behind: files are written to a temporary
    name and moved into place only when every file of the source arrived."""
    groups: dict[str, dict[str, str]] = defaultdict(dict)
    for key, url in settings.list_urls.items():
        source, _, part = key.partition(".")
        groups[source][part or "main"] = url
    wanted = names or sorted(groups)
    unknown = [n for n in wanted if n not in groups]
    if unknown:
        raise InputError(None, f"no URL set for list(s) {', '.join(unknown)}", field="list_urls")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    fetched: list[FetchedList] = []
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for source in wanted:
            target = settings.download_dir / source / stamp
            target.mkdir(parents=True, exist_ok=True)
            staged: list[tuple[Path, Path]] = []
            for _part, url in sorted(groups[source].items()):
                final = target / _file_name(url)
                with tempfile.NamedTemporaryFile(dir=target, delete=False) as tmp:
                    try:
                        with client.stream("GET", url) as response:
                            response.raise_for_status()
                            for chunk in response.iter_bytes():
                                tmp.write(chunk)
                    except httpx.HTTPError as exc:
                        Path(tmp.name).unlink(missing_ok=True)
                        for tmp_path, _ in staged:
                            tmp_path.unlink(missing_ok=True)
                        raise InputError(url, f"download failed: {exc}") from exc
                staged.append((Path(tmp.name), final))
            for tmp_path, final in staged:
                tmp_path.replace(final)
            fetched.append(FetchedList(source=source, paths=[f for _, f in staged]))
    return fetched
