"""The alert engine on hand-made events: conditions, windows, dedupe, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.alerts._events import event, owner_blocked
from watchkeeper.alerts import engine
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.store import get_alert, list_alerts
from watchkeeper.errors import InputError
from watchkeeper.store.db import Store


def _alerts(store: Store) -> list[tuple[Any, ...]]:
    return store.con.execute("SELECT * FROM alerts ORDER BY alert_id").fetchall()


def _rule_alerts(store: Store, rule_id: str) -> list[Any]:
    return [a for a in list_alerts(store) if a.rule_id == rule_id]


@pytest.mark.parametrize(("minutes_apart", "fires"), [(48 * 60 - 1, True), (48 * 60 + 1, False)])
def test_gap_near_sanctioned_port_call_window(minutes_apart: int, fires: bool) -> None:
    store = Store(":memory:")
    gap_end_h = 110.0
    call_start_h = gap_end_h + minutes_apart / 60
    store.write_events(
        [
            event("ais_gap", ("mmsi:273000001",), 100, gap_end_h, score=0.4),
            event(
                "port_call",
                ("mmsi:273000001",),
                call_start_h,
                call_start_h + 12,
                params={"sanctioned": True, "port_country": "ve"},
            ),
            # an unsanctioned call right after the gap never counts
            event("port_call", ("mmsi:273000001",), 111, 115, params={"sanctioned": False}),
        ]
    )
    raise_alerts(store)
    alerts = _rule_alerts(store, "ais-gap-near-sanctioned-port")
    assert len(alerts) == (1 if fires else 0)
    if fires:
        (alert,) = alerts
        assert len(alert.event_ids) == 2  # the gap and the sanctioned port call
        (why,) = alert.why.values()
        assert any("port_call" in w and "within 48 h" in w for w in why)


def test_listed_condition_follows_blocked_owners() -> None:
    store = Store(":memory:")
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            event("encounter", ("mmsi:1", "imo:9000001", "mmsi:2"), 0, 2, score=0.7),
            event("encounter", ("mmsi:3", "mmsi:4"), 0, 2, score=0.7),
        ]
    )
    raise_alerts(store)
    (alert,) = _rule_alerts(store, "listed-vessel-encounter")
    assert alert.subjects == sorted(["mmsi:1", "imo:9000001", "mmsi:2"])
    assert alert.severity == "high"
    assert alert.state == "new"


def test_overlapping_windows_update_one_alert_and_rerun_changes_nothing() -> None:
    store = Store(":memory:")
    subjects = ("mmsi:1", "imo:9000001")
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            event("encounter", subjects, 0, 2, score=0.7),
            event("encounter", subjects, 1, 3, score=0.9),  # overlaps the first
            event("encounter", subjects, 10, 12, score=0.7),  # does not
        ]
    )
    first = raise_alerts(store)
    alerts = sorted(_rule_alerts(store, "listed-vessel-encounter"), key=lambda a: a.start_time)
    assert [len(a.event_ids) for a in alerts] == [2, 1]
    assert alerts[0].score == 0.9
    assert alerts[0].end_time == event("encounter", subjects, 1, 3).end
    before = _alerts(store)

    again = raise_alerts(store)
    assert again.created == [] and again.updated == []
    assert again.unchanged == len(first.created)
    assert _alerts(store) == before

    since = datetime.now(UTC)
    store.write_events([event("encounter", subjects, 11, 14, score=0.8)])
    run = raise_alerts(store, since=since)
    later = alerts[1]
    assert run.created == []
    assert run.updated == [later.alert_id]
    updated = get_alert(store, later.alert_id)
    assert updated.alert.revision == 2
    assert len(updated.alert.event_ids) == 2
    assert updated.alert.end_time == event("encounter", subjects, 11, 14).end
    assert {e.event_id for e in updated.events} == set(updated.alert.event_ids)
    assert all(e.evidence for e in updated.events)
    # the other alert is untouched
    assert get_alert(store, alerts[0].alert_id).alert.revision == 1


def test_alert_id_is_deterministic_across_stores() -> None:
    ids = []
    for _ in range(2):
        store = Store(":memory:")
        store.write_events(
            [owner_blocked("imo:9000001", "ofac-1"), event("ais_gap", ("imo:9000001",), 5, 20)]
        )
        raise_alerts(store)
        ids.append(sorted(a.alert_id for a in list_alerts(store)))
    assert ids[0] == ids[1]
    assert "listed-vessel-ais-gap-" + ids[0][0].split("-")[-1] in ids[0]


def test_a_failed_run_stores_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = Store(":memory:")
    store.write_events(
        [owner_blocked("imo:9000001", "ofac-1"), owner_blocked("imo:9000002", "ofac-2")]
    )
    calls = {"n": 0}
    real = engine.alert_id

    def failing(*args: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(engine, "alert_id", failing)
    with pytest.raises(RuntimeError):
        raise_alerts(store)
    assert _alerts(store) == []
    (tmp_path / "bad.toml").write_text('[[rule]]\nid = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match="bad.toml"):
        raise_alerts(store, rules_dir=tmp_path)
    assert _alerts(store) == []


def test_list_filters_and_unknown_alert() -> None:
    store = Store(":memory:")
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            event(
                "prohibited_cargo",
                ("cargo:X/1", "ofac-1"),
                0,
                24,
                score=1.0,
                params={"decision": "prohibited", "source_ref": "x.csv:2"},
            ),
            event("prohibited_cargo", ("cargo:Y/1",), 0, 24, params={"decision": "review"}),
        ]
    )
    raise_alerts(store)
    critical = list_alerts(store, severity="critical")
    assert [a.rule_id for a in critical] == ["prohibited-cargo"]
    assert critical[0].title.startswith("Prohibited cargo x.csv:2")
    assert {a.rule_id for a in list_alerts(store, severity="high")} == {"vessel-owner-blocked"}
    assert list_alerts(store, state="dismissed") == []
    with pytest.raises(InputError, match="severity"):
        list_alerts(store, severity="urgent")
    with pytest.raises(InputError, match="no alert"):
        get_alert(store, "nope")


def test_mmsi_listed_through_vessel_links_and_shared_identity() -> None:
    store = Store(":memory:")
    store.con.execute(
        "INSERT INTO vessel_links VALUES (273000009, 'ofac-9', 'imo', 1.0, 'broadcast IMO', "
        "[], now())"
    )
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            # a voyage names MMSI 273000001 and the blocked IMO: the same vessel
            event("voyage", ("mmsi:273000001", "imo:9000001"), 0, 5, score=0.2),
            event("ais_gap", ("mmsi:273000001",), 10, 20, score=0.4),
            event("ais_gap", ("mmsi:273000009",), 10, 20, score=0.4),
            event("ais_gap", ("mmsi:273000002",), 10, 20, score=0.4),
        ]
    )
    raise_alerts(store)
    gaps = {a.subjects[0]: a for a in _rule_alerts(store, "listed-vessel-ais-gap")}
    assert set(gaps) == {"mmsi:273000001", "mmsi:273000009"}
    (why_linked,) = gaps["mmsi:273000009"].why.values()
    assert any("linked to listed ofac-9" in w for w in why_linked)
    (why_same,) = gaps["mmsi:273000001"].why.values()
    assert any("is the vessel imo:9000001" in w for w in why_same)


def test_since_reevaluates_older_events_a_new_one_completes() -> None:
    store = Store(":memory:")
    store.write_events(
        [
            event("ais_gap", ("mmsi:273000001",), 100, 110, score=0.4),
            event("ais_gap", ("mmsi:273000002",), 100, 110, score=0.4),
        ]
    )
    assert raise_alerts(store).created == []
    since = datetime.now(UTC)
    store.write_events(
        [event("port_call", ("mmsi:273000001",), 120, 130, params={"sanctioned": True})]
    )
    run = raise_alerts(store, since=since)
    (alert,) = list_alerts(store)
    assert run.created == [alert.alert_id]
    assert alert.rule_id == "ais-gap-near-sanctioned-port"
    assert alert.subjects == ["mmsi:273000001"]
