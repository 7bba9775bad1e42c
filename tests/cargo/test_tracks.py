"""Papers against tracks on REAL tracks: the bundled Argenni Baltic AIS sample
(2018-04-01, a copy of ../shared/data/ais/argenni_ais_reconstruction) with the real
detectors run over it, and the bundled ADS-B (the real N899DN trace; the HAND-MADE
Mahan Air-like OIIE <-> SVMI rotations).

The tracks and the events are real; every DECLARATION below is HAND-MADE (no real bill of
lading for these vessels is available): each one is written to match or to contradict
what the real track shows, and says which. A few hand-made tracks are used only for edge
conditions the samples do not hold (one IMO moving between two MMSIs)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA, shared_path
from tests.movement import samples
from watchkeeper.cargo.model import ShipmentLine
from watchkeeper.cargo.tracks import (
    EVENT_TYPE,
    FINDING_KINDS,
    TrackCheckParams,
    TrackFinding,
    check_tracks,
    flight_callsigns,
    imo_number,
    mismatch_events,
    save_mismatch_events,
)
from watchkeeper.store import Store

APRIL_1 = date(2018, 4, 1)

# Real vessels of the Baltic sample and what the real detectors found for them.
STABERHUK = "9452086"  # MMSI 211462260: Kappeln (DE KAP) 00:09-07:48, Eckernforde 09:44-10:55
HALLAND_CY = 212536000  # Cyprus MID; calls at Kronshtadt (RU KDT) 06:02-10:40
HALLAND_DE = 218759000  # a German namesake heard the same day
JENS_SOERENSEN = "9080950"  # MMSI 219593000: Frederikshavn call, 6.4 h AIS gap from 03:51
MARGRETE_LAESOE = "9139438"  # MMSI 219000407: 'encounter' with ANE LAESOE 01:50-03:50


def flag_of(mmsi: int) -> str | None:
    from watchkeeper.movement.vessels import mmsi_flag

    entry = mmsi_flag(mmsi)
    return entry.country if entry else None


@pytest.fixture(scope="module")
def baltic() -> Iterator[Store]:
    """The bundled Argenni samples ingested and every ship detector run (real events)."""
    from watchkeeper.movement.ais.ingest import ingest_paths
    from watchkeeper.movement.detect import run_detectors

    store = Store(":memory:")
    ingest_paths(store, [DATA / "ais" / "argenni"])
    run_detectors(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def air() -> Iterator[Store]:
    """The bundled ADS-B: the real N899DN trace and the HAND-MADE Mahan rotations."""
    from watchkeeper.movement.air import ingest_paths, run_detectors

    store = Store(":memory:")
    ingest_paths(
        store,
        [
            DATA / "adsb" / "trace_full_ac671b.json.gz",
            DATA / "adsb" / "handmade_mahan_OIIE_SVMI.jsonl.gz",
        ],
    )
    run_detectors(store)
    yield store
    store.close()


def line(shipment: str, n: int = 1, **kw: Any) -> ShipmentLine:
    """A HAND-MADE declared shipment line."""
    kw.setdefault("mode", "sea")
    return ShipmentLine(shipment, n, f"handmade.csv:{n + 1}", "handmade", **kw)


def kinds(findings: list[TrackFinding], line_id: str | None = None) -> list[str]:
    return [f.kind for f in findings if line_id is None or f.line_id == line_id]


def only(findings: list[TrackFinding], kind: str) -> TrackFinding:
    found = [f for f in findings if f.kind == kind]
    assert len(found) == 1, (kind, kinds(findings))
    return found[0]


# ------------------------------------------------------------------ ships, real tracks


def test_declared_voyage_that_matches_the_track(baltic: Store) -> None:
    """MATCHES: STABERHUK really sailed Kappeln -> Eckernforde on 2018-04-01."""
    decl = line(
        "MATCH",
        vessel_imo=f"IMO {STABERHUK}",
        vessel_name="Staberhuk",
        port_of_loading="DE KAP",
        port_of_discharge="Eckernforde",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    found = check_tracks(baltic, [decl])
    assert kinds(found) == ["identity_resolved", "declared_port_called", "declared_port_called"]
    ident = found[0]
    assert ident.subject == "mmsi:211462260" and ident.score == 1.0
    assert "during the declared voyage" in ident.detail
    assert all(f.evidence[0] == "cargo:MATCH/1" for f in found)
    called = [f for f in found if f.kind == "declared_port_called"]
    assert "Kappeln" in called[0].detail and "Eckernforde" in called[1].detail
    assert all(f.evidence[1].startswith("event:port_call-") for f in called)
    assert not any(f.mismatch for f in found)
    assert mismatch_events([decl], found) == []


def test_declared_discharge_port_contradicted_by_the_track(baltic: Store) -> None:
    """CONTRADICTS: the papers say STABERHUK discharged at Copenhagen; the track shows no
    call there (never within 200 km) and an undeclared call at Eckernforde."""
    decl = line(
        "COPENHAGEN",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DKCPH",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    found = check_tracks(baltic, [decl])
    assert {"declared_port_not_called", "undeclared_port_call"} <= set(kinds(found))
    missing = only(found, "declared_port_not_called")
    assert missing.mismatch and "DKCPH" in missing.detail
    assert missing.params["closest_km"] > 200
    assert missing.evidence[1].startswith("ais:")
    extra = only(found, "undeclared_port_call")
    assert "Eckernforde" in extra.detail and not extra.params["sanctioned"]
    [event] = mismatch_events([decl], found)
    assert event.type == EVENT_TYPE
    assert event.subjects[:2] == ("cargo:COPENHAGEN/1", "mmsi:211462260")
    assert event.evidence[0] == "cargo:COPENHAGEN/1"
    assert any(e.startswith("event:port_call-") for e in event.evidence)
    assert any(e.startswith("ais:") for e in event.evidence)
    assert "declared discharge DKCPH" in event.detail and "Eckernforde" in event.detail
    assert event.score == pytest.approx(0.6)


def test_vessel_by_name_and_flag_with_an_undeclared_call_in_russia(baltic: Store) -> None:
    """CONTRADICTS: 'HALLAND', Cyprus flag, declared Helsinki -> Gothenburg; the Cypriot
    HALLAND called at Kronshtadt (RU), a sanctioned country. The German HALLAND heard the
    same day is told apart by the flag its MMSI claims."""
    decl = line(
        "HALLAND",
        vessel_name="HALLAND",
        vessel_flag="CY",
        port_of_loading="Helsinki",
        port_of_discharge="SEGOT",
        loading_date=date(2018, 3, 31),
        discharge_date=date(2018, 4, 2),
    )
    found = check_tracks(baltic, [decl], flag_of=flag_of)
    ident = only(found, "identity_resolved")
    assert ident.subject == f"mmsi:{HALLAND_CY}" and "CY flag" in ident.detail
    call = only(found, "undeclared_port_call")
    assert call.score == 0.9 and call.params["sanctioned"] and call.params["port_country"] == "ru"
    assert "Kronshtadt" in call.detail and "RU is a sanctioned country" in call.detail
    # Helsinki on 03-31 and Gothenburg on 04-02: the sample holds 04-01 only.
    assert kinds(found).count("declared_port_unobserved") == 2
    [event] = mismatch_events([decl], found)
    assert event.score == 0.9 and "Kronshtadt" in event.detail
    # The German flag picks the other MMSI; no flag at all: ambiguous, nothing checked.
    german = check_tracks(
        baltic,
        [line("H2", vessel_name="Halland", vessel_flag="DE", loading_date=APRIL_1)],
        flag_of=flag_of,
    )
    assert only(german, "identity_resolved").subject == f"mmsi:{HALLAND_DE}"
    unflagged = check_tracks(
        baltic, [line("H3", vessel_name="HALLAND", loading_date=APRIL_1)], flag_of=flag_of
    )
    assert kinds(unflagged) == ["identity_ambiguous"]
    assert set(unflagged[0].params["candidates"]) == {f"mmsi:{HALLAND_CY}", f"mmsi:{HALLAND_DE}"}
    # Without a MID table the flag cannot be checked, and the reason says so.
    blind = check_tracks(baltic, [decl])
    assert only(blind, "identity_ambiguous").detail.endswith("(no MID table given)")


def test_declared_transit_country_call_is_not_a_mismatch(baltic: Store) -> None:
    """MATCHES (as declared): the same HALLAND voyage declaring Russia as a transit
    country; its Kronshtadt call is then declared."""
    decl = line(
        "TRANSIT",
        vessel_name="HALLAND",
        vessel_flag="CY",
        port_of_loading="Helsinki",
        port_of_discharge="SEGOT",
        transit_countries=("RU",),
        loading_date=date(2018, 3, 31),
        discharge_date=date(2018, 4, 2),
    )
    found = check_tracks(baltic, [decl], flag_of=flag_of)
    assert "transit_port_call" in kinds(found) and "undeclared_port_call" not in kinds(found)
    assert mismatch_events([decl], found) == []


def test_two_vessels_with_one_name_are_ambiguous(baltic: Store) -> None:
    """Two real MMSIs broadcast 'KIEL' on 2018-04-01: the check says so and goes no
    further rather than pick one."""
    found = check_tracks(baltic, [line("KIEL", vessel_name="KIEL", loading_date=APRIL_1)])
    assert kinds(found) == ["identity_ambiguous"]
    assert "2 MMSIs" in found[0].detail and not found[0].mismatch
    assert len(found[0].params["candidates"]) == 2


def test_ais_gap_and_undeclared_call_during_the_voyage(baltic: Store) -> None:
    """CONTRADICTS: JENS SOERENSEN declared Aarhus -> Gothenburg; it sat at Frederikshavn
    and went silent for 6.4 h."""
    decl = line(
        "GAP",
        vessel_imo=JENS_SOERENSEN,
        port_of_loading="DKAAR",
        port_of_discharge="SEGOT",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    found = check_tracks(baltic, [decl])
    gap = only(found, "ais_gap_during_voyage")
    assert gap.mismatch and "6.4 h" in gap.detail
    assert gap.evidence[1].startswith("event:ais_gap-") and gap.evidence[2].startswith("ais:")
    assert "Frederikshavn" in only(found, "undeclared_port_call").detail
    assert kinds(found).count("declared_port_not_called") == 2
    [event] = mismatch_events([decl], found)
    assert "AIS gap of 6.4 h" in event.detail


def test_encounter_during_the_voyage(baltic: Store) -> None:
    """CONTRADICTS (as far as the detector goes): MARGRETE LAESOE declared Frederikshavn
    -> Laeso; the encounter detector paired it with ANE LAESOE for 2 h. (In this sample
    both ferries lie at Vesteroe Havn, a harbour missing from the World Port Index, so the
    'encounter' is two moored ferries: the check is as good as the events it reads.)"""
    decl = line(
        "STS",
        vessel_imo=MARGRETE_LAESOE,
        port_of_loading="DKFDH",
        port_of_discharge="DKLAE",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    found = check_tracks(baltic, [decl])
    sts = only(found, "encounter_during_voyage")
    assert "MMSI 219000734" in sts.detail and sts.score == 0.8
    # Heard 0.1 km from Frederikshavn without a detected stop: no mismatch claimed.
    assert only(found, "declared_port_visited").mismatch is False
    # No World Port Index entry for Laeso: no call can be detected, none is claimed missing.
    assert only(found, "declared_port_unknown").mismatch is False
    assert [f.kind for f in found if f.mismatch] == ["encounter_during_voyage"]


def test_the_papers_name_another_vessel_than_the_imo_broadcasts(baltic: Store) -> None:
    """CONTRADICTS: IMO 9452086 with a name its transponder never broadcast."""
    found = check_tracks(
        baltic,
        [
            line(
                "NAME",
                vessel_imo=STABERHUK,
                vessel_name="EVER GIVEN",
                port_of_loading="DEKAP",
                port_of_discharge="DEECK",
                loading_date=APRIL_1,
                discharge_date=APRIL_1,
            )
        ],
    )
    differs = only(found, "vessel_name_differs")
    assert differs.mismatch and "STABERHUK" in differs.detail and "EVERGIVEN" in differs.detail


def test_a_bad_imo_falls_back_to_the_name(baltic: Store) -> None:
    found = check_tracks(
        baltic,
        [line("BADIMO", vessel_imo="9452087", vessel_name="STABERHUK", loading_date=APRIL_1)],
    )
    ident = only(found, "identity_resolved")
    assert ident.subject == "mmsi:211462260"
    assert "fails its check digit" in ident.detail and "name STABERHUK" in ident.detail
    assert imo_number("9452086") == (9452086, "")
    assert imo_number("945208")[0] is None


def test_tracks_absent_is_its_own_finding(baltic: Store) -> None:
    """The real IMO, but declared for June 2018: no position in the window. The identity
    still resolves (with a lower score: heard two months earlier), and absence is said,
    not reported as a mismatch."""
    decl = line(
        "JUNE",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DEECK",
        loading_date=date(2018, 6, 1),
        discharge_date=date(2018, 6, 3),
    )
    found = check_tracks(baltic, [decl])
    assert kinds(found) == ["identity_resolved", "tracks_absent"]
    assert found[0].score < 0.9 and "not during it" in found[0].detail
    assert not found[1].mismatch and "no AIS position" in found[1].detail
    assert mismatch_events([decl], found) == []


@pytest.mark.parametrize(
    ("loading", "discharge", "expected"),
    [
        # Declared discharge at Eckernforde on 03-30: the real call on 04-01 09:44 is
        # within the 2-day tolerance (the leg runs to 04-01 + ... = 04-02 00:00).
        (date(2018, 3, 29), date(2018, 3, 30), "declared_port_called"),
        # On 03-29: the leg ends 04-01 00:00, before the call; the window holds no position.
        (date(2018, 3, 29), date(2018, 3, 29), "tracks_absent"),
    ],
)
def test_tolerance_edges(baltic: Store, loading: date, discharge: date, expected: str) -> None:
    found = check_tracks(
        baltic,
        [
            line(
                "TOL",
                vessel_imo=STABERHUK,
                port_of_discharge="DEECK",
                loading_date=loading,
                discharge_date=discharge,
            )
        ],
    )
    assert expected in kinds(found)
    tighter = check_tracks(
        baltic,
        [
            line(
                "TOL",
                vessel_imo=STABERHUK,
                port_of_discharge="DEECK",
                loading_date=loading,
                discharge_date=discharge,
            )
        ],
        TrackCheckParams(sea_tolerance_days=0),
    )
    assert "declared_port_called" not in kinds(tighter)


def test_lines_that_cannot_be_checked(baltic: Store) -> None:
    found = check_tracks(
        baltic,
        [
            line("LAND", mode="land"),
            line("NODATE", vessel_imo=STABERHUK),
            line("AIRNOFLIGHT", mode="air", vessel_name="X", loading_date=APRIL_1),
        ],
    )
    assert kinds(found) == ["not_checkable"] * 3
    assert "no loading, declaration or discharge date" in found[1].detail
    assert found[1].detail.startswith("handmade.csv:2")


def test_mismatch_events_are_replaced_not_piled_up(baltic: Store) -> None:
    """A corrected line leaves no stale event; other lines' events stay."""
    wrong = line(
        "SAVE",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DKCPH",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    other = line(
        "OTHER",
        vessel_imo=JENS_SOERENSEN,
        port_of_loading="DKAAR",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    both = [wrong, other]
    save_mismatch_events(
        baltic, [x.line_id for x in both], mismatch_events(both, check_tracks(baltic, both))
    )

    def stored() -> list[str]:
        rows = baltic.con.execute(
            "SELECT subjects[1] FROM events WHERE type = ? ORDER BY 1", [EVENT_TYPE]
        ).fetchall()
        return [r[0] for r in rows]

    assert stored() == ["cargo:OTHER/1", "cargo:SAVE/1"]
    fixed = line(
        "SAVE",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DEECK",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    save_mismatch_events(
        baltic, [fixed.line_id], mismatch_events([fixed], check_tracks(baltic, [fixed]))
    )
    assert stored() == ["cargo:OTHER/1"]
    baltic.con.execute("DELETE FROM events WHERE type = ?", [EVENT_TYPE])


def test_loitering_during_the_voyage(baltic: Store) -> None:
    """CONTRADICTS: KAMBR (IMO 9348223) declared Kiel -> Gdansk on 2018-04-01; the real
    track idles below 2 kn, 36 nm or more from shore, for 10.6 h."""
    found = check_tracks(
        baltic,
        [
            line(
                "LOITER",
                vessel_imo="9348223",
                port_of_loading="DEKEL",
                port_of_discharge="PLGDN",
                loading_date=APRIL_1,
                discharge_date=APRIL_1,
            )
        ],
    )
    loiter = only(found, "loitering_during_voyage")
    assert loiter.mismatch and loiter.evidence[1].startswith("event:loitering-")
    assert loiter.start is not None and loiter.end is not None
    assert (loiter.end - loiter.start).total_seconds() > 10 * 3600


def test_a_listed_vessel_is_cited_from_the_lists(tmp_path: Path) -> None:
    """The real tanker PANTELIS (MMSI 209448000) broadcast IMO 9274616 in the Gulf of
    Finland on 2018-04-01; the real 2024-05-03 SDN lists that IMO as LA PRIDE
    (ofac-47221). A HAND-MADE declaration Primorsk -> Rotterdam for that day: the
    mismatch event names the listed vessel among its subjects, as ship events do."""
    from watchkeeper.movement.ais.ingest import ingest_paths
    from watchkeeper.movement.detect import run_detectors

    sdn = samples.sdn_rows(DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz")
    with Store(":memory:") as store:
        ingest_paths(store, [DATA / "ais" / "argenni"])
        samples.add_list(store, "ofac_sdn", samples.vessel_entities(sdn), tmp_path)
        run_detectors(store, ["port_call"])
        decl = line(
            "LISTED",
            vessel_imo="9274616",
            vessel_name="PANTELIS",
            port_of_loading="RUPRI",
            port_of_discharge="NLRTM",
            loading_date=APRIL_1,
            discharge_date=APRIL_1,
        )
        found = check_tracks(store, [decl])
    ident = only(found, "identity_resolved")
    assert ident.subject == "mmsi:209448000"
    assert "linked to listed ofac-47221 (imo, 1.00)" in ident.detail
    assert ident.params["listed"] == ["ofac-47221"]
    [event] = mismatch_events([decl], found)
    assert event.subjects == ("cargo:LISTED/1", "mmsi:209448000", "imo:9274616", "ofac-47221")


def test_positions_without_detection_claim_nothing() -> None:
    """The real Baltic positions ingested but `detect` never run: no port call is
    stored, which must not read as 'the declared port was not called'."""
    from watchkeeper.movement.ais.ingest import ingest_paths

    with Store(":memory:") as store:
        ingest_paths(store, [DATA / "ais" / "argenni"])
        found = check_tracks(
            store,
            [
                line(
                    "RAW",
                    vessel_imo=STABERHUK,
                    port_of_loading="DEKAP",
                    port_of_discharge="DKCPH",
                    loading_date=APRIL_1,
                    discharge_date=APRIL_1,
                )
            ],
        )
    assert kinds(found) == ["identity_resolved", "tracks_not_analysed"]
    assert "watchkeeper detect" in found[1].detail


# ------------------------------------------------------------------ set-based


class CountingStore:
    """Counts the SQL statements a check sends (a proxy over a real store)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.statements = 0
        outer = self

        class Con:
            def __getattr__(self, name: str) -> Any:
                return getattr(store.con, name)

            def execute(self, *args: Any) -> Any:
                outer.statements += 1
                return store.con.execute(*args)

        self.con = Con()


def test_one_join_per_question_however_many_lines(baltic: Store) -> None:
    """The store is asked the same few questions for 1 line or 300 (distinct voyages):
    set-based SQL, not a query per line."""

    def lines(n: int) -> list[ShipmentLine]:
        imos = [STABERHUK, JENS_SOERENSEN, MARGRETE_LAESOE]
        return [
            line(
                f"N{i}",
                vessel_imo=imos[i % 3],
                port_of_loading="DEKAP",
                port_of_discharge="DKCPH",
                loading_date=date(2018, 3, 25 + i % 7),
                discharge_date=APRIL_1,
            )
            for i in range(n)
        ]

    counts = []
    for n in (1, 300):
        proxy = CountingStore(baltic)
        found = check_tracks(proxy, lines(n))  # type: ignore[arg-type]
        assert {f.line_id for f in found} == {f"N{i}/1" for i in range(n)}
        counts.append(proxy.statements)
    assert counts[0] == counts[1] <= 4


# ------------------------------------------------------------------ hand-made identity edges


def test_identity_valid_during_the_voyage_picks_the_mmsi_hand_made() -> None:
    """HAND-MADE tracks: IMO 9452086 broadcast by MMSI 111000001 in 2017 and by
    111000002 in 2019 (a reflagged ship). A 2017 voyage resolves to the first, a 2019
    one to the second; a voyage when both broadcast it is ambiguous."""
    with Store(":memory:") as store:
        t = [samples.utc(2017, 5, 1), samples.utc(2019, 5, 1), samples.utc(2019, 5, 1, 12)]
        pos = pd.DataFrame(
            {
                "mmsi": [111000001, 111000002, 111000001],
                "time": t,
                "lat": [54.0] * 3,
                "lon": [10.0] * 3,
                "sog": [5.0] * 3,
            }
        )
        static = pd.DataFrame(
            {
                "mmsi": [111000001, 111000002, 111000001],
                "time": t,
                "msg_type": [5] * 3,
                "imo": [9452086] * 3,
                "name": ["OLD NAME", "NEW NAME", "OLD NAME"],
            }
        )
        samples.insert(store, pos.iloc[:2], static.iloc[:2])
        old, new = (
            check_tracks(store, [line(y, vessel_imo=STABERHUK, loading_date=date(y_, 5, 1))])[0]
            for y, y_ in (("Y2017", 2017), ("Y2019", 2019))
        )
        assert old.subject == "mmsi:111000001" and new.subject == "mmsi:111000002"
        assert "1 other MMSI(s) used it at other times" in old.detail
        samples.insert(store, pos.iloc[2:], static.iloc[2:])
        both = check_tracks(store, [line("B", vessel_imo=STABERHUK, loading_date=date(2019, 5, 1))])
        assert kinds(both) == ["identity_ambiguous"]


def test_the_voyage_ends_at_the_call_at_the_port_of_discharge_hand_made() -> None:
    """HAND-MADE events (the samples hold no vessel calling at three ports in a day):
    calls at Kappeln 00-01 h, Schleswig 01:30-02 h, Kappeln again 02:30-03 h, Eckernforde
    05-06 h, Kiel 10-11 h and a gap 07-09 h. Declared Kappeln -> Eckernforde: the voyage
    runs from the last departure from Kappeln to the arrival at Eckernforde; Schleswig
    before it and the gap and Kiel after it are other voyages. Declared Kappeln -> Kiel: Eckernforde and the gap are in it."""
    from datetime import timedelta

    from watchkeeper.events import Event

    mmsi = 211000001
    t0 = samples.utc(2018, 4, 1)

    def at(h: float) -> Any:
        return t0 + timedelta(hours=h)

    def call(h0: float, h1: float, locode: str, name: str, lat: float, lon: float) -> Event:
        return Event(
            "port_call",
            (f"mmsi:{mmsi}",),
            at(h0),
            at(h1),
            0.3,
            f"call at {name}",
            (),
            lat,
            lon,
            {"port_locode": locode, "port_name": name, "port_country": "de"},
        )

    with Store(":memory:") as store:
        hours = [0.5, 3, 5.5, 7, 9, 10.5]
        samples.insert(
            store,
            pd.DataFrame({"mmsi": mmsi, "time": [at(h) for h in hours], "lat": 54.5, "lon": 10.0}),
            pd.DataFrame({"mmsi": [mmsi], "time": [at(0.5)], "msg_type": [5], "imo": [9452086]}),
        )
        store.write_events(
            [
                call(0, 1, "DE KAP", "Kappeln", 54.6667, 9.9333),
                call(1.5, 2, "DE SLS", "Schleswig", 54.5, 9.5667),
                call(2.5, 3, "DE KAP", "Kappeln", 54.6667, 9.9333),
                call(5, 6, "DE ECK", "Eckernforde", 54.4667, 9.8333),
                call(10, 11, "DE KEL", "Kiel", 54.3167, 10.1333),
                Event(
                    "ais_gap",
                    (f"mmsi:{mmsi}",),
                    at(7),
                    at(9),
                    0.4,
                    "gap",
                    (),
                    54.5,
                    10.0,
                    {"gap_h": 2.0},
                ),
            ]
        )

        def mismatches(pod: str) -> list[str]:
            found = check_tracks(
                store,
                [
                    line(
                        pod,
                        vessel_imo=STABERHUK,
                        port_of_loading="DEKAP",
                        port_of_discharge=pod,
                        loading_date=APRIL_1,
                        discharge_date=APRIL_1,
                    )
                ],
            )
            return [
                f.kind
                + (" " + f.detail.split(" at ")[1][:4] if f.kind == "undeclared_port_call" else "")
                for f in found
                if f.mismatch
            ]

        assert mismatches("DEECK") == []
        assert mismatches("DEKEL") == ["undeclared_port_call Ecke", "ais_gap_during_voyage"]


def test_identity_history_resolves_an_imo_no_ais_report_carried(baltic: Store) -> None:
    """A HAND-MADE identity history (the shadow-fleet registry's shape; none of its
    tankers is in the bundled AIS): IMO 9000003 used MMSI 209405000 in 2016. That MMSI's
    real Gibraltar track (2016-06-01) never broadcast an IMO; through the history the
    declared voyage resolves to it, and its real 13.4 h AIS gap falls in the voyage."""

    def history(imo: int, first: date, last: date) -> list[tuple[int, str]]:
        if imo == 9000003 and first <= date(2016, 12, 31) and last >= date(2016, 1, 1):
            return [(209405000, "2016-01-01 to 2016-12-31, hand-made history")]
        return []

    decl = line(
        "HIST",
        vessel_imo="9000003",
        port_of_loading="ESALG",
        port_of_discharge="MAPTM",
        loading_date=date(2016, 6, 1),
        discharge_date=date(2016, 6, 1),
    )
    assert kinds(check_tracks(baltic, [decl])) == ["identity_unresolved"]
    found = check_tracks(baltic, [decl], history=history)
    ident = only(found, "identity_resolved")
    assert ident.subject == "mmsi:209405000" and ident.score == 0.8
    assert "identity history gives IMO 9000003 the MMSI 209405000" in ident.detail
    assert "13.36 h" in only(found, "ais_gap_during_voyage").detail
    # An IMO broadcast during the voyage by the MMSI the history names: confirmed.
    agree = check_tracks(
        baltic,
        [line("AGREE", vessel_imo=STABERHUK, loading_date=APRIL_1)],
        history=lambda imo, a, b: [(211462260, "hand-made")] if imo == 9452086 else [],
    )
    assert "the identity history agrees" in only(agree, "identity_resolved").detail


# ------------------------------------------------------------------ aircraft


def test_flight_that_landed_somewhere_else_hand_made_track(air: Store) -> None:
    """CONTRADICTS, on the HAND-MADE Mahan-like track: an air waybill for W5 7150 on
    EP-MNG declares Tehran (OIIE) -> Madrid (LEMD) on 2024-04-02; the aircraft landed at
    Caracas (SVMI), in a sanctioned country."""
    decl = line(
        "AWB1",
        mode="air",
        flight_number="W5 7150",
        aircraft_registration="EP-MNG",
        port_of_loading="IKA",
        port_of_discharge="LEMD",
        loading_date=date(2024, 4, 2),
        discharge_date=date(2024, 4, 2),
    )
    found = check_tracks(air, [decl])
    ident = only(found, "identity_resolved")
    assert ident.subject == "icao24:7300f1" and "registration EP-MNG" in ident.detail
    landed = only(found, "flight_landed_elsewhere")
    assert landed.score == 0.95 and landed.params["arrival"] == "SVMI"
    assert "VE is a sanctioned country" in landed.detail
    assert landed.evidence[1] == "flight:7300f1-20240402T010000Z"
    assert landed.evidence[2].startswith("adsb:")
    [event] = mismatch_events([decl], found)
    assert event.subjects == ("cargo:AWB1/1", "icao24:7300f1") and "SVMI" in event.detail


def test_real_flight_as_declared_and_contradicted(air: Store) -> None:
    """The REAL N899DN trace: DAL2927 flew Minneapolis -> Denver on 2025-02-05. Declared
    as DL2927 MSP -> DEN (IATA codes): matches. Declared to Atlanta: landed elsewhere."""
    assert "DAL2927" in flight_callsigns("DL 2927")
    ok = line(
        "DL1",
        mode="air",
        flight_number="DL2927",
        port_of_loading="MSP",
        port_of_discharge="DEN",
        loading_date=date(2025, 2, 5),
    )
    bad = line(
        "DL2",
        mode="air",
        flight_number="DL2927",
        port_of_loading="KMSP",
        port_of_discharge="KATL",
        loading_date=date(2025, 2, 5),
    )
    found = check_tracks(air, [ok, bad])
    assert kinds(found, "DL1/1") == ["identity_resolved", "flight_as_declared"]
    assert (
        only([f for f in found if f.line_id == "DL1/1"], "identity_resolved").subject
        == "icao24:ac671b"
    )
    landed = only([f for f in found if f.line_id == "DL2/1"], "flight_landed_elsewhere")
    assert "KDEN" in landed.detail and landed.score == 0.7 and not landed.params["sanctioned"]
    # Declared from Chicago O'Hare: it took off from Minneapolis.
    ord_ = check_tracks(
        air,
        [
            line(
                "DL3",
                mode="air",
                flight_number="DL2927",
                port_of_loading="ORD",
                port_of_discharge="DEN",
                loading_date=date(2025, 2, 5),
            )
        ],
    )
    assert [f.kind for f in ord_ if f.mismatch] == ["flight_departed_elsewhere"]
    assert "took off from KMSP" in ord_[-1].detail


def test_transponder_gap_during_the_declared_flight_hand_made_track(air: Store) -> None:
    found = check_tracks(
        air,
        [
            line(
                "GAPF",
                mode="air",
                flight_number="IRM7150",
                port_of_loading="OIIE",
                port_of_discharge="SVMI",
                loading_date=date(2024, 4, 16),
            )
        ],
    )
    assert "flight_as_declared" in kinds(found)
    gap = only(found, "transponder_gap_during_flight")
    assert gap.mismatch and gap.evidence[1].startswith("event:transponder_gap-")


def test_aircraft_absent_in_the_window(air: Store) -> None:
    found = check_tracks(
        air, [line("MAY", mode="air", aircraft_registration="EPMNG", loading_date=date(2024, 5, 2))]
    )
    assert kinds(found) == ["identity_resolved", "tracks_absent"]
    unknown = check_tracks(
        air, [line("UNK", mode="air", flight_number="ZZ9999", loading_date=date(2024, 5, 2))]
    )
    assert kinds(unknown) == ["identity_unresolved"]


def test_bundled_declarations_match_or_contradict_as_they_say(baltic: Store, air: Store) -> None:
    """data/cargo/handmade_track_declarations.csv (HAND-MADE declarations, real tracks):
    read through the customs_declaration layout, each row is contradicted by its track
    exactly when its `source` column says CONTRADICTS."""
    import csv

    from watchkeeper.cargo.ingest import lines_of_file
    from watchkeeper.cargo.layouts import get_layout

    path = DATA / "cargo" / "handmade_track_declarations.csv"
    with path.open(encoding="utf-8") as fh:
        says = {
            f"{r['declaration_number']}/{r['item_number']}": "CONTRADICTS" in r["source"]
            for r in csv.DictReader(fh)
        }
    lines = lines_of_file(path, get_layout("customs_declaration"))
    found = check_tracks(baltic, [x for x in lines if x.mode == "sea"], flag_of=flag_of)
    found += check_tracks(air, [x for x in lines if x.mode == "air"])
    contradicted = {f.line_id for f in found if f.mismatch}
    assert {ln.line_id for ln in lines} == set(says)
    assert contradicted == {k for k, v in says.items() if v}
    assert "identity_ambiguous" not in kinds(found) and "tracks_absent" not in kinds(found)


# ------------------------------------------------------------------ malformed declarations

TEXT = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["9452086", "IMO 9452086", "DEKAP", "STABERHUK", "W5"]),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "mode": st.sampled_from(["sea", "air", "land", "unknown"]),
                "vessel_imo": TEXT,
                "vessel_name": TEXT,
                "vessel_flag": TEXT,
                "flight_number": TEXT,
                "aircraft_registration": TEXT,
                "port_of_loading": TEXT,
                "port_of_discharge": TEXT,
                "transit_countries": st.lists(st.text(max_size=3), max_size=2).map(tuple),
                "loading_date": st.one_of(st.none(), st.dates()),
                "discharge_date": st.one_of(st.none(), st.dates()),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
@example(
    [{"mode": "sea", "vessel_imo": "9452086", "loading_date": date.min}]
    + [{"mode": "air", "flight_number": "W5 7150", "discharge_date": date.max}]
)
def test_any_declaration_gives_findings_never_a_traceback(
    baltic: Store, decls: list[dict[str, Any]]
) -> None:
    """Whatever the papers say (garbage IMOs, unknown ports, dates a century off, no
    dates), every line gets at least one finding citing it, of a known kind."""
    lines = [line(f"P{i}", **d) for i, d in enumerate(decls)]
    found = check_tracks(baltic, lines, flag_of=flag_of)
    for ln in lines:
        mine = [f for f in found if f.line_id == ln.line_id]
        assert mine and all(f.evidence[0] == f"cargo:{ln.line_id}" for f in mine)
    assert {f.kind for f in found} <= set(FINDING_KINDS)
    for event in mismatch_events(lines, found):
        assert event.evidence[0].startswith("cargo:P")


# ------------------------------------------------------------------ ../shared


def test_same_findings_from_the_shared_csv_loaded_row_by_row(tmp_path: Path) -> None:
    """../shared/data: the Baltic CSV loaded by the test helper (one static report per
    row, not the ingest's) with the detectors run: the contradicting STABERHUK
    declaration gives the same mismatches as on the bundled copy."""
    from watchkeeper.movement.detect import run_detectors

    folder = shared_path("ais", "argenni_ais_reconstruction")
    with Store(":memory:") as store:
        samples.load_baltic(store, folder / samples.BALTIC)
        run_detectors(store, ["port_call", "ais_gap", "encounter", "loitering"])
        decl = line(
            "SHARED",
            vessel_imo=STABERHUK,
            port_of_loading="DEKAP",
            port_of_discharge="DKCPH",
            loading_date=APRIL_1,
            discharge_date=APRIL_1,
        )
        found = check_tracks(store, [decl])
        assert [f.kind for f in found if f.mismatch] == [
            "declared_port_not_called",
            "undeclared_port_call",
        ]
        assert only(found, "identity_resolved").subject == "mmsi:211462260"


# ------------------------------------------------------------------ the CLI


def test_cli_cargo_tracks(tmp_path: Path) -> None:
    """`watchkeeper cargo tracks` on a store holding the real Baltic tracks (detected)
    and two HAND-MADE lines for STABERHUK: one as it sailed, one declaring Copenhagen."""
    import json

    from typer.testing import CliRunner

    from watchkeeper.cargo.store import store_batch
    from watchkeeper.cli import app
    from watchkeeper.movement.ais.ingest import ingest_paths
    from watchkeeper.movement.detect import run_detectors

    db = tmp_path / "wk.duckdb"
    good = line(
        "GOOD",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DEECK",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    bad = line(
        "BAD",
        vessel_imo=STABERHUK,
        port_of_loading="DEKAP",
        port_of_discharge="DKCPH",
        loading_date=APRIL_1,
        discharge_date=APRIL_1,
    )
    with Store(db) as store:
        ingest_paths(store, [DATA / "ais" / "argenni"])
        run_detectors(store, ["port_call", "ais_gap", "encounter", "loitering"])
        store_batch(
            store,
            [good, bad],
            sources=["handmade.csv"],
            layout="handmade",
            source_hash="handmade-test",
        )
    runner = CliRunner()
    result = runner.invoke(app, ["cargo", "tracks", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["lines"] == 2 and out["mismatched_lines"] == ["BAD/1"]
    [event] = out["events"]
    assert event["type"] == EVENT_TYPE and event["evidence"][0] == "cargo:BAD/1"
    with Store(db, read_only=True) as store:
        stored = store.read_events(types=[EVENT_TYPE])
    assert [e.subjects[0] for e in stored] == ["cargo:BAD/1"]
    text = runner.invoke(
        app, ["cargo", "tracks", "--db", str(db), "--shipment", "GOOD", "--no-save"]
    )
    assert text.exit_code == 0 and "0 contradicted by their tracks" in text.output
    missing = runner.invoke(app, ["cargo", "tracks", "--db", str(db), "--shipment", "NOPE"])
    assert missing.exit_code == 1 and "no shipment 'NOPE'" in missing.output


def test_cli_identity_history_reads_the_real_shadow_fleet_registry() -> None:
    """The history the CLI passes in: the bundled shadow-fleet registry's real periods
    (IMO 8727965 used MMSI 273346700 from 2024-07-26 to 2024-08-31)."""
    from watchkeeper.cli.cargo_tracks import _identity_history

    history = _identity_history()
    [(mmsi, span)] = history(8727965, date(2024, 8, 1), date(2024, 8, 3))
    assert mmsi == 273346700 and span.startswith("2024-07-26 to 2024-08-31")
    assert history(8727965, date(2020, 1, 1), date(2020, 1, 5)) == []
    assert history(9452086, date(2018, 4, 1), date(2018, 4, 2)) == []
