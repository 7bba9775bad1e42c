"""Beneficial Ownership Data Standard (BODS) statements -> a ``GraphBatch``.

Reads BODS 0.4 (``recordType`` entity/person/relationship with ``recordDetails``, joined
by ``recordId``) and 0.2/0.3 (``statementType`` entityStatement/personStatement/
ownershipOrControlStatement, joined by ``statementID``), as a JSON array or JSON lines.

Node ids are ``<source>:<recordId>`` (0.4) or ``<source>:<statementID>`` (0.2/0.3: the
standard joins statements by statement id). Relation ids are
``<source>:<statementId>#<k>``, one per interest (k counts from 0); a relationship with
no interests gives one ``unknown_link`` with ``#0``. ``GraphBatch.replaced`` holds
``<source>:<statementId>`` of every statement replaced (0.2/0.3 ``replacesStatements``;
0.4: an earlier statement of the same record, in file order) plus the relation ids of
those replaced statements that are in the same batch; a replaced statement from an
earlier load covers every relation id that starts ``<source>:<statementId>#``. In
0.2/0.3 a person or entity statement that replaces another restates the same party:
relations in the batch that name the old statement are moved to the new one (counted as
``restated_parties``); the old node stays, as history.

Interest types -> relation kinds (the standard's codes, 0.2 kebab-case codes too):

==========================================================  ==============  ==========
interest type                                                kind            why
==========================================================  ==============  ==========
shareholding                                                 ownership       shares
rightsToSurplusAssetsOnDissolution, rightsToProfitOrIncome,  ownership       proprietary
rightToProfitOrIncomeFromAssets, beneficiaryOfLegalArrangement               rights (EU)
votingRights                                                 voting
appointmentOfBoard, otherInfluenceOrControl,                 control         board appointment,
controlViaCompanyRulesOrArticles, controlByLegalFramework,                   dominant influence,
rightsGrantedByContract, trustee, protector, settlor,                        control by
nominator                                                                    agreement
seniorManagingOfficial, boardMember, boardChair              directorship    an office, not a
                                                                             right to appoint
nominee                                                      representation  acts for another
conditionalRightsGrantedByContract, enjoymentAndUseOfAssets, unknown_link    not (yet) ownership
unknownInterest, unpublishedInterest                                         or control
==========================================================  ==============  ==========

Shares: ``exact`` gives an exact share; otherwise ``minimum``/``exclusiveMinimum`` and
``maximum``/``exclusiveMaximum`` (0.4 numbers; in 0.2/0.3 ``exclusiveMinimum`` and
``exclusiveMaximum`` are booleans qualifying ``minimum``/``maximum``), a missing bound
being 0% or 100%. Percentages become fractions without rounding.

Unknown holders: a person or entity record typed ``unknownPerson``, ``anonymousPerson``,
``unknownEntity`` or ``anonymousEntity``, and an unspecified interested party (0.4
object with a ``reason``; 0.2/0.3 ``unspecified``), are ``Node(unknown=True)``. An
unspecified party with reason ``noBeneficialOwners`` says no one is there to name: no
node or relation is made for it (counted as ``no_beneficial_owners``).

A 0.4 relationship record closed (``recordStatus`` ``closed``) ends its interests on the
closing statement's date when they state no end of their own (with no statement date,
those interests are listed in ``replaced``: over, on a date nobody says).

What is rejected (``InputError`` naming the file, the record and the field) is what the
graph reads: ids and references, record types and statuses, names, identifiers,
jurisdictions and nationalities, entity and person types, interest types, shares,
``directOrIndirect`` and dates. Schema errors in what it does not read (addresses,
publication details, annotations, sources, PEP details...) are left to a BODS validator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from followthemoney import registry

from watchkeeper.errors import InputError
from watchkeeper.graph.formats.common import (
    JsonRecord,
    check_source,
    finish_batch,
    merge_nodes,
    parse_date,
    read_json_records,
)
from watchkeeper.graph.model import GraphBatch, Node, Relation, RelationKind, Share

INTEREST_KINDS: dict[str, RelationKind] = {
    "shareholding": "ownership",
    "rightsToSurplusAssetsOnDissolution": "ownership",
    "rightsToProfitOrIncome": "ownership",
    "rightToProfitOrIncomeFromAssets": "ownership",
    "beneficiaryOfLegalArrangement": "ownership",
    "votingRights": "voting",
    "appointmentOfBoard": "control",
    "otherInfluenceOrControl": "control",
    "controlViaCompanyRulesOrArticles": "control",
    "controlByLegalFramework": "control",
    "rightsGrantedByContract": "control",
    "trustee": "control",
    "protector": "control",
    "settlor": "control",
    "nominator": "control",
    "seniorManagingOfficial": "directorship",
    "boardMember": "directorship",
    "boardChair": "directorship",
    "nominee": "representation",
    "conditionalRightsGrantedByContract": "unknown_link",
    "enjoymentAndUseOfAssets": "unknown_link",
    "unknownInterest": "unknown_link",
    "unpublishedInterest": "unknown_link",
    # BODS 0.2 codes that 0.3 renamed or folded
    "rightsToSurplusAssets": "ownership",
    "influenceOrControl": "control",
}

# org-id.guide scheme codes with an identifier kind of their own; any other
# "<CC>-<REGISTER>" scheme is a register number in country CC: registration "CC:<id>".
SCHEME_KINDS: dict[str, str] = {
    "XI-LEI": "lei",
    "RU-INN": "inn",
    "RU-OGRN": "ogrn",
    "MX-RFC": "tax",
    "US-EIN": "tax",
    "XI-IMO": "imo_company",
}
# Person identifier schemes are "<ISO 3166-1 alpha-3>-<TYPE>" (BODS 0.4 Identifier).
PERSON_SCHEME_KINDS = {"TAXID": "tax", "PASSPORT": "passport", "IDCARD": "id_card"}

UNKNOWN_TYPES = {"unknownPerson", "anonymousPerson", "unknownEntity", "anonymousEntity"}
ENTITY_TYPES = {
    "registeredEntity",
    "legalEntity",
    "arrangement",
    "anonymousEntity",
    "unknownEntity",
    "state",
    "stateBody",
}
PERSON_TYPES = {"knownPerson", "anonymousPerson", "unknownPerson"}
RECORD_STATUSES = {"new", "updated", "closed"}
DIRECTNESS = {"direct": True, "indirect": False, "unknown": None}
UNSPECIFIED_REASONS = {
    "noBeneficialOwners",
    "subjectUnableToConfirmOrIdentifyBeneficialOwner",
    "interestedPartyHasNotProvidedInformation",
    "subjectExemptFromDisclosure",
    "interestedPartyExemptFromDisclosure",
    "unknown",
    "informationUnknownToPublisher",
    "noNotifiableOwners",  # 0.2
}
_COUNTRY = re.compile(r"^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$")


def read_bods(paths: Iterable[str | Path], source: str) -> GraphBatch:
    """Read BODS files (JSON array or JSON lines, 0.4 or 0.2/0.3) into one batch.
    All or nothing: the first bad statement raises ``InputError`` naming the file,
    the record (``$[i]`` index or line) and the field."""
    source = check_source(source)
    reader = BodsReader(source)
    files = []
    for path in paths:
        files.append(str(path))
        reader.read_file(Path(path))
    return reader.finish(files)


def looks_like_bods(record: Any) -> bool:
    """Whether a JSON record is a BODS statement (any version)."""
    return isinstance(record, dict) and (
        "recordType" in record or "statementType" in record or "statementID" in record
    )


@dataclass
class _Statement:
    """What one statement's reading left to settle once every file is read."""

    statement_id: str
    record_id: str
    statement_date: date | None
    closed: bool
    relations: list[Relation]


@dataclass
class BodsReader:
    """Reads one or more files into one batch (``read_graph_files`` feeds it several)."""

    source: str
    nodes: dict[str, Node] = field(default_factory=dict)
    statements: list[_Statement] = field(default_factory=list)
    replaced_statements: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    aliases: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def read_file(self, path: Path) -> None:
        for record in read_json_records(path):
            if not isinstance(record.value, dict):
                raise record.error(path, "a statement is a JSON object")
            self._statement(path, record, record.value)

    # -- one statement ---------------------------------------------------------------

    def _statement(self, path: Path, record: JsonRecord, value: dict[str, Any]) -> None:
        self._count("statements")
        if "recordType" in value or "recordDetails" in value or "recordId" in value:
            self._statement_04(path, record, value)
        elif "statementType" in value:
            self._statement_03(path, record, value)
        else:
            raise record.error(
                path, "neither recordType (BODS 0.4) nor statementType (0.2/0.3)", "recordType"
            )

    def _statement_04(self, path: Path, rec: JsonRecord, value: dict[str, Any]) -> None:
        get = _Getter(path, rec, value)
        statement_id = get.required_text("statementId")
        record_id = get.required_text("recordId")
        record_type = get.required_choice("recordType", {"entity", "person", "relationship"})
        status = get.choice("recordStatus", RECORD_STATUSES) or "new"
        statement_date = get.date("statementDate")
        details = get.object("recordDetails", required=True)
        ref = f"{path.name}#{statement_id}"
        node_id = f"{self.source}:{record_id}"
        if record_type == "entity":
            self._add_node(_entity(get, details, "recordDetails", node_id, ref))
            self._remember(statement_id, record_id, statement_date, status == "closed", [])
        elif record_type == "person":
            self._add_node(_person(get, details, "recordDetails", node_id, ref))
            self._remember(statement_id, record_id, statement_date, status == "closed", [])
        else:
            subject = self._party_04(get, details, "recordDetails.subject", statement_id, ref)
            holder = self._party_04(
                get, details, "recordDetails.interestedParty", statement_id, ref
            )
            relations = []
            if subject is not None and holder is not None:
                relations = self._interests(
                    get, details, "recordDetails", statement_id, holder, subject, ref, version="0.4"
                )
            self._remember(statement_id, record_id, statement_date, status == "closed", relations)

    def _statement_03(self, path: Path, rec: JsonRecord, value: dict[str, Any]) -> None:
        get = _Getter(path, rec, value)
        statement_id = get.required_text("statementID")
        kind = get.required_choice(
            "statementType", {"entityStatement", "personStatement", "ownershipOrControlStatement"}
        )
        statement_date = get.date("statementDate")
        replaces = get.texts("replacesStatements")
        self.replaced_statements.update(replaces)
        if kind != "ownershipOrControlStatement":
            # A party restated: relations naming the old statement name the new one.
            self.aliases.update(
                (f"{self.source}:{old}", f"{self.source}:{statement_id}") for old in replaces
            )
        ref = f"{path.name}#{statement_id}"
        node_id = f"{self.source}:{statement_id}"
        if kind == "entityStatement":
            self._add_node(_entity(get, value, "", node_id, ref))
            self._remember(statement_id, statement_id, statement_date, False, [])
        elif kind == "personStatement":
            self._add_node(_person(get, value, "", node_id, ref))
            self._remember(statement_id, statement_id, statement_date, False, [])
        else:
            subject_obj = get.object("subject", required=True)
            subject_id = get.required_text("subject.describedByEntityStatement", obj=subject_obj)
            subject = f"{self.source}:{subject_id}"
            holder = self._party_03(get, statement_id, ref)
            relations = []
            if holder is not None:
                relations = self._interests(
                    get, value, "", statement_id, holder, subject, ref, version="0.3"
                )
            self._remember(statement_id, statement_id, statement_date, False, relations)

    def _party_04(
        self, get: _Getter, details: dict[str, Any], where: str, statement_id: str, ref: str
    ) -> str | None:
        name = where.rsplit(".", 1)[-1]
        value = details.get(name)
        if isinstance(value, str) and value:
            return f"{self.source}:{value}"
        if isinstance(value, dict):
            return self._unspecified(get, value, where, statement_id, ref)
        raise get.error(where, "required: a recordId or an unspecified-record object with a reason")

    def _party_03(self, get: _Getter, statement_id: str, ref: str) -> str | None:
        party = get.object("interestedParty", required=True)
        for key in ("describedByEntityStatement", "describedByPersonStatement"):
            if key in party:
                target = get.required_text(f"interestedParty.{key}", obj=party)
                return f"{self.source}:{target}"
        if isinstance(party.get("unspecified"), dict):
            return self._unspecified(
                get, party["unspecified"], "interestedParty.unspecified", statement_id, ref
            )
        raise get.error(
            "interestedParty",
            "needs describedByEntityStatement, describedByPersonStatement or unspecified",
        )

    def _unspecified(
        self, get: _Getter, value: dict[str, Any], where: str, statement_id: str, ref: str
    ) -> str | None:
        reason = get.required_choice(f"{where}.reason", UNSPECIFIED_REASONS, obj=value)
        if reason == "noBeneficialOwners":
            self._count("no_beneficial_owners")
            return None
        description = value.get("description")
        label = f"unspecified ({reason})" + (
            f": {description}" if isinstance(description, str) and description else ""
        )
        node_id = f"{self.source}:unspecified:{statement_id}:{where.rsplit('.', 1)[-1]}"
        self._add_node(
            Node(id=node_id, name=label, schema="LegalEntity", unknown=True, source_ref=ref)
        )
        self._count("unspecified_parties")
        return node_id

    def _interests(
        self,
        get: _Getter,
        details: dict[str, Any],
        where: str,
        statement_id: str,
        holder: str,
        subject: str,
        ref: str,
        *,
        version: str,
    ) -> list[Relation]:
        prefix = f"{where}." if where else ""
        interests = get.array(f"{prefix}interests", obj=details)
        base = f"{self.source}:{statement_id}"
        if not interests:
            return [
                Relation(
                    id=f"{base}#0", kind="unknown_link", holder=holder, held=subject, source_ref=ref
                )
            ]
        relations = []
        for k, interest in enumerate(interests):
            at = f"{prefix}interests[{k}]"
            if not isinstance(interest, dict):
                raise get.error(at, "an interest is an object")
            code = get.text(f"{at}.type", obj=interest) or "unknownInterest"
            interest_type = _camel(code)
            kind = INTEREST_KINDS.get(interest_type)
            if kind is None:
                raise get.error(f"{at}.type", f"{code!r} is not a BODS interest type")
            level_key = "directOrIndirect" if "directOrIndirect" in interest else "interestLevel"
            level = get.choice(f"{at}.{level_key}", set(DIRECTNESS), obj=interest)
            start = get.date(f"{at}.startDate", obj=interest)
            end = get.date(f"{at}.endDate", obj=interest, end=True)
            end_floor = get.date(f"{at}.endDate", obj=interest)  # a partial end's first day
            if start and end_floor and end_floor < start:
                raise get.error(f"{at}.endDate", f"ends ({end_floor}) before it starts ({start})")
            share = _share(get, interest, f"{at}.share", version) if "share" in interest else None
            details_text = interest.get("details")
            relations.append(
                Relation(
                    id=f"{base}#{k}",
                    kind=kind,
                    holder=holder,
                    held=subject,
                    share=share,
                    interests=(interest_type,),
                    direct=DIRECTNESS[level] if level else None,
                    start=start,
                    end=end,
                    role=details_text if isinstance(details_text, str) else "",
                    source_ref=ref,
                )
            )
        return relations

    # -- bookkeeping -----------------------------------------------------------------

    def _add_node(self, node: Node) -> None:
        known = self.nodes.get(node.id)
        self.nodes[node.id] = merge_nodes(known, node) if known else node

    def _remember(
        self,
        statement_id: str,
        record_id: str,
        when: date | None,
        closed: bool,
        relations: list[Relation],
    ) -> None:
        if statement_id in self.seen:
            self._count("duplicate_statements")  # the same statement in two files: once
            return
        self.seen.add(statement_id)
        self.statements.append(_Statement(statement_id, record_id, when, closed, relations))

    def _count(self, key: str) -> None:
        self.counts[key] = self.counts.get(key, 0) + 1

    def finish(self, files: list[str]) -> GraphBatch:
        """Settle replacements and closures across every file read, and hand back the batch."""
        replaced = {f"{self.source}:{sid}" for sid in self.replaced_statements}
        by_record: dict[str, list[_Statement]] = {}
        for statement in self.statements:
            by_record.setdefault(statement.record_id, []).append(statement)
        relations: list[Relation] = []
        for statement in self.statements:
            history = by_record[statement.record_id]
            if statement.statement_id in self.replaced_statements or statement is not history[-1]:
                # An earlier statement of a 0.4 record, or one a 0.2/0.3 statement replaces.
                replaced.add(f"{self.source}:{statement.statement_id}")
                replaced.update(r.id for r in statement.relations)
            if statement.closed and statement.statement_date is not None:
                relations.extend(_ended(r, statement.statement_date) for r in statement.relations)
                self._count("closed_records")
            elif statement.closed:
                # Closed on a date it does not say: over, but not datable; out of the
                # current graph (kept in history) unless an interest states its own end.
                relations.extend(statement.relations)
                replaced.update(r.id for r in statement.relations if r.end is None)
                self._count("closed_records")
            else:
                relations.extend(statement.relations)
        if self.aliases:
            relations = [self._restated(r) for r in relations]
        return finish_batch(self.source, files, self.nodes, relations, replaced, self.counts)

    def _current(self, node_id: str) -> str:
        seen = {node_id}
        while node_id in self.aliases and self.aliases[node_id] not in seen:
            node_id = self.aliases[node_id]
            seen.add(node_id)
        return node_id

    def _restated(self, relation: Relation) -> Relation:
        holder, held = self._current(relation.holder), self._current(relation.held)
        if (holder, held) == (relation.holder, relation.held):
            return relation
        self._count("restated_parties")
        return replace(relation, holder=holder, held=held)


def _ended(relation: Relation, day: date) -> Relation:
    if relation.end is not None or (relation.start is not None and relation.start > day):
        return relation
    return replace(relation, end=day)


def _camel(code: str) -> str:
    """BODS 0.2 wrote interest types in kebab case ("voting-rights")."""
    head, *rest = code.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


# -- parties ---------------------------------------------------------------------------


def _entity(get: _Getter, details: dict[str, Any], where: str, node_id: str, ref: str) -> Node:
    prefix = f"{where}." if where else ""
    type_value = details.get("entityType")
    if isinstance(type_value, dict):  # 0.4: {"type": ..., "subtype": ...}
        entity_type = get.required_choice(f"{prefix}entityType.type", ENTITY_TYPES, obj=type_value)
    elif isinstance(type_value, str) or type_value is None:  # 0.2/0.3: a string
        entity_type = get.required_choice(f"{prefix}entityType", ENTITY_TYPES, obj=details)
    else:
        raise get.error(f"{prefix}entityType", "must be an object with a type")
    name = get.text(f"{prefix}name", obj=details) or ""
    jurisdiction_key = "jurisdiction" if "jurisdiction" in details else "incorporatedInJurisdiction"
    country = _jurisdiction(get, details, f"{prefix}{jurisdiction_key}")
    identifiers = _identifiers(get, details, f"{prefix}identifiers", country, person=False)
    unknown = entity_type in UNKNOWN_TYPES
    schema = {"state": "PublicBody", "stateBody": "PublicBody", "arrangement": "LegalEntity"}.get(
        entity_type, "Company"
    )
    if entity_type == "legalEntity":
        schema = "Organization"
    if unknown:
        schema = "LegalEntity"
        name = name or _unspecified_label(details, entity_type)
    return Node(
        id=node_id,
        name=name,
        schema=schema,
        country=country,
        identifiers=identifiers,
        unknown=unknown,
        source_ref=ref,
    )


def _person(get: _Getter, details: dict[str, Any], where: str, node_id: str, ref: str) -> Node:
    prefix = f"{where}." if where else ""
    person_type = get.required_choice(f"{prefix}personType", PERSON_TYPES, obj=details)
    names = get.array(f"{prefix}names", obj=details)
    name = ""
    for i, entry in enumerate(names):
        at = f"{prefix}names[{i}]"
        if not isinstance(entry, dict):
            raise get.error(at, "a name is an object")
        full = get.text(f"{at}.fullName", obj=entry)
        parts = [
            get.text(f"{at}.{key}", obj=entry)
            for key in ("givenName", "patronymicName", "familyName")
        ]
        candidate = full or " ".join(p for p in parts if p)
        name = name or candidate
    country = None
    for i, nationality in enumerate(get.array(f"{prefix}nationalities", obj=details)):
        if not isinstance(nationality, dict):
            raise get.error(f"{prefix}nationalities[{i}]", "a nationality is an object")
        code = _country_code(get, nationality, f"{prefix}nationalities[{i}].code")
        country = country or code
    identifiers = _identifiers(get, details, f"{prefix}identifiers", country, person=True)
    unknown = person_type in UNKNOWN_TYPES
    if unknown:
        name = name or _unspecified_label(details, person_type)
    return Node(
        id=node_id,
        name=name,
        schema="Person",
        country=country,
        identifiers=identifiers,
        unknown=unknown,
        source_ref=ref,
    )


def _unspecified_label(details: dict[str, Any], kind: str) -> str:
    for key in ("unspecifiedPersonDetails", "unspecifiedEntityDetails"):
        value = details.get(key)
        if isinstance(value, dict) and isinstance(value.get("reason"), str):
            return f"{kind} ({value['reason']})"
    return kind


def _jurisdiction(get: _Getter, details: dict[str, Any], where: str) -> str | None:
    value = details.get(where.rsplit(".", 1)[-1])
    if value is None:
        return None
    if not isinstance(value, dict):
        raise get.error(where, "a jurisdiction is an object with a name and a code")
    return _country_code(get, value, f"{where}.code")


def _country_code(get: _Getter, value: dict[str, Any], where: str) -> str | None:
    code = get.text(where, obj=value)
    if code is None:
        return None
    if not _COUNTRY.match(code):
        raise get.error(where, f"{code!r} is not an ISO 3166 country or subdivision code")
    return code[:2].lower()


def _identifiers(
    get: _Getter, details: dict[str, Any], where: str, country: str | None, *, person: bool
) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for i, entry in enumerate(get.array(where, obj=details)):
        at = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise get.error(at, "an identifier is an object")
        number = get.text(f"{at}.id", obj=entry)
        scheme = get.text(f"{at}.scheme", obj=entry)
        scheme_name = get.text(f"{at}.schemeName", obj=entry)
        if scheme is None and scheme_name is None:
            raise get.error(f"{at}.scheme", "an identifier needs a scheme or a schemeName")
        if not number:
            continue  # a scheme with no id (a URI only) identifies nothing we can match
        kind, value = _identifier(scheme, scheme_name, number, person)
        found.setdefault(kind, [])
        if value not in found[kind]:
            found[kind].append(value)
    return {kind: tuple(values) for kind, values in found.items()}


def _identifier(
    scheme: str | None, scheme_name: str | None, number: str, person: bool
) -> tuple[str, str]:
    code = (scheme or "").strip().upper()
    if code in SCHEME_KINDS:
        return SCHEME_KINDS[code], number
    head, _, tail = code.partition("-")
    if person and tail in PERSON_SCHEME_KINDS:
        return PERSON_SCHEME_KINDS[tail], number
    country = registry.country.clean(head) if 2 <= len(head) <= 3 and head.isalpha() else None
    if not person and country and country != "zz" and tail:
        # "GB-COH", and the alpha-3 spellings some publishers use ("IRL-BAU")
        return "registration", f"{country.upper()}:{number}"
    label = code or (scheme_name or "").strip()
    return "other", f"{label}:{number}"


# -- shares ------------------------------------------------------------------------------


def _share(get: _Getter, interest: dict[str, Any], where: str, version: str) -> Share:
    value = interest.get("share")
    if not isinstance(value, dict):
        raise get.error(where, "a share is an object (exact, minimum, maximum...)")
    exact = get.percent(f"{where}.exact", value)
    if exact is not None:
        return Share.exact(exact)
    minimum = get.percent(f"{where}.minimum", value)
    maximum = get.percent(f"{where}.maximum", value)
    if (
        version == "0.3"
        and isinstance(value.get("exclusiveMinimum"), bool | None)
        and isinstance(value.get("exclusiveMaximum"), bool | None)
    ):
        # 0.2/0.3: booleans that qualify minimum and maximum.
        low_excl = bool(value.get("exclusiveMinimum")) and minimum is not None
        high_excl = bool(value.get("exclusiveMaximum")) and maximum is not None
        low, high = minimum, maximum
    else:
        excl_min = get.percent(f"{where}.exclusiveMinimum", value)
        excl_max = get.percent(f"{where}.exclusiveMaximum", value)
        low, low_excl = _tighter(minimum, excl_min, upper=False)
        high, high_excl = _tighter(maximum, excl_max, upper=True)
    low_value = 0.0 if low is None else low
    high_value = 1.0 if high is None else high
    if low_value > high_value or (low_value == high_value and (low_excl or high_excl)):
        raise get.error(where, f"the range {low_value * 100:g}..{high_value * 100:g}% is empty")
    return Share(low_value, high_value, low_exclusive=low_excl, high_exclusive=high_excl)


def _tighter(
    inclusive: float | None, exclusive: float | None, *, upper: bool
) -> tuple[float | None, bool]:
    """Both a bound and an exclusive bound given: the tighter one holds."""
    if exclusive is None:
        return inclusive, False
    if inclusive is None:
        return exclusive, True
    if upper:
        return (exclusive, True) if exclusive <= inclusive else (inclusive, False)
    return (exclusive, True) if exclusive >= inclusive else (inclusive, False)


# -- typed access to one statement ---------------------------------------------------------


class _Getter:
    """Reads typed fields of one statement; every wrong type or value is an
    ``InputError`` naming the file, the record and the field's path."""

    def __init__(self, path: Path, record: JsonRecord, value: dict[str, Any]) -> None:
        self.path = path
        self.record = record
        self.value = value

    def error(self, where: str, message: str) -> InputError:
        return self.record.error(self.path, message, where)

    def _raw(self, where: str, obj: dict[str, Any] | None) -> Any:
        return (self.value if obj is None else obj).get(where.rsplit(".", 1)[-1].split("]")[-1])

    def text(
        self, where: str, *, required: bool = False, obj: dict[str, Any] | None = None
    ) -> str | None:
        value = self._raw(where, obj)
        if value is None:
            if required:
                raise self.error(where, "required")
            return None
        if not isinstance(value, str):
            raise self.error(where, f"must be a string, not {type(value).__name__}")
        if required and not value.strip():
            raise self.error(where, "must not be empty")
        return value

    def required_text(self, where: str, *, obj: dict[str, Any] | None = None) -> str:
        value = self.text(where, required=True, obj=obj)
        assert value is not None  # text(required=True) raises instead
        return value

    def required_choice(
        self, where: str, allowed: set[str], *, obj: dict[str, Any] | None = None
    ) -> str:
        value = self.choice(where, allowed, required=True, obj=obj)
        assert value is not None
        return value

    def texts(self, where: str) -> Sequence[str]:
        values = self.array(where)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{where}[{i}]", "must be a string")
        return values

    def choice(
        self,
        where: str,
        allowed: set[str],
        *,
        required: bool = False,
        obj: dict[str, Any] | None = None,
    ) -> str | None:
        value = self.text(where, required=required, obj=obj)
        if value is not None and value not in allowed:
            raise self.error(where, f"{value!r} is not one of {', '.join(sorted(allowed))}")
        return value

    def object(self, where: str, *, required: bool = False) -> dict[str, Any]:
        value = self._raw(where, None)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.error(where, "required: an object" if value is None else "must be an object")
        return value

    def array(self, where: str, *, obj: dict[str, Any] | None = None) -> list[Any]:
        value = self._raw(where, obj)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(where, "must be an array")
        return value

    def date(
        self, where: str, *, obj: dict[str, Any] | None = None, end: bool = False
    ) -> date | None:
        value = self.text(where, obj=obj)
        if value is None or not value.strip():
            return None
        try:
            return parse_date(value, end=end)
        except ValueError as exc:
            raise self.error(where, str(exc)) from None

    def percent(self, where: str, share: dict[str, Any]) -> float | None:
        value = share.get(where.rsplit(".", 1)[-1])
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.error(where, "must be a number (a percentage)")
        if not 0 <= value <= 100:
            raise self.error(where, f"{value:g} is not a percentage within 0..100")
        return value / 100
