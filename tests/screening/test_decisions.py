from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.ofac_rows import ASSAD, MAHAN_AIR, OLD, load_sdn
from watchkeeper.errors import InputError
from watchkeeper.screening.decisions import (
    NOT_A_MATCH,
    DecisionStore,
    fingerprint,
    normalise_query,
    reviewed,
)
from watchkeeper.store import Store


def test_fingerprint_ignores_order_case_and_diacritics() -> None:
    a = fingerprint("Person", {"name": ["Bashar al-Assad"]})
    b = fingerprint("Person", {"name": ["AL-ASSAD, Bashar"]})
    c = fingerprint("Person", {"name": "Báshar  Al Assad"})
    assert a == b == c
    # Name parts without a full name give the same subject.
    d = fingerprint("Person", {"firstName": ["Bashar"], "lastName": ["al-Assad"]})
    assert d == a


def test_fingerprint_tells_subjects_apart() -> None:
    base = fingerprint("Person", {"name": ["Bashar al-Assad"]})
    assert fingerprint("Person", {"name": ["Bashar al-Asad"]}) != base
    assert fingerprint("Organization", {"name": ["Bashar al-Assad"]}) != base
    with_id = fingerprint("Person", {"name": ["Bashar al-Assad"], "passportNumber": ["X 12-3"]})
    assert with_id != base
    # Identifiers are compared on letters and digits only.
    assert with_id == fingerprint(
        "Person", {"name": ["Bashar al-Assad"], "passportNumber": ["x123"]}
    )


def test_fingerprint_keeps_the_facts_that_tell_namesakes_apart() -> None:
    """A decision made on a birth date (or country, gender) is about that person only."""
    name = {"name": ["Nicolas Maduro"]}
    bare = fingerprint("Person", name)
    born = fingerprint("Person", {**name, "birthDate": ["1990-01-01"]})
    assert born != bare
    assert born != fingerprint("Person", {**name, "birthDate": ["1962-11-23"]})
    assert born == fingerprint("Person", {"name": ["MADURO, Nicolás"], "birthDate": ["1990-01-01"]})
    assert fingerprint("Person", {**name, "nationality": ["VE"]}) == fingerprint(
        "Person", {**name, "nationality": ["ve"]}
    )
    assert fingerprint("Person", {**name, "nationality": ["ve"]}) != bare
    norm = normalise_query("Person", {**name, "birthDate": ["1990-01-01"], "gender": ["Male"]})
    assert norm.to_dict()["qualifiers"] == {"birthDate": ["1990-01-01"], "gender": ["male"]}
    # A query of names and identifiers alone keeps the fingerprint decisions were keyed on
    # before qualifiers were part of it.
    assert bare == "fa4b208e514bad0fd2bc8767678da2fb"


def test_normalised_query_is_readable() -> None:
    norm = normalise_query("Vessel", {"name": ["Adrian Darya 1"], "imoNumber": ["IMO 9116412"]})
    assert norm.to_dict() == {
        "schema": "Vessel",
        "names": ["1 adrian darya"],
        "identifiers": ["IMO9116412"],
    }


@pytest.mark.parametrize(
    ("schema", "props", "field"),
    [
        ("Spaceship", {"name": ["X"]}, "schema"),
        ("Person", {"name": ["   "], "birthDate": ["1970"]}, "properties"),
        ("Person", {}, "properties"),
    ],
)
def test_fingerprint_bad_input(schema: str, props: dict[str, list[str]], field: str) -> None:
    with pytest.raises(InputError) as err:
        fingerprint(schema, props)
    assert err.value.field == field


def test_add_list_revoke(store: Store, tmp_path: Path) -> None:
    load_sdn(store, OLD, [MAHAN_AIR, ASSAD])
    decisions = DecisionStore(store)
    query = {"name": ["Mahan Travel Agency"], "country": ["gb"]}
    made, new = decisions.add(
        "Company", query, "ofac-12927", by="a.reviewer", reason="travel agent in Leeds"
    )
    assert new and made.active and made.decision == NOT_A_MATCH
    again, new_again = decisions.add(
        "Company",
        {"name": ["MAHAN travel agency"], "country": ["GB"]},
        "ofac-12927",
        by="b",
        reason="dup",
    )
    assert not new_again and again.decision_id == made.decision_id
    # Without the country it is another query (a namesake elsewhere): not decided.
    elsewhere = fingerprint("Company", {"name": ["Mahan Travel Agency"]})
    assert reviewed(decisions, elsewhere, ["ofac-12927"]) == {}

    fp = fingerprint("Company", query)
    assert set(reviewed(decisions, fp, ["ofac-12927", "ofac-12735"])) == {"ofac-12927"}
    # A fresh DecisionStore reads the same decision back from the table.
    assert DecisionStore(store).for_fingerprint(fp)["ofac-12927"].reason == "travel agent in Leeds"

    revoked = decisions.revoke(made.decision_id, by="c.lead", reason="agency is a front")
    assert not revoked.active and revoked.revoked_by == "c.lead"
    assert reviewed(decisions, fp, ["ofac-12927"]) == {}
    assert DecisionStore(store).for_fingerprint(fp) == {}
    # Revoked decisions stay on record.
    listed = decisions.list()
    assert [d.decision_id for d in listed] == [made.decision_id]
    assert decisions.list(include_revoked=False) == []
    with pytest.raises(InputError, match="already revoked"):
        decisions.revoke(made.decision_id, by="c.lead", reason="again")


def test_add_refuses_unknown_entity_and_empty_reason(store: Store, tmp_path: Path) -> None:
    load_sdn(store, OLD, [MAHAN_AIR])
    decisions = DecisionStore(store)
    with pytest.raises(InputError) as err:
        decisions.add("Person", {"name": ["X Y"]}, "ofac-999999999", by="a", reason="r")
    assert err.value.field == "entity_id"
    with pytest.raises(InputError) as err:
        decisions.add("Person", {"name": ["X Y"]}, "ofac-12927", by="a", reason="  ")
    assert err.value.field == "reason"
    with pytest.raises(InputError):
        decisions.revoke(42, by="a", reason="r")
    assert store.con.execute("SELECT count(*) FROM screening_decisions").fetchone() == (0,)
