"""Split a text into blocks and sentences, and set aside the lines that are not the story.

A news page copied or extracted as text carries more than its story: site chrome
("Accessibility links", "Watch Now"), a breadcrumb, the headline again, photo captions
and their credits ("Mohammad Huwais | AFP | Getty Images"), datelines ("Jun 13, 2022,
10:02 AM | Updated: 12:04 pm"), labels ("Source: News Agencies", "Published under: ..."),
cookie banners and promo lines. Each block gets a kind and the reason for it:

- ``headline``: the title, kept apart from the story;
- ``body``: the story;
- ``caption``, ``credit``, ``dateline``, ``boilerplate``, ``repeat``, ``promo``: set aside.

The rules read the shape of a line (length, closing punctuation, position, what is next
to it) and how common its words are (the ``wordfreq`` list): site chrome is made of
words the story does not use. No word list is fitted to one article.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

STORY_KINDS = frozenset({"headline", "body"})
# Kinds whose words are not the document's own: no mention is looked for in them.
NOT_TEXT_KINDS = frozenset({"credit", "dateline", "boilerplate", "repeat", "promo"})

_TERMINAL = (".", "!", "?", "»", "”", '"', "’", ":", ";", "…")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")

# Photo and wire agencies that sign captions and credit lines: the well-known ones.
_AGENCIES = (
    r"AFP|AP|Reuters|Getty(?:\s+Images)?|EPA(?:-EFE)?|EFE|Shutterstock|Bloomberg|Xinhua|"
    r"ANSA|dpa|DPA|IRNA|WANA|Tasnim|Sputnik|TASS|Anadolu|AAP|PA(?:\s+Images)?|Alamy|"
    r"Pool|Handout|Associated\s+Press|Agence\s+France-Presse|NurPhoto|SOPA|ZUMA|"
    r"Sipa|Polaris|Redux|Maxar(?:\s+Technologies)?|Planet\s+Labs"
)
# Markers of a credit inside a caption: "(Photographer: ...)", "[File: .../AP Photo]",
# "Photo credit: ...", "/ Reuters", "(Image: ...)", "| AFP |".
_CREDIT = re.compile(
    r"(/\s*(?:file\s+photo|photo|reuters|afp|ap|getty|epa)\b|\bphoto\s*:|\(photo\b|"
    r"\bfile\s+photo\b|\bcredit\s*:|\b(?:photo|image|picture)\s+(?:credit|courtesy)\b|"
    r"[(\[]\s*(?:photographer|photo|image|picture|file|illustration|credit|source)\s*:|"
    r"\bphotograph(?:er)?\s*:|/\s*(?:" + _AGENCIES + r")\s+photo\b|"
    r"\|\s*(?:" + _AGENCIES + r")\s*(?:\||$))",
    re.I,
)
_AGENCY_WORD = re.compile(r"\b(?:" + _AGENCIES + r")\b")
_CREDIT_LABEL = re.compile(
    r"^[(\[]?\s*(?:photo(?:graph)?s?|images?|pictures?|photographer|credits?|"
    r"illustration|file(?:\s+photo)?|video)\b\s*(?:credit|by)?\s*[:/]",
    re.I,
)
# "Source: News Agencies", "Published under: Iran", "RELATED CONTENT: ...": a label.
_LABEL = re.compile(r"^[A-Z][A-Za-z]*(?:\s+[A-Za-z]+){0,2}\s*:(?:\s|$)")
# Page furniture a story never says, in any site's words: consent banners, sharing and
# reading tools. Generic web vocabulary, not any one site's.
_UI = re.compile(
    r"\b(?:cookies?|subscribe|newsletter|sign\s+up|log\s*in|all\s+rights\s+reserved|"
    r"copyright|©|skip\s+to|font\s+size|min(?:ute)?s?\s+read|print\s+this|"
    r"e-?mail\s+(?:a|this|to)\s+(?:friend|article|page)|share\s+(?:this|on)|"
    r"follow\s+(?:us|our)|click\s+here|read\s+more|terms\s+of\s+(?:use|service)|"
    r"privacy\s+policy|advertisement|sponsored)\b",
    re.I,
)
_ROLE_LINE = re.compile(r"^(?:[A-Z][\w'’.\-]*\s+){0,4}[A-Z][\w'’.\-]*,\s+[^.!?]{3,120}\.$")
# Closed-class English: auxiliaries and modals; with "-ed" forms and reporting verbs they
# tell a clause from a noun phrase ("Craig Faller, head of the command." has none).
_AUXILIARIES = frozenset(
    """is are was were be been being am has have had do does did will would can could
    may might must shall should""".split()
)
_REPORTING = re.compile(r"^(?:sa(?:id|ys?)|told|tells?|added|adds|wrote|writes|tweeted)$")

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(
        rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{{4}})\b",
        re.I,
    ),
    re.compile(
        rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>\d{{4}})\b",
        re.I,
    ),
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?|GMT|UTC|ET|EST|EDT)?", re.I)
# "date 2020-06-25 ..." or "Published: 2020-06-25 ..." opening a text: a date stamp.
_LEADING_STAMP = re.compile(
    r"^\s*(?:date|dated|published|posted)\s*:?\s*\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?\s*",
    re.I,
)


@dataclass(frozen=True)
class Block:
    """A paragraph-sized span of the text: ``kind`` is headline, body, caption, credit,
    dateline, boilerplate, repeat or promo; ``reason`` says why (empty for body)."""

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


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    """How common an English word is (Zipf scale: 6 is 'the', 3 is 'stranded')."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _content_words(text: str) -> set[str]:
    """Words that carry meaning: names and words less common than everyday ones."""
    return {w.lower() for w in _words(text) if len(w) > 1 and _zipf(w.lower()) < 5.0}


def _capitalised(text: str) -> set[str]:
    """Capitalised words, less the first (capitalised because it starts the line)."""
    words = _words(text)[1:]
    return {w.lower() for w in words if w[0].isupper() and len(w) > 2}


def _is_clause(text: str) -> bool:
    """Has a finite verb by form: an auxiliary, a reporting verb or an '-ed' word."""
    for w in _words(text):
        low = w.lower()
        if low in _AUXILIARIES or _REPORTING.match(low) or (low.endswith("ed") and len(low) > 4):
            return True
    return False


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(_TERMINAL)


def find_date(text: str) -> date | None:
    """The first calendar date written in the text (ISO, 'June 24, 2020', '07 Sep 2019')."""
    found: list[tuple[int, date]] = []
    for pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            parts = m.groupdict()
            month = int(parts["m"]) if parts.get("m") else _MONTHS[parts["mon"].lower()]
            try:
                found.append((m.start(), date(int(parts["y"]), month, int(parts["d"]))))
            except ValueError:
                continue
    return min(found)[1] if found else None


def _is_dateline(line: str) -> bool:
    """A short line that is mostly a date or a time: '• June 24, 2020 1:55 pm'."""
    words = _words(line)
    if len(words) > 14 or (line.endswith(".") and not _TIME.search(line)):
        return False
    has_date = find_date(line) is not None
    if not has_date and not (_TIME.search(line) and len(words) <= 6):
        return False
    rest = _TIME.sub(" ", line)
    for pattern in _DATE_PATTERNS:
        rest = pattern.sub(" ", rest)
    rest_words = [w.lower() for w in _words(rest) if w.lower() not in _WEEKDAYS]
    return len(rest_words) <= 8 and not _AUXILIARIES.intersection(rest_words)


_WEEKDAYS = frozenset(
    [d.lower() for d in calendar.day_name] + [d.lower() for d in calendar.day_abbr]
)


def _is_credit_line(line: str) -> bool:
    """'Getty Images', 'Mohammad Huwais | AFP | Getty Images', '7Dnews London - AP'."""
    words = _words(line)
    if len(words) > 8 or _ends_sentence(line.rstrip(")]")) and not line.endswith(")"):
        return False
    if _CREDIT_LABEL.match(line):
        return True
    return bool(_AGENCY_WORD.search(line)) and (
        len(words) <= 3 or bool(re.search(r"[|/]|\s[-–—]\s", line))
    )


def _lines(text: str) -> list[tuple[int, int, str]]:
    raw: list[tuple[int, int, str]] = []
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            start = pos + line.index(stripped)
            stamp = _LEADING_STAMP.match(stripped)
            if stamp and stamp.end() < len(stripped):
                # A date stamp opening a paragraph is a block of its own.
                cut = stamp.end()
                raw.append((start, start + len(stripped[:cut].rstrip()), stripped[:cut].rstrip()))
                start += cut
                stripped = stripped[cut:]
            raw.append((start, start + len(stripped), stripped))
        pos += len(line) + 1
    return raw


def split_blocks(text: str) -> list[Block]:
    """Blocks are non-empty lines; each is classified with the reason for it."""
    raw = _lines(text)
    if not raw:
        return []
    lines = [r[2] for r in raw]
    n = len(lines)
    kinds: list[tuple[str, str]] = [("body", "")] * n

    def free(i: int) -> bool:
        return kinds[i][0] == "body"

    # Lines that are plainly sentences of the story: long and closed by punctuation.
    story = [i for i, line in enumerate(lines) if _ends_sentence(line) and len(line.split()) >= 8]
    # How many story lines use each word: one pass, so a long report stays linear.
    story_words: Counter[str] = Counter()
    for i in story:
        story_words.update(_content_words(lines[i]))

    def shares_with_story(i: int) -> bool:
        own = 1 if i in story_set else 0
        return any(story_words[w] > own for w in _content_words(lines[i]))

    story_set = set(story)

    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        key = re.sub(r"\W+", " ", line.lower()).strip()
        if _LEADING_STAMP.fullmatch(line):
            kinds[i] = ("dateline", "a date stamp opening the text")
        elif key in seen and len(key) > 3:
            kinds[i] = ("repeat", f"repeats line {seen[key] + 1} word for word")
        elif (
            i + 1 < n
            and len(lines[i + 1].split()) >= 4
            and line.endswith(lines[i + 1])
            and line != lines[i + 1]
        ):
            kinds[i] = ("boilerplate", "a breadcrumb: site sections, then the next line")
        elif _is_credit_line(line):
            kinds[i] = ("credit", "a photo or agency credit line")
        elif _CREDIT.search(line):
            kinds[i] = ("caption", "photo caption: carries a photo credit")
        elif _is_dateline(line):
            kinds[i] = ("dateline", "a date or time line: when the page was published")
        elif _UI.search(line) and not (_ends_sentence(line) and len(line.split()) > 25):
            kinds[i] = ("boilerplate", "page furniture: consent, sharing or reading tools")
        elif _LABEL.match(line) and len(line.split()) <= 16 and not _ends_sentence(line):
            kinds[i] = ("boilerplate", "a labelled line ('Source:', 'Published under:')")
        elif (
            len(line.split()) <= 6
            and not _ends_sentence(line)
            and not shares_with_story(i)
            and i not in story
        ):
            kinds[i] = ("boilerplate", "a short line sharing no word with the story: site chrome")
        seen.setdefault(key, i)

    # The headline: the first line left before the story begins, written as a title.
    first_story = min((i for i in story if free(i)), default=n)
    titles = [
        i
        for i in range(first_story)
        if free(i) and not _ends_sentence(lines[i].rstrip("?!")) and len(lines[i].split()) <= 25
    ]
    if not titles:
        # No other title: a short line taken for chrome is the headline after all.
        titles = [i for i in range(first_story) if kinds[i][1].endswith("site chrome")][-1:]
    for i in titles[:1]:
        kinds[i] = ("headline", "before the story, no sentence punctuation: the title")
        for j in range(i + 1, n):
            if kinds[j][0] == "repeat" and lines[j] == lines[i]:
                kinds[j] = ("repeat", "the headline again")

    for i, line in enumerate(lines):
        if not free(i):
            continue
        after = kinds[i + 1][0] if i + 1 < n else ""
        short = len(line.split()) <= 4 and not _ends_sentence(line)
        if (after == "caption" and short) or (
            after == "credit" and (short or len(line.split()) <= 40 and line.count(". ") == 0)
        ):
            kinds[i] = ("caption", f"photo caption: set over a {after} line")
        elif (
            _ROLE_LINE.match(line)
            and len(line.split()) <= 15
            and not _is_clause(line.partition(",")[2])
        ):
            kinds[i] = ("caption", "photo caption: a name and a role, no verb")

    # Promo lines: the run at the end with no sentence punctuation, sharing no
    # capitalised word with the story (lines already set aside are passed over).
    names: Counter[str] = Counter()
    for j, other in enumerate(lines):
        if kinds[j][0] in STORY_KINDS:
            names.update(_capitalised(other))
    i = n - 1
    while i > 0:
        line = lines[i]
        if not free(i):
            i -= 1
            continue
        if _ends_sentence(line):
            break
        own = _capitalised(line)
        if any(names[w] > 1 for w in own):  # a name another story line also has
            break
        names.subtract(own)
        kinds[i] = (
            "promo",
            "at the end, no sentence punctuation, shares no name with the story: a promo line",
        )
        i -= 1

    # A long line with no closing punctuation between paragraphs: a caption's sentence.
    for i, line in enumerate(lines):
        if free(i) and len(line.split()) > 12 and not _ends_sentence(line):
            kinds[i] = ("caption", "a sentence with no full stop amid the story: a photo caption")
    return [Block(s, e, line, k, r) for (s, e, line), (k, r) in zip(raw, kinds, strict=True)]


def published_date(blocks: list[Block]) -> str | None:
    """The publication date the page states (ISO), from its date stamp or dateline: the
    first one after the headline (a date above it is often the site's clock)."""
    headline = next((i for i, b in enumerate(blocks) if b.kind == "headline"), -1)
    candidates = [
        (i <= headline, i, b)
        for i, b in enumerate(blocks)
        if b.kind in ("dateline", "credit", "boilerplate") and len(b.text.split()) <= 16
    ]
    for _before, _i, block in sorted(candidates, key=lambda c: (c[0], c[1])):
        found = find_date(block.text)
        if found is not None:
            return found.isoformat()
    return None


def story_text(text: str, blocks: list[Block]) -> str:
    """The text with the blocks that are not the document's own words (credits, chrome,
    datelines, repeats, promo) and the credits inside captions blanked out; offsets hold."""
    chars = list(text)
    for b in blocks:
        spans: list[tuple[int, int]] = []
        if b.kind in NOT_TEXT_KINDS:
            spans.append((b.start, b.end))
        elif b.kind == "caption":
            for m in re.finditer(
                r"[(\[][^)\]]*[)\]]|(?:\.\s*)?/.*$|\bphoto\s+credit\s*:.*$", b.text, re.I
            ):
                if _CREDIT.search(m.group(0)) or _AGENCY_WORD.search(m.group(0)):
                    spans.append((b.start + m.start(), b.start + m.end()))
        for s, e in spans:
            for k in range(s, e):
                if chars[k] != "\n":
                    chars[k] = " "
    return "".join(chars)


_ABBREVIATIONS = frozenset(
    {m.lower() for m in calendar.month_abbr if m}
    | {"sept"}
    | set(
        "mr mrs ms dr prof gen adm col lt sgt st no inc ltd co corp jr sr vs etc u.s u.k u.n "
        "e.g i.e rep sen gov capt cmdr maj messrs mt ft dept govt approx est".split()
    )
)
_OPEN_QUOTES = "«“"
_CLOSE_QUOTES = "»”"


def _is_abbreviation(word: str) -> bool:
    """'Mr', 'Sept', an initial ('T' of 'Steven T. Mnuchin'), dotted letters ('D.C')."""
    low = word.lower().rstrip(".")
    return (
        low in _ABBREVIATIONS
        or (len(low) == 1 and low.isalpha())
        or re.fullmatch(r"(?:[a-z]\.)+[a-z]", low) is not None
    )


def _quote_depth_usable(segment: str) -> bool:
    """Quotes that open and close in the paragraph can guard sentences; unbalanced ones
    (a quotation running on to the next paragraph) cannot."""
    opened = sum(segment.count(q) for q in _OPEN_QUOTES)
    closed = sum(segment.count(q) for q in _CLOSE_QUOTES)
    return opened == closed and segment.count('"') % 2 == 0


def split_sentences(text: str, blocks: list[Block]) -> list[Sentence]:
    """Sentences of the body blocks; a quotation is never cut in the middle, and
    sentences glued without a space ('tankers.The') are cut."""
    out: list[Sentence] = []
    for b_index, block in enumerate(blocks):
        if block.kind != "body":
            continue
        segment = text[block.start : block.end]
        guard = _quote_depth_usable(segment)
        depth = 0
        ascii_open = False
        start = 0
        i = 0
        while i < len(segment):
            ch = segment[i]
            if guard and ch in _OPEN_QUOTES:
                depth += 1
            elif guard and ch in _CLOSE_QUOTES:
                depth = max(0, depth - 1)
            elif guard and ch == '"':
                ascii_open = not ascii_open
            elif ch in ".!?" and depth == 0 and not ascii_open:
                end = i + 1
                while end < len(segment) and segment[end] in "\"'’”»":
                    end += 1
                rest = segment[end:]
                word = re.findall(r"([\w.]+)$", segment[start:i])
                is_abbrev = bool(word) and _is_abbreviation(word[0])
                next_starts = re.match(r"\s+[«“‘\"'A-Z0-9]", rest) is not None
                # "tankers.The": a lower-case word, a full stop, a capitalised word.
                glued = (
                    ch == "."
                    and end == i + 1
                    and re.search(r"[a-z]{2}$", segment[start:i]) is not None
                    and re.match(r"[A-Z][a-z]", rest) is not None
                    and not is_abbrev
                )
                if (next_starts and not is_abbrev) or glued or not rest.strip():
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
