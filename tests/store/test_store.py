from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watchkeeper.errors import InputError, StoreError
from watchkeeper.events import Event
from watchkeeper.lists.base import ListEntity, ListPart, ParsedList, make_entity
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


def test_read_only_open_of_an_older_store_adds_the_new_tables(tmp_path: Path) -> None:
    """A store written before the newest schema file existed: a read command must see
    the new (empty) tables, not fail on a missing one; while another process holds the
    file, the error names the missing schema file."""
    import duckdb

    from watchkeeper.store.db import _migrations

    *older, (newest, _) = _migrations()

    def old_store(path: Path) -> None:
        with duckdb.connect(str(path)) as con:
            con.execute("CREATE TABLE schema_migrations (name VARCHAR, applied_at TIMESTAMPTZ)")
            for name, sql in older:
                con.execute(sql)
                con.execute("INSERT INTO schema_migrations VALUES (?, now())", [name])

    path = tmp_path / "old.duckdb"
    old_store(path)
    with Store(path, read_only=True) as r:
        assert r.pending_migrations() == []
    held = tmp_path / "held.duckdb"
    old_store(held)
    # Another process holds the file read-only: this one can read but not upgrade it.
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
            "print('held', flush=True); sys.stdin.read()",
            str(held),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreError, match=newest):
            Store(held, read_only=True)
    finally:
        holder.communicate("")


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


# --- hand-made edge cases of the shrink check and of diffs across different files -------


def _people(tmp_path: Path, count: int, version: str) -> ParsedList:
    return _parsed(tmp_path, "t", {str(n): f"P{n}" for n in range(1, count + 1)}, version)


def test_shrink_exactly_at_the_limit_is_accepted_one_more_is_refused(
    tmp_path: Path, store: Store
) -> None:
    store.add_list_version(_people(tmp_path, 20, "1"))
    with pytest.raises(InputError, match="would shrink from 20 entries") as info:
        store.add_list_version(_people(tmp_path, 17, "2"), max_shrink=0.1)
    assert info.value.path and info.value.path.endswith("t-2.txt")
    assert len(store.list_versions()) == 1
    version, new = store.add_list_version(_people(tmp_path, 18, "3"), max_shrink=0.1)
    assert new and version.entity_count == 18  # 10% fewer: at the limit, not past it
    # No check at all without max_shrink (a caller's --allow-shrink), nor on a first load.
    assert store.add_list_version(_people(tmp_path, 1, "4"))[1]
    assert store.add_list_version(_parsed(tmp_path, "u", {"1": "A"}, "1"), max_shrink=0.0)[1]


def _aliased(tmp_path: Path, version: str, aliases: bool, parts: list[ListPart]) -> ParsedList:
    parsed = _parsed(tmp_path, "t", {"1": "A", "2": "B"}, version)
    for item in parsed.entities:
        if item.primary and aliases:
            item.proxy.add("alias", f"alias of {item.entry_id}")
        if item.primary and item.entry_id == "2" and version == "2":
            item.proxy.add("notes", "changed in the primary file")
    parsed.parts = parts
    return parsed


def test_diff_leaves_out_what_only_one_side_s_file_carries(tmp_path: Path, store: Store) -> None:
    main, names = ListPart("main.csv"), ListPart("names.csv", ("alias",))
    store.add_list_version(_aliased(tmp_path, "1", True, [main, names]))
    store.add_list_version(_aliased(tmp_path, "2", False, [main]))
    diff = store.diff_versions("t")
    # The aliases look removed, but the newer version was read without names.csv.
    assert [(c.id, c.properties, c.name) for c in diff.changed] == [("test-2", ["notes"], "B")]
    assert diff.only_in_from == ["names.csv"] and diff.not_compared == ["alias"]
    note = diff.compared_note()
    assert note is not None and "names.csv only in 1" in note and "not compared: alias" in note


def test_a_one_sided_file_of_a_few_entries_leaves_out_those_entries(
    tmp_path: Path, store: Store
) -> None:
    main = ListPart("main.csv")
    overflow = ListPart("overflow.csv", ("*",), ("2",))
    store.add_list_version(_aliased(tmp_path, "1", False, [main]))
    store.add_list_version(_aliased(tmp_path, "2", False, [main, overflow]))
    diff = store.diff_versions("t")
    assert diff.changed == [] and diff.entries_not_compared == ["test-2"]
    assert diff.only_in_to == ["overflow.csv"]


def test_versions_stored_before_parts_were_recorded_are_compared_whole(
    tmp_path: Path, store: Store
) -> None:
    main, names = ListPart("main.csv"), ListPart("names.csv", ("alias",))
    store.add_list_version(_aliased(tmp_path, "1", True, [main, names]))
    store.add_list_version(_aliased(tmp_path, "2", False, [main]))
    store.con.execute("UPDATE list_versions SET parts = NULL, dated_by = NULL")
    old, new = store.list_versions("t")
    assert old.parts is None and old.part_names == ["t-1.txt"] and old.dated_by is None
    diff = store.diff_versions("t")
    assert {c.id: c.properties for c in diff.changed} == {
        "test-1": ["alias"],
        "test-2": ["alias", "notes"],
    }
