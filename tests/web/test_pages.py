"""The text pages on the bundled data, in-process: each shows what the store holds,
counted from the store itself, not from numbers written here."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html import unescape

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.graph.queries import neighbourhood
from watchkeeper.graph.view import load_view
from watchkeeper.store import Store
from watchkeeper.web.pages import MAX_NAME, names_of

MAHAN = "ofac-12927"
MADURO = "ofac-22790"


def _text(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_search_screens_a_name_with_explanations(open_client: TestClient) -> None:
    r = open_client.get("/", params={"q": "Mahan Air"})
    assert r.status_code == 200
    assert f'href="/entity/{MAHAN}"' in r.text
    # the explanation table of the best result says which name parts matched
    assert "name_parts" in r.text
    assert "1 name screened" in _text(r.text)


def test_search_screens_a_pasted_list_one_section_per_name(open_client: TestClient) -> None:
    pasted = "Mahan Air\n\n  Nicolas Maduro \nMahan Air\nZzyzx Qwvb Plonk"
    r = open_client.get("/", params={"names": pasted})
    assert r.status_code == 200
    sections = re.findall(r'<section class="screened"', r.text)
    assert len(sections) == 3  # blank line dropped, repeat screened once
    assert f'href="/entity/{MADURO}"' in r.text
    assert "Nothing in the lists comes close." in r.text


def test_search_refuses_bad_options(open_client: TestClient) -> None:
    assert open_client.get("/", params={"q": "x", "schema": "Planet"}).status_code == 400
    assert open_client.get("/", params={"q": "x", "threshold": "2"}).status_code == 400


def test_entity_page_shows_lists_identifiers_events_and_alerts(
    open_client: TestClient, web_store: Store
) -> None:
    r = open_client.get(f"/entity/{MAHAN}")
    assert r.status_code == 200
    text = _text(r.text)
    assert "MAHAN AIR" in text
    assert "ofac_sdn" in text
    # every event naming it is listed, up to the page's cap
    n_events = web_store.con.execute(
        "SELECT count(*) FROM events WHERE list_contains(subjects, ?)", [MAHAN]
    ).fetchone()
    assert n_events is not None and n_events[0] > 0
    rows = re.search(r'<h2 id="events">.*?</tbody>', r.text, re.S)
    assert rows is not None
    assert rows.group(0).count("<tr>") - 1 == min(n_events[0], 200)
    # its aircraft, alerts and the report naming it are linked
    assert 'href="/aircraft/7300f1"' in r.text
    alert_ids = [
        a for (a,) in web_store.con.execute(
            "SELECT alert_id FROM alerts WHERE list_contains(subjects, ?)", [MAHAN]
        ).fetchall()
    ]  # fmt: skip
    assert alert_ids
    for alert_id in alert_ids:
        assert f'href="/queue/{alert_id}"' in r.text
    assert 'href="/document/' in r.text
    assert f'href="/network?entity={MAHAN}"' in r.text


def test_entity_page_shows_the_blocked_by_ownership_chain(
    open_client: TestClient, web_store: Store
) -> None:
    """A vessel the lists name whose owner is listed: the exposure and its chain."""
    row = web_store.con.execute(
        "SELECT list_filter(subjects, x -> x LIKE 'ofac-%')[1], evidence FROM events "
        "WHERE type = 'vessel_owner_blocked' ORDER BY event_id LIMIT 1"
    ).fetchone()
    assert row is not None
    vessel, evidence = row
    owner = next(e[5:] for e in evidence if e.startswith("list:"))
    r = open_client.get(f"/entity/{vessel}")
    assert r.status_code == 200
    assert 'id="exposure"' in r.text
    assert f'href="/entity/{owner}"' in r.text or owner in r.text


def test_entity_page_history_says_when_it_appeared(open_client: TestClient) -> None:
    r = open_client.get(f"/entity/{MAHAN}")
    history = re.search(r'<ol class="timeline" id="versions">.*?</ol>', r.text, re.S)
    assert history is not None
    assert "appeared" in history.group(0)


def test_unknown_entity_is_a_404_page(open_client: TestClient) -> None:
    r = open_client.get("/entity/ofac-0")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    assert "No entity" in r.text


def test_queue_lists_and_filters_alerts(open_client: TestClient, web_store: Store) -> None:
    total = web_store.con.execute("SELECT count(*) FROM alerts").fetchone()
    assert total is not None and total[0] > 0
    r = open_client.get("/queue")
    assert r.status_code == 200
    assert f"{total[0]} alert" in _text(r.text)
    sev, n = web_store.con.execute(
        "SELECT severity, count(*) FROM alerts GROUP BY severity ORDER BY 2 LIMIT 1"
    ).fetchone() or ("", 0)
    r = open_client.get("/queue", params={"severity": sev})
    badges = re.findall(r'<span class="badge sev-(\w+)">', r.text)
    assert badges == [sev] * n
    rule = web_store.con.execute("SELECT rule_id FROM alerts LIMIT 1").fetchone()
    assert rule is not None
    r = open_client.get("/queue", params={"rule": rule[0]})
    rules = re.findall(r'<td class="mono">([\w-]+)</td>', r.text)
    assert rules and set(rules) == {rule[0]}
    assert open_client.get("/queue", params={"state": "bogus"}).status_code == 400


def test_alert_page_shows_events_evidence_and_why(
    open_client: TestClient, web_store: Store
) -> None:
    row = web_store.con.execute(
        "SELECT alert_id, event_ids FROM alerts ORDER BY alert_id LIMIT 1"
    ).fetchone()
    assert row is not None
    r = open_client.get(f"/queue/{row[0]}")
    assert r.status_code == 200
    for event_id in row[1]:
        assert f'id="ev-{event_id}"' in r.text
        assert f'href="/map?event={event_id}"' in r.text
    assert "Reviewing is off" in r.text  # no token on this server
    assert open_client.get("/queue/no-such-alert").status_code == 404


def test_case_pages(open_client: TestClient, web_store: Store) -> None:
    cases = web_store.con.execute("SELECT case_id, alert_ids FROM cases").fetchall()
    assert cases, "make run's steps build cases"
    r = open_client.get("/casebook")
    assert r.status_code == 200
    assert len(re.findall(r'href="/casebook/case-', r.text)) == len(cases)
    case_id, alert_ids = max(cases, key=lambda c: len(c[1]))
    r = open_client.get(f"/casebook/{case_id}")
    assert r.status_code == 200
    for alert_id in alert_ids:
        assert f'href="/queue/{alert_id}"' in r.text
    assert r.text.count("<svg") >= 2  # timeline and map or network drawn
    assert open_client.get("/casebook/case-000").status_code == 404


def test_document_page_highlights_mentions_and_greys_captions(
    open_client: TestClient, web_store: Store
) -> None:
    row = web_store.con.execute(
        "SELECT doc_id FROM documents WHERE source LIKE '%seed-iran-venezuela.txt'"
    ).fetchone()
    assert row is not None
    doc_id = row[0]
    r = open_client.get(f"/document/{doc_id}")
    assert r.status_code == 200
    linked = web_store.con.execute(
        "SELECT count(*) FROM document_mentions WHERE doc_id = ? AND entity_id IS NOT NULL",
        [doc_id],
    ).fetchone()
    assert linked is not None
    assert r.text.count('<mark class="mention"') == linked[0]
    assert f'href="/entity/{MADURO}"' in r.text
    kinds = {
        b["kind"]
        for (blocks,) in web_store.con.execute(
            "SELECT blocks FROM documents WHERE doc_id = ?", [doc_id]
        ).fetchall()
        for b in json.loads(blocks)
    }
    for kind in {"caption", "promo"} & kinds:
        assert f'class="block-{kind} set-aside"' in r.text
    claims = web_store.con.execute(
        "SELECT count(*) FROM document_claims WHERE doc_id = ?", [doc_id]
    ).fetchone()
    assert claims is not None and r.text.count('<div class="claim">') == claims[0]
    listing = open_client.get("/documents")
    assert f'href="/document/{doc_id}"' in listing.text


def test_static_files_and_layout(open_client: TestClient) -> None:
    css = open_client.get("/static/app.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert open_client.get("/static/../pyproject.toml").status_code == 404
    assert open_client.get("/static/%2e%2e/web/__init__.py").status_code == 404
    home = open_client.get("/")
    for href in ("/", "/queue", "/casebook", "/map", "/network"):
        assert f'<a href="{href}"' in home.text


@given(st.text(max_size=40), st.lists(st.text(max_size=700), max_size=30))
def test_pasted_lists_give_each_name_once_trimmed(q: str, lines: list[str]) -> None:
    """Any pasted text: names in order, once each, none blank or over MAX_NAME, and
    every non-blank line's first cell is among them."""
    pasted = "\n".join(lines)
    names = names_of(q, pasted)
    assert len(names) == len(set(names))
    assert all(n and n == n.strip() and len(n) <= MAX_NAME for n in names)
    for raw in [q, *pasted.splitlines()]:
        cell = raw.split("\t")[0].strip().strip("\"'").strip()
        if cell:
            assert cell[:MAX_NAME].strip() in names


def test_entity_page_lists_every_direct_relation(open_client: TestClient, web_store: Store) -> None:
    """Every statement joining the party to another, whatever its kind."""
    view = load_view(web_store, datetime.now(UTC).date())
    hood = neighbourhood(view, MAHAN, 1)
    direct = [r for r in hood.relations if MAHAN in (r.holder, r.held)]
    assert direct
    r = open_client.get(f"/entity/{MAHAN}")
    table = re.search(r'<table id="relations">.*?</table>', r.text, re.S)
    assert table is not None
    assert table.group(0).count("<tr>") - 1 == min(len(direct), 300)
