"""Goods: HS codes checked against the HS 2022 nomenclature, and headings proposed from
a goods description when the code is missing or does not fit.

The nomenclature is the UN Comtrade copy of HS 2022 (``data/reference/hs/``: 96
chapters, 1,228 headings, 5,612 subheadings, each with its own text; Comtrade's own
chapter 99 "not specified" and totals are left out). A declared code
is read for its 6-digit core (``2710.19.1100`` -> ``271019``: national digits after
the sixth are not HS) and checked level by level: chapter, heading, subheading.

Proposals rank the headings and subheadings by BM25 over the nomenclature's own texts
(each subheading's text with its heading's), plus a small table of trade words the
texts never use (``hs_synonyms.toml``: "gasoline", "jet fuel", "AK-47"...). Every
proposal says which words decided it. Control flags (``hs_controls.toml``) mark
military and dual-use goods by the public HS correlations of control lists.
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from watchkeeper.errors import InputError
from watchkeeper.io import open_text
from watchkeeper.settings import Settings

HS_FILE = "reference/hs/harmonized-system.csv.gz"

Level = Literal["chapter", "heading", "subheading"]
_LEVELS: dict[int, Level] = {2: "chapter", 4: "heading", 6: "subheading"}

# BM25 parameters (Robertson's usual values); a subheading's heading text counts at
# this weight beside its own, so "Other" subheadings still carry their heading's words.
_K1 = 1.2
_B = 0.75
_PARENT_WEIGHT = 0.5
# A synonym adds this many times the best text score, so it leads unless the text
# names the goods as well.
_SYNONYM_WEIGHT = 1.0
# A declared code fits its description when its heading scores at least this share of
# the best heading's score.
FIT_SHARE = 0.5

# Words that say nothing about what the goods are (packing, paperwork, quantities).
_STOPWORDS = frozenset(
    """
    a an and or of the for to in on at by with without from as its their this that
    other than not nor whether n e c nec nes nesoi thereof therein such be being
    incl including excluding except kind used use similar etc ie eg per
    two three four five six eight ten piece pieces set sets
    said contain contains containing stc general cargo merchandise goods freight all
    kinds fak shipper load count pallet pallets pkg pkgs package packages packed
    carton cartons ctn ctns box boxes bag bags bulk container containers
    kg kgs kilogram kilograms lb lbs ton tons tonnes mt pcs pc qty hs code hts
    """.split()
)

# Prefixes the texts write apart ('non-alloy') and papers often join ('nonalloy').
_PREFIXES = frozenset({"non", "semi", "anti", "multi", "poly", "micro"})

_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _stem(word: str) -> str:
    """Fold plurals so 'cleaners' meets 'cleaner' and 'batteries' meets 'battery'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The content words of a text, lower case, plurals folded; hyphenated words are
    kept whole and also split ("ak-47", "ak", "47")."""
    out: list[str] = []
    for raw in _TOKEN.findall(text.lower()):
        parts = [raw, *raw.split("-")] if "-" in raw else [raw]
        for part in parts:
            if part in _STOPWORDS or part.isdigit() or len(part) < 2:
                continue
            out.append(_stem(part))
    return out


@dataclass(frozen=True)
class HsEntry:
    """One code of the nomenclature."""

    code: str  # 2, 4 or 6 digits
    level: Level
    text: str
    parent: str | None  # None for a chapter
    section: str


@dataclass(frozen=True)
class Proposal:
    """A heading or subheading proposed for a description."""

    code: str
    level: Level
    text: str
    confidence: float  # 0..1: this proposal's share of the top proposals' scores
    words: tuple[str, ...]  # what decided it: matched words, "synonym: gasoline"
    score: float


@dataclass(frozen=True)
class ControlFlag:
    """An HS correlation of a control list that the code falls under."""

    prefix: str
    kind: Literal["military", "dual_use"]
    label: str
    source: str
    url: str


@dataclass(frozen=True)
class HsCheck:
    """What the nomenclature says about a declared code and its description."""

    declared: str  # the code as declared, digits only ("" when none)
    core: str  # the HS part examined: 6 digits, or 2/4 when fewer were declared
    valid: bool  # every level of ``core`` exists in HS 2022
    level: Level | None  # the deepest level that exists
    text: str  # the nomenclature's text at that level
    path: tuple[tuple[str, str], ...]  # (code, text) of chapter, heading, subheading
    fits: bool | None  # the description fits the code; None: no description to judge
    fit_share: float  # the code's heading score / the best heading score (0..1)
    detail: str
    proposals: tuple[Proposal, ...] = ()  # when the code is missing, invalid or unfit
    controls: tuple[ControlFlag, ...] = field(default_factory=tuple)


def hs_digits(raw: str) -> str:
    """A declared HS code as digits: ``"2710.19.1100"`` -> ``"2710191100"``. Dots,
    spaces and dashes are separators; anything else is not an HS code (ValueError).
    A code of an odd length below 6 lost its leading zero to a spreadsheet
    (``"10121"`` -> ``"010121"``) only when it has 5 digits; 1 or 3 digits stay bad."""
    digits = re.sub(r"[\s.\-]", "", raw)
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"HS code {raw!r} has characters other than digits and . - space")
    if len(digits) in (5, 7, 9):
        digits = "0" + digits  # a numeric cell dropped the leading zero of chapters 01-09
    if len(digits) < 2 or len(digits) % 2 or len(digits) > 12:
        raise ValueError(f"HS code {raw!r} has {len(digits)} digits (2, 4, 6, 8 or 10 expected)")
    return digits


def hs_data_file(data_dir: Path | None = None) -> Path:
    """The bundled nomenclature: under ``data_dir`` (settings), else the checkout's."""
    candidates = [d / HS_FILE for d in (data_dir, Settings.from_env().data_dir) if d]
    candidates.append(Path(__file__).resolve().parents[3] / "data" / HS_FILE)
    for path in candidates:
        if path.exists():
            return path
    raise InputError(candidates[-1], "the HS 2022 nomenclature file is missing")


class Nomenclature:
    """HS 2022: every code, and a BM25 index over headings and subheadings."""

    def __init__(self, entries: Iterable[HsEntry]) -> None:
        self.entries: dict[str, HsEntry] = {e.code: e for e in entries}
        self._docs: list[str] = [c for c, e in self.entries.items() if e.level != "chapter"]
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        lengths: list[float] = []
        for i, code in enumerate(self._docs):
            entry = self.entries[code]
            tf: dict[str, float] = defaultdict(float)
            for w in words(entry.text):
                tf[w] += 1.0
            weight = _PARENT_WEIGHT
            parent = self.entries.get(entry.parent or "")
            while parent is not None:  # heading, then chapter, each at half the weight
                for w in words(parent.text):
                    tf[w] += weight
                weight /= 2
                parent = self.entries.get(parent.parent or "")
            lengths.append(sum(tf.values()))
            for w, n in tf.items():
                self._postings[w].append((i, n))
        self._lengths = lengths
        self._avg_len = sum(lengths) / max(1, len(lengths))
        n_docs = len(self._docs)
        self._idf = {
            w: math.log(1 + (n_docs - len(p) + 0.5) / (len(p) + 0.5))
            for w, p in self._postings.items()
        }
        self.synonyms = _load_synonyms()
        self.controls = _load_controls()
        unknown = sorted({c for _, codes in self.synonyms for c in codes} - self.entries.keys())
        if unknown and len(self.entries) > 1000:  # a small test nomenclature skips this
            raise InputError("hs_synonyms.toml", f"codes not in HS 2022: {', '.join(unknown)}")

    @staticmethod
    def load(path: Path | None = None) -> Nomenclature:
        """Read the nomenclature CSV (``section,hscode,description,parent,level``)."""
        path = path or hs_data_file()
        entries: list[HsEntry] = []
        with open_text(path, encoding="utf-8-sig") as fh:
            for row_no, row in enumerate(csv.DictReader(fh), start=2):
                if row.get("section") == "TOTAL":
                    continue  # Comtrade's totals and 'not specified' (9999): not HS codes
                try:
                    code, level = row["hscode"], int(row["level"])
                    entries.append(
                        HsEntry(
                            code=code,
                            level=_LEVELS[level],
                            text=row["description"],
                            parent=None if row["parent"] == "TOTAL" else row["parent"],
                            section=row["section"],
                        )
                    )
                except (KeyError, ValueError, TypeError) as exc:
                    raise InputError(
                        path, f"not an HS nomenclature row ({exc})", line=row_no
                    ) from exc
        return Nomenclature(entries)

    # -- codes -------------------------------------------------------------------

    def path_of(self, core: str) -> list[HsEntry]:
        """The chapter, heading and subheading of ``core`` that exist, in order."""
        found = []
        for n in (2, 4, 6):
            if len(core) >= n and (entry := self.entries.get(core[:n])) is not None:
                found.append(entry)
            else:
                break
        return found

    def controls_for(self, code: str) -> tuple[ControlFlag, ...]:
        return tuple(c for c in self.controls if code.startswith(c.prefix))

    # -- ranking -----------------------------------------------------------------

    def _text_scores(self, query: list[str]) -> dict[int, tuple[float, dict[str, float]]]:
        scores: dict[int, tuple[float, dict[str, float]]] = {}
        for w in set(query):
            idf = self._idf.get(w)
            if idf is None:
                continue
            for doc, tf in self._postings[w]:
                norm = _K1 * (1 - _B + _B * self._lengths[doc] / self._avg_len)
                part = idf * tf * (_K1 + 1) / (tf + norm)
                total, why = scores.get(doc, (0.0, {}))
                why[w] = part
                scores[doc] = (total + part, why)
        return scores

    def _known(self, query: list[str]) -> list[str]:
        """A word the texts never use may be two they do ('nonalloy' -> 'non alloy')."""
        out: list[str] = []
        for w in query:
            if w in self._idf or len(w) < 6:
                out.append(w)
                continue
            for cut in range(3, len(w) - 2):
                head, tail = w[:cut], _stem(w[cut:])
                if cut < 4 and head not in _PREFIXES:
                    continue
                if head in self._idf and tail in self._idf:
                    out.extend((head, tail))
                    break
            else:
                out.append(w)
        return out

    def rank(self, description: str) -> list[tuple[str, float, tuple[str, ...]]]:
        """Every heading/subheading that shares a word or a synonym with the
        description: (code, score, deciding words), best first."""
        query = self._known(words(description))
        scored = self._text_scores(query)
        results: dict[str, tuple[float, list[str]]] = {}
        for doc, (score, why) in scored.items():
            top = sorted(why, key=lambda w: -why[w])[:4]
            results[self._docs[doc]] = (score, top)
        best_text = max((s for s, _ in results.values()), default=0.0)
        bonus = _SYNONYM_WEIGHT * max(best_text, 5.0)
        padded = f" {' '.join(query)} "
        for syn_words, codes in self.synonyms:
            hit = next((w for w in syn_words if f" {' '.join(words(w))} " in padded), None)
            if hit is None:
                continue
            for code in codes:
                score, reasons = results.get(code, (0.0, []))
                results[code] = (score + bonus, [f"synonym: {hit}", *reasons][:4])
        ranked = sorted(results.items(), key=lambda kv: (-kv[1][0], kv[0]))
        return [(code, score, tuple(why)) for code, (score, why) in ranked]

    def propose(self, description: str, limit: int = 5) -> list[Proposal]:
        """The best ``limit`` proposals, at most one per heading (its best code)."""
        seen: set[str] = set()
        picked: list[tuple[str, float, tuple[str, ...]]] = []
        for code, score, why in self.rank(description):
            if code[:4] in seen:
                continue
            seen.add(code[:4])
            picked.append((code, score, why))
            if len(picked) == limit:
                break
        total = sum(s for _, s, _ in picked) or 1.0
        return [
            Proposal(
                code=code,
                level=self.entries[code].level,
                text=self.entries[code].text,
                confidence=round(score / total, 3),
                words=why,
                score=round(score, 3),
            )
            for code, score, why in picked
        ]

    def check(self, code: str | None, description: str = "") -> HsCheck:
        """Check a declared code (any separators, national digits allowed) and whether
        ``description`` fits it; propose headings when it is missing, invalid or unfit."""
        declared = ""
        problem = ""
        if code:
            try:
                declared = hs_digits(code)
            except ValueError as exc:
                problem = str(exc)
        core = declared[:6]
        path = self.path_of(core) if core else []
        valid = bool(core) and len(path) == len(core) // 2
        deepest = path[-1] if path else None
        ranked = self.rank(description) if description.strip() else []
        fits: bool | None = None
        share = 0.0
        if ranked and valid:
            best = ranked[0][1]
            mine = max((s for c, s, _ in ranked if c.startswith(core[:4])), default=0.0)
            share = round(mine / best, 3) if best else 0.0
            fits = share >= FIT_SHARE
        if problem:
            detail = problem
        elif not core:
            detail = "no HS code declared"
        elif not valid:
            missing = {2: "chapter", 4: "heading", 6: "subheading"}[2 * (len(path) + 1)]
            detail = f"{core}: no such {missing} in HS 2022"
        elif fits is None:
            detail = f"{core} is a valid {deepest.level if deepest else ''}; " + (
                "no description to compare"
                if not description.strip()
                else "the description names nothing the nomenclature knows"
            )
        elif fits:
            detail = f"{core} fits the description (heading score {share:.0%} of the best)"
        else:
            detail = (
                f"{core} does not fit the description: its heading scores {share:.0%} of "
                f"the best ({ranked[0][0]})"
            )
        proposals = () if valid and fits else tuple(self.propose(description)) if ranked else ()
        flags = self.controls_for(core) if valid else ()
        return HsCheck(
            declared=declared,
            core=core,
            valid=valid,
            level=deepest.level if deepest else None,
            text=deepest.text if deepest else "",
            path=tuple((e.code, e.text) for e in path),
            fits=fits,
            fit_share=share,
            detail=detail,
            proposals=proposals,
            controls=flags,
        )


def _load_synonyms() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    text = resources.files("watchkeeper.cargo").joinpath("hs_synonyms.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return [(tuple(s["words"]), tuple(s["codes"])) for s in data.get("synonym", [])]


def _load_controls() -> list[ControlFlag]:
    text = resources.files("watchkeeper.cargo").joinpath("hs_controls.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return [
        ControlFlag(c["prefix"], c["kind"], c["label"], c["source"], c["url"])
        for c in data.get("control", [])
    ]


@cache
def nomenclature() -> Nomenclature:
    """The bundled HS 2022 nomenclature and its index, built once per process."""
    return Nomenclature.load()


@lru_cache(maxsize=65536)
def check_hs(code: str | None, description: str = "") -> HsCheck:
    """Check a declared HS code against HS 2022 and its goods description (cached:
    manifests repeat the same goods lines)."""
    return nomenclature().check(code, description)


def propose_headings(description: str, limit: int = 5) -> list[Proposal]:
    """Headings or subheadings for a goods description, best first, each with its
    confidence and the words that decided it."""
    return nomenclature().propose(description, limit)
