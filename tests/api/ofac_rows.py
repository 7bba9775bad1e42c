"""Small test stores of real OFAC SDN entries, parsed by Watchkeeper's own OFAC parser.

The rows come byte for byte from the two SDN publications the project ships
(``data/lists/ofac/sdn_csv_2023-12-28/sdn.csv.gz`` and ``sdn_csv_2024-05-03/sdn.csv.gz``):
a chosen set of ``ent_num`` lines is copied to a ``sdn.csv`` of its own and parsed with
``watchkeeper.lists.parse_files(..., "ofac_sdn")``. Only ``sdn.csv`` is used for both
publications (the later one has no add/alt files), so a diff between the two is OFAC's
own diff of those entries.
"""

from __future__ import annotations

import functools
import gzip
import tempfile
from collections.abc import Iterable
from pathlib import Path

from watchkeeper.lists import parse_files
from watchkeeper.lists.base import ParsedList
from watchkeeper.store import Store

ROOT = Path(__file__).resolve().parents[2]
OLD = "2023-12-28"
NEW = "2024-05-03"

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


def sdn_file(version: str) -> Path:
    return ROOT / "data" / "lists" / "ofac" / f"sdn_csv_{version}" / "sdn.csv.gz"


@functools.cache
def _lines(version: str) -> dict[str, bytes]:
    """ent_num -> the row's bytes, as published (one CRLF-terminated line per entry)."""
    raw = gzip.decompress(sdn_file(version).read_bytes())
    rows: dict[str, bytes] = {}
    for line in raw.split(b"\r\n"):
        ent_num = line.split(b",", 1)[0]
        if ent_num.isdigit():
            rows[ent_num.decode()] = line
    return rows


@functools.cache
def _parsed(version: str, ent_nums: tuple[str, ...]) -> ParsedList:
    lines = _lines(version)
    missing = [n for n in ent_nums if n not in lines]
    assert not missing, f"not in sdn.csv {version}: {missing}"
    # The folder carries the publication date, which the parser takes as the version.
    folder = Path(tempfile.mkdtemp(prefix="wk-sdn-")) / f"sdn_csv_{version}"
    folder.mkdir()
    path = folder / "sdn.csv"
    path.write_bytes(b"\r\n".join(lines[n] for n in ent_nums) + b"\r\n\x1a")
    parsed = parse_files([path], "ofac_sdn")
    assert parsed.version == version, parsed.version
    return parsed


def parsed_sdn(version: str, ent_nums: Iterable[str]) -> ParsedList:
    """``ofac_sdn`` publication ``version`` holding only these entries (parsed once per
    test session)."""
    return _parsed(version, tuple(sorted(set(ent_nums), key=int)))


def load_sdn(store: Store, version: str, ent_nums: Iterable[str]) -> int:
    """Load the entries as one version; returns its version id."""
    v, _ = store.add_list_version(parsed_sdn(version, ent_nums))
    return v.version_id


@functools.cache
def sample(version: str, step: int = 25) -> tuple[str, ...]:
    """Every ``step``-th entry of the 2023-12-28 publication, plus the entries the tests
    name: a few hundred real names, so that word frequencies (which the matcher weighs)
    are like the whole list's. For 2024-05-03: the same entries as they stand then
    (those OFAC removed are gone) plus ``ADDED_ENTRIES``, so the store's diff between
    the two is OFAC's real diff over the sampled entries."""
    old = list(_lines(OLD))
    chosen = set(old[::step]) | set(BASE_ENTRIES)
    if version == OLD:
        return tuple(sorted(chosen, key=int))
    carried = chosen & set(_lines(version))
    return tuple(sorted(carried | set(ADDED_ENTRIES), key=int))
