"""Stored lines decided a group at a time give every line exactly the decision
check_lines gives it: the bundled sample shipments on the real OFAC SDN list, and
generated lines (listed, possibly matched and ownership-exposed parties, vessels,
routes named and not named by rules, end uses, licences, dates across the rules'
boundaries) with a hand-made screener."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchkeeper.cargo.bulk import check_stored
from watchkeeper.cargo.decide import (
    HsVerdict,
    PartyHit,
    ScreenerChecks,
    check_lines,
    verdict_from_hs_check,
)
from watchkeeper.cargo.hs import check_hs
from watchkeeper.cargo.ingest import ingest_files
from watchkeeper.cargo.model import Party, ShipmentLine
from watchkeeper.cargo.store import read_lines, store_batch
from watchkeeper.errors import InputError
from watchkeeper.screening import Screener
from watchkeeper.store import Store

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "cargo" / "sample_shipments.csv"
TODAY = date(2026, 1, 1)


def hs(code: str | None, description: str) -> HsVerdict:
    return verdict_from_hs_check(check_hs(code, description))


def _same_as_check_lines(store: Store, **checks: object) -> int:
    """Every stored line's full decision both ways; the number of groups decided."""
    stored = check_stored(store, hs_check=hs, today=TODAY, **checks)  # type: ignore[arg-type]
    lines = read_lines(store)
    expected = check_lines(lines, hs_check=hs, today=TODAY, **checks)  # type: ignore[arg-type]
    assert stored.line_ids == [ln.line_id for ln in lines]
    assert list(stored.line_decisions(lines)) == expected
    counts: dict[str, int] = {}
    for d in expected:
        counts[d.decision] = counts.get(d.decision, 0) + 1
    assert stored.counts() == counts
    assert stored.by_line() == {d.line_id: d.decision for d in expected}
    return len(stored.groups)


def test_the_sample_shipments_on_the_sdn_list(sdn_db_path: Path, store: Store) -> None:
    with Store(sdn_db_path, read_only=True) as lists:
        checks = ScreenerChecks(Screener.from_store(lists))
    ingest_files(store, [SAMPLE], "customs_declaration")
    _same_as_check_lines(store, party_checker=checks.party, vessel_checker=checks.vessel)


@dataclass(frozen=True)
class _Exposure:
    status: str
    chain: str


def _party(name: str, country: str | None) -> Sequence[PartyHit]:
    """Hand-made screening: names say what the lists would."""
    if "LISTED" in name:
        return [PartyHit(f"e-{name}", name.title(), 1.0, True, "ofac_sdn", ("IRAN",))]
    if "MAYBE" in name:
        return [PartyHit(f"m-{name}", name.title(), 0.8, False, "ofac_sdn")]
    if "OWNED" in name:
        return [PartyHit("e-owned", "Owned Co", 1.0, True, "ofac_sdn", (), ("gov.soe",))]
    if "BROKEN" in name:
        raise InputError(None, "the screener refused the name")
    return []


def _vessel(name: str, imo: str | None) -> Sequence[PartyHit]:
    if name.startswith("DARK"):
        return [PartyHit("v-dark", "Dark Ship", 1.0, True, "ofac_sdn", ("IRAN",))]
    return []


def _exposure(entity_id: str) -> _Exposure | None:
    if entity_id == "e-owned":
        return _Exposure("blocked_by_ownership", "Owned Co <- 60% Listed Parent")
    return None


_NAMES = ["Acme Trading", "Blue Sea LLC", "LISTED Petro", "MAYBE Shipping", "OWNED Holdings",
          "BROKEN Name", "Star Co", ""]  # fmt: skip
_COUNTRIES = [None, "IR", "VE", "KP", "SY", "CU", "RU", "CN", "AE", "US", "DE"]
_GOODS = [("271012", "GASOLINE"), (None, "CRUDE OIL"), ("300431", "INSULIN"), ("850811", "VACUUM"),
          ("710812", "GOLD BARS"), (None, "WHEAT FLOUR"), ("999999", "NONSENSE"), ("8508", "GOLD")]  # fmt: skip
_END_USES = ["", "", "civilian", "hospital use", "for the army", "Police academy"]
_START = date(2014, 1, 1)


def _lines(seed: int, n: int) -> list[ShipmentLine]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        code, goods = rng.choice(_GOODS)
        parties = tuple(
            Party(role, rng.choice(_NAMES), rng.choice(_COUNTRIES))
            for role in rng.sample(
                ["shipper", "consignee", "notify", "end_user"], rng.randint(0, 3)
            )
        )
        day = _START + timedelta(days=rng.randrange(4400)) if rng.random() < 0.9 else None
        out.append(
            ShipmentLine(
                shipment_id=f"S{i // 3}",
                line_no=i % 3 + 1,
                source_ref=f"gen.csv:{i + 2}",
                layout="generated",
                parties=parties,
                goods=goods,
                hs_code=code,
                vessel_name=rng.choice([None, "DARK STAR", "BRIGHT SUN", "DARK STAR "]),
                vessel_imo=rng.choice([None, "9526887", "1234567"]),
                origin_country=rng.choice(_COUNTRIES),
                destination_country=rng.choice(_COUNTRIES),
                transit_countries=tuple(rng.sample(["AE", "IR", "OM", "TR"], rng.randint(0, 2))),
                port_of_loading=rng.choice([None, "IRBND", "CNSHA", "Bandar Abbas"]),
                port_of_discharge=rng.choice([None, "VEPBL", "AEJEA"]),
                loading_date=day,
                declared_date=rng.choice([None, day]),
                discharge_date=rng.choice([None, _START + timedelta(days=rng.randrange(4400))]),
                license_number=rng.choice([None, None, "GL-560.530"]),
                end_use=rng.choice(_END_USES),
                end_user=rng.choice([None, None, "Ministry of Defence", "LISTED Army", " "]),
            )
        )
    return out


def _store(lines: list[ShipmentLine]) -> Store:
    store = Store(":memory:")
    store_batch(store, lines, sources=["gen.csv"], layout="generated", source_hash="gen")
    return store


def test_generated_lines_with_exposure_decide_alike_in_fewer_groups() -> None:
    store = _store(_lines(13, 3000))
    try:
        groups = _same_as_check_lines(
            store, party_checker=_party, vessel_checker=_vessel, exposure_checker=_exposure
        )
    finally:
        store.close()
    assert groups < 3000  # lines that decide alike were decided once


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_any_generated_lines_decide_alike(seed: int, n: int) -> None:
    store = _store(_lines(seed, n))
    try:
        _same_as_check_lines(store, party_checker=_party, vessel_checker=_vessel)
    finally:
        store.close()
