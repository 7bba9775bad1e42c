"""``watchkeeper cargo ingest`` and ``cargo hs`` as a script sees them: output, JSON
and exit codes (2 for bad input naming file, row and column)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cargo"


def test_ingest_then_ingest_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_path: Path
) -> None:
    ams = sorted((FIXTURES / "ams").glob("*.csv"))
    code, out, _ = run_cli(monkeypatch, capsys, "cargo", "ingest", *ams, "--layout", "cbp_ams",
                        "--db", db_path, "--json")  # fmt: skip
    assert code == 0
    assert json.loads(out)["lines"] == 3
    code, out, _ = run_cli(monkeypatch, capsys, "cargo", "ingest", *ams, "--db", db_path)
    assert code == 0
    assert "already_ingested" in out and "0 shipment line(s) stored" in out


def test_bad_input_exits_2_naming_file_row_and_column(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    db_path: Path,
) -> None:
    bad = tmp_path / "bad.csv"
    text = (FIXTURES / "customs_declaration.csv").read_text(encoding="utf-8")
    bad.write_text(text.replace("3004.31.90", "30A4.31"), encoding="utf-8")
    code, _, err = run_cli(monkeypatch, capsys, "cargo", "ingest", bad, "--db", db_path)
    assert code == 2
    assert "bad.csv:2: field 'commodity_code'" in err


def test_hs_checks_a_code_and_proposes_for_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(monkeypatch, capsys, "cargo", "hs", "2710.19.1100", "--json")
    assert code == 0
    check = json.loads(out)
    assert check["core"] == "271019" and check["valid"] is True
    code, out, _ = run_cli(monkeypatch, capsys, "cargo", "hs", "jet fuel", "--json")
    assert json.loads(out)[0]["code"] == "271019"
    code, out, _ = run_cli(monkeypatch, capsys, "cargo", "hs", "9301.90", "-d", "AK-47 rifles")
    assert "military" in out
