"""`diff_versions` between the two real SDN publications equals a plain row comparison."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA, shared_path
from watchkeeper.io import read_bytes
from watchkeeper.lists.ofac_csv import PARSERS
from watchkeeper.store import Store
from watchkeeper.store.versions import VersionDiff

SDN = PARSERS[0]
OLD, NEW = "sdn_csv_2023-12-28", "sdn_csv_2024-05-03"


def bundled(folder: str) -> Path:
    return DATA / "lists" / "ofac" / folder / "sdn.csv.gz"


def shared(folder: str) -> Path:
    return shared_path("sanctions", "ofac", folder, "sdn.csv")


WHERE: dict[str, Callable[[str], Path]] = {"bundled": bundled, "shared": shared}


@dataclass
class RowChanges:
    added: set[str]
    removed: set[str]
    changed: set[str]


def plain_rows(path: Path) -> dict[str, list[str]]:
    """Rows keyed by ent_num with the csv module: no parser, no FtM, no store."""
    text = read_bytes(path).decode("cp1252").rstrip("\x1a\r\n")
    return {row[0]: row for row in csv.reader(io.StringIO(text)) if row}


def plain_row_comparison(old: Path, new: Path) -> RowChanges:
    before, after = plain_rows(old), plain_rows(new)
    return RowChanges(
        added=set(after) - set(before),
        removed=set(before) - set(after),
        changed={k for k in set(before) & set(after) if before[k] != after[k]},
    )


@pytest.fixture(scope="module", params=sorted(WHERE))
def diff_and_rows(request: pytest.FixtureRequest) -> tuple[VersionDiff, RowChanges]:
    old, new = WHERE[request.param](OLD), WHERE[request.param](NEW)
    with Store(":memory:") as store:
        store.add_list_version(SDN.parse([old]))
        store.add_list_version(SDN.parse([new]))
        diff = store.diff_versions("ofac_sdn")
    return diff, plain_row_comparison(old, new)


def test_counts_are_the_row_comparison(diff_and_rows: tuple[VersionDiff, RowChanges]) -> None:
    diff, rows = diff_and_rows
    assert (diff.from_version.version, diff.to_version.version) == ("2023-12-28", "2024-05-03")
    assert (len(rows.added), len(rows.removed), len(rows.changed)) == (1_256, 112, 48)
    assert (len(diff.added), len(diff.removed), len(diff.changed)) == (1_256, 112, 48)


def test_same_entries_as_the_row_comparison(
    diff_and_rows: tuple[VersionDiff, RowChanges],
) -> None:
    diff, rows = diff_and_rows
    assert set(diff.added) == {f"ofac-{n}" for n in rows.added}
    assert set(diff.removed) == {f"ofac-{n}" for n in rows.removed}
    assert {c.id for c in diff.changed} == {f"ofac-{n}" for n in rows.changed}


def test_changed_properties_say_what_changed(
    diff_and_rows: tuple[VersionDiff, RowChanges],
) -> None:
    changed = {c.id: c.properties for c in diff_and_rows[0].changed}
    # 39693: YOUNG YONG -> SAINT LIGHT, call sign added, flag Djibouti -> Guyana.
    assert {"name", "callSign", "flag"} <= set(changed["ofac-39693"])
    # 7522: programme ZIMBABWE -> GLOMAG, title dropped.
    assert {"program", "Sanction.program", "position"} <= set(changed["ofac-7522"])
    # 26390: only the written name of its Linked To target changed (the target, 23475,
    # was renamed); the link resolves to the same entity, the name on it differs.
    assert changed["ofac-26390"] == ["UnknownLink.namesMentioned"]


def test_versions_read_from_the_same_files_are_compared_whole(
    diff_and_rows: tuple[VersionDiff, RowChanges],
) -> None:
    diff = diff_and_rows[0]
    assert not diff.partial and diff.compared_note() is None
    assert diff.not_compared == [] and diff.entries_not_compared == []


def test_added_and_removed_are_named(
    diff_and_rows: tuple[VersionDiff, RowChanges],
) -> None:
    diff, _ = diff_and_rows
    old, new = plain_rows(bundled(OLD)), plain_rows(bundled(NEW))
    # The name is OFAC's SDN_Name, as published (runs of spaces folded).
    assert all(diff.names[i] == " ".join(new[i[5:]][1].split()) for i in diff.added)
    assert all(diff.names[i] == " ".join(old[i[5:]][1].split()) for i in diff.removed)
    shown = diff.to_dict()
    assert shown["added"][0] == {"id": diff.added[0], "name": diff.names[diff.added[0]]}
    assert {r["id"] for r in shown["removed"]} == set(diff.removed)
    assert all(r["name"] for r in shown["added"] + shown["removed"])
    assert all(c["name"] for c in shown["changed"])


# --- a full set against a lone sdn.csv ---------------------------------------------------

TRIO = ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")


@pytest.fixture(scope="module")
def trio_against_lone_sdn() -> tuple[VersionDiff, VersionDiff]:
    """The 2023-12-28 set (sdn, add, alt, sdn_comments) -> the 2024-05-03 sdn.csv alone:
    the diff as it is now, and as it was when versions did not record their files."""
    trio = [DATA / "lists" / "ofac" / OLD / f"{name}.gz" for name in TRIO]
    with Store(":memory:") as store:
        store.add_list_version(SDN.parse(trio))
        store.add_list_version(SDN.parse([bundled(NEW)]))
        diff = store.diff_versions("ofac_sdn")
        store.con.execute("UPDATE list_versions SET parts = NULL")
        unaware = store.diff_versions("ofac_sdn")
    return diff, unaware


def test_a_full_set_against_a_lone_sdn_csv_compares_only_what_both_carry(
    trio_against_lone_sdn: tuple[VersionDiff, VersionDiff],
) -> None:
    diff, unaware = trio_against_lone_sdn
    # Without knowing the files, every entry with an alias or an address looked changed.
    assert len(unaware.changed) == 13_709
    rows = plain_row_comparison(bundled(OLD), bundled(NEW))
    assert (len(diff.added), len(diff.removed)) == (1_256, 112)
    assert {c.id for c in diff.changed} == {f"ofac-{n}" for n in rows.changed}
    assert diff.partial and diff.only_in_from == ["add.csv", "alt.csv", "sdn_comments.csv"]
    assert diff.only_in_to == []
    assert diff.not_compared == [
        "Address.*",
        "address",
        "addressEntity",
        "alias",
        "country",
        "previousName",
    ]
    note = diff.compared_note()
    assert note is not None and "add.csv, alt.csv, sdn_comments.csv only in 2023-12-28" in note
    assert diff.to_dict()["compared"]["note"] == note


def test_entries_continued_by_a_one_sided_comments_file_are_not_compared(
    trio_against_lone_sdn: tuple[VersionDiff, VersionDiff],
) -> None:
    diff, _ = trio_against_lone_sdn
    comments = read_bytes(DATA / "lists" / "ofac" / OLD / "sdn_comments.csv.gz").decode("cp1252")
    continued = {row[0] for row in csv.reader(io.StringIO(comments.rstrip("\x1a\r\n"))) if row}
    in_both = continued & set(plain_rows(bundled(OLD))) & set(plain_rows(bundled(NEW)))
    assert set(diff.entries_not_compared) == {f"ofac-{n}" for n in in_both}
    assert len(diff.entries_not_compared) == 10
