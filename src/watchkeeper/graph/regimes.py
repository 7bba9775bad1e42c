"""Ownership-and-control rules per sanctions regime, as data: which relation kinds
count, the threshold each is held to, whether different listed parties' holdings
are added up, and the text the rule is cited from.

Sources (read in December 2026 through summaries and the regulators' own pages; the
Council's PDF itself was not reachable) and where they disagree with the issue text:

* OFAC: the 50 Percent Rule, Revised Guidance of 13 August 2014 and FAQs 398-402
  (ofac.treasury.gov/faqs/topic/1521). "50 percent or more", aggregated across blocked
  persons (FAQ 399), through entities themselves 50%-or-more owned by blocked persons
  (FAQ 401: "indirectly"), ownership only, not control (FAQ 398, 400).
* EU: the Council's Update of the EU Best Practices for the effective implementation
  of restrictive measures of 3 July 2024 changed the ownership test from "more than
  50%" to "50% or more" of the proprietary rights (in line with recital 28 of Council
  Regulation (EU) 2024/1745) and states that the holdings of several designated persons
  are aggregated (the Commission's FAQ on Article 2 of Regulation 269/2014, "aggregate
  ownership", 8 April 2022, already said so: 30% + 25% is owned). The issue text says
  "more than 50%": that was the pre-2024 wording; we follow the 2024 text. Control is a
  list of criteria (right to appoint or remove a majority of the board, dominant
  influence by agreement or articles, control of a majority of the voting rights...):
  a ``control`` relation from a listed, owned or controlled party makes the held
  party controlled; a majority (more than 50%) of voting rights is control.
* UK: OFSI's Financial Sanctions General Guidance, chapter 4 "Ownership and control":
  more than 50% of the shares or voting rights, directly or indirectly, or the right to
  appoint or remove a majority of the board, or control in practice; OFSI "would not
  simply aggregate different designated persons' holdings in a company, unless ... the
  shares or rights are subject to a joint arrangement ... or one party controls the
  rights of another" (paragraph added in March 2022, numbered 4.14 then). A designated
  person's direct holding and what it holds through entities it owns or controls add up.
  Joint arrangements are not in our relation records, so holdings of different
  designated persons are never added here: a register that states one should say so
  with a ``control`` relation.
* Our reading, not stated in these texts: a majority of the voting rights counts as
  "more than 50%" in the EU (the control criterion speaks of "a majority"), and voting
  rights of different listed persons are aggregated like shares in the EU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from watchkeeper.graph.model import RelationKind

RegimeName = Literal["ofac", "eu", "uk"]
REGIMES: tuple[RegimeName, ...] = ("ofac", "eu", "uk")


@dataclass(frozen=True)
class Measure:
    """One way of holding a party that a regime counts. ``strict``: the holding must be
    more than ``threshold`` (else ``threshold`` or more). ``capped``: the kind's holdings
    are fractions of one whole (shares, votes), so what other known holders hold bounds
    what the rest can hold; a control relation is not capped (a party may be controlled
    by several). Control relations count as a full (1.0) holding."""

    kind: RelationKind
    threshold: float
    strict: bool
    capped: bool = True
    indirect: bool = False  # a register's stated indirect holding (see control.assess)

    def describe(self) -> str:
        word = "more than" if self.strict else "or more"
        pct = f"{self.threshold * 100:g}%"
        if self.kind == "control":
            return "control (board majority, dominant influence)"
        test = f"{word} {pct}" if self.strict else f"{pct} {word}"
        return f"{test}, stated indirect holding" if self.indirect else test

    def as_indirect(self) -> Measure:
        """The same test for a holding a register states as indirect (BODS
        ``directOrIndirect: indirect``): it may only make a party possibly blocked, as
        it does not say whether the entities in between are owned or controlled."""
        return Measure(self.kind, self.threshold, self.strict, capped=False, indirect=True)


@dataclass(frozen=True)
class Regime:
    """A regime's test. ``aggregate``: holdings of different listed parties add up."""

    name: RegimeName
    measures: tuple[Measure, ...]
    aggregate: bool
    rule: str
    citation: str
    url: str

    @property
    def kinds(self) -> frozenset[RelationKind]:
        return frozenset(m.kind for m in self.measures)


OFAC = Regime(
    name="ofac",
    measures=(Measure("ownership", 0.5, strict=False),),
    aggregate=True,
    rule=(
        "owned 50% or more, directly or indirectly, individually or in the aggregate, by "
        "one or more blocked persons; a blocked intermediate passes on its whole holding; "
        "control alone does not block"
    ),
    citation=(
        "OFAC, Revised Guidance on Entities Owned by Persons Whose Property and Interests "
        "in Property Are Blocked (13 August 2014); OFAC FAQs 398-402; e.g. 31 CFR 587.406"
    ),
    url="https://ofac.treasury.gov/media/6186/download?inline",
)

EU = Regime(
    name="eu",
    measures=(
        Measure("ownership", 0.5, strict=False),
        Measure("voting", 0.5, strict=True),
        Measure("control", 0.5, strict=False, capped=False),
    ),
    aggregate=True,
    rule=(
        "owned (50% or more of the proprietary rights, designated persons' holdings "
        "aggregated) or controlled (majority of the board, dominant influence, majority of "
        "the voting rights) by listed persons or by entities they own or control"
    ),
    citation=(
        "Council of the EU, Update of the EU Best Practices for the effective "
        "implementation of restrictive measures (3 July 2024), 'Ownership and control'; "
        "Regulation (EU) 2024/1745 recital 28; Commission FAQ on Regulation 269/2014 "
        "Article 2, 'aggregate ownership' (8 April 2022)"
    ),
    # The Council's PDF was not reachable from here; this summary of the 2024 update was.
    url="https://dlapiper.com/en/pt-br/insights/publications/2024/08/changes-to-the-eu-sanctions-best-practices",
)

UK = Regime(
    name="uk",
    measures=(
        Measure("ownership", 0.5, strict=True),
        Measure("voting", 0.5, strict=True),
        Measure("control", 0.5, strict=False, capped=False),
    ),
    aggregate=False,
    rule=(
        "more than 50% of the shares or voting rights held by one designated person, "
        "directly or through entities it owns or controls, or the right to appoint or "
        "remove a majority of the board, or control in practice; different designated "
        "persons' holdings are not aggregated"
    ),
    citation=(
        "OFSI, UK Financial Sanctions General Guidance, chapter 4 'Ownership and "
        "control' (aggregation paragraph added March 2022, then para 4.14)"
    ),
    url="https://www.gov.uk/government/publications/financial-sanctions-general-guidance",
)

REGIME_RULES: dict[RegimeName, Regime] = {"ofac": OFAC, "eu": EU, "uk": UK}
