"""The project's own errors: every bad input names its file, line or field."""

from __future__ import annotations

from pathlib import Path


class WatchkeeperError(Exception):
    """Base of every error Watchkeeper raises on purpose."""


class InputError(WatchkeeperError):
    """Bad input: says where (file, line or element, field) and what was wrong."""

    def __init__(
        self,
        path: str | Path | None,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path) if path is not None else None
        self.message = message
        self.line = line
        self.field = field
        super().__init__(self.describe())

    def describe(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f": field {self.field!r}"
        return f"{where}: {self.message}"


class ListFormatError(InputError):
    """A sanctions list file that cannot be read as the format it claims to be."""


class StoreError(WatchkeeperError):
    """The store cannot do what was asked (unknown version, locked file, ...)."""
