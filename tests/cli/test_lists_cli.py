"""``watchkeeper lists load|show|diff`` end to end, on the bundled real publications.

The expected numbers are computed here from the files with the csv module and lxml
(no parser, no FtM, no store), beside the issue's own numbers (13,821 entries in the
2023-12-28 trio; 1,256 added, 112 removed, 48 changed between the two ``sdn.csv``).
"""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tests.cli._lists_stores import (
    CONS,
    CSL,
    RECIPES,
    SDN_2023_ALONE,
    SDN_2024,
    TRIO_2023,
    UN,
    BuiltStore,
    built_store,
    cli,
    cli_json,
    cli_ok,
    copy_store,
    run_main,
    snapshot,
)
from tests.conftest import DATA
from watchkeeper.io import read_bytes
from watchkeeper.lists import PARSERS

# --- what the files say, read plainly ---------------------------------------------------


def ofac_rows(path: Path) -> list[list[str]]:
    """Records of an OFAC legacy CSV (cp1252, CRLF, closing Ctrl-Z)."""
    text = read_bytes(path).decode("cp1252").rstrip("\x1a\r\n")
    return [row for row in csv.reader(io.StringIO(text)) if row]


def ofac_by_ent_num(path: Path) -> dict[str, list[str]]:
    return {row[0]: row for row in ofac_rows(path)}


def un_entries(path: Path) -> tuple[int, str]:
    """(INDIVIDUAL + ENTITY elements, the dateGenerated day) of the UN XML."""
    root = etree.fromstring(read_bytes(path))
    count = len(root.findall("INDIVIDUALS/INDIVIDUAL")) + len(root.findall("ENTITIES/ENTITY"))
    return count, str(root.get("dateGenerated"))[:10]


def csl_entries(path: Path) -> int:
    """One entry per OFAC entity_number (Treasury lists share OFAC's entry), else per row."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        keys = {
            f"ofac-{row['entity_number']}"
            if "Treasury Department" in row["source"] and row["entity_number"]
            else row["_id"]
            for row in csv.DictReader(fh)
        }
    return len(keys)


def program_codes(cell: str) -> set[str]:
    return {p.strip() for p in cell.split("] [") if p.strip() and p.strip() != "-0-"}


# --- the stores built through the CLI once per session ----------------------------------


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    return built_store("trio", tmp_path_factory)


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    return built_store("lists", tmp_path_factory)


# --- lists load ---------------------------------------------------------------------------


def _expected_trio() -> dict[str, Any]:
    sdn, add = (ofac_rows(p) for p in TRIO_2023[:2])
    return {
        "source": "ofac_sdn",
        "version": "2023-12-28",
        "entities": len({r[0] for r in sdn}),
        "schemas.Address": len(add),
    }


def _expected_un() -> dict[str, Any]:
    count, day = un_entries(UN[0])
    return {"source": "un_sc", "version": day, "entities": count}


EXPECTED: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
    "ofac_sdn trio 2023-12-28": ("trio", _expected_trio),
    "ofac_sdn sdn.csv 2023-12-28": (
        "lists",
        lambda: {
            "source": "ofac_sdn",
            "version": "2023-12-28",
            "entities": len(ofac_by_ent_num(SDN_2023_ALONE[0])),
        },
    ),
    "ofac_sdn sdn.csv 2024-05-03": (
        "lists",
        lambda: {
            "source": "ofac_sdn",
            "version": "2024-05-03",
            "entities": len(ofac_by_ent_num(SDN_2024[0])),
        },
    ),
    "ofac_cons": (
        "lists",
        lambda: {"source": "ofac_cons", "entities": len(ofac_by_ent_num(CONS[0]))},
    ),
    "un_sc": ("lists", _expected_un),
    "us_csl": ("lists", lambda: {"source": "us_csl", "entities": csl_entries(CSL[0])}),
}


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_each_bundled_publication_loads_with_its_source_detected(
    label: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store_name, expected_of = EXPECTED[label]
    out = built_store(store_name, tmp_path_factory).loads[label]
    expected = expected_of()
    assert out["source"] == expected["source"]
    assert out["entities"] == expected["entities"]
    if "version" in expected:
        assert out["version"] == expected["version"]
    if "schemas.Address" in expected:
        assert out["counts"]["schemas"]["Address"] == expected["schemas.Address"]
    assert out["new"] is True
    assert isinstance(out["version_id"], int)
    assert len(out["file_hash"]) == 64 and int(out["file_hash"], 16) >= 0
    (files,) = [f for name, f in RECIPES[store_name] if name == label]
    assert sorted(out["files"]) == sorted(str(p) for p in files)
    loaded_at = datetime.fromisoformat(out["loaded_at"])
    assert loaded_at.utcoffset() is not None and loaded_at <= datetime.now(UTC)
    if out["published"] is not None:
        assert date.fromisoformat(out["published"]).isoformat() == out["version"]


def test_the_2023_trio_is_13821_entries(trio: BuiltStore) -> None:
    assert trio.loads["ofac_sdn trio 2023-12-28"]["entities"] == 13_821
    (shown,) = cli_json("lists", "show", "--db", trio.path)
    assert (shown["source"], shown["version"], shown["entities"]) == (
        "ofac_sdn",
        "2023-12-28",
        13_821,
    )


def test_same_files_again_are_already_loaded_and_not_parsed(
    trio: BuiltStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_store(trio, tmp_path)
    before = snapshot(db)

    def must_not_parse(paths: object) -> None:
        raise AssertionError("files already loaded were parsed again")

    monkeypatch.setattr(PARSERS["ofac_sdn"], "parse", must_not_parse)
    text = cli_ok("lists", "load", *TRIO_2023, "--db", db)
    assert "already loaded" in text.stdout
    assert "13,821" in text.stdout
    # The same files from another folder, in another order: still the same publication.
    elsewhere = tmp_path / "copies"
    elsewhere.mkdir()
    copies = [Path(shutil.copy(p, elsewhere)) for p in reversed(TRIO_2023)]
    out = cli_json("lists", "load", *copies, "--db", db)
    assert out["new"] is False
    assert out["version_id"] == trio.loads["ofac_sdn trio 2023-12-28"]["version_id"]
    assert snapshot(db) == before


# --- lists show ---------------------------------------------------------------------------


def test_show_json_lists_every_version_with_counts(lists: BuiltStore) -> None:
    shown = cli_json("lists", "show", "--db", lists.path)
    assert isinstance(shown, list)
    assert all({"source", "version", "entities"} <= set(v) for v in shown)
    assert sorted((v["source"], v["version"], v["entities"]) for v in shown) == sorted(
        (o["source"], o["version"], o["entities"]) for o in lists.loads.values()
    )
    assert [v["version"] for v in shown if v["source"] == "ofac_sdn"] == [
        "2023-12-28",
        "2024-05-03",
    ]
    table = cli_ok("lists", "show", "--db", lists.path).stdout
    for source in ("ofac_sdn", "ofac_cons", "un_sc", "us_csl"):
        assert source in table
    assert "13,821" in table and "14,965" in table


def test_show_on_a_store_not_yet_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--db`` naming no file is a store error, not an empty answer (a typo in the path
    must not read as "nothing loaded"); the default store before anything is loaded
    reads as empty. Neither creates a file."""
    got = run_main(monkeypatch, capsys, "lists", "show", "--db", tmp_path / "none.duckdb")
    assert got.code == 3 and f"no store at {tmp_path / 'none.duckdb'}" in got.message
    monkeypatch.delenv("WATCHKEEPER_DB_PATH", raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli_json("lists", "show") == []
    assert list(tmp_path.iterdir()) == []


# --- lists diff ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sdn_rows() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    return ofac_by_ent_num(SDN_2023_ALONE[0]), ofac_by_ent_num(SDN_2024[0])


@pytest.fixture(scope="module")
def diff_json(lists: BuiltStore) -> dict[str, Any]:
    result: dict[str, Any] = cli_json("lists", "diff", "ofac_sdn", "--db", lists.path)
    return result


def test_diff_of_the_two_sdn_csv_is_the_plain_row_comparison(
    diff_json: dict[str, Any], sdn_rows: tuple[dict[str, list[str]], dict[str, list[str]]]
) -> None:
    before, after = sdn_rows
    added = {f"ofac-{n}" for n in after.keys() - before.keys()}
    removed = {f"ofac-{n}" for n in before.keys() - after.keys()}
    changed = {f"ofac-{n}" for n in before.keys() & after.keys() if before[n] != after[n]}
    assert (len(added), len(removed), len(changed)) == (1_256, 112, 48)

    assert (diff_json["from"]["version"], diff_json["to"]["version"]) == (
        "2023-12-28",
        "2024-05-03",
    )
    assert len(diff_json["added"]) == 1_256 and {a["id"] for a in diff_json["added"]} == added
    assert len(diff_json["removed"]) == 112
    assert {r["id"] for r in diff_json["removed"]} == removed
    # Who, not only which id: OFAC's SDN_Name of each entry added or removed.
    for entry in diff_json["added"]:
        assert entry["name"] == " ".join(after[entry["id"][5:]][1].split())
    for entry in diff_json["removed"]:
        assert entry["name"] == " ".join(before[entry["id"][5:]][1].split())
    assert not diff_json["compared"]["partial"] and diff_json["compared"]["note"] is None
    assert len(diff_json["changed"]) == 48
    assert {c["id"] for c in diff_json["changed"]} == changed
    for c in diff_json["changed"]:
        assert c["properties"] and all(isinstance(p, str) for p in c["properties"])


def test_diff_names_the_properties_that_changed(
    diff_json: dict[str, Any], sdn_rows: tuple[dict[str, list[str]], dict[str, list[str]]]
) -> None:
    before, after = sdn_rows
    props = {c["id"]: set(c["properties"]) for c in diff_json["changed"]}
    renamed = [n for n in before.keys() & after.keys() if before[n][1] != after[n][1]]
    reprogrammed = [
        n
        for n in before.keys() & after.keys()
        if program_codes(before[n][3]) != program_codes(after[n][3])
    ]
    assert renamed and reprogrammed
    for n in renamed:
        assert "name" in props[f"ofac-{n}"], n
    for n in reprogrammed:
        assert "program" in props[f"ofac-{n}"], n
    # An entry whose row did not change is not reported.
    same = next(n for n in before.keys() & after.keys() if before[n] == after[n])
    assert f"ofac-{same}" not in props


def test_diff_from_and_to_by_label_and_by_id(lists: BuiltStore, diff_json: dict[str, Any]) -> None:
    db = lists.path
    by_label = cli_json(
        "lists", "diff", "ofac_sdn", "--from", "2023-12-28", "--to", "2024-05-03", "--db", db
    )
    assert by_label == diff_json
    old_id, new_id = (str(diff_json[k]["version_id"]) for k in ("from", "to"))
    by_id = cli_json("lists", "diff", "ofac_sdn", "--from", old_id, "--to", new_id, "--db", db)
    assert by_id == diff_json
    assert cli_json("lists", "diff", "ofac_sdn", "--from", "2023-12-28", "--db", db) == diff_json
    assert cli_json("lists", "diff", "ofac_sdn", "--to", "2024-05-03", "--db", db) == diff_json
    backwards = cli_json(
        "lists", "diff", "ofac_sdn", "--from", "2024-05-03", "--to", "2023-12-28", "--db", db
    )
    assert backwards["added"] == diff_json["removed"]
    assert backwards["removed"] == diff_json["added"]
    assert {c["id"] for c in backwards["changed"]} == {c["id"] for c in diff_json["changed"]}
    text = cli_ok("lists", "diff", "ofac_sdn", "--db", db).stdout
    assert "2023-12-28 -> 2024-05-03: 1,256 added, 112 removed, 48 changed" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ofac_sdn", "--from", "2020-01-01"], "has no version '2020-01-01'"),
        (["ofac_sdn", "--to", "2099-12-31"], "has no version '2099-12-31'"),
        (["ofac_sdn", "--to", "2023-12-28"], "oldest version"),
        (["eu_fsf"], "no versions of list 'eu_fsf'"),
    ],
)
def test_diff_of_unknown_versions_exits_3_with_a_clear_message(
    lists: BuiltStore,
    args: list[str],
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    got = run_main(monkeypatch, capsys, "lists", "diff", *args, "--db", lists.path)
    assert got.code == 3
    assert got.message.startswith("error: ") and says in got.message
    assert got.out == ""
    if "has no version" in says:
        assert "2023-12-28" in got.message and "2024-05-03" in got.message  # the known ones


def test_two_versions_with_one_label_are_named_by_id(
    trio: BuiltStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Hand-made: the first 50 real rows of the 2023-12-28 sdn.csv in a folder dated the
    same day, so two ofac_sdn versions carry the label 2023-12-28."""
    db = copy_store(trio, tmp_path)
    folder = tmp_path / "sdn_csv_2023-12-28"
    folder.mkdir()
    raw = read_bytes(SDN_2023_ALONE[0]).split(b"\r\n")
    (folder / "sdn.csv").write_bytes(b"\r\n".join(raw[:50]) + b"\r\n\x1a")
    small = cli_json("lists", "load", folder / "sdn.csv", "--allow-shrink", "--db", db)
    assert (small["version"], small["entities"]) == ("2023-12-28", 50)
    got = run_main(
        monkeypatch, capsys, "lists", "diff", "ofac_sdn", "--from", "2023-12-28", "--db", db
    )
    assert got.code == 3
    assert "2 versions labelled '2023-12-28'" in got.message
    trio_id = str(trio.loads["ofac_sdn trio 2023-12-28"]["version_id"])
    by_id = cli_json("lists", "diff", "ofac_sdn", "--from", trio_id, "--db", db)
    assert (len(by_id["added"]), len(by_id["removed"])) == (0, 13_821 - 50)


# --- bad input: one clear message, exit 2, the store exactly as before --------------------


def _png(path: Path) -> Path:
    """Hand-made: a real 4x4 RGB PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    pixels = b"".join(b"\x00" + bytes(range(i * 12, i * 12 + 12)) for i in range(4))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )
    return path


def _sdn_csv_short_row(folder: Path) -> tuple[list[Path], int]:
    """The real 2023-12-28 sdn.csv with the last cell of one record dropped."""
    rows = ofac_rows(SDN_2023_ALONE[0])
    k = 700
    assert not any("\n" in cell for row in rows[:k] for cell in row)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for i, row in enumerate(rows):
        writer.writerow(row[:-1] if i == k else row)
    path = folder / "sdn.csv"
    path.write_bytes(buffer.getvalue().encode("cp1252") + b"\x1a")
    return [path], k + 1


def _sdn_csv_in_utf16(folder: Path) -> tuple[list[Path], int]:
    path = folder / "sdn.csv"
    path.write_bytes(read_bytes(SDN_2023_ALONE[0]).decode("cp1252").encode("utf-16"))
    return [path], 1


def _csl_in_latin1(folder: Path) -> tuple[list[Path], int]:
    """The real CSL re-encoded as Latin-1: the first line with a non-ASCII letter is bad."""
    lines = read_bytes(CSL[0]).decode("utf-8").splitlines(keepends=True)[:3000]
    first = next(i for i, line in enumerate(lines) if not line.isascii())
    path = folder / "consolidated.csv"
    path.write_bytes("".join(lines).encode("latin-1", errors="replace"))
    return [path], first + 1


def _csl_extra_cell(folder: Path) -> tuple[list[Path], int]:
    lines = read_bytes(CSL[0]).decode("utf-8").splitlines(keepends=True)[:200]
    lines[120] = lines[120].rstrip("\r\n") + ",surplus\n"
    path = folder / "consolidated.csv"
    path.write_text("".join(lines), encoding="utf-8")
    return [path], 121


def _un_truncated(folder: Path) -> tuple[list[Path], int | None]:
    path = folder / "consolidated.xml"
    path.write_bytes(read_bytes(UN[0])[:300_000])
    return [path], None


def _sdn_csv_cut_at_a_line(folder: Path) -> tuple[list[Path], int]:
    """The 2024-05-03 sdn.csv as an interrupted download leaves it: 4,917 whole rows."""
    data = read_bytes(SDN_2024[0])
    path = folder / "sdn.csv"
    path.write_bytes(b"\r\n".join(data.split(b"\r\n")[:4_917]) + b"\r\n")
    return [path], 4_918


def _un_cut_at_a_line(folder: Path) -> tuple[list[Path], int | None]:
    """The UN XML cut after the line that closes an entry: every line whole."""
    data = read_bytes(UN[0])
    end = data.index(b"</INDIVIDUAL>", len(data) // 2)
    path = folder / "consolidated.xml"
    path.write_bytes(data[: data.index(b"\n", end) + 1])
    return [path], None


def _empty(name: str) -> Callable[[Path], tuple[list[Path], int | None]]:
    def make(folder: Path) -> tuple[list[Path], int | None]:
        path = folder / name
        path.write_bytes(b"")
        return [path], None

    return make


def _copy_as(source: Path, name: str) -> Callable[[Path], tuple[list[Path], int | None]]:
    def make(folder: Path) -> tuple[list[Path], int | None]:
        path = folder / name
        shutil.copyfile(source, path)
        return [path], None

    return make


REPORT = DATA / "articles" / "seed-iran-venezuela.txt"

# name -> (build the files, extra CLI args, words the message must hold)
BAD_INPUTS: dict[str, tuple[Callable[[Path], tuple[list[Path], int | None]], list[str], str]] = {
    "truncated UN XML": (_un_truncated, [], "not well-formed XML"),
    "UN XML cut at a line boundary": (_un_cut_at_a_line, [], "not well-formed XML"),
    "sdn.csv cut at a line boundary": (
        _sdn_csv_cut_at_a_line,
        [],
        "truncated: no end-of-file marker",
    ),
    "SDN CSV with a short row": (_sdn_csv_short_row, [], "expected 12 columns"),
    "CSL CSV with a surplus cell": (_csl_extra_cell, [], "row has 30 fields, the header has 29"),
    "SDN CSV in UTF-16": (_sdn_csv_in_utf16, [], "UTF-16"),
    "CSL CSV in Latin-1": (_csl_in_latin1, [], "not UTF-8 text"),
    "empty sdn.csv": (_empty("sdn.csv"), [], "empty file"),
    "empty UN XML": (_empty("consolidated.xml"), ["--source", "un_sc"], "no element found"),
    "PNG image": (lambda f: ([_png(f / "picture.png")], None), [], "not a list format"),
    # The PNG signature is "\x89PNG\r\n\x1a\n": its Ctrl-Z byte is on line 2.
    "PNG named sdn.csv": (lambda f: ([_png(f / "sdn.csv")], 2), [], "not text"),
    "founding report": (_copy_as(REPORT, "report.txt"), [], "not a list format"),
    "founding report as sdn.csv": (_copy_as(REPORT, "sdn.csv"), [], "expected 12 columns"),
    "founding report as the CSL": (
        _copy_as(REPORT, "report.txt"),
        ["--source", "us_csl"],
        "not a trade.gov Consolidated Screening List CSV",
    ),
    "founding report as UN XML": (
        _copy_as(REPORT, "report.txt"),
        ["--source", "un_sc"],
        "not well-formed XML",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_fails_with_one_message_and_changes_nothing(
    case: str,
    trio: BuiltStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make, extra, says = BAD_INPUTS[case]
    db = copy_store(trio, tmp_path)
    before = snapshot(db)
    folder = tmp_path / "input"
    folder.mkdir()
    paths, line = make(folder)
    got = run_main(monkeypatch, capsys, "lists", "load", *paths, *extra, "--db", db)
    assert got.code == 2, got
    assert got.message.count("error:") == 1 and got.message.startswith("error: ")
    assert f"{paths[0]}" in got.message, got.message
    assert says in got.message, got.message
    if line is not None:
        assert f"{paths[0]}:{line}:" in got.message, got.message
    elif "XML" in case and "empty" not in case:
        assert f"{paths[0]}:" in got.message and any(c.isdigit() for c in got.message)
    assert "Traceback" not in got.err and got.out == ""
    assert snapshot(db) == before


def test_bad_input_through_the_console_script(tmp_path: Path) -> None:
    """The installed ``watchkeeper`` command itself exits 2 on bad input."""
    script = Path(sys.executable).parent / "watchkeeper"
    if not script.exists():
        pytest.skip(f"no console script at {script} (package not installed with pip -e)")
    (tmp_path / "sdn.csv").write_bytes(b"")
    done = subprocess.run(
        [str(script), "lists", "load", str(tmp_path / "sdn.csv"), "--db", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert f"{tmp_path / 'sdn.csv'}: empty file" in " ".join(done.stderr.split())
    assert not (tmp_path / "x").exists()


def test_missing_file_and_unknown_source_are_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.duckdb"
    got = run_main(monkeypatch, capsys, "lists", "load", tmp_path / "nope.csv", "--db", db)
    assert got.code == 2 and "nope.csv: no such file" in got.message
    got = run_main(
        monkeypatch, capsys, "lists", "load", *SDN_2024, "--source", "ofac_sdm", "--db", db
    )
    assert got.code == 2 and "unknown list source 'ofac_sdm'" in got.message
    assert "ofac_sdn" in got.message  # the known ones are listed
    assert not db.exists()


def test_cli_runner_and_run_guarded_agree_on_success(
    lists: BuiltStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    got = run_main(monkeypatch, capsys, "lists", "show", "--json", "--db", lists.path)
    assert got.code == 0
    assert got.out == cli("lists", "show", "--json", "--db", str(lists.path)).stdout


def test_error_quoting_bracketed_file_text_is_printed_as_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Hand-made: a CSV whose header is '[/b],[d],x' given as the CSL."""
    path = tmp_path / "consolidated.csv"
    path.write_text("[/b],[d],x\n1,2,3\n", encoding="utf-8")
    got = run_main(
        monkeypatch, capsys, "lists", "load", path, "--source", "us_csl", "--db", tmp_path / "x"
    )
    assert got.code == 2
    assert "'[/b],[d],x'" in got.message


def test_an_error_is_one_line_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / ("a-long-folder-name-" * 4)
    folder.mkdir()
    (folder / "sdn.csv").write_bytes(b"")
    got = run_main(monkeypatch, capsys, "lists", "load", folder / "sdn.csv", "--db", tmp_path / "x")
    assert got.code == 2
    assert got.err.count("\n") == 1 and got.err.endswith("empty file\n")


# --- a load that loses entries: refused unless --allow-shrink ---------------------------


def _cons_cut(folder: Path, rows: int) -> list[Path]:
    """The real non-SDN set with its first ``rows`` entries only, each file closed with the
    end-of-file byte (a partial export that looks whole)."""
    kept: set[bytes] = set()
    paths = []
    for source in CONS:
        lines = read_bytes(source).rstrip(b"\x1a").splitlines(keepends=True)
        if source.name.startswith("cons_prim"):
            lines = lines[:rows]
            kept = {line.split(b",", 1)[0] for line in lines}
        target = folder / source.name.removesuffix(".gz")
        target.write_bytes(b"".join(x for x in lines if x.split(b",", 1)[0] in kept) + b"\x1a")
        paths.append(target)
    return paths


def test_a_load_losing_entries_is_refused_unless_allowed(
    lists: BuiltStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = copy_store(lists, tmp_path)
    before = snapshot(db)
    paths = _cons_cut(tmp_path, 300)
    got = run_main(monkeypatch, capsys, "lists", "load", *paths, "--db", db)
    assert got.code == 2, got
    assert got.message.count("error:") == 1 and f"{paths[0]}" in got.message
    assert "ofac_cons would shrink from 442 entries" in got.message
    assert "to 300, 142 fewer" in got.message and "--allow-shrink" in got.message
    assert snapshot(db) == before
    # WATCHKEEPER_MAX_LIST_SHRINK sets how much a list may lose.
    monkeypatch.setenv("WATCHKEEPER_MAX_LIST_SHRINK", "0.5")
    allowed = cli_json("lists", "load", *paths, "--db", db)
    assert allowed["new"] and allowed["entities"] == 300
    monkeypatch.delenv("WATCHKEEPER_MAX_LIST_SHRINK")
    (tmp_path / "fewer").mkdir()
    fewer = _cons_cut(tmp_path / "fewer", 100)
    assert run_main(monkeypatch, capsys, "lists", "load", *fewer, "--db", db).code == 2
    loaded = cli_json("lists", "load", *fewer, "--allow-shrink", "--db", db)
    assert loaded["new"] and loaded["entities"] == 100


def test_max_list_shrink_setting_must_be_a_fraction(
    lists: BuiltStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("WATCHKEEPER_MAX_LIST_SHRINK", "10%")
    got = run_main(monkeypatch, capsys, "lists", "load", *CONS, "--db", tmp_path / "x.duckdb")
    assert got.code == 2 and "WATCHKEEPER_MAX_LIST_SHRINK" in got.message


def test_load_says_where_the_date_came_from(lists: BuiltStore) -> None:
    loads = lists.loads
    assert loads["un_sc"]["dated_by"] == "dateGenerated in the file"
    assert loads["us_csl"]["dated_by"] == "newest start_date in the file"
    assert loads["ofac_sdn sdn.csv 2024-05-03"]["dated_by"].startswith("a date in the file path")
    assert loads["ofac_sdn sdn.csv 2024-05-03"]["parts"] == ["sdn.csv"]


def test_diff_of_a_full_set_and_a_lone_sdn_csv_says_what_it_left_out(
    trio: BuiltStore, tmp_path: Path
) -> None:
    db = copy_store(trio, tmp_path)
    cli_ok("lists", "load", *SDN_2024, "--db", db)
    shown = cli_json("lists", "diff", "ofac_sdn", "--db", db)
    assert (len(shown["added"]), len(shown["removed"]), len(shown["changed"])) == (1_256, 112, 48)
    compared = shown["compared"]
    assert compared["partial"] and compared["only_in_from"] == [
        "add.csv",
        "alt.csv",
        "sdn_comments.csv",
    ]
    assert "alias" in compared["not_compared"] and "Address.*" in compared["not_compared"]
    out = cli_ok("lists", "diff", "ofac_sdn", "--db", db).stdout
    text = " ".join(out.split())
    assert "1,256 added, 112 removed, 48 changed" in text
    assert "compared only what both versions carry" in text
    assert "add.csv, alt.csv, sdn_comments.csv only in 2023-12-28" in text
    # The table names who was added and removed, not only their ids (a long name wraps
    # inside its cell: its first word is on the id's line).
    for kind in ("added", "removed"):
        entry = shown[kind][0]
        row = next(line for line in out.splitlines() if f" {entry['id']} " in line)
        assert kind in row and entry["name"].split()[0] in row, row


def test_show_says_where_each_date_came_from_and_which_files(lists: BuiltStore) -> None:
    shown = {v["source"]: v for v in cli_json("lists", "show", "--db", lists.path)}
    assert shown["un_sc"]["dated_by"] == "dateGenerated in the file"
    assert shown["ofac_cons"]["parts"] == [
        "cons_prim.csv",
        "cons_add.csv",
        "cons_alt.csv",
        "cons_comments.csv",
    ]
    # The table has a "dated by" column (its text wraps inside the cell at 80 columns).
    assert "dated by" in cli_ok("lists", "show", "--db", lists.path).stdout
