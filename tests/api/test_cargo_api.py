"""``POST /cargo/check`` on the bundled sample shipments (hand-made from public records)
against the real bundled OFAC SDN list; malformed lines are refused naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.api import create_app
from watchkeeper.cargo.ingest import lines_of_file
from watchkeeper.cargo.layouts import get_layout
from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.screening import Screener
from watchkeeper.settings import Settings
from watchkeeper.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cargo" / "sample_shipments.csv"


@pytest.fixture(scope="module")
def client(sdn_db_path: Path) -> Iterator[TestClient]:
    with Store(sdn_db_path, read_only=True) as store:
        app = create_app(Settings(audit_api=False), store, screener=Screener.from_store(store))
        yield TestClient(app)


def as_json(line: ShipmentLine) -> dict[str, Any]:
    body = asdict(line)
    for key in ("source_ref", "layout", "notes"):
        body.pop(key)
    for key in ("loading_date", "discharge_date", "declared_date"):
        if body[key] is not None:
            body[key] = body[key].isoformat()
    body["transit_countries"] = list(body["transit_countries"])
    return body


@pytest.fixture(scope="module")
def sample_json() -> list[dict[str, Any]]:
    return [as_json(ln) for ln in lines_of_file(SAMPLE, get_layout("customs_declaration"))]


def test_sample_lines_decided_with_citations(
    client: TestClient, sample_json: list[dict[str, Any]]
) -> None:
    response = client.post("/cargo/check", json={"lines": sample_json})
    assert response.status_code == 200, response.text
    body = response.json()
    by_id = {d["line_id"]: d for d in body["decisions"]}
    assert len(by_id) == len(sample_json)
    bella = by_id["DOJ-20-1791-BELLA/1"]
    assert bella["decision"] == "prohibited"
    rule = next(r for r in bella["rules"] if r["id"] == "us-eo13846-iran-petroleum")
    assert rule["citation"].startswith("E.O. 13846") and rule["url"].startswith("https://")
    shipper = next(p for p in bella["parties"] if p["role"] == "shipper")
    assert "listed" in shipper["statuses"]
    shta = by_id["SHTA-CH-IR-2020-01/1"]
    assert shta["decision"] == "authorized_by_general_license"
    assert {r["id"]: r["set_aside_by"] for r in shta["rules"]}[
        "us-itsr-560.204-export-to-iran"
    ] == "us-itsr-560.530-agmed"
    assert body["counts"]["prohibited"] >= 10
    kinds = {e["type"] for e in body["events"]}
    assert kinds == {"prohibited_cargo", "humanitarian_cargo"}
    assert all(e["evidence"][0].startswith("cargo:") for e in body["events"])


def test_nothing_is_stored(client: TestClient, sample_json: list[dict[str, Any]]) -> None:
    client.post("/cargo/check", json={"lines": sample_json[:2]})
    store: Store = client.app.state.watchkeeper.store  # type: ignore[attr-defined]
    assert store.read_events(types=["prohibited_cargo"]) == []


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"origin_country": "Iran"}, ["body", "lines", 0, "origin_country"]),
        ({"hs_code": "2710.12"}, ["body", "lines", 0, "hs_code"]),
        ({"loading_date": "2020-13-01"}, ["body", "lines", 0, "loading_date"]),
        ({"vessel_imo": "92081"}, ["body", "lines", 0, "vessel_imo"]),
        ({"flag": "IR"}, ["body", "lines", 0, "flag"]),
        ({"parties": [{"role": "shipper"}]}, ["body", "lines", 0, "parties", 0, "name"]),
        ({"shipment_id": ""}, ["body", "lines", 0, "shipment_id"]),
    ],
)
def test_malformed_lines_are_refused_naming_the_field(
    client: TestClient, sample_json: list[dict[str, Any]], change: dict[str, Any], loc: list[Any]
) -> None:
    line = {**sample_json[0], **change}
    response = client.post("/cargo/check", json={"lines": [line]})
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]


def test_empty_and_missing_lines(client: TestClient) -> None:
    assert client.post("/cargo/check", json={"lines": []}).status_code == 422
    assert client.post("/cargo/check", json={}).status_code == 422


_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
)
_KEYS = st.sampled_from(
    ["shipment_id", "line_no", "goods", "hs_code", "origin_country", "destination_country",
     "loading_date", "parties", "vessel_imo", "end_use", "license_number", "transit_countries"]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(damage=st.dictionaries(_KEYS, _VALUES, max_size=4))
def test_damaged_lines_never_crash_the_server(
    client: TestClient, sample_json: list[dict[str, Any]], damage: dict[str, Any]
) -> None:
    line = {**sample_json[12], **damage}
    response = client.post("/cargo/check", json={"lines": [line]})
    assert response.status_code in (200, 422), response.text


def test_consignee_blocked_only_by_ownership_changes_the_decision(
    tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path
) -> None:
    from tests.graph._views import questions_store

    line = {
        "shipment_id": "OWN-1",
        "goods": "WHEAT FLOUR",
        "hs_code": "110100",
        "origin_country": "TR",
        "destination_country": "AE",
        "parties": [{"role": "consignee", "name": "Nord Subsidiary"}],
        "declared_date": "2025-01-10",
    }
    with Store(sdn_db_path, read_only=True) as store:
        app = create_app(Settings(audit_api=False), store, screener=Screener.from_store(store))
        plain = TestClient(app).post("/cargo/check", json={"lines": [line]}).json()
    path = questions_store(sdn_db_path, tmp_path_factory.mktemp("cargo-own") / "o.duckdb")
    with Store(path, read_only=True) as store:
        screener = Screener.from_store(store, cache_dir=path.parent / "idx")
        app = create_app(Settings(audit_api=False), store, screener=screener)
        owned = TestClient(app).post("/cargo/check", json={"lines": [line]}).json()
    assert plain["decisions"][0]["decision"] == "allowed"
    decided = owned["decisions"][0]
    assert decided["decision"] == "prohibited"
    (party,) = decided["parties"]
    assert party["statuses"] == ["blocked_by_ownership"]
    assert "Nord Subsidiary" in party["exposure"][0]["chain"]
