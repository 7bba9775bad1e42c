"""``watchkeeper screen`` and ``watchkeeper match`` on a store of the real SDN list."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded

runner = CliRunner()


@pytest.fixture(scope="module")
def db(
    sdn_store_path: Path, sdn_screener: object, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    # A copy: the CLI writes its index cache beside the store.
    path = tmp_path_factory.mktemp("cli") / "sdn.duckdb"
    shutil.copy(sdn_store_path, path)
    # With its index cache (same list versions): the CLI loads it instead of rebuilding.
    cache = sdn_store_path.parent / f"{sdn_store_path.name}.screening"
    shutil.copytree(cache, path.parent / f"{path.name}.screening")
    return path


def test_screen_table(db: Path) -> None:
    result = runner.invoke(app, ["screen", "Basher Assad", "--schema", "Person", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "ofac-12735" in result.output
    assert "MATCH" in result.output
    assert "bashar" in result.output


def test_screen_json_with_birth_date(db: Path) -> None:
    result = runner.invoke(
        app,
        ["screen", "Nicolas Maduro", "--schema", "Person", "--birth-date", "1962-11-23",
         "--json", "--db", str(db)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    top = body["results"][0]
    assert top["id"] == "ofac-22790" and top["match"] is True
    assert {e["feature"] for e in top["explanations"]} >= {"name_parts", "birth_date"}


def test_screen_no_result_says_so(db: Path) -> None:
    result = runner.invoke(app, ["screen", "Craig Faller", "--schema", "Person", "--db", str(db)])
    assert result.exit_code == 0
    assert "no list entry" in result.output


def test_screen_bad_input_exits_2(
    db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["watchkeeper", "screen", "X", "--db", str(db)])
    assert run_guarded(app) == 2
    assert "too short" in capsys.readouterr().err
    monkeypatch.setattr(
        "sys.argv",
        ["watchkeeper", "screen", "Ali Hassan", "--birth-date", "1965-13-01", "--db", str(db)],
    )
    assert run_guarded(app) == 2


def test_screen_empty_store_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.argv", ["watchkeeper", "screen", "Mahan Air", "--db", str(tmp_path / "none.duckdb")]
    )
    assert run_guarded(app) == 3
    assert "no lists are loaded" in capsys.readouterr().err


BAD_LINES = [
    '{"id": "ok", "schema": "Organization", "properties": {"name": ["Mahan Air"]}}',
    '{"id": "empty", "schema": "Person", "properties": {"name": [""]}}',
    '{"id": "one", "schema": "Person", "properties": {"name": ["X"]}}',
    json.dumps({"id": "long", "schema": "Person", "properties": {"name": ["A" * 10_000]}}),
    '{"id": "ctrl", "schema": "Person", "properties": {"name": ["Ali\\u0007 Hassan"]}}',
    '{"id": "date", "schema": "Person", "properties": {"name": ["Ali Hassan"], "birthDate": ["1999-02-30"]}}',
    '{"id": "schema", "schema": "Spaceship", "properties": {"name": ["Mahan Air"]}}',
    '{"id": "broken", "schema": ',
    "",
    '["not", "an", "object"]',
    '{"id": "last", "schema": "Person", "properties": {"name": ["Nicolas Maduro"]}}',
]


def test_match_jsonl_bad_lines_do_not_stop_the_batch(db: Path, tmp_path: Path) -> None:
    queries = tmp_path / "queries.jsonl"
    queries.write_text("\n".join(BAD_LINES) + "\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    result = runner.invoke(
        app, ["match", "--input", str(queries), "--output", str(out), "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(lines) == len(BAD_LINES) - 1  # the blank line is skipped
    by_id = {line["id"]: line for line in lines if line["id"] is not None}
    assert by_id["ok"]["results"][0]["id"] == "ofac-12927"
    assert by_id["last"]["results"][0]["id"] == "ofac-22790"
    expected_errors = {
        "empty": "line 2:",
        "one": "too short",
        "long": "10000 characters",
        "ctrl": "control character",
        "date": "invalid date",
        "schema": "unknown schema",
    }
    for key, text in expected_errors.items():
        assert text in by_id[key]["error"], by_id[key]
    errors = [line["error"] for line in lines if line["id"] is None]
    assert any(e.startswith("line 8: malformed JSON") for e in errors)
    assert any(e.startswith("line 10:") and "object" in e for e in errors)


def test_match_reads_stdin(db: Path) -> None:
    result = runner.invoke(app, ["match", "--db", str(db)], input=BAD_LINES[0] + "\n")
    assert result.exit_code == 0
    first = json.loads(result.stdout.splitlines()[0])
    assert first["id"] == "ok" and first["results"][0]["match"] is True


def test_match_csv_with_column_mapping(db: Path, tmp_path: Path) -> None:
    # Hand-made customer file: the column names a bank would use.
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "Customer ID,Customer Name,DOB,Kind\n"
        "c1,Nicolas Maduro,1962-11-23,Person\n"
        "c2,Craig Faller,,Person\n"
        "c3,Mahan Air,,Organization\n"
        "c4,X,,Person\n"
        "c5,Ali Hassan,23/11/1962,Person\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["match", "--input", str(customers), "--output", str(out), "--db", str(db),
         "--csv-columns", "id=Customer ID,name=Customer Name,birthDate=DOB,schema=Kind"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows["c1"]["results"][0]["id"] == "ofac-22790"
    assert not any(r["match"] for r in rows["c2"]["results"])
    assert rows["c3"]["results"][0]["id"] == "ofac-12927"
    assert "line 5" in rows["c4"]["error"] and "too short" in rows["c4"]["error"]
    assert "invalid date" in rows["c5"]["error"]


def test_match_csv_unknown_column_is_an_error(db: Path, tmp_path: Path) -> None:
    customers = tmp_path / "c.csv"
    customers.write_text("Name\nMahan Air\n", encoding="utf-8")
    result = runner.invoke(
        app, ["match", "--input", str(customers), "--csv-columns", "name=Nom", "--db", str(db)]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception) and "Nom" in str(result.exception)


def test_match_csv_with_name_part_columns(db: Path, tmp_path: Path) -> None:
    # Hand-made customer file that keeps given and family names apart.
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "ID,First,Last\nc1,Nicolas,MADURO MOROS\nc2,Craig,Faller\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        ["match", "--input", str(customers), "--output", str(out), "--db", str(db),
         "--no-audit", "--csv-columns", "id=ID,firstName=First,lastName=Last"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = {r["id"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    assert rows["c1"]["results"][0]["id"] == "ofac-22790"
    assert rows["c1"]["results"][0]["match"] is True
    assert not any(r["match"] for r in rows["c2"]["results"])
