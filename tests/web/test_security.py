"""The pages' security: who may read and write, the login cookie, CSRF refusals, and
user text escaped everywhere (a report with ``<script>`` in it, the lists' own quotes
and ampersands, a hostile query and a hostile review note)."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from tests.web.conftest import TOKEN
from watchkeeper.api.state import ApiState
from watchkeeper.settings import Settings
from watchkeeper.store import Store
from watchkeeper.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    identify,
    safe_next,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found is not None, "the page carries a CSRF token"
    return found.group(1)


def _form(client: TestClient, url: str, data: dict[str, str], **headers: str) -> httpx.Response:
    return client.post(
        url,
        content="&".join(f"{k}={v}" for k, v in _quoted(data).items()),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )


def _quoted(data: dict[str, str]) -> dict[str, str]:
    from urllib.parse import quote

    return {quote(k, safe=""): quote(v, safe="") for k, v in data.items()}


def _first_alert(store: Store, state: str = "new") -> str:
    row = store.con.execute(
        "SELECT alert_id FROM alerts WHERE state = ? ORDER BY alert_id LIMIT 1", [state]
    ).fetchone()
    assert row is not None, f"an alert in state {state}"
    return str(row[0])


# -- escaping ---------------------------------------------------------------------------


def test_a_report_with_script_is_shown_as_text(open_client: TestClient, web_store: Store) -> None:
    row = web_store.con.execute(
        "SELECT doc_id FROM documents WHERE source LIKE '%hostile-report.txt'"
    ).fetchone()
    assert row is not None
    r = open_client.get(f"/document/{row[0]}")
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "<img src=x" not in r.text
    assert "<b>friends</b>" not in r.text
    assert "&lt;script&gt;alert(&#39;report&#39;)&lt;/script&gt;" in r.text
    assert "&lt;b&gt;friends&lt;/b&gt;" in r.text
    # the only scripts a page may run are its own files (no inline script at all)
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", r.text) is None


def test_list_names_with_quotes_and_ampersands_are_escaped(
    open_client: TestClient, web_store: Store
) -> None:
    rows = web_store.con.execute(
        "SELECT id, caption FROM entities WHERE is_primary AND (caption LIKE '%&%' "
        "OR caption LIKE '%''%' OR caption LIKE '%\"%') ORDER BY id LIMIT 5"
    ).fetchall()
    assert rows, "the SDN has names with quotes and ampersands"
    for entity_id, caption in rows:
        r = open_client.get(f"/entity/{entity_id}")
        assert r.status_code == 200
        assert f"<h1>{escape(caption)}</h1>" in r.text
        screened = open_client.get("/", params={"q": caption})
        assert f'value="{escape(caption)}"' in screened.text


def test_a_hostile_query_is_echoed_escaped(open_client: TestClient) -> None:
    hostile = "\"><script>alert(1)</script><x y='"
    r = open_client.get("/", params={"q": hostile, "names": hostile + "\n\u202e\u200bAB"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text
    assert escape(hostile) in r.text


# -- reads ------------------------------------------------------------------------------


def test_open_server_reads_from_loopback_only(open_app: FastAPI) -> None:
    local = TestClient(open_app, client=("127.0.0.1", 1234))
    far = TestClient(open_app, client=("203.0.113.9", 1234))
    assert local.get("/queue").status_code == 200
    assert far.get("/queue").status_code == 403
    assert far.get("/").status_code == 403


def test_token_server_needs_the_token_to_read(token_client: TestClient) -> None:
    r = token_client.get("/queue?state=new")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fqueue%3Fstate%3Dnew"
    assert token_client.get("/queue", headers=AUTH).status_code == 200
    bad = {"Authorization": "Bearer not-the-token"}
    assert token_client.get("/queue", headers=bad).status_code == 303


def test_login_sets_an_httponly_strict_cookie(token_client: TestClient) -> None:
    form = token_client.get("/login", params={"next": "/casebook"})
    assert form.status_code == 200
    csrf = csrf_of(form.text)
    assert token_client.cookies.get(CSRF_COOKIE)
    wrong = _form(token_client, "/login", {"csrf": csrf, "token": "nope", "next": "/casebook"})
    assert wrong.status_code == 401
    assert SESSION_COOKIE not in token_client.cookies
    r = _form(token_client, "/login", {"csrf": csrf, "token": TOKEN, "next": "/casebook"})
    assert r.status_code == 303
    assert r.headers["location"] == "/casebook"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    flags = {p.strip().lower() for p in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=strict" in flags
    page = token_client.get("/casebook")
    assert page.status_code == 200  # the cookie is enough now
    assert page.headers["cache-control"] == "no-store"
    out = _form(token_client, "/logout", {"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert token_client.get("/casebook").status_code == 303  # signed out


def test_login_refuses_a_missing_csrf_token_and_offsite_next(token_client: TestClient) -> None:
    form = token_client.get("/login", params={"next": "//evil.example/x"})
    assert 'name="next" value="/"' in form.text
    r = _form(token_client, "/login", {"token": TOKEN})
    assert r.status_code == 403
    assert SESSION_COOKIE not in token_client.cookies


# -- writes -----------------------------------------------------------------------------


def test_writes_are_off_without_a_token(open_client: TestClient, web_store: Store) -> None:
    alert_id = _first_alert(web_store)
    page = open_client.get(f"/queue/{alert_id}")
    assert "Reviewing is off" in page.text
    assert 'name="csrf"' not in page.text  # no form that writes is offered
    r = _form(open_client, f"/queue/{alert_id}/review", {"state": "in_review", "note": "x"})
    assert r.status_code == 403
    assert r.json()["detail"].startswith("Writing is off")
    actions = web_store.con.execute(
        "SELECT count(*) FROM alert_actions WHERE alert_id = ?", [alert_id]
    ).fetchone()
    assert actions == (0,)


def test_review_needs_a_valid_csrf_token_from_this_site(
    token_client: TestClient, web_store: Store
) -> None:
    alert_id = _first_alert(web_store)
    page = token_client.get(f"/queue/{alert_id}", headers=AUTH)
    csrf = csrf_of(page.text)
    url = f"/queue/{alert_id}/review"
    before = web_store.con.execute("SELECT count(*) FROM alert_actions").fetchone()
    assert _form(token_client, url, {"note": "x"}, **AUTH).status_code == 403
    assert _form(token_client, url, {"csrf": "0" * 64, "note": "x"}, **AUTH).status_code == 403
    offsite = _form(
        token_client, url, {"csrf": csrf, "note": "x"}, Origin="https://evil.example", **AUTH
    )
    assert offsite.status_code == 403
    no_token = _form(token_client, url, {"csrf": csrf, "note": "x"})
    assert no_token.status_code == 401
    assert web_store.con.execute("SELECT count(*) FROM alert_actions").fetchone() == before


def test_review_records_state_and_note_and_shows_the_note_escaped(
    token_client: TestClient, web_store: Store
) -> None:
    alert_id = _first_alert(web_store)
    page = token_client.get(f"/queue/{alert_id}", headers=AUTH)
    note = "<img src=x onerror=alert(1)> looked at the track & the owner"
    r = _form(
        token_client,
        f"/queue/{alert_id}/review",
        {"csrf": csrf_of(page.text), "state": "in_review", "note": note, "assign": "ana"},
        **AUTH,
    )
    assert r.status_code == 303
    state = web_store.con.execute(
        "SELECT state, assignee FROM alerts WHERE alert_id = ?", [alert_id]
    ).fetchone()
    assert state == ("in_review", "ana")
    shown = token_client.get(f"/queue/{alert_id}", headers=AUTH)
    assert escape(note) in shown.text
    assert "<img src=x" not in shown.text
    # a move the review rules refuse comes back with the reason, nothing stored
    before = web_store.con.execute("SELECT count(*) FROM alert_actions").fetchone()
    refused = _form(
        token_client,
        f"/queue/{alert_id}/review",
        {"csrf": csrf_of(shown.text), "state": "dismissed"},
        **AUTH,
    )
    assert refused.status_code == 409
    assert "reason" in refused.text
    assert web_store.con.execute("SELECT count(*) FROM alert_actions").fetchone() == before


def test_a_decision_made_on_the_search_page_shows_on_the_result(
    token_client: TestClient, web_store: Store
) -> None:
    name = "Mahan Airlines Trading"
    page = token_client.get("/", params={"q": name}, headers=AUTH)
    entity = re.search(r'name="entity_id" value="([^"]+)"', page.text)
    assert entity is not None, "an analyst sees the 'not a match' form"
    r = _form(
        token_client,
        "/screen/decide",
        {
            "csrf": csrf_of(page.text),
            "name": name,
            "schema": "LegalEntity",
            "entity_id": entity.group(1),
            "reason": "a <b>different</b> firm",
        },
        **AUTH,
    )
    assert r.status_code == 303
    again = token_client.get("/", params={"q": name}, headers=AUTH)
    assert "Reviewed: not a match" in again.text
    assert "a &lt;b&gt;different&lt;/b&gt; firm" in again.text


# -- redirects --------------------------------------------------------------------------


@given(st.text(max_size=60))
def test_login_redirects_stay_on_this_server(value: str) -> None:
    target = safe_next(value)
    assert target.startswith("/")
    assert not target.startswith("//")
    assert "\\" not in target.split("?")[0]
    # browsers drop tabs and newlines from URLs: "/\t/evil" would become "//evil"
    assert not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in target)


# -- users and roles --------------------------------------------------------------------


def test_user_tokens_carry_their_role(tmp_path: Path) -> None:
    """With users on record (``watchkeeper users add``), pages need a token even with
    no API token set; a viewer reads, an analyst may also review, a disabled user and
    an unknown token are nobody."""
    from watchkeeper.alerts.users import add_user, disable_user

    with Store(tmp_path / "users.duckdb") as store:
        state = cast(ApiState, SimpleNamespace(settings=Settings(), store=store))
        assert identify(state, None) == Viewer(token_required=False)
        _admin, admin_token = add_user(store, "boss", "admin", actor="test")
        _viewer, viewer_token = add_user(store, "vic", "viewer", actor="boss")
        _analyst, analyst_token = add_user(store, "ana", "analyst", actor="boss")
        vic = identify(state, viewer_token)
        ana = identify(state, analyst_token)
        assert (vic.name, vic.role, vic.token_required) == ("vic", "viewer", True)
        assert not vic.can_write
        assert ana.can_write and identify(state, admin_token).can_write
        assert not identify(state, "wk_not-a-token").signed_in
        assert not identify(state, None).signed_in
        disable_user(store, "ana", actor="boss")
        assert not identify(state, analyst_token).signed_in
        configured = cast(
            ApiState, SimpleNamespace(settings=Settings(api_token=TOKEN), store=store)
        )
        api = identify(configured, TOKEN)
        assert (api.name, api.role) == ("api-token", "admin")
