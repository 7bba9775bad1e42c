"""FollowTheMoney reader: hand-made entities in OpenSanctions' shape (no FtM relation
file is in ../shared), nested JSON, and malformed input (hypothesis)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.errors import InputError
from watchkeeper.graph.formats import read_ftm
from watchkeeper.graph.model import GraphBatch, Node, Relation, Share

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "graph" / "ftm"


@pytest.fixture(scope="module")
def network() -> GraphBatch:
    return read_ftm([FIXTURES / "network.jsonl"], "os")


def node(batch: GraphBatch, entity_id: str) -> Node:
    return next(n for n in batch.nodes if n.id == f"{batch.source}:{entity_id}")


def relation(batch: GraphBatch, entity_id: str) -> Relation:
    return next(r for r in batch.relations if r.id == f"{batch.source}:{entity_id}")


def test_every_interval_schema_maps_to_its_kind_and_direction(network: GraphBatch) -> None:
    got = {r.id.split(":")[1]: (r.kind, r.holder, r.held) for r in network.relations}
    assert got == {
        "own-1": ("ownership", "os:p-owner", "os:co-holding"),
        "own-2": ("ownership", "os:co-holding", "os:co-spv"),
        "own-3": ("ownership", "os:co-ru", "os:co-spv"),
        "own-4": ("ownership", "os:co-spv", "os:vessel-1"),
        "own-5": ("ownership", "os:p-brother", "os:co-ru"),
        "dir-1": ("directorship", "os:p-brother", "os:co-holding"),
        "mem-1": ("membership", "os:co-ru", "os:co-nojur"),
        "fam-1": ("family", "os:p-owner", "os:p-brother"),
        "assoc-1": ("associate", "os:p-brother", "os:p-outside"),
        "link-1": ("unknown_link", "os:co-ru", "os:plane-1"),
        "rep-1": ("representation", "os:co-nojur", "os:co-holding"),
    }
    assert network.counts["skipped:Sanction"] == 1 and network.counts["skipped:Employment"] == 1
    assert network.counts["entities"] == 21


def test_percentages_become_exact_fractions_and_ranges(network: GraphBatch) -> None:
    assert relation(network, "own-1").share == Share.exact(0.505)
    assert relation(network, "own-2").share == Share(0.25, 0.5)
    assert relation(network, "own-3").share == Share(0.5, 1.0, low_exclusive=True)
    assert relation(network, "own-4").share == Share.exact(1.0)
    assert relation(network, "own-5").share == Share(0.0, 0.25, high_exclusive=True)
    assert relation(network, "dir-1").share is None


def test_partial_dates_start_at_the_beginning_and_end_after_the_period(network: GraphBatch) -> None:
    own1 = relation(network, "own-1")
    assert own1.start == date(2019, 5, 1) and own1.end is None
    own2 = relation(network, "own-2")
    assert (own2.start, own2.end) == (date(2020, 1, 1), date(2023, 1, 1))
    assert own2.valid_on(date(2022, 12, 31)) and not own2.valid_on(date(2023, 1, 1))
    director = relation(network, "dir-1")
    assert (director.start, director.end) == (date(2019, 1, 1), date(2021, 6, 1))
    assert director.role == "managing director"


def test_identifiers_by_schema(network: GraphBatch) -> None:
    assert node(network, "vessel-1").identifiers == {"imo": ("9123456",), "mmsi": ("538001234",)}
    assert (
        node(network, "vessel-1").country == "mh" and node(network, "vessel-1").schema == "Vessel"
    )
    holding = node(network, "co-holding")
    assert holding.identifiers == {
        "lei": ("5493001KJTIIGC8Y1R12",),
        "registration": ("AE:CN-1234567",),
    }
    # a company's IMO number is its IMO company number; registration by its one country
    assert node(network, "co-spv").identifiers == {
        "imo_company": ("6123456",),
        "registration": ("MH:98765",),
    }
    assert node(network, "co-ru").identifiers == {
        "inn": ("7701234567",),
        "ogrn": ("1027700123456",),
        "tax": ("7701234567",),
    }
    assert node(network, "co-nojur").identifiers == {"registration": ("?:A-1",)}
    # an Airplane's registration number is its mark; icaoCode is a type designator
    assert node(network, "plane-1").identifiers == {"registration_mark": ("EP-ABC",)}
    assert node(network, "p-owner").country == "ir" and node(network, "p-owner").schema == "Person"


def test_a_party_no_entity_describes_gets_a_placeholder(network: GraphBatch) -> None:
    outside = node(network, "p-outside")
    assert outside.name == "p-outside" and outside.source_ref == ""
    assert network.counts["placeholder_nodes"] == 1


def test_nested_entities_are_read_with_their_relation() -> None:
    batch = read_ftm([FIXTURES / "nested.json"], "al")
    (own,) = batch.relations
    assert (own.holder, own.held, own.share) == ("al:p-nested", "al:co-nested", Share.exact(0.75))
    assert (
        node(batch, "p-nested").name == "Nadia Orlova" and node(batch, "p-nested").country == "ru"
    )
    assert node(batch, "co-nested").identifiers == {"registration": ("RU:1187746000001",)}
    assert batch.counts["placeholder_nodes"] == 0


def test_one_object_and_an_array_read_like_json_lines(tmp_path: Path) -> None:
    lines = (FIXTURES / "network.jsonl").read_text().splitlines()
    array = tmp_path / "network.json"
    array.write_text(json.dumps([json.loads(line) for line in lines], indent=2))

    def unsourced(batch: GraphBatch) -> list[Relation]:
        return [replace(r, source_ref="") for r in batch.relations]

    from_array = unsourced(read_ftm([array], "os"))
    assert from_array == unsourced(read_ftm([FIXTURES / "network.jsonl"], "os"))
    assert len(from_array) == 11
    single = tmp_path / "one.json"
    single.write_text(json.dumps(json.loads(lines[0]), indent=2))
    (only,) = read_ftm([single], "os").nodes
    assert only.name == "Gulf Meridian Holding LLC"


@pytest.mark.parametrize(
    ("entity", "field", "message"),
    [
        ({"schema": "Ownership", "properties": {}}, "$[0].id", "needs an id"),
        ({"id": "x", "schema": "Owner"}, "$[0].schema", "not a FollowTheMoney schema"),
        (
            {"id": "x", "schema": "Ownership", "properties": {"asset": ["a"]}},
            "$[0].properties.owner",
            "required",
        ),
        (
            {
                "id": "x",
                "schema": "Ownership",
                "properties": {"owner": ["o"], "asset": ["a"], "percentage": ["120"]},
            },
            "$[0].properties.percentage",
            "outside",
        ),
        (
            {
                "id": "x",
                "schema": "Ownership",
                "properties": {"owner": ["o"], "asset": ["a"], "percentage": ["half"]},
            },
            "$[0].properties.percentage",
            "not a percentage",
        ),
        (
            {
                "id": "x",
                "schema": "Directorship",
                "properties": {"director": ["o"], "organization": ["a"], "startDate": ["2019-13"]},
            },
            "$[0].properties.startDate",
            "not a date",
        ),
        (
            {
                "id": "x",
                "schema": "Directorship",
                "properties": {
                    "director": ["o"],
                    "organization": ["a"],
                    "startDate": ["2020"],
                    "endDate": ["2018"],
                },
            },
            "$[0].properties.endDate",
            "before it starts",
        ),
        (
            {"id": "x", "schema": "Company", "properties": {"name": [{"a": 1}]}},
            "$[0].properties.name[0]",
            "string",
        ),
        ({"id": "x", "schema": "Company", "properties": "Acme"}, "$[0].properties", "object"),
    ],
)
def test_bad_entities_name_the_record_and_field(
    tmp_path: Path, entity: dict[str, object], field: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([entity]))
    with pytest.raises(InputError) as caught:
        read_ftm([path], "t")
    assert caught.value.field == field and message in caught.value.message
    assert caught.value.path == str(path)


def test_a_bad_json_line_is_named_by_its_line(tmp_path: Path) -> None:
    lines = (FIXTURES / "network.jsonl").read_text().splitlines()
    lines.insert(3, "")  # blank lines are skipped but still counted
    lines[10] = lines[10][:-5]  # truncated
    path = tmp_path / "cut.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(InputError) as caught:
        read_ftm([path], "t")
    assert caught.value.line == 11 and "not a JSON line" in caught.value.message


_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)
_LINES = (FIXTURES / "network.jsonl").read_text().splitlines()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    line=st.integers(0, len(_LINES) - 1),
    key=st.sampled_from(
        [
            "id",
            "schema",
            "properties",
            "owner",
            "asset",
            "percentage",
            "startDate",
            "endDate",
            "name",
            "imoNumber",
            "registrationNumber",
        ]
    ),
    value=_VALUE,
)
def test_damaged_entities_give_input_error_or_a_clean_batch(
    tmp_path: Path, line: int, key: str, value: object
) -> None:
    entities = [json.loads(text) for text in _LINES]
    target = entities[line]
    if key in ("id", "schema", "properties"):
        target[key] = value
    else:
        target["properties"][key] = value
    path = tmp_path / "damaged.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in entities))
    try:
        batch = read_ftm([path], "h")
    except InputError as exc:
        assert exc.path == str(path)
        return
    ids = {n.id for n in batch.nodes}
    assert all(r.holder in ids and r.held in ids for r in batch.relations)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=30))
def test_any_percentage_string_is_a_share_or_an_input_error(tmp_path: Path, text: str) -> None:
    entity = {
        "id": "o",
        "schema": "Ownership",
        "properties": {"owner": ["a"], "asset": ["b"], "percentage": [text]},
    }
    path = tmp_path / "pct.json"
    path.write_text(json.dumps(entity))
    try:
        (own,) = read_ftm([path], "h").relations
    except InputError as exc:
        assert exc.field == "properties.percentage" or exc.field == "$[0].properties.percentage"
        return
    assert own.share is None or 0.0 <= own.share.low <= own.share.high <= 1.0
