"""Alerts on real events: the bundled sample shipments (data/cargo/) decided against the
bundled OFAC SDN list (2023-12-28), their decision events stored, then alerts raised."""

from __future__ import annotations

from pathlib import Path

from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.store import get_alert, list_alerts
from watchkeeper.cargo.decide import (
    ScreenerChecks,
    cargo_events,
    check_lines,
    verdict_from_hs_check,
)
from watchkeeper.cargo.hs import check_hs
from watchkeeper.cargo.ingest import lines_of_file
from watchkeeper.cargo.layouts import get_layout
from watchkeeper.cargo.rules import load_rules as load_cargo_rules
from watchkeeper.screening import Screener
from watchkeeper.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cargo" / "sample_shipments.csv"


def test_prohibited_sample_cargo_raises_one_critical_alert_per_line(sdn_db_path: Path) -> None:
    with Store(sdn_db_path, read_only=True) as lists:
        checks = ScreenerChecks(Screener.from_store(lists))
    decisions = check_lines(
        lines_of_file(SAMPLE, get_layout("customs_declaration")),
        hs_check=lambda code, text: verdict_from_hs_check(check_hs(code, text)),
        party_checker=checks.party,
        vessel_checker=checks.vessel,
        rules=load_cargo_rules(),
    )
    events = cargo_events(decisions)
    prohibited = {e.event_id for e in events if e.type == "prohibited_cargo"}
    assert prohibited  # the sample holds the BELLA/BERING gasoline cargoes, among others
    store = Store(":memory:")
    store.write_events(events)

    run = raise_alerts(store)
    alerts = [a for a in list_alerts(store) if a.rule_id == "prohibited-cargo"]
    # each prohibited line is its own subject set: one alert each, and nothing else fires
    assert {i for a in alerts for i in a.event_ids} == prohibited
    assert len(alerts) == len(prohibited) == len(run.created) == len(list_alerts(store))
    assert all(a.severity == "critical" for a in alerts)
    bella = next(a for a in alerts if "cargo:DOJ-20-1791-BELLA/1" in a.subjects)
    detail = get_alert(store, bella.alert_id)
    assert any(ev.startswith("list:") for ev in detail.events[0].evidence)

    again = raise_alerts(store)
    assert (again.created, again.updated, again.unchanged) == ([], [], len(alerts))
