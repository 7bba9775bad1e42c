"""owned_by_blocked and vessel_owner_blocked on OFAC-guidance-shaped graphs, with the
rules of graph.control; written and replaced whole in the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.conftest import DATA, copy_store
from tests.graph._views import View, own, shadow_fleet_view, view
from watchkeeper.events.model import Event
from watchkeeper.graph.control import assess
from watchkeeper.graph.events import (
    EVENT_TYPES,
    OWNED_BY_BLOCKED,
    VESSEL_OWNER_BLOCKED,
    assess_all,
    graph_events,
    owned_by_blocked,
    vessel_owner_blocked,
    write_graph_events,
)
from watchkeeper.graph.model import GraphBatch, Node, Relation, Share
from watchkeeper.graph.resolve import Resolution
from watchkeeper.graph.store import store_graph_batch
from watchkeeper.store import Store

DAY = date(2024, 6, 1)


def _events(g: View) -> list[Event]:
    return graph_events(g, assess_all(g, DAY), DAY)


# OFAC 2014 guidance, example 4 (FAQ 399): blocked X owns 25% of C and blocked Y owns
# 25% of C: C is blocked in the aggregate. D, 10% X, is not.
AGG = view(
    [
        own("x-c", "X", "C", 0.25, start=date(2018, 5, 1)),
        own("y-c", "Y", "C", 0.25, start=date(2020, 2, 1)),
        own("x-d", "X", "D", 0.1),
    ],
    names={"C": "Entity C"},
    ofac={"X", "Y"},
)


def test_aggregate_ownership_event_names_chain_and_listed_owners() -> None:
    found = [e for e in _events(AGG) if e.type == OWNED_BY_BLOCKED]
    assert [e.subjects for e in found] == [("C",)]
    (e,) = found
    assert set(e.evidence) == {"rel:x-c", "rel:y-c", "list:X", "list:Y"}
    assert e.score == 1.0
    assert e.detail.startswith("Entity C is not listed but OFAC blocked: 50%")
    assert e.params["regimes"]["ofac"]["status"] == "blocked"
    assert sorted(e.params["regimes"]["ofac"]["chain"]) == ["x-c", "y-c"]
    assert e.params["regimes"]["ofac"]["exposure"]["aggregate"]["low"] == 0.5
    # EU aggregates too; the UK does not (25% each is no one's majority).
    assert set(e.params["regimes"]) == {"ofac"}  # only OFAC's list names X and Y here
    # The chain holds since its latest statement began.
    assert e.start == datetime(2020, 2, 1, tzinfo=UTC)
    assert e.end == datetime(2024, 6, 1, tzinfo=UTC)


def test_indirect_chain_through_a_blocked_intermediate() -> None:
    # FAQ 401: X owns 50% of A, A owns 50% of B: A and B are both blocked.
    g = view([own("1", "X", "A", 0.5), own("2", "A", "B", 0.5)], ofac={"X"})
    found = {e.subjects[0]: e for e in _events(g) if e.type == OWNED_BY_BLOCKED}
    assert set(found) == {"A", "B"}
    assert set(found["B"].evidence) >= {"rel:2"}
    assert "list:X" in found["A"].evidence


def test_listed_parties_and_minority_holdings_raise_nothing() -> None:
    g = view([own("1", "X", "A", 0.49)], ofac={"X", "Z"})
    assert owned_by_blocked(g, assess_all(g, DAY), DAY) == []


def test_possibly_blocked_is_an_event_of_lower_score_saying_so() -> None:
    g = view(
        [Relation(id="r", kind="ownership", holder="X", held="P", share=Share(0.25, 0.75))],
        ofac={"X"},
    )
    (e,) = owned_by_blocked(g, assess_all(g, DAY), DAY)
    assert e.score == 0.5 and "possibly blocked" in e.detail
    assert e.params["regimes"]["ofac"]["status"] == "possibly_blocked"


def test_vessel_whose_manager_is_blocked_by_ownership() -> None:
    g = view(
        [
            own("1", "X", "M", 0.6),
            own("2", "M", "imo:9187629", None, "vessel_manager", role="ISM Manager"),
            own("3", "O", "imo:9187629", None, "vessel_owner", start=date(2021, 1, 1)),
        ],
        names={"M": "Manager Co", "imo:9187629": "OCEAN STAR"},
        ofac={"X"},
    )
    (e,) = vessel_owner_blocked(g, assess_all(g, DAY), DAY)
    assert e.subjects == ("imo:9187629",)
    assert e.evidence == ("rel:2", "rel:1", "list:X")
    assert (
        e.detail
        == "vessel OCEAN STAR: ism manager Manager Co is blocked by ownership (ofac: blocked)"
    )
    assert e.params["owners"][0]["chain"] == ["1"]


def test_vessel_whose_registered_owner_is_listed_and_an_ended_statement() -> None:
    g = view(
        [
            own("o", "X", "V", None, "vessel_owner", start=date(2019, 1, 1)),
            own("m", "X", "W", None, "vessel_manager", end=date(2023, 1, 1)),
        ],
        schemas={"V": "Vessel", "W": "Vessel"},
        ofac={"X"},
    )
    (e,) = vessel_owner_blocked(g, assess_all(g, DAY), DAY)  # W's manager left in 2023
    assert e.subjects == ("V",) and e.evidence == ("rel:o", "list:X") and e.score == 1.0
    assert e.detail == "vessel V: registered owner X is listed (ofac)"


def test_real_fleet_vessels_of_a_listed_manager() -> None:
    # The real owner/manager history, with one real ISM manager taken as listed.
    fleet = shadow_fleet_view(DAY)
    fleet.listed["ofac"] = {"imo_company:6450201"}
    found = vessel_owner_blocked(
        fleet, {"ofac": assess(fleet.relations, {"imo_company:6450201"}, "ofac", as_of=DAY)}, DAY
    )
    managed = {r.held for r in fleet.relations if r.holder == "imo_company:6450201"}
    assert {e.subjects[0] for e in found} == managed
    # 38 as ISM manager on that day and one as ship/commercial manager only.
    assert len(found) == 39
    assert all("list:imo_company:6450201" in e.evidence for e in found)
    assert all(e.score == 1.0 and e.detail.count("is listed (ofac)") >= 1 for e in found)


def test_write_replaces_the_two_types_and_nothing_else(store: Store) -> None:
    other = Event(
        type="port_call",
        subjects=("imo:1",),
        start=datetime(2024, 1, 1, tzinfo=UTC),
        end=datetime(2024, 1, 2, tzinfo=UTC),
        score=1.0,
        detail="x",
    )
    store.write_events([other, *_events(AGG)])
    assert {e.type for e in store.read_events()} == {"port_call", OWNED_BY_BLOCKED}
    less = view([own("x-c", "X", "C", 0.25)], ofac={"X"})  # Y's share gone: C not blocked
    store.write_events(_events(less), replace_types=EVENT_TYPES)
    assert [e.type for e in store.read_events()] == ["port_call"]


# -- real data: the bundled OFAC SDN trio and the shadow-fleet history, stored ----------


@pytest.fixture(scope="module")
def sdn_and_fleet(tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path) -> Iterator[Store]:
    from watchkeeper.graph.shadow_fleet import read_shadow_fleet

    path = copy_store(sdn_db_path, tmp_path_factory.mktemp("events") / "fleet.duckdb")
    with Store(path) as s:
        store_graph_batch(s, read_shadow_fleet(DATA / "shadow_fleet"))
        yield s


def test_real_listed_ship_manager_flags_its_vessels(sdn_and_fleet: Store) -> None:
    counts = write_graph_events(sdn_and_fleet, DAY)
    assert counts[VESSEL_OWNER_BLOCKED] >= 1
    found = sdn_and_fleet.read_events(types=[VESSEL_OWNER_BLOCKED], subject="imo:9255270")
    (e,) = found
    # NP DIKSON: NORD PROJECT LLC (OFAC-listed, entry 37062) is its owner and ISM manager in
    # the shadow-fleet history.
    assert "list:ofac-37062" in e.evidence
    assert any(x.startswith("rel:shadow_fleet:9255270:") for x in e.evidence)
    assert "ism manager NORD PROJECT LLC TRANSPORT COMPANY is listed (ofac)" in e.detail
    # Recomputing replaces: the same events, not twice as many.
    assert write_graph_events(sdn_and_fleet, DAY) == counts
    assert (
        len(sdn_and_fleet.read_events(types=[VESSEL_OWNER_BLOCKED])) == counts[VESSEL_OWNER_BLOCKED]
    )


def test_real_listed_owner_blocks_an_unlisted_company_of_a_register(
    sdn_and_fleet: Store,
) -> None:
    # A register stating that NORD PROJECT LLC (listed) owns 60% of a company no list names.
    batch = GraphBatch(
        source="register",
        files=["register.csv"],
        nodes=[
            Node("register:np", "NORD PROJECT LLC TRANSPORT COMPANY", "Company"),
            Node("register:sub", "Nord Subsidiary", "Company"),
        ],
        relations=[own("register:r1", "register:np", "register:sub", 0.6)],
    )
    store_graph_batch(
        sdn_and_fleet, batch, resolutions={"register:np": Resolution("ofac-37062", "name", 1.0)}
    )
    counts = write_graph_events(sdn_and_fleet, DAY)
    assert counts[OWNED_BY_BLOCKED] == 1
    (e,) = sdn_and_fleet.read_events(types=[OWNED_BY_BLOCKED])
    assert e.subjects == ("register:sub",)
    assert set(e.evidence) == {"rel:register:r1", "list:ofac-37062"}
    assert "Nord Subsidiary is not listed but OFAC blocked: 60%" in e.detail
