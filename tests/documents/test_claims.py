"""Attributed claims on the founding report, real news pages (tests/fixtures/documents,
dev half), and hand-made sentences for each rule."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.claims import extract_claims
from watchkeeper.documents.layout import split_blocks, split_sentences

SEED = (DATA / "articles" / "seed-iran-venezuela.txt").read_text("utf-8")
# Words and marks a report's attributions are made of, for malformed sentences.
_WORDS_AND_MARKS = (
    "said says told wrote added quoted saying according to that he it they Pompeo "
    'Treasury the a in on Wednesday statement , . “ ” " ‘ ’ « » : ; — of Mr. U.S. T.'
).split()


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


# --- real news pages (the dev half of tests/fixtures/documents) and the forms ----

NEWS = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / "texts"


def _page_claims(name: str) -> list[tuple[str, str]]:
    return _claims((NEWS / name).read_text("utf-8"))


def test_said_on_a_day_that_and_glued_sentences() -> None:
    claims = _page_claims("islamtimes-2020-06-25.txt")
    assert (
        "US Secretary of State Mike Pompeo",
        "the Trump administration was imposing sanctions on five Iranian ship captains who "
        "had delivered gasoline to Venezuela",
    ) in claims
    # After "nation.According": the speaker is the one who said it, not the report cited.
    treasury = next(c for c in claims if c[1].startswith("These captains"))
    assert treasury[0] == "the US Treasury Department"


def test_speaker_after_the_verb_and_in_a_statement() -> None:
    assert _claims(
        "“The captains will be sanctioned,” said U.S. Secretary of State Mike Pompeo in a "
        "statement."
    ) == [("U.S. Secretary of State Mike Pompeo", "The captains will be sanctioned")]
    assert _claims(
        "Foreign Ministry spokesman Abbas Mousavi wrote in a statement that the action had failed."
    ) == [("Foreign Ministry spokesman Abbas Mousavi", "the action had failed")]
    claims = _page_claims("freightwaves-oil-transporters.txt")
    assert claims[0][0] == "Treasury Secretary Steven T. Mnuchin"  # "T." is an initial
    assert claims[0][1].startswith("Maduro’s Cuban benefactors provide a lifeline")


def test_multi_sentence_quotes_keep_their_speaker() -> None:
    claims = _page_claims("aljazeera-2020-06-24.txt")
    assert ("Pompeo", claims[1][1]) == claims[1] and "assets will be blocked" in claims[1][1]
    assert claims[2][0] == "Pompeo" and claims[2][1].startswith("Mariners who are considering")


def test_apposition_and_he_said() -> None:
    claims = _page_claims("ktar-2022-06-13.txt")
    spokesman = "A spokesman for Mahan Air, Hossein Zolanvari"
    assert (spokesman, "his company sold the Boeing to a Venezuelan company about a year ago") in (
        claims
    )
    assert [c[0] for c in claims].count(spokesman) == 3  # and "he said" twice after
    assert claims[0] == (
        "Security Minister Aníbal Fernández",
        "the government and legal authorities are studying the situation",
    )


def test_a_verb_that_reports_nothing_is_passed_over() -> None:
    claims = _page_claims("bloombergquint-2018-05-24.txt")
    # "The Treasury Department added fresh sanctions ..., the department said ...".
    assert claims[0][0] == "the department"
    assert claims[0][1].startswith("The Treasury Department added fresh sanctions")
    assert _claims("Treasury added three tankers to the list.") == []


def test_places_speak_for_their_governments() -> None:
    text = "Tehran said the tankers were its own. They would sail on, it said."
    blocks = split_blocks(text)
    claims = extract_claims(split_sentences(text, blocks))
    assert [(c.source, c.resolved_from) for c in claims] == [("Tehran", None), ("Tehran", "it")]


@given(st.lists(st.sampled_from(_WORDS_AND_MARKS), max_size=40).map(" ".join))
def test_claims_on_news_like_text_never_fail(text: str) -> None:
    blocks = split_blocks(text)
    for c in extract_claims(split_sentences(text, blocks)):
        assert c.source and c.content
