"""Typed settings, read once from ``WATCHKEEPER_*`` environment variables.

Every setting is documented in the README's settings table; tests build their own
``Settings`` objects instead of mutating globals.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

# Publishers' URLs, keyed ``source`` or ``source.part`` (the parts of one publication).
DEFAULT_LIST_URLS: dict[str, str] = {
    "ofac_sdn": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV",
    "ofac_sdn.add": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADD.CSV",
    "ofac_sdn.alt": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ALT.CSV",
    "ofac_sdn.comments": "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN_COMMENTS.CSV",
    "un_sc": "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
    "us_csl": "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
}


def _parse_urls(raw: str) -> dict[str, str]:
    """``name=url,name=url`` -> dict; unknown names are allowed (user lists)."""
    urls: dict[str, str] = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, url = part.partition("=")
        if not sep or not url.strip():
            raise ValueError(f"WATCHKEEPER_LIST_URLS: {part!r} is not NAME=URL")
        urls[name.strip()] = url.strip()
    return urls


@dataclass(frozen=True)
class Settings:
    """All of Watchkeeper's settings. ``from_env`` reads ``WATCHKEEPER_<NAME>``."""

    db_path: Path = Path("watchkeeper.duckdb")
    data_dir: Path = Path("data")
    list_urls: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LIST_URLS))
    download_dir: Path = Path("var/downloads")
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token: str | None = None
    # Largest request body the API reads, in bytes; a larger one is answered 413.
    api_max_body: int = 4 * 1024 * 1024
    audit_api: bool = True
    match_threshold: float = 0.7
    # A list load with this fraction fewer entries than the list's newest version is
    # refused (a cut download) unless ``--allow-shrink``.
    max_list_shrink: float = 0.1
    sanctioned_countries: tuple[str, ...] = ("ir", "ve", "sy", "kp", "cu", "ru")
    spark_master: str = "local[2]"
    # Input files: the most bytes one may give once decompressed, and the most a gzip
    # file may expand (times its own size; see watchkeeper.io).
    input_max_bytes: int = 4 << 30
    input_max_ratio: float = 100.0
    # The web map's base layer: a raster tile URL template ({z}/{x}/{y}) of a tile server
    # the user runs; unset, the map draws the bundled Natural Earth countries offline.
    tile_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            key = f"WATCHKEEPER_{f.name.upper()}"
            if key not in env:
                continue
            raw = env[key]
            try:
                values[f.name] = _convert(f.name, raw)
            except ValueError as exc:
                raise ValueError(f"{key}={raw!r}: {exc}") from exc
        return cls(**values)  # type: ignore[arg-type]

    def with_db(self, db_path: Path | None) -> Settings:
        if db_path is None:
            return self
        return Settings(**{**self.__dict__, "db_path": db_path})


_BYTE_UNITS = {"": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2}


def _parse_bytes(raw: str) -> int:
    """``4194304``, ``512KiB`` or ``4MiB`` -> bytes (at least 1)."""
    text = raw.strip().lower().replace(" ", "")
    digits = text.rstrip("kibm")
    unit = text[len(digits) :]
    if not digits.isdigit() or unit not in _BYTE_UNITS or int(digits) < 1:
        raise ValueError("must be a positive number of bytes (e.g. 4194304, 512KiB, 4MiB)")
    return int(digits) * _BYTE_UNITS[unit]


def _convert(name: str, raw: str) -> object:
    if name in ("db_path", "data_dir", "download_dir"):
        return Path(raw)
    if name == "list_urls":
        return {**DEFAULT_LIST_URLS, **_parse_urls(raw)}
    if name == "api_port":
        return int(raw)
    if name == "api_max_body":
        return _parse_bytes(raw)
    if name in ("input_max_bytes", "input_max_ratio"):
        number = int(raw) if name == "input_max_bytes" else float(raw)
        if not number > 0:
            raise ValueError("must be a positive number")
        return number
    if name in ("match_threshold", "max_list_shrink"):
        value = float(raw)
        if not 0.0 <= value <= 1.0:
            raise ValueError("must be between 0 and 1")
        return value
    if name == "audit_api":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if name in ("api_token", "tile_url"):
        return raw or None
    if name == "sanctioned_countries":
        return tuple(c.strip().lower() for c in raw.split(",") if c.strip())
    return raw
