"""Layout on the founding report (bundled in data/articles) and small hand-made edges."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import DATA
from watchkeeper.documents.layout import split_blocks, split_sentences

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
