"""OFAC legacy CSV parsers on the real publications (bundled gz copies and ../shared/data)."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from followthemoney import model, registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, shared_path
from watchkeeper.errors import ListFormatError
from watchkeeper.io import read_bytes
from watchkeeper.lists.base import EntityProxy, ParsedList
from watchkeeper.lists.ofac_csv import PARSERS, OfacCsvParser
from watchkeeper.lists.registry import detect_parser
from watchkeeper.store import Store

SDN, CONS = PARSERS
TRIO = ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv")
CONS_SET = ("cons_prim.csv", "cons_add.csv", "cons_alt.csv", "cons_comments.csv")


def bundled(folder: str, names: tuple[str, ...]) -> list[Path]:
    return [DATA / "lists" / "ofac" / folder / f"{name}.gz" for name in names]


def shared(folder: str, names: tuple[str, ...]) -> list[Path]:
    return [shared_path("sanctions", "ofac", folder, name) for name in names]


WHERE: dict[str, Callable[[str, tuple[str, ...]], list[Path]]] = {
    "bundled": bundled,
    "shared": shared,
}


def csv_rows(path: Path) -> list[list[str]]:
    """The file read the plain way, independently of the parser."""
    text = read_bytes(path).decode("cp1252").rstrip("\x1a\r\n")
    return [row for row in csv.reader(io.StringIO(text)) if row]


@pytest.fixture(scope="module", params=sorted(WHERE))
def trio(request: pytest.FixtureRequest) -> tuple[list[Path], ParsedList]:
    paths = WHERE[request.param]("sdn_csv_2023-12-28", TRIO)
    return paths, SDN.parse(paths)


@pytest.fixture(scope="module")
def by_id(trio: tuple[list[Path], ParsedList]) -> dict[str, EntityProxy]:
    return {e.proxy.id: e.proxy for e in trio[1].entities if e.proxy.id}


def test_one_primary_entity_per_ent_num(trio: tuple[list[Path], ParsedList]) -> None:
    paths, parsed = trio
    ent_nums = {row[0] for row in csv_rows(paths[0])}
    primaries = [e for e in parsed.entities if e.primary]
    assert len(primaries) == len(ent_nums) == 13_821
    assert {e.proxy.id for e in primaries} == {f"ofac-{n}" for n in ent_nums}
    assert all(e.proxy.id == f"ofac-{e.entry_id}" for e in primaries)
    assert parsed.source == "ofac_sdn" and parsed.version == "2023-12-28"
    # Every secondary entity hangs off a listed entry.
    assert {e.entry_id for e in parsed.entities} == ent_nums


def test_every_alt_row_is_a_name(
    trio: tuple[list[Path], ParsedList], by_id: dict[str, EntityProxy]
) -> None:
    rows = csv_rows(trio[0][2])
    assert len(rows) == 17_091 == trio[1].counts["rows:alt.csv"]
    prop = {"aka": "alias", "fka": "previousName", "nka": "alias"}
    for ent_num, _alt_num, alt_type, alt_name, _remarks in rows:
        # FtM's name cleaning folds spaces and drops wrapping quotes ('X' -> X).
        name = registry.name.clean_text(alt_name)
        assert name and name in by_id[f"ofac-{ent_num}"].get(prop[alt_type]), alt_name


def test_every_add_row_is_an_address(
    trio: tuple[list[Path], ParsedList], by_id: dict[str, EntityProxy]
) -> None:
    rows = csv_rows(trio[0][1])
    addresses = [e for e in trio[1].entities if e.proxy.schema.name == "Address"]
    assert len(rows) == len(addresses) == 18_990
    for ent_num, add_num, street, city, country, _remarks in rows:
        address = by_id[f"ofac-addr-{add_num}"]
        assert address.id in by_id[f"ofac-{ent_num}"].get("addressEntity")
        parts = [p.strip() for p in (street, city, country) if p.strip() != "-0-"]
        full = registry.address.clean_text(", ".join(parts)) if parts else None
        assert address.get("full") == ([full] if full else [])


def test_mahan_air_and_its_aircraft(by_id: dict[str, EntityProxy]) -> None:
    mahan = by_id["ofac-12927"]
    assert mahan.schema.name == "Organization" and mahan.get("name") == ["MAHAN AIR"]
    plane = by_id["ofac-15438"]
    assert plane.schema.name == "Airplane"
    assert plane.get("registrationNumber") == ["EP-MNG"]
    assert plane.get("operator") == ["ofac-12927"]
    assert plane.get("model") == ["A300B4-603"]
    assert plane.get("serialNumber") == ["401"]
    assert plane.get("buildDate") == ["1987-02-02"]
    link = by_id["ofac-15438-link-12927"]
    assert link.schema.name == "UnknownLink"
    assert (link.get("subject"), link.get("object")) == (["ofac-15438"], ["ofac-12927"])
    assert link.get("namesMentioned") == ["MAHAN AIR"]
    sanction = by_id["ofac-15438-sanction"]
    assert sorted(sanction.get("program")) == ["IFSR", "NPWMD", "SDGT"]
    assert sanction.get("entity") == ["ofac-15438"]
    assert "Additional Sanctions Information - Subject to Secondary Sanctions" in sanction.get(
        "provisions"
    )


def test_vessel_columns_and_remarks(by_id: dict[str, EntityProxy]) -> None:
    # 15036 ARTAVIL: "vessel","IRAN",...,"T2EU4","Crude/Oil Products Tanker","99,144","56,068","Iran"
    ship = by_id["ofac-15036"]
    assert ship.schema.name == "Vessel"
    assert ship.get("imoNumber") == ["IMO9187629"]
    assert ship.get("mmsi") == ["572469210"]
    assert ship.get("callSign") == ["T2EU4"]
    assert ship.get("flag") == ["ir"]
    assert ship.get("type") == ["Crude/Oil Products Tanker"]
    assert ship.get("tonnage") == ["99,144"] and ship.get("grossRegisteredTonnage") == ["56,068"]
    assert sorted(ship.get("pastFlags")) == ["mt", "tv", "tz"]
    assert "ALPHA" in ship.get("previousName")
    # "alt. Former Vessel Flag None Identified" is no country: kept verbatim.
    assert "alt. Former Vessel Flag None Identified" in ship.get("notes")


def test_person_remarks(by_id: dict[str, EntityProxy]) -> None:
    # 7828 AMDOUNI, Mehrez: four DOBs, three POBs, a passport with dates, an alt. passport.
    person = by_id["ofac-7828"]
    assert person.schema.name == "Person"
    assert sorted(person.get("birthDate")) == [
        "1968-05-25",
        "1968-12-18",
        "1969-07-14",
        "1969-12-18",
    ]
    assert "Naples, Italy" in person.get("birthPlace")
    assert person.get("nationality") == ["tn"]
    assert sorted(person.get("passportNumber")) == ["0801888", "G737411"]
    assert person.get("weakAlias") == ["ABU THALE"]
    passports = [
        p
        for p in by_id.values()
        if p.schema.name == "Passport" and p.get("holder") == ["ofac-7828"]
    ]
    tunisian = next(p for p in passports if p.get("number") == ["G737411"])
    assert tunisian.get("country") == ["tn"]
    assert (tunisian.get("startDate"), tunisian.get("endDate")) == (["1990-10-24"], ["1997-09-20"])
    assert len(passports) == 2


def test_comments_continue_the_remarks(
    trio: tuple[list[Path], ParsedList], by_id: dict[str, EntityProxy]
) -> None:
    # 17018's "Listing Date (EO 14024 Directive 3)" is cut in sdn.csv and continues in
    # sdn_comments.csv with ": 24 Feb 2022; Effective Date ...".
    directive = by_id["ofac-17018-sanction-eo-14024-directive-3"]
    assert directive.get("listingDate") == ["2022-02-24"]
    assert directive.get("startDate") == ["2022-03-26"]
    # The three overflow rows of entries no longer listed are reported, not lost silently.
    counts = trio[1].counts
    assert counts["comments_without_entry"] == 3
    assert sorted(k for k in counts if k.startswith("comment_without_entry:")) == [
        "comment_without_entry:12300",
        "comment_without_entry:15599",
        "comment_without_entry:15600",
    ]


def test_remarks_are_parsed_and_nothing_is_dropped(trio: tuple[list[Path], ParsedList]) -> None:
    counts = trio[1].counts
    assert counts["remarks_recognised"] / counts["remarks_clauses"] >= 0.98
    notes = sum(len(e.proxy.get("notes")) for e in trio[1].entities if e.primary)
    # Every clause not recognised is in notes (plus notes from columns and alt remarks).
    assert notes >= counts["remarks_clauses"] - counts["remarks_recognised"]


def test_loads_into_the_store(trio: tuple[list[Path], ParsedList], store: Store) -> None:
    version, new = store.add_list_version(trio[1])
    assert new and version.entity_count == 13_821 and version.version == "2023-12-28"
    found = store.get_entity("ofac-15438")
    assert found is not None and found[0].get("operator") == ["ofac-12927"]


@pytest.mark.parametrize("where", sorted(WHERE))
def test_consolidated_non_sdn(where: str) -> None:
    paths = WHERE[where]("cons_nonsdn_csv", CONS_SET)
    assert detect_parser(paths) is CONS
    parsed = CONS.parse(paths)
    primaries = {e.proxy.id for e in parsed.entities if e.primary}
    assert len(primaries) == len({r[0] for r in csv_rows(paths[0])}) == 442
    assert parsed.counts["rows:cons_alt.csv"] == 1_073
    assert sum(1 for e in parsed.entities if e.proxy.schema.name == "Address") == 574
    assert parsed.counts["comments_without_entry"] == 0
    # One number space with the SDN list: shared entries get the same id.
    sdn_ids = {
        f"ofac-{r[0]}" for r in csv_rows(WHERE[where]("sdn_csv_2024-05-03", ("sdn.csv",))[0])
    }
    assert len(primaries & sdn_ids) == 61
    sanctions = [e.proxy for e in parsed.entities if e.proxy.schema.name == "Sanction"]
    assert all(s.id and "-sanction-cons" in s.id for s in sanctions)


def test_detect() -> None:
    assert SDN.detect(bundled("sdn_csv_2024-05-03", ("sdn.csv",)))
    assert not SDN.detect(bundled("cons_nonsdn_csv", CONS_SET))
    assert not CONS.detect(bundled("sdn_csv_2023-12-28", TRIO))
    assert not SDN.detect([DATA / "lists/un/consolidated.xml.gz"])


# --- bad input: hand-made breakages of real rows -------------------------------------

REAL_LINES = read_bytes(DATA / "lists/ofac/sdn_csv_2023-12-28/sdn.csv.gz").split(b"\r\n")
MAHAN_LINES = [line for line in REAL_LINES if line.startswith((b"12927,", b"15438,"))]


def write(folder: Path, name: str, data: bytes, *, compress: bool = False) -> Path:
    path = folder / (name + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def good_sdn() -> bytes:
    return b"\r\n".join(MAHAN_LINES) + b"\r\n\x1a"


def error_of(paths: list[Path], parser: OfacCsvParser = SDN) -> ListFormatError:
    with pytest.raises(ListFormatError) as info:
        parser.parse(paths)
    return info.value


def test_small_real_file_parses(tmp_path: Path) -> None:
    parsed = SDN.parse([write(tmp_path, "sdn.csv", good_sdn(), compress=True)])
    ids = {e.proxy.id for e in parsed.entities}
    assert {"ofac-12927", "ofac-15438", "ofac-15438-link-12927"} <= ids


def test_wrong_column_count(tmp_path: Path) -> None:
    data = good_sdn().replace(b'"EP-MNG","aircraft",', b'"EP-MNG",')
    err = error_of([write(tmp_path, "sdn.csv", data)])
    assert err.line == 2 and "expected 12 columns" in err.message and "found 11" in err.message


def test_utf16_file(tmp_path: Path) -> None:
    data = good_sdn().decode("cp1252").encode("utf-16")
    err = error_of([write(tmp_path, "sdn.csv", data)])
    assert "UTF-16" in err.message and err.path and err.path.endswith("sdn.csv")


def test_binary_file(tmp_path: Path) -> None:
    data = good_sdn()[:40] + bytes(range(1, 9)) + good_sdn()[40:]
    err = error_of([write(tmp_path, "sdn.csv", data)])
    assert "binary" in err.message and err.line == 1
    png_like = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    assert "binary" in error_of([write(tmp_path, "sdn.csv", png_like)]).message


def test_empty_file(tmp_path: Path) -> None:
    assert error_of([write(tmp_path, "sdn.csv", b"")]).message == "empty file"
    assert error_of([write(tmp_path, "sdn.csv", b"\r\n\x1a")]).message == "empty file"


def test_truncated_row(tmp_path: Path) -> None:
    data = good_sdn()
    cut = data[: data.index(b"Aircraft Model")]  # inside the quoted Remarks of the last row
    err = error_of([write(tmp_path, "sdn.csv", cut)])
    assert err.line == 2 and err.message.startswith("truncated: no end-of-file marker")


def test_file_of_another_format(tmp_path: Path) -> None:
    un_xml = read_bytes(DATA / "lists/un/consolidated.xml.gz")
    err = error_of([write(tmp_path, "sdn.csv", un_xml)])
    assert err.line == 1
    csl = read_bytes(DATA / "lists/us_csl/consolidated.csv.gz")
    err = error_of([write(tmp_path, "sdn.csv", csl)])
    assert err.line == 1 and "columns" in err.message


def test_alias_or_address_of_an_unknown_entry(tmp_path: Path) -> None:
    sdn = write(tmp_path, "sdn.csv", good_sdn())
    alt = write(
        tmp_path, "alt.csv", b'12927,1,"aka","MAHAN",-0- \r\n99999,2,"aka","X",-0- \r\n\x1a'
    )
    err = error_of([sdn, alt])
    assert (err.line, err.field) == (2, "ent_num") and "99999" in err.message
    add = write(tmp_path, "add.csv", b'99998,7,"Street","City","Iran",-0- \r\n\x1a')
    err = error_of([sdn, add])
    assert (err.line, err.field) == (1, "ent_num") and "not in sdn.csv" in err.message


def test_other_checks(tmp_path: Path) -> None:
    sdn = write(tmp_path, "sdn.csv", good_sdn())
    err = error_of([sdn, write(tmp_path, "notes.txt", b"x")])
    assert "not a file of the OFAC" in err.message
    assert "missing" in error_of([write(tmp_path, "alt.csv", b"")]).message
    dup = write(tmp_path, "sdn.csv", b"\r\n".join([*MAHAN_LINES, MAHAN_LINES[0], b"\x1a"]))
    assert (error_of([dup]).field, error_of([dup]).line) == ("ent_num", 3)
    # A Ctrl-Z is the end-of-file mark: anywhere else it is not text.
    early_eof = write(tmp_path, "sdn.csv", good_sdn() + b"\r\n" + MAHAN_LINES[0] + b"\r\n\x1a")
    assert "control byte 0x1a" in error_of([early_eof]).message
    bad_type = good_sdn().replace(b'"aircraft"', b'"spaceship"')
    assert error_of([write(tmp_path, "sdn.csv", bad_type)]).field == "SDN_Type"


def test_failed_load_changes_nothing(tmp_path: Path, store: Store) -> None:
    good = SDN.parse([write(tmp_path, "sdn.csv", good_sdn())])
    store.add_list_version(good)
    before = store.list_versions()
    broken = tmp_path / "broken"
    broken.mkdir()
    with pytest.raises(ListFormatError):
        store.add_list_version(SDN.parse([write(broken, "sdn.csv", good_sdn()[:-30])]))
    assert store.list_versions() == before


# --- property test: mutated real rows never crash the parser ---------------------------

SAMPLE = [line for line in REAL_LINES[:: max(1, len(REAL_LINES) // 60)] if line.strip()]
RICH = [line for line in REAL_LINES if b"Passport" in line or b"Aircraft" in line][:20]
NASTY = [b'"', b",", b"\r\n", b"\n", b"\x00", b"\x1a", b"\xff\xfe", b"-0- ", b";", b"'", b"\xe9"]


def _companion_lines(name: str) -> list[bytes]:
    lines = read_bytes(DATA / f"lists/ofac/sdn_csv_2023-12-28/{name}.gz").split(b"\r\n")
    return [line for line in lines if line.startswith((b"12927,", b"15438,"))]


# The real add.csv / alt.csv rows of MAHAN AIR and EP-MNG (4 addresses, 1 alias).
COMPANIONS = {"add.csv": _companion_lines("add.csv"), "alt.csv": _companion_lines("alt.csv")}


@st.composite
def mutated_file(draw: st.DrawFn, pool: list[bytes] | None = None) -> bytes:
    lines = draw(
        st.lists(st.sampled_from(pool or SAMPLE + RICH), min_size=1, max_size=4, unique=True)
    )
    data = bytearray(b"\r\n".join(lines) + b"\r\n\x1a")
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "field"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "insert":
            data[at:at] = draw(st.sampled_from(NASTY) | st.binary(min_size=1, max_size=3))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 20))]
        elif op == "replace" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        else:  # swap two cells of the first line, or drop one
            cells = bytes(data).split(b",")
            i = draw(st.integers(0, len(cells) - 1))
            j = draw(st.integers(0, len(cells) - 1))
            cells[i], cells[j] = cells[j], cells[i]
            data = bytearray(b",".join(cells))
    return bytes(data)


@given(sdn=mutated_file(), alt=st.sampled_from([None, b'12927,1,"aka","MAHAN",-0- \r\n\x1a']))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_rows_raise_only_list_format_error(sdn: bytes, alt: bytes | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        paths = [write(Path(folder), "sdn.csv", sdn)]
        if alt is not None:
            paths.append(write(Path(folder), "alt.csv", alt))
        try:
            parsed = SDN.parse(paths)
        except ListFormatError as exc:
            assert exc.path is not None and exc.message
            return
        ids = [e.proxy.id for e in parsed.entities]
        assert len(ids) == len(set(ids))  # the store would refuse duplicates
        for entity in parsed.entities:
            assert entity.proxy.id and entity.proxy.schema in model.schemata.values()


@given(
    name=st.sampled_from(sorted(COMPANIONS)),
    data=st.data(),
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_address_and_alias_rows(name: str, data: st.DataObject) -> None:
    companion = data.draw(mutated_file(COMPANIONS[name]))
    with tempfile.TemporaryDirectory() as folder:
        paths = [write(Path(folder), "sdn.csv", good_sdn()), write(Path(folder), name, companion)]
        try:
            parsed = SDN.parse(paths)
        except ListFormatError as exc:
            assert exc.path is not None and exc.message
            return
        assert parsed.primary_count == 2
        ids = [e.proxy.id for e in parsed.entities]
        assert len(ids) == len(set(ids))
