"""Decisions: for each shipment line, which rules in force on its date fire, the
strongest effect among them, the parties' screening results and ownership exposure, and
what would change the answer.

``check_lines(lines, hs_check=..., party_checker=...)`` is the one entry point; the HS
check, party screening and ownership exposure are passed in (cli and api build them from
``cargo.hs``, the ``screening.Screener`` and the ownership graph), so this module imports
no sibling of its row. ``cargo_events(decisions)`` turns decisions into the events
``prohibited_cargo``, ``humanitarian_cargo`` and ``cargo_license_required``, each citing
the shipment line (``cargo:<line_id>``) as evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from watchkeeper.cargo.model import EFFECT_ORDER, Effect, Party, ShipmentLine
from watchkeeper.cargo.rules import (
    LineFacts,
    PartyFact,
    Rule,
    RuleOutcome,
    RuleSet,
    bundled_rules,
    match_rule,
    not_fired,
    rejects_route,
)
from watchkeeper.errors import InputError
from watchkeeper.events.model import Event

if TYPE_CHECKING:
    from watchkeeper.screening import Screener
    from watchkeeper.store import Store

EVENT_TYPES = ("prohibited_cargo", "humanitarian_cargo", "cargo_license_required")
# List topics (FollowTheMoney) that mean a state-owned or government party.
STATE_TOPICS = frozenset({"gov.soe", "gov", "gov.national"})


# ---- what is passed in -----------------------------------------------------------------


@dataclass(frozen=True)
class HsVerdict:
    """What the HS check says about a line's goods. ``code`` is what rules read (digits,
    at least the 6-digit core); ``None`` when no code is declared and none could be
    proposed with confidence."""

    code: str | None
    status: str  # "valid", "missing", "invalid", "mismatch", "proposed", "declared"
    detail: str = ""
    confidence: float = 1.0
    proposed: tuple[tuple[str, float], ...] = ()
    read_as: str | None = None  # what the description reads as, when it is clear

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "read_as": self.read_as,
            "status": self.status,
            "detail": self.detail,
            "confidence": round(self.confidence, 3),
            "proposed": [{"code": c, "confidence": round(s, 3)} for c, s in self.proposed],
        }


class HsCheck(Protocol):
    def __call__(self, code: str | None, description: str) -> HsVerdict: ...


def declared_hs(code: str | None, description: str) -> HsVerdict:
    """The HS check to use when no nomenclature is at hand: trust the declared digits."""
    if code and code.isascii() and code.isdigit() and len(code) >= 6:
        return HsVerdict(code, "declared", "declared code, not checked against HS 2022")
    if code:
        return HsVerdict(None, "invalid", f"declared HS code {code!r} is not 6-10 digits")
    return HsVerdict(None, "missing", "no HS code declared")


def verdict_from_hs_check(check: Any, *, min_confidence: float = 0.5) -> HsVerdict:
    """An HS verdict from ``cargo.hs.check_hs``'s result: a valid declared code is read as
    declared; a missing or invalid one is replaced by the top proposed heading when its
    confidence is at least ``min_confidence`` or a trade synonym decided it ("gasoline");
    weaker proposals are only listed (the rules that need the code stay undetermined).
    A code that does not fit its description stays the declared one, with what the
    description reads as beside it (``mismatch``)."""
    proposed = tuple((p.code, float(p.confidence)) for p in check.proposals)
    top = check.proposals[0] if check.proposals else None
    by_synonym = top is not None and any(w.startswith("synonym:") for w in top.words)
    clear = top is not None and (top.confidence >= min_confidence or by_synonym)
    read_as = top.code if top is not None and clear else None
    if check.declared and check.valid:
        if check.fits is False:
            return HsVerdict(check.core, "mismatch", check.detail, 1.0, proposed, read_as)
        return HsVerdict(check.core, "valid", check.detail, 1.0, proposed)
    status = "invalid" if check.declared else "missing"
    if top is not None and clear:
        why = ", ".join(top.words)
        return HsVerdict(
            top.code,
            "proposed",
            f"{check.detail}; read as {top.code} {top.text[:60]!r} from: {why}",
            float(top.confidence),
            proposed,
            top.code,
        )
    detail = check.detail
    if top is not None:
        detail += f"; weak proposal {top.code} from: {', '.join(top.words)}"
    return HsVerdict(None, status, detail, 0.0, proposed)


def nomenclature_hs_check(code: str | None, description: str) -> HsVerdict:
    """The HS check against the bundled HS 2022 nomenclature (``cargo.hs``)."""
    from watchkeeper.cargo.hs import check_hs

    return verdict_from_hs_check(check_hs(code, description))


@dataclass(frozen=True)
class PartyHit:
    """A listed entity a party's name matched (``match``) or came close to."""

    entity_id: str
    caption: str
    score: float
    match: bool
    source: str = ""  # list(s) the entity is on: "ofac_sdn"
    programs: tuple[str, ...] = ()  # "SDGT", "IRAN", "VENEZUELA-EO13850"
    topics: tuple[str, ...] = ()
    detail: str = ""
    namesake: bool = False  # same name, another identifier (IMO): not this party
    kind: str = "list"  # "list": a list entry; "graph": an ownership-graph party

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity_id": self.entity_id,
            "namesake": self.namesake,
            "kind": self.kind,
            "caption": self.caption,
            "score": round(self.score, 4),
            "match": self.match,
            "source": self.source,
            "programs": list(self.programs),
            "topics": list(self.topics),
            "detail": self.detail,
        }


class PartyChecker(Protocol):
    """Screens a party by name and country (ISO alpha-2 or None)."""

    def __call__(self, name: str, country: str | None) -> Sequence[PartyHit]: ...


class Exposure(Protocol):
    """What the ownership graph says about a party: ``status`` is
    ``blocked_by_ownership``, ``possibly_blocked_by_ownership``, ``state_owned``,
    ``listed`` or ``clear``; ``chain`` the ownership path in words."""

    @property
    def status(self) -> str: ...

    @property
    def chain(self) -> str: ...


class ExposureChecker(Protocol):
    def __call__(self, entity_id: str) -> Exposure | None: ...


def with_graph_parties(
    screen: Callable[[str, str | None], Sequence[PartyHit]],
    exposed_party: Callable[[str], tuple[str, str] | None],
) -> Callable[[str, str | None], Sequence[PartyHit]]:
    """A party check that adds the ownership-graph party named exactly like the party
    (``exposed_party`` gives its node id and name, when exposed) as a ``graph`` hit
    when no list entry matches: a subsidiary no list names is still looked up."""

    def party_and_graph(name: str, country: str | None) -> Sequence[PartyHit]:
        hits = list(screen(name, country))
        if not any(h.match for h in hits):
            found = exposed_party(name)
            if found is not None:
                hits.append(PartyHit(found[0], found[1], 1.0, False, "graph", kind="graph"))
        return hits

    return party_and_graph


# ---- what comes out --------------------------------------------------------------------


@dataclass(frozen=True)
class PartyResult:
    role: str
    name: str
    country: str | None
    hits: tuple[PartyHit, ...]
    statuses: tuple[str, ...]
    exposure: tuple[tuple[str, str, str], ...] = ()  # (entity_id, status, chain)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "name": self.name,
            "country": self.country,
            "statuses": list(self.statuses),
            "hits": [h.to_dict() for h in self.hits],
            "exposure": [{"entity_id": e, "status": s, "chain": c} for e, s, c in self.exposure],
            "note": self.note,
        }


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired on the line: why, and whether a general licence set it aside."""

    rule: Rule
    why: tuple[str, ...]
    set_aside_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule.id,
            "program": self.rule.program,
            "title": self.rule.title,
            "effect": self.rule.effect,
            "citation": self.rule.citation,
            "quote": self.rule.quote,
            "url": self.rule.url,
            "why": list(self.why),
            "set_aside_by": self.set_aside_by,
            "conditions": list(self.rule.conditions),
            "judgement": self.rule.judgement,
        }


@dataclass(frozen=True)
class LineDecision:
    line: ShipmentLine
    decision: Effect
    judged_on: date
    hs: HsVerdict
    fired: tuple[FiredRule, ...]
    parties: tuple[PartyResult, ...]
    what_would_change: tuple[str, ...]
    not_available: tuple[tuple[str, str], ...] = ()  # (general licence id, why not)
    undetermined: tuple[str, ...] = ()  # rule ids that need the HS code

    @property
    def line_id(self) -> str:
        return self.line.line_id

    def to_dict(self) -> dict[str, Any]:
        ln = self.line
        return {
            "line_id": ln.line_id,
            "shipment_id": ln.shipment_id,
            "line_no": ln.line_no,
            "source_ref": ln.source_ref,
            "goods": ln.goods,
            "decision": self.decision,
            "judged_on": self.judged_on.isoformat(),
            "hs": self.hs.to_dict(),
            "route": {
                "origin": ln.origin_country,
                "destination": ln.destination_country,
                "transit": list(ln.transit_countries),
                "port_of_loading": ln.port_of_loading,
                "port_of_discharge": ln.port_of_discharge,
            },
            "rules": [f.to_dict() for f in self.fired],
            "general_licences_not_available": [
                {"id": rid, "why": why} for rid, why in self.not_available
            ],
            "undetermined_rules": list(self.undetermined),
            "parties": [p.to_dict() for p in self.parties],
            "what_would_change": list(self.what_would_change),
        }


# ---- the check ------------------------------------------------------------------------


def check_lines(
    lines: Iterable[ShipmentLine],
    *,
    hs_check: HsCheck | Callable[[str | None, str], HsVerdict] = declared_hs,
    party_checker: PartyChecker | Callable[[str, str | None], Sequence[PartyHit]],
    exposure_checker: ExposureChecker | Callable[[str], Exposure | None] | None = None,
    rules: RuleSet | None = None,
    vessel_checker: Callable[[str, str | None], Sequence[PartyHit]] | None = None,
    today: date | None = None,
) -> list[LineDecision]:
    """Decide every line. Screening results are cached by (name, country) and exposure
    by entity id for the whole call: real manifests repeat their parties. A line with no
    date is judged by the rules in force ``today`` (UTC) and says so."""
    decider = LineDecider(
        hs_check=hs_check,
        party_checker=party_checker,
        exposure_checker=exposure_checker,
        rules=rules,
        vessel_checker=vessel_checker,
        today=today,
    )
    return [decider.decide(line) for line in lines]


class LineDecider:
    """``check_lines`` one line at a time, with its caches (screening by name and
    country, exposure by entity id, HS checks by code and description, rules in force
    by date, decisions by their inputs) kept across calls. ``cargo.bulk`` uses its
    parts to decide stored lines a group at a time."""

    def __init__(
        self,
        *,
        hs_check: HsCheck | Callable[[str | None, str], HsVerdict] = declared_hs,
        party_checker: PartyChecker | Callable[[str, str | None], Sequence[PartyHit]],
        exposure_checker: ExposureChecker | Callable[[str], Exposure | None] | None = None,
        rules: RuleSet | None = None,
        vessel_checker: Callable[[str, str | None], Sequence[PartyHit]] | None = None,
        today: date | None = None,
    ) -> None:
        self.ruleset = rules if rules is not None else bundled_rules()
        self.today = today or datetime.now(UTC).date()
        self.hs_check = hs_check
        self.party_checker = party_checker
        self.vessel_checker = vessel_checker
        self.exposure_checker = exposure_checker
        self._screened: dict[tuple[str, str | None], tuple[tuple[PartyHit, ...], str]] = {}
        self._exposed: dict[str, Exposure | None] = {}
        self._hs_cache: dict[tuple[str | None, str], HsVerdict] = {}
        self._in_force: dict[date, list[Rule]] = {}
        self._rules_key: dict[date, tuple[int, ...]] = {}
        self._decided: dict[tuple[Any, ...], LineDecision] = {}
        self._party_results: dict[tuple[str, str, str, str | None], PartyResult] = {}
        self._routes: RouteCache = {}
        # A party no list or graph says anything of ("clean") reaches a decision only as
        # its role and country, unless a rule matches parties by role or country alone
        # (then its name can appear in the rule's reasons): decisions are shared by
        # lines that differ only in such parties, their date within the same rules in
        # force.
        self.names_matter = any(
            (r.match.party_roles or r.match.party_countries)
            and not (r.match.party_status or r.match.party_programs)
            for r in self.ruleset
        )

    def _screen(
        self,
        kind: str,
        checker: Callable[[str, str | None], Sequence[PartyHit]],
        name: str,
        key2: str | None,
    ) -> tuple[tuple[PartyHit, ...], str]:
        key = (f"{kind}|{' '.join(name.casefold().split())}", key2)
        if key not in self._screened:
            try:
                self._screened[key] = (tuple(checker(name, key2)), "")
            except InputError as exc:
                self._screened[key] = ((), f"not screened: {exc.message}")
        return self._screened[key]

    def _exposure(self, entity_id: str) -> Exposure | None:
        if self.exposure_checker is None:
            return None
        if entity_id not in self._exposed:
            self._exposed[entity_id] = self.exposure_checker(entity_id)
        return self._exposed[entity_id]

    def party_result(self, kind: str, party: Party, key2: str | None) -> PartyResult:
        """A party's (``kind`` "party") or vessel's (``kind`` "vessel", ``key2`` its
        IMO number) screening and exposure."""
        pkey = (kind, party.role, party.name, key2)
        found = self._party_results.get(pkey)
        if found is None:
            checker = self.party_checker if kind == "party" else self.vessel_checker
            assert checker is not None
            hits, note = self._screen(kind, checker, party.name, key2)
            found = self._party_results[pkey] = _party_result(party, hits, note, self._exposure)
        return found

    def parties_of(self, line: ShipmentLine) -> list[PartyResult]:
        """The line's parties (its end user among them) screened, then its vessel."""
        parties = [self.party_result("party", p, p.country) for p in _parties_of(line)]
        if self.vessel_checker is not None and line.vessel_name:
            vessel = Party("vessel", line.vessel_name, None)
            parties.append(self.party_result("vessel", vessel, line.vessel_imo))
        return parties

    def verdict(self, code: str | None, goods: str) -> HsVerdict:
        hs_key = (code, goods)
        verdict = self._hs_cache.get(hs_key)
        if verdict is None:
            verdict = self._hs_cache[hs_key] = self.hs_check(code, goods)
        return verdict

    def in_force(self, judged_on: date) -> tuple[tuple[int, ...], list[Rule]]:
        """The rules in force on a day, and a key equal for days with the same rules."""
        in_force_key = self._rules_key.get(judged_on)
        if in_force_key is None:
            if judged_on not in self._in_force:
                self._in_force[judged_on] = self.ruleset.in_force(judged_on)
            in_force_key = tuple(id(r) for r in self._in_force[judged_on])
            self._rules_key[judged_on] = in_force_key
        return in_force_key, self._in_force[judged_on]

    def clean(self, p: PartyResult) -> bool:
        """A party that reaches a decision only as its role and country."""
        return not (self.names_matter or p.statuses or p.note or p.exposure)

    def decide(
        self, line: ShipmentLine, parties: Sequence[PartyResult] | None = None
    ) -> LineDecision:
        """One line's decision (``parties``: its ``parties_of``, when already known)."""
        verdict = self.verdict(line.hs_code, line.goods)
        if parties is None:
            parties = self.parties_of(line)
        judged_on = line.judged_on or self.today
        in_force_key, in_force = self.in_force(judged_on)
        # Real manifests repeat whole lines (same goods, route, parties, rules): a line
        # whose decision inputs were seen before takes that decision.
        key = (
            verdict,
            line.origin_country or _country_of_port(line.port_of_loading),
            line.destination_country or _country_of_port(line.port_of_discharge),
            line.transit_countries,
            line.end_use,
            in_force_key,
            line.judged_on is None,
            line.license_number,
            bool(line.end_user or line.parties_in("end_user")),
            bool(line.parties_in("consignee")),
            tuple((p.role, p.country) if self.clean(p) else p for p in parties),
        )
        seen = self._decided.get(key)
        if seen is None:
            facts = _facts(line, verdict, parties)
            seen = _decide(line, verdict, tuple(parties), facts, in_force, self.today, self._routes)
            self._decided[key] = seen
        if seen.line is not line:
            seen = replace(seen, line=line, judged_on=judged_on, parties=tuple(parties))
        return seen


def _parties_of(line: ShipmentLine) -> list[Party]:
    parties = [p for p in line.parties if p.name.strip()]
    if line.end_user and not any(p.role == "end_user" for p in parties):
        parties.append(Party("end_user", line.end_user, line.destination_country))
    return parties


def _party_result(
    party: Party,
    hits: tuple[PartyHit, ...],
    note: str,
    exposure: Callable[[str], Exposure | None],
) -> PartyResult:
    statuses: set[str] = set()
    exposures = []
    for hit in hits:
        if hit.namesake:
            continue
        if hit.kind == "list":
            statuses.add("listed" if hit.match else "possible_match")
            if STATE_TOPICS.intersection(hit.topics):
                statuses.add("state_owned")
            if not hit.match:
                continue
        found = exposure(hit.entity_id)
        if found is not None and found.status != "clear":
            statuses.add(found.status)
            exposures.append((hit.entity_id, found.status, found.chain))
    if "listed" in statuses:
        statuses.discard("possible_match")
    return PartyResult(
        role=party.role,
        name=party.name,
        country=party.country,
        hits=hits,
        statuses=tuple(sorted(statuses)),
        exposure=tuple(exposures),
        note=note,
    )


def _country_of_port(port: str | None) -> str | None:
    """The country of a UN/LOCODE (``VEPBL`` -> ``VE``); None for a port written out."""
    if port and len(port) == 5 and port.isascii() and port.isalnum() and port[:2].isalpha():
        return port[:2].upper()
    return None


def _facts(line: ShipmentLine, verdict: HsVerdict, parties: Sequence[PartyResult]) -> LineFacts:
    party_facts = []
    for p in parties:
        matched = [h for h in p.hits if h.match]
        party_facts.append(
            PartyFact(
                role=p.role,
                name=p.name,
                country=p.country,
                statuses=frozenset(p.statuses),
                programs=frozenset(x for h in matched for x in h.programs),
                listed_as=tuple(h.caption for h in matched),
            )
        )
    return LineFacts(
        hs=verdict.code,
        origin=line.origin_country or _country_of_port(line.port_of_loading),
        destination=line.destination_country or _country_of_port(line.port_of_discharge),
        transit=line.transit_countries,
        parties=tuple(party_facts),
        end_use=line.end_use,
    )


_RANK = {e: i for i, e in enumerate(EFFECT_ORDER)}


def _rank(effect: Effect) -> int:
    """0 for the strongest effect (prohibited)."""
    return _RANK[effect]


def _strongest(effects: Iterable[Effect]) -> Effect:
    return min(effects, key=_rank, default="allowed")


# Per rules-in-force list (by id, the lists a LineDecider keeps alive) and route and
# HS code: which rules the route and code alone do not rule out.
RouteCache = dict[tuple[Any, ...], tuple[bool, ...]]


def _evaluate(
    in_force: Sequence[Rule], facts: LineFacts, routes: RouteCache | None = None
) -> tuple[list[RuleOutcome], tuple[FiredRule, ...], Effect]:
    """Every rule's outcome, the rules that fired (with the general licence that set
    each aside, if any) and the strongest effect still standing. ``routes`` remembers
    which rules the route and HS code rule out (their outcome is ``not_fired``)."""
    if routes is None:
        outcomes = [match_rule(r, facts) for r in in_force]
    else:
        key = (id(in_force), facts.origin, facts.destination, facts.transit, facts.hs)
        live = routes.get(key)
        if live is None:
            live = routes[key] = tuple(not rejects_route(r.match, facts) for r in in_force)
        outcomes = [
            match_rule(r, facts) if ok else not_fired(r)
            for r, ok in zip(in_force, live, strict=True)
        ]
    fired = [o for o in outcomes if o.fired]
    set_aside: dict[str, str] = {}
    for gl in fired:
        if gl.rule.effect == "authorized_by_general_license":
            for target in gl.rule.authorizes:
                set_aside.setdefault(target, gl.rule.id)
    fired_rules = tuple(FiredRule(o.rule, o.why, set_aside.get(o.rule.id)) for o in fired)
    decision = _strongest(f.rule.effect for f in fired_rules if f.set_aside_by is None)
    return outcomes, fired_rules, decision


def _decide(
    line: ShipmentLine,
    verdict: HsVerdict,
    parties: tuple[PartyResult, ...],
    facts: LineFacts,
    in_force: Sequence[Rule],
    today: date,
    routes: RouteCache | None = None,
) -> LineDecision:
    changes: list[str] = []
    judged_on = line.judged_on
    if judged_on is None:
        judged_on = today
        changes.append(
            f"no loading, declaration or discharge date: judged by the rules in force on "
            f"{today.isoformat()}; a date may bring other rules (general licences expire)"
        )
    outcomes, fired_rules, decision = _evaluate(in_force, facts, routes)
    standing = [f for f in fired_rules if f.set_aside_by is None]
    fired = [o for o in outcomes if o.fired]
    if verdict.status == "mismatch" and verdict.read_as:
        # The papers' code and their own words disagree: judge the words too.
        read_as = verdict.read_as
        _, alt_fired, alt = _evaluate(in_force, replace(facts, hs=read_as), routes)
        if _rank(alt) < _rank(decision):
            alt_rules = [f.rule.id for f in alt_fired if f.set_aside_by is None]
            changes.append(
                f"the goods description reads as HS {read_as}, not the declared "
                f"{verdict.code}: under it the line is {alt} ({', '.join(alt_rules)})"
            )
            if _rank(decision) > _rank("review"):
                decision = "review"

    if line.license_number:
        if decision == "license_required" or (
            decision == "prohibited"
            and all(f.rule.licensable for f in standing if f.rule.effect == "prohibited")
        ):
            changes.append(
                f"licence {line.license_number!r} is declared: verify it with the issuing "
                f"authority (OFAC, the UN committee) covers these goods, parties and dates"
            )
            decision = "review"
    elif decision == "license_required":
        needing = [f.rule.id for f in standing if f.rule.effect == "license_required"]
        changes.append(f"no licence number declared: a licence under {', '.join(needing)}")
    elif decision == "prohibited":
        licensable = [f.rule.id for f in standing if f.rule.licensable]
        if licensable and len(licensable) == len(
            [f for f in standing if f.rule.effect == "prohibited"]
        ):
            changes.append(
                "a specific licence (none declared) could authorise it: " + ", ".join(licensable)
            )

    not_available = []
    for o in outcomes:
        if o.blocked_by and not o.fired:
            why = "; ".join(o.blocked_by)
            not_available.append((o.rule.id, why))
            changes.append(f"{o.rule.id} would apply but for: {why}")

    undetermined = tuple(o.rule.id for o in outcomes if o.needs_hs)
    if undetermined:
        strongest_missing = _strongest(o.rule.effect for o in outcomes if o.needs_hs)
        changes.append(
            f"HS code {verdict.status}: {', '.join(undetermined)} would apply if the goods "
            f"fall in their HS ranges ({verdict.detail or 'declare a code'})"
        )
        if strongest_missing in ("prohibited", "license_required") and decision in (
            "allowed",
            "authorized_by_general_license",
        ):
            decision = "review"
    elif verdict.status in ("proposed", "mismatch") and fired_rules:
        changes.append(
            f"HS code read as {verdict.code} ({verdict.status}: {verdict.detail}); "
            "a different classification may change the rules that apply"
        )

    for p in parties:
        if "possible_match" in p.statuses:
            best = max(p.hits, key=lambda h: h.score)
            changes.append(
                f"{p.role} {p.name!r} is a possible match for {best.caption!r} "
                f"({best.entity_id}, score {best.score:.2f}): confirm or dismiss it"
            )
        if p.note:
            changes.append(f"{p.role} {p.name!r} {p.note}")
    end_user_matters = any(o.rule.unless and o.rule.unless.end_use for o in fired)
    if (
        facts.destination
        and not line.end_user
        and not line.parties_in("end_user")
        and end_user_matters
    ):
        changes.append(
            "end user not declared: a military, law-enforcement or listed end user "
            "would take away a general licence"
        )
    if not line.parties_in("consignee"):
        changes.append("no consignee named: the party receiving the goods is not screened")

    return LineDecision(
        line=line,
        decision=decision,
        judged_on=judged_on,
        hs=verdict,
        fired=fired_rules,
        parties=parties,
        what_would_change=tuple(dict.fromkeys(changes)),
        not_available=tuple(not_available),
        undetermined=undetermined,
    )


# ---- screening and events --------------------------------------------------------------


def hit_from_screening(hit: Any) -> PartyHit:
    """A ``screening.Hit`` as a ``PartyHit``."""
    entity = hit.entity
    return PartyHit(
        entity_id=entity.id,
        caption=entity.caption,
        score=float(hit.score),
        match=bool(hit.match),
        source=",".join(entity.datasets),
        programs=tuple(entity.get("program")),
        topics=tuple(entity.get("topics")),
        detail="; ".join(e.detail for e in hit.explanations[:3]),
    )


@dataclass
class ScreenerChecks:
    """Party and vessel checks on the project's screener (cli and api pass these in)."""

    screener: Screener
    limit: int = 3
    calls: int = field(default=0, init=False)

    def party(self, name: str, country: str | None) -> list[PartyHit]:
        from watchkeeper.screening import Query

        props: dict[str, list[str]] = {"name": [name]}
        if country:
            props["country"] = [country]
        self.calls += 1
        query = Query.from_yente({"schema": "LegalEntity", "properties": props})
        return [hit_from_screening(h) for h in self.screener.screen(query, limit=self.limit)]

    def vessel(self, name: str, imo: str | None) -> list[PartyHit]:
        from watchkeeper.screening import Query

        props: dict[str, list[str]] = {"name": [name]}
        if imo:
            props["imoNumber"] = [imo if imo.upper().startswith("IMO") else f"IMO{imo}"]
        self.calls += 1
        query = Query.from_yente({"schema": "Vessel", "properties": props})
        declared = "".join(c for c in imo if c.isdigit()) if imo else ""
        out = []
        for raw in self.screener.screen(query, limit=self.limit):
            hit = hit_from_screening(raw)
            listed = {"".join(c for c in v if c.isdigit()) for v in raw.entity.get("imoNumber")}
            # An IMO number is the ship's for life: a listed ship with another one is a
            # namesake, whatever its name score (the engine only lowers it by 0.3).
            if declared and listed and declared not in listed:
                hit = replace(
                    hit,
                    match=False,
                    namesake=True,
                    detail=f"namesake: listed IMO {', '.join(sorted(listed))}, declared {declared}",
                )
            out.append(hit)
        return out


_EVENT_OF: Mapping[str, str] = {
    "prohibited": "prohibited_cargo",
    "license_required": "cargo_license_required",
    "authorized_by_general_license": "humanitarian_cargo",
}


def cargo_events(decisions: Iterable[LineDecision]) -> list[Event]:
    """One event per line whose decision is prohibited, licence required or authorised
    by a general licence; subjects are the line, the vessel (``imo:``) and the listed
    entities; evidence the line (``cargo:<line_id>``) and the list entries."""
    events = []
    for d in decisions:
        kind = _EVENT_OF.get(d.decision)
        if kind is None:
            continue
        ln = d.line
        start = datetime.combine(d.judged_on, time(0, 0), tzinfo=UTC)
        end_day = (
            ln.discharge_date
            if ln.discharge_date and ln.discharge_date >= d.judged_on
            else d.judged_on
        )
        end = datetime.combine(end_day, time(0, 0), tzinfo=UTC) + timedelta(days=1)
        listed = sorted({h.entity_id for p in d.parties for h in p.hits if h.match})
        subjects = [f"cargo:{d.line_id}"]
        if ln.vessel_imo:
            subjects.append(f"imo:{ln.vessel_imo.removeprefix('IMO').strip()}")
        subjects.extend(listed)
        standing = [f for f in d.fired if f.set_aside_by is None]
        shown = [f for f in standing if f.rule.effect == d.decision] or standing
        detail = (
            f"{ln.goods or 'goods'} ({d.hs.code or 'no HS code'}), "
            f"{ln.origin_country or '?'} -> {ln.destination_country or '?'}: {d.decision} under "
            + "; ".join(f"{f.rule.citation}" for f in shown)
        )
        events.append(
            Event(
                type=kind,
                subjects=tuple(subjects),
                start=start,
                end=end,
                score=max(0.0, min(1.0, d.hs.confidence)),
                detail=detail,
                evidence=(f"cargo:{d.line_id}", *(f"list:{e}" for e in listed)),
                params={
                    "decision": d.decision,
                    "rules": [f.rule.id for f in shown],
                    "citations": [f.rule.citation for f in shown],
                    "urls": [f.rule.url for f in shown],
                    "hs": d.hs.code,
                    "source_ref": ln.source_ref,
                },
            )
        )
    return events


def save_cargo_events(store: Store, line_ids: Sequence[str], events: Sequence[Event]) -> int:
    """Replace the decision events (``EVENT_TYPES``) of these lines with ``events``, in one
    transaction: a line whose decision changed keeps no stale event of the old type."""
    import pyarrow as pa

    cites = pa.table({"subject": pa.array([f"cargo:{i}" for i in line_ids], pa.string())})
    with store.transaction() as con:
        con.register("_wk_cargo_cites", cites)
        try:
            con.execute(
                """
                DELETE FROM events WHERE type IN (SELECT unnest(?)) AND event_id IN (
                    SELECT e.event_id FROM (
                        SELECT event_id, unnest(subjects) AS subject FROM events
                        WHERE type IN (SELECT unnest(?))
                    ) e JOIN _wk_cargo_cites c USING (subject)
                )
                """,
                [list(EVENT_TYPES), list(EVENT_TYPES)],
            )
        finally:
            con.unregister("_wk_cargo_cites")
        store.write_events(events)
    return len(events)
