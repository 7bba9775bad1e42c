"""``watchkeeper ais ingest`` / ``ais export`` through the CLI, on bundled real samples."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.conftest import DATA
from watchkeeper.cli import app
from watchkeeper.cli.common import EXIT_BAD_INPUT, run_guarded
from watchkeeper.errors import InputError

NM4 = str(DATA / "ais" / "aisdb" / "test_data_20211101.nm4.gz")
NOAA = str(DATA / "ais" / "aisdb" / "test_data_noaa_20230101.csv.gz")
UNTIMED = str(DATA / "ais" / "pyais" / "nmea_data_sample.txt.gz")

runner = CliRunner()


def test_ingest_json_and_export(db_path: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ais", "ingest", NM4, NOAA, "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["positions"] == 915 + 1000
    assert [s["format"] for s in report["sources"]] == ["nmea", "csv:noaa"]

    exported = runner.invoke(app, ["ais", "export", "--db", str(db_path), "--mmsi", "367752440"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert {"mmsi", "time", "lat", "lon", "sog", "cog", "heading", "msg_type"} <= set(rows[0])
    assert [(r["mmsi"], r["time"], r["lat"], r["lon"]) for r in rows] == [
        ("367752440", "2023-01-11T00:00:00.000000Z", "43.07917", "-70.75733")
    ]

    out = tmp_path / "positions.parquet"
    written = runner.invoke(
        app,
        [
            "ais",
            "export",
            "--db",
            str(db_path),
            "--format",
            "parquet",
            "--output",
            str(out),
            "--since",
            "2022-01-01",
        ],
    )
    assert written.exit_code == 0, written.output
    assert pq.read_table(out).num_rows == 1000  # the 2021 NMEA positions are before --since


def test_summary_names_rejects_and_their_first_line(db_path: Path) -> None:
    result = runner.invoke(app, ["ais", "ingest", UNTIMED, "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "758  no_time" in result.stdout and "nmea_data_sample.txt.gz:3" in result.stdout
    assert "100  empty_payload" in result.stdout
    again = runner.invoke(app, ["ais", "ingest", UNTIMED, "--db", str(db_path)])
    assert "skipped, already ingested" in again.stdout


def test_not_ais_exits_2(db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "readme.txt"
    bad.write_text("just text\n")
    result = runner.invoke(app, ["ais", "ingest", str(bad), "--db", str(db_path)])
    assert isinstance(result.exception, InputError)
    monkeypatch.setattr(
        sys, "argv", ["watchkeeper", "ais", "ingest", str(bad), "--db", str(db_path)]
    )
    assert run_guarded(app) == EXIT_BAD_INPUT


def test_parquet_needs_an_output(db_path: Path) -> None:
    result = runner.invoke(app, ["ais", "export", "--format", "parquet", "--db", str(db_path)])
    assert isinstance(result.exception, InputError)
