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


def plain_row_comparison(old: Path, new: Path) -> RowChanges:
    """Rows keyed by ent_num with the csv module: no parser, no FtM, no store."""

    def rows(path: Path) -> dict[str, list[str]]:
        text = read_bytes(path).decode("cp1252").rstrip("\x1a\r\n")
        return {row[0]: row for row in csv.reader(io.StringIO(text)) if row}

    before, after = rows(old), rows(new)
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
