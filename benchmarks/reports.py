"""Reports benchmark: link listed parties in list-derived sentences, and read long texts.

Watchkeeper's reader (exact names + screening linker + context rules) against a plain
exact-alias matcher (every listed name and alias, case-insensitive, Aho-Corasick over the
raw text, pyahocorasick), on the same input, in the same run.

1. Links: sentences built from real OFAC SDN entries (bundled 2023-12-28 publication):
   the name as listed, a person's name in natural order, an alias, and a one-letter
   typo; the expected link is the entry itself.
2. Speed (issue 11, item 8): ``read`` of one long text of 256 KiB, 1 MiB and 4 MiB (a
   300-page report is about 1 MB), characters per second after start-up. The text is
   real prose, varied: the founding report, the news texts of tests/fixtures/documents
   and the UN list's narrative remarks on listed people, one paragraph each, repeated in
   turn to the size wanted. A linear reader keeps its rate as the text grows.

    python benchmarks/reports.py [--sample 300] [--sizes 256,1024,4096]
"""

from __future__ import annotations

import argparse
import gzip
import html
import random
import re
import sys
import time
from pathlib import Path

import ahocorasick

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _report import table, write_section  # noqa: E402

from watchkeeper.documents.gazetteer import NameGazetteer  # noqa: E402
from watchkeeper.documents.read import read_text  # noqa: E402
from watchkeeper.documents.service import ScreeningLinker  # noqa: E402
from watchkeeper.documents.text import SourceText  # noqa: E402
from watchkeeper.lists import parse_files  # noqa: E402
from watchkeeper.store import Store, StoredEntity  # noqa: E402

OFAC = ROOT / "data" / "lists" / "ofac" / "sdn_csv_2023-12-28"
SEED = ROOT / "data" / "articles" / "seed-iran-venezuela.txt"
NEWS = ROOT / "tests" / "fixtures" / "documents" / "texts"
UN = ROOT / "data" / "lists" / "un" / "consolidated.xml.gz"
TEMPLATES = [
    "Officials said {name} had moved cargo through a third country last year.",
    "According to court records, payments were routed to {name} in 2021.",
    "The report names {name} among the parties behind the shipments.",
]


def natural(name: str) -> str:
    if "," in name:
        last, _, first = name.partition(",")
        return f"{first.strip()} {last.strip().title()}"
    return name.title()


def typo(name: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 6:
        return name
    i = rng.choice(letters[2:-1])
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def build_cases(entities: list[StoredEntity], n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(family, sentence, expected entity id)."""
    rng = random.Random(seed)
    pool = [e for e in entities if e.schema in ("Person", "Organization", "Company", "LegalEntity")]
    rng.shuffle(pool)
    cases = []
    for e in pool[:n]:
        name = e.get("name")[0]
        tmpl = rng.choice(TEMPLATES)
        cases.append(
            (
                "as listed",
                tmpl.format(name=natural(name) if e.schema != "Person" else name.title()),
                e.id,
            )
        )
        if e.schema == "Person":
            cases.append(("natural order", tmpl.format(name=natural(name)), e.id))
        if e.get("alias"):
            cases.append(("alias", tmpl.format(name=natural(rng.choice(e.get("alias")))), e.id))
        cases.append(("typo", tmpl.format(name=typo(natural(name), rng)), e.id))
    return cases


class ExactAliasMatcher:
    """The baseline: every listed name and alias, as written, found case-insensitively."""

    def __init__(self, entities: list[StoredEntity]) -> None:
        self.automaton = ahocorasick.Automaton()
        for e in entities:
            for prop in ("name", "alias"):
                for name in e.get(prop):
                    key = name.lower()
                    if len(key) >= 4:
                        self.automaton.add_word(key, (key, e.id))
        self.automaton.make_automaton()

    def find(self, text: str) -> set[str]:
        low = text.lower()
        found = set()
        for end, (key, entity_id) in self.automaton.iter(low):
            start = end - len(key) + 1
            before = low[start - 1] if start else " "
            after = low[end + 1] if end + 1 < len(low) else " "
            if not before.isalnum() and not after.isalnum():
                found.add(entity_id)
        return found


# Measured once with this script's texts at commit bf507b3~1, before the reader was made
# linear (issue 11, item 8); kept for the comparison.
BEFORE = (
    "Before issue 11 (commit bf507b3~1), on these texts and this machine: 256 KiB in 6.4 s "
    "(41,053 characters/s), 1 MiB in 76.0 s (13,795 characters/s); 4 MiB was not run "
    "(quadratic: about a quarter of an hour). Past the first paragraphs the sentences "
    "recur, and a name already screened in a text is not screened again, so the rate "
    "grows with the text."
)


def real_paragraphs() -> list[str]:
    """Real prose: the founding report, the news texts kept for the reader's tests (when
    this checkout has them) and the UN list's remarks on listed people."""
    texts = [SEED.read_text("utf-8")]
    texts += [p.read_text("utf-8") for p in sorted(NEWS.glob("*.txt"))]
    with gzip.open(UN, "rt", encoding="utf-8") as xml:
        remarks = re.findall(r"<COMMENTS1>([^<]*)</COMMENTS1>", xml.read())
    return texts + [html.unescape(r).strip() for r in remarks if len(r) > 40]


def long_text(paragraphs: list[str], size: int, seed: int = 11) -> str:
    """The paragraphs once as written, then paragraphs of three to six of their sentences
    drawn at random, separated by blank lines, cut to ``size`` characters. Real prose
    that repeats its sentences but not its paragraphs: the reader sets aside a paragraph
    repeated word for word, which would flatter a text of identical blocks."""
    rng = random.Random(seed)
    sentences = [
        s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p.replace("\n", " ")) if s
    ]
    out = list(paragraphs)
    total = sum(len(p) + 2 for p in out)
    while total < size:
        paragraph = " ".join(rng.sample(sentences, rng.randint(3, 6)))
        out.append(paragraph)
        total += len(paragraph) + 2
    return "\n\n".join(out)[:size]


def speed(
    sizes_kib: list[int],
    gazetteer: NameGazetteer,
    linker: ScreeningLinker,
    baseline: ExactAliasMatcher,
) -> str:
    paragraphs = real_paragraphs()
    distinct = sum(len(p) for p in paragraphs)
    read_text(SourceText(long_text(paragraphs, 4096), "warm-up", "text/plain"), gazetteer, linker)
    rows = []
    for kib in sizes_kib:
        text = long_text(paragraphs, kib * 1024)
        t0 = time.perf_counter()
        reading = read_text(SourceText(text, "bench", "text/plain"), gazetteer, linker)
        wk = time.perf_counter() - t0
        t0 = time.perf_counter()
        found = baseline.find(text)
        base = time.perf_counter() - t0
        linked = len({m.entity_id for m in reading.mentions if m.entity_id})
        rows.append(
            [
                f"{kib:,} KiB",
                f"{wk:.2f}",
                f"{len(text) / wk:,.0f}",
                linked,
                f"{base:.3f}",
                f"{len(text) / base:,.0f}",
                len(found),
                f"{base / wk:.3f}x",
            ]
        )
        print(rows[-1], flush=True)
    return (
        f"One text per size: {len(paragraphs)} real paragraphs ({distinct:,} characters: "
        "the founding report, the news texts of `tests/fixtures/documents` and the UN "
        "list's remarks on listed people), then paragraphs of their sentences drawn at "
        "random (no paragraph repeated word for word). Times after start-up (lists "
        "loaded, gazetteer and screening index built); Watchkeeper runs the whole reader "
        "(layout, mentions, claims).\n\n"
        + table(
            [
                "text",
                "Watchkeeper (s)",
                "Watchkeeper characters/s",
                "entities linked",
                "exact-alias (s)",
                "exact-alias characters/s",
                "entities found",
                "ratio",
            ],
            rows,
        )
        + "\n\n"
        + BEFORE
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument(
        "--sizes", default="256,1024,4096", help="KiB of text to read, comma-separated"
    )
    args = parser.parse_args()
    store = Store(":memory:")
    store.add_list_version(parse_files(sorted(OFAC.glob("*.csv.gz")), "ofac_sdn"))
    entities = list(store.current_entities())
    cases = build_cases(entities, args.sample)
    chars = sum(len(s) for _, s, _ in cases)

    t0 = time.perf_counter()
    gazetteer = NameGazetteer(entities)
    linker = ScreeningLinker(store)
    build_wk = time.perf_counter() - t0
    t0 = time.perf_counter()
    baseline = ExactAliasMatcher(entities)
    build_base = time.perf_counter() - t0

    results: dict[str, dict[str, list[int]]] = {"watchkeeper": {}, "exact alias": {}}
    t0 = time.perf_counter()
    wk_found = []
    for _family, sentence, _expected in cases:
        reading = read_text(SourceText(sentence, "bench", "text/plain"), gazetteer, linker)
        wk_found.append({m.entity_id for m in reading.mentions if m.entity_id})
    wk_time = time.perf_counter() - t0
    t0 = time.perf_counter()
    base_found = [baseline.find(sentence) for _, sentence, _ in cases]
    base_time = time.perf_counter() - t0

    for label, found in (("watchkeeper", wk_found), ("exact alias", base_found)):
        for (family, _s, expected), got in zip(cases, found, strict=True):
            hit, wrong = int(expected in got), len(got - {expected})
            bucket = results[label].setdefault(family, [0, 0, 0])
            bucket[0] += 1
            bucket[1] += hit
            bucket[2] += wrong
    families = sorted({f for f, _, _ in cases})
    rows = []
    for family in families + ["all"]:
        row: list[object] = [family]
        for label in ("watchkeeper", "exact alias"):
            if family == "all":
                n = sum(v[0] for v in results[label].values())
                hits = sum(v[1] for v in results[label].values())
                wrong = sum(v[2] for v in results[label].values())
            else:
                n, hits, wrong = results[label][family]
            row += [f"{hits}/{n} ({hits / n:.2f})", wrong]
        rows.append(row)
    body = (
        f"{len(cases)} sentences ({chars:,} characters) built from {args.sample} real OFAC SDN "
        "entries (bundled 2023-12-28 publication).\n\n"
        + table(
            [
                "family",
                "Watchkeeper found",
                "Watchkeeper wrong links",
                "exact-alias found",
                "exact-alias wrong links",
            ],
            rows,
        )
        + "\n\n"
        + table(
            ["", "Watchkeeper", "exact-alias matcher", "ratio"],
            [
                [
                    "characters/s",
                    f"{chars / wk_time:,.0f}",
                    f"{chars / base_time:,.0f}",
                    f"{(chars / wk_time) / (chars / base_time):.3f}x",
                ],
                ["build (s)", f"{build_wk:.1f}", f"{build_base:.1f}", ""],
            ],
        )
        + "\n\nWatchkeeper pays for recall (typos, natural order, transliteration) with the "
        "screening engine on every distinct capitalised name; the baseline only finds names "
        "written exactly as listed.\n\n### Long texts\n\n"
        + speed([int(k) for k in args.sizes.split(",") if k], gazetteer, linker, baseline)
    )
    print(body)
    write_section("reports", body)


if __name__ == "__main__":
    main()
