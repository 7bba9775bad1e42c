"""Opening input files the same way everywhere: plain or gzip-compressed, by content."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import IO

_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_binary(path: str | Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (shipped samples are kept gzipped)."""
    p = Path(path)
    if is_gzip(p):
        return gzip.GzipFile(p, "rb")  # type: ignore[return-value]
    return open(p, "rb")


def read_bytes(path: str | Path) -> bytes:
    with open_binary(path) as fh:
        return fh.read()


def open_text(path: str | Path, encoding: str = "utf-8", errors: str = "strict") -> IO[str]:
    return io.TextIOWrapper(open_binary(path), encoding=encoding, errors=errors, newline="")


def logical_name(path: str | Path) -> str:
    """The file name without a trailing ``.gz``: ``sdn.csv.gz`` -> ``sdn.csv``."""
    name = Path(path).name
    return name[:-3] if name.lower().endswith(".gz") else name
