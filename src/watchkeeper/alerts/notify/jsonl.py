"""A JSON-lines notification file: whole lines appended and fsynced, readable mid-crash.

A crash can leave a torn last line (no closing newline). The writer cuts such a tail off
before it appends (that notification was never marked sent, so it is written again
whole); a reader ignores a last line without its newline, since it may be mid-write.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def _cut_torn_tail(fd: int) -> None:
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return
    pos = size
    chunk = 4096
    while pos > 0:
        start = max(0, pos - chunk)
        data = os.pread(fd, pos - start, start)
        if pos == size and data.endswith(b"\n"):
            return
        newline = data.rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        pos = start
    os.ftruncate(fd, 0)


def append_line(path: Path, line: str) -> None:
    """Append ``line`` (no newline in it) plus a newline in one write, then fsync."""
    if "\n" in line or "\r" in line:
        raise ValueError("a JSON line must not hold a newline")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        _cut_torn_tail(fd)
        data = (line + "\n").encode("utf-8")
        written = 0
        while written < len(data):
            written += os.write(fd, data[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_notifications(path: Path) -> list[dict[str, Any]]:
    """Every whole line of a notification file as a dict; a torn last line is skipped."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    whole = lines[:-1]  # the part after the last newline is empty or torn
    return [json.loads(line) for line in whole if line.strip()]
