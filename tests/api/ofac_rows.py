"""Small test stores built from real OFAC SDN rows (../shared/data or the copy in data/).

The rows are read byte for byte from the official legacy ``sdn.csv`` files of two
publications (2023-12-28 and 2024-05-03); this module turns a chosen handful of them
into FtM entities the way the store expects them (one primary entity per ``ent_num``,
a Sanction hanging off it), so screening tests run on real names, dates and programmes.
"""

from __future__ import annotations

import csv
import functools
import re
import tempfile
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from followthemoney import model

from tests.conftest import shared_path
from watchkeeper.lists.base import ListEntity, ParsedList
from watchkeeper.store import Store

OLD = "2023-12-28"
NEW = "2024-05-03"

_SCHEMA = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}
_AKA = re.compile(r"a\.k\.a\. '([^']+)'")
_DOB = re.compile(r"DOB (\d{2} \w{3} \d{4}|\d{4})")
_NATIONALITY = re.compile(r"nationality ([A-Za-z ]+?)[;.]")
_IMO = re.compile(r"IMO (\d{7})")


def sdn_path(version: str) -> Path:
    return shared_path("sanctions", "ofac", f"sdn_csv_{version}", "sdn.csv")


def read_rows(version: str, ent_nums: Iterable[str]) -> dict[str, list[str]]:
    """The rows of these ``ent_num``s, as the file has them."""
    wanted = set(ent_nums)
    with open(sdn_path(version), encoding="latin-1", newline="") as fh:
        rows = {r[0]: r for r in csv.reader(fh) if len(r) >= 12 and r[0] in wanted}
    missing = wanted - rows.keys()
    assert not missing, f"not in sdn.csv {version}: {sorted(missing)}"
    return rows


def _clean(value: str) -> str:
    return "" if value.strip() == "-0-" else value.strip()


def _dob(text: str) -> str | None:
    m = _DOB.search(text)
    if m is None:
        return None
    raw = m[1]
    if len(raw) == 4:
        return raw
    from datetime import datetime

    return datetime.strptime(raw, "%d %b %Y").date().isoformat()  # noqa: DTZ007


def entities_from_rows(rows: dict[str, list[str]]) -> list[ListEntity]:
    """One primary entity (and its Sanction) per row; ids ``ofac-<ent_num>``."""
    out: list[ListEntity] = []
    for ent_num, row in sorted(rows.items()):
        sdn_type = _clean(row[2])
        remarks = _clean(row[11])
        schema = _SCHEMA.get(sdn_type, "Organization")
        proxy = model.make_entity(schema)
        proxy.id = f"ofac-{ent_num}"
        name = _clean(row[1])
        if schema == "Person" and ", " in name:
            last, first = name.split(", ", 1)
            proxy.add("firstName", first)
            proxy.add("lastName", last)
            name = f"{first} {last}"
        proxy.add("name", name)
        for alias in _AKA.findall(remarks):
            proxy.add("alias", alias)
        if schema == "Person":
            proxy.add("birthDate", _dob(remarks), quiet=True)
            m = _NATIONALITY.search(remarks)
            if m:
                proxy.add("nationality", m[1], quiet=True)
        if schema == "Vessel":
            m = _IMO.search(remarks)
            if m:
                proxy.add("imoNumber", f"IMO{m[1]}")
        proxy.add("notes", remarks or None, quiet=True)
        out.append(ListEntity(proxy, ent_num))
        sanction = model.make_entity("Sanction")
        sanction.id = f"ofac-{ent_num}-sanction"
        sanction.add("entity", proxy.id)
        sanction.add("authority", "Office of Foreign Assets Control")
        for program in _clean(row[3]).split("] ["):
            sanction.add("program", program.strip())
        out.append(ListEntity(sanction, ent_num, primary=False))
    return out


@functools.cache
def _parsed(version: str, ent_nums: tuple[str, ...]) -> ParsedList:
    rows = read_rows(version, ent_nums)
    folder = Path(tempfile.mkdtemp(prefix="wk-sdn-"))
    path = folder / f"sdn-{version}.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows[k] for k in sorted(rows))
    published = date.fromisoformat(version)
    return ParsedList("ofac_sdn", version, published, [path], entities_from_rows(rows))


def parsed_sdn(version: str, ent_nums: Iterable[str]) -> ParsedList:
    """A ParsedList of ``ofac_sdn`` version ``version`` holding only these entries
    (built once per test session). The chosen rows are written to a file of their
    own, which only gives the version its hash."""
    return _parsed(version, tuple(sorted(set(ent_nums))))


def load_sdn(store: Store, version: str, ent_nums: Iterable[str]) -> int:
    """Load the entries as one version; returns its version id."""
    v, _ = store.add_list_version(parsed_sdn(version, ent_nums))
    return v.version_id


# Real entries used across the tests: the founding report's parties and a few others.
MAHAN_AIR = "12927"
HIZBALLAH = "4697"
ASSAD = "12735"
MADURO = "22790"
IRGC = "10391"
QODS_FORCE = "10465"
NIOC = "11317"
CHIWENGA = "7489"  # name corrected in 2024-05-03
IRGC_CYBER = "23475"  # renamed in 2024-05-03
BASE_ENTRIES = (MAHAN_AIR, HIZBALLAH, ASSAD, MADURO, IRGC, QODS_FORCE, NIOC, CHIWENGA, IRGC_CYBER)
# In 2024-05-03, not in 2023-12-28: Iranian persons and companies added in between.
LASHGARIAN = "47394"
ADDED_ENTRIES = (LASHGARIAN, "47395", "48682", "47234")


@functools.cache
def _ent_nums(version: str) -> tuple[str, ...]:
    with open(sdn_path(version), encoding="latin-1", newline="") as fh:
        return tuple(r[0] for r in csv.reader(fh) if len(r) >= 12)


@functools.cache
def sample(version: str, step: int = 25) -> tuple[str, ...]:
    """Every ``step``-th entry of the 2023-12-28 publication, plus the entries the tests
    name: a few hundred real names, so that word frequencies (which the matcher weighs)
    are like the whole list's. For 2024-05-03: the same entries as they stand then
    (those OFAC removed are gone) plus ``ADDED_ENTRIES``, so the store's diff between
    the two is OFAC's real diff over the sampled entries."""
    old = _ent_nums(OLD)
    chosen = set(old[::step]) | set(BASE_ENTRIES)
    if version == OLD:
        return tuple(sorted(chosen))
    return tuple(sorted((chosen & set(_ent_nums(version))) | set(ADDED_ENTRIES)))
