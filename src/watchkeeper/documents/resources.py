"""The reader's word resources, derived from general data the project bundles rather than
written by hand for the texts it was tried on:

- ``titles.txt``: words that stand before a person's name as their title or rank
  ("Minister", "Commander", "Ayatollah"). The honorifics and ranks of rigour's person-name
  prefix table (OpenSanctions' own), and the heads of the titles that the bundled
  sanctions lists give their listed people ("Minister of Defense" -> "minister",
  UN "Maulavi"), kept when at least two titles have them and they head titles more often
  than they occur in the names of the lists' organisations ("Bank of ..." heads titles
  too, but is an organisation's word).
- ``regions.txt``: places no country or city table names. The UN M49 regions in English
  (CLDR, through babel), the World Bank's seven regions split into their parts, and the
  seas, gulfs and straits of the NGA World Port Index's "World Water Body" column.

``python -m watchkeeper.documents.resources`` writes both files again from the bundled
data; a test checks the shipped files are what it derives.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RESOURCES = ROOT / "data" / "reference" / "reader"
TITLES = RESOURCES / "titles.txt"
REGIONS = RESOURCES / "regions.txt"

_LISTS = ROOT / "data" / "lists"
_OFAC_CSV = (
    _LISTS / "ofac" / "sdn_csv_2023-12-28" / "sdn.csv.gz",
    _LISTS / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz",
    _LISTS / "ofac" / "cons_nonsdn_csv" / "cons_prim.csv.gz",
)
_UN_XML = _LISTS / "un" / "consolidated.xml.gz"
_CSL = _LISTS / "us_csl" / "consolidated.csv.gz"
_PORTS = ROOT / "data" / "reference" / "UpdatedPub150.csv.gz"

# The World Bank's regions (World Bank country and lending groups,
# https://datahelpdesk.worldbank.org/knowledgebase/articles/906519): the only public
# table here that names the Middle East.
WORLD_BANK_REGIONS = (
    "East Asia and Pacific",
    "Europe and Central Asia",
    "Latin America and the Caribbean",
    "Middle East and North Africa",
    "North America",
    "South Asia",
    "Sub-Saharan Africa",
)

_HEAD = re.compile(r"^\W*(?:[A-Za-z]+\s+){0,2}?([A-Za-z]+)\s+(?:of|to|for)\b")
_WORD = re.compile(r"[A-Za-z]+")
_MIN_TITLES = 2


def _ofac_people_and_orgs(path: Path) -> Iterator[tuple[str, str, str]]:
    """(kind, name, title) of each row of an OFAC legacy CSV (``individual`` or ``-0-``)."""
    with gzip.open(path, "rt", encoding="latin-1", newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 5:
                title = row[4].strip()
                yield row[2].strip(), row[1], "" if title == "-0-" else title


def _un_people_and_orgs(path: Path) -> Iterator[tuple[str, str, str]]:
    import lxml.etree as ET

    root = ET.fromstring(gzip.decompress(path.read_bytes()))
    for person in root.iter("INDIVIDUAL"):
        for value in person.findall("TITLE/VALUE") + person.findall("DESIGNATION/VALUE"):
            yield "individual", "", (value.text or "").strip()
    for entity in root.iter("ENTITY"):
        yield "-0-", entity.findtext("FIRST_NAME") or "", ""


def _csl_people_and_orgs(path: Path) -> Iterator[tuple[str, str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            kind = {"Individual": "individual", "Entity": "-0-"}.get(row.get("type") or "")
            if kind:
                yield kind, row.get("name") or "", (row.get("title") or "").strip()


def title_head(title: str) -> str | None:
    """The word a listed person's title is headed by: "Deputy Minister of Defense" ->
    "minister", "Maulavi" -> "maulavi"; None for titles of another shape."""
    m = _HEAD.match(title)
    if m:
        return m.group(1).lower()
    words = _WORD.findall(title)
    return words[0].lower() if len(words) == 1 else None


def derive_titles() -> list[str]:
    """Title words, from rigour's person-name prefixes and the bundled lists' titles."""
    from rigour._core import person_name_prefixes_list

    from watchkeeper.documents.gazetteer import CONNECTORS

    heads: Counter[str] = Counter()
    in_org_names: Counter[str] = Counter()
    rows = [
        *(r for p in _OFAC_CSV for r in _ofac_people_and_orgs(p)),
        *_un_people_and_orgs(_UN_XML),
        *_csl_people_and_orgs(_CSL),
    ]
    for kind, name, title in rows:
        if kind == "individual" and title:
            head = title_head(title)
            if head:
                heads[head] += 1
        elif kind == "-0-":
            in_org_names.update({w.lower() for w in _WORD.findall(name)})
    words = {w for w, n in heads.items() if n >= _MIN_TITLES and n > in_org_names[w]}
    for prefix in person_name_prefixes_list():
        word = prefix.rstrip(".").lower()
        if word.isalpha() and word.isascii():
            words.add(word)
    return sorted(w for w in words if w not in CONNECTORS and len(w) >= 2)


def _cldr_regions() -> list[str]:
    from babel import Locale

    names = Locale("en").territories
    out = [name for code, name in names.items() if code.isdigit() and code != "001"]
    # "Western Africa" is as often "West Africa" in English.
    short = {"Western": "West", "Eastern": "East", "Northern": "North", "Southern": "South"}
    for name in list(out):
        first, _, rest = name.partition(" ")
        if first in short and rest:
            out.append(f"{short[first]} {rest}")
    return out


def _world_bank_regions() -> list[str]:
    parts: list[str] = []
    for region in WORLD_BANK_REGIONS:
        parts += [re.sub(r"^the ", "", p) for p in region.split(" and ")]
    return parts


def _water_bodies() -> list[str]:
    """Named seas, gulfs, straits and bays of the World Port Index ("Aegean Sea",
    "Persian Gulf"); not descriptions ("Philippine inland seas")."""
    out: set[str] = set()
    with gzip.open(_PORTS, "rt", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            for part in re.split(r"[;,]", row.get("World Water Body") or ""):
                name = part.strip()
                words = name.split()
                if len(words) >= 2 and all(w[0].isupper() or w == "of" for w in words):
                    out.add(name)
    return sorted(out)


def derive_regions() -> list[str]:
    """Region and water-body names, from CLDR's M49 regions, the World Bank's regions and
    the World Port Index."""
    names = {*_cldr_regions(), *_world_bank_regions(), *_water_bodies()}
    return sorted(n for n in names if n[:1].isupper())


def _read(path: Path) -> tuple[str, ...]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def titles() -> frozenset[str]:
    """The word keys of titles and ranks (``titles.txt``): "minister", "sheikh"."""
    from watchkeeper.documents.tokens import word_key

    return frozenset(word_key(w) for w in _read(TITLES))


@lru_cache(maxsize=1)
def regions() -> tuple[str, ...]:
    """Names of regions and water bodies (``regions.txt``)."""
    return _read(REGIONS)


_HEADER = "# Derived by `python -m watchkeeper.documents.resources`; see data/SOURCES.md.\n"


def write() -> None:
    RESOURCES.mkdir(parents=True, exist_ok=True)
    TITLES.write_text(_HEADER + "\n".join(derive_titles()) + "\n", encoding="utf-8")
    REGIONS.write_text(_HEADER + "\n".join(derive_regions()) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
