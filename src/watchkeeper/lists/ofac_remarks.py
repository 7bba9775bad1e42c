"""The grammar of the OFAC legacy CSV ``Remarks`` field, as a pure function.

OFAC's ``sdn.csv`` / ``cons_prim.csv`` pack everything that does not fit the
twelve columns into one ``Remarks`` string of ``;``-separated clauses::

    DOB 10 Dec 1948; POB Tehran, Iran; nationality Iran; Passport G025057 (Iran)
    issued 23 Jun 1999 expires 05 Feb 2004; a.k.a. 'ABU ALI'; Linked To: MAHAN AIR.

:func:`parse_remarks` splits that string into clauses and recognises each one
as a typed :class:`Remark` (a date of birth, an identity document, an alias, a
link...). A clause it does not recognise is returned verbatim in ``leftover``,
so the caller can keep it in ``notes``: nothing is dropped. The function knows
nothing of FollowTheMoney; ``ofac_csv`` maps remarks to FtM properties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Kind(StrEnum):
    """What a recognised clause says."""

    BIRTH_DATE = "birth_date"  # DOB / alt. DOB; ``dates`` holds ISO values
    BIRTH_PLACE = "birth_place"  # POB
    NATIONALITY = "nationality"
    CITIZENSHIP = "citizenship"
    GENDER = "gender"  # value "male" / "female"
    IDENTIFIER = "identifier"  # a numbered document or register entry; see ``label``
    WEAK_ALIAS = "weak_alias"  # a.k.a. 'X' (OFAC puts its low-quality aliases in remarks)
    PREVIOUS_NAME = "previous_name"  # f.k.a. 'X'
    NEW_NAME = "new_name"  # n.k.a. 'X'
    EMAIL = "email"
    WEBSITE = "website"
    PHONE = "phone"
    FAX = "fax"
    LINKED_TO = "linked_to"  # value: the name of the other party, as written
    IMO = "imo"  # value: the seven digits
    MMSI = "mmsi"
    VESSEL_BUILD_YEAR = "vessel_build_year"
    FORMER_FLAG = "former_flag"
    OTHER_FLAG = "other_flag"
    OTHER_CALL_SIGN = "other_call_sign"
    OTHER_VESSEL_TYPE = "other_vessel_type"
    AIRCRAFT_SERIAL = "aircraft_serial"  # MSN, construction number, serial identification
    AIRCRAFT_MODEL = "aircraft_model"
    AIRCRAFT_BUILD_DATE = "aircraft_build_date"
    AIRCRAFT_OPERATOR = "aircraft_operator"  # value: the operator's name, as written
    AIRCRAFT_MODE_S = "aircraft_mode_s"  # ICAO 24-bit transponder address (hex)
    AIRCRAFT_TAIL = "aircraft_tail"
    PREVIOUS_TAIL = "previous_tail"
    REGISTRATION_COUNTRY = "registration_country"  # Nationality of Registration
    ESTABLISHED = "established"  # Organization Established Date
    ORGANIZATION_TYPE = "organization_type"
    TARGET_TYPE = "target_type"
    SANCTIONS_INFO = "sanctions_info"  # secondary-sanctions risk, directives, EO/CAATSA notes
    SANCTION_DATE = "sanction_date"  # Listing / Effective / Divestment date of a (qualifier)
    INFO_URL = "info_url"  # "For more information on directives, please visit..."
    CRYPTO_WALLET = "crypto_wallet"  # label: currency symbol (XBT, ETH...)
    ISIN = "isin"
    TICKER = "ticker"
    ISSUER_NAME = "issuer_name"
    ETHNICITY = "ethnicity"
    POSITION = "position"  # an office, rank or role ("Member of the State Duma...")
    POLITICAL = "political"  # party list of a legislator ("HAMAS - Hebron", "PFLP")


@dataclass(frozen=True)
class Remark:
    """One recognised clause. ``text`` is the clause exactly as written."""

    kind: Kind
    value: str
    text: str
    alt: bool = False  # written as "alt. ..." (a further value of the same kind)
    label: str | None = None  # identifier label, currency, sanctions-info heading, date kind
    country: str | None = None  # "(Country)" after an identifier, as written
    issued: str | None = None  # ISO date or partial date
    expires: str | None = None
    qualifier: str | None = None  # the program or directive a sanction date belongs to
    dates: tuple[str, ...] = ()  # ISO dates (full or partial) the clause stands for
    approximate: bool = False  # "circa" or a range


@dataclass(frozen=True)
class RemarksParse:
    """What one Remarks string says: recognised clauses and the ones left over."""

    remarks: tuple[Remark, ...]
    leftover: tuple[str, ...]

    @property
    def clause_count(self) -> int:
        return len(self.remarks) + len(self.leftover)


# --- dates -----------------------------------------------------------------

MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
_ONE_DATE = r"(?:\d{1,2} [A-Z][a-z]{2} \d{4}|[A-Z][a-z]{2} \d{4}|\d{4})"
_DATE_RE = re.compile(r"(?:(\d{1,2}) )?(?:([A-Z][a-z]{2}) )?(\d{4})")
_RANGE_RE = re.compile(rf"({_ONE_DATE}) to ({_ONE_DATE})")
_CIRCA_RE = re.compile(rf"circa ({_ONE_DATE})")
_YEAR_SPAN_RE = re.compile(r"(?:circa )?(\d{4})-(\d{4})")
_LAST_DAY = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MAX_YEAR_SPAN = 15  # a longer "1950 to 1980" range is kept as its two ends


def parse_date(text: str) -> str | None:
    """``"10 Dec 1948"`` -> ``"1948-12-10"``, ``"Dec 1948"`` -> ``"1948-12"``, ``"1948"``."""
    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        return None
    day, month, year = m.group(1), m.group(2), m.group(3)
    if month is None:
        return year if day is None else None
    number = MONTHS.get(month)
    if number is None:
        return None
    if day is None:
        return f"{year}-{number:02d}"
    if not 1 <= int(day) <= _LAST_DAY[number - 1]:
        return None
    return f"{year}-{number:02d}-{int(day):02d}"


def parse_date_expression(text: str) -> tuple[tuple[str, ...], bool] | None:
    """A date, ``circa`` date or range as ISO values, and whether it is approximate.

    A range that covers whole years (``1950 to 1955``, ``01 Jan 1960 to 31 Dec 1962``)
    becomes every year in it (up to ``MAX_YEAR_SPAN``); a range within one whole month
    becomes that month; any other range is kept as its two ends.
    """
    text = text.strip()
    single = parse_date(text)
    if single is not None:
        return (single,), False
    m = _CIRCA_RE.fullmatch(text)
    if m:
        value = parse_date(m.group(1))
        return ((value,), True) if value else None
    m = _YEAR_SPAN_RE.fullmatch(text)
    if m:
        return _year_range(m.group(1), m.group(2))
    m = _RANGE_RE.fullmatch(text)
    if m is None:
        return None
    start, end = parse_date(m.group(1)), parse_date(m.group(2))
    if start is None or end is None or end < start:
        return None
    if _is_year_start(start) and _is_year_end(end):
        return _year_range(start[:4], end[:4])
    if start[:7] == end[:7] and _is_month_start(start) and _is_month_end(end):
        return (start[:7],), True
    return (start, end), True


def _year_range(first: str, last: str) -> tuple[tuple[str, ...], bool] | None:
    a, b = int(first), int(last)
    if b < a:
        return None
    if b - a > MAX_YEAR_SPAN:
        return (first, last), True
    return tuple(str(y) for y in range(a, b + 1)), True


def _is_year_start(iso: str) -> bool:
    return len(iso) == 4 or iso[4:] in ("-01", "-01-01")


def _is_year_end(iso: str) -> bool:
    return len(iso) == 4 or iso[4:] in ("-12", "-12-31")


def _is_month_start(iso: str) -> bool:
    return len(iso) == 7 or iso.endswith("-01")


def _is_month_end(iso: str) -> bool:
    if len(iso) == 7:
        return True
    month, day = int(iso[5:7]), int(iso[8:10])
    return day >= _LAST_DAY[month - 1] - (1 if month == 2 else 0)


# --- identifiers -------------------------------------------------------------

# Labels OFAC writes before a number, longest first when matching. The category tells
# the FtM mapping which property fits (passport, tax, registration...).
IDENTIFIER_LABELS: dict[str, str] = {
    # travel documents
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "Passport Booklet": "passport",
    "Passport Booklet:": "passport",
    "Travel Document Number": "passport",
    # personal identity numbers
    "National ID No.": "national_id",
    "National ID Number": "national_id",
    "Personal ID Card": "national_id",
    "Identification Number": "national_id",
    "Identification Card": "national_id",
    "Cedula No.": "national_id",
    "D.N.I.": "national_id",
    "C.U.R.P.": "national_id",
    "CURP": "national_id",
    "C.U.I.": "national_id",
    "C.U.I.P.": "national_id",
    "Kenyan ID No.": "national_id",
    "Turkish Identification Number": "national_id",
    "Numero de Identidad": "national_id",
    "Citizen's Card Number": "national_id",
    "Tazkira National ID Card": "national_id",
    "UAE Identification": "national_id",
    "National Foreign ID Number": "national_id",
    "Refugee ID Card": "national_id",
    "Credencial electoral": "national_id",
    "I.F.E.": "national_id",
    "Electoral Registry No.": "national_id",
    "Birth Certificate Number": "national_id",
    "Residency Number": "national_id",
    "Driver's License No.": "national_id",
    "Cartilla de Servicio Militar Nacional": "national_id",
    "Military Registration Number": "national_id",
    "Immigration No.": "national_id",
    "VisaNumberID": "national_id",
    "SRE Permit No.": "national_id",
    "Pilot License Number": "national_id",
    "Stateless Person ID Card": "national_id",
    "Stateless Person Passport": "passport",
    "Serial No.": "national_id",
    "Chinese Commercial Code": "national_id",
    # social security
    "SSN": "ssn",
    "Social Security Number": "ssn",
    # tax numbers
    "Tax ID No.": "tax",
    "R.F.C.": "tax",
    "RFC": "tax",
    "NIT #": "tax",
    "RUC #": "tax",
    "RIF #": "tax",
    "C.U.I.T.": "tax",
    "CUIT": "tax",
    "RTN": "tax",
    "Italian Fiscal Code": "tax",
    "Italian Fiscal Code:": "tax",
    "Fiscal Code": "tax",
    "US FEIN": "tax",
    "Numero Unico de Identificacao Tributaria (NUIT)": "tax",
    "Paraguayan tax identification number": "tax",
    "C.I.F.": "tax",
    "N.I.F.": "tax",
    "V.A.T. Number": "vat",
    # company and register numbers
    "Registration Number": "registration",
    "Registration ID": "registration",
    "Business Registration Number": "registration",
    "Business Registration Document #": "registration",
    "Business Registration Document # CUD:": "registration",
    "Business Number": "registration",
    "Company Number": "registration",
    "UK Company Number": "registration",
    "Commercial Registry Number": "registration",
    "C.R. No.": "registration",
    "Romanian C.R.": "registration",
    "Trade License No.": "registration",
    "Chamber of Commerce Number": "registration",
    "Istanbul Chamber of Comm. No.": "registration",
    "Dubai Chamber of Commerce Membership No.": "registration",
    "Government Gazette Number": "registration",
    "Folio Mercantil No.": "registration",
    "Matricula Mercantil No": "registration",
    "Economic Register Number (CBLS)": "registration",
    "Central Registration System Number": "registration",
    "Public Registration Number": "registration",
    "Enterprise Number": "registration",
    "Branch Unit Number": "registration",
    "Certificate of Incorporation Number": "registration",
    "LE Number": "registration",
    "Registered Charity No.": "registration",
    "Organization Code": "registration",
    "File Number": "registration",
    "Permit Number": "registration",
    "Afghan Money Service Provider License Number": "license",
    "License": "license",
    "Unified Social Credit Code (USCC)": "usc",
    "United Social Credit Code Certificate (USCCC)": "usc",
    "Legal Entity Number": "lei",
    "D-U-N-S Number": "duns",
    "SWIFT/BIC": "swift",
    "BIK (RU)": "bik",
    "Aircraft Serial Identification": "aircraft_serial",
}
_LABELS_BY_LENGTH = sorted(IDENTIFIER_LABELS, key=len, reverse=True)
_IDENTIFIER_RE = re.compile(
    r"(?P<label>"
    + "|".join(re.escape(label) for label in _LABELS_BY_LENGTH)
    + r")(?:\s+#)?\s+(?P<rest>\S.*)"
)
# A register label we do not know yet: "<Words> No." / "Number" / "ID" / "Code" + a value
# that holds a digit. Kept as an identifier with its label, not lost in notes.
_GENERIC_ID_RE = re.compile(
    r"(?P<label>[A-Z][A-Za-z.'/()&-]*(?: [A-Za-z.'/()&-]+){0,6}"
    r" (?:No\.|Number|ID|Code|Card|Certificate|Document))(?:\s*#)?:?\s+(?P<rest>(?=.*\d)\S.*)"
)
_ID_TAIL_RE = re.compile(
    r"(?P<number>.+?)"
    r"(?:\s*\((?P<country>[^()]+)\))?"
    r"(?:,?\s+issued\s+(?P<issued>" + _ONE_DATE + r"))?"
    r"(?:,?\s+expires\s+(?P<expires>" + _ONE_DATE + r"))?"
)


# Prose that starts like an identifier ("Passport issued in Sarajevo...", "Passport 4117921
# issued under the name ...") is not one: it stays in the leftover, verbatim.
_PROSE_RE = re.compile(r"\b(?:issued|under|name|were|and|expire[sd]?|Issue|Expire|by|of|in)\b")


def _identifier(label: str, rest: str, clause: str, alt: bool) -> Remark | None:
    m = _ID_TAIL_RE.fullmatch(rest.strip())
    if m is None:
        return None
    number = m["number"].strip()
    needs_digit = IDENTIFIER_LABELS.get(label) != "swift"
    if (needs_digit and not any(c.isdigit() for c in number)) or _PROSE_RE.search(number):
        return None
    issued = parse_date(m["issued"]) if m["issued"] else None
    expires = parse_date(m["expires"]) if m["expires"] else None
    return Remark(
        Kind.IDENTIFIER,
        number,
        clause,
        alt=alt,
        label=label.rstrip(":").strip(),
        country=m["country"].strip() if m["country"] else None,
        issued=issued,
        expires=expires,
    )


# --- the clause table ----------------------------------------------------------

_ALT = r"(?P<alt>[Aa]lt\. )?"


def _simple(kind: Kind, pattern: str, group: str = "value") -> tuple[re.Pattern[str], Kind, str]:
    return re.compile(pattern), kind, group


# Order matters only where prefixes overlap (the longer, more specific pattern first).
_SIMPLE: list[tuple[re.Pattern[str], Kind, str]] = [
    _simple(Kind.BIRTH_PLACE, _ALT + r"POB (?P<value>.+)"),
    _simple(Kind.NATIONALITY, _ALT + r"nationality (?P<value>.+)"),
    _simple(Kind.CITIZENSHIP, _ALT + r"citizen (?P<value>.+)"),
    _simple(Kind.EMAIL, _ALT + r"Email Address:? (?P<value>\S+)"),
    _simple(Kind.WEBSITE, _ALT + r"Website:? (?P<value>\S+)"),
    _simple(
        Kind.PHONE,
        _ALT
        + r"(?:Phone Number|Telephone Number|Telephone No\.|Telephone|PHONE|Phone|Tel\.)\s*:?\s*"
        r"(?P<value>[+(\d].*)",
    ),
    _simple(Kind.FAX, _ALT + r"(?:Fax No\.|Fax|FAX)\s*:?\s*(?P<value>[+(\d].*)"),
    _simple(Kind.LINKED_TO, r"Linked To:\s*(?P<value>.+)"),
    _simple(Kind.MMSI, _ALT + r"MMSI (?P<value>\d{9})"),
    _simple(Kind.FORMER_FLAG, _ALT + r"Former Vessel Flag (?P<value>.+)"),
    _simple(Kind.OTHER_FLAG, _ALT + r"Other Vessel Flag (?P<value>.+)"),
    _simple(Kind.OTHER_CALL_SIGN, _ALT + r"Other Vessel Call Sign (?P<value>\S+)"),
    _simple(Kind.OTHER_VESSEL_TYPE, _ALT + r"Other Vessel Type (?P<value>.+)"),
    _simple(
        Kind.AIRCRAFT_SERIAL,
        _ALT + r"Aircraft Construction Number \(also called L/N or S/N or F/N\) (?P<value>.+)",
    ),
    _simple(
        Kind.AIRCRAFT_SERIAL, _ALT + r"Aircraft Manufacturer's Serial Number \(MSN\) (?P<value>.+)"
    ),
    _simple(Kind.AIRCRAFT_MODEL, _ALT + r"Aircraft Model (?P<value>.+)"),
    _simple(Kind.AIRCRAFT_OPERATOR, _ALT + r"Aircraft Operator (?P<value>.+)"),
    _simple(
        Kind.AIRCRAFT_MODE_S, _ALT + r"Aircraft Mode S Transponder Code (?P<value>[0-9A-Fa-f]{6})"
    ),
    _simple(Kind.AIRCRAFT_TAIL, _ALT + r"Aircraft Tail Number (?P<value>\S+)"),
    _simple(Kind.PREVIOUS_TAIL, _ALT + r"Previous Aircraft Tail Number (?P<value>\S+)"),
    _simple(Kind.REGISTRATION_COUNTRY, _ALT + r"Nationality of Registration (?P<value>.+)"),
    _simple(Kind.ORGANIZATION_TYPE, _ALT + r"Organization Type: (?P<value>.+)"),
    _simple(Kind.TARGET_TYPE, _ALT + r"Target Type (?P<value>.+)"),
    _simple(Kind.ISIN, _ALT + r"ISIN (?P<value>[A-Z]{2}[A-Z0-9]{9}\d)"),
    _simple(Kind.TICKER, _ALT + r"Equity Ticker (?P<value>.+)"),
    _simple(Kind.ISSUER_NAME, _ALT + r"Issuer Name (?P<value>.+)"),
    _simple(Kind.ETHNICITY, _ALT + r"ethnicity (?P<value>.+)"),
    _simple(Kind.POLITICAL, r"(?P<value>(?:HAMAS|PFLP|DFLP|FATAH|Fatah)(?: - [^;]+)?)"),
    _simple(
        Kind.INFO_URL,
        _ALT + r"(?:Executive Order \d+ Directive Information:? - )?[Ff]or more information"
        r"(?: on directives)?, please (?:visit|reference) the following link: (?P<value>\S+?)\.?",
    ),
]

_GENDER_RE = re.compile(r"Gender (?P<value>Male|Female)")
_DOB_RE = re.compile(_ALT + r"DOB (?P<value>.+)")
_ALIAS_RE = re.compile(r"(?P<type>[afn])\.k\.a\.,? (?P<value>.+)")
_ALIAS_KINDS = {"a": Kind.WEAK_ALIAS, "f": Kind.PREVIOUS_NAME, "n": Kind.NEW_NAME}
_IMO_RE = re.compile(
    _ALT + r"(?:Vessel Registration Identification|Identification Number|Company Number)"
    r" IMO (?P<value>\d{7})"
)
_VESSEL_REG_RE = re.compile(_ALT + r"Vessel Registration Identification (?P<rest>.+)")
_BUILD_YEAR_RE = re.compile(_ALT + r"Vessel Year of Build (?P<value>\d{4})")
_AIRCRAFT_DATE_RE = re.compile(_ALT + r"Aircraft Manufacture Date (?P<value>.+)")
_ESTABLISHED_RE = re.compile(_ALT + r"Organization Established Date (?P<value>.+)")
_SANCTION_DATE_RE = re.compile(
    _ALT + r"(?P<label>Listing Date|Effective Date|Purchase/Sales For Divestment Date)"
    r" \((?P<qualifier>[^)]+)\):? (?P<value>.+)"
)
_SANCTIONS_INFO_RE = re.compile(
    _ALT + r"(?P<label>Additional Sanctions Information|Secondary sanctions risk"
    r"|Transactions Prohibited For Persons Owned or Controlled By U\.S\. Financial Institutions"
    r"|CAATSA Section \d+ Information|Executive Order \d+ (?:Directive )?[Ii]nformation"
    r"|Executive Order \d+ Directive Determination|IFCA Determination)"
    r"(?: -|:)?\s*(?P<value>.*)"
)
# Offices, ranks and roles OFAC writes as free text for people. Tried last, so a clause
# that any other rule knows never lands here; the mapping uses it for Person only.
_POSITION_RE = re.compile(
    r"(?P<value>(?:[Ff]ormer )?(?:\S+ ){0,6}?(?:Member|member|Minister|Chairman|Chairperson|"
    r"Chairwoman|President|Vice-President|Director|Head|Governor|Commander|Chief|Judge|"
    r"Magistrate|Rector|Aide|Ambassador|Advis[eo]r|advis[eo]r|Secretary|Prosecutor|Deputy|"
    r"Official|Employee|[Rr]epresentative|General|Colonel|Col|Officer|Mayor|Leader|Manager|"
    r"Speaker|Inspector|Lieutenant|Captain|Major|Admiral|Brigadier|Commissioner|Mufti|Imam|"
    r"Emir|Amir|Founder|Owner|Shareholder|Executive|CEO|Senator|Deputy|Doctor|Dr\.)\b.*)"
)
_CRYPTO_RE = re.compile(_ALT + r"Digital Currency Address - (?P<label>[A-Z0-9]+):? (?P<value>\S+)")


def split_clauses(remarks: str) -> list[str]:
    """The ``;``-separated clauses, trimmed, without the closing full stop of the field."""
    text = remarks.strip()
    if text.endswith("."):
        text = text[:-1]
    return [c.strip() for c in text.split(";") if c.strip()]


@lru_cache(maxsize=1 << 16)  # clauses repeat a lot ("Gender Male", "Linked To: HAMAS")
def parse_clause(clause: str) -> Remark | None:
    """One clause as a :class:`Remark`, or ``None`` when the grammar does not know it."""
    m = _DOB_RE.fullmatch(clause)
    if m:
        parsed = parse_date_expression(m["value"])
        if parsed is None:
            return None
        dates, approx = parsed
        return Remark(
            Kind.BIRTH_DATE,
            m["value"],
            clause,
            alt=bool(m["alt"]),
            dates=dates,
            approximate=approx,
        )
    m = _GENDER_RE.fullmatch(clause)
    if m:
        return Remark(Kind.GENDER, m["value"].lower(), clause)
    m = _ALIAS_RE.fullmatch(clause)
    if m:
        value = m["value"].strip()
        if len(value) >= 2 and value[0] == "'" and value[-1] == "'":
            value = value[1:-1].strip()
        if not value:
            return None
        return Remark(_ALIAS_KINDS[m["type"]], value, clause)
    m = _IMO_RE.fullmatch(clause)
    if m:
        return Remark(Kind.IMO, m["value"], clause, alt=bool(m["alt"]))
    m = _VESSEL_REG_RE.fullmatch(clause)
    if m:
        return _identifier("Vessel Registration Identification", m["rest"], clause, bool(m["alt"]))
    m = _BUILD_YEAR_RE.fullmatch(clause)
    if m:
        return Remark(Kind.VESSEL_BUILD_YEAR, m["value"], clause, dates=(m["value"],))
    for regex, kind in (
        (_AIRCRAFT_DATE_RE, Kind.AIRCRAFT_BUILD_DATE),
        (_ESTABLISHED_RE, Kind.ESTABLISHED),
    ):
        m = regex.fullmatch(clause)
        if m:
            parsed = parse_date_expression(m["value"])
            if parsed is None:
                return None
            return Remark(
                kind, m["value"], clause, alt=bool(m["alt"]), dates=parsed[0], approximate=parsed[1]
            )
    m = _SANCTION_DATE_RE.fullmatch(clause)
    if m:
        value = parse_date(m["value"])
        if value is None:
            return None
        return Remark(
            Kind.SANCTION_DATE,
            m["value"],
            clause,
            alt=bool(m["alt"]),
            label=m["label"],
            qualifier=m["qualifier"].strip(),
            dates=(value,),
        )
    m = _CRYPTO_RE.fullmatch(clause)
    if m:
        return Remark(Kind.CRYPTO_WALLET, m["value"], clause, alt=bool(m["alt"]), label=m["label"])
    for regex, kind, group in _SIMPLE:
        m = regex.fullmatch(clause)
        if m:
            value = m[group].strip()
            if not value:
                return None
            alt = "alt" in regex.groupindex and bool(m["alt"])
            return Remark(kind, value, clause, alt=alt)
    m = _SANCTIONS_INFO_RE.fullmatch(clause)
    if m:
        return Remark(
            Kind.SANCTIONS_INFO, m["value"].strip(), clause, alt=bool(m["alt"]), label=m["label"]
        )
    body, alt = (clause[5:], True) if clause[:5] in ("alt. ", "Alt. ") else (clause, False)
    m = _IDENTIFIER_RE.fullmatch(body)
    if m:
        return _identifier(m["label"], m["rest"], clause, alt)
    m = _GENERIC_ID_RE.fullmatch(body)
    if m:
        return _identifier(m["label"], m["rest"], clause, alt)
    m = _POSITION_RE.fullmatch(clause)
    if m:
        return Remark(Kind.POSITION, m["value"], clause)
    return None


def parse_remarks(remarks: str) -> RemarksParse:
    """Every clause of a Remarks field, recognised or left over (never dropped)."""
    found: list[Remark] = []
    leftover: list[str] = []
    for clause in split_clauses(remarks):
        remark = parse_clause(clause)
        if remark is None:
            leftover.append(clause)
        else:
            found.append(remark)
    return RemarksParse(tuple(found), tuple(leftover))
