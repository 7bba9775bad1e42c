"""Three outcomes, never a silent guess: share ranges that straddle the threshold and
holders of unknown identity make a party ``possibly_blocked``, and the exposure says by
how much; the date decides which statements count."""

from __future__ import annotations

import json
from datetime import date

from tests.conftest import shared_path
from tests.graph.test_control_ofac import own
from watchkeeper.graph.control import assess
from watchkeeper.graph.formats.bods import read_bods
from watchkeeper.graph.model import Relation, Share

DAY = date(2025, 6, 1)


def test_a_range_straddling_the_threshold_is_possibly_blocked() -> None:
    """A register's "40-55%" held by a blocked person: blocked if the top is true."""
    result = assess([own("X", "A", Share(0.4, 0.55))], {"X"}, "ofac", as_of=DAY)
    exposure = result.exposure("A")
    assert exposure.status == "possibly_blocked"
    assert exposure.aggregate == Share(0.4, 0.55)
    assert exposure.margin.startswith(
        "blocked holders hold 40%-55%: blocked if the range's top is true"
    )
    assert result.possibly_blocked() == ["A"]
    assert result.blocked_unlisted() == []


def test_an_unknown_holder_could_tip_it_and_says_by_how_much() -> None:
    """X (blocked) 40%, a holder of unknown identity 20%, Z (known, unlisted) 45%: the
    unknown holder can bring blocked ownership to at most 55% (Z's 45% caps it)."""
    rels = [own("X", "A", 0.4), own("anon", "A", 0.2), own("Z", "A", 0.45)]
    exposure = assess(rels, {"X"}, "ofac", as_of=DAY, unknown={"anon"}).exposure("A")
    assert exposure.status == "possibly_blocked"
    assert exposure.margin.startswith(
        "a holder of unknown identity of up to 20% could bring blocked ownership to 55%"
    )
    assert exposure.aggregate == Share(0.4, 0.55)
    # Known, the same holder tips nothing.
    assert assess(rels, {"X"}, "ofac", as_of=DAY).status("A") == "not_blocked"


def test_an_unknown_holder_too_small_to_tip_it_leaves_it_not_blocked() -> None:
    """X 10% and an unknown holder of 20% reach 30% at most: 20 points below."""
    rels = [own("X", "A", 0.1), own("anon", "A", 0.2)]
    exposure = assess(rels, {"X"}, "ofac", as_of=DAY, unknown={"anon"}).exposure("A")
    assert exposure.status == "not_blocked"
    assert exposure.margin == (
        "blocked holders and holders of unknown identity hold at most 30% by ownership: "
        "20% below the threshold (50% or more)"
    )


def test_what_others_are_known_to_hold_caps_a_range() -> None:
    """X 30-60%, but Z (not listed) is known to hold 55%: X can hold at most 45%."""
    rels = [own("X", "A", Share(0.3, 0.6)), own("Z", "A", 0.55)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.status("A") == "not_blocked"
    assert result.exposure("A").aggregate == Share(0.3, 0.45)


def test_an_unstated_share_of_a_blocked_holder_is_possibly_blocked() -> None:
    """A blocked holder with no stated share may hold anything up to 100%."""
    result = assess([own("X", "A", None)], {"X"}, "ofac", as_of=DAY)
    assert result.status("A") == "possibly_blocked"


def test_possibly_blocked_passes_down_with_its_chain() -> None:
    """A possibly blocked company's 100% subsidiary is possibly blocked too, and its
    chain reaches the listed party through the uncertain statement."""
    rels = [own("X", "A", Share(0.4, 0.6)), own("A", "B", 1.0)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.statuses() == {"X": "blocked", "A": "possibly_blocked", "B": "possibly_blocked"}
    chain = result.exposure("B").chain
    assert [(s.holder, s.holder_status, s.share) for s in chain] == [
        ("A", "possibly_blocked", "100%"),
        ("X", "blocked", "40-60%"),
    ]
    assert "holders that may be blocked could bring blocked ownership to 100%" in (
        result.exposure("B").margin
    )


def test_exclusive_bounds_are_kept() -> None:
    """BODS exclusiveMaximum: "25% to less than 50%" never reaches 50%; "more than 25%
    up to 50%" may."""
    below = own("X", "A", Share(0.25, 0.5, high_exclusive=True))
    assert assess([below], {"X"}, "ofac", as_of=DAY).status("A") == "not_blocked"
    upto = own("X", "A", Share(0.25, 0.5, low_exclusive=True))
    assert assess([upto], {"X"}, "ofac", as_of=DAY).status("A") == "possibly_blocked"


def test_uk_range_and_unknown_holder() -> None:
    """UK, more than 50%: a designated person's 40-60% is possibly more than half; an
    unknown holder's 60% may be a designated person's (OFSI: one person's holding)."""
    ranged = assess([own("X", "A", Share(0.4, 0.6))], {"X"}, "uk", as_of=DAY)
    assert ranged.status("A") == "possibly_blocked"
    assert ranged.exposure("A").controller == "X"
    rels = [own("anon", "A", 0.6), own("A", "B", 0.7)]
    anon = assess(rels, {"X"}, "uk", as_of=DAY, unknown={"anon"})
    assert anon.statuses() == {"X": "blocked", "A": "possibly_blocked", "B": "possibly_blocked"}
    assert anon.exposure("B").controller == "<unknown holder>"


def test_only_statements_in_force_on_the_day_count() -> None:
    """A holding counts from its start day up to (not including) its end day."""
    rels = [own("X", "A", 0.6, start=date(2023, 1, 1), end=date(2024, 1, 1))]
    on = {
        d: assess(rels, {"X"}, "eu", as_of=d).status("A")
        for d in (date(2022, 12, 31), date(2023, 1, 1), date(2023, 12, 31), date(2024, 1, 1))
    }
    assert list(on.values()) == ["not_blocked", "blocked", "blocked", "not_blocked"]
    exposure = assess(rels, {"X"}, "eu", as_of=date(2023, 6, 1)).exposure("A")
    step = exposure.to_dict()["chain"][0]
    assert (step["start"], step["end"], step["source_ref"]) == (
        "2023-01-01",
        "2024-01-01",
        "ofac-example#X>A",
    )


def test_exposure_of_listed_and_absent_parties() -> None:
    """A listed party is blocked by its listing, with no chain; a party the graph does
    not know is not blocked, and says so; both serialise as JSON."""
    result = assess([own("X", "A", 0.6)], {"X"}, "ofac", as_of=DAY)
    listed = result.exposure("X")
    assert (listed.status, listed.listed, listed.margin, listed.chain) == (
        "blocked",
        True,
        "listed itself",
        (),
    )
    absent = result.exposure("nobody")
    assert absent.status == "not_blocked" and absent.chain == ()
    for e in (listed, absent, result.exposure("A")):
        assert json.loads(json.dumps(e.to_dict()))["regime"] == "ofac"


# -- the Beneficial Ownership Data Standard's own examples (../shared, real statements) --


def bods(name: str) -> tuple[list[Relation], dict[str, str], set[str]]:
    """The current relations of a BODS example (replaced statements dropped), node ids
    by name, and the ids of unknown or anonymous parties."""
    batch = read_bods([shared_path("ownership", "bods", "examples", name)], "bods")
    ids = {n.name: n.id for n in batch.nodes}
    unknown = {n.id for n in batch.nodes if n.unknown}
    return [r for r in batch.relations if r.id not in batch.replaced], ids, unknown


def test_bods_exclusive_maximum_below_50_percent_never_blocks() -> None:
    """bods-package-linking-annotations.json: Mr Jeremy Hunt holds ">25-<50%" of MARE
    POND PROPERTIES LIMITED (exclusiveMinimum/exclusiveMaximum). Were he listed, the
    holding could not reach 50%: not blocked, and 0.0001% below is not rounded up."""
    rels, ids, _ = bods("bods-package-linking-annotations.json")
    result = assess(rels, {ids["Mr Jeremy Hunt"]}, "ofac", as_of=DAY)
    exposure = result.exposure(ids["MARE POND PROPERTIES LIMITED"])
    assert exposure.status == "not_blocked"
    assert exposure.chain[0].share == ">25-<50%"


def test_bods_range_whose_bottom_is_a_majority_blocks() -> None:
    """bods-package-entity-owning-entity.json: MVJ LIMITED holds 75-<100% of JENEX
    LIMITED: blocked under every regime were MVJ listed (the range's bottom is enough)."""
    rels, ids, _ = bods("bods-package-entity-owning-entity.json")
    for regime in ("ofac", "eu", "uk"):
        result = assess(rels, {ids["MVJ LIMITED"]}, regime, as_of=DAY)  # type: ignore[arg-type]
        assert result.blocked_unlisted() == [ids["JENEX LIMITED"]]


def test_bods_stated_indirect_holding_is_possibly_blocked_not_double_counted() -> None:
    """multiple-indirect-ownership.json: Company C and Company D hold 50% each of Company
    B; Person 1 is stated to hold 60% of B indirectly (through them). Were Person 1
    listed, B is possibly blocked (blocked if C or D is owned 50% by Person 1), never
    blocked on the indirect statement alone; with C listed too, B is blocked through
    C's direct 50%, and the indirect 60% is not added on top."""
    rels, ids, _ = bods("multiple-indirect-ownership.json")
    person, b = ids["Person 1"], ids["Company B"]
    alone = assess(rels, {person}, "ofac", as_of=DAY).exposure(b)
    assert alone.status == "possibly_blocked"
    assert alone.margin.startswith(
        "blocked holders are stated to hold up to 60% by ownership indirectly"
    )
    assert [s.direct for s in alone.chain] == [False]
    with_c = assess(rels, {person, ids["Company C"]}, "ofac", as_of=DAY).exposure(b)
    assert with_c.status == "blocked"
    assert with_c.aggregate.low == 0.5


def test_bods_anonymous_beneficiary_is_an_unknown_holder() -> None:
    """levent.json: the Levent Trust's beneficiary is an anonymous person exempt from
    disclosure, of unstated share: it could be a blocked person, so the trust is
    possibly blocked under OFAC; the trustees' and settlor's control does not count
    under OFAC (FAQ 398)."""
    rels, ids, unknown = bods("levent.json")
    assert len(unknown) == 1
    result = assess(rels, set(), "ofac", as_of=DAY, unknown=unknown)
    exposure = result.exposure(ids["Levent Trust"])
    assert exposure.status == "possibly_blocked"
    assert "unknown identity of up to 100%" in exposure.margin
    assert assess(rels, set(), "ofac", as_of=DAY).status(ids["Levent Trust"]) == "not_blocked"


def test_bods_holdings_over_time() -> None:
    """tecido.json, its statements in force (replaced ones dropped, as the current graph
    does): Maria Esteves 30% of Tecido Ltd until 2023-03-03, Shear Trust 80% from
    2023-03-01. Were Shear Trust listed, Tecido is blocked from 2023-03-01 by that one
    statement; were Maria Esteves listed, her 30% never blocks, and after 2023-03-03
    she holds nothing."""
    rels, ids, _ = bods("tecido.json")
    trust, maria, tecido = ids["Shear Trust"], ids["Maria Esteves"], ids["Tecido Ltd"]
    after = assess(rels, {trust}, "ofac", as_of=date(2023, 3, 1))
    assert after.status(tecido) == "blocked"
    assert [s.share for s in after.exposure(tecido).chain] == ["80%"]
    held = assess(rels, {maria}, "uk", as_of=date(2023, 3, 2)).exposure(tecido)
    assert (held.status, held.aggregate.high) == ("not_blocked", 0.3)
    gone = assess(rels, {maria}, "uk", as_of=date(2023, 3, 3)).exposure(tecido)
    assert gone.chain == () and gone.status == "not_blocked"
