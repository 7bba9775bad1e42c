"""How alike two name parts are, and why: the token-level judgement the scorer aligns on."""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import OSA, Levenshtein

from watchkeeper.screening.normalize import (
    OCR_CLASSES,
    abjad_key,
    consonants,
    ocr_form,
    phonetic,
    skeleton,
    spelling_key,
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
OTHER_VOWELS = "same consonants, other vowels"


_HAS_AEIOU = re.compile(r"[aeiou]")


@lru_cache(maxsize=300_000)
def _bare(word: str) -> bool:
    """Written without vowels after the first letter ('gzprm', 'md')."""
    return not _HAS_AEIOU.search(word, 1)


SHORT_OTHER_VOWELS = 0.7


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


# Below this Levenshtein ratio two words are alike only when one is written without
# vowels, both are one romanisation apart ('fillip' / 'philipp') or OCR look-alikes.
PREFILTER = 0.45
_RATIO = Levenshtein.normalized_similarity


def _kh(form: str) -> str:
    """The spelling key with 'kh' and 'ch' as one letter, and only as each other."""
    return spelling_key(form.replace("kh", "9").replace("ch", "9"))


def _ocr_alike(q: str, c: str) -> bool:
    """Look-alikes collapsed ('rn' / 'm'), or letter for letter ('adcl' / 'adel',
    where reading 'cl' as 'd' goes wrong)."""
    if ocr_form(q) == ocr_form(c):
        return True
    return len(q) == len(c) and q.translate(OCR_CLASSES) == c.translate(OCR_CLASSES)


def _far_apart(q: str, c: str) -> bool:
    """Too far apart in writing, sound and romanisation to be alike (most pairs)."""
    if _RATIO(q, c) >= PREFILTER or _bare(q) or _bare(c):
        return False
    return spelling_key(q) != spelling_key(c) and ocr_form(q) != ocr_form(c)


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
    if lq <= 3 and lc == lq:
        # A short word OCR misread ('5A' for 'SA', 'R1' for 'RI', 'FP' for 'EP'); a
        # single letter only as a digit ('5' for 'S'), as letters they are initials.
        letters = q.isalpha() and c.isalpha()
        if (lq > 1 or not letters) and q.translate(OCR_CLASSES) == c.translate(OCR_CLASSES):
            return (0.8 if letters else 0.85), OCR
        if not letters:
            return 0.0, ""
    if q.isdigit() or c.isdigit():
        return 0.0, ""
    if _far_apart(q, c):
        return 0.0, ""
    longest = max(lq, lc)
    best, reason = 0.0, ""
    limit = allowed_edits(longest) if min(lq, lc) >= 4 else 0
    if limit:
        dist = OSA.distance(q, c, score_cutoff=limit)
        if dist <= limit:
            best, reason = 1.0 - dist / longest, SPELLING
            best = max(best, 0.7)
    if best >= 0.85:
        return best, reason
    q_bare, c_bare = _bare(q), _bare(c)
    if not (q_bare or c_bare) and abs(lq - lc) > 3:
        # Four letters more is another word ('carlos' / 'carlossaez'), however it sounds.
        return best, reason
    if min(lq, lc) >= 2:
        # Another romanisation of the same letters ('paq' / 'pak', 'saiyid' / 'sayyid',
        # 'moun' / 'mun'): vowels kept, so 'bush' and 'bash' stay apart.
        kq, kc = spelling_key(q), spelling_key(c)
        if kq == kc:
            return 0.85, TRANSLITERATION
        # Cyrillic х written 'kh' or, German-style, 'ch' (Mikhail / Michail).
        kh_ch = ("ch" in q and "kh" in c) or ("kh" in q and "ch" in c)
        if kh_ch and _kh(q) == _kh(c):
            return 0.8, TRANSLITERATION
        key_limit = allowed_edits(max(len(kq), len(kc))) if min(len(kq), len(kc)) >= 5 else 0
        if key_limit and best < 0.8 and OSA.distance(kq, kc, score_cutoff=key_limit) <= key_limit:
            best, reason = 0.8, TRANSLITERATION
    if q_bare or c_bare:
        # One side written without vowels ('GZPRM', 'MD' for 'MEDIA'): only the same
        # consonants count; sound keys would pair an acronym ('BNC') with 'Boeing'.
        cq, cc = consonants(q), consonants(c)
        shortest = 2 if q_bare and lq >= 2 else 4
        if cq == cc and len(cq) >= shortest and q[0] == c[0]:
            return 0.85, VOWELS_DROPPED
        if min(lq, lc) >= 3 and _ocr_alike(q, c):
            return (0.9 if min(lq, lc) >= 4 else 0.8), OCR
        return best, reason
    if min(lq, lc) < 3:
        return best, reason
    if _ocr_alike(q, c):
        return (0.9 if min(lq, lc) >= 4 else 0.8), OCR
    if best < SHORT_OTHER_VOWELS and min(lq, lc) <= 5 and translit_key(q) == translit_key(c):
        # A short word with its vowels romanised otherwise ('jusa' / 'jose', 'lus' /
        # 'los', 'qurd' / 'kord'): a weak sign, loose (alone it matches nothing).
        best, reason = SHORT_OTHER_VOWELS, OTHER_VOWELS
    if min(lq, lc) < 4:
        return best, reason  # three letters: only a near-exact match says anything
    if (
        min(lq, lc) >= 5
        and best < 0.8
        and OSA.distance(ocr_form(q), ocr_form(c), score_cutoff=limit) <= limit
    ):
        best, reason = 0.8, OCR
    ratio = 1.0 - Levenshtein.distance(q, c) / longest
    if ratio < 0.55:
        # Far in writing: only the same consonants in a long word ('zeiniye' /
        # 'zayniyah') still say something; sound keys collide too often.
        if ratio >= 0.45 and best < 0.8 and min(lq, lc) >= 6:
            tq = translit_key(q)
            if tq == translit_key(c) and len(tq) >= 4:
                return 0.8, OTHER_VOWELS
        return best, reason
    pq, pc = phonetic(q), phonetic(c)
    if pq and pq == pc and len(pq) >= 2 and q[0] == c[0] and best < 0.85:
        best, reason = 0.85, SOUNDS
    if best < 0.85:
        tq = translit_key(q)
        if tq == translit_key(c) and len(tq) >= 4:
            best, reason = 0.85, OTHER_VOWELS
    sq, sc = skeleton(q), skeleton(c)
    if sq == sc and len(sq) >= 3 and best < 0.8:
        best, reason = 0.8, CONSONANTS
    return best, reason


#: Reasons that say two words sound or are spelt alike without being near in writing.
LOOSE = frozenset({OTHER_VOWELS, CONSONANTS})


ABJAD = "same consonants as written in Arabic script"


def abjad_similarity(q: str, c: str) -> float:
    """A word romanised from Arabic/Hebrew script against a list spelling.

    The script word may keep only two letters (عمر 'mr' for Omar, عبد 'bd' for Abd:
    short vowels are not written), so two suffice on the query side; the list
    spelling needs three."""
    if len(q) < 2 or len(c) < 3:
        return 0.0
    key = abjad_key(q)
    if not key or key != abjad_key(c):
        return 0.0
    if len(key) >= 2:
        return 0.8
    # One consonant: a short word only ('ly' from علي for 'Ali').
    return 0.75 if len(q) <= 3 and len(c) <= 4 else 0.0


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
