"""Screening benchmark: recall per variant family, false-positive rate and queries/s for
Watchkeeper, nomenklatura's logic-v2 (yente's matcher) behind a candidate index
shaped like yente's (``_yente_index``), and a rapidfuzz brute-force baseline, in the same run on the same queries.

The lists: OFAC SDN (2023-12-28 trio) + OFAC consolidated non-SDN + UN Security
Council + US Consolidated Screening List, loaded with Watchkeeper's own parsers.

Variant families are built from real list data (see ``FAMILIES``); negatives are
near misses (a listed name with its rarest part swapped for another real list word)
and real non-listed names (airline names from OpenFlights outside sanctioned
countries; person names composed from Faker's per-locale lists of real given and
family names). List entries are split in two by a hash of their id: ``dev`` is the
half any tuning looked at, ``test`` (the default, and what BENCHMARKS.md reports) is
held out.

    python benchmarks/screening.py [--split test|dev] [--sample N] [--peer-sample M]
    python benchmarks/screening.py --split dev --families publisher_spelling \
        --show-misses publisher_spelling   # one family, quickly, with its misses
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gc
import hashlib
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import table, write_section  # noqa: E402
from _yente_index import YenteCandidateIndex  # noqa: E402

from watchkeeper.screening import Query, Screener  # noqa: E402
from watchkeeper.screening.normalize import normalise_name, skeleton  # noqa: E402
from watchkeeper.store import Store, StoredEntity  # noqa: E402

SHARED = ROOT.parent / "shared" / "data"
LIST_FILES = {
    "ofac_sdn": ("sanctions/ofac/sdn_csv_2023-12-28", "*.csv"),
    "ofac_cons": ("sanctions/ofac/cons_nonsdn_csv", "*.csv"),
    "un_sc": ("sanctions/un", "consolidated.xml"),
    "us_csl": ("sanctions/us_csl", "consolidated.csv.gz"),
}
BUNDLED = {
    "ofac_sdn": ("lists/ofac/sdn_csv_2023-12-28", "*.csv.gz"),
    "ofac_cons": ("lists/ofac/cons_nonsdn_csv", "*.csv.gz"),
    "un_sc": ("lists/un", "consolidated.xml.gz"),
    "us_csl": ("lists/us_csl", "consolidated.csv.gz"),
}
SANCTIONED_COUNTRIES = {
    "Iran", "Syria", "Venezuela", "North Korea", "Cuba", "Russia", "Belarus", "Myanmar",
    "Burma", "Sudan", "Iraq", "Lebanon", "Libya", "Yemen", "Afghanistan", "Somalia",
    "Zimbabwe", "Nicaragua", "Democratic Republic of the Congo", "Mali",
    "Central African Republic", "South Sudan", "Eritrea", "Crimea", "Ukraine",
}  # fmt: skip
THRESHOLD = 0.7
RAPIDFUZZ_CUTOFF = 90.0  # WRatio >= 90 counts as a match for the brute-force baseline

POSITIVE = "positive"
NEGATIVE = "negative"
INDEPENDENT = "independent"
# Variants no rule of ours made: other lists' spellings and scripts, publishers' aliases.
INDEPENDENT_FAMILIES = ("other_list_spelling", "original_script", "publisher_spelling")


@dataclass
class Case:
    family: str
    kind: str  # POSITIVE or NEGATIVE
    schema: str
    name: str
    expected: str | None = None  # entity id a positive must find
    exclude: set[str] = field(default_factory=set)  # the source entity (other-list cases)
    accept: set[str] = field(default_factory=set)  # the same party listed twice (same name)


# ---- the lists -------------------------------------------------------------------------


def list_paths() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {}
    for source, (folder, pattern) in LIST_FILES.items():
        files = sorted((SHARED / folder).glob(pattern))
        if not files:
            folder, pattern = BUNDLED[source]
            files = sorted((ROOT / "data" / folder).glob(pattern))
        found[source] = files
    return found


def build_store(path: Path) -> tuple[Store, float]:
    from watchkeeper.lists import parse_files

    started = time.perf_counter()
    if path.exists():
        return Store(path, read_only=True), 0.0
    store = Store(path)
    if not store.list_versions():
        for source, files in list_paths().items():
            print(f"loading {source} ({len(files)} files)", file=sys.stderr)
            store.add_list_version(parse_files(files, source))
    return store, time.perf_counter() - started


def split_of(key: str) -> str:
    return "dev" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "test"


def natural(entity: StoredEntity, name: str) -> str:
    """'MADURO MOROS, Nicolas' -> 'Nicolas MADURO MOROS' for people."""
    if entity.schema == "Person" and name.count(",") == 1:
        family, given = (p.strip() for p in name.split(","))
        if family and given:
            return f"{given} {family}"
    return name


def is_latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text if c.isalpha())


# ---- variant makers (each returns None when it does not apply) -----------------------------

TRANSLIT_RULES = [
    ("mohammed", "muhammad"), ("muhammad", "mohamed"), ("mohammad", "mohamad"),
    ("ahmed", "ahmad"), ("ahmad", "ahmed"), ("hussein", "husayn"), ("husayn", "hussein"),
    ("abdul", "abd al"), ("abd al", "abdul"), ("ou", "u"), ("u", "ou"), ("ee", "i"),
    ("y", "i"), ("i", "y"), ("kh", "h"), ("q", "k"), ("k", "q"), ("dh", "z"), ("j", "dj"),
    ("sh", "ch"), ("ph", "f"), ("c", "k"), ("z", "s"), ("aa", "a"), ("oo", "u"),
    ("ei", "ey"), ("w", "v"), ("v", "w"), ("x", "ks"), ("gh", "g"), ("e", "a"), ("o", "u"),
]  # fmt: skip
KEYBOARD = {
    "a": "sqz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "wa", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "xa",
}  # fmt: skip
OCR_RULES = [
    ("rn", "m"), ("m", "rn"), ("l", "1"), ("I", "1"), ("O", "0"), ("o", "0"), ("S", "5"),
    ("B", "8"), ("cl", "d"), ("d", "cl"), ("e", "c"), ("h", "b"), ("E", "F"), ("i", "l"),
    ("vv", "w"), ("w", "vv"), ("G", "6"), ("Z", "2"),
]  # fmt: skip
HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і",
              "A": "А", "E": "Е", "O": "О", "P": "Р", "C": "С", "H": "Н", "K": "К", "M": "М",
              "T": "Т", "X": "Х", "B": "В"}  # fmt: skip
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]


def words(text: str) -> list[str]:
    return text.split()


def v_order_swap(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    parts = words(natural(entity, name))
    if entity.schema != "Person" or len(parts) < 2:
        return None
    return " ".join(parts[-1:] + parts[:-1]) if rng.random() < 0.5 else " ".join(reversed(parts))


def v_dropped_middle(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    parts = words(natural(entity, name))
    if entity.schema != "Person" or len(parts) < 3:
        return None
    drop = rng.randrange(1, len(parts) - 1)
    return " ".join(p for i, p in enumerate(parts) if i != drop)


def v_initials(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    parts = words(natural(entity, name))
    if entity.schema != "Person" or len(parts) < 2 or not parts[0][:1].isalpha():
        return None
    given = parts[: max(1, len(parts) - 2)] if len(parts) > 2 else parts[:1]
    rest = parts[len(given) :]
    style = rng.random()
    initials = [g[0].upper() + ("." if style < 0.5 else "") for g in given]
    return " ".join(initials + rest)


def v_typo(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    parts = words(natural(entity, name))
    options = [i for i, p in enumerate(parts) if len(p) >= 5 and p.isalpha()]
    if not options:
        return None
    i = rng.choice(options)
    w = parts[i]
    pos = rng.randrange(1, len(w) - 1)
    op = rng.choice(["sub", "del", "ins", "swap"])
    low = w[pos].lower()
    if op == "sub":
        repl = rng.choice(KEYBOARD.get(low, "e"))
        w = w[:pos] + (repl.upper() if w[pos].isupper() else repl) + w[pos + 1 :]
    elif op == "del":
        w = w[:pos] + w[pos + 1 :]
    elif op == "ins":
        w = w[:pos] + w[pos] + w[pos:]
    else:
        w = w[: pos - 1] + w[pos] + w[pos - 1] + w[pos + 1 :]
    parts[i] = w
    return " ".join(parts)


def v_ocr(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    text = natural(entity, name)
    rules = [r for r in OCR_RULES if r[0] in text]
    if not rules:
        return None
    for a, b in rng.sample(rules, min(2, len(rules))):
        positions = [m.start() for m in re.finditer(re.escape(a), text)]
        if not positions:  # an earlier rule rewrote it
            continue
        pos = rng.choice(positions)
        text = text[:pos] + b + text[pos + len(a) :]
    return text


def v_vowel_dropped(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    parts = words(natural(entity, name))
    if not any(len(p) >= 5 for p in parts) or not is_latin(name):
        return None
    out = [
        p[0] + re.sub(r"[aeiouAEIOU]", "", p[1:]) if len(p) >= 5 and p.isalpha() else p
        for p in parts
    ]
    text = " ".join(out)
    return text if text != " ".join(parts) else None


def v_truncated(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    text = natural(entity, name)
    if len(text) < 16 or len(words(text)) < 2:
        return None
    cut = max(len(words(text)[0]) + 3, int(len(text) * rng.uniform(0.6, 0.8)))
    if cut >= len(text) - 1:
        return None
    return text[:cut].rstrip()


def v_transliteration(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    text = natural(entity, name)
    lower = text.lower()
    rules = [r for r in TRANSLIT_RULES if r[0] in lower]
    if not rules or not is_latin(text):
        return None
    for a, b in rng.sample(rules, min(rng.choice([1, 2]), len(rules))):
        positions = [m.start() for m in re.finditer(re.escape(a), lower)]
        if not positions:  # an earlier rule rewrote it
            continue
        pos = rng.choice(positions)
        lower = lower[:pos] + b + lower[pos + len(a) :]
    return lower.title() if lower.title() != text.title() else None


def v_homoglyph(rng: random.Random, entity: StoredEntity, name: str) -> str | None:
    text = natural(entity, name)
    slots = [i for i, c in enumerate(text) if c in HOMOGLYPHS]
    if not slots or not is_latin(text):
        return None
    chars = list(text)
    for i in rng.sample(slots, min(rng.choice([1, 2, 3]), len(slots))):
        chars[i] = HOMOGLYPHS[chars[i]]
    inside = [i for i in range(1, len(chars) - 1) if chars[i].isalpha() and chars[i - 1].isalpha()]
    if inside and rng.random() < 0.7:
        pos = rng.choice(inside)
        chars.insert(pos, rng.choice(ZERO_WIDTH))
    return "".join(chars)


MAKERS: dict[str, Callable[[random.Random, StoredEntity, str], str | None]] = {
    "transliteration": v_transliteration,
    "order_swap": v_order_swap,
    "dropped_middle": v_dropped_middle,
    "initials": v_initials,
    "typo": v_typo,
    "ocr": v_ocr,
    "vowel_dropped": v_vowel_dropped,
    "truncated": v_truncated,
    "homoglyph_evasion": v_homoglyph,
}
FAMILY_NOTES = {
    "publisher_spelling": "held out: an entry's own other spelling of its name (a Latin "
    "alias with the same number of words, rapidfuzz token-sort ratio 70-97, another name "
    "key) taken out of the lists and screened against them; real romanisations chosen by "
    "the list publishers, independent of Watchkeeper's tables. Found: the entry, or an "
    "entry named as it is (the same party on two lists). Some of these aliases are "
    "another name rather than a spelling (a maiden name, another given name, a "
    "translation: 'BELYAEVA' for 'BOVDA', 'VERTEX IMOTI' for 'VERTEX PROPERTIES'), which "
    "a name-only screener should not match",
    "other_list_spelling": "a person's name as the UN list writes it, screened for the SDN "
    "entry of the same person (and the reverse); pairs linked by full date of birth and "
    "nationality, not by name; the source entry is excluded",
    "original_script": "the UN list's original-script name (Arabic, Chinese, Cyrillic, "
    "Korean...), screened for the SDN entry of the same person (UN entry excluded)",
    "transliteration": "1-2 real transliteration alternations (mohammed/muhammad, "
    "ou/u, kh/h, q/k, dj/j, sh/ch ...)",
    "order_swap": "person names with the family name moved first, or reversed",
    "dropped_middle": "one middle name dropped (people with 3+ names)",
    "initials": "given names written as initials ('N. MADURO MOROS')",
    "typo": "one keyboard typo (substitution, deletion, insertion, transposition)",
    "ocr": "1-2 OCR confusions (rn/m, l/1, O/0, cl/d, e/c, S/5 ...)",
    "vowel_dropped": "vowels dropped from words of 5+ letters",
    "truncated": "the name cut at 60-80% of its length (fixed-width fields)",
    "homoglyph_evasion": "1-3 Cyrillic look-alike letters, often with a zero-width character",
    "near_miss": "negative: a listed name with its rarest word swapped for another real "
    "list word (3+ edits away, different sound); no list entry has that name",
    "non_listed": "negative: real airline names (OpenFlights, outside sanctioned "
    "countries) and person names from Faker's per-locale lists of real given and family "
    "names, none equal to a listed name",
}


# ---- building the case set ----------------------------------------------------------------


def name_key(text: str) -> frozenset[str]:
    return frozenset(t for n in normalise_name(text) for t in n.forms)


def linked_people(entities: list[StoredEntity]) -> list[tuple[StoredEntity, StoredEntity]]:
    """(UN person, SDN person) pairs with the same full birth date and a common
    nationality or citizenship, the only such pair for that UN entry: the same person
    on two lists, found without looking at names."""
    by_dob: dict[str, list[StoredEntity]] = defaultdict(list)
    for e in entities:
        if e.schema != "Person" or not e.id.startswith("ofac-"):
            continue
        for d in e.get("birthDate"):
            if len(d) == 10:
                by_dob[d].append(e)
    pairs = []
    for e in entities:
        if e.schema != "Person" or not e.id.startswith("unsc-"):
            continue
        found: dict[str, StoredEntity] = {}
        for d in e.get("birthDate"):
            for other in by_dob.get(d, []) if len(d) == 10 else []:
                nat_a = set(e.get("nationality")) | set(e.get("citizenship"))
                nat_b = set(other.get("nationality")) | set(other.get("citizenship"))
                if not nat_a & nat_b:
                    continue
                found[other.id] = other
        if len(found) == 1:  # ambiguous birth dates say nothing
            pairs.append((e, next(iter(found.values()))))
    return pairs


def build_cases(
    entities: list[StoredEntity], split: str, per_family: int, seed: int = 7
) -> list[Case]:
    rng = random.Random(seed)
    listed_keys = {name_key(n) for e in entities for n in e.get("name") + e.get("alias")}
    pool = [e for e in entities if split_of(e.id) == split and e.get("name")]
    rng.shuffle(pool)
    cases: list[Case] = []
    for family, maker in MAKERS.items():
        made = 0
        for entity in pool:
            if made >= per_family:
                break
            name = entity.get("name")[0]
            if not is_latin(name) or len(name) < 4:
                continue
            variant = maker(random.Random(f"{seed}:{family}:{entity.id}"), entity, name)
            if variant and variant != name:
                cases.append(Case(family, POSITIVE, entity.schema, variant, entity.id))
                made += 1
    # Another list's spelling of the same person, and original-script names.
    pairs = [(un, sdn) for un, sdn in linked_people(entities) if split_of(un.id) == split]
    rng.shuffle(pairs)
    other, script = 0, 0
    for un, sdn in pairs:
        un_name, sdn_name = un.get("name")[0], natural(sdn, sdn.get("name")[0])
        if other < per_family and name_key(un_name) != name_key(sdn_name):
            cases.append(Case("other_list_spelling", POSITIVE, "Person", un_name, sdn.id, {un.id}))
            other += 1
        if other < per_family and name_key(un_name) != name_key(sdn_name):
            cases.append(Case("other_list_spelling", POSITIVE, "Person", sdn_name, un.id, {sdn.id}))
            other += 1
        originals = [a for a in un.get("alias") if not is_latin(a)]
        if originals and script < per_family:
            cases.append(Case("original_script", POSITIVE, "Person", originals[0], sdn.id, {un.id}))
            script += 1
    cases.extend(near_misses(pool, listed_keys, per_family, rng))
    cases.extend(non_listed(listed_keys, split, per_family * 2, rng))
    # The same party is sometimes listed twice under one name (an SDN entry and a BIS
    # Entity List row): finding either counts.
    by_key: dict[frozenset[str], set[str]] = defaultdict(set)
    for e in entities:
        for n in e.get("name"):
            by_key[name_key(n)].add(e.id)
    by_id = {e.id: e for e in entities}
    for case in cases:
        if case.expected:
            names = by_id[case.expected].get("name")
            case.accept = {case.expected}
            for n in names:
                case.accept |= by_key.get(name_key(n), set())
            case.accept -= case.exclude
    return cases


def publisher_spellings(
    entities: list[StoredEntity], split: str, count: int, seed: int = 7
) -> tuple[list[Case], list[StoredEntity]]:
    """The publishers' own other spellings, held out: an entry's Latin alias that is a
    spelling of its name (rapidfuzz token-sort ratio 70-97 and another name key: Mohammad
    / Muhammad, Aleksandr / Alexander, Tareq / Tariq) is taken out of the entry, and
    screened against lists that no longer carry it. The variants are real romanisations
    chosen by OFAC, the UN and the CSL's agencies, not made by rules of ours.
    Returns the cases and the entities with those aliases removed."""
    from rapidfuzz import fuzz

    rng = random.Random(f"{seed}:publisher")
    pool = [e for e in entities if split_of(e.id) == split and e.get("name")]
    rng.shuffle(pool)
    held: dict[str, str] = {}
    cases: list[Case] = []
    for e in pool:
        if len(cases) >= count:
            break
        name = e.get("name")[0]
        if not is_latin(name):
            continue
        keys = {name_key(n) for n in e.get("name")}
        for alias in e.get("alias"):
            if not is_latin(alias) or len(alias) < 4 or name_key(alias) in keys:
                continue
            if len(words(alias)) != len(words(name)):
                continue
            ratio = fuzz.token_sort_ratio(name.lower(), alias.lower())
            if 70 <= ratio < 97:
                held[e.id] = alias
                cases.append(Case("publisher_spelling", POSITIVE, e.schema, alias, e.id))
                break
    reduced = []
    for e in entities:
        held_alias = held.get(e.id)
        if held_alias is None:
            reduced.append(e)
            continue
        props = {k: [v for v in vs if v != held_alias] for k, vs in e.properties.items()}
        reduced.append(dataclasses.replace(e, properties=props))
    return cases, reduced


def near_misses(
    pool: list[StoredEntity], listed: set[frozenset[str]], count: int, rng: random.Random
) -> list[Case]:
    vocab: list[str] = sorted(
        {w for e in pool for n in e.get("name") for w in words(natural(e, n)) if len(w) >= 4}
    )
    df: dict[str, int] = defaultdict(int)
    for e in pool:
        for n in e.get("name") + e.get("alias"):
            for w in set(words(n.lower())):
                df[w] += 1
    made: list[Case] = []
    from rapidfuzz.distance import Levenshtein

    for entity in pool:
        if len(made) >= count:
            break
        name = natural(entity, entity.get("name")[0])
        parts = words(name)
        if len(parts) < 2 or not is_latin(name):
            continue
        # The rarest word on the lists: what makes the name this party's.
        target = min(range(len(parts)), key=lambda i: (df.get(parts[i].lower(), 0), -len(parts[i])))
        word = parts[target]
        for _ in range(30):
            other = rng.choice(vocab)
            if (
                abs(len(other) - len(word)) <= 2
                and Levenshtein.distance(other.lower(), word.lower()) >= 3
                and skeleton(other.lower()) != skeleton(word.lower())
            ):
                variant = " ".join(parts[:target] + [other] + parts[target + 1 :])
                if name_key(variant) not in listed:
                    made.append(Case("near_miss", NEGATIVE, entity.schema, variant))
                break
    return made


def non_listed(
    listed: set[frozenset[str]], split: str, count: int, rng: random.Random
) -> list[Case]:
    cases: list[Case] = []
    airlines = SHARED / "reference" / "openflights" / "airlines.dat"
    companies: list[str] = []
    if airlines.exists():
        with open(airlines, encoding="utf-8", errors="replace") as fh:
            for row in csv.reader(fh):
                if len(row) < 7 or row[6] in SANCTIONED_COUNTRIES or row[1] in ("", "\\N"):
                    continue
                if len(row[1]) >= 4 and split_of(row[1]) == split:
                    companies.append(row[1])
    rng.shuffle(companies)
    for name in companies[: count // 2]:
        if name_key(name) not in listed:
            cases.append(Case("non_listed", NEGATIVE, "Organization", name))
    try:
        from faker import Faker
    except ImportError as exc:  # the negatives would silently shrink by two thirds
        raise SystemExit(
            "benchmarks/screening.py needs Faker for its non-listed person names: "
            "`make bench` installs it (pyproject's `bench` extra)"
        ) from exc
    locales = ["en_US", "en_GB", "es_ES", "es_MX", "pt_BR", "fr_FR", "de_DE", "it_IT",
               "ru_RU", "tr_TR", "id_ID", "en_IN", "vi_VN", "ar_AA", "fa_IR", "zh_CN",
               "ko_KR", "uk_UA", "en_PK", "en_NG"]  # fmt: skip
    fake = Faker(locales)
    fake.seed_instance(11 if split == "test" else 12)
    people = 0
    while people < count - count // 2:
        name = fake.name()
        if name_key(name) in listed:
            continue
        cases.append(Case("non_listed", NEGATIVE, "Person", name))
        people += 1
    return cases


# ---- the three screeners -----------------------------------------------------------------------


def run_watchkeeper(screener: Screener, cases: list[Case]) -> tuple[list[list[str]], float, float]:
    queries = [
        Query.from_yente({"schema": c.schema, "properties": {"name": [c.name]}}) for c in cases
    ]
    matched: list[list[str]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for case, query in zip(cases, queries, strict=True):
        hits = screener.screen(query, threshold=THRESHOLD, exclude_ids=case.exclude or None)
        matched.append([h.entity.id for h in hits if h.match])
    return matched, time.perf_counter() - wall, time.process_time() - cpu


def run_steady(screener: Screener, cases: list[Case], warmup: list[Case]) -> tuple[float, float]:
    """Queries/s once the caches hold what a running service has met: every cache is
    emptied, the other split's queries are screened (untimed), then these are timed."""
    screener.forget_caches()
    run_watchkeeper(screener, warmup)
    _matched, wall, cpu = run_watchkeeper(screener, cases)
    return wall, cpu


class NameTable:
    """Every listed name, for rapidfuzz: strings and the entity each belongs to."""

    def __init__(self, entities: list[StoredEntity]) -> None:
        from rapidfuzz import utils

        self.names: list[str] = []
        self.owner: list[int] = []
        self.entities = entities
        for i, e in enumerate(entities):
            for prop in ("name", "alias", "previousName", "weakAlias"):
                for n in e.get(prop):
                    self.names.append(utils.default_process(n))
                    self.owner.append(i)


def compatible(query_schema: str, entity: StoredEntity) -> bool:
    from followthemoney import model

    q, c = model.get(query_schema), model.get(entity.schema)
    return bool(q and c and (q.name == c.name or q.can_match(c)))


def run_rapidfuzz(table_: NameTable, cases: list[Case]) -> tuple[list[list[str]], float, float]:
    from rapidfuzz import fuzz, process, utils

    matched: list[list[str]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for case in cases:
        found = process.extract(
            utils.default_process(case.name),
            table_.names,
            scorer=fuzz.WRatio,
            processor=None,
            limit=20,
            score_cutoff=RAPIDFUZZ_CUTOFF,
        )
        ids: list[str] = []
        for _name, _score, pos in found:
            e = table_.entities[table_.owner[pos]]
            if e.id not in case.exclude and e.id not in ids and compatible(case.schema, e):
                ids.append(e.id)
        matched.append(ids)
    return matched, time.perf_counter() - wall, time.process_time() - cpu


def run_logic_v2(
    index: YenteCandidateIndex, cases: list[Case]
) -> tuple[list[list[str]], float, float]:
    """yente's approach: its candidate query (``_yente_index``: fuzzy name match, name
    key, name parts, phonetics; the best 50 entities of a compatible schema), then
    logic-v2 scores each candidate; a match is score >= 0.7."""
    from followthemoney import model
    from nomenklatura.matching import LogicV2
    from nomenklatura.matching.types import ScoringConfig

    config = ScoringConfig.defaults()
    proxies: dict[int, Any] = {}
    matched: list[list[str]] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for n, case in enumerate(cases):
        query = model.make_entity(case.schema)
        query.id = f"query-{n}"
        query.add("name", case.name)
        ranked = index.candidates(case.name, limit=len(index.entities))
        candidates = [i for i in ranked if compatible(case.schema, index.entities[i])][:50]
        ids: list[str] = []
        for owner in candidates:
            e = index.entities[owner]
            if e.id in case.exclude:
                continue
            proxy = proxies.get(owner)
            if proxy is None:
                proxy = proxies[owner] = model.get_proxy(
                    {"id": e.id, "schema": e.schema, "properties": e.properties}, cleaned=False
                )
            result = LogicV2.compare(query, proxy, config)
            if result.score >= THRESHOLD:
                ids.append(e.id)
        matched.append(ids)
    return matched, time.perf_counter() - wall, time.process_time() - cpu


# ---- scoring the runs ----------------------------------------------------------------------------


def family_stats(cases: list[Case], matched: list[list[str]]) -> dict[str, tuple[int, int]]:
    """family -> (successes, total): found the expected entity, or (negatives) no match."""
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case, ids in zip(cases, matched, strict=True):
        s = stats[case.family]
        s[1] += 1
        if case.kind == POSITIVE and case.accept.intersection(ids):
            s[0] += 1
        if case.kind == NEGATIVE and ids:
            s[0] += 1  # a false positive
    return {k: (v[0], v[1]) for k, v in stats.items()}


def pct(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "-"


def summarise(
    cases: list[Case], runs: dict[str, list[list[str]]]
) -> tuple[list[str], list[list[Any]]]:
    families = list(dict.fromkeys(c.family for c in cases))
    stats = {name: family_stats(cases, m) for name, m in runs.items()}
    headers = ["family", "kind", "queries"] + [f"{n}" for n in runs]
    rows: list[list[Any]] = []
    for fam in families:
        kind = next(c.kind for c in cases if c.family == fam)
        total = stats[next(iter(runs))][fam][1]
        label = "recall" if kind == POSITIVE else "false-positive rate"
        rows.append([fam, label, total] + [pct(*stats[n][fam]) for n in runs])
    for kind, label in (
        (POSITIVE, "recall, all benign variation"),
        (INDEPENDENT, "recall, variants from outside our tables"),
        (NEGATIVE, "false-positive rate, all negatives"),
    ):
        if kind == INDEPENDENT:
            fams = [f for f in families if f in INDEPENDENT_FAMILIES]
        else:
            fams = [f for f in families if next(c.kind for c in cases if c.family == f) == kind]
        if not fams:
            continue
        total = sum(stats[next(iter(runs))][f][1] for f in fams)
        rows.append(
            [f"**all {kind}s**", label, total]
            + [f"**{pct(sum(stats[n][f][0] for f in fams), total)}**" for n in runs]
        )
    return headers, rows


@dataclass
class MainRun:
    """Watchkeeper on the main case set, over the index of the full lists."""

    screener: Screener | None
    cases: list[Case]
    hits: list[list[str]]
    wall: float = 0.0
    cpu: float = 0.0
    build_s: float = 0.0
    reload_s: float = 0.0


def screen_main(
    args: argparse.Namespace, store: Store, entities: list[StoredEntity], only: set[str]
) -> MainRun:
    """Build the index (and reload it as a fresh process would), then screen the cases."""
    index_dir = args.db.parent / f"{args.db.name}.screening"
    if not args.reuse_index:
        for old in index_dir.glob("index-*"):
            old.unlink()
    Screener._memory.clear()
    started = time.perf_counter()
    screener = Screener.from_store(store)
    build_s = time.perf_counter() - started
    # Then as a process that loads the saved index: the built one is let go first.
    Screener._memory.clear()
    del screener
    gc.unfreeze()
    gc.collect()
    started = time.perf_counter()
    screener = Screener.from_store(store)
    reload_s = time.perf_counter() - started
    print(
        f"{len(entities):,} entities; index built in {build_s:.1f}s, reloaded in {reload_s:.2f}s",
        file=sys.stderr,
    )
    cases = build_cases(entities, args.split, args.sample)
    if only:
        cases = [c for c in cases if c.family in only]
    print(f"{len(cases):,} cases", file=sys.stderr)
    # Cold as a fresh process that loads the index from disk: building it above warmed
    # the per-word caches, which such a process would not have.
    screener.forget_caches()
    hits, wall, cpu = run_watchkeeper(screener, cases)
    if args.show_misses:
        for case, ids in zip(cases, hits, strict=True):
            if case.family == args.show_misses and (
                (case.kind == POSITIVE and not case.accept.intersection(ids))
                or (case.kind == NEGATIVE and ids)
            ):
                e = screener.get(case.expected) if case.expected else None
                print(
                    f"{case.name!r} -> want {case.expected} {e.caption if e else ''} got {ids[:3]}"
                )
    return MainRun(screener, cases, hits, wall, cpu, build_s, reload_s)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--sample", type=int, default=200, help="queries per family (Watchkeeper)")
    parser.add_argument("--peer-sample", type=int, default=40, help="queries per family for peers")
    parser.add_argument(
        "--db",
        type=Path,
        default=Path(tempfile.gettempdir()) / "watchkeeper-bench" / "screening.duckdb",
    )
    parser.add_argument("--no-write", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--reuse-index", action="store_true", help="keep the cached index")
    parser.add_argument("--show-misses", type=str, default="", help="print misses of a family")
    parser.add_argument(
        "--families",
        type=str,
        default="",
        help="only these families (comma-separated, e.g. publisher_spelling): a quick look, "
        "no speed figures, no peers, nothing written",
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    only = {f.strip() for f in args.families.split(",") if f.strip()}
    unknown = only - set(FAMILY_NOTES)
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")
    if only:
        args.skip_peers = args.no_write = True

    load_at_start = os.getloadavg()[0]
    store, load_s = build_store(args.db)
    entities = list(store.current_entities())
    if only == {"publisher_spelling"}:
        # Only the held-out spellings: their own index is all that is needed.
        run = MainRun(None, [], [])
    else:
        run = screen_main(args, store, entities, only)
    screener, cases, wk_all = run.screener, run.cases, run.hits
    wk_wall, wk_cpu, build_s, reload_s = run.wall, run.cpu, run.build_s, run.reload_s
    # The publishers' own spellings, held out of a second index built without them.
    spell_cases, reduced = publisher_spellings(entities, args.split, args.sample)
    if only and "publisher_spelling" not in only:
        spell_cases = []
    # Found: the entry, an entry that still carries the held-out spelling, or the same
    # party listed twice under one of the entry's names (as for the other families).
    reduced_keys: dict[frozenset[str], set[str]] = defaultdict(set)
    named_keys: dict[frozenset[str], set[str]] = defaultdict(set)
    for e in reduced:
        for n in e.get("name") + e.get("alias"):
            reduced_keys[name_key(n)].add(e.id)
        for n in e.get("name"):
            named_keys[name_key(n)].add(e.id)
    by_id = {e.id: e for e in reduced}
    for case in spell_cases:
        case.accept = {case.expected or ""} | reduced_keys.get(name_key(case.name), set())
        for n in by_id[case.expected or ""].get("name"):
            case.accept |= named_keys.get(name_key(n), set())
    print(f"{len(spell_cases):,} held-out publisher spellings", file=sys.stderr)
    spell_hits: list[list[str]] = []
    if spell_cases:
        spell_screener = Screener.from_entities(reduced)
        spell_hits, _wall, _cpu = run_watchkeeper(spell_screener, spell_cases)
        del spell_screener
    if args.show_misses == "publisher_spelling":
        for case, ids in zip(spell_cases, spell_hits, strict=True):
            if not case.accept.intersection(ids):
                print(f"{case.name!r} -> want {case.expected} got {ids[:3]}")
    if only:
        _headers, rows = summarise(cases + spell_cases, {"Watchkeeper": wk_all + spell_hits})
        print(table(_headers, rows))
        return
    assert screener is not None

    # The peers run on a smaller sample of the same cases (logic-v2 is slow).
    rng = random.Random(3)
    by_family: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_family[c.family].append(i)
    peer_idx = sorted(
        i
        for fam, idx in by_family.items()
        for i in rng.sample(
            idx, min(len(idx), args.peer_sample * (2 if fam == "non_listed" else 1))
        )
    )
    peer_cases = [cases[i] for i in peer_idx]
    runs = {"Watchkeeper": [wk_all[i] for i in peer_idx]}
    other = "dev" if args.split == "test" else "test"
    warmup = build_cases(entities, other, args.sample)
    steady_wall, steady_cpu = run_steady(screener, cases, warmup)
    speed = [
        [
            "Watchkeeper, cold (the first queries after loading the index)",
            len(cases),
            f"{len(cases) / wk_wall:,.0f}",
            f"{len(cases) / wk_cpu:,.0f}",
        ],
        [
            f"Watchkeeper, steady (after {len(warmup):,} queries of the {other} split)",
            len(cases),
            f"{len(cases) / steady_wall:,.0f}",
            f"{len(cases) / steady_cpu:,.0f}",
        ],
    ]
    spell_peer = spell_cases[: args.peer_sample]
    runs["Watchkeeper"] += spell_hits[: args.peer_sample]
    if not args.skip_peers:
        names = NameTable(entities)
        lv2, lv2_wall, lv2_cpu = run_logic_v2(YenteCandidateIndex(entities), peer_cases)
        lv2_spell, _w, _c = run_logic_v2(YenteCandidateIndex(reduced), spell_peer)
        runs["logic-v2 (yente-style index)"] = lv2 + lv2_spell
        speed.append(
            [
                "logic-v2 behind a yente-style candidate index (top 50)",
                len(peer_cases),
                f"{len(peer_cases) / lv2_wall:,.1f}",
                f"{len(peer_cases) / lv2_cpu:,.1f}",
            ]
        )
        rf, rf_wall, rf_cpu = run_rapidfuzz(names, peer_cases)
        rf_spell, _w, _c = run_rapidfuzz(NameTable(reduced), spell_peer)
        runs[f"rapidfuzz WRatio>={RAPIDFUZZ_CUTOFF:.0f}"] = rf + rf_spell
        speed.append(
            [
                f"rapidfuzz brute force (WRatio >= {RAPIDFUZZ_CUTOFF:.0f})",
                len(peer_cases),
                f"{len(peer_cases) / rf_wall:,.1f}",
                f"{len(peer_cases) / rf_cpu:,.1f}",
            ]
        )

    headers, rows = summarise(peer_cases + spell_peer, runs)
    full_headers, full_rows = summarise(cases + spell_cases, {"Watchkeeper": wk_all + spell_hits})
    print(table(headers, rows))
    print(table(full_headers, full_rows))
    print(table(["screener", "queries", "queries/s (wall)", "queries/CPU-s"], speed))
    if args.no_write or args.split != "test":
        return
    body = [
        f"Lists: OFAC SDN 2023-12-28 + OFAC consolidated non-SDN + UN SC + US CSL, loaded with "
        f"Watchkeeper's parsers: {len(entities):,} entities (load {load_s:.0f}s when not cached). "
        f"Index built in {build_s:.1f}s, reloaded from its on-disk cache in {reload_s:.2f}s. "
        f"Held-out `test` half of the list entries (split by a hash of the entity id); default "
        f"threshold {THRESHOLD} for Watchkeeper and logic-v2; rapidfuzz brute force counts "
        f"WRatio >= {RAPIDFUZZ_CUTOFF:.0f} as a match. Name-only queries.",
        "",
        "### Same queries for all three (peer sample)",
        "",
        table(headers, rows),
        "",
        "### Speed (one process)",
        "",
        table(["screener", "queries", "queries/s (wall)", "queries/CPU-s"], speed),
        "",
        "Cold: the index loaded from its saved file and every per-word cache empty, as in "
        "a fresh process. Steady: the caches emptied, the other split's queries screened "
        "untimed, then these timed. On this shared two-core machine the same code measures "
        "up to a fifth apart from run to run; during this run other sessions shared the two "
        f"cores (1-minute load average {load_at_start:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end).",
        "",
        f"### Watchkeeper on the full case set ({len(cases) + len(spell_cases):,} queries)",
        "",
        table(full_headers, full_rows),
        "",
        "### Families",
        "",
        *[f"- `{k}`: {v}" for k, v in FAMILY_NOTES.items()],
    ]
    write_section("screening", "\n".join(body))


if __name__ == "__main__":
    main()
