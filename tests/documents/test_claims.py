"""Attributed claims on the founding report, and hand-made sentences for each rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.claims import extract_claims
from watchkeeper.documents.layout import split_blocks, split_sentences

SEED = (DATA / "articles" / "seed-iran-venezuela.txt").read_text("utf-8")


def _claims(text: str) -> list[tuple[str, str]]:
    blocks = split_blocks(text)
    return [(c.source, c.content) for c in extract_claims(split_sentences(text, blocks))]


def test_founding_report_claims_have_their_sources() -> None:
    blocks = split_blocks(SEED)
    claims = extract_claims(split_sentences(SEED, blocks))
    by_source: dict[str, list[str]] = {}
    for c in claims:
        by_source.setdefault(c.source_key, []).append(c.content)
    # Admiral Faller, however written ("the admiral Craig faller", "Admiral Faller", "he").
    faller = by_source["craig faller"]
    assert any("growing Iranian influence" in c for c in faller)
    assert any("really concerned about what Iran is doing" in c for c in faller)
    assert any("not just oil shipments" in c for c in faller)  # ", said." with no speaker
    assert any("The United States has made considerable effort" in c for c in faller)  # he said
    assert any("deliveries are continuing" in c for c in by_source["venezuelan analysts"])
    assert any("flotillas are usually accompanied" in c for c in by_source["us officials"])
    assert any(
        "Iranian conglomerate" in c
        for c in by_source["western officials and records detailing move"]
    )
    assert any("trading its fuel" in c for c in by_source["american and western officials"])
    # "they said" takes the last group, not the admiral.
    paid = next(c for c in claims if "paid in gold" in c.content)
    assert paid.source == "American and Western officials" and paid.resolved_from == "they"


def test_hedges_and_accusations() -> None:
    text = "A senior official has publicly accused Iran of sending weapons to Venezuela."
    blocks = split_blocks(text)
    (claim,) = extract_claims(split_sentences(text, blocks))
    assert (claim.subject, claim.action, claim.object) == ("A senior official", "accused", "Iran")
    assert claim.content == "sending weapons to Venezuela"
    assert "accused" in claim.hedges


def test_each_rule_on_hand_made_sentences() -> None:
    assert _claims("The tanker switched off its transponder, according to TankerTrackers.") == [
        ("TankerTrackers", "The tanker switched off its transponder")
    ]
    assert _claims("Ship-tracking analysts say the cargo was gasoline.") == [
        ("Ship-tracking analysts", "the cargo was gasoline")
    ]
    assert _claims("The vessel loaded in Bandar Abbas, Treasury officials said.") == [
        ("Treasury officials", "The vessel loaded in Bandar Abbas")
    ]
    assert _claims("The weather was fine.") == []


@given(st.text(max_size=300))
def test_claims_never_fail(text: str) -> None:
    blocks = split_blocks(text)
    for c in extract_claims(split_sentences(text, blocks)):
        assert c.source
