"""Every listed party named in the founding report screens to its list entry; the
report's other people are not flagged (names as the report spells them)."""

from __future__ import annotations

import pytest

from watchkeeper.screening import Query, Screener

from ..conftest import DATA

REPORT = DATA / "articles" / "seed-iran-venezuela.txt"


def top(screener: Screener, name: str, schema: str = "LegalEntity") -> list[str]:
    query = Query.from_yente({"schema": schema, "properties": {"name": [name]}})
    return [h.entity.id for h in screener.screen(query) if h.match]


@pytest.mark.parametrize(
    ("name", "schema", "entity_id"),
    [
        ("Mahan Air", "Organization", "ofac-12927"),
        ("Mahan Air", "LegalEntity", "ofac-12927"),
        ("Quds Forces", "Organization", "ofac-10465"),
        ("Quds Forces of the Islamic Revolutionary Guard Corps", "Organization", "ofac-10465"),
        ("Islamic Revolutionary Guard Corps", "Organization", "ofac-10391"),
        ("Hezbollah", "Organization", "ofac-4697"),
        ("Hizballah", "Organization", "ofac-4697"),
        ("Nicolas Maduro", "Person", "ofac-22790"),
        ("Basher Assad", "Person", "ofac-12735"),
    ],
)
def test_listed_names_in_report(
    sdn_screener: Screener, name: str, schema: str, entity_id: str
) -> None:
    if name != "Hizballah":  # the list's own spelling, beside the report's "Hezbollah"
        assert name.split()[0] in REPORT.read_text("utf-8")
    found = top(sdn_screener, name, schema)
    assert found, f"{name!r} matched nothing"
    assert found[0] == entity_id


@pytest.mark.parametrize("name", ["Craig Faller", "Guillermo del Toro", "Isaac Urrutia"])
def test_other_people_not_flagged(sdn_screener: Screener, name: str) -> None:
    assert name in REPORT.read_text("utf-8")
    assert top(sdn_screener, name, "Person") == []
    assert top(sdn_screener, name, "LegalEntity") == []
