"""A list file cut short (an interrupted download) is refused, never loaded as the newest
version: OFAC's CSV files must end with their end-of-file byte, and a load that loses
more entries than ``max_shrink`` allows is refused. And each version says where its
date came from.

Real files first: the bundled OFAC CSV sets (and ``../shared`` copies when present),
the UN XML and the US CSL.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, shared_path
from watchkeeper.errors import InputError, ListFormatError
from watchkeeper.io import read_bytes
from watchkeeper.lists import parse_files
from watchkeeper.lists.ofac_csv import PARSERS, OfacCsvParser
from watchkeeper.store import Store

SDN, CONS = PARSERS
OFAC = DATA / "lists" / "ofac"
SDN_2023 = OFAC / "sdn_csv_2023-12-28"
SDN_2024 = OFAC / "sdn_csv_2024-05-03"
CONS_DIR = OFAC / "cons_nonsdn_csv"
CONS_FILES = [
    CONS_DIR / f"{n}.csv.gz" for n in ("cons_prim", "cons_add", "cons_alt", "cons_comments")
]

# Every bundled OFAC CSV: (parser, the file, the primary file of its set).
BUNDLED: dict[str, tuple[OfacCsvParser, Path, Path]] = {
    **{
        f"2023 {n}": (SDN, SDN_2023 / f"{n}.gz", SDN_2023 / "sdn.csv.gz")
        for n in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
    },
    "2024 sdn.csv": (SDN, SDN_2024 / "sdn.csv.gz", SDN_2024 / "sdn.csv.gz"),
    **{f"cons {p.name[:-3]}": (CONS, p, CONS_FILES[0]) for p in CONS_FILES},
}
SHARED = (
    [("sdn_csv_2023-12-28", n) for n in ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")]
    + [("sdn_csv_2024-05-03", "sdn.csv")]
    + [
        ("cons_nonsdn_csv", f"{n}.csv")
        for n in ("cons_prim", "cons_add", "cons_alt", "cons_comments")
    ]
)


@functools.cache
def raw(path: Path) -> bytes:
    return read_bytes(path)


def line_ends(data: bytes) -> list[int]:
    """Every offset just after a newline: where a download cut at a line boundary stops."""
    return [i + 1 for i, byte in enumerate(data) if byte == 0x0A]


def snapshot(store: Store) -> list[Any]:
    return [
        store.con.execute(f"SELECT count(*), coalesce(sum(hash(t)), 0) FROM {table} t").fetchone()
        for table in ("list_versions", "entities", "entity_names")
    ]


# --- what the publishers' files end with ------------------------------------------------


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_every_bundled_ofac_csv_ends_with_the_end_of_file_byte(name: str) -> None:
    data = raw(BUNDLED[name][1])
    # sdn_comments.csv ends its last row with a bare LF; the others with CRLF.
    assert data.endswith(b"\n\x1a") and data.count(b"\x1a") == 1


@pytest.mark.parametrize(("folder", "name"), SHARED)
def test_every_shared_ofac_csv_ends_with_the_end_of_file_byte(folder: str, name: str) -> None:
    data = shared_path("sanctions", "ofac", folder, name).read_bytes()
    assert data.endswith(b"\n\x1a") and data.count(b"\x1a") == 1


# --- the case: sdn.csv cut at a line boundary -------------------------------------


def test_sdn_csv_cut_at_a_line_boundary_is_refused_naming_the_file(tmp_path: Path) -> None:
    """The 2024-05-03 sdn.csv cut after 4,917 of its 14,965 rows loaded as the newest
    version, taking 10,048 entries out of screening; it is now refused before parsing."""
    data = raw(SDN_2024 / "sdn.csv.gz")
    cut = data[: line_ends(data)[4_916]]
    assert cut.count(b"\r\n") == 4_917
    folder = tmp_path / "sdn_csv_2024-05-03"
    folder.mkdir()
    path = folder / "sdn.csv"
    path.write_bytes(cut)
    with pytest.raises(ListFormatError) as info:
        SDN.parse([path])
    err = info.value
    assert err.path == str(path)
    assert err.message.startswith("truncated: no end-of-file marker")
    assert err.line == 4_918  # the line where the marker should have been


def test_sdn_csv_from_shared_cut_is_refused(tmp_path: Path) -> None:
    data = shared_path("sanctions", "ofac", "sdn_csv_2024-05-03", "sdn.csv").read_bytes()
    path = tmp_path / "sdn.csv"
    path.write_bytes(data[: data.rindex(b"\r\n") + 2])  # every row, only the marker lost
    with pytest.raises(ListFormatError, match="truncated: no end-of-file marker"):
        SDN.parse([path])


def test_a_cut_companion_file_is_refused_before_the_primary_is_parsed(tmp_path: Path) -> None:
    data = raw(SDN_2023 / "add.csv.gz")
    path = tmp_path / "add.csv"
    path.write_bytes(data[: line_ends(data)[100]])
    with pytest.raises(ListFormatError) as info:
        SDN.parse([SDN_2023 / "sdn.csv.gz", path])
    assert info.value.path == str(path) and "truncated" in info.value.message


def test_a_cut_gzip_copy_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sdn.csv.gz"
    path.write_bytes((SDN_2024 / "sdn.csv.gz").read_bytes()[:50_000])
    with pytest.raises(ListFormatError) as info:
        SDN.parse([path])
    assert info.value.path == str(path) and "cannot read the file" in info.value.message


@pytest.fixture(scope="module")
def cons_store() -> Any:
    """A store holding the bundled non-SDN set, to show a refused load changes nothing."""
    with Store(":memory:") as store:
        store.add_list_version(CONS.parse(CONS_FILES))
        yield store


@given(name=st.sampled_from(sorted(BUNDLED)), data=st.data())
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_line_boundary_truncation_is_refused_and_the_store_unchanged(
    cons_store: Store, name: str, data: st.DataObject
) -> None:
    parser, path, primary = BUNDLED[name]
    whole = raw(path)
    cut = data.draw(st.sampled_from(line_ends(whole)), label="cut after byte")
    before = snapshot(cons_store)
    with tempfile.TemporaryDirectory() as folder:
        damaged = Path(folder) / path.name[:-3]
        damaged.write_bytes(whole[:cut])
        paths = [damaged] if path == primary else [primary, damaged]
        with pytest.raises(ListFormatError) as info:
            cons_store.add_list_version(parser.parse(paths), max_shrink=0.1)
    assert info.value.path == str(damaged)
    assert info.value.message.startswith("truncated: no end-of-file marker")
    assert snapshot(cons_store) == before


# --- a load that loses entries ---------------------------------------------------------


def _cons_with_prim_rows(folder: Path, rows: int) -> list[Path]:
    """The real non-SDN set with only the first ``rows`` rows of cons_prim.csv, closed
    with the end-of-file byte: a partial export that looks whole."""
    data = raw(CONS_FILES[0])
    (folder / "cons_prim.csv").write_bytes(data[: line_ends(data)[rows - 1]] + b"\x1a")
    # The companion files keep only rows of entries still in cons_prim.csv.
    kept = {line.split(b",", 1)[0] for line in data.split(b"\r\n")[:rows]}
    paths = [folder / "cons_prim.csv"]
    for source in CONS_FILES[1:]:
        lines = raw(source).rstrip(b"\x1a").splitlines(keepends=True)
        target = folder / source.name[:-3]
        target.write_bytes(b"".join(x for x in lines if x.split(b",", 1)[0] in kept) + b"\x1a")
        paths.append(target)
    return paths


def test_a_load_losing_more_than_max_shrink_is_refused(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        full, _ = store.add_list_version(CONS.parse(CONS_FILES))
        assert full.entity_count == 442
        before = snapshot(store)
        partial = CONS.parse(_cons_with_prim_rows(tmp_path, 300))
        assert partial.primary_count == 300
        with pytest.raises(InputError) as info:
            store.add_list_version(partial, max_shrink=0.1)
        err = info.value
        assert err.path == str(tmp_path / "cons_prim.csv")
        assert "from 442 entries" in err.message and "to 300" in err.message
        assert "142 fewer" in err.message and "--allow-shrink" in err.message
        assert snapshot(store) == before
        # A larger allowance, or none (--allow-shrink), loads it.
        version, new = store.add_list_version(partial, max_shrink=0.5)
        assert new and version.entity_count == 300


def test_a_load_within_max_shrink_is_accepted(tmp_path: Path) -> None:
    with Store(":memory:") as store:
        store.add_list_version(CONS.parse(CONS_FILES))
        # 398 of 442 is 9.95% fewer: inside the default 10%.
        version, new = store.add_list_version(
            CONS.parse(_cons_with_prim_rows(tmp_path, 398)), max_shrink=0.1
        )
        assert new and version.entity_count == 398


def test_a_cut_us_csl_has_no_end_marker_so_the_shrink_check_refuses_it(tmp_path: Path) -> None:
    """The trade.gov CSV has no end marker, no record count and is sorted by name: a file
    cut at a line boundary parses, and only the entry count can tell."""
    lines = read_bytes(DATA / "lists/us_csl/consolidated.csv.gz").splitlines(keepends=True)
    path = tmp_path / "consolidated.csv"
    path.write_bytes(b"".join(lines[:1_500]))
    cut = parse_files([path], "us_csl")
    assert 1_000 < cut.primary_count < 1_500
    with Store(":memory:") as store:
        # The newest stored version, as the store knows it: the real file's count.
        store.con.execute(
            "INSERT INTO list_versions (source, version, published, file_hash, files, "
            "entity_count, counts, loaded_at) VALUES ('us_csl', '2022-04-21', '2022-04-21', "
            "'x', ['consolidated.csv'], 14048, '{}', now())"
        )
        with pytest.raises(InputError, match="us_csl would shrink from 14,048 entries"):
            store.add_list_version(cut, max_shrink=0.1)
        assert [v.entity_count for v in store.list_versions("us_csl")] == [14_048]


# --- where each version's date comes from -------------------------------------------------


def test_ofac_csv_states_no_date_so_the_path_or_the_mtime_dates_it(tmp_path: Path) -> None:
    dated = CONS.parse(CONS_FILES)
    assert dated.dated_by.startswith("file modification time")
    folder = tmp_path / "cons_nonsdn_csv_2025-12-01"
    shutil.copytree(CONS_DIR, folder)
    in_path = CONS.parse([folder / p.name for p in CONS_FILES])
    assert in_path.version == "2025-12-01"
    assert in_path.dated_by.startswith("a date in the file path")
    undated = tmp_path / "plain"
    shutil.copytree(CONS_DIR, undated)
    for p in undated.iterdir():
        os.utime(p, (1_700_000_000, 1_700_000_000))  # 2023-11-14 UTC
    by_mtime = CONS.parse([undated / p.name for p in CONS_FILES])
    assert by_mtime.version == "2023-11-14"


def test_un_xml_date_generated_wins_over_a_date_in_the_path(tmp_path: Path) -> None:
    folder = tmp_path / "un_2020-01-01"
    folder.mkdir()
    shutil.copy(DATA / "lists/un/consolidated.xml.gz", folder)
    parsed = parse_files([folder / "consolidated.xml.gz"], "un_sc")
    assert parsed.version == "2026-02-27"
    assert parsed.dated_by == "dateGenerated in the file"


def test_the_version_records_where_its_date_came_from(tmp_path: Path) -> None:
    with Store(tmp_path / "s.duckdb") as store:
        store.add_list_version(parse_files([DATA / "lists/un/consolidated.xml.gz"], "un_sc"))
    with Store(tmp_path / "s.duckdb", read_only=True) as store:
        (version,) = store.list_versions("un_sc")
    assert version.dated_by == "dateGenerated in the file"
    assert version.to_dict()["dated_by"] == "dateGenerated in the file"
    assert version.part_names == ["consolidated.xml"]
