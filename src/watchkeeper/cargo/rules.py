"""Cargo rules as data: one TOML file per program under ``cargo/rules/``, each rule with
its legal citation, the regulation's own words, a public URL, what it matches, its effect
and the dates it is in force.

``load_rules()`` reads and checks them (a bad file raises ``InputError`` naming the file,
the rule and the field; nothing is half-loaded). ``match_rule(rule, facts)`` says whether
a rule fires on one shipment line's facts, and why, in words.

A rule's ``match`` conditions all have to hold (AND); a list in a condition is a choice
(OR). ``hs`` entries are prefixes of the 6-digit HS core (chapter ``27``, heading
``2710``, subheading ``271012``). A general licence (effect
``authorized_by_general_license``) sets aside the rules it ``authorizes`` when it fires;
its ``unless`` conditions say when it is not available (a listed party, a military end
user).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, get_args

from watchkeeper.cargo.model import Effect
from watchkeeper.errors import InputError

RULES_DIR = Path(__file__).with_name("rules")

PARTY_STATUSES = (
    "listed",
    "possible_match",
    "blocked_by_ownership",
    "possibly_blocked_by_ownership",
    "state_owned",
)
EFFECTS: tuple[str, ...] = get_args(Effect)

_RULE_KEYS = {
    "id",
    "program",
    "title",
    "citation",
    "quote",
    "url",
    "effect",
    "valid_from",
    "valid_to",
    "licensable",
    "authorizes",
    "conditions",
    "judgement",
    "match",
    "unless",
}
_MATCH_KEYS = {
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
_UNLESS_KEYS = {"party_status", "party_programs", "except_parties", "end_use"}
_REQUIRED = ("id", "program", "citation", "quote", "url", "effect", "valid_from")


@dataclass(frozen=True)
class RuleMatch:
    """What a rule matches. An empty tuple means: any."""

    hs: tuple[str, ...] = ()
    hs_exclude: tuple[str, ...] = ()
    origin: tuple[str, ...] = ()
    destination: tuple[str, ...] = ()
    transit: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # origin, destination or transit
    party_status: tuple[str, ...] = ()
    party_roles: tuple[str, ...] = ()
    party_countries: tuple[str, ...] = ()
    party_programs: tuple[str, ...] = ()  # a listed party's list programme (SDGT, IRAN...)
    end_use: tuple[str, ...] = ()  # words in the declared end use


@dataclass(frozen=True)
class RuleUnless:
    """When a general licence is not available: a party with one of these statuses or
    list programmes (other than the ``except_parties``), or one of these end uses."""

    party_status: tuple[str, ...] = ()
    party_programs: tuple[str, ...] = ()
    except_parties: tuple[str, ...] = ()  # lower-case words of names the licence allows
    end_use: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    program: str
    title: str
    citation: str
    quote: str
    url: str
    effect: Effect
    valid_from: date
    valid_to: date | None  # last day in force (inclusive); None: still in force
    match: RuleMatch
    unless: RuleUnless | None = None
    licensable: bool = False  # a specific licence (OFAC, UN committee) can authorise it
    authorizes: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    judgement: str = ""
    source: str = ""  # "iran.toml"

    def in_force(self, on: date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "program": self.program,
            "title": self.title,
            "citation": self.citation,
            "quote": self.quote,
            "url": self.url,
            "effect": self.effect,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "licensable": self.licensable,
            "authorizes": list(self.authorizes),
            "conditions": list(self.conditions),
            "judgement": self.judgement,
            "source": self.source,
        }


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def get(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def in_force(self, on: date) -> list[Rule]:
        return [r for r in self.rules if r.in_force(on)]


# ---- the facts a rule is matched against ----------------------------------------------


@dataclass(frozen=True)
class PartyFact:
    """One party of a line with what screening and the ownership graph said."""

    role: str
    name: str
    country: str | None
    statuses: frozenset[str]
    programs: frozenset[str] = frozenset()
    listed_as: tuple[str, ...] = ()  # captions of the listed entities it matched


@dataclass(frozen=True)
class LineFacts:
    """A shipment line reduced to what rules read."""

    hs: str | None  # digits, the 6-digit core or longer; None: unknown
    origin: str | None
    destination: str | None
    transit: tuple[str, ...]
    parties: tuple[PartyFact, ...]
    end_use: str

    # Every status and list programme any party has: a quick no for party rules.
    party_statuses: frozenset[str] = field(init=False, compare=False, repr=False)
    party_programs: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        statuses: frozenset[str] = frozenset().union(*(p.statuses for p in self.parties))
        programs: frozenset[str] = frozenset().union(*(p.programs for p in self.parties))
        object.__setattr__(self, "party_statuses", statuses)
        object.__setattr__(self, "party_programs", programs)

    def countries(self) -> set[str]:
        out = set(self.transit)
        for c in (self.origin, self.destination):
            if c:
                out.add(c)
        return out


@dataclass(frozen=True)
class RuleOutcome:
    """``fired``: every condition holds. ``needs_hs``: every condition but the goods holds
    and the HS code is unknown. ``blocked_by``: a general licence whose conditions fail."""

    rule: Rule
    fired: bool
    why: tuple[str, ...] = ()
    needs_hs: bool = False
    blocked_by: tuple[str, ...] = field(default_factory=tuple)


def _hs_in(code: str, prefixes: Sequence[str]) -> str | None:
    for p in prefixes:
        if code.startswith(p):
            return p
    return None


def _words_in(text: str, words: Sequence[str]) -> str | None:
    """The first of ``words`` (lower case) that appears in ``text`` as whole words."""
    low = text.lower()
    for w in words:
        if re.search(rf"\b{re.escape(w)}\b", low):
            return w
    return None


def _party_statuses(party: PartyFact) -> frozenset[str]:
    return party.statuses


_NOT_FIRED: dict[str, RuleOutcome] = {}


def not_fired(rule: Rule) -> RuleOutcome:
    """The one outcome object of a rule that does not fire (no reasons)."""
    found = _NOT_FIRED.get(rule.id)
    if found is None or found.rule is not rule:
        found = _NOT_FIRED[rule.id] = RuleOutcome(rule, False)
    return found


def rejects_route(m: RuleMatch, facts: LineFacts) -> bool:
    """A no on the route and the HS code alone: ``match_rule`` then gives
    ``not_fired``. Depends on the facts' origin, destination, transit and HS code only."""
    if m.origin and facts.origin not in m.origin:
        return True
    if m.destination and facts.destination not in m.destination:
        return True
    if m.countries and not (
        facts.origin in m.countries
        or facts.destination in m.countries
        or any(c in m.countries for c in facts.transit)
    ):
        return True
    if m.transit and not any(c in m.transit for c in facts.transit):
        return True
    return bool(m.hs and facts.hs is not None and not facts.hs.startswith(m.hs))


def _rejects(m: RuleMatch, facts: LineFacts) -> bool:
    """A quick no on the route, goods and parties' statuses, before any reason is put
    in words (most rules do not fire on most lines)."""
    if rejects_route(m, facts):
        return True
    if m.party_status and facts.party_statuses.isdisjoint(m.party_status):
        return True
    return bool(m.party_programs and facts.party_programs.isdisjoint(m.party_programs))


def match_rule(rule: Rule, facts: LineFacts) -> RuleOutcome:
    """Whether ``rule`` fires on ``facts`` (dates are checked by the caller), with the
    reasons in words: ``("HS 271012 in 2710", "destination VE")``."""
    m = rule.match
    why: list[str] = []

    def no() -> RuleOutcome:
        return not_fired(rule)

    if _rejects(m, facts):
        return no()

    if m.origin:
        if facts.origin not in m.origin:
            return no()
        why.append(f"origin {facts.origin}")
    if m.destination:
        if facts.destination not in m.destination:
            return no()
        why.append(f"destination {facts.destination}")
    if m.transit:
        hit = [c for c in facts.transit if c in m.transit]
        if not hit:
            return no()
        why.append(f"transit {', '.join(hit)}")
    if m.countries:
        hit = sorted(facts.countries() & set(m.countries))
        if not hit:
            return no()
        why.append(f"route touches {', '.join(hit)}")
    if m.end_use:
        word = _words_in(facts.end_use, m.end_use)
        if word is None:
            return no()
        why.append(f"end use {facts.end_use!r} ({word})")
    if m.party_status or m.party_roles or m.party_countries or m.party_programs:
        matched = []
        for p in facts.parties:
            if m.party_roles and p.role not in m.party_roles:
                continue
            if m.party_countries and p.country not in m.party_countries:
                continue
            statuses = _party_statuses(p)
            if m.party_status and not statuses.intersection(m.party_status):
                continue
            if m.party_programs and not p.programs.intersection(m.party_programs):
                continue
            matched.append(p)
        if not matched:
            return no()
        for p in matched:
            status = ", ".join(sorted(_party_statuses(p).intersection(m.party_status)))
            listed = f" as {'; '.join(p.listed_as)}" if p.listed_as else ""
            why.append(f"{p.role} {p.name!r} {status or 'matches'}{listed}".strip())
    if m.hs or m.hs_exclude:
        if facts.hs is None:
            if not m.hs:
                pass  # only an exclusion: an unknown code is not excluded
            else:
                return RuleOutcome(rule, False, tuple(why), needs_hs=True)
        else:
            if m.hs_exclude and _hs_in(facts.hs, m.hs_exclude):
                return no()
            if m.hs:
                prefix = _hs_in(facts.hs, m.hs)
                if prefix is None:
                    return no()
                why.insert(0, f"HS {facts.hs} in {prefix}")
    blocked = _unless(rule, facts)
    if blocked:
        return RuleOutcome(rule, False, tuple(why), blocked_by=tuple(blocked))
    return RuleOutcome(rule, True, tuple(why))


def _unless(rule: Rule, facts: LineFacts) -> list[str]:
    u = rule.unless
    if u is None:
        return []
    reasons: list[str] = []
    for p in facts.parties:
        name = p.name.lower()
        excepted = any(
            e in name or any(e in c.lower() for c in p.listed_as) for e in u.except_parties
        )
        if excepted:
            continue
        status = p.statuses.intersection(u.party_status)
        programs = p.programs.intersection(u.party_programs)
        if status or programs:
            what = ", ".join(sorted(status | {f"[{x}]" for x in programs}))
            listed = f" as {'; '.join(p.listed_as)}" if p.listed_as else ""
            reasons.append(f"{p.role} {p.name!r} is {what}{listed}")
    if u.end_use:
        word = _words_in(facts.end_use, u.end_use)
        if word is not None:
            reasons.append(f"end use {facts.end_use!r} ({word})")
    return reasons


# ---- loading ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def bundled_rules() -> RuleSet:
    """The bundled rules, read once per process."""
    return load_rules()


def load_rules(paths: Iterable[Path] | None = None) -> RuleSet:
    """Every rule in ``paths`` (default: the bundled ``cargo/rules/*.toml``), checked:
    unique ids, known effects and statuses, ISO country codes, HS prefixes of 2, 4 or 6
    digits, ``valid_from <= valid_to``, ``authorizes`` naming existing rules."""
    files = sorted(RULES_DIR.glob("*.toml")) if paths is None else [Path(p) for p in paths]
    if not files:
        raise InputError(str(RULES_DIR), "no rule files (*.toml)")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in files:
        try:
            with path.open("rb") as fh:
                doc = tomllib.load(fh)
        except OSError as exc:
            raise InputError(path, f"cannot read: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path, f"not valid TOML: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise InputError(path, f"not UTF-8 text: {exc.reason}") from exc
        entries = doc.get("rule")
        extra = set(doc) - {"rule"}
        if extra:
            raise InputError(path, f"unknown top-level key(s) {sorted(extra)}", field=min(extra))
        if not isinstance(entries, list) or not entries:
            raise InputError(path, "no [[rule]] tables", field="rule")
        for i, raw in enumerate(entries, 1):
            rule = _parse_rule(path, i, raw)
            if rule.id in seen:
                raise InputError(
                    path, f"rule id {rule.id!r} is also in {seen[rule.id]}", field=f"rule[{i}].id"
                )
            seen[rule.id] = path.name
            rules.append(rule)
    ids = {r.id for r in rules}
    for r in rules:
        for target in r.authorizes:
            if target not in ids:
                raise InputError(
                    r.source,
                    f"rule {r.id!r} authorizes unknown rule {target!r}",
                    field=f"{r.id}.authorizes",
                )
    return RuleSet(tuple(rules))


def _parse_rule(path: Path, index: int, raw: Any) -> Rule:
    where = f"rule[{index}]"
    if not isinstance(raw, dict):
        raise InputError(path, "a rule must be a table", field=where)
    rid = raw.get("id")
    if isinstance(rid, str) and rid:
        where = f"rule[{index}] {rid}"
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise InputError(path, f"unknown key(s) {sorted(unknown)}", field=f"{where}.{min(unknown)}")
    for key in _REQUIRED:
        if key not in raw:
            raise InputError(path, "missing", field=f"{where}.{key}")
    for key in ("id", "program", "citation", "quote", "url", "effect"):
        _text(path, where, key, raw[key])
    for key in ("title", "judgement"):
        if key in raw:
            _text(path, where, key, raw[key], empty_ok=True)
    url = raw["url"]
    if not url.startswith("https://"):
        raise InputError(path, f"url {url!r} is not an https:// address", field=f"{where}.url")
    effect = raw["effect"]
    if effect not in EFFECTS:
        raise InputError(
            path,
            f"unknown effect {effect!r} (one of {', '.join(EFFECTS)})",
            field=f"{where}.effect",
        )
    valid_from = _date(path, where, "valid_from", raw["valid_from"])
    valid_to = _date(path, where, "valid_to", raw["valid_to"]) if "valid_to" in raw else None
    if valid_to is not None and valid_to < valid_from:
        raise InputError(
            path,
            f"valid_to {valid_to} is before valid_from {valid_from}",
            field=f"{where}.valid_to",
        )
    licensable = raw.get("licensable", False)
    if not isinstance(licensable, bool):
        raise InputError(path, "must be true or false", field=f"{where}.licensable")
    authorizes = _strings(path, where, "authorizes", raw.get("authorizes", []))
    conditions = _strings(path, where, "conditions", raw.get("conditions", []))
    if authorizes and effect != "authorized_by_general_license":
        raise InputError(
            path, "only a general licence authorizes other rules", field=f"{where}.authorizes"
        )
    match = _parse_match(path, where, raw.get("match", {}))
    unless = _parse_unless(path, where, raw["unless"]) if "unless" in raw else None
    return Rule(
        id=raw["id"],
        program=raw["program"],
        title=raw.get("title", ""),
        citation=raw["citation"],
        quote=raw["quote"],
        url=url,
        effect=effect,
        valid_from=valid_from,
        valid_to=valid_to,
        match=match,
        unless=unless,
        licensable=licensable,
        authorizes=authorizes,
        conditions=conditions,
        judgement=raw.get("judgement", ""),
        source=path.name,
    )


def _parse_match(path: Path, where: str, raw: Any) -> RuleMatch:
    if not isinstance(raw, dict):
        raise InputError(path, "must be a table", field=f"{where}.match")
    unknown = set(raw) - _MATCH_KEYS
    if unknown:
        raise InputError(
            path, f"unknown key(s) {sorted(unknown)}", field=f"{where}.match.{min(unknown)}"
        )
    values = {k: _strings(path, f"{where}.match", k, v) for k, v in raw.items()}
    for key in ("hs", "hs_exclude"):
        for code in values.get(key, ()):
            if not (code.isascii() and code.isdigit() and len(code) in (2, 4, 6)):
                raise InputError(
                    path,
                    f"HS prefix {code!r} must be 2, 4 or 6 digits",
                    field=f"{where}.match.{key}",
                )
    for key in ("origin", "destination", "transit", "countries", "party_countries"):
        _countries(path, f"{where}.match.{key}", values.get(key, ()))
    for status in values.get("party_status", ()):
        if status not in PARTY_STATUSES:
            raise InputError(
                path,
                f"unknown party status {status!r} (one of {', '.join(PARTY_STATUSES)})",
                field=f"{where}.match.party_status",
            )
    values["end_use"] = tuple(w.lower() for w in values.get("end_use", ()))
    return RuleMatch(**values)


def _parse_unless(path: Path, where: str, raw: Any) -> RuleUnless:
    if not isinstance(raw, dict):
        raise InputError(path, "must be a table", field=f"{where}.unless")
    unknown = set(raw) - _UNLESS_KEYS
    if unknown:
        raise InputError(
            path, f"unknown key(s) {sorted(unknown)}", field=f"{where}.unless.{min(unknown)}"
        )
    values = {k: _strings(path, f"{where}.unless", k, v) for k, v in raw.items()}
    for status in values.get("party_status", ()):
        if status not in PARTY_STATUSES:
            raise InputError(
                path, f"unknown party status {status!r}", field=f"{where}.unless.party_status"
            )
    values["except_parties"] = tuple(w.lower() for w in values.get("except_parties", ()))
    values["end_use"] = tuple(w.lower() for w in values.get("end_use", ()))
    return RuleUnless(**values)


def _text(path: Path, where: str, key: str, value: Any, *, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not empty_ok and not value.strip()):
        raise InputError(path, "must be a non-empty string", field=f"{where}.{key}")
    return value


def _strings(path: Path, where: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(path, "must be a list of non-empty strings", field=f"{where}.{key}")
    return tuple(value)


def _date(path: Path, where: str, key: str, value: Any) -> date:
    # TOML dates arrive as datetime.date; a datetime or a string is refused.
    if type(value) is not date:
        raise InputError(
            path, f"{value!r} is not a date (write 2020-02-27, unquoted)", field=f"{where}.{key}"
        )
    return value


def _countries(path: Path, field_name: str, codes: Sequence[str]) -> None:
    for code in codes:
        if not (len(code) == 2 and code.isascii() and code.isalpha() and code.isupper()):
            raise InputError(
                path, f"{code!r} is not an ISO 3166-1 alpha-2 code (e.g. 'IR')", field=field_name
            )
