"""Every bundled rule, just inside and just outside each of its conditions: HS range,
dates, countries, party status, end use. The cases are generated from the rule files, so
a new rule is tested the moment it is added, and a rule with a condition this generator
does not know fails here until a case is written for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta

import pytest

from watchkeeper.cargo.decide import PartyHit, check_lines
from watchkeeper.cargo.model import Party, ShipmentLine
from watchkeeper.cargo.rules import LineFacts, PartyFact, Rule, load_rules, match_rule

RULE_SET = load_rules()
RULES = list(RULE_SET)
KNOWN_MATCH = {
    "hs",
    "hs_exclude",
    "origin",
    "destination",
    "transit",
    "countries",
    "party_status",
    "party_roles",
    "party_countries",
    "party_programs",
    "end_use",
}
# A country no rule names: the "outside" value for country conditions.
ELSEWHERE = "CH"


def _inside_hs(rule: Rule) -> str | None:
    if not rule.match.hs:
        return None
    return rule.match.hs[0].ljust(6, "0")


def _outside_hs(rule: Rule) -> str:
    """A 6-digit code next to the rule's first range but in none of its ranges."""
    first = rule.match.hs[0]
    for step in range(1, 100):
        for sign in (1, -1):
            n = int(first) + sign * step
            if n <= 0:
                continue
            code = str(n).zfill(len(first)).ljust(6, "0")
            if not any(code.startswith(p) for p in rule.match.hs):
                return code
    raise AssertionError(f"{rule.id}: no HS code outside its ranges")


def _inside_party(rule: Rule) -> PartyFact | None:
    m = rule.match
    if not (m.party_status or m.party_roles or m.party_countries or m.party_programs):
        return None
    return PartyFact(
        role=m.party_roles[0] if m.party_roles else "consignee",
        name="Excepted Test Party",
        country=m.party_countries[0] if m.party_countries else None,
        statuses=frozenset(m.party_status[:1]),
        programs=frozenset(m.party_programs[:1]),
        listed_as=("EXCEPTED TEST PARTY",),
    )


def inside_facts(rule: Rule) -> LineFacts:
    """Facts that meet every condition of ``rule`` (and none of its ``unless``)."""
    m = rule.match
    unknown = {k for k, v in vars(m).items() if v} - KNOWN_MATCH
    assert not unknown, f"{rule.id}: write a boundary case for {unknown}"
    party = _inside_party(rule)
    if party is not None and rule.unless and rule.unless.except_parties:
        # A licence that allows named listed parties: use one of those names.
        party = replace(party, name=rule.unless.except_parties[0].title())
    return LineFacts(
        hs=_inside_hs(rule),
        origin=m.origin[0] if m.origin else (m.countries[0] if m.countries else None),
        destination=m.destination[0] if m.destination else None,
        transit=m.transit[:1],
        parties=(party,) if party else (),
        end_use=m.end_use[0] if m.end_use else "",
    )


def outside_variants(rule: Rule, facts: LineFacts) -> list[tuple[str, LineFacts]]:
    """One variant per condition, each just outside it."""
    m = rule.match
    out: list[tuple[str, LineFacts]] = []
    if m.hs:
        out.append(("hs", replace(facts, hs=_outside_hs(rule))))
    if m.origin:
        out.append(("origin", replace(facts, origin=ELSEWHERE)))
    if m.destination:
        out.append(("destination", replace(facts, destination=ELSEWHERE)))
    if m.transit:
        out.append(("transit", replace(facts, transit=(ELSEWHERE,))))
    if m.countries:
        out.append(("countries", replace(facts, origin=ELSEWHERE, destination=None)))
    if m.end_use:
        out.append(("end_use", replace(facts, end_use="household use")))
    party = facts.parties[0] if facts.parties else None
    if party is not None:
        if m.party_status:
            out.append(
                ("party_status", replace(facts, parties=(replace(party, statuses=frozenset()),)))
            )
        if m.party_countries:
            moved = replace(party, country=ELSEWHERE)
            out.append(("party_countries", replace(facts, parties=(moved,))))
        if m.party_programs:
            other = replace(party, programs=frozenset({"OTHER-PROGRAM"}))
            out.append(("party_programs", replace(facts, parties=(other,))))
        if m.party_roles:
            out.append(("party_roles", replace(facts, parties=(replace(party, role="broker"),))))
    return out


def test_every_rule_cites_its_source() -> None:
    assert len(RULES) >= 30
    for rule in RULES:
        assert rule.citation and rule.quote and rule.url.startswith("https://"), rule.id
        assert rule.program and rule.title, rule.id


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_just_inside_fires(rule: Rule) -> None:
    outcome = match_rule(rule, inside_facts(rule))
    assert outcome.fired, (rule.id, outcome)
    assert outcome.why, rule.id


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_just_outside_each_condition_does_not_fire(rule: Rule) -> None:
    facts = inside_facts(rule)
    variants = outside_variants(rule, facts)
    assert variants, f"{rule.id} matches everything: give it a condition"
    for condition, outside in variants:
        assert not match_rule(rule, outside).fired, (rule.id, condition, outside)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_dates_first_and_last_day_in_force(rule: Rule) -> None:
    assert rule.in_force(rule.valid_from)
    assert not rule.in_force(rule.valid_from - timedelta(days=1))
    if rule.valid_to is not None:
        assert rule.in_force(rule.valid_to)
        assert not rule.in_force(rule.valid_to + timedelta(days=1))


@pytest.mark.parametrize("rule", [r for r in RULES if r.match.hs], ids=lambda r: r.id)
def test_unknown_hs_code_is_undetermined_not_cleared(rule: Rule) -> None:
    outcome = match_rule(rule, replace(inside_facts(rule), hs=None))
    assert not outcome.fired and outcome.needs_hs, rule.id


@pytest.mark.parametrize("rule", [r for r in RULES if r.unless], ids=lambda r: r.id)
def test_general_licence_unless_takes_it_away(rule: Rule) -> None:
    """A general licence is not available when its ``unless`` holds: a party with the
    listed status or programme (not one the licence names), or the barred end use."""
    assert rule.unless is not None
    facts = inside_facts(rule)
    if rule.unless.party_status or rule.unless.party_programs:
        barred = PartyFact(
            role="notify",
            name="Some Other Listed Company",
            country=None,
            statuses=frozenset(rule.unless.party_status[:1]),
            programs=frozenset(rule.unless.party_programs[:1]),
            listed_as=("SOME OTHER LISTED COMPANY",),
        )
        outcome = match_rule(rule, replace(facts, parties=(*facts.parties, barred)))
        assert not outcome.fired and outcome.blocked_by, rule.id
    if rule.unless.end_use:
        outcome = match_rule(rule, replace(facts, end_use=f"for the {rule.unless.end_use[0]}"))
        assert not outcome.fired and outcome.blocked_by, rule.id


# ---- the same boundaries through check_lines (dates come from the line) ----------------


class FakeParties:
    """Screening stand-in: a party named 'Listed ...' is a match with the given
    programme, 'State ...' a state-owned match, anything else is clean."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, name: str, country: str | None) -> Sequence[PartyHit]:
        self.calls += 1
        if name.startswith("Listed"):
            return [PartyHit(f"id-{name}", name.upper(), 0.95, True, "test", ("SDGT",))]
        if name.startswith("State"):
            return [PartyHit(f"id-{name}", name.upper(), 0.95, True, "test", (), ("gov.soe",))]
        return []


def line_for(rule: Rule, on: date) -> ShipmentLine:
    m = rule.match
    parties = [Party("shipper", "Ordinary Exporter Ltd", ELSEWHERE)]
    if "listed" in m.party_status:
        name = (
            rule.unless.except_parties[0].title()
            if rule.unless and rule.unless.except_parties
            else "Listed Trading"
        )
        parties.append(
            Party("consignee", f"Listed {name}" if not name.startswith("Listed") else name, None)
        )
    elif "state_owned" in m.party_status:
        country = m.party_countries[0] if m.party_countries else None
        parties.append(Party("consignee", "State Petroleum Company", country))
    else:
        parties.append(Party("consignee", "Ordinary Importer SA", None))
    hs = _inside_hs(rule)
    return ShipmentLine(
        shipment_id=f"T-{rule.id}",
        line_no=1,
        source_ref="generated:1",
        layout="test",
        parties=tuple(parties),
        goods="test goods",
        hs_code=hs,
        origin_country=m.origin[0] if m.origin else (m.countries[0] if m.countries else ELSEWHERE),
        destination_country=m.destination[0] if m.destination else ELSEWHERE,
        transit_countries=m.transit[:1],
        loading_date=on,
        end_use=m.end_use[0] if m.end_use else "",
    )


CHECKABLE = [
    r
    for r in RULES
    if not r.match.party_programs
    and not r.match.party_roles
    and not r.match.end_use
    and set(r.match.party_status) <= {"listed", "state_owned", ""}
]


@pytest.mark.parametrize("rule", CHECKABLE, ids=lambda r: r.id)
def test_check_lines_fires_on_its_dates_only(rule: Rule) -> None:
    parties = FakeParties()
    days = [rule.valid_from - timedelta(days=1), rule.valid_from]
    if rule.valid_to is not None:
        days += [rule.valid_to, rule.valid_to + timedelta(days=1)]
    decisions = check_lines(
        [line_for(rule, d) for d in days], party_checker=parties, rules=RULE_SET
    )
    fired = [any(f.rule.id == rule.id for f in d.fired) for d in decisions]
    expected = [False, True] + ([True, False] if rule.valid_to is not None else [])
    assert fired == expected, (rule.id, days, fired)
