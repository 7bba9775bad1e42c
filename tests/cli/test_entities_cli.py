"""``watchkeeper entities get|search`` end to end, on the bundled real lists.

MAHAN AIR (``ofac-12927``) and its aircraft EP-MNG (``ofac-15438``) are the
founding report's airline; what the tests expect of them is read from the files.
"""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path
from typing import Any

import pytest
from normality import ascii_text

from tests.cli._lists_stores import (
    CSL,
    TRIO_2023,
    BuiltStore,
    built_store,
    cli,
    cli_json,
    cli_ok,
    run_main,
)
from watchkeeper.io import read_bytes


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    return built_store("trio", tmp_path_factory)


@pytest.fixture(scope="module")
def lists(tmp_path_factory: pytest.TempPathFactory) -> BuiltStore:
    """Both sdn.csv publications, the non-SDN set, the UN list and the US CSL."""
    return built_store("lists", tmp_path_factory)


@pytest.fixture(scope="module")
def csl_rows() -> list[dict[str, str]]:
    with gzip.open(CSL[0], "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def ofac_lines(path: Path, ent_num: str) -> list[str]:
    text = read_bytes(path).decode("cp1252")
    return [line for line in text.splitlines() if line.startswith(f"{ent_num},")]


def plain(text: str) -> str:
    """Lower-case ASCII words, as a reader would compare names."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", (ascii_text(text) or "").lower()).split())


def get_json(db: Path, entity_id: str) -> dict[str, Any]:
    found: dict[str, Any] = cli_json("entities", "get", entity_id, "--db", db)
    return found


# --- entities get ---------------------------------------------------------------------


def test_get_mahan_air_with_provenance_and_related(lists: BuiltStore) -> None:
    found = get_json(lists.path, "ofac-12927")
    assert (found["id"], found["schema"], found["caption"]) == (
        "ofac-12927",
        "Organization",
        "MAHAN AIR",
    )
    assert found["properties"]["name"] == ["MAHAN AIR"]
    assert {"SDGT", "NPWMD", "IFSR"} <= set(found["properties"]["program"])
    (sdn,) = [p for p in found["provenance"] if p["source"] == "ofac_sdn"]
    # Listed in both SDN publications; the current one is 2024-05-03.
    assert sdn == {
        "source": "ofac_sdn",
        "entry_id": "12927",
        "version": "2024-05-03",
        "first_seen": "2023-12-28",
        "last_seen": "2024-05-03",
    }
    sanctions = [r for r in found["related"] if r["schema"] == "Sanction"]
    assert any(
        r["properties"]["entity"] == ["ofac-12927"] and "ofac_sdn" in r["datasets"]
        for r in sanctions
    )
    text = cli_ok("entities", "get", "ofac-12927", "--db", lists.path).stdout
    assert "MAHAN AIR" in text and "ofac-12927" in text
    assert "from ofac_sdn entry 12927, version 2024-05-03" in text
    assert "first seen 2023-12-28, last seen 2024-05-03" in " ".join(text.split())


def test_get_mahan_air_from_the_trio_has_its_alt_names_and_addresses(
    trio: BuiltStore,
) -> None:
    sdn, add, alt = TRIO_2023[:3]
    found = get_json(trio.path, "ofac-12927")
    aliases = [line.split('"')[3] for line in ofac_lines(alt, "12927")]
    assert aliases and set(aliases) <= set(found["properties"].get("alias", []))
    addresses = [r for r in found["related"] if r["schema"] == "Address"]
    assert len(addresses) == len(ofac_lines(add, "12927")) == 3
    assert all(r["properties"]["country"] == ["ir"] for r in addresses)
    assert all(p["version"] == "2023-12-28" for p in found["provenance"])


def test_get_ep_mng_operated_by_mahan_air(lists: BuiltStore) -> None:
    found = get_json(lists.path, "ofac-15438")
    assert (found["schema"], found["caption"]) == ("Airplane", "EP-MNG")
    assert found["properties"]["operator"] == ["ofac-12927"]
    (row,) = ofac_lines(TRIO_2023[0], "15438")
    assert "Aircraft Model A300B4-603" in row
    assert found["properties"]["model"] == ["A300B4-603"]
    # The text output names the operator, not only its id.
    text = cli_ok("entities", "get", "ofac-15438", "--db", lists.path).stdout
    assert "operator: MAHAN AIR (ofac-12927)" in text


def test_unknown_id_exits_1_with_a_message(lists: BuiltStore) -> None:
    result = cli("entities", "get", "ofac-999999999", "--db", str(lists.path))
    assert result.exit_code == 1
    assert "no entity 'ofac-999999999'" in result.stderr
    assert result.stdout == ""


def test_unknown_id_exits_1_through_the_console_entry_point(
    lists: BuiltStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    got = run_main(monkeypatch, capsys, "entities", "get", "ofac-999999999", "--db", lists.path)
    assert got.code == 1


def test_list_text_with_brackets_is_printed_as_is(
    lists: BuiltStore, csl_rows: list[dict[str, str]]
) -> None:
    """MEHDI GROUP's real address reads 'Andheri [w]': not rich markup to swallow."""
    (row,) = [r for r in csl_rows if r["entity_number"] == "27264"]
    assert "Andheri [w]" in row["addresses"]
    text = cli_ok("entities", "get", "ofac-27264", "--db", lists.path).stdout
    assert "Andheri [w]" in " ".join(text.split())


# --- the CSL beside OFAC: one entity per OFAC entry -------------------------------------


def test_csl_sdn_rows_merge_into_the_ofac_entity(
    lists: BuiltStore, csl_rows: list[dict[str, str]]
) -> None:
    (row,) = [r for r in csl_rows if r["entity_number"] == "12927" and "(SDN)" in r["source"]]
    found = get_json(lists.path, "ofac-12927")
    assert found["datasets"] == ["ofac_sdn", "us_csl"]
    (csl,) = [p for p in found["provenance"] if p["source"] == "us_csl"]
    assert csl["entry_id"] == "12927"
    assert any("us_csl" in r["datasets"] for r in found["related"])
    # The CSL's own record id is not a second entity.
    missing = cli("entities", "get", f"uscsl-{row['_id']}", "--db", str(lists.path))
    assert missing.exit_code == 1
    hits = cli_json("entities", "search", "mahan air", "--db", lists.path)
    assert [h["id"] for h in hits if h["matched_name"] == "MAHAN AIR"] == ["ofac-12927"]


def test_csl_only_row_is_a_uscsl_entity(lists: BuiltStore, csl_rows: list[dict[str, str]]) -> None:
    (row,) = [r for r in csl_rows if r["name"] == "MAHAN AIRWAYS"]
    # BIS's Denied Persons List: not an OFAC list, so no OFAC entry to merge with.
    assert "Bureau of Industry and Security" in row["source"] and not row["entity_number"]
    found = get_json(lists.path, f"uscsl-{row['_id']}")
    assert found["caption"] == "MAHAN AIRWAYS"
    assert found["datasets"] == ["us_csl"]
    assert [p["entry_id"] for p in found["provenance"]] == [row["_id"]]


# --- entities search ------------------------------------------------------------------


def test_search_exact_name_finds_mahan_air_first(lists: BuiltStore) -> None:
    hits = cli_json("entities", "search", "mahan air", "--db", lists.path)
    assert hits[0]["id"] == "ofac-12927"
    assert hits[0]["matched_name"] == "MAHAN AIR"
    assert {"ofac_sdn", "us_csl"} <= set(hits[0]["datasets"])
    table = cli_ok("entities", "search", "Mahan Air", "--db", lists.path).stdout
    assert table.index("ofac-12927") < table.index("uscsl-")


@pytest.mark.parametrize("text", ["maha", "MAHAN A", "mahan-air"])
def test_search_by_prefix_finds_mahan_air(lists: BuiltStore, text: str) -> None:
    hits = cli_json("entities", "search", text, "--limit", "50", "--db", lists.path)
    ids = [h["id"] for h in hits]
    assert "ofac-12927" in ids
    key = plain(text)
    for h in hits:  # every hit's matched name starts with the text, or a word in it does
        words = plain(h["matched_name"]).split()
        assert any(" ".join(words[i:]).startswith(key) for i in range(len(words))), h


def test_search_by_an_alt_csv_name(trio: BuiltStore) -> None:
    hits = cli_json("entities", "search", "Mahan Air Co.", "--db", trio.path)
    assert [h["id"] for h in hits][:1] == ["ofac-12927"]
    assert hits[0]["matched_name"] == "MAHAN AIR CO."


def test_search_with_nothing_to_match_is_empty(lists: BuiltStore) -> None:
    assert cli_json("entities", "search", "zzqxv", "--db", lists.path) == []
    assert cli_json("entities", "search", " ,. ", "--db", lists.path) == []
