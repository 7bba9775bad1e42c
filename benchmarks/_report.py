"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections alone."""

from __future__ import annotations

import platform
import re
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = """# Benchmarks

Each section is written by the script it names (`python benchmarks/<name>.py`), which
measures Watchkeeper and a named peer in the same run on the same input. Benchmarks are
not tests; figures depend on the machine (2 cores, 24 GiB here) and its load.
"""


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}"


def write_section(name: str, body: str, script: str | None = None) -> None:
    """Replace (or add) the section between ``<!-- name -->`` markers; ``script`` is the
    benchmark's file name when it is not ``<name>.py``."""
    start, end = f"<!-- {name} start -->", f"<!-- {name} end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"{start}\n## {name}\n\n_Run {stamp} on {machine()}: `python benchmarks/{script or name + '.py'}`_\n\n"
        f"{body.strip()}\n{end}"
    )
    text = BENCHMARKS_MD.read_text("utf-8") if BENCHMARKS_MD.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _m: section, text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + section + "\n")
    )
    BENCHMARKS_MD.write_text(text, "utf-8")


def table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
