"""Word tokens with their offsets, and the matching key of a word or name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from normality import ascii_text

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    text: str
    key: str  # lower-case ASCII, light plural folding: "Forces" -> "force"


def word_key(word: str) -> str:
    """Lower-case ASCII; possessive dropped; a plural -s folded (both sides of a match
    go through this, so "Quds Forces" meets the alias "QUDS FORCE")."""
    key = (ascii_text(word) or word).lower()
    key = re.sub(r"['’]s?$", "", key)
    key = re.sub(r"[^a-z0-9]", "", key)
    if len(key) > 4 and key.endswith("s") and not key.endswith(("ss", "us", "is")):
        key = key[:-1]
    return key


def tokenize(text: str) -> list[Token]:
    out = []
    for m in _TOKEN.finditer(text):
        key = word_key(m.group(0))
        if key:
            out.append(Token(m.start(), m.end(), m.group(0), key))
    return out


def name_key(name: str) -> str:
    """The key of a whole name: its word keys joined by single spaces."""
    return " ".join(t.key for t in tokenize(name))


# A word at least this frequent in English (Zipf scale: 3 is once per million words,
# 6 once per thousand) is an everyday word, not a name on its own ("Private",
# "Reportedly", "Nicolas" as a first name).
COMMON_ZIPF = 3.5


@lru_cache(maxsize=1 << 16)
def english_frequency(word: str) -> float:
    """How common a word is in English, on the Zipf scale (wordfreq's large list)."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def is_common_word(word: str, threshold: float = COMMON_ZIPF) -> bool:
    """An everyday English word ("bank", "voyager", "nicolas"); names like "Faxon" or
    "Sepah" are rare."""
    return english_frequency(word) >= threshold
