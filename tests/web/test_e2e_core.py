"""The text pages in Debian's Chromium, as a person uses them: each page opens with no
console error, fits a 1366x768 screen and a 375px phone without sideways scrolling,
is screenshot to docs/screenshots/, works from the keyboard, and a hostile report runs
no script. Skipped, saying why, without /usr/bin/chromium or playwright."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import TOKEN, new_page, screenshot
from watchkeeper.store import Store

MAHAN = "ofac-12927"


@pytest.fixture(scope="module")
def core_pages(web_store: Store) -> dict[str, str]:
    """Screenshot name -> path of each text page, on ids read from the store."""
    alert = web_store.con.execute(
        "SELECT alert_id FROM alerts ORDER BY list_position(['critical', 'high', 'medium', "
        "'low'], severity), alert_id LIMIT 1"
    ).fetchone()
    case = web_store.con.execute(
        "SELECT case_id FROM cases ORDER BY len(alert_ids) DESC, case_id LIMIT 1"
    ).fetchone()
    doc = web_store.con.execute(
        "SELECT doc_id FROM documents WHERE source LIKE '%seed-iran-venezuela.txt'"
    ).fetchone()
    assert alert and case and doc
    return {
        "search": "/?q=Mahan+Air",
        "entity": f"/entity/{MAHAN}",
        "alerts": "/queue",
        "alert": f"/queue/{alert[0]}",
        "cases": "/casebook",
        "case": f"/casebook/{case[0]}",
        "document": f"/document/{doc[0]}",
        "documents": "/documents",
    }


def _overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def test_each_page_opens_cleanly_and_is_screenshot(
    page: Any, live_url: str, core_pages: dict[str, str]
) -> None:
    for name, path in core_pages.items():
        response = page.goto(live_url + path, wait_until="load")
        assert response is not None and response.status == 200, path
        assert page.locator("h1").first.is_visible(), path
        assert page.title().endswith("Watchkeeper"), path
        assert _overflow(page) == 0, f"{path} scrolls sideways at 1366 px"
        shot = screenshot(page, name)
        assert shot.stat().st_size > 10_000  # a drawn page, not a blank one


def test_pages_fit_a_phone(browser: Any, live_url: str, core_pages: dict[str, str]) -> None:
    context, pg, seen = new_page(browser, width=375, height=740)
    try:
        for path in core_pages.values():
            pg.goto(live_url + path, wait_until="load")
            assert _overflow(pg) == 0, f"{path} scrolls sideways at 375 px"
        pg.goto(live_url + core_pages["search"], wait_until="load")
        screenshot(pg, "search-phone")
        pg.goto(live_url + core_pages["entity"], wait_until="load")
        screenshot(pg, "entity-phone")
    finally:
        context.close()
    assert not seen.errors and not seen.dialogs, (seen.errors, seen.dialogs)


def test_keyboard_tab_to_search_and_submit(page: Any, live_url: str) -> None:
    page.goto(live_url + "/", wait_until="load")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    focused: list[str] = []
    for _ in range(20):
        page.keyboard.press("Tab")
        active = page.evaluate("document.activeElement.id || document.activeElement.tagName")
        focused.append(active)
        if active == "q":
            break
    assert focused[-1] == "q", f"Tab never reached the search box: {focused}"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "keyboard focus is visible"
    page.keyboard.type("Mahan Air")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=Mahan+Air*")
    assert page.locator(f'a[href="/entity/{MAHAN}"]').first.is_visible()
    assert "1 name screened" in page.locator("#summary").inner_text()


def test_a_hostile_report_runs_no_script(page: Any, live_url: str, web_store: Store) -> None:
    doc = web_store.con.execute(
        "SELECT doc_id FROM documents WHERE source LIKE '%hostile-report.txt'"
    ).fetchone()
    assert doc is not None
    page.goto(f"{live_url}/document/{doc[0]}", wait_until="load")
    article = page.locator("#article").inner_text()
    assert "<script>alert('report')</script>" in article  # shown as text
    assert page.locator("#article script, #article img, #article b").count() == 0
    # the page fixture fails the test if an alert() dialog opened


def test_sign_in_then_review_an_alert(browser: Any, live_token_url: str, web_store: Store) -> None:
    alert = web_store.con.execute(
        "SELECT alert_id FROM alerts WHERE state = 'new' ORDER BY alert_id DESC LIMIT 1"
    ).fetchone()
    assert alert is not None
    context, pg, seen = new_page(browser)
    try:
        pg.goto(f"{live_token_url}/queue/{alert[0]}", wait_until="load")
        assert "/login?next=" in pg.url
        screenshot(pg, "login")
        pg.fill("#token", TOKEN)
        pg.keyboard.press("Enter")
        pg.wait_for_url(f"**/queue/{alert[0]}")
        session = next(c for c in context.cookies() if c["name"] == "wk_session")
        assert session["httpOnly"] is True
        assert session["sameSite"] == "Strict"
        pg.select_option("#r-state", "escalated")
        pg.fill("#r-note", "escalated from the browser test")
        pg.click("form[action$='/review'] button[type=submit]")
        pg.wait_for_url("**#trail")
        assert "escalated from the browser test" in pg.locator("#trail + ol").inner_text()
        assert pg.locator("#state").inner_text().startswith("escalated")
        screenshot(pg, "alert-reviewed")
    finally:
        context.close()
    assert not seen.errors and not seen.dialogs, (seen.errors, seen.dialogs)
