"""Decisions on the bundled sample shipments (hand-made from public enforcement records,
data/cargo/), screened against the real bundled OFAC SDN list (2023-12-28) with the real
HS 2022 check; hand-made lines only for edge conditions (licence declared, no date,
ownership exposure, a code that does not fit its description)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watchkeeper.cargo.decide import (
    EVENT_TYPES,
    HsVerdict,
    LineDecision,
    PartyHit,
    ScreenerChecks,
    cargo_events,
    check_lines,
    verdict_from_hs_check,
)
from watchkeeper.cargo.hs import check_hs
from watchkeeper.cargo.ingest import lines_of_file
from watchkeeper.cargo.layouts import get_layout
from watchkeeper.cargo.model import Party, ShipmentLine
from watchkeeper.cargo.rules import load_rules
from watchkeeper.screening import Screener
from watchkeeper.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cargo" / "sample_shipments.csv"
RULES = load_rules()


def hs(code: str | None, description: str) -> HsVerdict:
    return verdict_from_hs_check(check_hs(code, description))


@pytest.fixture(scope="module")
def screener(sdn_db_path: Path) -> Iterator[Screener]:
    with Store(sdn_db_path, read_only=True) as store:
        yield Screener.from_store(store)


@pytest.fixture(scope="module")
def checks(screener: Screener) -> ScreenerChecks:
    return ScreenerChecks(screener)


@pytest.fixture(scope="module")
def sample_lines() -> list[ShipmentLine]:
    return lines_of_file(SAMPLE, get_layout("customs_declaration"))


@pytest.fixture(scope="module")
def sample(sample_lines: list[ShipmentLine], checks: ScreenerChecks) -> dict[str, LineDecision]:
    decisions = check_lines(
        sample_lines,
        hs_check=hs,
        party_checker=checks.party,
        vessel_checker=checks.vessel,
        rules=RULES,
    )
    return {d.line_id: d for d in decisions}


def fired(d: LineDecision, *, standing: bool = True) -> set[str]:
    return {f.rule.id for f in d.fired if not standing or f.set_aside_by is None}


def party(d: LineDecision, role: str):  # type: ignore[no-untyped-def]
    return next(p for p in d.parties if p.role == role)


def test_bella_cargo_is_prohibited_citing_eo13846_and_mobin_is_listed(
    sample: dict[str, LineDecision],
) -> None:
    d = sample["DOJ-20-1791-BELLA/1"]
    assert d.decision == "prohibited"
    assert d.judged_on == date(2020, 7, 2)
    assert {"us-eo13846-iran-petroleum", "us-eo13850-venezuela-fuel-import"} <= fired(d)
    assert "us-blocking-listed-party" in fired(d)
    mobin = party(d, "shipper")
    assert "listed" in mobin.statuses
    assert any("MOBIN INTERNATIONAL" in h.caption and "SDGT" in h.programs for h in mobin.hits)
    rule = next(f for f in d.fired if f.rule.id == "us-eo13846-iran-petroleum")
    assert (
        rule.rule.url.startswith("https://") and "petroleum products from Iran" in rule.rule.quote
    )
    assert rule.why[0] == "HS 271012 in 2710"
    # The listed BELLA (DPRK program) has IMO 8808264: a namesake, not this tanker.
    bella = party(d, "vessel")
    assert bella.statuses == ()
    assert [h.namesake for h in bella.hits if h.caption == "BELLA"] == [True]


def test_pandi_without_hs_code_is_read_from_its_description(
    sample: dict[str, LineDecision],
) -> None:
    d = sample["DOJ-20-1791-PANDI/1"]
    assert d.hs.status == "proposed" and d.hs.code == "271012"
    assert d.decision == "prohibited"
    assert any("HS code read as 271012" in w for w in d.what_would_change)


def test_fortune_vessel_and_carrier_are_listed(sample: dict[str, LineDecision]) -> None:
    d = sample["IR-VE-2020-05-FORTUNE/1"]
    assert d.decision == "prohibited"
    vessel = party(d, "vessel")
    assert "listed" in vessel.statuses
    assert any(h.caption == "FORTUNE" for h in vessel.hits if h.match)
    assert "listed" in party(d, "carrier").statuses  # National Iranian Tanker Company
    assert "listed" in party(d, "consignee").statuses  # PdVSA


def test_clavel_declared_to_rotterdam_is_still_iranian_petroleum(
    sample: dict[str, LineDecision],
) -> None:
    """The papers say Rotterdam: the Venezuela rules do not fire, E.O. 13846 does."""
    d = sample["IR-VE-2020-05-CLAVEL/1"]
    assert d.decision == "prohibited"
    assert "us-eo13846-iran-petroleum" in fired(d)
    assert "us-eo13850-venezuela-fuel-import" not in fired(d)


def test_venezuelan_crude_to_cuba_2019(sample: dict[str, LineDecision]) -> None:
    d = sample["OFAC-2019-04-DESPINA-ANDRIANNA/1"]
    assert d.decision == "prohibited"
    assert "us-eo13850-venezuela-oil-export" in fired(d)
    assert "listed" in party(d, "consignee").statuses  # Cubametales
    assert "listed" in party(d, "vessel").statuses


def test_shta_medicine_to_iran_is_authorised_and_sets_aside_the_export_ban(
    sample: dict[str, LineDecision],
) -> None:
    d = sample["SHTA-CH-IR-2020-01/1"]
    assert d.decision == "authorized_by_general_license"
    aside = {f.rule.id: f.set_aside_by for f in d.fired}
    assert aside["us-itsr-560.204-export-to-iran"] == "us-itsr-560.530-agmed"
    assert any("no consignee named" in w for w in d.what_would_change)


def test_red_cross_medicine_on_16_april_2019_is_under_gl4a_not_gl4b(
    sample: dict[str, LineDecision],
) -> None:
    """GL 4A was in force to 16 April 2019, GL 4B from the 17th: the real arrival date
    sits on the boundary."""
    d = sample["IFRC-VE-2019-04-16/1"]
    assert d.decision == "authorized_by_general_license"
    assert fired(d) == {"us-venezuela-gl4a"}
    generators = sample["IFRC-VE-2019-04-16/2"]
    assert generators.decision == "allowed"  # not ag/med, consignee not the government


def test_unknown_goods_to_venezuela_are_for_review(sample: dict[str, LineDecision]) -> None:
    """Mahan Air's spare parts: no code, no confident proposal; Mahan Air is listed, so
    the line is prohibited for the party alone, and the HS rules stay undetermined."""
    d = sample["MAHAN-IR-VE-2020/1"]
    assert d.hs.code is None
    assert "listed" in party(d, "carrier").statuses
    assert d.decision == "prohibited"
    assert "us-eo13850-venezuela-fuel-import" in d.undetermined


def test_sample_events_cite_the_line(sample: dict[str, LineDecision], store: Store) -> None:
    events = cargo_events(sample.values())
    kinds = {e.type for e in events}
    assert kinds == {"prohibited_cargo", "humanitarian_cargo"}
    assert kinds <= set(EVENT_TYPES)
    bella = next(e for e in events if "cargo:DOJ-20-1791-BELLA/1" in e.subjects)
    assert bella.evidence[0] == "cargo:DOJ-20-1791-BELLA/1"
    assert "imo:9208124" in bella.subjects
    assert any(ev.startswith("list:") for ev in bella.evidence)
    assert "us-eo13846-iran-petroleum" in bella.params["rules"]
    assert bella.start == datetime(2020, 7, 2, tzinfo=UTC)
    # Every line gets its own event, even two lines of one shipment on one day.
    assert len({e.event_id for e in events}) == len(events)
    store.write_events(events)
    back = store.read_events(types=["humanitarian_cargo"])
    assert {e.subjects[0] for e in back} == {
        "cargo:SHTA-CH-IR-2020-01/1",
        "cargo:IFRC-VE-2019-04-16/1",
    }


# ---- edge conditions, hand-made --------------------------------------------------------


def medicine_to_iran(**changes: object) -> ShipmentLine:
    line = ShipmentLine(
        shipment_id="EDGE",
        line_no=1,
        source_ref="edge:1",
        layout="test",
        parties=(
            Party("shipper", "Helvetia Pharma AG", "CH"),
            Party("consignee", "Darou Pakhsh Distribution", "IR"),
        ),
        goods="Medicaments for cancer treatment",
        hs_code="300490",
        origin_country="CH",
        destination_country="IR",
        loading_date=date(2021, 3, 1),
        end_user="Tehran hospital",
    )
    return replace(line, **changes)  # type: ignore[arg-type]


def test_a_listed_terrorism_party_takes_the_general_licence_away(checks: ScreenerChecks) -> None:
    line = medicine_to_iran(
        parties=(
            Party("shipper", "Helvetia Pharma AG", "CH"),
            Party("consignee", "Mahan Air", "IR"),
        )
    )
    [d] = check_lines([line], hs_check=hs, party_checker=checks.party, rules=RULES)
    assert d.decision == "prohibited"
    assert "us-itsr-560.204-export-to-iran" in fired(d)
    reasons = dict(d.not_available)
    assert "MAHAN AIR" in reasons["us-itsr-560.530-agmed"]
    assert any("us-itsr-560.530-agmed would apply but for" in w for w in d.what_would_change)


def test_a_military_end_use_takes_the_general_licence_away() -> None:
    line = medicine_to_iran(end_use="for army field hospitals")
    [d] = check_lines([line], hs_check=hs, party_checker=lambda n, c: [], rules=RULES)
    assert d.decision == "prohibited"
    assert "us-itsr-560.530-agmed" in dict(d.not_available)


def test_declared_licence_turns_prohibited_into_review() -> None:
    line = medicine_to_iran(
        goods="Motor cars", hs_code="870323", license_number="IRAN-EEI-2021-0042"
    )
    [d] = check_lines([line], hs_check=hs, party_checker=lambda n, c: [], rules=RULES)
    assert d.decision == "review"
    assert any("IRAN-EEI-2021-0042" in w for w in d.what_would_change)
    [without] = check_lines(
        [replace(line, license_number=None)],
        hs_check=hs,
        party_checker=lambda n, c: [],
        rules=RULES,
    )
    assert without.decision == "prohibited"
    assert any("specific licence" in w for w in without.what_would_change)


def test_refined_petroleum_to_dprk_needs_a_licence() -> None:
    line = ShipmentLine(
        "EDGE-KP", 1, "edge:2", "test", goods="Diesel fuel", hs_code="271019",
        origin_country="CN", destination_country="KP", loading_date=date(2019, 6, 1),
        parties=(Party("consignee", "Korea Unknown Trading", "KP"),),
    )  # fmt: skip
    [d] = check_lines([line], hs_check=hs, party_checker=lambda n, c: [], rules=RULES)
    assert d.decision == "license_required"
    assert any("no licence number declared" in w for w in d.what_would_change)
    assert [e.type for e in cargo_events([d])] == ["cargo_license_required"]


def test_a_line_without_a_date_is_judged_today_and_says_so() -> None:
    line = medicine_to_iran(loading_date=None)
    [d] = check_lines(
        [line], hs_check=hs, party_checker=lambda n, c: [], rules=RULES, today=date(2026, 12, 5)
    )
    assert d.judged_on == date(2026, 12, 5)
    assert any("no loading, declaration or discharge date" in w for w in d.what_would_change)


def test_a_code_that_does_not_fit_its_description_is_judged_by_the_words_too() -> None:
    """Papers that declare palm oil for a gasoline cargo bound for Venezuela."""
    line = ShipmentLine(
        "EDGE-MIS", 1, "edge:3", "test", goods="Gasoline", hs_code="151110",
        origin_country="MY", destination_country="VE", loading_date=date(2020, 6, 1),
        parties=(Party("consignee", "Unknown Importer", "VE"),),
    )  # fmt: skip
    [d] = check_lines([line], hs_check=hs, party_checker=lambda n, c: [], rules=RULES)
    assert d.hs.status == "mismatch"
    assert d.decision == "review"
    assert any("reads as HS 2710" in w for w in d.what_would_change)


@dataclass(frozen=True)
class Owned:
    status: str
    chain: str


def test_ownership_exposure_fires_the_50_percent_rule_and_is_cached() -> None:
    asked: list[str] = []

    def parties(name: str, country: str | None) -> Sequence[PartyHit]:
        if name == "Listed Parent Holding":
            return [PartyHit("ofac-1", "LISTED PARENT HOLDING", 0.99, True)]
        return []

    def exposure(entity_id: str) -> Owned:
        asked.append(entity_id)
        return Owned("blocked_by_ownership", "ofac-1 owns 60% of X (graph)")

    line = medicine_to_iran(
        destination_country="TR",
        goods="Machinery parts",
        hs_code="848180",
        parties=(Party("consignee", "Listed Parent Holding", "TR"),),
    )
    decisions = check_lines(
        [line, replace(line, line_no=2)],
        hs_check=hs,
        party_checker=parties,
        exposure_checker=exposure,
        rules=RULES,
    )
    assert asked == ["ofac-1"]
    assert all("us-blocking-50-percent-rule" in fired(d) for d in decisions)
    assert decisions[0].parties[0].exposure == (
        ("ofac-1", "blocked_by_ownership", "ofac-1 owns 60% of X (graph)"),
    )


def test_party_screening_is_cached_by_name_and_country() -> None:
    calls: list[tuple[str, str | None]] = []

    def parties(name: str, country: str | None) -> Sequence[PartyHit]:
        calls.append((name, country))
        return []

    lines = [medicine_to_iran(line_no=i) for i in range(1, 51)]
    lines.append(
        medicine_to_iran(line_no=51, parties=(Party("shipper", "HELVETIA  pharma ag", "CH"),))
    )
    lines.append(
        medicine_to_iran(line_no=52, parties=(Party("shipper", "Helvetia Pharma AG", "DE"),))
    )
    check_lines(lines, hs_check=hs, party_checker=parties, rules=RULES)
    # Two parties (+ the end user) once each; case and spacing do not matter, the
    # country does.
    assert sorted(calls) == sorted(
        [
            ("Helvetia Pharma AG", "CH"),
            ("Darou Pakhsh Distribution", "IR"),
            ("Tehran hospital", "IR"),
            ("Helvetia Pharma AG", "DE"),
        ]
    )


def test_gl8_lets_the_central_bank_of_iran_be_the_listed_party(checks: ScreenerChecks) -> None:
    """GL 8 (27 Feb 2020) allows humanitarian trade in which the CBI, designated under
    E.O. 13224 in Sept 2019, is involved; before it, the same line was prohibited."""
    line = medicine_to_iran(
        parties=(
            Party("shipper", "Helvetia Pharma AG", "CH"),
            Party("consignee", "Darou Pakhsh Distribution", "IR"),
            Party("notify", "Central Bank of Iran", "IR"),
        ),
        loading_date=date(2020, 3, 2),
    )
    before = replace(line, loading_date=date(2020, 2, 26))
    after, prior = check_lines([line, before], hs_check=hs, party_checker=checks.party, rules=RULES)
    assert "listed" in party(after, "notify").statuses
    assert after.decision == "authorized_by_general_license"
    assert "us-iran-gl8-humanitarian-cbi" in fired(after)
    assert prior.decision == "prohibited"


# ---- the CLI: cargo check on ingested sample lines --------------------------------------


def test_cli_cargo_check_decides_stored_lines_and_replaces_its_events(
    sdn_db_path: Path, tmp_path: Path
) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from tests.conftest import copy_store
    from watchkeeper.cargo.ingest import ingest_files
    from watchkeeper.cli import cargo_check

    db = copy_store(sdn_db_path, tmp_path / "cargo.duckdb")
    with Store(db) as store:
        ingest_files(store, [SAMPLE], "customs_declaration")
    app = typer.Typer()
    cargo_check.register(app)
    app.command("noop")(lambda: None)  # a group, so "check" is a sub-command
    runner = CliRunner()
    result = runner.invoke(app, ["check", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["lines"] == 19
    decisions = {d["line_id"]: d["decision"] for d in out["decisions"]}
    assert decisions["DOJ-20-1791-BELLA/1"] == "prohibited"
    assert decisions["SHTA-CH-IR-2020-01/1"] == "authorized_by_general_license"
    with Store(db, read_only=True) as store:
        first = store.read_events(types=list(EVENT_TYPES))
    assert len(first) == len(out["events"])
    # Once more for one shipment: same events, none doubled.
    again = runner.invoke(app, ["check", "--db", str(db), "--shipment", "DOJ-20-1791-BELLA"])
    assert again.exit_code == 0, again.output
    assert "prohibited" in again.stdout
    with Store(db, read_only=True) as store:
        assert len(store.read_events(types=list(EVENT_TYPES))) == len(first)
    missing = runner.invoke(app, ["check", "--db", str(db), "--shipment", "NOPE"])
    assert missing.exit_code == 1


def test_run_step_ingests_the_sample_and_prints_decisions(
    sdn_db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`watchkeeper run`'s cargo step, twice: the second run finds the file already
    ingested and decides the same lines again, with no doubled events."""
    from tests.conftest import copy_store
    from watchkeeper.cli.cargo_check import run_step

    db = copy_store(sdn_db_path, tmp_path / "run.duckdb")
    data_dir = SAMPLE.parents[1]
    with Store(db) as store:
        run_step(store, data_dir)
        first = store.read_events(types=list(EVENT_TYPES))
        run_step(store, data_dir)
        assert len(store.read_events(types=list(EVENT_TYPES))) == len(first) == 16
    out = capsys.readouterr().out
    assert "DOJ-20-1791-BELLA/1" in out and "E.O. 13846" in out
    assert out.count("19 shipment line(s)") == 2


def test_graph_ownership_blocks_an_unlisted_consignee(sdn_db_path: Path, tmp_path: Path) -> None:
    """Hand-made register (edge condition): an unlisted company 60% owned by the listed
    MOBIN INTERNATIONAL LIMITED is blocked by OFAC's 50% rule; at 40% it is not."""
    from typer.testing import CliRunner

    from tests.conftest import copy_store
    from watchkeeper.cli import app
    from watchkeeper.cli.cargo_check import decide_lines

    db = copy_store(sdn_db_path, tmp_path / "graph.duckdb")
    register = tmp_path / "register.csv"
    register.write_text(
        "owner,owned,share\n"
        "MOBIN INTERNATIONAL LIMITED,Caspian Fuel Trading FZE,60\n"
        "MOBIN INTERNATIONAL LIMITED,Kish Bunker Supply LLC,40\n",
        encoding="utf-8",
    )
    loaded = CliRunner().invoke(app, ["graph", "load", str(register), "--db", str(db)])
    assert loaded.exit_code == 0, loaded.output
    line = ShipmentLine(
        "EDGE-GRAPH", 1, "edge:4", "test", goods="Machinery parts", hs_code="848180",
        origin_country="AE", destination_country="TR", loading_date=date(2024, 2, 1),
        parties=(Party("consignee", "Caspian Fuel Trading FZE", "AE"),),
    )  # fmt: skip
    minority = replace(
        line, line_no=2, parties=(Party("consignee", "Kish Bunker Supply LLC", "AE"),)
    )
    with Store(db, read_only=True) as store:
        (owned, under), note = decide_lines(store, [line, minority], today=date(2026, 12, 5))
    assert "no ownership graph" not in note
    consignee = owned.parties[0]
    assert "blocked_by_ownership" in consignee.statuses
    assert "MOBIN" in consignee.exposure[0][2] and "60" in consignee.exposure[0][2]
    assert owned.decision == "prohibited"
    assert "us-blocking-50-percent-rule" in fired(owned)
    assert under.decision == "allowed"
    assert under.parties[0].statuses == ()


def test_repeated_lines_share_a_decision_but_keep_their_own_line() -> None:
    lines = [medicine_to_iran(line_no=i) for i in range(1, 4)]
    lines.append(medicine_to_iran(line_no=4, loading_date=date(2001, 1, 1)))  # before 560.530
    decisions = check_lines(lines, hs_check=hs, party_checker=lambda n, c: [], rules=RULES)
    assert [d.line_id for d in decisions] == ["EDGE/1", "EDGE/2", "EDGE/3", "EDGE/4"]
    assert [d.decision for d in decisions] == ["authorized_by_general_license"] * 3 + ["prohibited"]
    assert decisions[0].fired == decisions[2].fired
    assert [e.subjects[0] for e in cargo_events(decisions)] == [
        f"cargo:EDGE/{i}" for i in range(1, 5)
    ]
