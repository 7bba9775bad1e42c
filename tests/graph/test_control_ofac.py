"""OFAC's 50 Percent Rule: every example of the 13 August 2014 Revised Guidance and of
OFAC FAQs 398-402, each test citing its example.

Sources: https://ofac.treasury.gov/faqs/401 (Examples 1-3 read in full there),
https://ofac.treasury.gov/faqs/398 and /400 (ownership, not control), and the guidance
(https://ofac.treasury.gov/media/6186/download?inline). The text of FAQ 401's last
examples was not fully readable from here: the aggregation example (X 25% + Y 25%) and
the "part ownership" example (X 25% of A and of B, which each own 50% of C) are taken
as quoted by Lexology's summaries of the 2014 FAQs (2014-08-14) and marked so below.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from watchkeeper.graph.control import assess, ofac_fixpoint
from watchkeeper.graph.model import Relation, RelationKind, Share

DAY = date(2025, 6, 1)


def own(holder: str, held: str, share: float | Share | None, kind: RelationKind = "ownership",
        **kw: object) -> Relation:  # fmt: skip
    value = Share.exact(share) if isinstance(share, float) else share
    return Relation(
        id=f"{holder}>{held}:{kind}",
        kind=kind,
        holder=holder,
        held=held,
        share=value,
        source_ref=f"ofac-example#{holder}>{held}",
        **kw,  # type: ignore[arg-type]
    )


def test_faq_401_example_1_chain_of_50_percent_holdings() -> None:
    """FAQ 401 Example 1: X owns 50% of A, A owns 50% of B: A and B are blocked."""
    result = assess([own("X", "A", 0.5), own("A", "B", 0.5)], {"X"}, "ofac", as_of=DAY)
    assert result.status("A") == "blocked"
    assert result.status("B") == "blocked"
    assert result.blocked_unlisted() == ["A", "B"]
    exposure = result.exposure("B")
    assert [s.relation_id for s in exposure.chain] == ["A>B:ownership", "X>A:ownership"]
    assert exposure.aggregate == Share(0.5, 0.5)
    assert exposure.chain[1].holder_listed


def test_faq_401_example_2_indirect_holdings_add_up() -> None:
    """FAQ 401 Example 2: X owns 50% of A and of B; A and B each own 25% of C: C is
    blocked (the blocked entities A and B own 50% of it in the aggregate)."""
    rels = [own("X", "A", 0.5), own("X", "B", 0.5), own("A", "C", 0.25), own("B", "C", 0.25)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.status("C") == "blocked"
    exposure = result.exposure("C")
    assert exposure.aggregate.low == 0.5
    assert {s.relation_id for s in exposure.chain} == {r.id for r in rels}


def test_faq_401_example_3_direct_and_indirect_holdings_add_up() -> None:
    """FAQ 401 Example 3: X owns 50% of A and 10% of B; A owns 40% of B: B is blocked
    (10% direct + the whole 40% of the blocked A, not 50% x 40%)."""
    rels = [own("X", "A", 0.5), own("X", "B", 0.1), own("A", "B", 0.4)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.status("B") == "blocked"
    assert "50% by ownership" in result.exposure("B").margin


def test_faq_401_aggregation_of_different_blocked_persons() -> None:
    """Revised Guidance (2014) and FAQ 401 Example 4 (as quoted by Lexology, 2014): X
    owns 25% of A and Y owns 25% of A: A is blocked, 50% in the aggregate; and A, being
    blocked, blocks what it owns 50% of."""
    rels = [own("X", "A", 0.25), own("Y", "A", 0.25), own("A", "B", 0.5)]
    result = assess(rels, {"X", "Y"}, "ofac", as_of=DAY)
    assert result.status("A") == "blocked"
    assert result.status("B") == "blocked"
    # One blocked person alone is not enough.
    assert assess(rels, {"X"}, "ofac", as_of=DAY).status("A") == "not_blocked"


def test_faq_401_part_ownership_is_not_indirect_ownership() -> None:
    """FAQ 401 (as quoted by Lexology, 2014): X owns 25% of A and 25% of B; A and B
    each own 50% of C. X does not indirectly own any of C through A or B, which are not
    blocked themselves: none of A, B, C is blocked (no multiplication, no look-through)."""
    rels = [own("X", "A", 0.25), own("X", "B", 0.25), own("A", "C", 0.5), own("B", "C", 0.5)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.statuses() == {"X": "blocked"}
    exposure = result.exposure("C")
    assert exposure.status == "not_blocked"
    assert "at most 0%" in exposure.margin or "no ownership" in exposure.margin


def test_faq_398_control_without_ownership_does_not_block() -> None:
    """FAQ 398: the 50 Percent Rule speaks only to ownership, not control: an entity a
    blocked person controls (board appointment) but owns less than 50% of is not blocked.
    (FAQ 400: dealings with the blocked person acting for it stay prohibited.)"""
    rels = [
        own("X", "A", 0.4),
        own("X", "A", None, kind="control", interests=("appointmentOfBoard",)),
        own("X", "A", 0.9, kind="voting"),
        own("X", "A", None, kind="directorship"),
    ]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.status("A") == "not_blocked"
    assert [s.kind for s in result.exposure("A").chain] == ["ownership"]


def test_faq_399_holdings_under_different_programs_are_aggregated() -> None:
    """FAQ 399: ownership stakes of persons blocked under different OFAC programs are
    aggregated: a list is one set of blocked persons whatever the program."""
    rels = [own("sdn-iran", "A", 0.3), own("sdn-venezuela", "A", 0.2)]
    result = assess(rels, ["sdn-iran", "sdn-venezuela"], "ofac", as_of=DAY)
    assert result.status("A") == "blocked"


def test_divestment_below_50_percent_unblocks_from_that_day() -> None:
    """2014 FAQs (divestment, summarised by Cleary Gottlieb 2014-08-14): an entity no
    longer 50% owned after a divestment is no longer blocked. The holding's end date is
    the first day it no longer holds (Relation.valid_on)."""
    rels = [
        own("X", "A", 0.6, end=date(2024, 3, 1)),
        own("X", "A", 0.2, start=date(2024, 3, 1)),
    ]
    assert assess(rels, {"X"}, "ofac", as_of=date(2024, 2, 29)).status("A") == "blocked"
    later = assess(rels, {"X"}, "ofac", as_of=date(2024, 3, 1))
    assert later.status("A") == "not_blocked"
    assert [s.share for s in later.exposure("A").chain] == ["20%"]


def test_threshold_is_50_percent_or_more() -> None:
    """31 CFR 587.406 and the guidance: "a 50 percent or greater interest"."""
    at = assess([own("X", "A", 0.5)], {"X"}, "ofac", as_of=DAY)
    below = assess([own("X", "A", 0.4999)], {"X"}, "ofac", as_of=DAY)
    assert at.status("A") == "blocked"
    assert below.status("A") == "not_blocked"
    assert "0.01% below" in below.exposure("A").margin


def test_a_blocked_intermediate_passes_its_whole_holding() -> None:
    """Guidance (FAQ 401 Example 1 explained): a 60%-owned entity's 50% holding counts as
    50%, not 30%; and a chain 10 deep stays blocked."""
    rels = [own("X", "E0", 0.6)] + [own(f"E{i}", f"E{i + 1}", 0.5) for i in range(10)]
    result = assess(rels, {"X"}, "ofac", as_of=DAY)
    assert result.status("E10") == "blocked"
    assert len(result.exposure("E10").chain) == 11


def test_a_cycle_does_not_block_itself() -> None:
    """Two companies owning 60% of each other are not blocked by each other; once a
    blocked person owns 50% of one, both are, and the chain lists each statement once."""
    rels = [own("A", "B", 0.6), own("B", "A", 0.6), own("A", "A", 0.5)]
    assert assess(rels, set(), "ofac", as_of=DAY).statuses() == {}
    result = assess([*rels, own("X", "A", 0.5)], {"X"}, "ofac", as_of=DAY)
    assert result.blocked_unlisted() == ["A", "B"]
    ids = [s.relation_id for s in result.exposure("B").chain]
    assert sorted(ids) == sorted(set(ids))
    assert "X>A:ownership" in ids


def test_the_array_engine_on_duplicates_self_loops_and_isolated_nodes() -> None:
    """Rows between the same two parties are summed (two blocks of 25%); a self-holding
    does not count for an unblocked party; nodes without rows keep status 0 (or 2 when
    listed); node 4 is listed and isolated."""
    holder = np.array([0, 0, 2, 3], dtype=np.int64)
    held = np.array([1, 1, 2, 2], dtype=np.int64)
    low = np.array([0.25, 0.25, 0.9, 0.1], dtype=np.float64)
    listed = np.array([True, False, False, False, True, False])
    status = ofac_fixpoint(6, holder, held, low, low.copy(), listed, np.zeros(6, dtype=bool))
    assert status.tolist() == [2, 2, 0, 0, 2, 0]
