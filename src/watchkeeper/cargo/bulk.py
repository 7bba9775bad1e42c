"""Stored lines decided a group at a time: ``check_stored(store, ...)`` gives every
stored line the decision ``check_lines`` would give it, deciding once per group of
lines that ``check_lines`` cannot tell apart, and reading only the columns a decision
depends on (no ``ShipmentLine`` per line).

Lines fall in one group when they have the same HS verdict, the same rules in force on
their date among those their route, HS code and parties' statuses do not rule out, the
same licence number, and the same parties and route *as far as any
rule can see*: a clean party (no list hit, no exposure, no note) counts as its role and,
when a rule names it as a party country, its country; on the route, a country no rule
names counts as "another country". A rule's reasons name only the countries it
names and the parties it matched, so every line of a group gets its first line's
decision, with its own line, date and parties (``StoredDecisions.line_decision``).
Each distinct party, vessel, (HS code, description) and date is checked once, through
the same ``LineDecider`` as ``check_lines``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from watchkeeper.cargo.columnar import _combined, _per_distinct
from watchkeeper.cargo.decide import (
    Exposure,
    ExposureChecker,
    FiredRule,
    HsCheck,
    HsVerdict,
    LineDecider,
    LineDecision,
    PartyChecker,
    PartyHit,
    PartyResult,
    _country_of_port,
    declared_hs,
)
from watchkeeper.cargo.model import Effect, ShipmentLine
from watchkeeper.cargo.rules import LineFacts, Rule, RuleSet, _words_in, rejects_route
from watchkeeper.cargo.store import _FIELDS, lines_from_arrow, parse_parties

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from watchkeeper.store import Store

# A country no rule names: all such countries decide alike.
OTHER_COUNTRY = "~"

_KEY_COLUMNS = """
    line_id, parties,
    CASE WHEN end_user IS NOT NULL AND end_user <> '' THEN end_user END AS end_user,
    CASE WHEN end_user IS NOT NULL AND end_user <> '' THEN destination_country END
        AS end_user_country,
    vessel_name, vessel_imo, hs_code, goods, origin_country, port_of_loading,
    destination_country, port_of_discharge,
    array_to_string(transit_countries, '|') AS transit, end_use,
    coalesce(loading_date, declared_date, discharge_date) AS judged_on, license_number
"""


@dataclass
class StoredDecisions:
    """Every selected stored line's decision: ``groups[group_of[i]]`` is the decision of
    the first line of line ``line_ids[i]``'s group (store order: shipment, line)."""

    line_ids: list[str]
    group_of: np.ndarray
    groups: list[LineDecision]
    parties_of: np.ndarray  # each line's index into ``party_sets``
    party_sets: list[tuple[PartyResult, ...]]
    today: date

    def __len__(self) -> int:
        return len(self.line_ids)

    def decision(self, i: int) -> Effect:
        return self.groups[int(self.group_of[i])].decision

    def counts(self) -> dict[str, int]:
        """How many lines got each decision."""
        import numpy as np

        sizes = np.bincount(self.group_of, minlength=len(self.groups))
        out: dict[str, int] = {}
        for g, size in zip(self.groups, sizes.tolist(), strict=True):
            out[g.decision] = out.get(g.decision, 0) + int(size)
        return out

    def by_line(self) -> dict[str, Effect]:
        """Line id -> decision."""
        effects = [g.decision for g in self.groups]
        return {
            lid: effects[g] for lid, g in zip(self.line_ids, self.group_of.tolist(), strict=True)
        }

    def line_decision(self, i: int, line: ShipmentLine) -> LineDecision:
        """The full decision of line ``i`` (``line`` its stored record), as
        ``check_lines`` gives it."""
        assert line.line_id == self.line_ids[i]
        group = self.groups[int(self.group_of[i])]
        if group.line == line:
            return group
        return replace(
            group,
            line=line,
            judged_on=line.judged_on or self.today,
            parties=self.party_sets[int(self.parties_of[i])],
        )

    def line_decisions(self, lines: Sequence[ShipmentLine]) -> Iterator[LineDecision]:
        """Full decisions of ``lines``, the stored lines in store order (``read_lines``
        with the same selection)."""
        for i, line in enumerate(lines):
            yield self.line_decision(i, line)

    def group_sizes(self) -> list[int]:
        """How many lines each group (``groups``) holds."""
        import numpy as np

        sizes: list[int] = np.bincount(self.group_of, minlength=len(self.groups)).tolist()
        return sizes

    def lines_deciding(self, decisions: Collection[str]) -> list[int]:
        """The lines (indices, store order) whose decision is one of ``decisions``."""
        import numpy as np

        wanted = [g for g, d in enumerate(self.groups) if d.decision in decisions]
        if not wanted:
            return []
        at: list[int] = np.flatnonzero(np.isin(self.group_of, wanted)).tolist()
        return at

    def rule_lines(self) -> list[tuple[Rule, int]]:
        """Each rule that decided lines (``deciding_rules``) and how many lines it decided,
        most lines first (then by rule id)."""
        counts: dict[str, int] = {}
        rules: dict[str, Rule] = {}
        for group, size in zip(self.groups, self.group_sizes(), strict=True):
            for f in deciding_rules(group):
                counts[f.rule.id] = counts.get(f.rule.id, 0) + size
                rules[f.rule.id] = f.rule
        return [
            (rules[rid], n) for rid, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    def read_lines(self, store: Store, at: Sequence[int]) -> list[ShipmentLine]:
        """The stored records of lines ``at`` (indices), in that order."""
        ids = [self.line_ids[i] for i in at]
        by_id = lines_by_id(store, ids)
        return [by_id[lid] for lid in ids]


def deciding_rules(decision: LineDecision) -> list[FiredRule]:
    """The rules that decided a line, as its event cites them (``cargo_events``): those
    standing (not set aside by a general licence) whose effect is the decision, or every
    standing one when none has it."""
    standing = [f for f in decision.fired if f.set_aside_by is None]
    return [f for f in standing if f.rule.effect == decision.decision] or standing


def lines_by_id(store: Store, line_ids: Sequence[str]) -> dict[str, ShipmentLine]:
    """The stored records of these lines, by line id (one join, not a query per line)."""
    import pyarrow as pa

    if not line_ids:
        return {}
    con = store.con
    con.register("_wk_cargo_line_ids", pa.table({"line_id": pa.array(line_ids, pa.string())}))
    try:
        rows = _arrow(
            con.execute(
                f"SELECT {', '.join(_FIELDS)} FROM shipment_lines "
                "JOIN _wk_cargo_line_ids USING (line_id)"
            )
        )
    finally:
        con.unregister("_wk_cargo_line_ids")
    return {ln.line_id: ln for ln in lines_from_arrow(rows)}


def check_stored(
    store: Store,
    *,
    batch_id: int | None = None,
    shipment_id: str | None = None,
    hs_check: HsCheck | Callable[[str | None, str], HsVerdict] = declared_hs,
    party_checker: PartyChecker | Callable[[str, str | None], Sequence[PartyHit]],
    exposure_checker: ExposureChecker | Callable[[str], Exposure | None] | None = None,
    rules: RuleSet | None = None,
    vessel_checker: Callable[[str, str | None], Sequence[PartyHit]] | None = None,
    today: date | None = None,
) -> StoredDecisions:
    """Decide the stored lines (of one batch and/or one shipment, or all) as
    ``check_lines`` would, once per group of lines it cannot tell apart (see the module
    docstring)."""
    import numpy as np
    import pyarrow as pa

    decider = LineDecider(
        hs_check=hs_check,
        party_checker=party_checker,
        exposure_checker=exposure_checker,
        rules=rules,
        vessel_checker=vessel_checker,
        today=today,
    )
    conditions: list[str] = []
    params: list[Any] = []
    if batch_id is not None:
        conditions.append("batch_id = ?")
        params.append(batch_id)
    if shipment_id is not None:
        conditions.append("shipment_id = ?")
        params.append(shipment_id)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    keys = _arrow(
        store.con.execute(
            f"SELECT {_KEY_COLUMNS} FROM shipment_lines {where} ORDER BY shipment_id, line_no",
            params,
        )
    )
    n = keys.num_rows
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return StoredDecisions([], empty, [], empty, [], decider.today)
    named = _rule_countries(decider.ruleset)
    party_named = frozenset(c for r in decider.ruleset for c in r.match.party_countries)
    words = _rule_words(decider.ruleset)

    def country(code: str | None) -> str | None:
        return code if code is None or code in named else OTHER_COUNTRY

    def party_country(code: str | None) -> str | None:
        # Only a rule's party_countries reads a party's country.
        return code if code in party_named else None

    # Parties (the end user among them): screened once per distinct set.
    def party_set(row: dict[str, Any]) -> tuple[tuple[PartyResult, ...], tuple[Any, ...]]:
        line = ShipmentLine(
            shipment_id="",
            line_no=0,
            source_ref="",
            layout="",
            parties=parse_parties(row["parties"]),
            end_user=row.get("end_user"),
            destination_country=row.get("end_user_country"),
        )
        results = tuple(decider.parties_of(line))
        seen_as = tuple(
            (p.role, party_country(p.country)) if decider.clean(p) else p for p in results
        )
        flags = (
            bool(line.end_user or line.parties_in("end_user")),
            bool(line.parties_in("consignee")),
        )
        return results, (*flags, *seen_as)

    parties_of, sets = _per_distinct(keys, ["parties", "end_user", "end_user_country"], party_set)

    def vessel(row: dict[str, Any]) -> tuple[tuple[PartyResult, ...], tuple[Any, ...]]:
        name = row.get("vessel_name")
        if decider.vessel_checker is None or not name:
            return (), ()
        line = ShipmentLine("", 0, "", "", vessel_name=name, vessel_imo=row.get("vessel_imo"))
        results = tuple(decider.parties_of(line))
        return results, tuple((p.role, None) if decider.clean(p) else p for p in results)

    vessel_of, vessels = _per_distinct(keys, ["vessel_name", "vessel_imo"], vessel)

    def verdict(row: dict[str, Any]) -> HsVerdict:
        return decider.verdict(row.get("hs_code"), row.get("goods") or "")

    verdict_of, verdicts = _per_distinct(keys, ["hs_code", "goods"], verdict)

    def route(row: dict[str, Any]) -> tuple[Any, ...]:
        origin = row.get("origin_country") or _country_of_port(row.get("port_of_loading"))
        dest = row.get("destination_country") or _country_of_port(row.get("port_of_discharge"))
        transit = tuple(t for t in (row.get("transit") or "").split("|") if t)
        end_use = row.get("end_use") or ""
        return (
            country(origin),
            country(dest),
            tuple(country(t) for t in transit),
            end_use if _words_in(end_use, words) else "",
        )

    route_of, routes = _per_distinct(
        keys,
        ["origin_country", "port_of_loading", "destination_country", "port_of_discharge",
         "transit", "end_use"],
        route,
    )  # fmt: skip

    def in_force(row: dict[str, Any]) -> tuple[Any, ...]:
        day = row.get("judged_on")
        in_force_key, in_force_rules = decider.in_force(day or decider.today)
        return (in_force_key, day is None, in_force_rules)

    day_of, days = _per_distinct(keys, ["judged_on"], in_force)
    licence_of, licences = _per_distinct(
        keys, ["license_number"], lambda r: r.get("license_number")
    )

    # Days count by the rules in force that the route, HS code and parties' statuses
    # leave standing (a rule they rule out adds nothing to a decision).
    verdict_cls = _classes(verdict_of, verdicts)
    route_cls = _classes(route_of, routes)
    day_cls = _classes(day_of, [d[:2] for d in days])
    set_flags = [_flags(results) for results, _ in sets]
    vessel_flags = [_flags(results) for results, _ in vessels]
    combo = _combined(
        [day_cls, route_cls, verdict_cls, _classes(parties_of, set_flags),
         _classes(vessel_of, vessel_flags)],
        n,
    )  # fmt: skip
    _, combo_firsts, combo_of = np.unique(combo, return_index=True, return_inverse=True)
    standing = []
    for i in combo_firsts.tolist():
        _, undated, rules_on_day = days[day_of[i]]
        v, r = verdicts[verdict_of[i]], routes[route_of[i]]
        ps, vs = set_flags[parties_of[i]], vessel_flags[vessel_of[i]]
        flags = (ps[0] | vs[0], ps[1] | vs[1])
        alt = _standing(rules_on_day, r, v.read_as, flags) if v.status == "mismatch" else ()
        standing.append((undated, _standing(rules_on_day, r, v.code, flags), alt))

    parts = [
        _classes(parties_of, [s[1] for s in sets]),
        _classes(vessel_of, [v[1] for v in vessels]),
        verdict_cls,
        route_cls,
        _classes(combo_of.reshape(-1), standing),
        _classes(licence_of, licences),
    ]
    key = _combined(parts, n)
    _, firsts, group_of = np.unique(key, return_index=True, return_inverse=True)
    group_of = group_of.reshape(-1)

    # The first line of each group, read whole, decided as check_lines decides it.
    first_ids = keys.column("line_id").take(pa.array(firsts)).to_pylist()
    by_id = lines_by_id(store, first_ids)
    groups = []
    for lid, row_at in zip(first_ids, firsts.tolist(), strict=True):
        line = by_id[lid]
        parties = [*sets[parties_of[row_at]][0], *vessels[vessel_of[row_at]][0]]
        groups.append(decider.decide(line, parties))
    # Each line's parties and vessel as one set, for its full decision.
    set_key = _combined([(parties_of, len(sets)), (vessel_of, len(vessels))], n)
    _, set_firsts, set_of = np.unique(set_key, return_index=True, return_inverse=True)
    party_sets = [(*sets[parties_of[i]][0], *vessels[vessel_of[i]][0]) for i in set_firsts.tolist()]
    return StoredDecisions(
        line_ids=keys.column("line_id").to_pylist(),
        group_of=group_of,
        groups=groups,
        parties_of=set_of.reshape(-1),
        party_sets=party_sets,
        today=decider.today,
    )


def _arrow(result: Any) -> pa.Table:
    table = result.arrow()
    return table.read_all() if hasattr(table, "read_all") else table


def _classes(codes: np.ndarray, values: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Rows' codes renumbered so that equal values share one, and how many."""
    import numpy as np

    ids: dict[Any, int] = {}
    mapping = np.fromiter(
        (ids.setdefault(v, len(ids)) for v in values), dtype=np.int64, count=len(values)
    )
    return mapping[codes], len(ids)


def _flags(results: Sequence[PartyResult]) -> tuple[frozenset[str], frozenset[str]]:
    """Every status and listed programme of these parties (what ``_rejects`` reads)."""
    statuses = frozenset(st for p in results for st in p.statuses)
    programs = frozenset(x for p in results for h in p.hits if h.match for x in h.programs)
    return statuses, programs


def _standing(
    rules: Sequence[Rule],
    route: tuple[Any, ...],
    hs: str | None,
    flags: tuple[frozenset[str], frozenset[str]],
) -> tuple[int, ...]:
    """The rules (by id) that the route, HS code and the parties' statuses and listed
    programmes do not rule out (``match_rule`` gives the others ``not_fired``)."""
    facts = LineFacts(hs, route[0], route[1], route[2], (), "")
    out = []
    for r in rules:
        m = r.match
        if rejects_route(m, facts):
            continue
        if m.party_status and flags[0].isdisjoint(m.party_status):
            continue
        if m.party_programs and flags[1].isdisjoint(m.party_programs):
            continue
        out.append(id(r))
    return tuple(out)


def _rule_countries(ruleset: RuleSet) -> frozenset[str]:
    """Every country a rule names."""
    out: set[str] = set()
    for r in ruleset:
        m = r.match
        out.update(m.origin, m.destination, m.transit, m.countries, m.party_countries)
    return frozenset(out)


def _rule_words(ruleset: RuleSet) -> tuple[str, ...]:
    """Every end-use word a rule or its exception looks for."""
    out: dict[str, None] = {}
    for r in ruleset:
        out.update(dict.fromkeys(r.match.end_use))
        if r.unless is not None:
            out.update(dict.fromkeys(r.unless.end_use))
    return tuple(out)
