"""Run the ``watchkeeper`` command inside a test, the way the console script runs it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded


def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str, str]:
    """``watchkeeper ARGS`` through ``run_guarded`` (our errors become exit codes 2 and
    3): the exit code, stdout, and stderr as one line (rich wraps it at the console
    width, so its newlines go)."""
    capsys.readouterr()
    with monkeypatch.context() as m:
        m.setattr(sys, "argv", ["watchkeeper", *(str(a) for a in args)])
        code = run_guarded(app)
    out = capsys.readouterr()
    return code, out.out, out.err.replace("\n", "")
