"""Queries that give a person's name only in parts (firstName, fatherName, lastName...),
as OpenSanctions' yente documentation shows: ``Query.from_yente`` screens the full names
the parts make."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.errors import InputError
from watchkeeper.screening import Query, Screener
from watchkeeper.screening.decisions import fingerprint
from watchkeeper.screening.normalize import MAX_NAME_CHARS
from watchkeeper.screening.query_names import (
    NAME_PART_PROPS,
    composed_names,
    with_composed_names,
)

# The bundled OFAC SDN 2023-12-28: "MADURO MOROS, Nicolas" and "ROTENBERG, Arkady
# Romanovich" (the person of yente's /match documentation example).
MADURO = "ofac-22790"
ROTENBERG = "ofac-16669"


def _query(properties: dict[str, Any], schema: str = "Person") -> Query:
    return Query.from_yente({"schema": schema, "properties": properties})


# ---- composition (hand-made edge cases) --------------------------------------------------


def test_given_parts_then_one_name_per_last_name() -> None:
    props = {
        "lastName": ["Rotenberg", "Rotenberg-Petrov"],
        "fatherName": ["Romanovich"],
        "firstName": ["Arkadii"],
    }
    assert composed_names(props) == [
        "Arkadii Romanovich Rotenberg",
        "Arkadii Romanovich Rotenberg-Petrov",
    ]


def test_ftm_order_of_given_parts() -> None:
    props = {
        "motherName": ["Moros"],
        "fatherName": ["Maduro"],
        "middleName": ["M."],
        "secondName": ["Jose"],
        "firstName": ["Nicolas"],
    }
    assert composed_names(props) == ["Nicolas Jose M. Maduro Moros"]


def test_a_full_name_wins_and_nothing_is_composed() -> None:
    props = {"alias": ["N. Maduro"], "firstName": ["Nicolas"], "lastName": ["Maduro"]}
    assert composed_names(props) == []
    assert with_composed_names(props) == props
    assert composed_names({"birthDate": ["1962"]}) == []


def test_spaces_squashed_and_duplicates_dropped() -> None:
    props = {"firstName": ["  Nicolas  "], "lastName": ["Maduro   Moros", "Maduro Moros"]}
    assert composed_names(props) == ["Nicolas Maduro Moros"]


def test_composed_name_too_long_or_too_short_is_our_error() -> None:
    long_part = "A" * (MAX_NAME_CHARS // 2 + 1)
    with pytest.raises(InputError, match="characters long"):
        composed_names({"firstName": [long_part], "lastName": [long_part]})
    with pytest.raises(InputError, match="too short"):
        composed_names({"middleName": ["A"]})


# ---- Query.from_yente --------------------------------------------------------------------


def test_from_yente_composes_and_keeps_the_parts() -> None:
    query = _query({"firstName": "Nicolas", "lastName": ["MADURO MOROS"]})
    assert query.names() == ["Nicolas MADURO MOROS"]
    assert query.properties["firstName"] == ["Nicolas"]
    assert query.properties["lastName"] == ["MADURO MOROS"]


def test_from_yente_keeps_each_parts_own_validation() -> None:
    with pytest.raises(InputError) as exc:
        _query({"firstName": ["X"], "lastName": ["Maduro"]})
    assert exc.value.field == "properties.firstName" and "too short" in exc.value.message
    with pytest.raises(InputError) as exc:
        _query({"firstName": ["Nicolas"], "lastName": ["Mad\x07uro"]})
    assert exc.value.field == "properties.lastName" and "control character" in exc.value.message
    with pytest.raises(InputError, match="too short to screen"):
        _query({"middleName": ["A"]})
    # Name parts are person properties: an organisation has none.
    with pytest.raises(InputError, match="no property 'firstName'"):
        _query({"firstName": ["Mahan"]}, schema="Organization")


def test_a_query_with_neither_names_nor_parts_is_still_rejected() -> None:
    with pytest.raises(InputError, match="no name and no identifier"):
        _query({"birthDate": ["1962-11-23"]})


def test_parts_and_full_name_give_one_fingerprint() -> None:
    """A reviewer's decision on "Nicolas MADURO MOROS" meets the same person sent in parts."""
    full = _query({"name": ["Nicolas MADURO MOROS"]})
    parts = _query({"firstName": ["Nicolas"], "fatherName": ["Maduro"], "motherName": ["Moros"]})
    assert fingerprint(parts.schema, parts.properties) == fingerprint(full.schema, full.properties)


_PART_VALUES = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.text(alphabet="ab \u200b\x07\n-", max_size=12),
        st.integers(),
        st.booleans(),
        st.none(),
    ),
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(NAME_PART_PROPS), _PART_VALUES, max_size=4))
def test_any_name_parts_give_names_or_our_error(props: dict[str, Any]) -> None:
    """Mutated name parts: a query with the composed names, or an InputError; nothing else."""
    try:
        query = _query(props)
    except InputError:
        return
    names = query.names()
    assert names, "a query without our error must have a name to screen"
    for name in names:
        assert sum(c.isalnum() for c in name) >= 2 and len(name) <= MAX_NAME_CHARS


# ---- screening the real list -------------------------------------------------------------


def test_first_and_last_name_only_finds_nicolas_maduro(sdn_screener: Screener) -> None:
    hits = sdn_screener.screen(_query({"firstName": ["Nicolas"], "lastName": ["MADURO MOROS"]}))
    assert hits[0].entity.id == MADURO and hits[0].match
    assert all(not h.match for h in hits[1:])


def test_yente_docs_example_in_parts_finds_rotenberg(sdn_screener: Screener) -> None:
    # yente's documented /match example: firstName, fatherName, lastName (no name).
    query = _query(
        {"firstName": ["Arkadii"], "fatherName": ["Romanovich"], "lastName": ["Rotenberg"]}
    )
    hits = sdn_screener.screen(query)
    assert hits[0].entity.id == ROTENBERG and hits[0].match
