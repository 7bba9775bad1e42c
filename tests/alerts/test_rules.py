"""Alert rules load from TOML and a bad rule names its file and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from watchkeeper.alerts.rules import SEVERITIES, load_rule_file, load_rules, render_title
from watchkeeper.errors import InputError


def test_shipped_rules_load_and_are_valid() -> None:
    rules = load_rules()
    ids = [r.id for r in rules]
    assert len(ids) >= 8
    assert len(set(ids)) == len(ids)
    assert all(r.severity in SEVERITIES and r.types for r in rules)
    gap = next(r for r in rules if r.id == "ais-gap-near-sanctioned-port")
    assert gap.near is not None
    assert gap.near.type == "port_call"
    assert gap.near.within_hours == 48.0
    assert gap.near.params == {"sanctioned": (True,)}


GOOD = """
[[rule]]
id = "ok"
title = "fine"
severity = "low"
types = ["encounter"]
"""


@pytest.mark.parametrize(
    ("body", "needle", "field"),
    [
        ('id = "r1"\ntitle = "t"\nseverity = "urgent"\ntypes = ["a"]', "urgent", "severity"),
        ('id = "r1"\ntitle = "t"\nseverity = "low"\ntypes = []', "'types'", "types"),
        ('id = "r1"\ntitle = "t"\nseverity = "low"\ntypes = ["a"]\nmin_score = 2', "0..1", None),
        ('id = "r1"\ntitle = "t {"\nseverity = "low"\ntypes = ["a"]', "template", "title"),
        ('id = "r1"\ntitle = "t"\nseverity = "low"\ntypes = ["a"]\nlisted = "yes"', "listed", None),
        ('id = "r1"\ntitle = "t"\nseverity = "low"\ntypes = ["a"]\ncolour = 1', "colour", None),
        (
            'id = "r1"\ntitle = "t"\nseverity = "low"\ntypes = ["a"]\n'
            '[rule.near]\ntype = "port_call"\nwithin_hours = -1',
            "within_hours",
            "near.within_hours",
        ),
    ],
)
def test_bad_rule_names_file_and_rule(
    tmp_path: Path, body: str, needle: str, field: str | None
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(GOOD + "\n[[rule]]\n" + body + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rule_file(path)
    message = str(info.value)
    assert "bad.toml" in message
    assert "rule 'r1'" in message
    assert needle in message
    if field is not None:
        assert info.value.field == field


def test_invalid_toml_and_duplicate_ids_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text("[[rule]\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.toml.*not valid TOML"):
        load_rules(tmp_path)
    (tmp_path / "a.toml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD, encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.toml.*rule 'ok': id already used in .*a\.toml"):
        load_rules(tmp_path)


def test_title_fills_params_and_marks_missing_fields(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(GOOD.replace('"fine"', '"{route} by {callsign} ({type})"'), encoding="utf-8")
    (rule,) = load_rule_file(path)
    title = render_title(rule, "sanctioned_route", ("icao24:7300f1",), "d", {"route": "A->B"})
    assert title == "A->B by ? (sanctioned_route)"
