"""Shipments as the papers state them: one ``ShipmentLine`` per goods line of a bill of
lading, manifest, air waybill or customs declaration, with the parties, the goods, the
carrier and the declared route. Every line keeps where it was read (file and row), so
a decision or a mismatch can cite it.

Countries are ISO 3166-1 alpha-2 codes (upper case); ports are UN/LOCODEs where the
papers give one (``VEPBL``), else the name as written; airports ICAO codes. Dates are
calendar dates in UTC. Money is a decimal amount with its ISO 4217 currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Mode = Literal["sea", "air", "land", "unknown"]

Effect = Literal[
    "prohibited",
    "license_required",
    "authorized_by_general_license",
    "review",
    "allowed",
]

# Strongest first: a line's decision is the strongest effect of the rules that fired.
EFFECT_ORDER: tuple[Effect, ...] = (
    "prohibited",
    "license_required",
    "review",
    "authorized_by_general_license",
    "allowed",
)


@dataclass(frozen=True)
class Party:
    """A party as the papers name it; ``role`` is shipper, consignee, notify, carrier,
    end_user, broker..."""

    role: str
    name: str
    country: str | None = None
    address: str = ""


@dataclass(frozen=True, slots=True)
class ShipmentLine:
    """One goods line. ``shipment_id`` groups the lines of one bill, waybill or
    declaration; ``line_id`` is unique in the store (``<shipment_id>/<line_no>``).
    Slotted: a million of them are held at once when a large batch is checked."""

    shipment_id: str
    line_no: int
    source_ref: str  # "file.csv:12" (1-based row, header is row 1) or "file.jsonl:3"
    layout: str
    mode: Mode = "unknown"
    parties: tuple[Party, ...] = ()
    goods: str = ""
    hs_code: str | None = None  # digits only, as declared (6 to 10 digits)
    quantity: float | None = None
    quantity_unit: str = ""
    weight_kg: float | None = None
    value: float | None = None
    currency: str | None = None
    vessel_name: str | None = None
    vessel_imo: str | None = None
    vessel_flag: str | None = None  # ISO alpha-2 the papers give for the vessel's flag
    flight_number: str | None = None
    aircraft_registration: str | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    transit_countries: tuple[str, ...] = ()
    port_of_loading: str | None = None
    port_of_discharge: str | None = None
    loading_date: date | None = None
    discharge_date: date | None = None
    declared_date: date | None = None  # filing or declaration date
    license_number: str | None = None  # a licence or general licence the papers cite
    end_use: str = ""
    end_user: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def line_id(self) -> str:
        return f"{self.shipment_id}/{self.line_no}"

    @property
    def judged_on(self) -> date | None:
        """The date the rules in force are read for: loading, else declaration, else
        discharge."""
        return self.loading_date or self.declared_date or self.discharge_date

    def parties_in(self, role: str) -> tuple[Party, ...]:
        return tuple(p for p in self.parties if p.role == role)
