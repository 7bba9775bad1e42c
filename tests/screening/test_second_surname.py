"""A person named without their second family name ('Nicolas Maduro' for MADURO MOROS,
Nicolas) is named as Spanish and Portuguese speakers and the news name them: it costs
what a dropped middle name costs. The first family name alone, or in the second's
place, costs what it always did. Real rows of the bundled OFAC SDN list."""

from __future__ import annotations

import pytest

from watchkeeper.screening import Query, Screener, scoring
from watchkeeper.screening.index import IndexedName
from watchkeeper.screening.scoring import (
    EXTRA_LIST_PART,
    MIDDLE_LIST_PART,
    SECOND_SURNAME_NOTE,
    SECOND_SURNAME_PART,
    align_names,
)
from watchkeeper.store import StoredEntity

MADURO = "ofac-22790"  # MADURO MOROS, Nicolas
CABELLO = "ofac-24424"  # CABELLO RONDON, Diosdado
MADURO_GUERRA = "ofac-26946"  # MADURO GUERRA, Nicolas Ernesto
LINK = 0.8  # the reader's link threshold (documents.mentions)


def score_of(screener: Screener, name: str, entity_id: str) -> tuple[float, str]:
    """The entity's score for a person query, and its name explanation ('' if not found)."""
    query = Query.from_yente({"schema": "Person", "properties": {"name": [name]}})
    for hit in screener.screen(query, threshold=0.0, limit=20):
        if hit.entity.id == entity_id:
            detail = next(e.detail for e in hit.explanations if e.feature == "name_parts")
            return hit.score, detail
    return 0.0, ""


def listed_name(screener: Screener, entity_id: str) -> IndexedName:
    """The entity's 'SURNAME1 SURNAME2, Given' name as the index holds it."""
    index = screener.index
    position = index.by_id[entity_id]
    return next(n for n in index.names if n.entity == position and n.prop == "name")


def align_subset(name: IndexedName, keep: list[int]) -> float:
    """Score a query made of some of the listed name's own words (same weights)."""
    return align_names(
        tuple(name.forms[j] for j in keep),
        tuple(name.kinds[j] for j in keep),
        tuple(name.weights[j] for j in keep),
        name.forms,
        name.kinds,
        name.weights,
        c_family_from=name.family_from,
        person=True,
    ).score


@pytest.mark.parametrize(
    ("name", "entity_id", "left_out"),
    [
        ("Nicolas Maduro", MADURO, "moros"),
        ("Nicolás Maduro", MADURO, "moros"),
        ("Diosdado Cabello", CABELLO, "rondon"),
    ],
)
def test_second_surname_left_out_still_links(
    sdn_screener: Screener, name: str, entity_id: str, left_out: str
) -> None:
    score, detail = score_of(sdn_screener, name, entity_id)
    assert score >= LINK, detail
    # The one word missing, and no cap after it.
    assert detail.endswith(f"; not in the query: '{left_out}'{SECOND_SURNAME_NOTE}")


def test_the_person_ranks_above_a_namesake_with_more_names(sdn_screener: Screener) -> None:
    """MADURO GUERRA, Nicolas Ernesto also has a middle name the query lacks."""
    father, _ = score_of(sdn_screener, "Nicolas Maduro", MADURO)
    son, son_detail = score_of(sdn_screener, "Nicolas Maduro", MADURO_GUERRA)
    assert father > son
    assert f"not in the query: 'ernesto', 'guerra'{SECOND_SURNAME_NOTE}" in son_detail


def test_first_family_name_alone_does_not_link(sdn_screener: Screener) -> None:
    score, detail = score_of(sdn_screener, "Maduro", MADURO)
    assert score < LINK
    assert SECOND_SURNAME_NOTE not in detail


@pytest.mark.parametrize(
    ("entity_id", "keep"),
    [
        (MADURO, [0, 2]),  # 'Nicolas Moros': the first family name dropped
        (MADURO_GUERRA, [0, 3]),  # 'Nicolas Guerra'
        (MADURO_GUERRA, [0, 1, 3]),  # 'Nicolas Ernesto Guerra'
        (MADURO, [1, 2]),  # 'Maduro Moros': no given name
        (MADURO, [1]),  # 'Maduro'
    ],
)
def test_other_missing_words_cost_what_they_did(
    sdn_screener: Screener, entity_id: str, keep: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the second family name, with a given name and the first family name
    matched, is cheap: otherwise the score is the one it was before a left-out second
    family name was priced apart."""
    name = listed_name(sdn_screener, entity_id)
    assert name.family_from > 0
    now = align_subset(name, keep)
    monkeypatch.setattr(scoring, "SECOND_SURNAME_PART", EXTRA_LIST_PART)
    assert now == pytest.approx(align_subset(name, keep))


def test_second_surname_costs_a_middle_name_share(
    sdn_screener: Screener, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = listed_name(sdn_screener, MADURO)  # nicolas maduro moros
    w = name.weights
    assert align_subset(name, [0, 1]) == pytest.approx(
        (w[0] + w[1]) / (w[0] + w[1] + SECOND_SURNAME_PART * w[2])
    )
    assert SECOND_SURNAME_PART <= MIDDLE_LIST_PART
    monkeypatch.setattr(scoring, "SECOND_SURNAME_PART", EXTRA_LIST_PART)
    assert align_subset(name, [0, 1]) < LINK  # the price it had: why it did not link


def test_an_extra_query_word_keeps_the_second_surname_full_price(
    sdn_screener: Screener,
) -> None:
    """'Nicolas Ernesto Maduro' against MADURO MOROS, Nicolas: the query's words are not
    the given and first family name alone, so nothing is assumed left out."""
    name = listed_name(sdn_screener, MADURO)
    query = ("nicolas", "ernesto", "maduro")
    weights = (name.weights[0], 8.0, name.weights[1])
    scores = [
        align_names(
            query,
            ("name",) * 3,
            weights,
            name.forms,
            name.kinds,
            name.weights,
            c_family_from=family_from,
            person=True,
        )
        for family_from in (name.family_from, -1)
    ]
    assert scores[0].score == pytest.approx(scores[1].score)
    assert SECOND_SURNAME_NOTE not in scores[0].detail()


def test_lists_that_give_the_family_name_apart() -> None:
    """EU, UK and OFAC XML entries write 'Nicolás MADURO MOROS' and give ``lastName``
    apart: the family name is known there too. An entry without it is left as it was."""
    structured = StoredEntity(
        "eu-1",
        "Person",
        "Nicolás MADURO MOROS",
        {"name": ["Nicolás MADURO MOROS"], "firstName": ["Nicolás"], "lastName": ["MADURO MOROS"]},
    )
    plain = StoredEntity(
        "plain-1", "Person", "Nicolás MADURO MOROS", {"name": ["Nicolás MADURO MOROS"]}
    )
    # Enough other people that the names' words are rare, as on a real list.
    given = "Pedro Ana Jose Luis Carmen Rosa Jorge Elena Pablo Marta".split()
    family = "GARCIA LOPEZ DIAZ MORA MARIN ORTEGA VEGA RUIZ".split()
    others = [
        StoredEntity(f"o{i}", "Person", f"{g} {f}", {"name": [f"{g} {f}"]})
        for i, (g, f) in enumerate((g, f) for g in given for f in family)
    ]
    screener = Screener.from_entities([structured, plain, *others])
    index = screener.index
    family_from = {
        index.entity_ids[n.entity]: n.family_from for n in index.names if n.prop == "name"
    }
    assert family_from["eu-1"] == 1
    assert family_from["plain-1"] == -1
    with_family, detail = score_of(screener, "Nicolas Maduro", "eu-1")
    without, plain_detail = score_of(screener, "Nicolas Maduro", "plain-1")
    assert f"'moros'{SECOND_SURNAME_NOTE}" in detail
    assert SECOND_SURNAME_NOTE not in plain_detail
    assert with_family > without
