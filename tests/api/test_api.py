"""The HTTP API on a small store of real OFAC SDN entries, driven with yente's
documented request examples (tests/api/fixtures/yente_match_requests.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from tests.api.ofac_rows import (
    ASSAD,
    MADURO,
    MAHAN_AIR,
    NEW,
    OLD,
    load_sdn,
    sample,
)
from watchkeeper.api import create_app
from watchkeeper.api.guards import first_invalid_text
from watchkeeper.screening.audit import AuditLog, AuditUnavailable
from watchkeeper.settings import Settings
from watchkeeper.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES: dict[str, Any] = json.loads((FIXTURES / "yente_match_requests.json").read_text("utf-8"))
TOKEN = "test-token-7f3a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
BASHER = {"schema": "Person", "properties": {"name": ["Basher Assad"]}}


# yente's response models (yente/data/common.py), required fields as yente declares
# them: a response that validates here is one a yente client can read.
class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class YenteScored(_Strict):
    id: str
    caption: str
    schema_: str = Field(alias="schema")
    properties: dict[str, list[Any]]
    datasets: list[str]
    referents: list[str]
    target: bool
    first_seen: datetime | None
    last_seen: datetime | None
    last_change: datetime | None
    score: float
    features: dict[str, float]
    match: bool


class YenteTotal(_Strict):
    value: int
    relation: str


class YenteExample(_Strict):
    id: str | None = None
    schema_: str = Field(alias="schema")
    properties: dict[str, str | list[Any]]


class YenteMatches(_Strict):
    status: int
    results: list[YenteScored]
    total: YenteTotal
    query: YenteExample


class YenteFeatureDoc(_Strict):
    description: str | None
    coefficient: float
    url: str


class YenteMatchResponse(_Strict):
    responses: dict[str, YenteMatches]
    matcher: dict[str, YenteFeatureDoc]
    limit: int


class YenteEntity(_Strict):
    id: str
    caption: str
    schema_: str = Field(alias="schema")
    properties: dict[str, list[Any]]
    datasets: list[str]
    referents: list[str]
    target: bool


class YenteFacetItem(_Strict):
    name: str
    label: str
    count: int


class YenteFacet(_Strict):
    label: str
    values: list[YenteFacetItem]


class YenteSearchResponse(_Strict):
    limit: int
    offset: int
    total: YenteTotal
    results: list[YenteEntity]
    facets: dict[str, YenteFacet]


@pytest.fixture
def sdn_store() -> Iterator[Store]:
    store = Store(":memory:")
    load_sdn(store, OLD, sample(OLD))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def client(sdn_store: Store) -> TestClient:
    return TestClient(create_app(Settings(api_token=TOKEN), sdn_store))


def _match(client: TestClient, query: dict[str, Any], **params: Any) -> dict[str, Any]:
    resp = client.post("/match/default", json={"queries": {"q": query}}, params=params)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()["responses"]["q"]
    return out


def test_documented_batch_example(client: TestClient) -> None:
    resp = client.post("/match/default", json=EXAMPLES["batch"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-batch-size"] == "2"
    data = YenteMatchResponse.model_validate(resp.json())
    assert set(data.responses) == {"entity1", "entity2"}
    assert data.limit == 5
    assert data.responses["entity2"].query.schema_ == "Company"
    assert data.responses["entity2"].query.properties["registrationNumber"] == ["84BA99810"]
    # Neither made-up party is on the lists.
    assert not any(r.match for m in data.responses.values() for r in m.results)
    assert "name_parts" in data.matcher


def test_documented_examples_putin_ermakov_rotenberg(client: TestClient) -> None:
    body = {"queries": {"vv": EXAMPLES["putin"], "xx": EXAMPLES["putin"]}}
    resp = client.post("/match/default", json=body)
    assert resp.status_code == 200, resp.text
    res = YenteMatchResponse.model_validate(resp.json()).responses["vv"]
    assert res.query.schema_ == "Person"
    assert res.query.properties["country"] == ["ru"]  # cleaned, as yente answers

    ermakov = dict(EXAMPLES["ermakov"], id="ermakov")
    resp = client.post("/match/default", json={"queries": {"no1": ermakov}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["responses"]["no1"]["query"]["id"] == "ermakov"

    # The docs' request pins yente's logic-v2 and filters on yente dataset names: it is
    # answered (by Watchkeeper's matcher, as the header says), not refused.
    resp = client.post(
        "/match/default",
        json={"queries": {"q": EXAMPLES["rotenberg"]}},
        params=EXAMPLES["rotenberg_params"],
    )
    assert resp.status_code == 200, resp.text
    assert resp.headers["x-watchkeeper-algorithm"] == "watchkeeper-v1"
    assert resp.json()["responses"]["q"]["results"] == []  # no such datasets here


def test_bad_requests_as_yente_answers_them(client: TestClient) -> None:
    no_schema = {"queries": {"fail": {"properties": {"name": "Banana"}}}}
    assert client.post("/match/default", json=no_schema).status_code == 422
    bad_schema = {"queries": {"fail": {"schema": "xxx", "properties": {"name": "Banana"}}}}
    resp = client.post("/match/default", json=bad_schema)
    assert resp.status_code == 400 and "Cannot parse example entity" in resp.json()["detail"]
    body = {"queries": {"vv": EXAMPLES["putin"]}}
    resp = client.post("/match/default", json=body, params={"algorithm": "neural-net"})
    assert resp.status_code == 400
    assert client.post("/match/default", json=body, params={"algorithm": "best"}).status_code == 200
    assert client.post("/match/nope", json=body).status_code == 404
    assert client.post("/match/default", json={"queries": {}}).status_code == 400
    many = {"queries": {f"q{i}": EXAMPLES["putin"] for i in range(101)}}
    assert client.post("/match/default", json=many).status_code == 400
    one_letter = {"queries": {"q": {"schema": "Person", "properties": {"name": ["X"]}}}}
    assert client.post("/match/default", json=one_letter).status_code == 400
    assert client.post("/match/default", json=body, params={"threshold": 2}).status_code == 422
    configured = {**body, "config": {"nm_number_mismatch": 0.5}}
    assert client.post("/match/default", json=configured).status_code == 400


def test_screens_real_entries_with_reasons(client: TestClient) -> None:
    res = _match(client, BASHER)
    top = res["results"][0]
    assert top["id"] == f"ofac-{ASSAD}" and top["match"] is True
    assert top["explanations"] and all(e["detail"] for e in top["explanations"])
    assert top["provenance"][0]["source"] == "ofac_sdn"
    assert top["provenance"][0]["entry_id"] == ASSAD
    maduro = _match(client, {"schema": "Person", "properties": {"name": ["Nicolas Maduro"]}})
    assert maduro["results"][0]["id"] == f"ofac-{MADURO}"
    mahan = _match(client, {"schema": "Company", "properties": {"name": ["Mahan Air"]}})
    assert mahan["results"][0]["id"] == f"ofac-{MAHAN_AIR}"


def test_per_request_options(client: TestClient) -> None:
    assert _match(client, BASHER, threshold=0.999)["results"][0]["match"] is False
    assert len(_match(client, BASHER, limit=1)["results"]) <= 1
    ids = [r["id"] for r in _match(client, BASHER, exclude_entity_ids=f"ofac-{ASSAD}")["results"]]
    assert f"ofac-{ASSAD}" not in ids
    assert _match(client, BASHER, exclude_dataset="ofac_sdn")["results"] == []
    assert _match(client, BASHER, include_dataset="un_sc")["results"] == []
    assert _match(client, BASHER, include_dataset="ofac_sdn")["results"][0]["id"] == f"ofac-{ASSAD}"
    assert _match(client, BASHER, exclude_schema="Person")["results"] == []
    assert _match(client, BASHER, topics="crime.cyber")["results"] == []
    assert _match(client, BASHER, topics="sanction")["results"][0]["id"] == f"ofac-{ASSAD}"
    one_list = client.post("/match/ofac_sdn", json={"queries": {"q": BASHER}})
    assert one_list.json()["responses"]["q"]["results"][0]["id"] == f"ofac-{ASSAD}"
    resp = client.post(
        "/match/default", json={"queries": {"q": BASHER}}, params={"changed_since": "yesterday"}
    )
    assert resp.status_code == 422


def test_changed_since(sdn_store: Store) -> None:
    load_sdn(sdn_store, NEW, sample(NEW))
    client = TestClient(create_app(Settings(api_token=TOKEN), sdn_store))
    added = {"schema": "Person", "properties": {"name": ["Mahdi Lashgarian"]}}
    assert _match(client, added, changed_since="2024-01-01")["results"][0]["id"] == "ofac-47394"
    # Assad's entry did not change between the two publications.
    assert _match(client, BASHER)["results"][0]["id"] == f"ofac-{ASSAD}"
    assert _match(client, BASHER, changed_since="2024-01-01")["results"] == []
    # Chiwenga's entry changed (a corrected name) in 2024-05-03.
    chiwenga = {"schema": "Person", "properties": {"name": ["Constantino Chiwenga"]}}
    assert _match(client, chiwenga, changed_since="2024-01-01")["results"][0]["id"] == "ofac-7489"
    # Everything is newer than a date before the first version.
    assert _match(client, BASHER, changed_since="2020-01-01")["results"][0]["id"] == f"ofac-{ASSAD}"


def test_write_endpoints_need_the_token(sdn_store: Store) -> None:
    body = {"query": BASHER, "entity_id": f"ofac-{ASSAD}", "by": "r", "reason": "x"}
    off = TestClient(create_app(Settings(api_token=None), sdn_store))
    assert off.post("/decisions", json=body, headers=AUTH).status_code == 403
    assert off.delete("/decisions/1", params={"by": "r", "reason": "x"}).status_code == 403
    on = TestClient(create_app(Settings(api_token=TOKEN), sdn_store))
    resp = on.post("/decisions", json=body)
    assert resp.status_code == 401 and resp.headers["www-authenticate"] == "Bearer"
    wrong = {"Authorization": "Bearer not-the-token"}
    assert on.post("/decisions", json=body, headers=wrong).status_code == 401
    assert on.post("/decisions", json=body, headers={"Authorization": TOKEN}).status_code == 401
    assert on.get("/decisions").status_code == 401
    assert sdn_store.con.execute("SELECT count(*) FROM screening_decisions").fetchone() == (0,)


def test_decisions_are_honoured_and_reported(client: TestClient) -> None:
    reviewed_query = {
        "schema": "Person",
        "properties": {"name": ["Bashar al-Asad"], "country": ["gb"]},
    }
    body = {
        "query": reviewed_query,
        "entity_id": f"ofac-{ASSAD}",
        "by": "j.smith",
        "reason": "Customer is a London dentist born 1990",
    }
    resp = client.post("/decisions", json=body, headers=AUTH)
    assert resp.status_code == 201, resp.text
    decision_id = resp.json()["decision_id"]
    again = client.post("/decisions", json=body, headers=AUTH)
    assert again.status_code == 200 and again.json()["new"] is False

    # The same customer, names in another order and case: the decision applies.
    same = {"schema": "Person", "properties": {"name": ["AL-ASAD, BASHAR"], "country": ["gb"]}}
    marked = _match(client, same)
    hit = next(r for r in marked["results"] if r["id"] == f"ofac-{ASSAD}")
    assert hit["match"] is False and hit["score"] > 0.7
    assert hit["decision"]["decision_id"] == decision_id
    assert hit["decision"]["decided_by"] == "j.smith"
    dropped = _match(client, same, reviewed="drop")
    assert f"ofac-{ASSAD}" not in [r["id"] for r in dropped["results"]]
    assert dropped["suppressed"][0]["decision_id"] == decision_id
    # Another query (another person's name) is not covered by the decision.
    assert _match(client, BASHER)["results"][0]["match"] is True

    listed = client.get("/decisions", headers=AUTH).json()["decisions"]
    assert [d["decision_id"] for d in listed] == [decision_id]
    bad = client.post("/decisions", json={**body, "entity_id": "ofac-0"}, headers=AUTH)
    assert bad.status_code == 400 and "entity_id" in bad.json()["detail"]

    resp = client.delete(
        f"/decisions/{decision_id}", params={"by": "a.lead", "reason": "re-opened"}, headers=AUTH
    )
    assert resp.status_code == 200 and resp.json()["revoked_by"] == "a.lead"
    restored = _match(client, same)
    hit = next(r for r in restored["results"] if r["id"] == f"ofac-{ASSAD}")
    assert hit["match"] is True and "decision" not in hit
    assert (
        client.delete(
            f"/decisions/{decision_id}", params={"by": "a", "reason": "b"}, headers=AUTH
        ).status_code
        == 409
    )
    assert (
        client.delete("/decisions/999", params={"by": "a", "reason": "b"}, headers=AUTH).status_code
        == 404
    )


def test_every_screening_request_is_audited(sdn_store: Store) -> None:
    app = create_app(Settings(), sdn_store)
    client = TestClient(app)
    writer = app.state.watchkeeper.audit
    log = AuditLog(sdn_store)
    before = log.count()
    resp = client.post(
        "/match/default",
        json={"queries": {"a": BASHER, "b": EXAMPLES["putin"]}},
        params={"threshold": 0.8},
        headers={"X-Watchkeeper-User": "alice"},
    )
    assert resp.status_code == 200
    writer.flush()
    rows = list(log.records())[before:]
    assert [r.query_key for r in rows] == ["a", "b"]
    assert rows[0].request_id == rows[1].request_id == resp.headers["x-request-id"]
    assert rows[0].actor == "alice@testclient"
    assert rows[0].channel == "api /match/default"
    assert rows[0].params["threshold"] == 0.8
    assert rows[0].results[0]["id"] == f"ofac-{ASSAD}" and rows[0].results[0]["match"] is True
    assert rows[0].list_versions == [{"source": "ofac_sdn", "version": OLD, "version_id": 1}]
    client.get("/search/default", params={"q": "maduro"})
    writer.flush()
    assert list(log.records())[-1].channel == "api /search/default"
    assert log.verify().ok
    # A refused request is not a screening: nothing is written.
    client.post("/match/default", json={"queries": {"q": {"schema": "xxx", "properties": {}}}})
    writer.flush()
    assert log.count() == before + 3

    quiet = TestClient(create_app(Settings(audit_api=False), sdn_store))
    quiet.post("/match/default", json={"queries": {"a": BASHER}})
    assert log.count() == before + 3
    assert quiet.get("/healthz").json()["audit"] is False


def test_no_screening_without_its_audit_row(sdn_store: Store) -> None:
    app = create_app(Settings(), sdn_store)
    client = TestClient(app)
    sdn_store.con.execute("DROP TABLE screening_audit")  # the audit log breaks
    client.post("/match/default", json={"queries": {"a": BASHER}})
    with pytest.raises(AuditUnavailable):
        app.state.watchkeeper.audit.flush()
    resp = client.post("/match/default", json={"queries": {"a": BASHER}})
    assert resp.status_code == 503 and "audit log" in resp.json()["detail"]


def test_entities_with_provenance_and_nested_sanctions(client: TestClient) -> None:
    resp = client.get(f"/entities/ofac-{MAHAN_AIR}")
    assert resp.status_code == 200
    YenteEntity.model_validate(resp.json())
    data = resp.json()
    assert data["caption"] == "MAHAN AIR" and data["datasets"] == ["ofac_sdn"]
    assert data["provenance"] == [
        {
            "source": "ofac_sdn",
            "entry_id": MAHAN_AIR,
            "version": OLD,
            "first_seen": OLD,
            "last_seen": OLD,
        }
    ]
    sanction = data["properties"]["sanctions"][0]
    assert sanction["schema"] == "Sanction"
    assert set(sanction["properties"]["program"]) == {"SDGT", "NPWMD", "IFSR"}
    flat = client.get(f"/entities/ofac-{MAHAN_AIR}", params={"nested": "false"}).json()
    assert "sanctions" not in flat["properties"]
    assert client.get("/entities/ofac-0").status_code == 404


def test_search(client: TestClient) -> None:
    resp = client.get("/search/default", params={"q": "Nicolas Maduro"})
    assert resp.status_code == 200
    YenteSearchResponse.model_validate(resp.json())
    data = resp.json()
    assert data["results"][0]["id"] == f"ofac-{MADURO}"
    assert data["facets"]["datasets"]["values"][0]["name"] == "ofac_sdn"
    assert client.get("/search/default", params={"q": "x", "schema": "Nope"}).status_code == 400
    everything = client.get("/search/default", params={"limit": 3}).json()
    assert everything["total"]["value"] == len(sample(OLD)) and len(everything["results"]) == 3
    people = client.get("/search/default", params={"schema": "Person", "limit": 50}).json()
    assert {r["schema"] for r in people["results"]} == {"Person"}


def test_system_endpoints_and_docs(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["entities"] == len(sample(OLD))
    algos = client.get("/algorithms").json()
    assert algos["default"] == algos["best"] == algos["algorithms"][0]["name"]
    assert {"ofac_sdn", "default"} <= set(client.get("/catalog").json()["current"])
    spec = client.get("/openapi.json").json()
    assert {
        "/match/{dataset}",
        "/search/{dataset}",
        "/entities/{entity_id}",
        "/healthz",
        "/decisions",
        "/decisions/{decision_id}",
    } <= set(spec["paths"])
    assert "HTTPBearer" in spec["components"]["securitySchemes"]
    match_params = {p["name"] for p in spec["paths"]["/match/{dataset}"]["post"]["parameters"]}
    assert {"dataset", "threshold", "limit", "algorithm", "changed_since"} <= match_params
    assert {"exclude_entity_ids", "include_dataset", "exclude_dataset"} <= match_params
    assert client.get("/docs").status_code == 200


def test_server_binds_loopback_by_default() -> None:
    assert Settings().api_host == "127.0.0.1"
    assert Settings.from_env({}).api_host == "127.0.0.1"


def test_default_threshold_comes_from_settings(sdn_store: Store) -> None:
    strict = TestClient(create_app(Settings(match_threshold=0.99), sdn_store))
    assert _match(strict, BASHER)["results"][0]["match"] is False
    assert _match(strict, BASHER, threshold=0.7)["results"][0]["match"] is True


def test_shutdown_writes_pending_audit_rows(sdn_store: Store) -> None:
    app = create_app(Settings(), sdn_store)
    with TestClient(app) as client:  # runs the lifespan: startup, then shutdown
        assert client.post("/match/default", json={"queries": {"a": BASHER}}).status_code == 200
    rows = list(AuditLog(sdn_store).records())
    assert [r.query_key for r in rows] == ["a"]


MAHAN_BROKEN = (
    '{"queries": {"q": {"schema": "Company", "properties": {"name": ["MAHAN \\ud800 AIR"]}}}}'
)
MAHAN = {"schema": "Company", "properties": {"name": ["Mahan Air"]}}


def test_a_lone_surrogate_is_refused_and_screening_goes_on(sdn_store: Store) -> None:
    # The attack: before, this request made the audit writer fail, the next
    # batch reused audit id 1, and every later /match and /search answered 503 (with
    # /healthz still "ok"), while the screenings answered 200 before it had no row.
    app = create_app(Settings(api_token=TOKEN), sdn_store)
    client = TestClient(app)
    writer = app.state.watchkeeper.audit
    assert _match(client, MAHAN)["results"][0]["id"] == f"ofac-{MAHAN_AIR}"
    resp = client.post(
        "/match/default", content=MAHAN_BROKEN, headers={"content-type": "application/json"}
    )
    assert resp.status_code == 400
    assert "body.queries.q.properties.name[0]" in resp.json()["detail"]
    assert "U+D800" in resp.json()["detail"]
    # The same bytes sent raw (CESU-8) rather than as a JSON escape.
    raw = MAHAN_BROKEN.encode().replace(b"\\ud800", "\ud800".encode("utf-8", "surrogatepass"))
    resp = client.post("/match/default", content=raw, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "name[0]" in resp.json()["detail"]
    resp = client.get("/search/default?q=MAHAN%ED%A0%80AIR")
    assert resp.status_code == 400 and "query parameter 'q'" in resp.json()["detail"]
    assert client.get("/entities/ofac-%ED%A0%80").status_code == 400
    decision = (
        '{"query": {"schema": "Person", "properties": {"name": ["Bashar al-Asad"]}}, '
        '"entity_id": "ofac-12735", "by": "j.smith\\udc80", "reason": "r"}'
    )
    resp = client.post(
        "/decisions",
        content=decision,
        headers={**AUTH, "content-type": "application/json"},
    )
    assert resp.status_code == 400 and "body.by" in resp.json()["detail"]
    for _ in range(3):
        writer.flush()
        assert _match(client, MAHAN)["results"][0]["id"] == f"ofac-{MAHAN_AIR}"
        assert client.get("/search/default", params={"q": "mahan air"}).status_code == 200
    writer.flush()
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.json()["rejected"]["invalid_unicode"] == 5
    rows = list(AuditLog(sdn_store).records())
    assert [r.channel for r in rows] == ["api /match/default"] + [
        "api /match/default",
        "api /search/default",
    ] * 3
    assert AuditLog(sdn_store).verify().ok


def test_a_body_over_the_cap_is_refused_and_counted(sdn_store: Store) -> None:
    app = create_app(Settings(api_max_body=64 * 1024), sdn_store)
    client = TestClient(app)
    big = {"queries": {f"q{i}": {**BASHER, "id": "x" * 1000} for i in range(100)}}
    resp = client.post("/match/default", json=big)
    assert resp.status_code == 413 and "WATCHKEEPER_API_MAX_BODY" in resp.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is counted as it streams
        yield b'{"queries": {"q": ' + json.dumps(BASHER).encode() + b'}, "pad": "'
        for _ in range(20):
            yield b"x" * 8192
        yield b'"}'

    resp = client.post(
        "/match/default", content=chunks(), headers={"content-type": "application/json"}
    )
    assert resp.status_code == 413
    assert client.post("/match/default", json={"queries": {"q": BASHER}}).status_code == 200
    health = client.get("/healthz").json()
    assert health["rejected"] == {"body_too_large": 2, "invalid_unicode": 0}
    assert Settings().api_max_body == 4 * 1024 * 1024
    assert Settings.from_env({"WATCHKEEPER_API_MAX_BODY": "512KiB"}).api_max_body == 512 * 1024
    with pytest.raises(ValueError, match="WATCHKEEPER_API_MAX_BODY"):
        Settings.from_env({"WATCHKEEPER_API_MAX_BODY": "lots"})


def test_healthz_reports_a_failing_audit_writer(sdn_store: Store) -> None:
    app = create_app(Settings(), sdn_store)
    client = TestClient(app)
    assert client.get("/healthz").status_code == 200
    sdn_store.con.execute("DROP TABLE screening_audit")  # the audit log breaks
    client.post("/match/default", json={"queries": {"a": BASHER}})
    with pytest.raises(AuditUnavailable):
        app.state.watchkeeper.audit.flush()
    health = client.get("/healthz")
    assert health.status_code == 503
    body = health.json()
    assert body["status"] == "failing" and "screening_audit" in body["reason"]
    assert body["audit_writer"]["state"] == "failing" and body["audit_writer"]["pending"] == 1


@settings(max_examples=300, deadline=None)
@given(
    body=st.recursive(
        st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, categories=None))
        | st.integers(min_value=-(2**63), max_value=2**63 - 1)
        | st.none(),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.text(
                    alphabet=st.characters(
                        min_codepoint=0xD700, max_codepoint=0xE100, categories=None
                    )
                ),
                inner,
                max_size=3,
            )
        ),
        max_leaves=8,
    )
)
def test_invalid_unicode_is_found_wherever_it_is(body: Any) -> None:
    """Refused exactly when the body could not be written as UTF-8 JSON (the audit
    log's and the response's encoding), and the message itself can be."""
    try:
        orjson.dumps(body)
        writable = True
    except TypeError:
        writable = False
    found = first_invalid_text(body, "body")
    assert (found is None) == writable
    if found is not None:
        found.encode("utf-8")
        assert found.startswith("body")
