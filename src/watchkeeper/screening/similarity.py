"""How alike two name parts are, and why: the token-level judgement the scorer aligns on."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from watchkeeper.screening.normalize import (
    abjad_key,
    consonants,
    ocr_form,
    phonetic,
    skeleton,
    translit_key,
)

# Reasons, in the words an analyst reads in an explanation.
SAME = "same"
INITIAL = "initial"
TRUNCATED = "truncated"
SPELLING = "spelling"
SOUNDS = "sounds alike"
CONSONANTS = "same consonants"
OCR = "OCR look-alike"
VOWELS_DROPPED = "vowels dropped"
TRANSLITERATION = "transliteration variant"


_HAS_AEIOU = re.compile(r"[aeiou]")


def allowed_edits(length: int) -> int:
    """Edits tolerated between two words of this length: none for short words, where
    one letter makes another name ('Bush' / 'Bash', 'Fang' / 'Wang'), more for
    long ones."""
    if length <= 4:
        return 0
    if length <= 7:
        return 1
    if length <= 11:
        return 2
    return 3


@lru_cache(maxsize=500_000)
def token_similarity(q: str, c: str) -> tuple[float, str]:
    """Similarity in [0, 1] of a query part and a list part, with the reason.

    Zero below the cut-off: a near miss gives no partial credit, so 'Habbash' and
    'Bush' share nothing.
    """
    if q == c:
        return 1.0, SAME
    lq, lc = len(q), len(c)
    if lq == 0 or lc == 0:
        return 0.0, ""
    if q.isdigit() or c.isdigit():
        return 0.0, ""
    longest = max(lq, lc)
    best, reason = 0.0, ""
    limit = allowed_edits(longest) if min(lq, lc) >= 4 else 0
    if limit:
        dist = OSA.distance(q, c, score_cutoff=limit)
        if dist <= limit:
            best, reason = 1.0 - dist / longest, SPELLING
            best = max(best, 0.7)
    if min(lq, lc) >= 3 and best < 0.85:
        # Sound and skeleton keys collide for different names ('Bushra' / 'Basher'):
        # they count only when the spelling is not far off too, or one side has its
        # vowels dropped (abbreviated or transliterated from Arabic or Hebrew script).
        vowelless = not _HAS_AEIOU.search(q[1:]) or not _HAS_AEIOU.search(c[1:])
        if vowelless:
            cq, cc = consonants(q), consonants(c)
            if cq == cc and len(cq) >= 3:
                return 0.85, VOWELS_DROPPED
        oq, oc = ocr_form(q), ocr_form(c)
        if oq == oc:
            return (0.9 if min(lq, lc) >= 4 else 0.8), OCR
        if min(lq, lc) < 4 and not vowelless:
            return best, reason  # three letters: only a near-exact match says anything
        if min(lq, lc) >= 5 and OSA.distance(oq, oc, score_cutoff=limit) <= limit:
            best, reason = 0.8, OCR
        ratio = 1.0 - Levenshtein.distance(q, c) / longest
        if ratio < 0.55 and not vowelless:
            return best, reason
        pq, pc = phonetic(q), phonetic(c)
        if pq and pq == pc and len(pq) >= 2 and q[0] == c[0] and best < 0.85:
            best, reason = 0.85, SOUNDS
        if best < 0.85:
            tq = translit_key(q)
            if tq == translit_key(c) and len(tq) >= 4:
                best, reason = 0.85, TRANSLITERATION
        sq, sc = skeleton(q), skeleton(c)
        if sq == sc and len(sq) >= 3 and best < 0.8:
            best, reason = 0.8, CONSONANTS
    return best, reason


ABJAD = "same consonants as written in Arabic script"


def abjad_similarity(q: str, c: str) -> float:
    """A word romanised from Arabic/Hebrew script against a list spelling.

    The script word may keep only two letters (عمر 'mr' for Omar, عبد 'bd' for Abd:
    short vowels are not written), so two suffice on the query side; the list
    spelling needs three."""
    if len(q) < 2 or len(c) < 3:
        return 0.0
    key = abjad_key(q)
    return 0.8 if len(key) >= 2 and key == abjad_key(c) else 0.0


def initial_similarity(q: str, c: str) -> float:
    """An initial ('N') against a full part ('nicolas')."""
    if len(q) == 1 and len(c) > 1 and c[0] == q:
        return 0.75
    if len(c) == 1 and len(q) > 1 and q[0] == c:
        return 0.75
    return 0.0


def prefix_similarity(q: str, c: str) -> float:
    """A cut-off last query part ('REVOLUTIONA', 'MA') against the full list part."""
    if len(c) > len(q) and c.startswith(q):
        return 0.85 if len(q) >= 3 else 0.6
    return 0.0
