"""``watchkeeper cargo check``: the decision on each stored shipment line, the rules that
fired with their citations, the parties' screening and what would change the answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json

if TYPE_CHECKING:
    from watchkeeper.cargo.bulk import StoredDecisions
    from watchkeeper.cargo.decide import Exposure, HsCheck, LineDecision, PartyHit
    from watchkeeper.cargo.model import ShipmentLine
    from watchkeeper.cargo.rules import RuleSet
    from watchkeeper.events.model import Event
    from watchkeeper.store import Store

_STYLE = {
    "prohibited": "bold red",
    "license_required": "red",
    "review": "yellow",
    "authorized_by_general_license": "green",
    "allowed": None,
}


def _not_screened(name: str, country: str | None) -> Sequence[PartyHit]:
    return []


@dataclass(frozen=True)
class CargoChecks:
    """What ``cargo check`` decides lines with: the HS nomenclature, the store's lists
    (screened), the ownership graph when one is loaded, and the bundled rules."""

    hs_check: HsCheck
    party: Callable[[str, str | None], Sequence[PartyHit]]
    vessel: Callable[[str, str | None], Sequence[PartyHit]]
    exposure: Callable[[str], Exposure | None] | None
    rules: RuleSet

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments ``check_lines`` and ``check_stored`` take them as."""
        return {
            "hs_check": self.hs_check,
            "party_checker": self.party,
            "vessel_checker": self.vessel,
            "exposure_checker": self.exposure,
            "rules": self.rules,
        }


def cargo_checks(store: Store, *, today: date | None = None) -> tuple[CargoChecks, str]:
    """The checks on the store's lists and ownership graph (as of ``today``: current
    lists, current ownership); the note says what could not be checked."""
    from watchkeeper.cargo.decide import ScreenerChecks, nomenclature_hs_check, with_graph_parties
    from watchkeeper.cargo.rules import bundled_rules
    from watchkeeper.graph.exposure import GraphOwnership
    from watchkeeper.graph.store import current_graph_versions

    notes = []
    party: Callable[[str, str | None], Sequence[PartyHit]]
    vessel: Callable[[str, str | None], Sequence[PartyHit]]
    if store.entity_count() == 0:
        notes.append("no lists are loaded: parties and vessels were not screened")
        party, vessel = _not_screened, _not_screened
    else:
        from watchkeeper.screening import Screener

        checks = ScreenerChecks(Screener.from_store(store))
        party, vessel = checks.party, checks.vessel
    exposure = None
    if current_graph_versions(store):
        graph = GraphOwnership.from_store(store, today or datetime.now(UTC).date())
        party = with_graph_parties(party, graph.exposed_party)
        exposure = graph.exposure
    else:
        notes.append("no ownership graph is loaded: blocked_by_ownership was not checked")
    checks_made = CargoChecks(nomenclature_hs_check, party, vessel, exposure, bundled_rules())
    return checks_made, "; ".join(notes)


def decide_lines(
    store: Store, lines: Sequence[ShipmentLine], *, today: date | None = None
) -> tuple[list[LineDecision], str]:
    """Decisions on ``lines`` with the store's lists (screened), the ownership graph
    when one is loaded (as of ``today``: current lists, current ownership) and the
    bundled rules; the note says what could not be checked."""
    from watchkeeper.cargo.decide import check_lines

    checks, note = cargo_checks(store, today=today)
    decisions = check_lines(lines, **checks.arguments())
    return decisions, note


def decide_stored(
    store: Store, *, shipment_id: str | None = None, today: date | None = None
) -> tuple[StoredDecisions, str]:
    """The stored lines (of one shipment, or all) decided as ``decide_lines`` decides
    them, once per group of lines that decide alike (``cargo.bulk.check_stored``)."""
    from watchkeeper.cargo.bulk import check_stored

    checks, note = cargo_checks(store, today=today)
    stored = check_stored(store, shipment_id=shipment_id, **checks.arguments())
    return stored, note


def check(
    shipment: Annotated[
        str | None, typer.Option("--shipment", help="Only the lines of this shipment id.")
    ] = None,
    save: Annotated[
        bool,
        typer.Option(
            "--save/--no-save",
            help="Store prohibited_cargo, humanitarian_cargo and cargo_license_required "
            "events (replacing the lines' earlier ones).",
        ),
    ] = True,
    summary: Annotated[
        bool,
        typer.Option(
            "--summary",
            help="Only the counts: lines per decision, events, and lines per deciding "
            "rule (only the lines that raise an event are read whole).",
        ),
    ] = False,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Decide stored shipment lines by the cargo rules in force on their dates.

    Each line gets prohibited, licence required, review, authorised by a general
    licence or allowed, with every rule that fired, its citation and URL, the parties'
    and vessel's screening results, and what would change the answer. Run `cargo
    ingest` (and `lists load`) first. Exit 1 when --shipment names no stored shipment."""
    from watchkeeper.cargo.decide import _EVENT_OF, cargo_events, save_cargo_events
    from watchkeeper.cargo.store import read_lines

    with open_db(db, read_only=not save) as store:
        if shipment is not None and not _shipment_stored(store, shipment):
            console.print(f"no shipment {shipment!r} is stored", highlight=False)
            raise typer.Exit(1)
        stored, note = decide_stored(store, shipment_id=shipment)
        if summary:
            # Only the lines that raise an event are read whole and decided in full.
            at = stored.lines_deciding(_EVENT_OF.keys())
            lines = stored.read_lines(store, at)
            decisions = [stored.line_decision(i, ln) for i, ln in zip(at, lines, strict=True)]
        else:
            decisions = list(stored.line_decisions(read_lines(store, shipment_id=shipment)))
        events = cargo_events(decisions)
        if save and len(stored):
            save_cargo_events(store, stored.line_ids, events)
    if summary:
        _print_summary(stored, events, note, save=save, json_out=json_out)
    else:
        print_decisions(decisions, events, note, save=save, json_out=json_out)


def _shipment_stored(store: Store, shipment_id: str) -> bool:
    row = store.con.execute(
        "SELECT 1 FROM shipment_lines WHERE shipment_id = ? LIMIT 1", [shipment_id]
    ).fetchone()
    return row is not None


def print_decisions(
    decisions: Sequence[LineDecision],
    events: Sequence[Event],
    note: str,
    *,
    save: bool,
    json_out: bool,
) -> None:
    """``cargo check``'s output: every line's decision, rules, parties and what would
    change it, then the counts (or all of it as JSON)."""
    if json_out:
        out: dict[str, Any] = {
            "lines": len(decisions),
            "decisions": [d.to_dict() for d in decisions],
            "events": [e.to_dict() for e in events],
        }
        if note:
            out["note"] = note
        print_json(out)
        return
    for d in decisions:
        style = _STYLE.get(d.decision) or "bold"
        console.print(
            f"[{style}]{d.line_id}  {d.decision.upper()}[/{style}]  "
            f"HS {d.hs.code or '?'} ({d.hs.status})  judged on {d.judged_on}  "
            f"{d.line.goods[:50]}",
            highlight=False,
        )
        for f in d.fired:
            aside = f"  [set aside by {f.set_aside_by}]" if f.set_aside_by else ""
            console.print(
                f"  rule {f.rule.id} ({f.rule.effect}): {f.rule.citation} — "
                f"{'; '.join(f.why)}{aside}",
                highlight=False,
            )
        for p in d.parties:
            if not p.hits:
                continue
            best = max(p.hits, key=lambda h: h.score)
            console.print(
                f"  {p.role} {p.name!r}: {', '.join(p.statuses)} — {best.caption} "
                f"({best.entity_id}, {best.score:.2f})",
                highlight=False,
            )
        for change in d.what_would_change:
            console.print(f"  would change: {change}", highlight=False)
    counts = Counter(d.decision for d in decisions)
    console.print(
        f"{len(decisions):,} line(s): "
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        + f"; {len(events)} event(s)"
        + ("" if save else " (not saved)"),
        highlight=False,
    )
    if note:
        console.print(f"[yellow]{note}[/yellow]")


def _print_summary(
    stored: StoredDecisions, events: Sequence[Event], note: str, *, save: bool, json_out: bool
) -> None:
    counts = stored.counts()
    by_type = Counter(e.type for e in events)
    rules = stored.rule_lines()
    if json_out:
        out: dict[str, Any] = {
            "lines": len(stored),
            "decisions": dict(sorted(counts.items())),
            "events": len(events),
            "events_by_type": dict(sorted(by_type.items())),
            "saved": save,
            "rules": [
                {"id": r.id, "effect": r.effect, "citation": r.citation, "lines": n}
                for r, n in rules
            ],
        }
        if note:
            out["note"] = note
        print_json(out)
        return
    console.print(
        f"{len(stored):,} line(s): "
        + ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items()))
        + f"; {len(events):,} event(s)"
        + ("" if save else " (not saved)")
        + "".join(f", {t} {n:,}" for t, n in sorted(by_type.items())),
        highlight=False,
    )
    for r, n in rules:
        style = _STYLE.get(r.effect) or "bold"
        console.print(
            f"  {n:>10,}  [{style}]{r.id}[/{style}] ({r.effect}): {r.citation}", highlight=False
        )
    if note:
        console.print(f"[yellow]{note}[/yellow]")


def register(cargo_app: typer.Typer) -> None:
    cargo_app.command("check")(check)


def run_step(store: Store, data_dir: Path) -> None:
    """``watchkeeper run``: ingest the bundled sample shipments (hand-made from public
    enforcement records) and print each line's decision with the rule that decided it."""
    from watchkeeper.cargo.decide import cargo_events, save_cargo_events
    from watchkeeper.cargo.ingest import ingest_files
    from watchkeeper.cargo.store import read_lines

    path = data_dir / "cargo" / "sample_shipments.csv"
    if not path.exists():
        console.print(f"  [yellow]skipped: {path} is missing[/yellow]")
        return
    report = ingest_files(store, [path], "customs_declaration")
    batch_ids = {f.batch_id for f in report.files}
    lines = [ln for b in sorted(batch_ids) for ln in read_lines(store, batch_id=b)]
    decisions, note = decide_lines(store, lines)
    events = cargo_events(decisions)
    save_cargo_events(store, [ln.line_id for ln in lines], events)
    for d in decisions:
        standing = [f for f in d.fired if f.set_aside_by is None]
        deciding = [f for f in standing if f.rule.effect == d.decision] or standing
        # The goods' own rule first: the party rules hold in every program.
        deciding.sort(key=lambda f: not f.rule.match.hs)
        why = deciding[0].rule.citation if deciding else (d.what_would_change or ("",))[0]
        if len(deciding) > 1:
            why += f" (+{len(deciding) - 1})"
        style = _STYLE.get(d.decision) or "default"
        console.print(
            f"  {d.line_id:34} [{style}]{d.decision:29}[/{style}] {why[:70]}", highlight=False
        )
    counts = Counter(d.decision for d in decisions)
    console.print(
        f"  {len(decisions)} shipment line(s): "
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        + f"; {len(events)} cargo event(s) (details: watchkeeper cargo check)",
        highlight=False,
    )
    if note:
        console.print(f"  [yellow]{note}[/yellow]")
