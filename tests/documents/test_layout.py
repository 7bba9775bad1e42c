"""Layout on the founding report (bundled in data/articles), real news pages
(tests/fixtures/documents, dev half) and small hand-made edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.layout import (
    NOT_TEXT_KINDS,
    STORY_KINDS,
    published_date,
    split_blocks,
    split_sentences,
    story_text,
)

SEED = (DATA / "articles" / "seed-iran-venezuela.txt").read_text("utf-8")


def test_founding_report_sets_aside_captions_and_promo_lines() -> None:
    blocks = split_blocks(SEED)
    aside = {b.text[:30]: b.kind for b in blocks if b.kind in ("caption", "promo")}
    assert aside == {
        "Craig Faller, head of the Sout": "caption",
        "Oil installations on Lake Mara": "caption",
        "The best memes about conglomer": "promo",
        "Guillermo del Toro will make a": "promo",
    }
    assert blocks[0].kind == "headline"
    assert all(b.reason for b in blocks if b.kind != "body")


def test_sentences_keep_quotations_whole_and_offsets_exact() -> None:
    blocks = split_blocks(SEED)
    sentences = split_sentences(SEED, blocks)
    for s in sentences:
        assert SEED[s.start : s.end] == s.text
    quoted = [s.text for s in sentences if s.text.startswith("“We are concerned")]
    # "what we see. It is not just oil" is inside the quotation: one sentence.
    assert len(quoted) == 1 and "It is not just oil shipments" in quoted[0]
    assert not any("Best Buy" in s.text for s in sentences)


def test_a_story_ending_with_punctuation_has_no_promo() -> None:
    text = "Headline here\n\nIran sent ships to Venezuela.\n\nThey arrived in May."
    assert [b.kind for b in split_blocks(text)] == ["headline", "body", "body"]


@given(st.text(max_size=400))
def test_layout_never_fails_and_offsets_hold(text: str) -> None:
    blocks = split_blocks(text)
    for b in blocks:
        assert text[b.start : b.end] == b.text
    for s in split_sentences(text, blocks):
        assert text[s.start : s.end] == s.text


# --- real news pages (the dev half of tests/fixtures/documents) -------------------------

NEWS = Path(__file__).resolve().parent.parent / "fixtures" / "documents" / "texts"


def _kinds(name: str) -> dict[str, str]:
    text = (NEWS / name).read_text("utf-8")
    return {b.text: b.kind for b in split_blocks(text)}


def test_news_pages_set_aside_chrome_credits_captions_and_datelines() -> None:
    freebeacon = _kinds("freebeacon-2020-06-24.txt")
    assert freebeacon["U.S. Sanctions Iranians Who Delivered Fuel to Venezuela"] == "headline"
    assert freebeacon["Mike Pompeo"] == "caption"  # the name over the photo
    assert freebeacon["Getty Images"] == "credit"
    assert freebeacon["• June 24, 2020 1:55 pm"] == "dateline"
    assert freebeacon["Published under: Iran, Sanctions, Venezuela"] == "boilerplate"

    radiofarda = _kinds("radiofarda-2020-08-14.txt")
    assert radiofarda["Accessibility links"] == "boilerplate"
    assert radiofarda["Breaking News"] == "boilerplate"
    headline = next(t for t, k in radiofarda.items() if k == "headline")
    assert headline.startswith("Pompeo Says Proceeds From Seized Iran Gasoline")
    caption = next(t for t in radiofarda if t.startswith("U.S. State Secretary Mike Pompeo speaks"))
    assert radiofarda[caption] == "caption"  # a sentence with no full stop, dated

    cnbc = _kinds("markettradingessentials-2020-08-19.txt")
    assert cnbc["Mohammad Huwais | AFP | Getty Images"] == "credit"
    assert cnbc[next(t for t in cnbc if t.startswith("An airplane of Mahan Air sits"))] == "caption"

    zeenews = _kinds("zeenews-mahan-air.txt")
    assert zeenews["Bureau Report"] == "boilerplate"
    assert zeenews[next(t for t in zeenews if t.startswith("By continuing"))] == "boilerplate"

    esyndicate = _kinds("e-syndicate-adrian-darya.txt")
    assert esyndicate[next(t for t in esyndicate if t.startswith("Home World News"))] == (
        "boilerplate"
    )
    assert esyndicate["Adrian Darya"] == "caption"


def test_a_repeated_headline_is_set_aside_and_the_first_kept() -> None:
    text = (NEWS / "bloombergquint-2018-05-24.txt").read_text("utf-8")
    blocks = split_blocks(text)
    title = "U.S. Imposes Sanctions on Companies Aiding Iranian Airlines"
    assert [b.kind for b in blocks if b.text == title] == ["headline", "repeat"]
    assert blocks[0].text == "ADVERTISEMENT" and blocks[0].kind == "boilerplate"


@pytest.mark.parametrize(
    ("name", "published"),
    [
        ("ktar-2022-06-13.txt", "2022-06-13"),  # "Jun 13, 2022, 10:02 AM | Updated: ..."
        ("newagebd-2020-02-08.txt", "2020-02-08"),  # "Published: 22:32, Feb 08,2020"
        ("freebeacon-2020-06-24.txt", "2020-06-24"),
        ("islamtimes-2020-06-25.txt", "2020-06-25"),  # a date stamp opening the text
        ("aljazeera-2020-06-24.txt", None),  # the page states no date
    ],
)
def test_the_publication_date_the_page_states(name: str, published: str | None) -> None:
    text = (NEWS / name).read_text("utf-8")
    assert published_date(split_blocks(text)) == published


def test_a_date_above_the_headline_is_the_site_clock() -> None:
    text = (
        "Tuesday 20th March 2018\n\nTanker appears off Syria\n\nSat, 07 Sep 2019 03:28 GMT\n\n"
        "The tanker was identified by satellite near the port of Tartus on Saturday."
    )
    assert published_date(split_blocks(text)) == "2019-09-07"


def test_glued_sentences_are_cut_and_initials_are_not() -> None:
    text = (NEWS / "islamtimes-2020-06-25.txt").read_text("utf-8")
    sentences = [s.text for s in split_sentences(text, split_blocks(text))]
    assert any(s.startswith("According to a report by the National") for s in sentences)
    assert any(s.startswith("All of the five vessels reached Venezuela") for s in sentences)
    edge = (
        "It was said by Treasury Secretary Steven T. Mnuchin in Washington, D.C. on Monday. "
        "Petroleos de Venezuela, S.A. was listed."
    )
    assert [s.text[:9] for s in split_sentences(edge, split_blocks(edge))] == [
        "It was sa",
        "Petroleos",
    ]


def test_credits_are_blanked_for_mentions_with_offsets_kept() -> None:
    text = (NEWS / "bloombergquint-2018-05-24.txt").read_text("utf-8")
    story = story_text(text, split_blocks(text))
    assert len(story) == len(text)
    assert "Ali Mohammadi" not in story and "ADVERTISEMENT" not in story
    assert "Iranian women burn American flags" in story  # the caption itself stays
    assert story.count("U.S. Imposes Sanctions on Companies Aiding Iranian Airlines") == 1


@given(st.text(max_size=400))
def test_any_text_gets_known_kinds_and_a_date_or_none(text: str) -> None:
    blocks = split_blocks(text)
    assert {b.kind for b in blocks} <= STORY_KINDS | NOT_TEXT_KINDS | {"caption"}
    published = published_date(blocks)
    assert published is None or len(published) == 10
    assert len(story_text(text, blocks)) == len(text)
