"""CSV edge lists: the real shadow-fleet owner/manager history (data/, a fresh clone has
it), a hand-made register with its own column names, bad rows, and hypothesis."""

from __future__ import annotations

import csv
import gzip
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.errors import InputError
from watchkeeper.graph.formats import EdgeMapping, read_edge_csv
from watchkeeper.graph.formats.edges import kind_from_role
from watchkeeper.graph.model import Share

ROOT = Path(__file__).resolve().parents[2]
VESSEL_COMPANY = ROOT / "data" / "shadow_fleet" / "vessel_company.csv.gz"
REGISTER = ROOT / "tests" / "fixtures" / "graph" / "edges" / "register.csv"
SHADOW = EdgeMapping.parse(
    "owner=company_imo,owned=vessel_imo,start=start_date,end=end_date,role=role,owned_type='Vessel'"
)


def test_shadow_fleet_history_reads_every_row_with_its_kind() -> None:
    with gzip.open(VESSEL_COMPANY, "rt", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    batch = read_edge_csv([VESSEL_COMPANY], "sf", SHADOW)
    assert len(batch.relations) == len(rows) == 4797
    roles = {r["role"] for r in rows}
    by_role = {role: {x.kind for x in batch.relations if x.role == role} for role in roles}
    assert by_role["Registered owner"] == {"vessel_owner"}
    assert by_role["ISM Manager"] == {"vessel_manager"}
    assert by_role["Ship manager / Commercial manager"] == {"vessel_manager"}
    vessels = {n.id for n in batch.nodes if n.schema == "Vessel"}
    assert vessels == {f"sf:{r['vessel_imo']}" for r in rows}
    first = batch.relations[0]  # 8727941,5731768,ISM Manager,2016-07-12,2023-09-25
    assert (first.holder, first.held, first.start, first.end) == (
        "sf:5731768",
        "sf:8727941",
        date(2016, 7, 12),
        date(2023, 9, 25),
    )
    assert (
        first.source_ref == "vessel_company.csv.gz:2" and first.id == "sf:vessel_company.csv.gz:2"
    )
    open_ended = [r for r in batch.relations if r.end is None]
    assert len(open_ended) == sum(1 for r in rows if not r["end_date"])


def test_a_register_with_its_own_column_names() -> None:
    mapping = EdgeMapping.parse(
        "owner=Shareholder,owned=Company,share=Pct,start=Since,end=Until,role=Role,"
        "source=Ref,owner_type=ShareholderType,owner_country=Country"
    )
    batch = read_edge_csv([REGISTER], "reg", mapping)
    karim, holding, samir = batch.relations
    assert (karim.kind, karim.share, karim.start) == (
        "ownership",
        Share.exact(0.505),
        date(2019, 5, 1),
    )
    assert karim.source_ref == "register.csv:2 register 2023 p.4"
    assert holding.share == Share(0.25, 0.5) and holding.end == date(2023, 1, 1)
    assert samir.kind == "directorship" and samir.share is None and samir.end == date(2021, 6, 1)
    people = {n.name: (n.schema, n.country) for n in batch.nodes}
    assert people["Karim Haddad"] == ("Person", "ir")
    assert people["Gulf Meridian Holding LLC"] == ("LegalEntity", None)  # first seen as owned
    assert batch.counts["rows"] == 3 and batch.counts["nodes"] == 4


def test_mapping_parse_keeps_defaults_and_refuses_unknown_fields() -> None:
    mapping = EdgeMapping.parse("owner=Shareholder, owned=Company ,share=Pct")
    assert (mapping.owner, mapping.owned, mapping.share, mapping.role) == (
        "Shareholder",
        "Company",
        "Pct",
        "role",
    )
    assert mapping.explicit == {"owner", "owned", "share"}
    assert EdgeMapping.parse("share_unit=fraction").share_unit == "fraction"
    for bad, field in (("holder=X", "holder"), ("owner", "owner"), ("share_unit=bp", "share_unit")):
        with pytest.raises(InputError) as caught:
            EdgeMapping.parse(bad)
        assert caught.value.field == field


def test_fraction_shares_and_kind_column(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("owner,owned,share,kind\nA,B,0.5,voting\nA,C,0.25,Directorship\n")
    batch = read_edge_csv([path], "t", EdgeMapping.parse("share_unit=fraction,kind=kind"))
    assert [(r.kind, r.share) for r in batch.relations] == [
        ("voting", Share.exact(0.5)),
        ("directorship", Share.exact(0.25)),
    ]


@pytest.mark.parametrize(
    ("text", "mapping", "line", "field", "message"),
    [
        ("owner,owned,share\nA,B,150\n", "", 2, "share", "outside"),
        ("owner,owned,start\nA,B,2019\nA,C,03/04/2019\n", "", 3, "start", "not a date"),
        ("owner,owned,start,end\nA,B,2020,2019\n", "", 2, "end", "before it starts"),
        ("owner,owned\nA,\n", "", 2, "owned", "empty"),
        ("owner,owned\nA,B,C\n", "", 2, None, "cells"),
        ("owner,owned,kind\nA,B,friend\n", "kind=kind", 2, "kind", "not a relation kind"),
        ("owner,owned,t\nA,B,Ship\n", "owned_type=t", 2, "t", "not a FollowTheMoney"),
        ("owner,owned,c\nA,B,Russia\n", "owned_country=c", 2, "c", "ISO 3166"),
        ("holder,owned\nA,B\n", "", 1, "owner", "no column"),
        ("owner,owned\nA,B\n", "share=Pct", 1, "Pct", "no column"),
    ],
)
def test_bad_rows_name_file_line_and_column(
    tmp_path: Path, text: str, mapping: str, line: int, field: str | None, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_edge_csv([path], "t", EdgeMapping.parse(mapping))
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(path), line, field)
    assert message in caught.value.message


def test_kind_from_role() -> None:
    assert kind_from_role("ISM Manager", "Vessel") == "vessel_manager"
    assert kind_from_role("Registered owner", "Vessel") == "vessel_owner"
    assert kind_from_role("operator", "Airplane") == "aircraft_operator"
    assert kind_from_role("Chairman of the Board", "Company") == "directorship"
    assert kind_from_role("member", "Organization") == "membership"
    assert kind_from_role("", "Company") == "ownership"


_CELL = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(_CELL, min_size=0, max_size=7), max_size=6))
def test_any_rows_give_input_error_or_a_clean_batch(tmp_path: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["owner", "owned", "share", "role", "start", "end", "source"])
    writer.writerows(rows)
    path = tmp_path / "any.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        batch = read_edge_csv([path], "h")
    except InputError as exc:
        assert exc.path == str(path)
        return
    ids = {n.id for n in batch.nodes}
    assert all(r.holder in ids and r.held in ids for r in batch.relations)
    assert all(
        r.share is None or 0.0 <= r.share.low <= r.share.high <= 1.0 for r in batch.relations
    )


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=300))
def test_any_bytes_give_input_error_or_a_batch(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "any.csv"
    path.write_bytes(data)
    try:
        read_edge_csv([path], "h")
    except InputError as exc:
        assert exc.path == str(path)


def test_two_files_of_one_name_keep_their_relations_apart(tmp_path: Path) -> None:
    for year in ("2023", "2024"):
        (tmp_path / year).mkdir()
        (tmp_path / year / "register.csv").write_text(f"owner,owned,start\nA,B,{year}\n")
    files = [tmp_path / "2023" / "register.csv", tmp_path / "2024" / "register.csv"]
    batch = read_edge_csv(files, "t")
    assert [r.start for r in batch.relations] == [date(2023, 1, 1), date(2024, 1, 1)]
    assert len({r.id for r in batch.relations}) == 2
    assert batch.relations[0].id == "t:register.csv:2"
