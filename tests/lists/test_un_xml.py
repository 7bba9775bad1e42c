"""The UN Security Council consolidated list parser, on the real published XML."""

from __future__ import annotations

import gzip
import re
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import pytest
from followthemoney import registry
from hypothesis import event, given, settings
from hypothesis import strategies as st
from lxml import etree

from tests.conftest import DATA, shared_path
from watchkeeper.errors import ListFormatError
from watchkeeper.lists.base import ParsedList
from watchkeeper.lists.registry import detect_parser
from watchkeeper.lists.un_xml import UNConsolidatedParser
from watchkeeper.store import Store

from ._mutate import MUTATION_SETTINGS

BUNDLED = DATA / "lists" / "un" / "consolidated.xml.gz"
PARSER = UNConsolidatedParser()


@cache
def parsed() -> ParsedList:
    return PARSER.parse([BUNDLED])


@cache
def raw_bytes() -> bytes:
    return gzip.decompress(BUNDLED.read_bytes())


def by_id() -> dict[str, dict[str, list[str]]]:
    return {e.proxy.id: e.proxy.properties for e in parsed().entities if e.proxy.id}


def schema_of(entity_id: str) -> str:
    return next(e.proxy.schema.name for e in parsed().entities if e.proxy.id == entity_id)


def test_detects_the_bundled_file_and_not_others() -> None:
    assert PARSER.detect([BUNDLED])
    assert detect_parser([BUNDLED]).source == "un_sc"
    assert not PARSER.detect([DATA / "lists" / "us_csl" / "consolidated.csv.gz"])
    assert not PARSER.detect([BUNDLED, BUNDLED])


def test_bundled_copy_is_the_shared_file() -> None:
    assert raw_bytes() == shared_path("sanctions", "un", "consolidated.xml").read_bytes()


def test_real_counts_and_version() -> None:
    result = parsed()
    primaries = Counter(e.proxy.schema.name for e in result.entities if e.primary)
    assert primaries == {"Person": 730, "Organization": 273}
    assert result.counts == {"INDIVIDUAL": 730, "ENTITY": 273}
    assert result.source == "un_sc"
    assert result.version == "2026-02-27"
    assert result.published == date(2026, 2, 27)
    # One entry per DATAID in the file, read here with a plain regex.
    dataids = re.findall(rb"<DATAID>(\d+)</DATAID>", raw_bytes())
    assert len(dataids) == 1003
    assert {f"unsc-{d.decode()}" for d in dataids} == {
        e.proxy.id for e in result.entities if e.primary
    }
    # Every entry has exactly one Sanction, and every secondary shares its entry id.
    sanctions = [e for e in result.entities if e.proxy.schema.name == "Sanction"]
    assert len(sanctions) == 1003
    for e in result.entities:
        assert e.proxy.id is not None and e.proxy.id.startswith(f"unsc-{e.entry_id}")


def test_nothing_the_list_says_is_lost() -> None:
    """Names, aliases, documents, nationalities and comments, checked against a plain lxml read."""
    props = by_id()
    root = etree.fromstring(raw_bytes())
    checked = Counter()
    numbers_of: dict[str, list[str]] = {}
    for e in parsed().entities:
        for holder in e.proxy.get("holder", quiet=True):
            numbers_of.setdefault(holder, []).extend(e.proxy.get("number"))
    for entry in root.iter("INDIVIDUAL", "ENTITY"):
        eid = f"unsc-{entry.findtext('DATAID')}"
        p = props[eid]
        names = p.get("alias", []) + p.get("weakAlias", []) + p.get("previousName", [])
        for alias in entry.iterfind("*/ALIAS_NAME"):
            if alias.text and alias.text.strip():
                # FtM's name cleaning drops the quotes around a name: '"HASSAN, Sheikh"'.
                assert registry.name.clean(alias.text) in names, (eid, alias.text)
                checked["alias"] += 1
        numbers = numbers_of.get(eid, [])
        notes = " ".join(p.get("notes", []))
        for doc in entry.iterfind("INDIVIDUAL_DOCUMENT/NUMBER"):
            if doc.text and doc.text.strip():
                assert " ".join(doc.text.split()) in numbers, (eid, doc.text)
                checked["document"] += 1
        for comment in entry.iterfind("COMMENTS1"):
            if comment.text and comment.text.strip():
                assert " ".join(comment.text.split()) in p["notes"]
                checked["comment"] += 1
        for value in entry.iterfind("NATIONALITY/VALUE"):
            text = (value.text or "").strip()
            if text and text != "na":
                assert p.get("nationality") or text in notes, (eid, text)
                checked["nationality"] += 1
    # Totals as `grep -c "<ALIAS_NAME>[^<]"`, `"<COMMENTS1>"`, `"<NUMBER>"` count them.
    assert checked == {"alias": 2752, "document": 454, "comment": 914, "nationality": 651}


def test_exact_person_with_year_range_and_weak_aliases() -> None:
    p = by_id()["unsc-6908021"]  # BOSCO TAGANDA, DRC
    assert p["name"] == ["BOSCO TAGANDA"]
    assert p["firstName"] == ["BOSCO"] and p["secondName"] == ["TAGANDA"]
    assert p["alias"] == ["Bosco Ntaganda", "Bosco Ntagenda", "General Taganda"]
    assert p["weakAlias"] == ["Lydia", "Terminator", "Tango Romeo", "Romeo", "Major"]
    assert p["birthDate"] == ["1973", "1974"]  # TYPE_OF_DATE BETWEEN, FROM 1973 TO 1974
    assert "DATE_OF_BIRTH BETWEEN: 1973-1974" in p["notes"]
    assert "INDIVIDUAL_ALIAS Tango Romeo NOTE: Call sign" in p["notes"]
    assert p["birthPlace"] == ["Bigogwe, Rwanda"] and p["birthCountry"] == ["rw"]
    assert p["nationality"] == ["cd"] and p["gender"] == ["male"] and p["program"] == ["DRC"]
    s = by_id()["unsc-6908021-sanction"]
    assert s["unscId"] == ["CDi.030"]
    assert s["listingDate"] == ["2005-11-01"]
    assert s["modifiedAt"] == ["2016-10-13", "2020-08-19", "2023-03-01"]
    assert s["entity"] == ["unsc-6908021"] and s["program"] == ["DRC"]
    a = by_id()["unsc-6908021-address-1"]
    assert a["country"] == ["be"] and a["remarks"] == ["As of 14 December 2022"]


def test_exact_person_with_passports_addresses_and_places() -> None:
    props = by_id()
    p = props["unsc-6908840"]  # MARTIN KOUMTAMADJI, CAR
    assert p["name"] == ["MARTIN KOUMTAMADJI"]
    assert p["birthDate"] == ["1965-10-05", "1965-03-03"]
    assert p["birthPlace"] == [
        "Ndïnaba, Chad",
        "Kobo, Central African Republic",
        "Kabo, Central African Republic",
    ]
    assert p["passportNumber"] == [
        "CAR diplomatic passport no. 06FBO2262",
        "Congo service passport number SA0020249",
    ]
    assert p["addressEntity"] == ["unsc-6908840-address-1", "unsc-6908840-address-2"]
    doc = props["unsc-6908840-doc-2"]
    assert schema_of("unsc-6908840-doc-2") == "Passport"
    assert doc["type"] == ["Passport", "Service passport"]
    assert doc["startDate"] == ["2019-01-22"]
    assert doc["summary"] == ["expires on 21 January 2022"]
    assert doc["holder"] == ["unsc-6908840"]
    addr = props["unsc-6908840-address-2"]
    assert addr["city"] == ["Ndjamena"] and addr["country"] == ["td"]
    assert addr["remarks"] == ["since his arrest in November 2019"]
    assert props["unsc-6908840-sanction"]["unscId"] == ["CFi.013"]


def test_exact_original_script_and_entity_with_former_names() -> None:
    props = by_id()
    saddam = props["unsc-6908048"]
    assert saddam["name"] == ["SADDAM HUSSEIN AL-TIKRITI"]
    assert saddam["middleName"] == ["AL-TIKRITI"]
    assert saddam["alias"] == ["صدام حسين التكريتي"]
    assert saddam["weakAlias"] == ["Abu Ali"]
    assert props["unsc-6908048-sanction"]["unscId"] == ["IQi.001"]
    adf = props["unsc-6908402"]
    assert schema_of("unsc-6908402") == "Organization"
    assert adf["name"] == ["ADF"]
    assert adf["alias"] == ["Allied Democratic Forces"]
    assert adf["previousName"][1:] == ["ADF/NALU", "NALU"]  # f.k.a.
    assert adf["address"] == ["North Kivu, Democratic Republic of the Congo"]


def test_documents_are_passports_or_identifications() -> None:
    """A document is a Passport when one of its types names a passport, else an Identification."""
    docs = Counter(
        (e.proxy.first("holder"), e.proxy.first("number"), e.proxy.schema.name)
        for e in parsed().entities
        if e.proxy.schema.name in ("Passport", "Identification")
    )
    root = etree.fromstring(raw_bytes())
    kinds = Counter()
    for entry in root.iter("INDIVIDUAL"):
        holder = f"unsc-{entry.findtext('DATAID')}"
        for doc in entry.iterfind("INDIVIDUAL_DOCUMENT"):
            number = " ".join((doc.findtext("NUMBER") or "").split())
            if not number:
                continue
            types = " ".join(t.text or "" for t in doc if t.tag.startswith("TYPE_OF")).lower()
            passport = any(w in types for w in ("passport", "pasaporte", "passeport"))
            key = (holder, number, "Passport" if passport else "Identification")
            assert docs[key] > 0, key
            docs[key] -= 1
            kinds[key[2]] += 1
    assert not +docs  # no document entity that the file does not have
    # 5 Russian "National Identification Number"s say "national passport" as TYPE_OF_DOCUMENT2.
    assert kinds == {"Passport": 315, "Identification": 139}


def test_store_load_and_search(store: Store) -> None:
    version, new = store.add_list_version(parsed())
    assert new and version.entity_count == 1003 and version.version == "2026-02-27"
    hits = store.search_entities("saddam hussein al-tikriti")
    assert hits[0][0].id == "unsc-6908048"  # exact name first, then prefixes (his sons)
    got = store.get_entity("unsc-6908840")
    assert got is not None
    entity, related = got
    assert entity.datasets == ["un_sc"]
    assert {r.id for r in related} >= {"unsc-6908840-sanction", "unsc-6908840-doc-1"}


def _store_state(store: Store) -> tuple[object, ...]:
    return (
        store.con.execute("SELECT count(*), max(version_id) FROM list_versions").fetchone(),
        store.con.execute("SELECT count(*), count(DISTINCT id) FROM entities").fetchone(),
        store.con.execute("SELECT count(*) FROM entity_names").fetchone(),
    )


def test_broken_file_leaves_the_store_as_it_was(store: Store, tmp_path: Path) -> None:
    store.add_list_version(parsed())
    before = _store_state(store)
    broken = tmp_path / "consolidated.xml"
    broken.write_bytes(raw_bytes()[: len(raw_bytes()) // 2])
    with pytest.raises(ListFormatError) as err:
        store.add_list_version(PARSER.parse([broken]))
    assert err.value.line is not None and err.value.line > 10_000
    assert _store_state(store) == before


# -- bad input: each names the file, the line and what was wrong --------------------------


def _write(tmp_path: Path, data: bytes, name: str = "consolidated.xml") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_truncated_xml_names_line(tmp_path: Path) -> None:
    data = raw_bytes()
    cut = data.index(b"<DATAID>6908840</DATAID>") + 300
    path = _write(tmp_path, data[:cut])
    with pytest.raises(ListFormatError) as err:
        PARSER.parse([path])
    expected_line = data[:cut].count(b"\n") + 1
    assert err.value.line == expected_line
    assert str(path) in str(err.value) and "not well-formed XML" in str(err.value)


def test_truncated_gzip(tmp_path: Path) -> None:
    path = _write(tmp_path, BUNDLED.read_bytes()[:50_000], "consolidated.xml.gz")
    with pytest.raises(ListFormatError, match="consolidated.xml.gz"):
        PARSER.parse([path])


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="not well-formed XML"):
        PARSER.parse([_write(tmp_path, b"")])


def test_wrong_encoding_names_line(tmp_path: Path) -> None:
    # Hand-made: the real file re-encoded as Latin-1 while it still declares UTF-8.
    text = raw_bytes().decode("utf-8")
    first = text.index("Ndïnaba")
    data = text.encode("latin-1", errors="replace")
    with pytest.raises(ListFormatError) as err:
        PARSER.parse([_write(tmp_path, data)])
    # The first non-ASCII character that Latin-1 writes as one invalid UTF-8 byte.
    bad = next(i for i, ch in enumerate(text) if 127 < ord(ch) < 256)
    assert bad <= first
    assert err.value.line == text[:bad].count("\n") + 1


def test_file_of_another_format(tmp_path: Path) -> None:
    csv_path = DATA / "lists" / "us_csl" / "consolidated.csv.gz"
    with pytest.raises(ListFormatError, match="not well-formed XML"):
        PARSER.parse([csv_path])
    other_xml = _write(tmp_path, b'<?xml version="1.0"?>\n<sdnList><sdnEntry/></sdnList>\n')
    with pytest.raises(ListFormatError, match="unexpected element <sdnList>") as err:
        PARSER.parse([other_xml])
    assert err.value.line == 2


def test_duplicate_and_missing_dataid(tmp_path: Path) -> None:
    text = raw_bytes().decode("utf-8")
    dup = text.replace("<DATAID>6908021</DATAID>", "<DATAID>6907993</DATAID>")
    with pytest.raises(ListFormatError, match="DATAID 6907993 appears twice"):
        PARSER.parse([_write(tmp_path, dup.encode())])
    gone = text.replace("<DATAID>6908021</DATAID>", "")
    with pytest.raises(ListFormatError, match="0 DATAID elements") as err:
        PARSER.parse([_write(tmp_path, gone.encode())])
    assert err.value.field == "INDIVIDUAL"


def _rename_entry(data: bytes, dataid: str, kind: str, tag: str) -> tuple[bytes, int]:
    """The entry with this DATAID renamed, opening and closing tag, so the file stays
    well-formed XML; with the line of its opening tag."""
    start = data.rindex(f"<{kind}>".encode(), 0, data.index(f"<DATAID>{dataid}<".encode()))
    end = data.index(f"</{kind}>".encode(), start)
    entry = data[start : end + len(kind) + 3]
    renamed = f"<{tag}>".encode() + entry[len(kind) + 2 : -len(kind) - 3] + f"</{tag}>".encode()
    return data[:start] + renamed + data[end + len(kind) + 3 :], data[:start].count(b"\n") + 1


@pytest.mark.parametrize(
    ("dataid", "kind", "section"),
    [
        ("6907993", "INDIVIDUAL", "INDIVIDUALS"),
        ("6908840", "INDIVIDUAL", "INDIVIDUALS"),
        ("6908402", "ENTITY", "ENTITIES"),
    ],
)
def test_unknown_entry_element_is_refused_not_dropped(
    tmp_path: Path, dataid: str, kind: str, section: str
) -> None:
    """A renamed entry (the first, one in the middle, an organisation) in an otherwise
    well-formed file: refused by name and line, never skipped."""
    data, line = _rename_entry(raw_bytes(), dataid, kind, "PERSON")
    etree.fromstring(data)  # still well-formed: the skeleton check is what refuses it
    with pytest.raises(ListFormatError, match="unexpected element <PERSON>") as err:
        PARSER.parse([_write(tmp_path, data)])
    assert err.value.field == f"CONSOLIDATED_LIST/{section}/PERSON"
    assert err.value.line == line


def test_unknown_fields_are_kept_as_notes(tmp_path: Path) -> None:
    # Hand-made edge case: a field the UN might add one day.
    text = (
        raw_bytes()
        .decode("utf-8")
        .replace(
            "<DATAID>6908048</DATAID>", "<DATAID>6908048</DATAID><HAIR_COLOUR>grey</HAIR_COLOUR>"
        )
    )
    result = PARSER.parse([_write(tmp_path, text.encode())])
    saddam = next(e for e in result.entities if e.proxy.id == "unsc-6908048")
    assert "HAIR_COLOUR: grey" in saddam.proxy.get("notes")


# -- property test: mutated real entries give a whole list or our error --------------------


@cache
def real_entries() -> list[bytes]:
    """Forty real entries (every fourth of the first 120 of each kind, and all with rare fields)."""
    root = etree.fromstring(raw_bytes())
    chosen: list[etree._Element] = []
    for kind in ("INDIVIDUAL", "ENTITY"):
        entries = list(root.iter(kind))
        chosen.extend(entries[:80:4])
    chosen.extend(e for e in root.iter("INDIVIDUAL") if e.find("*/FROM_YEAR") is not None)
    return [etree.tostring(e, encoding="utf-8") for e in chosen[:48]]


def _document(entries: list[bytes]) -> bytes:
    people = [e for e in entries if e.lstrip().startswith(b"<INDIVIDUAL")]
    orgs = [e for e in entries if e.lstrip().startswith(b"<ENTITY")]
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<CONSOLIDATED_LIST dateGenerated="2026-02-27T00:00:09.554Z">\n<INDIVIDUALS>\n'
        + b"\n".join(people)
        + b"\n</INDIVIDUALS>\n<ENTITIES>\n"
        + b"\n".join(orgs)
        + b"\n</ENTITIES>\n</CONSOLIDATED_LIST>\n"
    )


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=30)


@st.composite
def mutated_entry(draw: st.DrawFn) -> bytes:
    raw = draw(st.sampled_from(real_entries()))
    how = draw(st.sampled_from(["text", "drop", "rename", "copy", "bytes", "cut"]))
    if how in ("bytes", "cut"):
        at = draw(st.integers(0, len(raw)))
        if how == "cut":
            return raw[:at]
        junk = draw(st.binary(min_size=1, max_size=8))
        return raw[:at] + junk + raw[at + draw(st.integers(0, 8)) :]
    elem = etree.fromstring(raw)
    nodes = list(elem.iter())
    node = draw(st.sampled_from(nodes))
    if how == "text":
        node.text = draw(_TEXT)
    elif how == "drop" and node is not elem:
        node.getparent().remove(node)
    elif how == "rename":
        node.tag = draw(st.from_regex(r"\A[A-Z][A-Z_]{0,12}\Z"))
    elif how == "copy" and node is not elem:
        node.addnext(etree.fromstring(etree.tostring(node)))
    return etree.tostring(elem, encoding="utf-8")


@settings(MUTATION_SETTINGS, max_examples=80)
@given(st.lists(mutated_entry(), min_size=1, max_size=4))
def test_mutated_real_entries_give_whole_list_or_our_error(
    tmp_path: Path, mutants: list[bytes]
) -> None:
    entries = mutants
    path = tmp_path / "mutant.xml"
    path.write_bytes(_document(entries))
    try:
        result = PARSER.parse([path])
    except ListFormatError as exc:
        assert exc.path == str(path)
        event("ListFormatError")
        return
    event("parsed")
    # A whole result: every entry has its primary entity and its Sanction, ids are unique,
    # and the store takes it.
    ids = [e.proxy.id for e in result.entities]
    assert len(ids) == len(set(ids))
    primaries = {e.entry_id for e in result.entities if e.primary}
    assert sum(result.counts.values()) == len(primaries)
    assert {e.entry_id for e in result.entities if e.proxy.schema.name == "Sanction"} == primaries
    with Store(":memory:") as s:
        version, _ = s.add_list_version(result)
        assert version.entity_count == len(primaries)
