"""Screening returns a party no list names but the OFAC 50% rule blocks, as a hit of its
own kind (``derived``), with the chain; from the engine and from ``/match``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.graph._views import questions_store
from watchkeeper.api import create_app
from watchkeeper.screening import Query, Screener
from watchkeeper.settings import Settings
from watchkeeper.store import Store


@pytest.fixture(scope="module")
def derived_store(tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path) -> Path:
    from watchkeeper.graph.events import write_graph_events

    path = questions_store(sdn_db_path, tmp_path_factory.mktemp("derived") / "d.duckdb")
    with Store(path) as store:
        write_graph_events(store, datetime.now(UTC).date())
    return path


def _query(name: str) -> Query:
    return Query(schema="Company", properties={"name": [name]})


def test_unlisted_subsidiary_is_a_derived_hit_with_its_chain(derived_store: Path) -> None:
    with Store(derived_store, read_only=True) as store:
        screener = Screener.from_store(store, cache_dir=derived_store.parent / "idx")
    hits = screener.screen(_query("Nord Subsidiary"), limit=3)
    top = hits[0]
    assert top.entity.caption == "Nord Subsidiary" and top.match
    assert top.derived is not None
    assert top.derived["kind"] == "ofac_50_percent" and top.derived["status"] == "blocked"
    chain = top.derived["regimes"]["ofac"]["chain"]
    assert "register:r1" in chain  # NORD PROJECT's 60% holding is the reason
    yente = top.to_yente()
    assert yente["derived"]["kind"] == "ofac_50_percent"
    # 50% held by a blocked subsidiary: blocked too, one step further down.
    sub = screener.screen(_query("Nord Sub-Subsidiary"), limit=3)[0]
    assert sub.entity.caption == "Nord Sub-Subsidiary" and sub.derived is not None
    # A listed party stays a plain list hit; a filter on one list leaves derived hits out.
    listed = screener.screen(_query("NORD PROJECT LLC TRANSPORT COMPANY"), limit=5)
    assert listed[0].derived is None
    only_sdn = screener.screen(_query("Nord Subsidiary"), limit=3, datasets={"ofac_sdn"})
    assert all(h.derived is None for h in only_sdn)


def test_twin_co_with_a_small_holding_is_no_derived_hit(derived_store: Path) -> None:
    with Store(derived_store, read_only=True) as store:
        screener = Screener.from_store(store, cache_dir=derived_store.parent / "idx")
    assert all(h.derived is None for h in screener.screen(_query("Twin Co"), limit=5))


def test_match_api_returns_the_derived_hit(derived_store: Path) -> None:
    client = TestClient(create_app(Settings(), Store(derived_store, read_only=True)))
    body = {"queries": {"q": {"schema": "Company", "properties": {"name": ["Nord Subsidiary"]}}}}
    got = client.post("/match/default", json=body)
    assert got.status_code == 200, got.text
    results = got.json()["responses"]["q"]["results"]
    assert results[0]["caption"] == "Nord Subsidiary"
    assert results[0]["derived"]["kind"] == "ofac_50_percent"
    assert results[0]["derived"]["regimes"]["ofac"]["exposure"]["status"] == "blocked"
