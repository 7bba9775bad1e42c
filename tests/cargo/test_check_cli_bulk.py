"""``watchkeeper cargo check`` decides through ``cargo.bulk.check_stored`` (once per
group of lines that decide alike) and prints what the per-line path printed: the same
text, the same JSON and the same saved events as ``decide_lines`` over every stored
``ShipmentLine``, on the bundled sample shipments with the bundled OFAC SDN list, and
on generated lines (``benchmarks/cargo.py``'s generator) with an ownership graph.
``--summary`` counts the same decisions, saves exactly the same events and says how
many lines each rule decided."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.cli_helpers import run_cli
from tests.conftest import copy_store
from watchkeeper.cargo.decide import EVENT_TYPES, LineDecision, cargo_events
from watchkeeper.cargo.ingest import ingest_files
from watchkeeper.cargo.store import read_lines
from watchkeeper.cli.cargo_check import decide_lines, print_decisions
from watchkeeper.store import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "cargo" / "sample_shipments.csv"
GENERATED_LINES = 3000


@pytest.fixture(scope="module")
def sample_db(sdn_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = copy_store(sdn_db_path, tmp_path_factory.mktemp("sample") / "sample.duckdb")
    with Store(db) as store:
        ingest_files(store, [SAMPLE], "customs_declaration")
    return db


@pytest.fixture(scope="module")
def generated_db(sdn_db_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated lines (listed SDN companies among a few thousand made-up ones) with a
    hand-made ownership register: some generated consignees 60% owned by a listed
    company (blocked by ownership), one 40% (not)."""
    from benchmarks.cargo import _listed_names, generate

    work = tmp_path_factory.mktemp("generated")
    db = copy_store(sdn_db_path, work / "generated.duckdb")
    lines_csv = work / "lines.csv"
    listed = _listed_names(db, 60)
    generate(lines_csv, GENERATED_LINES, listed, seed=29)
    with lines_csv.open(encoding="utf-8") as fh:
        consignees = Counter(row[6] for row in csv.reader(fh))
    owned = [name for name, _ in consignees.most_common(8) if name not in dict(listed)]
    owner = listed[0][0]
    register = work / "register.csv"
    with register.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["owner", "owned", "share"])
        for i, name in enumerate(owned[:4]):
            w.writerow([owner, name, 40 if i == 0 else 60])
    code = _cli("graph", "load", register, "--db", db)
    assert code == 0
    with Store(db) as store:
        ingest_files(store, [lines_csv], "customs_declaration")
    return db


def _cli(*args: str | Path) -> int:
    from typer.testing import CliRunner

    from watchkeeper.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.exit_code


def _as_a_new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the screening indexes this process already loaded: a reused one is
    screened without the graph's derived parties (``Screener.from_store`` adds them only
    when it loads the index), and ``cargo check`` runs in a process of its own."""
    from watchkeeper.screening import Screener

    monkeypatch.setattr(Screener, "_memory", {})


def _check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str | Path
) -> tuple[int, str, str]:
    _as_a_new_process(monkeypatch)
    return run_cli(monkeypatch, capsys, "cargo", "check", *args)


def _old_path(
    monkeypatch: pytest.MonkeyPatch, db: Path, shipment: str | None
) -> tuple[list[LineDecision], str]:
    """What ``cargo check`` decided before: every stored line read back whole and
    decided by ``check_lines``."""
    _as_a_new_process(monkeypatch)
    with Store(db, read_only=True) as store:
        return decide_lines(store, read_lines(store, shipment_id=shipment))


def _fresh(db: Path, target: Path) -> Path:
    if target.exists():
        target.unlink()
        shutil.rmtree(target.parent / f"{target.name}.screening", ignore_errors=True)
    return copy_store(db, target)


def _saved(db: Path) -> list[dict[str, object]]:
    with Store(db, read_only=True) as store:
        events = store.read_events(types=list(EVENT_TYPES))
    return sorted((e.to_dict() for e in events), key=lambda e: json.dumps(e, sort_keys=True))


def _as_saved(events: Sequence[object]) -> list[dict[str, object]]:
    return sorted(
        (e.to_dict() for e in events),  # type: ignore[attr-defined]
        key=lambda e: json.dumps(e, sort_keys=True),
    )


def _deciding_ids(d: LineDecision) -> list[str]:
    standing = [f.rule.id for f in d.fired if f.set_aside_by is None]
    same = [f.rule.id for f in d.fired if f.set_aside_by is None and f.rule.effect == d.decision]
    return same or standing


def _same_output_both_ways(
    db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    shipment: str | None,
) -> list[LineDecision]:
    decisions, note = _old_path(monkeypatch, db, shipment)
    events = cargo_events(decisions)
    select = ["--shipment", shipment] if shipment else []
    for json_out in (False, True):
        capsys.readouterr()
        print_decisions(decisions, events, note, save=False, json_out=json_out)
        expected = capsys.readouterr().out
        flags = [*select, "--no-save", *(["--json"] if json_out else [])]
        code, out, _ = _check(monkeypatch, capsys, "--db", db, *flags)
        assert code == 0
        assert out == expected
    # Saved: the old path's events, each exactly once.
    target = _fresh(db, tmp_path / "saved.duckdb")
    code, out, _ = _check(monkeypatch, capsys, "--db", target, *select)
    assert code == 0
    capsys.readouterr()
    print_decisions(decisions, events, note, save=True, json_out=False)
    assert out == capsys.readouterr().out
    assert _saved(target) == _as_saved(events)
    return decisions


def _summary_agrees(
    db: Path,
    decisions: Sequence[LineDecision],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, object]:
    events = cargo_events(decisions)
    code, out, _ = _check(monkeypatch, capsys, "--db", db, "--summary", "--no-save", "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["lines"] == len(decisions)
    assert summary["decisions"] == dict(Counter(d.decision for d in decisions))
    assert summary["events"] == len(events)
    assert summary["events_by_type"] == dict(Counter(e.type for e in events))
    assert summary["saved"] is False
    per_rule: Counter[str] = Counter()
    for d in decisions:
        per_rule.update(_deciding_ids(d))
    assert {r["id"]: r["lines"] for r in summary["rules"]} == dict(per_rule)
    # The events raised cite the rules counted for their lines.
    for e in events:
        assert e.params["rules"] == _deciding_ids(
            next(d for d in decisions if e.subjects[0] == f"cargo:{d.line_id}")
        )
    target = _fresh(db, tmp_path / "summary.duckdb")
    code, out, _ = _check(monkeypatch, capsys, "--db", target, "--summary")
    assert code == 0
    assert out.startswith(f"{len(decisions):,} line(s): ")
    assert f"{len(events):,} event(s)," in " ".join(out.split())
    assert _saved(target) == _as_saved(events)
    return summary  # type: ignore[no-any-return]


def test_sample_prints_and_saves_as_the_per_line_path(
    sample_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    decisions = _same_output_both_ways(sample_db, tmp_path, monkeypatch, capsys, None)
    assert len(decisions) == 19
    assert {d.decision for d in decisions} >= {"prohibited", "authorized_by_general_license"}
    bella = _same_output_both_ways(sample_db, tmp_path, monkeypatch, capsys, "DOJ-20-1791-BELLA")
    assert [d.decision for d in bella] == ["prohibited"] * len(bella)
    summary = _summary_agrees(sample_db, decisions, tmp_path, monkeypatch, capsys)
    assert "no ownership graph" in str(summary["note"])


def test_generated_lines_print_and_save_as_the_per_line_path(
    generated_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    decisions = _same_output_both_ways(generated_db, tmp_path, monkeypatch, capsys, None)
    assert len(decisions) == GENERATED_LINES
    kinds = Counter(d.decision for d in decisions)
    assert len(kinds) >= 4, kinds  # more than one way to decide, or the test says little
    exposed = [p for d in decisions for p in d.parties if p.exposure]
    assert any("blocked_by_ownership" in p.statuses for p in exposed)
    one = decisions[len(decisions) // 2].line.shipment_id
    _same_output_both_ways(generated_db, tmp_path, monkeypatch, capsys, one)
    summary = _summary_agrees(generated_db, decisions, tmp_path, monkeypatch, capsys)
    assert "note" not in summary  # lists and graph both loaded


def test_saving_again_replaces_the_events_and_an_unknown_shipment_exits_1(
    sample_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = _fresh(sample_db, tmp_path / "again.duckdb")
    _check(monkeypatch, capsys, "--db", target, "--summary")
    first = _saved(target)
    _check(monkeypatch, capsys, "--db", target)
    _check(monkeypatch, capsys, "--db", target, "--summary")
    assert _saved(target) == first and first
    code, out, _ = _check(monkeypatch, capsys, "--db", target, "--shipment", "NOPE", "--summary")
    assert code == 1 and "no shipment 'NOPE' is stored" in out


def test_an_empty_store_prints_no_lines(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store(db_path):
        pass
    code, out, _ = _check(monkeypatch, capsys, "--db", db_path, "--json")
    assert code == 0
    assert json.loads(out)["lines"] == 0 and json.loads(out)["events"] == []
    code, out, _ = _check(monkeypatch, capsys, "--db", db_path, "--summary")
    assert code == 0 and out.startswith("0 line(s): ; 0 event(s)")
