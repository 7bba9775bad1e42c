"""One alert per rule and occurrence: an operator's and its aircraft's events of one
flight, paging and batching that must not change results, review columns kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.alerts._events import event, owner_blocked
from tests.movement.air._support import HANDMADE, load_sdn_subset
from watchkeeper.alerts import engine
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.store import list_alerts
from watchkeeper.movement.air import ingest_paths, run_detectors
from watchkeeper.settings import Settings
from watchkeeper.store.db import Store

FLIGHT = ("icao24:7300f1", "reg:EP-MNG")


def _operator_flight(start_h: float) -> Any:
    return event(
        "listed_operator_flight",
        (*FLIGHT, "ofac-12927"),
        start_h,
        start_h + 13,
        score=1.0,
        params={"callsign": "IRM7150", "departure": "OIIE", "arrival": "SVMI"},
    )


def _aircraft_flight(start_h: float) -> Any:
    return event(
        "listed_aircraft_flight",
        (*FLIGHT, "ofac-12927", "ofac-15438"),
        start_h,
        start_h + 13,
        score=0.95,
        params={"callsign": "IRM7150", "departure": "OIIE", "arrival": "SVMI"},
    )


def test_mahan_flights_on_the_bundled_tracks_raise_one_alert_each(tmp_path: Path) -> None:
    """HAND-MADE Mahan Air rotations (data/adsb) against real SDN rows: each flight has a
    listed-operator and a listed-aircraft event; the rule covering both raises one alert
    per flight naming the operator and the aircraft."""
    store = Store(":memory:")
    load_sdn_subset(store, tmp_path)
    ingest_paths(store, [HANDMADE])
    run_detectors(store, settings=Settings())
    flights = store.read_events(types=["listed_operator_flight", "listed_aircraft_flight"])
    starts = {e.start for e in flights}
    assert len(flights) == 2 * len(starts) == 8

    raise_alerts(store)
    alerts = [a for a in list_alerts(store) if a.rule_id == "listed-operator-flight"]
    assert len(alerts) == len(starts)
    for a in alerts:
        types = sorted(i.split("-")[0] for i in a.event_ids)
        assert types == ["listed_aircraft_flight", "listed_operator_flight"]
        assert {"ofac-12927", "ofac-15438", "icao24:7300f1"} <= set(a.subjects)
        assert set(a.why) == set(a.event_ids)


def test_operator_then_aircraft_event_updates_the_same_alert() -> None:
    store = Store(":memory:")
    store.write_events([_operator_flight(0)])
    (first,) = raise_alerts(store).created
    since = datetime.now(UTC)
    store.write_events([_aircraft_flight(0)])
    run = raise_alerts(store, since=since)
    assert (run.created, run.updated) == ([], [first])
    (alert,) = list_alerts(store)
    assert alert.alert_id == first and alert.revision == 2
    assert "ofac-15438" in alert.subjects and len(alert.event_ids) == 2
    # a full run over the same events, in a fresh store, gives one alert too
    fresh = Store(":memory:")
    fresh.write_events([_operator_flight(0), _aircraft_flight(0)])
    raise_alerts(fresh)
    (again,) = list_alerts(fresh)
    assert sorted(again.subjects) == sorted(alert.subjects)
    assert sorted(again.event_ids) == sorted(alert.event_ids)


def test_different_flights_and_different_parties_stay_apart() -> None:
    store = Store(":memory:")
    store.write_events(
        [
            _operator_flight(0),
            _aircraft_flight(48),  # another flight: windows do not overlap
            # one report naming two listed parties: neither mention contains the other
            event("report_mention", ("doc:d1", "ofac-1"), 0, 0, score=0.9),
            event("report_mention", ("doc:d1", "ofac-2"), 0, 0, score=0.9),
        ]
    )
    raise_alerts(store)
    by_rule: dict[str, int] = {}
    for a in list_alerts(store):
        by_rule[a.rule_id] = by_rule.get(a.rule_id, 0) + 1
    assert by_rule == {"listed-operator-flight": 2, "report-mention": 2}


def test_update_keeps_review_state_assignee_and_case() -> None:
    store = Store(":memory:")
    subjects = ("mmsi:1", "imo:9000001")
    store.write_events(
        [owner_blocked("imo:9000001", "ofac-1"), event("encounter", subjects, 0, 2, score=0.7)]
    )
    raise_alerts(store)
    (alert,) = [a for a in list_alerts(store) if a.rule_id == "listed-vessel-encounter"]
    store.con.execute(
        "UPDATE alerts SET state = 'in_review', assignee = 'ana', case_id = 'case-1' "
        "WHERE alert_id = ?",
        [alert.alert_id],
    )
    since = datetime.now(UTC)
    store.write_events([event("encounter", subjects, 1, 5, score=0.9)])
    assert raise_alerts(store, since=since).updated == [alert.alert_id]
    (after,) = [a for a in list_alerts(store) if a.rule_id == "listed-vessel-encounter"]
    assert (after.state, after.assignee, after.case_id) == ("in_review", "ana", "case-1")
    assert after.revision == 2 and after.score == 0.9


def _many_events() -> list[Any]:
    out = [owner_blocked(f"imo:90000{i:02d}", f"ofac-{i}") for i in range(6)]
    for i in range(6):
        mmsi = f"mmsi:2730000{i:02d}"
        out.append(event("voyage", (mmsi, f"imo:90000{i:02d}"), 0, 1, score=0.2))
        for k in range(4):
            out.append(event("ais_gap", (mmsi,), 10 + 30 * k, 20 + 30 * k, score=0.4))
            out.append(event("ais_gap", (mmsi,), 15 + 30 * k, 25 + 30 * k, score=0.4))
        out.append(event("port_call", (mmsi,), 30 + i, 40 + i, params={"sanctioned": i % 2 == 0}))
    return out


def _snapshot(store: Store) -> list[tuple[Any, ...]]:
    return store.con.execute(
        "SELECT alert_id, subjects, start_time, end_time, score, event_ids, why, revision "
        "FROM alerts ORDER BY alert_id"
    ).fetchall()


def test_pages_and_batches_do_not_change_the_alerts(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = Store(":memory:")
    whole.write_events(_many_events())
    raise_alerts(whole)
    expected = _snapshot(whole)
    assert len(expected) > 10

    monkeypatch.setattr(engine, "PAGE_ROWS", 1)
    monkeypatch.setattr(engine, "FLUSH_CLUSTERS", 1)
    paged = Store(":memory:")
    paged.write_events(_many_events())
    run = raise_alerts(paged)
    assert _snapshot(paged) == expected
    assert run.events_read == len({i for r in expected for i in r[5] if "port_call" not in i})
    again = raise_alerts(paged)
    assert (again.created, again.updated) == ([], [])


def test_boolean_parameter_keeps_python_equality() -> None:
    """The SQL pre-filter must not drop what the rule accepts: ``sanctioned = 1`` equals
    ``true`` in the rule, as it always did."""
    store = Store(":memory:")
    store.write_events(
        [
            event("ais_gap", ("mmsi:273000001",), 100, 110, score=0.4),
            event("port_call", ("mmsi:273000001",), 120, 130, params={"sanctioned": 1}),
        ]
    )
    raise_alerts(store)
    assert [a.rule_id for a in list_alerts(store)] == ["ais-gap-near-sanctioned-port"]
