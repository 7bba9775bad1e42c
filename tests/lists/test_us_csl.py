"""The US Consolidated Screening List parser, on the real trade.gov CSV."""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections import Counter, defaultdict
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from followthemoney import registry
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, shared_path
from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import ListEntity, ParsedList
from watchkeeper.lists.common import country_code, iso_date
from watchkeeper.lists.registry import detect_parser, parse_files
from watchkeeper.lists.us_csl import ConsolidatedScreeningListParser
from watchkeeper.store import Store

from ._mutate import MUTATION_SETTINGS

BUNDLED = DATA / "lists" / "us_csl" / "consolidated.csv.gz"
PARSER = ConsolidatedScreeningListParser()
SDN = "Specially Designated Nationals (SDN) - Treasury Department"


@cache
def parsed() -> ParsedList:
    return PARSER.parse([BUNDLED])


@cache
def raw_text() -> str:
    return gzip.decompress(BUNDLED.read_bytes()).decode("utf-8")


@cache
def rows() -> list[dict[str, str]]:
    """The file read with the plain csv module, for counting independently."""
    return list(csv.DictReader(io.StringIO(raw_text(), newline="")))


@cache
def by_id() -> dict[str, ListEntity]:
    return {e.proxy.id: e for e in parsed().entities if e.proxy.id}


@cache
def by_entry() -> dict[str, list[ListEntity]]:
    out: dict[str, list[ListEntity]] = defaultdict(list)
    for e in parsed().entities:
        out[e.entry_id].append(e)
    return out


def props(entity_id: str) -> dict[str, list[str]]:
    return by_id()[entity_id].proxy.properties


def test_detects_the_bundled_file_and_not_others() -> None:
    assert PARSER.detect([BUNDLED])
    assert detect_parser([BUNDLED]).source == "us_csl"
    assert not PARSER.detect([DATA / "lists" / "un" / "consolidated.xml.gz"])
    assert not PARSER.detect([DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz"])


def test_bundled_copy_is_the_shared_file() -> None:
    shared = shared_path("sanctions", "us_csl", "consolidated.csv.gz")
    assert gzip.decompress(shared.read_bytes()).decode("utf-8") == raw_text()


def test_real_counts_per_source_and_version() -> None:
    result = parsed()
    # Row counts per list, as data/SOURCES.md gives them.
    assert {k: v for k, v in result.counts.items() if k.startswith("rows:")} == {
        "rows:SDN": 10026,
        "rows:EL": 2001,
        "rows:DTC": 727,
        "rows:DPL": 462,
        "rows:SSI": 290,
        "rows:UVL": 201,
        "rows:ISN": 163,
        "rows:PLC": 78,
        "rows:MEU": 71,
        "rows:CMIC": 68,
        "rows:CAP": 53,
        "rows:NS-MBS List": 17,
        "rows:FSE": 3,
    }
    assert result.counts["rows"] == len(rows()) == 14160
    # One Sanction per row; one entry per OFAC entity number or per other _id.
    assert Counter(e.proxy.schema.name for e in result.entities)["Sanction"] == 14160
    treasury = {r["entity_number"] for r in rows() if r["source"].endswith("Treasury Department")}
    others = {r["_id"] for r in rows() if not r["source"].endswith("Treasury Department")}
    assert result.primary_count == len(treasury) + len(others) == 14048
    assert result.counts["ofac_linked"] == len(treasury) == 10423
    assert result.version == "2022-04-21"  # the newest start_date in the file
    assert result.published == date(2022, 4, 21)


def test_sdn_rows_are_linked_to_ofac_ids() -> None:
    sdn = [r for r in rows() if r["source"] == SDN]
    assert len(sdn) == 10026
    for row in sdn:
        entity = by_id()[f"ofac-{row['entity_number']}"]
        assert entity.primary and entity.entry_id == row["entity_number"]
        sanction = props(f"uscsl-ofac-{row['entity_number']}-sanction-sdn")
        assert sanction["authority"] == [SDN]
        assert sanction["entity"] == [f"ofac-{row['entity_number']}"]
    primaries = [e.proxy.id for e in parsed().entities if e.primary]
    assert sum(1 for i in primaries if i and i.startswith("ofac-")) == 10423
    assert not any(i and re.fullmatch(r"uscsl-\d+", i) for i in primaries)


def test_exact_person_with_passport_dates() -> None:
    p = props("ofac-17291")
    assert by_id()["ofac-17291"].proxy.schema.name == "Person"
    assert p["name"] == ["'ABD AL-SALAM, 'Abd al-Malik Muhammad Yusuf 'Uthman"]
    assert p["alias"] == [
        "'ABD-AL-SALAM, 'Abd al-Malik Muhammad Yusif",
        "'Umar al-Qatari",
        "'Umar al-Tayyar",
    ]
    assert p["birthDate"] == ["1989-07-13"] and p["nationality"] == ["jo"]
    assert p["passportNumber"] == ["K475336"] and p["idNumber"] == ["28940000602"]
    assert p["program"] == ["SDGT"] and p["publisher"] == [SDN]
    passport = props("uscsl-ofac-17291-id-2")
    assert by_id()["uscsl-ofac-17291-id-2"].proxy.schema.name == "Passport"
    # "JO, 2014-08-30, 2009-08-31, K475336, Passport": expiry first (OFAC: issued 31 Aug 2009).
    assert passport["startDate"] == ["2009-08-31"] and passport["endDate"] == ["2014-08-30"]
    assert passport["country"] == ["jo"] and passport["holder"] == ["ofac-17291"]
    national = props("uscsl-ofac-17291-id-1")
    assert national["type"] == ["National ID No."] and national["country"] == ["qa"]


def test_exact_entry_on_three_treasury_lists_is_one_entity() -> None:
    p = props("ofac-18725")  # BANCO VTB AFRICA SA: SDN, SSI and CAP rows
    assert p["name"] == ["BANCO VTB AFRICA SA"] and p["alias"] == ["VTB AFRICA"]
    assert sorted(p["publisher"]) == sorted(
        r["source"] for r in rows() if r["entity_number"] == "18725"
    )
    assert p["website"] == ["http://www.vtb.ao/"] and p["swiftBic"] == ["VTBLAOLU"]
    entities = {e.proxy.id: e.proxy for e in by_entry()["18725"]}
    assert {i for i in entities if "sanction" in str(i)} == {
        "uscsl-ofac-18725-sanction-sdn",
        "uscsl-ofac-18725-sanction-ssi",
        "uscsl-ofac-18725-sanction-cap",
    }
    links = [e for e in entities.values() if e.schema.name == "UnknownLink"]
    assert len(links) == 1  # the three rows repeat it; it is made once
    assert links[0].get("object") == ["ofac-17013"]  # VTB BANK PUBLIC JOINT STOCK COMPANY
    ssi = entities["uscsl-ofac-18725-sanction-ssi"]
    assert "Executive Order 13662 Directive Determination - Subject to Directive 1" in ssi.get(
        "provisions"
    )


def test_exact_vessel_and_aircraft() -> None:
    vessel = props("ofac-15903")  # DANIEL, a crude oil tanker owned by NITC
    assert by_id()["ofac-15903"].proxy.schema.name == "Vessel"
    assert vessel["name"] == ["DANIEL"] and vessel["alias"] == ["DEMOS"]
    assert vessel["callSign"] == ["5IM656"] and vessel["type"] == ["Crude Oil Tanker"]
    assert vessel["flag"] == ["pa"] and vessel["pastFlags"] == ["tz"]
    assert vessel["imoNumber"] == ["IMO9569683"]
    assert vessel["owner"] == ["ofac-15117"]  # "NITC": NATIONAL IRANIAN TANKER COMPANY's alias
    link = props("uscsl-ofac-15903-link-1")
    assert link["object"] == ["ofac-15117"] and link["subject"] == ["ofac-15903"]
    assert props("ofac-15117")["name"] == ["NATIONAL IRANIAN TANKER COMPANY"]
    plane = props("ofac-15445")  # EK-30064, operated by MAHAN AIR
    assert by_id()["ofac-15445"].proxy.schema.name == "Airplane"
    assert plane["operator"] == ["ofac-12927"] and plane["model"] == ["A300B4-605R"]
    assert plane["buildDate"] == ["1988-05-17"]
    assert plane["notes"] == ["Aircraft Construction Number (also called L/N or S/N or F/N): 464"]
    assert props("ofac-12927")["name"] == ["MAHAN AIR"]


def test_exact_denied_person_row() -> None:
    # The file's first row: a BIS Denied Persons List entry, no type, no entity number.
    first = rows()[0]
    eid = f"uscsl-{first['_id']}"
    entity = by_id()[eid]
    assert entity.proxy.schema.name == "LegalEntity" and entity.entry_id == first["_id"]
    p = entity.proxy.properties
    assert p["name"] == ["I. ASH"]
    assert p["country"] == ["us"]
    assert p["notes"] == ["remarks: FEDERAL REGISTER NOTICE UPDATED"]
    s = props(f"{eid}-sanction-dpl")
    assert s["listingDate"] == ["2003-06-19"] and s["endDate"] == ["2056-06-29"]
    assert s["authority"] == ["Denied Persons List (DPL) - Bureau of Industry and Security"]
    assert s["authorityId"] == ["68 F.R. 38290 6/27/03 71 F.R. 38843 7/10/06 72 F.R. 4236 1/30/07"]
    assert s["provisions"] == ["Standard order: Y"]
    assert props(f"{eid}-address-1")["full"] == [first["addresses"]]


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def test_nothing_the_rows_say_is_lost() -> None:
    """Every alias, ids item and remark word of every row is somewhere in its entry's entities."""
    blobs = {
        entry: _squash(" ".join(v for e in ents for vs in e.proxy.properties.values() for v in vs))
        for entry, ents in by_entry().items()
    }
    # An owner or operator on the list is kept as a reference to its entity.
    named: dict[str, set[str]] = defaultdict(set)
    for e in parsed().entities:
        if e.primary:
            for name in e.proxy.get("name") + e.proxy.get("alias", quiet=True):
                named[name.upper()].add(_squash(e.proxy.id or ""))
    checked: Counter[str] = Counter()
    for row in rows():
        treasury = row["source"].endswith("Treasury Department") and row["entity_number"]
        blob = blobs[row["entity_number"] if treasury else row["_id"]]
        for alias in filter(None, (a.strip() for a in row["alt_names"].split(";"))):
            assert _squash(registry.name.clean(alias) or alias) in blob, alias
            checked["alias"] += 1
        for item in filter(None, (i.strip() for i in row["ids"].split(";"))):
            value = item.rsplit(", ", 1)[0]  # "[country, ][dates, ]number" or a free text
            number = value.split(", ")[-1]
            forms = {
                _squash(number),
                _squash(iso_date(number) or ""),
                registry.country.clean(value),
                *named.get(value.upper(), ()),
            }
            assert any(f and f in blob for f in forms), (row["_id"], item)
            checked["ids"] += 1
        for word in re.findall(r"\w{3,}", row["remarks"]):
            assert _squash(word) in blob, (row["_id"], word)
        checked["remarks"] += bool(row["remarks"])
    assert checked == {"alias": 20011, "ids": 20090, "remarks": 4671}  # all of them


def test_store_load_and_merge_with_ofac(store: Store) -> None:
    version, new = store.add_list_version(parsed())
    assert new and version.entity_count == 14048 and version.source == "us_csl"
    # The real OFAC SDN publication of 2023-12-28, loaded beside it: one MAHAN AIR, two lists.
    sdn = parse_files(sorted((DATA / "lists" / "ofac" / "sdn_csv_2023-12-28").glob("*.csv.gz")))
    store.add_list_version(sdn)
    got = store.get_entity("ofac-12927")
    assert got is not None
    entity, related = got
    assert sorted(entity.datasets) == sorted([sdn.source, "us_csl"])
    assert "MAHAN AIR" in entity.get("name")
    assert "uscsl-ofac-12927-sanction-sdn" in {r.id for r in related}


def _store_state(store: Store) -> tuple[object, ...]:
    return (
        store.con.execute("SELECT count(*), max(version_id) FROM list_versions").fetchone(),
        store.con.execute("SELECT count(*), count(DISTINCT id) FROM entities").fetchone(),
        store.con.execute("SELECT count(*) FROM entity_names").fetchone(),
    )


def test_broken_file_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    store.add_list_version(parsed())
    before = _store_state(store)
    lines = raw_text().splitlines(keepends=True)
    lines[9000] = lines[9000].rstrip("\r\n") + ',"one field too many"\n'
    broken = tmp_path / "consolidated.csv"
    broken.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ListFormatError) as err:
        store.add_list_version(PARSER.parse([broken]))
    assert err.value.line == 9001
    assert _store_state(store) == before


# -- bad input: each names the file, the line and what was wrong --------------------------


def _write(tmp_path: Path, text: str | bytes, name: str = "consolidated.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _head(n: int) -> str:
    """The header and the first n records of the real file, as csv writes them."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows()[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows()[:n])
    return out.getvalue()


def test_wrong_column_count_names_the_line(tmp_path: Path) -> None:
    text = _head(5).splitlines(keepends=True)
    physical = sum(t.count("\n") for t in text[:3]) + 1  # rows may span lines
    text[3] = text[3].replace(",", ",,", 1) if text[3].count(",") else text[3]
    path = _write(tmp_path, "".join(text))
    with pytest.raises(ListFormatError, match="row has 30 fields, the header has 29") as err:
        PARSER.parse([path])
    assert err.value.line is not None and err.value.line >= physical
    assert str(path) in str(err.value)


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    # Hand-made: the real rows re-encoded as Latin-1 (the CSL is UTF-8).
    text = _head(400)
    bad = next(i for i, ch in enumerate(text) if 127 < ord(ch) < 256)
    path = _write(tmp_path, text.encode("latin-1", errors="replace"))
    with pytest.raises(ListFormatError, match="not UTF-8") as err:
        PARSER.parse([path])
    assert err.value.line == text[:bad].count("\n") + 1


def test_empty_and_header_only_files(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="empty file"):
        PARSER.parse([_write(tmp_path, "")])
    with pytest.raises(ListFormatError, match="no rows"):
        PARSER.parse([_write(tmp_path, _head(0))])


def test_file_of_another_format(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="not a trade.gov Consolidated Screening List"):
        PARSER.parse([DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz"])
    with pytest.raises(ListFormatError, match="not UTF-8|not a trade.gov"):
        PARSER.parse([DATA / "lists" / "un" / "consolidated.xml.gz"])


def test_truncated_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path, BUNDLED.read_bytes()[:200_000], "consolidated.csv.gz")
    with pytest.raises(ListFormatError, match="cannot read the file"):
        PARSER.parse([path])


def test_bad_ids_and_conflicting_rows(tmp_path: Path) -> None:
    # Hand-made edge cases built from real rows.
    sdn_row = next(r for r in rows() if r["source"] == SDN and r["type"] == "Individual")
    vessel_row = next(r for r in rows() if r["source"] == SDN and r["type"] == "Vessel")
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(sdn_row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(sdn_row)
    writer.writerow({**vessel_row, "entity_number": sdn_row["entity_number"]})
    with pytest.raises(ListFormatError, match="is a Person in one row and a Vessel here"):
        PARSER.parse([_write(tmp_path, out.getvalue())])
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(sdn_row), lineterminator="\n")
    writer.writeheader()
    writer.writerow({**sdn_row, "entity_number": "12a"})
    with pytest.raises(ListFormatError, match="entity_number '12a'") as err:
        PARSER.parse([_write(tmp_path, out.getvalue())])
    assert err.value.line == 2 and err.value.field == "entity_number"
    # The same row with its real number parses.
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(sdn_row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(sdn_row)
    assert PARSER.parse([_write(tmp_path, out.getvalue())]).primary_count == 1


# -- property test: mutated real rows give a whole list or our error ----------------------


@cache
def real_rows() -> list[list[str]]:
    """Sixty real rows: every list, every type, with ids, remarks and multi-line addresses."""
    picked: list[dict[str, str]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for row in rows():
        key = (row["source"], row["type"])
        if seen[key] < 4 or ("\n" in row["addresses"] and seen[("nl", "")] < 3):
            picked.append(row)
            seen[key] += 1
            seen[("nl", "")] += "\n" in row["addresses"]
    return [list(r.values()) for r in picked[:60]]


_CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
# Cells made of the pieces the multi-valued columns are built from.
_PIECES = st.lists(
    st.sampled_from(
        [
            ", ",
            "; ",
            "(",
            ")",
            "Linked To: ",
            "IR",
            "2001-02-30",
            "1999",
            "circa ",
            " to ",
            "Passport",
            "Gender",
            "MAHAN AIR",
            "Aircraft Operator",
            "Digital Currency Address - XBT",
            "Vessel Registration Identification",
            "IMO 123",
            "Male",
            "x",
        ]
    ),
    max_size=12,
).map("".join)
_RICH_COLUMNS = (
    "ids",
    "remarks",
    "addresses",
    "dates_of_birth",
    "alt_names",
    "type",
    "nationalities",
    "vessel_flag",
    "vessel_owner",
    "start_date",
    "programs",
)


@st.composite
def mutated_line(draw: st.DrawFn) -> bytes:
    cells = list(draw(st.sampled_from(real_rows())))
    how = draw(
        st.sampled_from(["cell", "pieces", "pieces", "drop", "add", "bytes", "cut", "quote"])
    )
    at = draw(st.integers(0, len(cells) - 1))
    if how == "cell":
        cells[at] = draw(_CELL)
    elif how == "pieces":
        columns = list(rows()[0])
        cells[columns.index(draw(st.sampled_from(_RICH_COLUMNS)))] = draw(_PIECES)
    elif how == "drop":
        del cells[at]
    elif how == "add":
        cells.insert(at, draw(_CELL))
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerow(cells)
    data = out.getvalue().encode("utf-8")
    pos = draw(st.integers(0, len(data)))
    if how == "bytes":
        data = data[:pos] + draw(st.binary(min_size=1, max_size=6)) + data[pos:]
    elif how == "cut":
        data = data[:pos]
    elif how == "quote":
        data = data[:pos] + b'"' + data[pos:]
    return data


@settings(MUTATION_SETTINGS, max_examples=80)
@given(st.lists(mutated_line(), min_size=1, max_size=4))
def test_mutated_real_rows_give_whole_list_or_our_error(
    tmp_path: Path, mutants: list[bytes]
) -> None:
    header = _head(0).encode("utf-8")
    path = tmp_path / "mutant.csv"
    path.write_bytes(header + b"".join(m if m.endswith(b"\n") else m + b"\n" for m in mutants))
    try:
        result = PARSER.parse([path])
    except ListFormatError as exc:
        assert exc.path == str(path)
        event("ListFormatError")
        return
    event("parsed")
    ids = [e.proxy.id for e in result.entities]
    assert len(ids) == len(set(ids))
    # By entity id: an OFAC row's entity_number and another row's trade.gov _id may be
    # the same digits ('ofac-21944' and 'uscsl-21944' are two entries).
    primaries = {e.proxy.id for e in result.entities if e.primary}
    assert len(primaries) == result.counts["entries"] == result.primary_count
    sanctions = [e for e in result.entities if e.proxy.schema.name == "Sanction"]
    assert len(sanctions) == result.counts["rows"]
    with Store(":memory:") as s:
        version, _ = s.add_list_version(result)
        assert version.entity_count == len(primaries)


def test_shared_date_and_country_helpers() -> None:
    # Hand-made edge cases, each a form seen in the UN or CSL files.
    assert iso_date("2001-01-25-05:00") == "2001-01-25"  # UN LISTED_ON with a UTC offset
    assert iso_date("2026-02-27T00:00:09.554Z") == "2026-02-27"  # UN dateGenerated
    assert iso_date("17 May 1988") == "1988-05-17"  # CSL "Aircraft Manufacture Date"
    assert iso_date("0097-06-30") is None  # CSL DPL start_date typo: kept as a note
    assert iso_date("1971-02-30") is None
    assert country_code("Iran (Islamic Republic of)") == "ir"
    assert country_code("na") is None  # "not available", not Namibia
    assert country_code("None Identified") is None
