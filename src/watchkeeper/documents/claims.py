"""Who claims what, per whom: attributed statements found by rules over sentences.

No model: patterns for direct quotes (« ... », said X), reported speech (X said that
...; ..., X said), "according to X", "X say(s) ...", "..., say X", and hedges
("accused of", "alleged"). Each claim says which rule found it. Subject, action and
object are a heuristic split of the claim at its first verb, not a parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from watchkeeper.documents.layout import Sentence

_Q_OPEN = '«“"'
_Q_CLOSE = '»”"'
_SAY = r"(?:said|says|say|added|adds|told|stated|warned|explained|noted|claimed)"
_GROUP_HEAD = (
    r"(?:officials?|analysts?|experts?|sources?|diplomats?|records?|data|investigators?|"
    r"authorities|government|ministry|department|company|spokesm[ae]n|spokesperson|"
    r"commanders?|officers?|official|ministers?|envoys?|ambassadors?|"
    r"United States|Washington|Tehran|Caracas|Treasury|State Department)"
)


# A source: a pronoun, a titled or capitalised name, or a group ("Western officials").
def _source(group: str = "source") -> str:
    return _SOURCE_BODY.replace("(?P<source>", f"(?P<{group}>")


_SOURCE_BODY = (
    r"(?P<source>(?:he|she|they|"
    r"(?:the\s+)?(?:[Aa]dmiral|[Gg]eneral|[Pp]resident|[Mm]inister|[Ss]ecretary|Mr\.?|Ms\.?|"
    r"[Ss]enator|[Cc]ommander|[Ss]pokes(?:man|woman|person))\s+[A-Z][\w'’\-]*(?:\s+[A-Za-z][\w'’\-]*)?|"
    r"(?:[A-Z][\w'’\-]*\s+){1,3}[A-Z][\w'’\-]*|"
    r"(?:the\s+|a\s+|some\s+|senior\s+)?(?:[\w'’\-]+\s+){0,4}?"
    + _GROUP_HEAD
    + r"(?:\s+and\s+[\w\s]{1,40}?)?(?:\s+(?:for|of|at)\s+[A-Z][\w\s]{1,40}?)?))"
)
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
_PRONOUNS = {"he", "she", "they"}
_TITLES = {"the", "admiral", "adm", "general", "president", "minister", "mr", "ms", "senator"}


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


_LEADING_FUNCTION_WORDS = {"in", "what", "but", "that", "which", "and", "while", "as", "so"}


def _clean_source(source: str) -> str:
    words = source.strip(" ,.").split()
    while words and words[0].lower() in _LEADING_FUNCTION_WORDS:
        words.pop(0)
    return " ".join(words)


def _is_person(source: str) -> bool:
    """A named person ("Admiral Faller"), not a group ("US officials") or pronoun."""
    return re.search(_GROUP_HEAD + r"\b", source) is None and any(
        w[:1].isupper() for w in source.split()
    )


def _source_key(source: str) -> str:
    words = [w.strip(".,").lower() for w in source.split()]
    words = [w for w in words if w and w not in _TITLES]
    return " ".join(words)


_VERBISH = re.compile(
    r"\b(?:(?:has|have|had|is|are|was|were|will|would|could|may|might|can|did|do|does)"
    r"(?:\s+(?:not|also|been|being|just|long|usually))*\s+\w+|"
    r"[a-z]\w*ed|sent|sold|paid|made|says?|said|see|saw|owns?|uses?|backs?|helps?|trades?|"
    r"restarted|established|continuing|shipped)\b"
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


_QUOTE_THEN_SPEAKER = re.compile(
    rf"^[{_Q_OPEN}](?P<quote>.+?)\s*[{_Q_CLOSE}]\s*,?\s*(?:(?:{_SAY})\s+{_source()}|{_source('source2')}\s+{_SAY}|(?P<bare>{_SAY}))\b"
)
_CONTENT_THEN_SPEAKER = re.compile(
    rf"^(?P<content>.+?)\s*,?\s*[{_Q_CLOSE}]?\s*,?\s+{_source()}\s+{_SAY}(?:\s+on\s+\w+)?(?:,\s+adding\s+that\s+(?P<more>.+?))?\s*\.?$"
)
_SPEAKER_INSERTED = re.compile(rf"^(?P<a>.+?),\s+{_source()}\s+{_SAY},\s+(?P<b>.+?)\.?$")
_ACCORDING_TO = re.compile(r"^(?P<content>.+?),?\s+according\s+to\s+(?P<source>.+?)\s*\.?$")
_SAY_SOURCE_AT_END = re.compile(rf"^(?P<content>.+?),\s+say\s+{_source()}\s*\.?$")
_SOURCE_SAYS = re.compile(
    rf"(?:^|,\s+|\bbut\s+|\bthat\s+|\bwhat\s+|\bin\s+which\s+)(?P<lead>){_source()}\s+(?P<verb>say|says|said)\s+(?:that\s+)?(?P<content>[^,]+(?:,[^,]+)*?)\s*\.?$"
)
_ACCUSED = re.compile(
    rf"{_source()}\s+(?:has\s+|have\s+|had\s+)?(?:publicly\s+)?accused\s+(?P<object>[\w\s]+?)\s+of\s+(?P<content>.+?)\s*\.?$"
)


def _claim(
    sentence: Sentence,
    source: str,
    form: str,
    content: str,
    rule: str,
) -> Claim:
    subject, action, obj = _split_svo(content)
    return Claim(
        sentence_start=sentence.start,
        sentence_end=sentence.end,
        sentence=sentence.text,
        source=_clean_source(source),
        source_key=_source_key(_clean_source(source)),
        form=form,
        content=content.strip(" ,").rstrip(" ."),
        rule=rule,
        subject=subject,
        action=action,
        object=obj,
        hedges=_hedges(sentence.text),
    )


def _sentence_claims(sentence: Sentence) -> list[Claim]:
    text = sentence.text
    if m := _QUOTE_THEN_SPEAKER.match(text):
        source = m.group("source") or m.group("source2") or ""
        claim = _claim(sentence, source, "quote", m.group("quote"), "quote, then speaker")
        if m.group("bare"):
            claim.source, claim.source_key = "", ""
        return [claim]
    if text[:1] in _Q_OPEN:
        # A quotation with no speaker in the sentence: the last speaker's.
        quote = text.strip(_Q_OPEN + _Q_CLOSE + " .")
        return [_claim(sentence, "", "quote", quote, "quote, speaker from context")]
    if m := _ACCORDING_TO.match(text):
        return [_claim(sentence, m.group("source"), "paraphrase", m["content"], "according to")]
    if m := _SAY_SOURCE_AT_END.match(text):
        return [_claim(sentence, m.group("source"), "paraphrase", m["content"], "..., say X")]
    if m := _CONTENT_THEN_SPEAKER.match(text):
        content = m.group("content")
        if m.group("more"):
            content += "; " + m.group("more")
        form = "quote" if content[:1] in _Q_OPEN else "paraphrase"
        content = content.strip(_Q_OPEN + _Q_CLOSE + " ")
        return [_claim(sentence, m.group("source"), form, content, "..., X said")]
    if m := _SPEAKER_INSERTED.match(text):
        content = f"{m.group('a')} {m.group('b')}"
        return [_claim(sentence, m.group("source"), "paraphrase", content, "..., X said, ...")]
    claims = []
    if m := _ACCUSED.search(text):
        claim = _claim(sentence, m.group("source"), "paraphrase", m["content"], "X accused Y of")
        claim.action = "accused"
        claim.object = m.group("object").strip()
        claim.subject = m.group("source").strip()
        claims.append(claim)
    for m in _SOURCE_SAYS.finditer(text):
        claims.append(_claim(sentence, m.group("source"), "paraphrase", m["content"], "X say(s)"))
    return claims


def extract_claims(sentences: list[Sentence]) -> list[Claim]:
    """Claims of every sentence; "he said" and speaker-less quotes take the last source."""
    out: list[Claim] = []
    last_person: Claim | None = None
    last_group: Claim | None = None
    persons: dict[str, str] = {}  # surname -> the first key of that person
    for sentence in sentences:
        for claim in _sentence_claims(sentence):
            key = claim.source_key
            if not key or key in _PRONOUNS:
                # "he said" and quotes with no speaker: the last named person;
                # "they said": the last group.
                antecedent = last_group if key == "they" else last_person
                if antecedent is None:
                    continue
                claim.resolved_from = claim.source or "(no speaker)"
                claim.source, claim.source_key = antecedent.source, antecedent.source_key
            elif _is_person(claim.source):
                # "Admiral Faller" after "the admiral Craig faller": one person.
                surname = key.split()[-1]
                claim.source_key = persons.setdefault(surname, key)
            out.append(claim)
            if _is_person(claim.source):
                last_person = claim
            else:
                last_group = claim
    return out
