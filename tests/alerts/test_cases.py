"""Cases: alerts joined by vessel identity, ownership, operators, shipments and reports;
the hop cap and the hub rule; stable ids; evidence two steps from each alert; and the
founding report's case on the bundled data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.alerts._events import event
from tests.cli_helpers import run_cli
from tests.conftest import DATA
from watchkeeper.alerts.cases import (
    HUB_NEIGHBOURS,
    MAX_LINK_HOPS,
    build_cases,
    case_file,
    case_of_document,
    get_case,
    list_cases,
)
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.errors import InputError
from watchkeeper.graph.model import GraphBatch, Node, Relation
from watchkeeper.graph.store import store_graph_batch
from watchkeeper.store import Store

T0 = datetime(2024, 4, 2, tzinfo=UTC)


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store(":memory:")
    try:
        yield s
    finally:
        s.close()


def alert(
    store: Store,
    subjects: list[str],
    *,
    rule: str = "vessel-owner-blocked",
    severity: str = "high",
    day: int = 0,
    event_ids: list[str] | None = None,
) -> str:
    """An alert row as the engine writes it (the case builder reads only these)."""
    aid = f"{rule}-{hashlib.sha1('|'.join(sorted(subjects)).encode()).hexdigest()[:16]}"
    start = T0 + timedelta(days=day)
    store.con.execute(
        "INSERT INTO alerts (alert_id, rule_id, severity, title, subjects, start_time, end_time, "
        "score, event_ids, why, state, revision, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 0.5, ?, '{}', 'new', 1, ?, ?)",
        [
            aid,
            rule,
            severity,
            f"alert on {subjects}",
            subjects,
            start,
            start,
            event_ids or [],
            start,
            start,
        ],
    )
    return aid


def case_sets(store: Store) -> set[frozenset[str]]:
    """Each case's alert ids, after building."""
    build_cases(store)
    return {frozenset(c.alert_ids) for c in list_cases(store)}


def together(store: Store, a: str, b: str) -> bool:
    return any({a, b} <= ids for ids in case_sets(store))


def graph(store: Store, nodes: list[Node], relations: list[Relation]) -> None:
    store_graph_batch(
        store,
        GraphBatch(source="register", files=["register.csv"], nodes=nodes, relations=relations),
    )


def company(node_id: str) -> Node:
    return Node(id=node_id, name=node_id.upper(), schema="Company", source_ref="register.csv:1")


def vessel(node_id: str, imo: str) -> Node:
    return Node(
        id=node_id,
        name=node_id.upper(),
        schema="Vessel",
        identifiers={"imo": (imo,)},
        source_ref="register.csv:2",
    )


def owns(holder: str, held: str, n: int = 0) -> Relation:
    return Relation(
        id=f"r{n}-{holder}-{held}",
        kind="ownership",
        holder=holder,
        held=held,
        source_ref=f"register.csv:{n}",
    )


# --- joins by link kind ----------------------------------------------------------------


def test_alerts_sharing_a_subject_join_and_strangers_do_not(store: Store) -> None:
    a = alert(store, ["mmsi:211000001", "mmsi:211000002"], rule="listed-vessel-encounter")
    b = alert(store, ["mmsi:211000002"], rule="listed-vessel-ais-gap")
    c = alert(store, ["mmsi:999000003"], rule="listed-vessel-ais-gap")
    assert case_sets(store) == {frozenset({a, b}), frozenset({c})}
    detail = get_case(store, next(cs.case_id for cs in list_cases(store) if a in cs.alert_ids))
    kinds = {link["kind"] for link in detail.case.links}
    assert kinds == {"same_alert", "alert_subject"}  # nothing else was needed
    lone = next(cs for cs in list_cases(store) if c in cs.alert_ids)
    assert lone.links == [
        {"from": c, "to": "mmsi:999000003", "kind": "alert_subject", "evidence": [c]}
    ]


def test_vessel_link_joins_an_mmsi_to_its_list_entity(store: Store) -> None:
    a = alert(store, ["mmsi:273000001"])
    b = alert(store, ["ofac-100"], rule="report-mention")
    assert not together(store, a, b)
    store.con.execute(
        "INSERT INTO vessel_links VALUES (273000001, 'ofac-100', 'imo', 1.0, 'same IMO', [], ?)",
        [T0],
    )
    assert together(store, a, b)
    case = list_cases(store)[0]
    assert {
        "from": "mmsi:273000001",
        "to": "ofac-100",
        "kind": "vessel_identity",
        "evidence": ["vessel_link:273000001:ofac-100", "imo 1.00"],
    } in case.links


def test_an_event_naming_one_mmsi_and_one_imo_joins_them_but_two_mmsis_do_not(
    store: Store,
) -> None:
    a = alert(store, ["mmsi:273000001"])
    b = alert(store, ["imo:9000001"])
    store.write_events(
        [event("loitering", ("mmsi:273000001", "mmsi:273000002", "imo:9000001"), 0, 5)]
    )
    assert not together(store, a, b)  # which of the two MMSIs is the IMO's? not said
    store.write_events([event("voyage", ("mmsi:273000001", "imo:9000001"), 0, 5)])
    assert together(store, a, b)


def test_ownership_in_the_graph_joins_a_vessel_to_its_owner(store: Store) -> None:
    a = alert(store, ["imo:9000001"], rule="listed-vessel-ais-gap")
    b = alert(store, ["acme"], rule="report-mention")
    graph(store, [company("acme"), vessel("v1", "9000001")], [owns("acme", "v1")])
    assert together(store, a, b)
    case = list_cases(store)[0]
    assert "v1" in case.subjects  # the registry's vessel, on the path, is in the case
    kinds = {link["kind"] for link in case.links}
    assert {"registry_identity", "ownership"} <= kinds


def test_a_blocked_owner_named_by_an_event_joins_its_vessel(store: Store) -> None:
    a = alert(store, ["ofac-200"], rule="vessel-owner-blocked")
    b = alert(store, ["ofac-300"], rule="report-mention")
    store.write_events(
        [
            event(
                "vessel_owner_blocked",
                ("imo:9000002",),
                0,
                0,
                params={"vessel": "ofac-200", "owners": [{"holder": "ofac-300"}]},
            )
        ]
    )
    assert together(store, a, b)
    assert any(link["kind"] == "owner_blocked" for link in list_cases(store)[0].links)


def test_aircraft_hex_and_registration_join(store: Store) -> None:
    a = alert(store, ["icao24:7300f1"], rule="sanctioned-route")
    b = alert(store, ["reg:EP-MNG"], rule="manifest-track-mismatch")
    assert not together(store, a, b)
    store.con.execute(
        "INSERT INTO air_aircraft (icao24, registration, registration_source, callsigns, "
        "n_states) VALUES ('7300f1', 'EP-MNG', 'source', [], 1)"
    )
    assert together(store, a, b)


def test_an_aircraft_operator_in_the_graph_joins_its_flights_to_the_operator(
    store: Store,
) -> None:
    a = alert(store, ["reg:EP-MNG"], rule="sanctioned-route")
    b = alert(store, ["mahan"], rule="report-mention")
    plane = Node(id="ep-mng", name="EP-MNG", schema="Airplane", source_ref="r.csv:1")
    graph(
        store,
        [company("mahan"), plane],
        [Relation(id="op", kind="aircraft_operator", holder="mahan", held="ep-mng")],
    )
    # No identity between reg:EP-MNG and the graph's aircraft node: not joined.
    assert not together(store, a, b)
    b2 = alert(store, ["ep-mng"], rule="listed-operator-flight")
    assert together(store, b, b2)


def test_a_shipment_line_joins_the_vessel_it_names(store: Store) -> None:
    a = alert(store, ["cargo:S1/1"], rule="prohibited-cargo", severity="critical")
    b = alert(store, ["imo:9283760"], rule="listed-vessel-ais-gap")
    assert not together(store, a, b)
    store.con.execute(
        "INSERT INTO shipment_lines (line_id, batch_id, shipment_id, line_no, source_ref, layout, "
        "mode, parties, goods, quantity_unit, vessel_imo, transit_countries, end_use, notes) "
        "VALUES ('S1/1', 1, 'S1', 1, 'x.csv:2', 'customs_declaration', 'sea', '[]', 'Gasoline', "
        "'', '9283760', [], '', [])"
    )
    assert together(store, a, b)


def mention(store: Store, doc: str, entity: str, start: int, score: float) -> None:
    store.con.execute(
        "INSERT INTO document_mentions VALUES (?, ?, ?, ?, 'x', 'party', ?, ?, 'test', '{}')",
        [doc, f"{doc}#{start}-{start + 1}", start, start + 1, entity, score],
    )


def test_parties_named_in_the_same_report_join_when_the_mention_is_sure(store: Store) -> None:
    a = alert(store, ["ofac-1"], rule="prohibited-cargo")
    b = alert(store, ["ofac-2"], rule="listed-operator-flight")
    mention(store, "d1", "ofac-1", 10, 0.95)
    mention(store, "d1", "ofac-2", 20, 0.5)  # below the report-mention rule's bar
    assert not together(store, a, b)
    mention(store, "d1", "ofac-2", 30, 0.9)
    assert together(store, a, b)
    case = list_cases(store)[0]
    assert "doc:d1" in case.subjects
    assert any(
        link["kind"] == "named_in_report" and "doc:d1#30-31" in link["evidence"]
        for link in case.links
    )


# --- limits ----------------------------------------------------------------------------


def test_a_hub_joins_nothing_through_itself_but_its_own_links_count(store: Store) -> None:
    # One company owning more vessels than HUB_NEIGHBOURS: two of its vessels alerted on.
    n = HUB_NEIGHBOURS + 1
    vessels = [vessel(f"v{i}", f"{9100000 + i}") for i in range(n)]
    graph(store, [company("hub"), *vessels], [owns("hub", f"v{i}", i) for i in range(n)])
    a = alert(store, ["imo:9100000"])
    b = alert(store, ["imo:9100001"])
    assert not together(store, a, b)
    # The hub itself alerted on: its direct links to the anchors join all three.
    c = alert(store, ["hub"], rule="report-mention")
    assert case_sets(store) == {frozenset({a, b, c})}


def test_a_small_owner_joins_its_vessels(store: Store) -> None:
    n = HUB_NEIGHBOURS  # not more: not a hub
    vessels = [vessel(f"v{i}", f"{9100000 + i}") for i in range(n)]
    graph(store, [company("owner"), *vessels], [owns("owner", f"v{i}", i) for i in range(n)])
    a = alert(store, ["imo:9100000"])
    b = alert(store, ["imo:9100001"])
    assert together(store, a, b)


def test_paths_longer_than_the_cap_do_not_join(store: Store) -> None:
    assert MAX_LINK_HOPS == 2
    a = alert(store, ["a"], rule="report-mention")
    b = alert(store, ["b"], rule="report-mention")
    graph(
        store,
        [company(x) for x in ("a", "x", "y", "b")],
        [owns("a", "x", 1), owns("x", "y", 2), owns("y", "b", 3)],
    )
    assert not together(store, a, b)  # three links
    with store.transaction() as con:
        con.execute("DELETE FROM graph_relations")
        con.execute("DELETE FROM graph_nodes")
        con.execute("DELETE FROM graph_versions")
    graph(store, [company(x) for x in ("a", "x", "b")], [owns("a", "x", 1), owns("x", "b", 2)])
    assert together(store, a, b)  # two


def test_a_shared_country_or_programme_is_not_a_link(store: Store) -> None:
    a = alert(store, ["cargo:A/1"], rule="prohibited-cargo")
    b = alert(store, ["cargo:B/1"], rule="prohibited-cargo")
    for line in ("A/1", "B/1"):
        store.con.execute(
            "INSERT INTO shipment_lines (line_id, batch_id, shipment_id, line_no, source_ref, "
            "layout, mode, parties, goods, quantity_unit, origin_country, destination_country, "
            "transit_countries, end_use, notes) VALUES (?, 1, ?, 1, 'x.csv:2', 'c', 'sea', "
            '\'[{"role": "consignee", "name": "Same Buyer", "country": "VE"}]\', '
            "'Gasoline', '', 'IR', 'VE', [], '', [])",
            [line, line[0]],
        )
    assert not together(store, a, b)


# --- ids, idempotence, score -------------------------------------------------------------


def test_case_ids_are_stable_and_a_rerun_changes_nothing(store: Store) -> None:
    a = alert(store, ["mmsi:211000001", "mmsi:211000002"], rule="listed-vessel-encounter")
    alert(store, ["ofac-9"], rule="report-mention", severity="medium")
    first = build_cases(store)
    assert len(first.created) == 2 and not first.updated
    cases = {c.case_id: c for c in list_cases(store)}
    expected = (
        "case-" + hashlib.sha1("\x1fmmsi:211000001\x1fmmsi:211000002"[1:].encode()).hexdigest()[:12]
    )
    assert expected in cases and a in cases[expected].alert_ids
    assert store.con.execute("SELECT case_id FROM alerts WHERE alert_id = ?", [a]).fetchone() == (
        expected,
    )

    again = build_cases(store)
    assert (again.created, again.updated, again.removed) == ([], [], [])
    assert sorted(again.unchanged) == sorted(cases)
    assert {c.case_id: c.built_at for c in list_cases(store)} == {
        k: v.built_at for k, v in cases.items()
    }
    # Wiped and rebuilt: the same ids.
    store.con.execute("DELETE FROM cases")
    rebuilt = build_cases(store)
    assert sorted(rebuilt.created) == sorted(cases)


def test_a_new_alert_joining_a_case_replaces_it(store: Store) -> None:
    a = alert(store, ["mmsi:211000001"])
    build_cases(store)
    old = list_cases(store)[0].case_id
    b = alert(store, ["mmsi:211000001", "imo:9000009"], rule="listed-vessel-ais-gap")
    run = build_cases(store)
    assert run.removed == [old] and len(run.created) == 1
    assert set(list_cases(store)[0].alert_ids) == {a, b}


def test_score_is_the_weighted_sum_of_its_parts(store: Store) -> None:
    alert(store, ["ofac-1"], rule="prohibited-cargo", severity="critical")
    alert(store, ["ofac-1", "icao24:abc"], rule="listed-operator-flight", severity="high")
    alert(store, ["zzz"], rule="report-mention", severity="low", day=-400)
    build_cases(store)
    big, small = list_cases(store)
    for case in (big, small):
        parts = {p["part"]: p for p in case.score_parts}
        assert sum(p["weight"] for p in parts.values()) == pytest.approx(1.0)
        assert case.score == pytest.approx(
            sum(p["value"] * p["weight"] for p in parts.values()), abs=1e-4
        )
        assert 0.0 <= case.score <= 1.0
    assert {p["part"]: p["value"] for p in big.score_parts}["severity"] == 1.0
    assert {p["part"]: p["value"] for p in small.score_parts}["recency"] < 0.5
    assert big.score > small.score


def test_an_unknown_case_is_an_input_error(store: Store) -> None:
    with pytest.raises(InputError, match="no case"):
        get_case(store, "case-000000000000")


# --- evidence two steps from each alert --------------------------------------------------


def test_every_evidence_id_of_every_event_is_resolved(store: Store) -> None:
    store.con.execute(
        "INSERT INTO shipment_lines (line_id, batch_id, shipment_id, line_no, source_ref, layout, "
        "mode, parties, goods, quantity_unit, transit_countries, end_use, notes) "
        "VALUES ('S1/1', 1, 'S1', 1, 'x.csv:2', 'c', 'sea', '[]', 'Gasoline', '', [], '', [])"
    )
    store.write_events(
        [
            event(
                "prohibited_cargo",
                ("cargo:S1/1", "imo:9000001"),
                0,
                0,
                score=1.0,
                params={"decision": "prohibited"},
                evidence=("cargo:S1/1", "ais:12345"),
            ),
        ]
    )
    raise_alerts(store)
    build_cases(store)
    detail = get_case(store, list_cases(store)[0].case_id)
    event_ids = [t.id for t in detail.timeline if t.kind == "event"]
    rows = store.con.execute(
        "SELECT evidence FROM events WHERE event_id IN (SELECT unnest(?))", [event_ids]
    ).fetchall()
    named = {ev for (evidence,) in rows for ev in evidence}
    assert named == {e.id for e in detail.evidence}
    by_id = {e.id: e for e in detail.evidence}
    assert by_id["cargo:S1/1"].kind == "shipment_line"
    assert by_id["cargo:S1/1"].data["goods"] == "Gasoline"
    # No AIS message 12345 is stored: said, not dropped.
    assert by_id["ais:12345"].kind == "unresolved"
    assert [t.kind for t in detail.timeline] == ["alert", "event"]


# --- the bundled data: the founding report's case -----------------------------------------


@pytest.fixture(scope="module")
def founding_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The bundled lists, flights, founding report, ownership and cargo loaded as
    ``watchkeeper run`` does (AIS and the papers-against-tracks step left out: they
    cost time and no alert of the founding case comes from them), alerts raised."""
    from tests.graph._lists_store import copy_lists_store, lists_store
    from watchkeeper.cli import run

    if not (DATA / "articles" / "seed-iran-venezuela.txt").exists():
        pytest.skip("the founding report is not bundled in data/")
    path = copy_lists_store(lists_store(tmp_path_factory), tmp_path_factory.mktemp("founding"))
    s = Store(path)
    for step in (run.flights, run.read_founding_report, run.ownership, run.cargo_decisions):
        step(s, DATA)
    raise_alerts(s)
    try:
        yield s
    finally:
        s.close()


def test_the_founding_report_case_holds_ships_aircraft_cargo_and_the_report(
    founding_store: Store,
) -> None:
    build_cases(founding_store)
    case_id = case_of_document(founding_store, "articles/seed-iran-venezuela.txt")
    assert case_id is not None
    detail = get_case(founding_store, case_id)
    domains = detail.subjects_by_domain
    names = {d: {s["name"] for s in subjects} for d, subjects in domains.items()}
    # Ships: NITC's tankers; aircraft: Mahan Air's; the report; the cargo.
    assert {"vessels", "aircraft", "reports", "shipments"} <= set(domains)
    assert "MAHAN AIR" in names.get("operators", set())
    assert any("NATIONAL IRANIAN TANKER" in n for n in names["companies"])
    rules = {a.rule_id for a in detail.alerts}
    assert {
        "report-mention",
        "listed-operator-flight",
        "vessel-owner-blocked",
        "prohibited-cargo",
    } <= rules
    # Why the tankers are in: NITC, the tankers' owner, is linked on the SDN to the
    # IRGC-QF the report names.
    assert any(s.startswith("doc:") for s in detail.case.subjects)
    nitc_irgc_qf = [
        link
        for link in detail.case.links
        if {link["from"], link["to"]} == {"ofac-15117", "ofac-10465"}
    ]
    assert nitc_irgc_qf and nitc_irgc_qf[0]["kind"] == "unknown_link"
    assert any("ofac_sdn" in ev for ev in nitc_irgc_qf[0]["evidence"])
    assert any(
        link["kind"] == "vessel_owner" and link["from"] == "ofac-15117"
        for link in detail.case.links
    )
    # Every subject is explained by a link.
    linked = {x for link in detail.case.links for x in (link["from"], link["to"])}
    assert set(detail.case.subjects) <= linked
    # Every evidence id its events name is found, two steps from an alert.
    assert detail.evidence and all(e.kind != "unresolved" for e in detail.evidence)
    assert {"sentence", "list_entry", "flight", "shipment_line"} <= {
        e.kind for e in detail.evidence
    }
    # The case file names its sources and the list versions.
    data = json.loads(json.dumps(case_file(founding_store, case_id), default=str))
    sources = {v["source"] for v in data["sources"]["list_versions"]}
    assert {"ofac_sdn", "us_csl"} <= sources
    assert data["sources"]["reports"][0]["source"].endswith("seed-iran-venezuela.txt")


def test_not_everything_is_one_case_on_the_bundled_data(founding_store: Store) -> None:
    build_cases(founding_store)
    cases = list_cases(founding_store)
    alerts = founding_store.con.execute("SELECT count(*) FROM alerts").fetchone()
    assert alerts is not None and len(cases) > 1
    assert max(len(c.alert_ids) for c in cases) < alerts[0]
    again = build_cases(founding_store)
    assert not again.created and not again.updated and not again.removed


def test_cli_builds_lists_shows_and_exports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = tmp_path / "cases.duckdb"
    with Store(db) as s:
        a = alert(s, ["mmsi:211000001", "imo:9000001"], rule="listed-vessel-ais-gap")
    code, out, _ = run_cli(monkeypatch, capsys, "cases", "build", "--db", str(db))
    assert code == 0 and "1 case(s) over 1 alert(s): 1 new" in out
    code, out, _ = run_cli(monkeypatch, capsys, "cases", "--db", str(db), "--json")
    listed = json.loads(out)
    assert [c["alert_ids"] for c in listed] == [[a]]
    case_id = listed[0]["case_id"]
    code, out, _ = run_cli(monkeypatch, capsys, "cases", "show", case_id, "--db", str(db), "--json")
    shown = json.loads(out)
    assert shown["case_id"] == case_id and shown["timeline"][0]["id"] == a
    target = tmp_path / "case.json"
    code, out, _ = run_cli(
        monkeypatch,
        capsys,
        "cases",
        "export",
        case_id,
        "--format",
        "json",
        "--out",
        str(target),
        "--db",
        str(db),
    )
    assert code == 0
    exported = json.loads(target.read_text())
    assert exported["case"]["case_id"] == case_id
    assert "list_versions" in exported["sources"]
    code, _, err = run_cli(monkeypatch, capsys, "cases", "show", "case-nope", "--db", str(db))
    assert code == 2 and "no case 'case-nope'" in err
    code, _, err = run_cli(
        monkeypatch, capsys, "cases", "export", case_id, "--format", "pdf", "--db", str(db)
    )
    assert code == 2 and "--out" in err
    code, _, err = run_cli(
        monkeypatch, capsys, "cases", "export", case_id, "--format", "doc", "--db", str(db)
    )
    assert code == 2 and "format 'doc'" in err
    page = tmp_path / "case.html"
    code, _, err = run_cli(
        monkeypatch,
        capsys,
        "cases",
        "export",
        case_id,
        "--format",
        "html",
        "--out",
        str(page),
        "--db",
        str(db),
    )
    assert code == 0, err
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert a in html and case_id in html


def test_api_lists_and_shows_cases_to_a_viewer(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from watchkeeper.api import create_app
    from watchkeeper.screening import Screener
    from watchkeeper.settings import Settings

    with Store(tmp_path / "api.duckdb") as s:
        a = alert(s, ["mmsi:211000001", "imo:9000001"], rule="listed-vessel-ais-gap")
        build_cases(s)
        app = create_app(
            Settings(audit_api=False, api_token="case-reader"), s, screener=Screener.from_store(s)
        )
        client = TestClient(app)
        assert client.get("/cases").status_code == 401
        auth = {"Authorization": "Bearer case-reader"}
        listed = client.get("/cases", headers=auth).json()
        assert listed["total"] == 1 and listed["cases"][0]["alert_ids"] == [a]
        link = listed["cases"][0]["links"][0]
        assert set(link) == {"from", "to", "kind", "evidence"}
        case_id = listed["cases"][0]["case_id"]
        one = client.get(f"/cases/{case_id}", headers=auth).json()
        assert one["case_id"] == case_id and one["timeline"][0]["id"] == a
        # One alert on an MMSI and an IMO does not make them one vessel (an encounter
        # names two): two entries.
        vessels = one["subjects_by_domain"]["vessels"]
        assert sorted(v["id"] for v in vessels) == ["imo:9000001", "mmsi:211000001"]
        assert client.get("/cases/case-nope", headers=auth).status_code == 404
