"""``watchkeeper screen`` and ``match`` honour reviewed decisions and write the audit log,
as the API does, on a store of the bundled OFAC SDN 2023-12-28 list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from watchkeeper.cli import app
from watchkeeper.cli.common import run_guarded
from watchkeeper.screening import Screener, review
from watchkeeper.screening.audit import AuditLog
from watchkeeper.store import Store

runner = CliRunner()

MADURO = "ofac-22790"  # MADURO MOROS, Nicolas
MAHAN_AIR = "ofac-12927"


@pytest.fixture
def db(sdn_db_path: Path, ofac_store: Store, tmp_path: Path) -> Path:
    """A writable copy of the session's SDN store, with its cached screening index."""
    Screener.from_store(ofac_store)  # the session's index, cached beside its store
    return copy_store(sdn_db_path, tmp_path / "sdn.duckdb")


def _invoke(args: list[str], **kwargs: Any) -> Any:
    result = runner.invoke(app, args, **kwargs)
    assert result.exit_code == 0, result.output
    return result


def _decide(db: Path, *names: str, entity: str = MADURO) -> int:
    result = _invoke(
        ["decisions", "add", *names, "--schema", "Person", "--entity", entity,
         "--by", "alice", "--reason", "our customer, born 1990, is another man",
         "--json", "--db", str(db)]
    )  # fmt: skip
    return int(json.loads(result.stdout)["decision_id"])


def _screen_json(db: Path, name: str, *extra: str) -> list[dict[str, Any]]:
    result = _invoke(
        ["screen", name, "--schema", "Person", "--json", "--limit", "3", "--db", str(db), *extra]
    )
    return list(json.loads(result.stdout)["results"])


def _by_id(results: list[dict[str, Any]], entity_id: str) -> dict[str, Any]:
    return next(r for r in results if r["id"] == entity_id)


def _audit_rows(db: Path) -> list[Any]:
    with Store(db, read_only=True) as store:
        return list(AuditLog(store).records())


def test_screen_honours_a_decision_until_it_is_revoked(db: Path) -> None:
    before = _by_id(_screen_json(db, "Nicolas MADURO MOROS"), MADURO)
    assert before["match"] is True and "decision" not in before

    decision_id = _decide(db, "Nicolas Maduro Moros")
    # The same subject, its names in another order and case: the decision applies.
    after = _by_id(_screen_json(db, "MADURO MOROS, Nicolas"), MADURO)
    assert after["match"] is False
    assert after["score"] == before["score"]  # still reported, with its score and reasons
    assert after["decision"]["decision_id"] == decision_id
    assert after["decision"]["decision"] == "not_a_match"
    assert after["decision"]["decided_by"] == "alice"
    assert "born 1990" in after["decision"]["reason"]
    # The API's shape: the same keys on a reviewed result.
    assert set(after["decision"]) == {
        "decision_id",
        "decision",
        "decided_by",
        "decided_at",
        "reason",
    }

    table = _invoke(["screen", "Nicolas Maduro Moros", "--schema", "Person", "--db", str(db)])
    # (the table wraps its cells to the terminal: look for words)
    assert "reviewed:" in table.stdout and "alice" in table.stdout

    _invoke(["decisions", "remove", str(decision_id), "--by", "bob", "--reason", "wrong call",
             "--db", str(db)])  # fmt: skip
    again = _by_id(_screen_json(db, "Nicolas MADURO MOROS"), MADURO)
    assert again["match"] is True and "decision" not in again


def test_screen_writes_one_audit_row(db: Path) -> None:
    decision_id = _decide(db, "Nicolas Maduro Moros")
    _screen_json(db, "Nicolas Maduro Moros", "--audit")
    rows = _audit_rows(db)
    assert len(rows) == 1
    row = rows[0]
    assert row.channel == "cli screen" and row.actor.startswith("cli")
    assert row.query["properties"] == {"name": ["Nicolas Maduro Moros"]}
    assert row.params == {"threshold": 0.7, "limit": 3}
    assert row.list_versions[0]["source"] == "ofac_sdn"
    hit = next(r for r in row.results if r["id"] == MADURO)
    assert hit["match"] is False and hit["decision_id"] == decision_id


QUERIES = [
    {"id": "full", "schema": "Person", "properties": {"name": ["Nicolas MADURO MOROS"]}},
    {"id": "parts", "schema": "Person",
     "properties": {"firstName": ["Nicolas"], "lastName": ["Maduro Moros"]}},
    {"id": "mahan", "schema": "Organization", "properties": {"name": ["Mahan Air"]}},
    {"id": "short", "schema": "Person", "properties": {"name": ["X"]}},
    {"id": "nobody", "schema": "Person", "properties": {"name": ["Craig Faller"]}},
]  # fmt: skip


def _match(db: Path, tmp_path: Path, *extra: str) -> tuple[dict[str, Any], str]:
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    result = _invoke(
        ["match", "--input", str(queries), "--output", str(out), "--db", str(db), *extra]
    )
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {line["id"]: line for line in lines}, result.stderr


def test_match_honours_a_decision_and_does_not_count_it(db: Path, tmp_path: Path) -> None:
    before, summary = _match(db, tmp_path, "--no-audit")
    assert _by_id(before["full"]["results"], MADURO)["match"] is True
    assert _by_id(before["parts"]["results"], MADURO)["match"] is True
    assert "3 with a match" in summary and "0 result(s) reviewed" in summary

    decision_id = _decide(db, "Nicolas Maduro Moros")
    after, summary = _match(db, tmp_path, "--no-audit")
    for key in ("full", "parts"):  # a full name, and the same name in parts
        maduro = _by_id(after[key]["results"], MADURO)
        assert maduro["match"] is False and maduro["decision"]["decision_id"] == decision_id
        assert not any(r["match"] for r in after[key]["results"])
    assert _by_id(after["mahan"]["results"], MAHAN_AIR)["match"] is True
    assert "error" in after["short"]
    assert "1 with a match" in summary and "2 result(s) reviewed as not a match" in summary
    assert "1 bad record(s)" in summary and "not audited" in summary


def test_match_audit_rows_in_chunks_verified(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    decision_id = _decide(db, "Nicolas Maduro Moros")
    monkeypatch.setattr(review, "AUDIT_CHUNK_ROWS", 2)
    monkeypatch.setattr(review, "AUDIT_CHUNK_SECONDS", 3600.0)
    calls: list[int] = []
    append = AuditLog.append

    def counting_append(self: AuditLog, entries: Any) -> Any:
        calls.append(len(entries))
        return append(self, entries)

    monkeypatch.setattr(AuditLog, "append", counting_append)
    results, summary = _match(db, tmp_path, "--audit")
    assert calls == [2, 2]  # 4 screened records, one transaction per chunk of 2
    assert "4 audit rows written" in summary

    rows = _audit_rows(db)
    assert [r.query_key for r in rows] == ["full", "parts", "mahan", "nobody"]
    assert {r.channel for r in rows} == {"cli match"}
    assert len({r.request_id for r in rows}) == 1  # one run, one request id
    assert rows[0].fingerprint == rows[1].fingerprint  # a full name and its parts
    assert _by_id(rows[1].results, MADURO) == {
        "id": MADURO,
        "caption": "MADURO MOROS, Nicolas",
        "score": _by_id(results["parts"]["results"], MADURO)["score"],
        "match": False,
        "decision_id": decision_id,
    }
    assert rows[3].results == []  # screened, nothing found: logged all the same
    assert rows[0].params["input"].endswith("queries.jsonl")

    check = json.loads(_invoke(["audit", "verify", "--json", "--db", str(db)]).stdout)
    assert {k: check[k] for k in ("rows", "ok", "first_bad")} == {
        "rows": 4, "ok": True, "first_bad": None
    }  # fmt: skip
    assert check["detail"].startswith("4 rows, chain intact")
    assert check["head"]["count"] == 4 and check["anchored"] == check["head"]


def test_audit_default_follows_the_api_setting(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WATCHKEEPER_AUDIT_API", "false")
    _match(db, tmp_path)
    assert _audit_rows(db) == []
    monkeypatch.delenv("WATCHKEEPER_AUDIT_API")
    _, summary = _match(db, tmp_path)
    assert len(_audit_rows(db)) == 4 and "4 audit rows written" in summary


def test_read_only_store_screens_without_audit_and_refuses_audit(
    sdn_db_path: Path,
    ofac_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The session store is held open read only (``ofac_store``): it cannot be written."""
    monkeypatch.delenv("WATCHKEEPER_AUDIT_API", raising=False)
    rows_before = AuditLog(ofac_store).count()
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(q) + "\n" for q in QUERIES), encoding="utf-8")
    out = tmp_path / "results.jsonl"
    base = ["watchkeeper", "match", "--input", str(queries), "--output", str(out),
            "--db", str(sdn_db_path)]  # fmt: skip

    monkeypatch.setattr("sys.argv", [*base, "--no-audit"])
    assert run_guarded(app) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(QUERIES)
    capsys.readouterr()

    out.unlink()
    for argv in ([*base, "--audit"], base):  # asked for, or by default
        monkeypatch.setattr("sys.argv", argv)
        assert run_guarded(app) == 3
        err = capsys.readouterr().err
        assert "cannot be opened for writing" in err and "--no-audit" in err
        assert not out.exists()  # nothing screened without its audit trail

    monkeypatch.setattr(
        "sys.argv",
        ["watchkeeper", "screen", "Mahan Air", "--audit", "--db", str(sdn_db_path)],
    )
    assert run_guarded(app) == 3
    assert "--no-audit" in capsys.readouterr().err
    assert AuditLog(ofac_store).count() == rows_before


def test_audit_on_a_missing_store_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.duckdb"
    monkeypatch.setattr(
        "sys.argv", ["watchkeeper", "screen", "Mahan Air", "--audit", "--db", str(missing)]
    )
    assert run_guarded(app) == 3
    assert "no lists are loaded" in capsys.readouterr().err
    assert not missing.exists()


def test_decision_made_with_a_birth_date_holds_for_that_birth_date_only(db: Path) -> None:
    """``decisions add --prop birthDate=...`` keeps the date; the decision suppresses only
    queries with that date, never a namesake with another date or with none."""
    result = _invoke(
        ["decisions", "add", "Nicolas Maduro Moros", "--schema", "Person", "--entity", MADURO,
         "--prop", "birthDate=1990-01-01", "--by", "alice", "--reason", "our customer",
         "--json", "--db", str(db)]
    )  # fmt: skip
    made = json.loads(result.stdout)
    assert made["query"]["qualifiers"] == {"birthDate": ["1990-01-01"]}
    decided = _by_id(_screen_json(db, "Nicolas Maduro Moros", "--birth-date", "1990-01-01"), MADURO)
    assert decided["match"] is False and decided["decision"]["decision_id"] == made["decision_id"]
    for extra in ([], ["--birth-date", "1962-11-23"]):
        namesake = _by_id(_screen_json(db, "Nicolas Maduro Moros", *extra), MADURO)
        assert namesake["match"] is True and "decision" not in namesake, extra
    listed = json.loads(_invoke(["decisions", "list", "--json", "--db", str(db)]).stdout)
    assert [d["query"]["qualifiers"] for d in listed] == [{"birthDate": ["1990-01-01"]}]
    # The reviewer reads back what the decision holds for.
    again = _invoke(
        ["decisions", "add", "Nicolas Maduro Moros", "--schema", "Person", "--entity", MADURO,
         "--prop", "birthDate=1990-01-01", "--by", "alice", "--reason", "our customer",
         "--db", str(db)]
    )  # fmt: skip
    assert "already on record" in again.stdout
    assert "birthDate=1990-01-01" in again.stdout.split()
