"""read_graph_files: the format told by each file, several files merged into one batch,
ids prefixed by the source; and the shared helpers (percentages, partial dates, JSON
shapes) with their properties."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.errors import InputError
from watchkeeper.graph.formats import EdgeMapping, read_graph_files, sniff_format
from watchkeeper.graph.formats.common import parse_date, parse_percentage
from watchkeeper.graph.model import Share

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graph"
ROOT = Path(__file__).resolve().parents[2]


def test_formats_are_told_by_content_and_name(tmp_path: Path) -> None:
    assert sniff_format(FIXTURES / "bods" / "fermcat.json") == "bods"
    assert sniff_format(FIXTURES / "bods" / "joint-ownership-0.3.jsonl") == "bods"
    assert sniff_format(FIXTURES / "ftm" / "network.jsonl") == "ftm"
    assert sniff_format(FIXTURES / "ftm" / "nested.json") == "ftm"
    assert sniff_format(ROOT / "data" / "shadow_fleet" / "vessel_company.csv.gz") == "csv"
    other = tmp_path / "other.json"
    other.write_text('[{"name": "x"}]')
    with pytest.raises(InputError, match="neither BODS"):
        sniff_format(other)


def test_several_files_of_several_formats_merge_into_one_batch(tmp_path: Path) -> None:
    gz = tmp_path / "network.jsonl.gz"
    with (FIXTURES / "ftm" / "network.jsonl").open("rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    files = [FIXTURES / "bods" / "joint-ownership.json", gz, FIXTURES / "edges" / "register.csv"]
    mapping = EdgeMapping.parse(
        "owner=Shareholder,owned=Company,share=Pct,start=Since,end=Until,role=Role"
    )
    batch = read_graph_files(files, "mine", mapping=mapping)
    alone = [
        read_graph_files([files[0]], "mine"),
        read_graph_files([files[1]], "mine"),
        read_graph_files([files[2]], "mine", mapping=mapping),
    ]
    assert batch.files == [str(f) for f in files]
    assert len(batch.relations) == sum(len(b.relations) for b in alone) == 3 + 11 + 3
    # the register names parties by name, FtM by id: no node is shared, none lost
    assert len(batch.nodes) == sum(len(b.nodes) for b in alone)
    assert all(n.id.startswith("mine:") for n in batch.nodes)
    assert all(r.id.startswith("mine:") for r in batch.relations)
    assert batch.counts["relations"] == len(batch.relations) and batch.counts["statements"] == 7


def test_two_sources_never_collide() -> None:
    path = FIXTURES / "bods" / "joint-ownership.json"
    first, second = read_graph_files([path], "a"), read_graph_files([path], "b")
    assert not {n.id for n in first.nodes} & {n.id for n in second.nodes}
    assert not {r.id for r in first.relations} & {r.id for r in second.relations}


def test_a_relation_may_name_a_party_another_file_describes(tmp_path: Path) -> None:
    lines = (FIXTURES / "ftm" / "network.jsonl").read_text().splitlines()
    things = [line for line in lines if '"Ownership"' not in line]
    owns = [line for line in lines if '"Ownership"' in line]
    (tmp_path / "things.jsonl").write_text("\n".join(things))
    (tmp_path / "owns.jsonl").write_text("\n".join(owns))
    batch = read_graph_files([tmp_path / "owns.jsonl", tmp_path / "things.jsonl"], "os")
    holding = next(n for n in batch.nodes if n.id == "os:co-holding")
    assert holding.name == "Gulf Meridian Holding LLC"  # described, not a placeholder
    assert batch.counts["placeholder_nodes"] == 1  # p-outside, as when read as one file


def test_one_bad_file_fails_the_whole_read(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x", "schema": "Ownership", "properties": {"owner": ["a"]}}]')
    with pytest.raises(InputError) as caught:
        read_graph_files([FIXTURES / "ftm" / "network.jsonl", bad], "s")
    assert caught.value.path == str(bad)


@pytest.mark.parametrize(
    ("args", "field"),
    [(([], "s"), None), (([FIXTURES / "ftm" / "nested.json"], "  "), "source")],
)
def test_no_files_or_a_bad_source_name(args: tuple[list[Path], str], field: str | None) -> None:
    with pytest.raises(InputError) as caught:
        read_graph_files(*args)
    assert caught.value.field == field


def test_a_forced_format_reads_a_file_as_that_format(tmp_path: Path) -> None:
    register = tmp_path / "register.txt"  # not named .csv: only the format says so
    shutil.copy(FIXTURES / "edges" / "register.csv", register)
    mapping = EdgeMapping.parse("owner=Shareholder,owned=Company")
    assert len(read_graph_files([register], "s", fmt="edges", mapping=mapping).relations) == 3
    with pytest.raises(InputError):
        read_graph_files([FIXTURES / "ftm" / "nested.json"], "s", fmt="bods")
    with pytest.raises(InputError, match="format"):
        read_graph_files([FIXTURES / "ftm" / "nested.json"], "s", fmt="xml")


# -- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("50", Share.exact(0.5)),
        ("50%", Share.exact(0.5)),
        ("50.5", Share.exact(0.505)),
        ("50,5 %", Share.exact(0.505)),
        ("25-50", Share(0.25, 0.5)),
        ("25 % – 50 %", Share(0.25, 0.5)),
        ("25 to 50%", Share(0.25, 0.5)),
        ("<25%", Share(0.0, 0.25, high_exclusive=True)),
        ("<=25", Share(0.0, 0.25)),
        (">50", Share(0.5, 1.0, low_exclusive=True)),
        ("≥ 50", Share(0.5, 1.0)),
        ("0", Share.exact(0.0)),
        ("100", Share.exact(1.0)),
    ],
)
def test_percentage_strings(text: str, share: Share) -> None:
    assert parse_percentage(text) == share


@pytest.mark.parametrize("text", ["", "half", "101", "50-25", "-5", "5%%", "1e2", "nan"])
def test_bad_percentage_strings(text: str) -> None:
    with pytest.raises(ValueError):
        parse_percentage(text)


@given(st.decimals(min_value=0, max_value=100, places=3))
def test_a_percentage_is_read_without_rounding(value: object) -> None:
    text = f"{value}"
    assert parse_percentage(text).low == float(text) / 100


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2019", date(2019, 1, 1), date(2020, 1, 1)),
        ("2019-05", date(2019, 5, 1), date(2019, 6, 1)),
        ("2019-12", date(2019, 12, 1), date(2020, 1, 1)),
        ("2019-05-03", date(2019, 5, 3), date(2019, 5, 3)),
        ("2021-09-11T16:15:08Z", date(2021, 9, 11), date(2021, 9, 11)),
    ],
)
def test_partial_dates(text: str, start: date, end: date) -> None:
    assert parse_date(text) == start and parse_date(text, end=True) == end


@pytest.mark.parametrize(
    "text", ["", "19", "2019-13", "2019-02-30", "May 2019", "03/04/2019", "0000"]
)
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@given(st.dates(min_value=date(1, 1, 1), max_value=date(9998, 12, 31)))
def test_a_partial_end_is_the_day_after_its_period(day: date) -> None:
    month = f"{day.year:04d}-{day.month:02d}"
    assert parse_date(month) <= day < parse_date(month, end=True)
    assert (parse_date(month, end=True) - timedelta(days=1)).month == day.month
    year = f"{day.year:04d}"
    assert parse_date(year) <= day < parse_date(year, end=True)


def test_json_shapes_and_gzip(tmp_path: Path) -> None:
    entity = {"id": "a", "schema": "Company", "properties": {"name": ["A"]}}
    shapes = {
        "array.json": json.dumps([entity]),
        "object.json": json.dumps(entity, indent=2),
        "lines.jsonl": json.dumps(entity) + "\n\n",
        "bom.json": "\ufeff" + json.dumps([entity]),
    }
    for name, text in shapes.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        (node,) = read_graph_files([tmp_path / name], "s").nodes
        assert node.name == "A", name
    for name, data in {
        "empty.json": b"",
        "text.json": b"hello",
        "latin.json": b'[{"id": "\xe9"}]',
    }.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError):
            read_graph_files([tmp_path / name], "s", fmt="ftm")
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(InputError, match="cannot read"):
        read_graph_files([broken], "s", fmt="ftm")
