"""Identifiers compared exactly after normalisation: IMO (with its check digit), MMSI,
aircraft tail numbers, passport and national ids, registration numbers."""

from __future__ import annotations

import re

# FtM properties that carry identifiers, and the kind of identifier each is.
ID_PROPERTIES: dict[str, str] = {
    "imoNumber": "imo",
    "mmsi": "mmsi",
    "registrationNumber": "registration",
    "passportNumber": "passport",
    "idNumber": "id",
    "taxNumber": "tax",
    "innCode": "tax",
    "ogrnCode": "registration",
    "leiCode": "lei",
    "swiftBic": "bic",
    "callSign": "callsign",
    "serialNumber": "serial",
    "vatCode": "tax",
    "socialSecurityNumber": "id",
    "licenseNumber": "id",
}

# How much an exact identifier match says on its own (strong ids name one thing).
ID_WEIGHTS: dict[str, float] = {
    "imo": 0.98,
    "mmsi": 0.9,
    "lei": 0.95,
    "bic": 0.9,
    "registration": 0.9,
    "passport": 0.9,
    "id": 0.85,
    "tax": 0.9,
    "callsign": 0.75,
    "serial": 0.85,
}

_NON_ALNUM = re.compile(r"[^0-9A-Z]+")
_IMO = re.compile(r"(?:IMO)?\s*(\d{7})\b")


def imo_valid(digits: str) -> bool:
    """IMO ship numbers: seven digits, the last the check digit of the first six."""
    if len(digits) != 7 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True))
    return total % 10 == int(digits[6])


def normalise_identifier(kind: str, value: str) -> str | None:
    """The comparable form of an identifier, or None when it cannot be one."""
    text = _NON_ALNUM.sub("", value.upper())
    if kind == "imo":
        digits = text.removeprefix("IMO")
        return digits if imo_valid(digits) else None
    if kind == "mmsi":
        return text if len(text) == 9 and text.isdigit() else None
    # A leading country word or "NO" is noise; very short ids say nothing.
    if len(text) < 4:
        return None
    return text


def identifier_keys(properties: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    """(kind, normalised key, raw value) for every identifier in these properties."""
    found: list[tuple[str, str, str]] = []
    for prop, kind in ID_PROPERTIES.items():
        for raw in properties.get(prop, []):
            key = normalise_identifier(kind, raw)
            if key:
                found.append((kind, key, raw))
    return found


def loose_identifier_keys(value: str) -> list[tuple[str, str]]:
    """Every kind a free-text identifier (``--id X``) could be: IMO, MMSI or other."""
    keys: list[tuple[str, str]] = []
    text = _NON_ALNUM.sub("", value.upper())
    imo = normalise_identifier("imo", text)
    if imo:
        keys.append(("imo", imo))
    mmsi = normalise_identifier("mmsi", text)
    if mmsi:
        keys.append(("mmsi", mmsi))
    if len(text) >= 4:
        keys.append(("any", text))
    return keys
