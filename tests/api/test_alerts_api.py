"""/alerts and /users over HTTP: the role matrix (viewer reads, analyst reviews, admin
manages users), the API token as admin, disabled tokens refused, and reviews that land
in the same verified audit chain as the screening requests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.alerts._events import event, owner_blocked
from watchkeeper.alerts.engine import raise_alerts
from watchkeeper.alerts.review import REVIEW_CHANNEL
from watchkeeper.alerts.store import list_alerts
from watchkeeper.alerts.users import add_user, disable_user
from watchkeeper.api import create_app
from watchkeeper.screening import Screener
from watchkeeper.screening.audit import AuditLog
from watchkeeper.settings import Settings
from watchkeeper.store import Store

API_TOKEN = "api-token-for-tests-1c9e"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _store(path: Path) -> Store:
    store = Store(path)
    store.write_events(
        [
            owner_blocked("imo:9000001", "ofac-1"),
            owner_blocked("imo:9000002", "ofac-2"),
            event("ais_gap", ("imo:9000001", "mmsi:1"), 5, 20, score=0.4),
        ]
    )
    raise_alerts(store)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = _store(tmp_path / "wk.duckdb")
    try:
        yield s
    finally:
        s.close()


def _client(store: Store, api_token: str | None = API_TOKEN, audit: bool = True) -> TestClient:
    settings = Settings(api_token=api_token, audit_api=audit)
    return TestClient(create_app(settings, store, screener=Screener.from_store(store)))


@pytest.fixture
def tokens(store: Store) -> dict[str, str]:
    made = {name: add_user(store, name, name, actor="root")[1] for name in ("viewer", "analyst")}
    made["admin"] = add_user(store, "boss", "admin", actor="root")[1]
    return made


def _review(client: TestClient, alert_id: str, token: str, **body: Any) -> Any:
    return client.post(f"/alerts/{alert_id}/review", json=body, headers=_bearer(token))


def test_role_matrix(store: Store, tokens: dict[str, str]) -> None:
    alert_id = list_alerts(store)[0].alert_id
    with _client(store) as client:
        for who in ("viewer", "analyst", "admin"):
            resp = client.get("/alerts", headers=_bearer(tokens[who]))
            assert resp.status_code == 200, (who, resp.text)
            assert resp.json()["total"] == len(list_alerts(store))
            assert (
                client.get(f"/alerts/{alert_id}", headers=_bearer(tokens[who])).status_code == 200
            )
        assert client.get("/alerts").status_code == 401
        assert client.get("/alerts", headers=_bearer("wk_not-a-token")).status_code == 401

        resp = _review(client, alert_id, tokens["viewer"], state="in_review")
        assert resp.status_code == 403 and "needs analyst" in resp.json()["detail"]
        resp = _review(client, alert_id, tokens["analyst"], state="in_review", note="on it")
        assert resp.status_code == 201, resp.text
        assert resp.json()["alert"]["state"] == "in_review"
        assert resp.json()["actions"][0]["actor"] == "analyst"
        resp = _review(client, alert_id, API_TOKEN, link="https://tickets.example.org/FIU/12")
        assert resp.status_code == 201 and resp.json()["actions"][0]["actor"] == "api-token"

        for who in ("viewer", "analyst"):
            assert client.get("/users", headers=_bearer(tokens[who])).status_code == 403
            resp = client.post(
                "/users", json={"name": "x", "role": "admin"}, headers=_bearer(tokens[who])
            )
            assert resp.status_code == 403
        resp = client.post(
            "/users", json={"name": "carla", "role": "analyst"}, headers=_bearer(tokens["admin"])
        )
        assert resp.status_code == 201, resp.text
        carla = resp.json()["token"]
        assert _review(client, alert_id, carla, note="second look").status_code == 201
        listed = client.get("/users", headers=_bearer(API_TOKEN)).json()["users"]
        assert [u["name"] for u in listed] == ["analyst", "boss", "carla", "viewer"]
        assert all("token" not in u and "token_hash" not in u for u in listed)

        # rotate: the old token stops working; disable: the new one too
        resp = client.post("/users/carla/rotate", headers=_bearer(tokens["admin"]))
        assert resp.status_code == 200
        new = resp.json()["token"]
        assert new != carla
        assert client.get("/alerts", headers=_bearer(carla)).status_code == 401
        assert client.get("/alerts", headers=_bearer(new)).status_code == 200
        resp = client.post("/users/carla/disable", headers=_bearer(tokens["admin"]))
        assert resp.status_code == 200 and resp.json()["disabled_at"]
        assert client.get("/alerts", headers=_bearer(new)).status_code == 401
        assert _review(client, alert_id, new, note="still here?").status_code == 401
        assert client.post("/users/ghost/disable", headers=_bearer(API_TOKEN)).status_code == 404
        resp = client.post(
            "/users", json={"name": "carla", "role": "viewer"}, headers=_bearer(API_TOKEN)
        )
        assert resp.status_code == 400

        trail = client.get(f"/alerts/{alert_id}", headers=_bearer(tokens["viewer"])).json()["trail"]
    assert [(t["actor"], t["action"]) for t in trail] == [
        ("analyst", "state"),
        ("api-token", "link"),
        ("carla", "note"),
    ]
    log = AuditLog(store)
    assert log.verify().ok
    channels = [r.channel for r in log.records()]
    assert channels.count(REVIEW_CHANNEL) == 3
    assert channels.count("users admin") == 3 + 3  # 3 made by fixture, add, rotate, disable


def test_a_user_disabled_in_the_store_is_refused_at_once(
    store: Store, tokens: dict[str, str]
) -> None:
    with _client(store) as client:
        assert client.get("/alerts", headers=_bearer(tokens["analyst"])).status_code == 200
        disable_user(store, "analyst", actor="boss")
        assert client.get("/alerts", headers=_bearer(tokens["analyst"])).status_code == 401


def test_like_decisions_off_with_no_token_and_no_users(store: Store) -> None:
    with _client(store, api_token=None) as client:
        for path in ("/alerts", "/users", "/decisions"):
            assert client.get(path).status_code == 403, path
    add_user(store, "vera", "viewer", actor="root")
    with _client(store, api_token=None) as client:
        assert client.get("/alerts").status_code == 401
        assert client.get("/alerts", headers=_bearer(API_TOKEN)).status_code == 401


def test_list_filters_paging_and_review_errors(store: Store) -> None:
    every = list_alerts(store)
    assert len(every) >= 3
    with _client(store) as client:
        auth = _bearer(API_TOKEN)
        page = client.get("/alerts", params={"limit": 2, "offset": 1}, headers=auth).json()
        assert page["total"] == len(every)
        assert [a["alert_id"] for a in page["alerts"]] == [a.alert_id for a in every[1:3]]
        rule = every[0].rule_id
        got = client.get("/alerts", params={"rule": rule}, headers=auth).json()
        assert {a["rule_id"] for a in got["alerts"]} == {rule}
        assert got["total"] == sum(a.rule_id == rule for a in every)
        assert client.get("/alerts", params={"state": "bogus"}, headers=auth).status_code == 400
        assert client.get("/alerts/nope", headers=auth).status_code == 404

        alert_id = every[0].alert_id
        before = AuditLog(store).head()
        assert _review(client, "nope", API_TOKEN, note="x").status_code == 404
        resp = _review(client, alert_id, API_TOKEN, state="dismissed")
        assert resp.status_code == 409 and "reason" in resp.json()["detail"]
        resp = _review(client, alert_id, API_TOKEN, state="escalated", link="ftp://x/y")
        assert resp.status_code == 400 and "link" in resp.json()["detail"]
        assert AuditLog(store).head() == before
        assert client.get(f"/alerts/{alert_id}", headers=auth).json()["trail"] == []
        resp = _review(client, alert_id, API_TOKEN, state="dismissed", reason="duplicate")
        assert resp.status_code == 201
        resp = client.get("/alerts", params={"state": "dismissed"}, headers=auth).json()
        assert [a["alert_id"] for a in resp["alerts"]] == [alert_id]


def test_reviews_share_the_chain_with_screening_requests(store: Store) -> None:
    """The server's audit writer (screening requests) and review actions append to one
    chain: interleaved, it still verifies."""
    alert_id = list_alerts(store)[0].alert_id
    with _client(store) as client:
        auth = _bearer(API_TOKEN)
        query = {"queries": {"q": {"schema": "Person", "properties": {"name": ["Ana Example"]}}}}
        for i, state in enumerate(("in_review", "escalated", "confirmed")):
            assert client.post("/match/default", json=query).status_code == 200
            assert (
                _review(client, alert_id, API_TOKEN, state=state, note=f"step {i}").status_code
                == 201
            )
        assert client.get(f"/alerts/{alert_id}", headers=auth).json()["state"] == "confirmed"
    log = AuditLog(store)
    check = log.verify()
    assert check.ok, check.detail
    channels = [r.channel for r in log.records()]
    assert channels.count(REVIEW_CHANNEL) == 3
    assert len(channels) == 6
