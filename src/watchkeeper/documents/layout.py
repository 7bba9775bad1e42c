"""Split a text into blocks and sentences, and set aside blocks that are not the story
(headline kept apart; photo captions, credits and promo lines set aside, with why)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words that show a block is a sentence with a verb, not a caption's "Name, role."
_COMMON_VERBS = frozenset(
    """is are was were be been has have had do does did said says say will would can could
    may might must shall should sent send sends make makes made see saw seen use used uses
    help helps helped back backed show shows showed come comes came go goes went take took
    give gave get got sell sold trade trades traded pay paid halt halted continue continues
    accompany accompanied restart restarted establish established provide provides provided
    accuse accused sanction sanctioned designate designated operate operates operated ship
    shipped deliver delivered own owns owned""".split()
)
_TERMINAL = (".", "!", "?", "»", "”", '"', "’", ":", ";")
_CREDIT = re.compile(
    r"(/\s*(file\s+photo|photo|reuters|afp|ap|getty|epa)\b|\bphoto\s*:|\(photo\b|"
    r"\bfile photo\b|\bcredit\s*:)",
    re.I,
)
_NAME_ROLE = re.compile(r"^(?:[A-Z][\w'’.\-]*\s+){0,4}[A-Z][\w'’.\-]*,\s+[^.!?]{3,120}\.$")
_WORD = re.compile(r"[A-Za-zÀ-ÿ][\w'’\-]*")


@dataclass(frozen=True)
class Block:
    """A paragraph-sized span of the text: ``kind`` is headline, body, caption or promo."""

    start: int
    end: int
    text: str
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str
    block: int  # index of its block


def _capitalised(text: str) -> set[str]:
    """Capitalised words, less the first (capitalised because it starts the line)."""
    words = _WORD.findall(text)[1:]
    return {w.lower() for w in words if w[0].isupper() and len(w) > 2}


def _has_verb(text: str) -> bool:
    return any(w.lower() in _COMMON_VERBS for w in _WORD.findall(text))


def split_blocks(text: str) -> list[Block]:
    """Blocks are non-empty lines; each is classified with the reason for it."""
    raw: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped)
            raw.append((start, start + len(stripped), stripped))
        pos += len(line) + 1
    if not raw:
        return []
    kinds: list[tuple[str, str]] = [("body", "")] * len(raw)
    first = raw[0][2]
    if not first.endswith(_TERMINAL) and len(first.split()) <= 25:
        kinds[0] = ("headline", "first line, no sentence punctuation: the title")
    for i, (_s, _e, line) in enumerate(raw):
        if kinds[i][0] != "body":
            continue
        if _CREDIT.search(line):
            kinds[i] = ("caption", "photo caption: carries a photo credit")
        elif _NAME_ROLE.match(line) and len(line.split()) <= 15 and not _has_verb(line):
            kinds[i] = ("caption", "photo caption: a name and a role, no verb")
    # Promo lines: the run at the end with no sentence punctuation, sharing no
    # capitalised word with the story.
    body_words: set[str] = set()
    for i, (_s, _e, line) in enumerate(raw):
        if kinds[i][0] in ("body", "headline"):
            body_words |= _capitalised(line)
    i = len(raw) - 1
    while i > 0:
        line = raw[i][2]
        if kinds[i][0] != "body" or line.endswith(_TERMINAL):
            break
        others: set[str] = set()
        for j, (_s, _e, other) in enumerate(raw):
            if j != i and kinds[j][0] in ("body", "headline"):
                others |= _capitalised(other)
        if _capitalised(line) & others:
            break
        kinds[i] = (
            "promo",
            "at the end, no sentence punctuation, shares no name with the story: a promo line",
        )
        i -= 1
    return [Block(s, e, line, k, r) for (s, e, line), (k, r) in zip(raw, kinds, strict=True)]


_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen adm col lt sgt st jan feb mar apr jun jul aug sep sept oct nov "
    "dec no inc ltd co corp jr sr vs etc u.s u.k u.n e.g i.e".split()
)
_OPEN_QUOTES = "«“"
_CLOSE_QUOTES = "»”"


def split_sentences(text: str, blocks: list[Block]) -> list[Sentence]:
    """Sentences of the body blocks; a quotation is never cut in the middle."""
    out: list[Sentence] = []
    for b_index, block in enumerate(blocks):
        if block.kind != "body":
            continue
        segment = text[block.start : block.end]
        depth = 0
        start = 0
        i = 0
        while i < len(segment):
            ch = segment[i]
            if ch in _OPEN_QUOTES:
                depth += 1
            elif ch in _CLOSE_QUOTES:
                depth = max(0, depth - 1)
            elif ch in ".!?" and depth == 0:
                end = i + 1
                while end < len(segment) and segment[end] in "\"'’”»":
                    end += 1
                rest = segment[end:]
                word = re.findall(r"([\w.]+)$", segment[start:i])
                is_abbrev = bool(word) and word[0].lower().rstrip(".") in _ABBREVIATIONS
                next_starts = re.match(r"\s+[«“\"A-Z0-9]", rest) is not None
                if (next_starts and not is_abbrev) or not rest.strip():
                    sentence = segment[start:end].strip()
                    if sentence:
                        s = (
                            block.start
                            + start
                            + (len(segment[start:end]) - len(segment[start:end].lstrip()))
                        )
                        out.append(Sentence(s, s + len(sentence), sentence, b_index))
                    start = end
                    i = end
                    continue
            i += 1
        tail = segment[start:].strip()
        if tail:
            s = block.start + segment.index(tail, start)
            out.append(Sentence(s, s + len(tail), tail, b_index))
    return out
