from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watchkeeper.events import Event
from watchkeeper.lists.base import ListEntity, ParsedList, make_entity
from watchkeeper.store import Store


def _parsed(tmp_path: Path, name: str, rows: dict[str, str], version: str) -> ParsedList:
    path = tmp_path / f"{name}-{version}.txt"
    path.write_text(repr(sorted(rows.items())))
    entities = []
    for entry, person in rows.items():
        proxy = make_entity("Person", f"test-{entry}")
        proxy.add("name", person)
        entities.append(ListEntity(proxy, entry))
        sanction = make_entity("Sanction", f"test-{entry}-sanction")
        sanction.add("entity", f"test-{entry}")
        sanction.add("program", "SDGT" if entry != "3" or version == "1" else "IRAN")
        entities.append(ListEntity(sanction, entry, primary=False))
    return ParsedList(name, version, date(2024, 1, int(version)), [path], entities)


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        first = s.con.execute("SELECT count(*) FROM schema_migrations").fetchone()
    with Store(path) as s:
        assert s.migrate() == []
        assert s.con.execute("SELECT count(*) FROM schema_migrations").fetchone() == first


def test_versions_and_diff(tmp_path: Path, store: Store) -> None:
    v1, new1 = store.add_list_version(_parsed(tmp_path, "t", {"1": "A", "2": "B", "3": "C"}, "1"))
    again, new_again = store.add_list_version(
        _parsed(tmp_path, "t", {"1": "A", "2": "B", "3": "C"}, "1")
    )
    assert new1 and not new_again and again.version_id == v1.version_id
    store.add_list_version(_parsed(tmp_path, "t", {"1": "A", "3": "C", "4": "D"}, "2"))
    diff = store.diff_versions("t")
    assert diff.added == ["test-4"]
    assert diff.removed == ["test-2"]
    assert [(c.id, c.properties) for c in diff.changed] == [("test-3", ["Sanction.program"])]
    assert [e.id for e in store.current_entities()] == ["test-1", "test-3", "test-4"]


def test_failed_load_changes_nothing(tmp_path: Path, store: Store) -> None:
    good = _parsed(tmp_path, "t", {"1": "A"}, "1")
    store.add_list_version(good)
    bad = _parsed(tmp_path, "t", {"1": "A", "2": "B"}, "2")
    bad.entities.append(bad.entities[0])  # the same id twice
    with pytest.raises(Exception, match="appears twice"):
        store.add_list_version(bad)
    assert len(store.list_versions()) == 1
    assert store.con.execute("SELECT count(*) FROM entities").fetchone() == (2,)


def test_search_exact_then_prefix(tmp_path: Path, store: Store) -> None:
    store.add_list_version(_parsed(tmp_path, "t", {"1": "Mahan Air", "2": "Mahanair Co"}, "1"))
    assert [e.id for e, _ in store.search_entities("mahan air")] == ["test-1"]
    hits = store.search_entities("mahan")
    assert [e.id for e, _ in hits] == ["test-1", "test-2"]
    assert [e.id for e, _ in store.search_entities("air")] == ["test-1"]


def test_events_roundtrip(store: Store) -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    e = Event("ais_gap", ("mmsi:123456789",), t0, t0, 0.5, "gap", ("ais:1", "ais:2"))
    store.write_events([e, e])
    got = store.read_events(subject="123456789")
    assert got == [e]
    assert store.read_events(types=["port_call"]) == []
