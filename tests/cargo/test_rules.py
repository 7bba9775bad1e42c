"""The rule loader: the bundled files load; a bad file is refused naming the file, the
rule and the field, never with a bare traceback; the matcher says why a rule fired."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.cargo.rules import (
    RULES_DIR,
    LineFacts,
    PartyFact,
    load_rules,
    match_rule,
)
from watchkeeper.errors import InputError

GOOD = """
[[rule]]
id = "t-1"
program = "Test"
title = "A test rule"
citation = "31 CFR 560.204"
quote = "is prohibited"
url = "https://www.ecfr.gov/current/title-31/section-560.204"
effect = "prohibited"
valid_from = 2020-01-01
[rule.match]
destination = ["IR"]
hs = ["27"]
"""


def write(tmp_path: Path, text: str, name: str = "t.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bundled_rules_cover_the_programs_the_issue_names() -> None:
    rules = load_rules()
    files = {r.source for r in rules}
    assert {"iran.toml", "venezuela.toml", "un_iran.toml", "dprk.toml", "syria.toml"} <= files
    ids = {r.id for r in rules}
    for needed in (
        "us-itsr-560.204-export-to-iran",
        "us-itsr-560.530-agmed",
        "us-eo13846-iran-petroleum",
        "us-eo13871-iran-metals",
        "us-iran-gl8-humanitarian-cbi",
        "us-eo13850-venezuela-gold",
        "us-eo13884-government-of-venezuela",
        "us-venezuela-gl4c",
        "unscr2231-annexb-5-arms-to-iran",
        "unscr2397-5-refined-petroleum-dprk",
        "us-eo13582-syria-petroleum",
    ):
        assert needed in ids
    # Judgement calls say so.
    assert "Judgement call" in rules.get("us-iran-gl8-humanitarian-cbi").judgement


def test_unscr2231_arms_dates_are_the_resolutions() -> None:
    """Annex B applied from Implementation Day (16 Jan 2016); arms transfers to 18 Oct
    2020 (five years after Adoption Day), missile items to 18 Oct 2023."""
    rules = load_rules()
    arms = rules.get("unscr2231-annexb-5-arms-to-iran")
    assert (arms.valid_from, arms.valid_to) == (date(2016, 1, 16), date(2020, 10, 17))
    missiles = rules.get("unscr2231-annexb-4-missile-items")
    assert missiles.valid_to == date(2023, 10, 17)
    assert rules.get("unscr1929-8-arms-to-iran-snapback").valid_from == date(2025, 9, 28)


def test_a_good_file_loads(tmp_path: Path) -> None:
    rules = load_rules([write(tmp_path, GOOD)])
    assert [r.id for r in rules] == ["t-1"]
    assert rules.get("t-1").source == "t.toml"


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('effect = "prohibited"', 'effect = "forbidden"', "rule[1] t-1.effect"),
        ("valid_from = 2020-01-01", 'valid_from = "2020-01-01"', "rule[1] t-1.valid_from"),
        (
            "valid_from = 2020-01-01",
            "valid_from = 2020-01-01\nvalid_to = 2019-12-31",
            "rule[1] t-1.valid_to",
        ),
        ('hs = ["27"]', 'hs = ["2"]', "rule[1] t-1.match.hs"),
        ('hs = ["27"]', 'hs = ["27.10"]', "rule[1] t-1.match.hs"),
        ('destination = ["IR"]', 'destination = ["Iran"]', "rule[1] t-1.match.destination"),
        ('destination = ["IR"]', 'destination = ["ir"]', "rule[1] t-1.match.destination"),
        ('destination = ["IR"]', 'party_status = ["sanctioned"]', "rule[1] t-1.match.party_status"),
        ('destination = ["IR"]', 'flag = ["IR"]', "rule[1] t-1.match.flag"),
        ('url = "https://www.ecfr', 'url = "http://www.ecfr', "rule[1] t-1.url"),
        ('quote = "is prohibited"', 'quote = ""', "rule[1] t-1.quote"),
        ('citation = "31 CFR 560.204"\n', "", "rule[1] t-1.citation"),
        (
            'effect = "prohibited"',
            'effect = "prohibited"\nauthorizes = ["t-1"]',
            "rule[1] t-1.authorizes",
        ),
    ],
)
def test_a_bad_rule_names_file_rule_and_field(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(InputError) as err:
        load_rules([path])
    assert err.value.path == str(path)
    assert err.value.field == field


def test_duplicate_ids_across_files_are_refused(tmp_path: Path) -> None:
    a = write(tmp_path, GOOD, "a.toml")
    b = write(tmp_path, GOOD, "b.toml")
    with pytest.raises(InputError, match="also in a.toml"):
        load_rules([a, b])


def test_a_licence_authorizing_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace(
        'effect = "prohibited"', 'effect = "authorized_by_general_license"\nauthorizes = ["nope"]'
    )
    with pytest.raises(InputError, match="unknown rule 'nope'"):
        load_rules([write(tmp_path, text)])


def test_not_toml_and_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        load_rules([write(tmp_path, "[[rule]\nid=")])
    bad = tmp_path / "latin.toml"
    bad.write_bytes(GOOD.replace("Test", "T\xe9st").encode("latin-1"))
    with pytest.raises(InputError):
        load_rules([bad])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    position=st.integers(min_value=0, max_value=len(GOOD)),
    cut=st.integers(min_value=0, max_value=40),
    insert=st.text(alphabet=st.sampled_from('[]="\n.,-_ 0123456789abcIRZ{}#'), max_size=12),
)
def test_damaged_rule_files_raise_input_error_only(
    tmp_path: Path, position: int, cut: int, insert: str
) -> None:
    """Any damage to a rule file either still loads or is refused as InputError naming
    the file: never another exception."""
    text = GOOD[:position] + insert + GOOD[position + cut :]
    path = write(tmp_path, text)
    try:
        rules = load_rules([path])
    except InputError as exc:
        assert exc.path == str(path)
        return
    # What loads is a whole, checked rule.
    for rule in rules:
        assert rule.url.startswith("https://") and rule.citation and rule.quote


def test_bundled_files_are_only_rules() -> None:
    for path in RULES_DIR.glob("*.toml"):
        with path.open("rb") as fh:
            assert set(tomllib.load(fh)) == {"rule"}, path


def test_match_says_why_in_words() -> None:
    rules = load_rules()
    facts = LineFacts(
        hs="271012",
        origin="IR",
        destination="VE",
        transit=(),
        parties=(),
        end_use="",
    )
    outcome = match_rule(rules.get("us-eo13846-iran-petroleum"), facts)
    assert outcome.fired
    assert outcome.why == ("HS 271012 in 2710", "origin IR")


def test_general_licence_excepted_party_keeps_it() -> None:
    """GL 8 allows the Central Bank of Iran, and only it, among listed parties."""
    rules = load_rules()
    gl8 = rules.get("us-iran-gl8-humanitarian-cbi")
    cbi = PartyFact(
        "notify",
        "Central Bank of Iran",
        "IR",
        frozenset({"listed"}),
        frozenset({"SDGT"}),
        ("CENTRAL BANK OF IRAN",),
    )
    other = PartyFact(
        "consignee", "Mahan Air", "IR", frozenset({"listed"}), frozenset({"SDGT"}), ("MAHAN AIR",)
    )
    facts = LineFacts("300490", None, "IR", (), (cbi,), "hospital use")
    assert match_rule(gl8, facts).fired
    blocked = match_rule(gl8, LineFacts("300490", None, "IR", (), (cbi, other), "hospital use"))
    assert not blocked.fired
    assert blocked.blocked_by == ("consignee 'Mahan Air' is listed as MAHAN AIR",)


def test_end_use_words_are_whole_words() -> None:
    """'army' is not read inside 'pharmacy'; 'police' is read in 'for the police'."""
    rules = load_rules()
    agmed = rules.get("us-itsr-560.530-agmed")
    base = LineFacts("300490", None, "IR", (), (), "")
    assert match_rule(agmed, replace(base, end_use="hospital pharmacy")).fired
    taken = match_rule(agmed, replace(base, end_use="for the police"))
    assert not taken.fired and taken.blocked_by
