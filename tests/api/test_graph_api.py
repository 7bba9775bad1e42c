"""``/graph/...`` over HTTP, on the bundled SDN publications, the shadow-fleet history
and a hand-made register owned by the listed NORD PROJECT LLC (see
tests/graph/_views.py ``questions_store``); responses validated by their models."""

from __future__ import annotations

import io
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from tests.graph._views import NORD, questions_store
from watchkeeper.api import create_app
from watchkeeper.api.routers.graph import ExposureModel, NetworkModel, PathsModel, TreeModel
from watchkeeper.settings import Settings
from watchkeeper.store import Store

DAY = {"as_of": "2024-06-01"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, sdn_db_path: Path) -> TestClient:
    path = questions_store(sdn_db_path, tmp_path_factory.mktemp("graph-api") / "g.duckdb")
    return TestClient(create_app(Settings(), Store(path)))


def test_exposure_blocked_by_ownership_with_its_chain(client: TestClient) -> None:
    resp = client.get("/graph/exposure/Nord Sub-Subsidiary", params=DAY)
    assert resp.status_code == 200, resp.text
    got = ExposureModel.model_validate(resp.json())
    assert (got.entity, got.status, got.listed) == ("register:subsub", "blocked", False)
    assert {s.relation_id for s in got.chain} == {"register:r1", "register:r2"}
    assert got.aggregate.low == 0.5 and "FAQ" in got.citation
    uk = client.get("/graph/exposure/register:subsub", params={**DAY, "regime": "uk"}).json()
    assert uk["status"] != "blocked"  # the UK wants more than 50%
    listed = client.get(f"/graph/exposure/{NORD}", params=DAY).json()
    assert listed["listed"] is True and listed["status"] == "blocked"


def test_errors_are_404_400_422(client: TestClient) -> None:
    assert client.get("/graph/exposure/Nobody At All", params=DAY).status_code == 404
    twin = client.get("/graph/exposure/Twin Co", params=DAY)
    assert twin.status_code == 400
    assert "register:t1" in twin.json()["detail"] and "register:t2" in twin.json()["detail"]
    assert client.get(f"/graph/exposure/{NORD}", params={"regime": "un"}).status_code == 422
    assert client.get(f"/graph/owners/{NORD}", params={"as_of": "June"}).status_code == 422
    bad_kind = client.get("/graph/paths", params={"a": NORD, "b": NORD, "kind": "owns"})
    assert bad_kind.status_code == 400


def test_owners_and_holdings(client: TestClient) -> None:
    resp = client.get("/graph/owners/register:subsub", params=DAY)
    tree = TreeModel.model_validate(resp.json())
    (sub,) = tree.children
    (nord,) = sub.children
    assert (sub.id, nord.id, nord.listed) == ("register:sub", NORD, ["ofac"])
    assert resp.json()["schema"] == "Company"
    held = client.get(f"/graph/holdings/{NORD}", params={**DAY, "depth": 2}).json()
    ids = {c["id"] for c in held["children"]}
    assert "register:sub" in ids
    sub_held = next(c for c in held["children"] if c["id"] == "register:sub")
    assert [c["id"] for c in sub_held["children"]] == ["register:subsub"]


def test_paths_to_a_real_vessel(client: TestClient) -> None:
    resp = client.get("/graph/paths", params={**DAY, "a": "Nord Subsidiary", "b": "imo:9255270"})
    got = PathsModel.model_validate(resp.json())
    assert got.to == "ofac-37064" and got.paths and all(p.length == 2 for p in got.paths)
    assert any("ism manager of vessel" in s.text for p in got.paths for s in p.steps)
    none = client.get("/graph/paths", params={**DAY, "a": "register:t1", "b": NORD}).json()
    assert none["paths"] == []


def test_network_json_graphml_gexf(client: TestClient) -> None:
    got = NetworkModel.model_validate(client.get(f"/graph/network/{NORD}", params=DAY).json())
    ids = {n.id for n in got.nodes}
    assert {NORD, "register:sub", "ofac-37064"} <= ids
    resp = client.get(f"/graph/network/{NORD}", params={**DAY, "format": "graphml"})
    assert resp.headers["content-type"].startswith("application/graphml+xml")
    g = nx.read_graphml(io.BytesIO(resp.content))
    assert set(g.nodes) == ids and g.number_of_edges() == len(got.relations)
    gexf = client.get(f"/graph/network/{NORD}", params={**DAY, "format": "gexf"})
    assert nx.read_gexf(io.BytesIO(gexf.content)).number_of_nodes() == len(ids)
    assert "/graph/network/{entity_id}" in client.get("/openapi.json").json()["paths"]
