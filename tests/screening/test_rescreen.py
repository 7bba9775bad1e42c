"""Re-screening stored subjects against what two real OFAC publications changed."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.ofac_rows import (
    ASSAD,
    CHIWENGA,
    LASHGARIAN,
    MAHAN_AIR,
    NEW,
    OLD,
    load_sdn,
    parsed_sdn,
    sample,
)
from watchkeeper.errors import InputError
from watchkeeper.screening.audit import AuditLog
from watchkeeper.screening.decisions import DecisionStore
from watchkeeper.screening.engine import Screener
from watchkeeper.screening.rescreen import (
    changed_since,
    changes_since_version,
    read_subjects,
    rescreen,
    store_subjects,
)
from watchkeeper.store import Store

# Hand-made customer book: three names of listed parties as a bank might hold them,
# one person listed only in the later publication, one who is on no list.
SUBJECTS = [
    {"id": "c-001", "schema": "Person", "properties": {"name": ["Bashar al-Assad"]}},
    {"id": "c-002", "schema": "Company", "properties": {"name": ["Mahan Air"]}},
    {
        "id": "c-003",
        "schema": "Person",
        "properties": {"name": ["Mahdi Lashgarian"], "nationality": ["ir"]},
    },
    {"id": "c-004", "schema": "Person", "properties": {"name": ["Constantino Guveya Chiwenga"]}},
    {"id": "c-005", "schema": "Person", "properties": {"name": ["Margaret Ellen Hughes"]}},
]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def two_versions() -> Iterator[Store]:
    store = Store(":memory:")
    load_sdn(store, OLD, sample(OLD))
    try:
        yield store
    finally:
        store.close()


def test_rescreen_reports_only_new_hits(two_versions: Store, tmp_path: Path) -> None:
    store = two_versions
    subjects = read_subjects(_jsonl(tmp_path / "book.jsonl", SUBJECTS))
    assert store_subjects(store, subjects).to_dict() == {"added": 5, "updated": 0, "unchanged": 0}
    audit = AuditLog(store)

    first = rescreen(store, Screener.from_store(store), audit=audit)
    assert first.first_screenings == 5 and first.rescreened == 0
    first_hits = {(h.subject_id, h.entity_id) for h in first.new_hits}
    assert ("c-001", f"ofac-{ASSAD}") in first_hits
    assert ("c-002", f"ofac-{MAHAN_AIR}") in first_hits
    assert not [h for h in first.new_hits if h.subject_id in ("c-003", "c-005")]
    assert all(h.why == "first screening" for h in first.new_hits)

    load_sdn(store, NEW, sample(NEW))
    second = rescreen(store, Screener.from_store(store), since_version=OLD, audit=audit)
    assert second.first_screenings == 0 and second.rescreened == 5
    window = second.windows[0]
    assert window.from_version is not None and window.from_version.version == OLD
    assert window.to_version.version == NEW
    assert f"ofac-{LASHGARIAN}" in window.added and f"ofac-{CHIWENGA}" in window.changed
    assert f"ofac-{ASSAD}" not in window.ids  # unchanged between the publications
    new = {(h.subject_id, h.entity_id): h for h in second.new_hits}
    # The one party added to the list is the one new hit ...
    assert ("c-003", f"ofac-{LASHGARIAN}") in new
    assert new[("c-003", f"ofac-{LASHGARIAN}")].why == f"added to ofac_sdn since {OLD}"
    # ... hits seen in the first screening are not reported again ...
    assert not first_hits & set(new)
    # ... and unchanged entries were not candidates at all.
    assert all(eid in window.ids for _, eid in new)
    chiwenga = ("c-004", f"ofac-{CHIWENGA}")
    if chiwenga in first_hits:
        assert chiwenga not in new and second.seen_hits >= 1
    else:  # first seen once OFAC corrected the name
        assert new[chiwenga].why == f"changed in ofac_sdn since {OLD}"

    third = rescreen(store, Screener.from_store(store), since_version=OLD)
    assert third.new_hits == []  # the same changes again: nothing new

    rows = list(audit.records())
    assert len(rows) == 10 and {r.channel for r in rows} == {"cli rescreen"}
    assert rows[-1].params["mode"] == "changes"
    assert audit.verify().ok
    runs = store.con.execute("SELECT count(*) FROM screening_runs").fetchone()
    assert runs == (3,)


def test_reviewed_decision_suppresses_a_new_hit(two_versions: Store, tmp_path: Path) -> None:
    store = two_versions
    store_subjects(store, read_subjects(_jsonl(tmp_path / "b.jsonl", SUBJECTS[:1])))
    decisions = DecisionStore(store)
    decisions.add(
        "Person", {"name": ["Bashar al-Assad"]}, f"ofac-{ASSAD}", by="rev", reason="namesake"
    )
    report = rescreen(store, Screener.from_store(store), decisions=decisions)
    assert f"ofac-{ASSAD}" not in [h.entity_id for h in report.new_hits]
    assert report.suppressed >= 1


def test_changed_subject_is_screened_afresh(two_versions: Store, tmp_path: Path) -> None:
    store = two_versions
    store_subjects(store, read_subjects(_jsonl(tmp_path / "a.jsonl", SUBJECTS[4:])))
    rescreen(store, Screener.from_store(store))
    renamed = [{**SUBJECTS[4], "properties": {"name": ["Nicolas Maduro Moros"]}}]
    counts = store_subjects(store, read_subjects(_jsonl(tmp_path / "b.jsonl", renamed)))
    assert counts.to_dict() == {"added": 0, "updated": 1, "unchanged": 0}
    report = rescreen(store, Screener.from_store(store))
    assert report.first_screenings == 1
    assert [h.entity_id for h in report.new_hits] == ["ofac-22790"]


def test_read_subjects_csv(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    path.write_text(
        "id,schema,name,birthDate,nationality\n"
        "c-1,Person,Bashar al-Assad,1965-09-11,sy\n"
        "c-2,Company,Mahan Air;Mahan Airlines,,\n"
        "c-3,,Hizballah,,\n",
        "utf-8",
    )
    subjects = read_subjects(path)
    assert [s.subject_id for s in subjects] == ["c-1", "c-2", "c-3"]
    assert subjects[1].query.properties["name"] == ["Mahan Air", "Mahan Airlines"]
    assert subjects[2].query.schema == "LegalEntity"
    assert subjects[0].query.properties["birthDate"] == ["1965-09-11"]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            '{"id": "a", "schema": "Person", "properties": {"name": ["Ali Reza"]}}\n{oops\n',
            2,
            "not JSON",
        ),
        ('{"schema": "Person", "properties": {"name": ["Ali Reza"]}}\n', 1, "needs an 'id'"),
        ('{"id": "a", "schema": "Starship", "properties": {"name": ["Ali Reza"]}}\n', 1, "schema"),
        (
            '{"id": "a", "schema": "Person", "properties": {"name": ["Ali"]}}\n'
            '{"id": "a", "schema": "Person", "properties": {"name": ["Reza"]}}\n',
            2,
            "already on line 1",
        ),
        ('{"id": "a", "schema": "Person", "properties": {"birthDate": ["1970"]}}\n', 1, "no name"),
        ("[1, 2]\n", 1, "JSON object"),
    ],
)
def test_bad_subject_files(
    tmp_path: Path, two_versions: Store, content: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content, "utf-8")
    with pytest.raises(InputError) as err:
        read_subjects(path)
    assert err.value.line == line and message in err.value.message
    assert str(path) in str(err.value)
    assert two_versions.con.execute("SELECT count(*) FROM screening_subjects").fetchone() == (0,)


def test_bad_csv_subjects(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,name,shoeSize\nc-1,Ali Reza,44\n", "utf-8")
    with pytest.raises(InputError) as err:
        read_subjects(path)
    assert err.value.line == 2 and "shoeSize" in err.value.message
    path.write_text("name\nAli Reza\n", "utf-8")
    with pytest.raises(InputError, match="no 'id' column"):
        read_subjects(path)
    path.write_bytes(b"id,name\nc-1,\xff\xfe\n")
    with pytest.raises(InputError, match="UTF-8"):
        read_subjects(path)


def test_change_windows(two_versions: Store) -> None:
    store = two_versions
    assert changes_since_version(store) == []  # one version: nothing changed yet
    with pytest.raises(InputError):
        changes_since_version(store, "1999-01-01")
    store.add_list_version(parsed_sdn(NEW, sample(NEW)))
    default = changes_since_version(store)
    explicit = changes_since_version(store, OLD, "ofac_sdn")
    by_id = changes_since_version(store, "1")
    assert default[0].ids == explicit[0].ids == by_id[0].ids
    assert f"ofac-{LASHGARIAN}" in default[0].added
    with pytest.raises(Exception, match="no version"):
        changes_since_version(store, "1999-01-01", "ofac_sdn")
    since_2024 = changed_since(store, datetime(2024, 1, 1, tzinfo=UTC))
    assert since_2024 == default[0].ids
    assert changed_since(store, datetime(2024, 6, 1, tzinfo=UTC)) == set()
    everything = changed_since(store, datetime(2020, 1, 1, tzinfo=UTC))
    assert len(everything) == len(sample(NEW))


def _subject_files(tmp: Path) -> dict[str, bytes]:
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SUBJECTS).encode()
    rows = ["id,schema,name,nationality"] + [
        f"{r['id']},{r['schema']},{';'.join(r['properties']['name'])},"  # type: ignore[index]
        for r in SUBJECTS
    ]
    return {"book.jsonl": jsonl, "book.csv": ("\n".join(rows) + "\n").encode()}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.sampled_from(["book.jsonl", "book.csv"]),
    edits=st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 255), st.sampled_from("rid")),
        min_size=1,
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(0, 10_000)),
)
def test_mutated_subject_files_give_our_error_or_subjects(
    which: str, edits: list[tuple[int, int, str]], cut: int | None
) -> None:
    """Subject files with bytes replaced, inserted, deleted or cut off: read_subjects
    returns subjects or raises InputError naming the file, never anything else."""
    with tempfile.TemporaryDirectory() as tmp:
        data = bytearray(_subject_files(Path(tmp))[which])
        for pos, byte, kind in edits:
            i = pos % (len(data) + 1)
            if kind == "r" and i < len(data):
                data[i] = byte
            elif kind == "i":
                data.insert(i, byte)
            elif kind == "d" and i < len(data):
                del data[i]
        if cut is not None:
            data = data[: cut % (len(data) + 1)]
        path = Path(tmp) / which
        path.write_bytes(bytes(data))
        try:
            subjects = read_subjects(path)
        except InputError as exc:
            assert exc.path == str(path)
            return
        assert subjects and all(s.subject_id and s.query.schema for s in subjects)
