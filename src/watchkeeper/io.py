"""Opening input files the same way everywhere: plain or gzip-compressed, by content.

Every input file goes through here, so here is where its size is bounded: a gzip file
is decompressed as a stream and refused (:class:`InputError` naming the file and the
cap) as soon as it gives more than ``max_ratio`` times its own size (never less than
:data:`RATIO_FLOOR_BYTES`) or more than ``max_bytes``; a plain file larger than
``max_bytes`` is refused too. A decompression bomb so costs a few megabytes and a
moment, not all the memory there is. The caps are :class:`InputLimits`, read from the
``WATCHKEEPER_INPUT_MAX_BYTES`` / ``WATCHKEEPER_INPUT_MAX_RATIO`` settings unless given.
"""

from __future__ import annotations

import gzip
import io
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from watchkeeper.errors import InputError

_GZIP_MAGIC = b"\x1f\x8b"
# Below this many decompressed bytes the ratio cap does not apply: a small, very
# repetitive file (a header and a few identical rows) may legitimately expand 1000x.
RATIO_FLOOR_BYTES: Final = 1 << 20
_BLOCK: Final = 1 << 20


@dataclass(frozen=True)
class InputLimits:
    """How much one input file may give: bytes in all, and times its gzip size."""

    max_bytes: int = 4 << 30
    max_ratio: float = 100.0

    @staticmethod
    def from_env() -> InputLimits:
        """The limits of the ``WATCHKEEPER_INPUT_*`` settings (defaults when unset)."""
        from watchkeeper.settings import Settings

        s = Settings.from_env()
        return InputLimits(s.input_max_bytes, s.input_max_ratio)

    def gzip_cap(self, compressed_bytes: int) -> tuple[int, str]:
        """The most bytes a gzip file of this size may give, and which cap that is."""
        by_ratio = max(RATIO_FLOOR_BYTES, int(self.max_ratio * compressed_bytes))
        if by_ratio < self.max_bytes:
            return by_ratio, (
                f"{self.max_ratio:g} times its {compressed_bytes:,} compressed bytes "
                "(WATCHKEEPER_INPUT_MAX_RATIO)"
            )
        return self.max_bytes, f"{self.max_bytes:,} bytes (WATCHKEEPER_INPUT_MAX_BYTES)"


class _CappedGzip(io.RawIOBase):
    """A gzip file's decompressed bytes, streamed, that stop at a cap with InputError."""

    def __init__(self, path: Path, limits: InputLimits) -> None:
        self.path = path
        self.inner = gzip.GzipFile(path, "rb")
        self.cap, self.why = limits.gzip_cap(path.stat().st_size)
        self.given = 0

    @property
    def name(self) -> str:
        return str(self.path)

    def readable(self) -> bool:
        return True

    def _count(self, n: int) -> int:
        self.given += n
        if self.given > self.cap:
            raise InputError(
                self.path,
                f"gzip data expands beyond {self.cap:,} bytes, the cap of {self.why}; "
                "refused as a decompression bomb (raise the cap if the file is genuine)",
            )
        return n

    def readinto(self, b: Any) -> int:
        # Never ask the decompressor for more than one byte past the cap.
        view = memoryview(b).cast("B")
        room = self.cap - self.given + 1
        if len(view) > room:
            view = view[:room]
        return self._count(self.inner.readinto(view))

    def readall(self) -> bytes:
        parts: list[bytes] = []
        while block := self.inner.read(min(_BLOCK, self.cap - self.given + 1)):
            self._count(len(block))
            parts.append(block)
        return b"".join(parts)

    def close(self) -> None:
        self.inner.close()
        super().close()


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


def open_binary(path: str | Path, limits: InputLimits | None = None) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (shipped samples are kept gzipped).

    Raises :class:`InputError` when the file is larger than the limits allow (for gzip:
    while reading, as soon as the decompressed stream passes its cap)."""
    p = Path(path)
    limits = InputLimits.from_env() if limits is None else limits
    if is_gzip(p):
        return io.BufferedReader(_CappedGzip(p, limits), buffer_size=1 << 16)
    st = p.stat()
    if stat.S_ISREG(st.st_mode) and st.st_size > limits.max_bytes:
        raise InputError(
            p,
            f"{st.st_size:,} bytes, over the cap of {limits.max_bytes:,} bytes "
            "(WATCHKEEPER_INPUT_MAX_BYTES)",
        )
    return open(p, "rb")


def read_bytes(path: str | Path, limits: InputLimits | None = None) -> bytes:
    """The whole file (decompressed), within the limits of :func:`open_binary`."""
    with open_binary(path, limits) as fh:
        return fh.read()


def read_stream(stream: IO[bytes], source: str, limits: InputLimits | None = None) -> bytes:
    """All of a stream (standard input), refused with InputError past ``max_bytes``."""
    cap = (InputLimits.from_env() if limits is None else limits).max_bytes
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise InputError(
            source, f"more than the cap of {cap:,} bytes (WATCHKEEPER_INPUT_MAX_BYTES)"
        )
    return data


def open_text(
    path: str | Path,
    encoding: str = "utf-8",
    errors: str = "strict",
    limits: InputLimits | None = None,
) -> IO[str]:
    return io.TextIOWrapper(open_binary(path, limits), encoding=encoding, errors=errors, newline="")


def logical_name(path: str | Path) -> str:
    """The file name without a trailing ``.gz``: ``sdn.csv.gz`` -> ``sdn.csv``."""
    name = Path(path).name
    return name[:-3] if name.lower().endswith(".gz") else name
