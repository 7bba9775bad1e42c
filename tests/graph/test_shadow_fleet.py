"""The real shadow-fleet vessel owner and manager history as graph relations."""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given

from tests.conftest import DATA, shared_path
from tests.lists._mutate import MUTATION_SETTINGS, mutations
from watchkeeper.errors import InputError
from watchkeeper.graph.model import GraphBatch
from watchkeeper.graph.shadow_fleet import (
    company_node_id,
    read_shadow_fleet,
    vessel_node_id,
)
from watchkeeper.graph.store import check_batch

FOLDER = DATA / "shadow_fleet"


@pytest.fixture(scope="module")
def batch() -> GraphBatch:
    return read_shadow_fleet(FOLDER)


def test_every_row_is_a_relation_from_company_to_vessel(batch: GraphBatch) -> None:
    with gzip.open(FOLDER / "vessel_company.csv.gz", "rt") as fh:
        rows = fh.read().splitlines()[1:]
    # 4,797 rows, of which 12 repeat an earlier row exactly.
    assert len(rows) == 4797 and len(set(rows)) == 4785
    assert batch.counts == {
        "vessels": 637,
        "companies": 1690,
        "relations": 4785,
        "repeated_rows": 12,
    }
    kinds = {r.role: r.kind for r in batch.relations}
    assert kinds == {
        "Registered owner": "vessel_owner",
        "ISM Manager": "vessel_manager",
        "Ship manager / Commercial manager": "vessel_manager",
    }
    check_batch(batch)  # ids unique, ends known


def test_the_first_rows_with_their_dates(batch: GraphBatch) -> None:
    # 8727941,5731768,ISM Manager,2016-07-12,2023-09-25
    # 8727941,6021144,ISM Manager,2023-09-25,
    # 8727941,5947073,Registered owner,2016-09-21,
    first, second, third = batch.relations[:3]
    assert (first.holder, first.held) == (company_node_id("5731768"), vessel_node_id("8727941"))
    assert (first.start, first.end) == (date(2016, 7, 12), date(2023, 9, 25))
    assert first.source_ref == "vessel_company.csv.gz:2"
    # The manager changed on 2023-09-25: the old one is in force the day before only.
    assert first.valid_on(date(2023, 9, 24)) and not first.valid_on(date(2023, 9, 25))
    assert second.valid_on(date(2023, 9, 25)) and second.end is None
    assert third.kind == "vessel_owner" and third.holder == company_node_id("5947073")
    nodes = {n.id: n for n in batch.nodes}
    vessel = nodes[vessel_node_id("8727941")]
    assert (vessel.name, vessel.schema, vessel.identifiers) == (
        "Kapitan Pshenitsyn",
        "Vessel",
        {"imo": ("8727941",)},
    )
    assert nodes[company_node_id("5947073")].identifiers == {"imo_company": ("5947073",)}


def test_company_numbers_that_lost_their_leading_zeros_are_seven_digits(
    batch: GraphBatch,
) -> None:
    # 9063732,555505,ISM Manager,2002-01-16, : IMO company numbers have seven digits.
    held = {r.holder for r in batch.relations if r.held == vessel_node_id("9063732")}
    assert company_node_id("0555505") in held
    assert all(len(n.id.rsplit(":", 1)[1]) == 7 for n in batch.nodes)


def test_the_shared_copy_reads_the_same() -> None:
    folder = shared_path("shadow_fleet", "ftm_shadowfleet_owners")
    shared = read_shadow_fleet(folder)
    bundled = read_shadow_fleet(FOLDER)
    assert shared.relations == [
        r.__class__(**{**r.__dict__, "source_ref": r.source_ref.replace(".csv.gz", ".csv")})
        for r in bundled.relations
    ]


def _folder_with(tmp_path: Path, data: bytes) -> Path:
    folder = tmp_path / "fleet"
    folder.mkdir(exist_ok=True)
    for name in ("vessels.csv.gz", "vessel_names.csv.gz"):
        shutil.copyfile(FOLDER / name, folder / name)
    (folder / "vessel_company.csv").write_bytes(data)
    return folder


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("8727941,5731768,Charterer,2016-07-12,", "role", "unknown role 'Charterer'"),
        ("8727941,57X1768,ISM Manager,2016-07-12,", "company_imo", "not a 7-digit IMO"),
        ("872794,5731768,ISM Manager,2016-07-12,", "vessel_imo", "not a 7-digit IMO"),
        ("8727941,5731768,ISM Manager,2016-13-12,", "start_date", "bad date"),
        ("8727941,5731768,ISM Manager,2016-07-12,2015-01-01", "end_date", "before it starts"),
    ],
)
def test_a_bad_row_names_file_line_and_field(
    tmp_path: Path, line: str, field: str, message: str
) -> None:
    header = "vessel_imo,company_imo,role,start_date,end_date\n"
    good = "9063732,555505,ISM Manager,2002-01-16,\n"
    folder = _folder_with(tmp_path, (header + good + line + "\n").encode())
    with pytest.raises(InputError) as info:
        read_shadow_fleet(folder)
    assert info.value.path == str(folder / "vessel_company.csv")
    assert (info.value.line, info.value.field) == (3, field)
    assert message in info.value.message


def test_a_missing_file_or_column_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="shadow-fleet file is missing"):
        read_shadow_fleet(tmp_path)
    folder = _folder_with(tmp_path, b"vessel_imo,company_imo,start_date,end_date\n")
    with pytest.raises(InputError) as info:
        read_shadow_fleet(folder)
    assert info.value.field == "role"


_SAMPLE = gzip.decompress((FOLDER / "vessel_company.csv.gz").read_bytes())[:6000]


@MUTATION_SETTINGS
@given(data=mutations(_SAMPLE, csv=True))
def test_a_damaged_file_is_read_whole_or_refused_naming_the_file(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    folder = _folder_with(tmp_path_factory.mktemp("damaged"), data)
    try:
        batch = read_shadow_fleet(folder)
    except InputError as exc:
        assert exc.path == str(folder / "vessel_company.csv")
        return
    check_batch(batch)
    assert batch.counts["relations"] == len(batch.relations)
