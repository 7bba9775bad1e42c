"""Scoring one query against one listed entity, feature by feature, each with its reason.

The name score aligns query parts with list name parts (exact, spelling, sound,
consonant skeleton, OCR look-alikes, initials, a cut-off last part, parts written
joined or split) and weighs each part by how rare it is on the lists (IDF), so common
words ('CORP', 'TRADING', 'AL') cannot carry a match on their own. Identifiers match
exactly after normalisation; birth date and country qualify the name score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from watchkeeper.screening.index import PERSON, EntityFacts
from watchkeeper.screening.normalize import (
    ARTICLES,
    LEGAL,
    NAME,
    NUMBER,
    PARTICLE,
    TITLE,
    article_said,
    korean_key,
    translit_key,
)
from watchkeeper.screening.similarity import (
    ABJAD,
    INITIAL,
    LOOSE,
    OCR,
    SAME,
    SOUNDS,
    SPELLING,
    TRANSLITERATION,
    TRUNCATED,
    abjad_similarity,
    initial_similarity,
    prefix_similarity,
    token_similarity,
)

# Unmatched list parts cost this share of their weight (dropped middle names are
# common in real queries); unmatched query parts cost their full weight.
EXTRA_LIST_PART = 0.45
EXTRA_QUERY_PART = 1.0
CUT_OFF_PART = 0.15
WORD_CUT_PART = 0.3
MIDDLE_LIST_PART = 0.25
MIDDLE_QUERY_PART = 0.4
# The second of two family names ('MADURO MOROS, Nicolas'): Spanish and Portuguese
# speakers and the news leave it out ('Nicolas Maduro'), as they do middle names.
SECOND_SURNAME_PART = MIDDLE_LIST_PART
SECOND_SURNAME_NOTE = " (the second family name, left out as it usually is: costs little)"
SAME_FORM = "same company form"
OTHER_FORM = "company form, another spelling"
CUT_FORM = "company form, cut off"
ABJAD_MIDDLE_QUERY_PART = 0.3
LOOSE_CAP = 0.65
LOUD = LOOSE | {SOUNDS, TRANSLITERATION}  # joined on these: loose too
KOREAN = "same Korean syllable, another romanisation"
# A name whose matched parts are all weak (company forms, particles, very common
# words) is capped: 'TRADING CORP' must not match 'ACME TRADING CORP'.
WEAK_IDF = 3.0
WEAK_CAP = 0.5
DISTINCT_RATIO = 1.6
DISTINCT_CAP = 0.6
SWAP_CAP = 0.65
SWAP_SHARE = 0.5
SWAP_MIN_WEIGHT = 4.0


class PartMatch(NamedTuple):
    """One query part paired with one list name part (or runs of them, joined)."""

    query: str
    listed: str
    similarity: float
    reason: str
    weight: float


@dataclass(slots=True)
class NameScore:
    score: float
    query_name: str
    list_name: str
    pairs: list[PartMatch]
    extra_query: list[str]
    extra_list: list[str]
    capped: str = ""
    second_surname: str = ""  # the list name's second family name, left out of the query

    def detail(self) -> str:
        parts: list[str] = []
        for p in self.pairs:
            if p.reason == "same":
                parts.append(f"'{p.query}' = '{p.listed}'")
            else:
                parts.append(f"'{p.query}' ~ '{p.listed}' ({p.reason}, {p.similarity:.2f})")
        text = f"query name '{self.query_name}' vs listed name '{self.list_name}': "
        text += "; ".join(parts) if parts else "no parts in common"
        if self.extra_query:
            text += "; not on the list name: " + ", ".join(f"'{t}'" for t in self.extra_query)
        if self.extra_list:
            text += "; not in the query: " + ", ".join(
                f"'{t}'" + (SECOND_SURNAME_NOTE if t == self.second_surname else "")
                for t in self.extra_list
            )
        if self.capped:
            text += f"; capped at {self.score:.2f}: {self.capped}"
        return text


def align_names(
    q_forms: tuple[str, ...],
    q_kinds: tuple[str, ...],
    q_w: tuple[float, ...],
    c_forms: tuple[str, ...],
    c_kinds: tuple[str, ...],
    c_w: tuple[float, ...],
    *,
    q_canons: tuple[str, ...] = (),
    c_canons: tuple[str, ...] = (),
    c_family_from: int = -1,
    abjad: bool = False,
    exact: bool = False,
    korean: bool = False,
    person: bool,
    query_name: str = "",
    list_name: str = "",
) -> NameScore:
    """Align query parts with list name parts, one-to-one, best pairs first.

    ``exact``: the query was romanised from a syllabic script (Chinese, Korean), whose
    syllables are whole name parts: one letter off ('chen' / 'cheng') is another name,
    so only equal parts pair."""
    nq, nc = len(q_forms), len(c_forms)
    candidates: list[tuple[float, float, float, int, int, str]] = []
    last = nq - 1
    similarity = token_similarity
    c_legal = [k == LEGAL for k in c_kinds]
    # Titles pair too (weighing nothing): 'Sayyid' is a title in one name and a family
    # name in another.
    for i, qf in enumerate(q_forms):
        q_short = len(qf) == 1
        q_cut = i == last and nq > 1
        for j, cf in enumerate(c_forms):
            sim, reason = similarity(qf, cf)
            if sim >= 1.0:
                candidates.append((sim, sim, c_w[j], i, j, reason))
                continue
            if abjad and q_kinds[i] == PARTICLE and c_kinds[j] != PARTICLE:
                continue  # 'al' is not a short 'Ali'
            if exact:
                if not (korean and korean_key(qf) == korean_key(cf)):
                    continue
                sim, reason = 0.95, KOREAN
            elif c_legal[j]:
                if q_kinds[i] == LEGAL and q_canons[i] == c_canons[j]:
                    sim, reason = 1.0, SAME_FORM
                elif len(qf) <= 4 and sim < 0.8 and translit_key(qf) == translit_key(cf):
                    sim, reason = 0.8, OTHER_FORM  # 'OOO' as 'UO', 'FZE' as 'FSE'
            if abjad and sim < 0.8 and abjad_similarity(qf, cf):
                sim, reason = 0.8, ABJAD
            if sim < 1.0:
                if person and (q_short or len(cf) == 1) and not c_legal[j]:
                    init = initial_similarity(qf, cf)
                    if init > sim:
                        sim, reason = init, INITIAL
                if q_cut:
                    pre = prefix_similarity(qf, cf)
                    if pre > sim:
                        sim, reason = pre, TRUNCATED
                if c_legal[j] and len(qf) >= 2 and sim < 0.8 and cf.startswith(qf):
                    sim, reason = 0.8, CUT_FORM  # 'OJ' for 'OJSC'

            if sim > 0:
                # Ties (company forms of one kind) go to the closer spelling.
                spelled = token_similarity(qf, cf)[0] if reason == SAME_FORM else sim
                candidates.append((sim, spelled, c_w[j], i, j, reason))
    candidates.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    used_q: dict[int, None] = {}
    used_c: dict[int, None] = {}
    pairs: list[tuple[list[int], list[int], float, str]] = []
    for sim, _s, _w, i, j, reason in candidates:
        if i in used_q or j in used_c:
            continue
        used_q[i] = None
        used_c[j] = None
        pairs.append(([i], [j], sim, reason))
    # Parts written joined on one side and split on the other.
    if len(used_q) < nq and len(used_c) < nc:
        _join_pairs(q_forms, q_kinds, c_forms, c_kinds, used_q, used_c, pairs, abjad, exact, korean)
    # Words written as their initials ('IC' / 'Integrated Circuit'). In a name that may
    # be a person's, two letters only ('Ali' is a name, not A. L. I.), counted as
    # initials are.
    if not exact and len(used_q) < nq and len(used_c) < nc:
        sim, longest = (PERSON_INITIALS, 2) if person else (INITIALS_SIMILARITY, 4)
        _initials_pairs(q_forms, q_kinds, c_forms, c_kinds, used_q, used_c, pairs, sim, longest)
    # The Arabic article however romanised ('al' / 'el'), once words have paired and
    # joined (it may be inside a joined name: 'abwalyzyd' / 'Abou El Yazid').
    if len(used_q) < nq and len(used_c) < nc:
        q_articles = [i for i in range(nq) if i not in used_q and q_forms[i] in ARTICLES]
        c_articles = [j for j in range(nc) if j not in used_c and c_forms[j] in ARTICLES]
        for i, j in zip(q_articles, c_articles, strict=False):
            used_q[i] = None
            used_c[j] = None
            pairs.append(([i], [j], 0.9, TRANSLITERATION))

    num = 0.0
    den = 0.0
    strong = False
    matches: list[PartMatch] = []
    for qi, ci, sim, reason in pairs:
        # A pair weighs what its weaker side weighs: a company form or particle in the
        # query cannot borrow the rarity of the list word it happens to resemble.
        weight = min(sum(c_w[j] for j in ci), sum(q_w[i] for i in qi))
        num += sim * weight
        den += weight
        if (
            all(q_kinds[i] in (NAME, NUMBER) for i in qi)
            and any(c_kinds[j] in (NAME, NUMBER) for j in ci)
            and weight >= WEAK_IDF
        ):
            strong = True
        matches.append(
            PartMatch(
                " ".join(q_forms[i] for i in qi),
                " ".join(c_forms[j] for j in ci),
                sim,
                reason,
                weight,
            )
        )
    extra_q = [i for i in range(nq) if i not in used_q and q_kinds[i] != TITLE]
    extra_c = [j for j in range(nc) if j not in used_c and c_kinds[j] != TITLE]
    # A person's middle names (between the first and last parts both sides share)
    # are often left out or added: they cost less than a missing first or last name.
    q_span = _matched_span(used_q) if person else (0, -1)
    c_span = _matched_span(used_c) if person else (0, -1)
    for i in extra_q:
        # Names in Arabic script often carry the father's and grandfather's names.
        middle = ABJAD_MIDDLE_QUERY_PART if abjad else MIDDLE_QUERY_PART
        share = middle if q_span[0] < i < q_span[1] else EXTRA_QUERY_PART
        den += q_w[i] * share
    # A query cut off inside a word (fixed-width field): list parts after the cut
    # were never typed, so they cost less.
    cut_at = next((ci[0] for qi, ci, _s, r in pairs if r == TRUNCATED), None)
    word_cut: int | None = None
    if cut_at is not None and any(j > cut_at for _qi, ci, _s, _r in pairs for j in ci):
        cut_at = None  # the cut word is not the list name's last matched one: no cut
    if (
        cut_at is None
        and not person
        and pairs
        and not extra_q
        and all(r not in LOUD for _qi, _ci, _s, r in pairs)
    ):
        # A company or vessel name that is the list name's beginning, written as the
        # list writes it ('AL MOUAKAOUNE' / 'AL MOUAKAOUNE BIDDAM'): a field cut
        # between words.
        in_order = sorted((qi[0], ci[0], ci[-1]) for qi, ci, _s, _r in pairs)
        ends = [c for _q, c0, c1 in in_order for c in (c0, c1)]
        if ends[0] == 0 and ends == sorted(ends) and max(ends) + 1 == len(used_c):
            word_cut = max(ends)
    second = _second_surname(c_kinds, c_family_from, used_c) if person and not extra_q else -1
    for j in extra_c:
        if cut_at is not None and j > cut_at:
            share = CUT_OFF_PART
        elif word_cut is not None and j > word_cut:
            share = WORD_CUT_PART
        elif c_span[0] < j < c_span[1] and (c_family_from < 0 or j < c_family_from):
            share = MIDDLE_LIST_PART
        elif j == second:
            share = SECOND_SURNAME_PART
        else:
            share = EXTRA_LIST_PART
        den += c_w[j] * share
    score = num / den if den > 0 else 0.0
    capped = ""
    exact = not extra_q and not extra_c and all(p[2] == 1.0 for p in pairs)
    if pairs and not strong and not exact and score > WEAK_CAP:
        score, capped = WEAK_CAP, "only common words matched"
    # The list name's most distinctive part missing from the query ('Trading Corp' vs
    # 'CHILSONG TRADING CORP'): the query names a different party.
    missing = [j for j in extra_c if cut_at is None or j <= cut_at]
    if pairs and missing and score > DISTINCT_CAP:
        top_missing = max(missing, key=lambda j: c_w[j])
        top_matched = max((c_w[j] for _qi, ci, _s, _r in pairs for j in ci), default=0.0)
        if c_w[top_missing] > DISTINCT_RATIO * top_matched:
            score = DISTINCT_CAP
            capped = f"its most distinctive part '{c_forms[top_missing]}' is not in the query"
    # A rare word in the query where the list name has another rare word: most often
    # another party ('Ramon Eduardo DIETMAR FELIX' / 'Ramon Eduardo ARELLANO FELIX').
    if pairs and extra_q and missing and score > SWAP_CAP:
        top_matched = max((c_w[j] for _qi, ci, _s, _r in pairs for j in ci), default=0.0)
        q_top = max(extra_q, key=lambda i: q_w[i])
        c_top = max(missing, key=lambda j: c_w[j])
        floor = max(SWAP_MIN_WEIGHT, SWAP_SHARE * top_matched)
        if q_w[q_top] >= floor and c_w[c_top] >= floor and q_kinds[q_top] == NAME:
            score = SWAP_CAP
            capped = f"'{q_forms[q_top]}' in the query where the list has '{c_forms[c_top]}'"
    # One name word alike with the list's only in sound or romanisation ('Aeromar' /
    # 'ORIMAR', 'Boeing' / 'BING'): too little to call a match on.
    named = [i for i in range(nq) if q_kinds[i] == NAME]
    if len(named) == 1 and score > LOOSE_CAP:
        loose = [r for qi, _ci, _s, r in pairs if named[0] in qi]
        if loose and (
            loose[0] in LOOSE
            or (loose[0].startswith("joined") and loose[0].rsplit(", ", 1)[-1] in LOUD)
        ):
            score = LOOSE_CAP
            capped = "the only name word is alike in sound or romanisation, not in writing"
    return NameScore(
        score,
        query_name,
        list_name,
        matches,
        [q_forms[i] for i in extra_q],
        [c_forms[j] for j in extra_c],
        capped,
        c_forms[second] if second in extra_c else "",
    )


def _joined_similarity(
    q: str, c: str, abjad: bool = False, exact: bool = False, korean: bool = False
) -> tuple[float, str]:
    """Parts joined on one side: sound-alike keys are weaker evidence across joins."""
    if exact:
        if q == c:
            return 1.0, SAME
        if korean and korean_key(q) == korean_key(c):
            return 0.95, KOREAN
        return 0.0, ""
    sim, reason = token_similarity(q, c)
    if abjad and sim < 0.8 and abjad_similarity(q, c):
        sim, reason = 0.8, ABJAD
    if reason not in (SAME, SPELLING, OCR):
        sim *= 0.9
    return sim, reason


def _second_surname(c_kinds: tuple[str, ...], family_from: int, used_c: dict[int, None]) -> int:
    """Position of a listed person's second family name the query may leave out, or -1.

    Only where the list says which words are the family name ('MADURO MOROS, Nicolas'),
    the family name is two name words, the first of them and a given name are matched,
    and the second is not: 'Nicolas Maduro', not 'Nicolas Moros' nor 'Maduro'."""
    if family_from <= 0:
        return -1
    family = [j for j in range(family_from, len(c_kinds)) if c_kinds[j] == NAME]
    if len(family) != 2 or family[0] not in used_c or family[1] in used_c:
        return -1
    if not any(j in used_c for j in range(family_from) if c_kinds[j] == NAME):
        return -1
    return family[1]


def _matched_span(used: dict[int, None]) -> tuple[int, int]:
    """First and last matched positions (an empty span when fewer than two)."""
    if len(used) < 2:
        return (0, -1)
    return (min(used), max(used))


def _elided(joined: str, first: str) -> str:
    """The Arabic article joined to a name that begins with a vowel, as Maghrebi
    spellings write it without its vowel: al-Azhar 'Lazhar', al-Amin 'Lamine', al-Arabi
    'Larbi' ('' when the run does not begin with the article)."""
    if first in ("al", "el") and len(joined) > 3 and joined[2] in "aeiou":
        return "l" + joined[2:]
    return ""


INITIALS = "initials of the words"
INITIALS_SIMILARITY = 0.8
PERSON_INITIALS = 0.75  # as initial_similarity gives one initial


def _initials_pairs(
    q_forms: tuple[str, ...],
    q_kinds: tuple[str, ...],
    c_forms: tuple[str, ...],
    c_kinds: tuple[str, ...],
    used_q: dict[int, None],
    used_c: dict[int, None],
    pairs: list[tuple[list[int], list[int], float, str]],
    similarity: float,
    longest: int,
) -> None:
    """Pair a word of two to ``longest`` letters with as many adjacent name words (on the
    other side) whose initials it spells, in order: 'IC' and 'Integrated Circuit', 'MA'
    and 'Marketing Association'."""

    def runs(
        forms: tuple[str, ...], kinds: tuple[str, ...], used: dict[int, None]
    ) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for span in range(2, longest + 1):
            for start in range(len(forms) - span + 1):
                run = list(range(start, start + span))
                if any(k in used or kinds[k] != NAME or len(forms[k]) < 2 for k in run):
                    continue
                found.setdefault("".join(forms[k][0] for k in run), run)
        return found

    def acronyms(
        forms: tuple[str, ...], kinds: tuple[str, ...], used: dict[int, None]
    ) -> list[int]:
        return [
            k
            for k in range(len(forms))
            if k not in used
            and kinds[k] == NAME
            and 2 <= len(forms[k]) <= longest
            and forms[k].isalpha()
        ]

    short_q = acronyms(q_forms, q_kinds, used_q)
    list_runs = runs(c_forms, c_kinds, used_c) if short_q else {}
    for i in short_q:
        run = list_runs.get(q_forms[i])
        if run and not any(j in used_c for j in run):
            used_q[i] = None
            used_c.update(dict.fromkeys(run))
            pairs.append(([i], run, similarity, INITIALS))
    short_c = acronyms(c_forms, c_kinds, used_c)
    query_runs = runs(q_forms, q_kinds, used_q) if short_c else {}
    for j in short_c:
        qrun = query_runs.get(c_forms[j])
        if qrun and not any(i in used_q for i in qrun):
            used_c[j] = None
            used_q.update(dict.fromkeys(qrun))
            pairs.append((qrun, [j], similarity, INITIALS))


def _join_pairs(
    q_forms: tuple[str, ...],
    q_kinds: tuple[str, ...],
    c_forms: tuple[str, ...],
    c_kinds: tuple[str, ...],
    used_q: dict[int, None],
    used_c: dict[int, None],
    pairs: list[tuple[list[int], list[int], float, str]],
    abjad: bool = False,
    exact: bool = False,
    korean: bool = False,
) -> None:
    """Match runs of unmatched adjacent parts joined on one side against one part."""
    free_q = [i for i in range(len(q_forms)) if i not in used_q and q_kinds[i] != TITLE]
    free_c = [j for j in range(len(c_forms)) if j not in used_c and c_kinds[j] != TITLE]
    for span in (3, 2):
        # query run -> one list part
        for start in range(len(free_q) - span + 1):
            run = free_q[start : start + span]
            if run[-1] - run[0] != span - 1 or any(i in used_q for i in run):
                continue
            joined = "".join(q_forms[i] for i in run)
            # In Arabic script the article's 'l' is written but not said before some
            # letters: نور الدين 'nwr al dyn' is 'Noureddine'.
            bare = "".join(q_forms[i] for i in run if q_forms[i] != "al") if abjad else ""
            said = article_said([q_forms[i] for i in run])
            elided = _elided(joined, q_forms[run[0]])
            for j in free_c:
                cf = c_forms[j]
                if j in used_c or abs(len(cf) - len(joined)) > 2:
                    continue
                sim, reason = _run_similarity(
                    joined, cf, True, elided, (bare, said), abjad, exact, korean
                )
                if sim > 0:
                    for i in run:
                        used_q[i] = None
                    used_c[j] = None
                    pairs.append((run, [j], sim, reason))
                    break
        # list run -> one query part
        for start in range(len(free_c) - span + 1):
            run = free_c[start : start + span]
            if run[-1] - run[0] != span - 1 or any(j in used_c for j in run):
                continue
            joined = "".join(c_forms[j] for j in run)
            said = article_said([c_forms[j] for j in run])
            elided = _elided(joined, c_forms[run[0]])
            for i in free_q:
                qf = q_forms[i]
                if i in used_q or abs(len(qf) - len(joined)) > 2:
                    continue
                sim, reason = _run_similarity(
                    joined, qf, False, elided, (said,), abjad, exact, korean
                )
                if sim > 0:
                    used_q[i] = None
                    for j in run:
                        used_c[j] = None
                    pairs.append(([i], run, sim, reason))
                    break


def _run_similarity(
    joined: str,
    part: str,
    run_is_query: bool,
    elided: str,
    others: tuple[str, ...],
    abjad: bool,
    exact: bool,
    korean: bool,
) -> tuple[float, str]:
    """A run of parts joined against one part of the other name, with its reason.
    Parts written joined begin alike ('abdul rahman' / 'abdulrahman'), except in
    Arabic script and where the article lost its vowel ('al azhar' / 'lazhar').
    ``others``: other ways of writing the run joined (without the article, with the
    article said as the letter after it), tried when the run as written is unlike."""

    def similarity(run_form: str) -> tuple[float, str]:
        if run_is_query:
            return _joined_similarity(run_form, part, abjad, exact, korean)
        return _joined_similarity(part, run_form, abjad, exact, korean)

    if part[0] != joined[0] and not abjad:
        if not (elided and part[0] == "l"):
            return 0.0, ""
        sim, reason = similarity(elided)
        return sim, f"joined, article elided, {reason}"
    sim, reason = similarity(joined)
    for other in others:
        if not sim and other and other != joined:
            sim, reason = similarity(other)
    return sim, f"joined, {reason}"


# ---- qualifying features ---------------------------------------------------------------


def birth_date_feature(query_dates: list[str], facts: EntityFacts) -> tuple[float, str] | None:
    """Year and full date of birth: a full match supports, a different year counts against."""
    if not query_dates or not facts.birth_dates:
        return None
    listed = facts.birth_dates
    for qd in query_dates:
        for ld in listed:
            n = min(len(qd), len(ld))
            if n >= 10 and qd[:10] == ld[:10]:
                return 0.05, f"same date of birth: {qd[:10]}"
    for qd in query_dates:
        for ld in listed:
            if qd[:4] == ld[:4]:
                if len(qd) >= 10 and len(ld) >= 10:
                    return -0.05, f"same year of birth, another day: {qd} vs {ld}"
                return 0.02, f"same year of birth: {qd[:4]}"
    for qd in query_dates:
        for ld in listed:
            if qd[:4].isdigit() and ld[:4].isdigit() and abs(int(qd[:4]) - int(ld[:4])) <= 1:
                return -0.05, f"year of birth one apart: {qd[:4]} vs {ld[:4]}"
    return -0.2, f"different year of birth: {', '.join(query_dates)} vs {', '.join(listed)}"


def country_feature(query_countries: set[str], facts: EntityFacts) -> tuple[float, str] | None:
    """Countries (country, nationality, citizenship, flag...): overlap or not."""
    if not query_countries or not facts.countries:
        return None
    common = query_countries & facts.countries
    if common:
        return 0.02, f"same country: {', '.join(sorted(common))}"
    return -0.15, (
        f"different country: query {', '.join(sorted(query_countries))} vs "
        f"listed {', '.join(sorted(facts.countries))}"
    )


def is_person(kind: str) -> bool:
    return kind == PERSON


__all__ = [
    "LEGAL",
    "PARTICLE",
    "NameScore",
    "PartMatch",
    "align_names",
    "birth_date_feature",
    "country_feature",
]
