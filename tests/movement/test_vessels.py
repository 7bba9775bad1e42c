from __future__ import annotations

import csv
import gzip
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.movement import samples
from watchkeeper.errors import InputError
from watchkeeper.lists.base import ListEntity, make_entity
from watchkeeper.movement.vessels import (
    ListedVessels,
    NameFlagTypeParams,
    ShadowFleetRegistry,
    VesselIdentity,
    build_identities,
    imo_valid,
    link_all,
    link_identity,
    load_mid_table,
    mmsi_flag,
    mmsi_mid,
    shadow_fleet,
    ship_category,
    stored_links,
)
from watchkeeper.store import Store


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = samples.real_store(tmp=tmp_path_factory.mktemp("lists"))
    yield store
    store.close()


def test_mid_table_gives_flag_states() -> None:
    table = load_mid_table()
    assert len(table) == 292  # 294 rows; MID 306 is shared by three territories
    assert {m: table[m].country for m in ("273", "422", "572", "636", "209", "745")} == {
        "273": "ru",
        "422": "ir",
        "572": "tv",
        "636": "lr",
        "209": "cy",
        "745": "gf",
    }
    assert all(e.country for e in table.values())


def test_mmsi_mid() -> None:
    assert mmsi_mid(273449250) == "273"
    assert mmsi_mid(992351000) == "235"  # aid to navigation 99MIDxxxx
    assert mmsi_mid(36926403) is None  # eight digits: no MID
    assert mmsi_flag(365973420) is None  # real NOAA MMSI: MID 365 is unallocated
    assert mmsi_flag(209448000).country == "cy"  # type: ignore[union-attr]


def test_imo_check_digit() -> None:
    assert imo_valid("9187629") and imo_valid("IMO 9274616") and imo_valid(9274616)
    assert not imo_valid("9187628")  # hand-made: last digit off by one
    assert not imo_valid("1") and not imo_valid(None) and not imo_valid("91876290")


def test_ship_categories() -> None:
    assert ship_category(35) == "military" and ship_category(55) == "law_enforcement"
    assert ship_category(84) == "tanker"
    assert ship_category(text="LAW_ENFORCEMENT") == "law_enforcement"
    assert ship_category(text="Oil/Chemical Tanker") == "tanker"
    assert ship_category(text="Crude Oil Tanker") == "tanker"


def test_identity_over_time_from_real_baltic(real: Store) -> None:
    ident = build_identities(real, [209448000])[209448000]
    assert [o.value for o in ident.names] == ["PANTELIS"]
    assert [o.value for o in ident.imos] == ["9274616"]
    assert [o.value for o in ident.callsigns] == ["P3UJ9"]
    assert ident.flag == "cy" and ident.mid == "209"
    assert ident.categories == {"tanker"}
    assert ident.positions == 46 and ident.first_seen < ident.last_seen  # type: ignore[operator]
    assert ident.names[0].evidence.startswith("ais:")


def test_link_by_imo_with_registry_name_history(real: Store) -> None:
    """Real: in April 2018 IMO 9274616 sailed as PANTELIS (Cyprus); OFAC listed it in
    2024 as LA PRIDE. The IMO link holds, and the shadow-fleet history explains the name."""
    links = link_all(real)
    mine = [lk for lk in links if lk.mmsi == 209448000]
    assert [(lk.entity_id, lk.method, lk.score) for lk in mine] == [("ofac-47221", "imo", 1.0)]
    assert "PANTELIS is not a listed name" in mine[0].detail
    assert "shadow-fleet name history" in mine[0].detail
    assert stored_links(real)[209448000] == [("ofac-47221", "imo", 1.0)]


def test_registry_history_of_a_real_tanker() -> None:
    rec = shadow_fleet().get("9274616")
    assert rec is not None
    assert [p.value for p in rec.names] == ["Pantelis", "Seajewel", "Atlantic Pride", "LA PRIDE"]
    assert [p.value for p in rec.flags][:2] == ["Cyprus", "Malta"]
    assert [p.value for p in rec.mmsis] == ["209448000"]
    assert "US" in {by for _, by in rec.sanctions}
    from datetime import date

    assert rec.name_at(date(2018, 4, 1)) == "Pantelis"
    assert rec.name_at(date(2023, 1, 1)) == "LA PRIDE"
    assert shadow_fleet().imos_for_mmsi(209448000)[0][0] == "9274616"
    assert shadow_fleet().imos_for_mmsi(209448000, date(2020, 1, 1)) == []


def _listed(*entities: ListEntity) -> ListedVessels:
    from watchkeeper.store.entities import StoredEntity

    return ListedVessels.build(
        StoredEntity(
            e.proxy.id or "", e.proxy.schema.name, e.proxy.caption, dict(e.proxy.properties)
        )
        for e in entities
    )


def _real_sdn_vessels() -> list[ListEntity]:
    return samples.vessel_entities(
        samples.sdn_rows(DATA / "lists/ofac/sdn_csv_2024-05-03/sdn.csv.gz")
    )


def test_link_by_mmsi_and_by_name_flag_type() -> None:
    """Hand-made identities against the real SDN entry of ARTAVIL (IMO 9187629,
    MMSI 572469210, Iran flag, crude/oil products tanker)."""
    sdn = [e for e in _real_sdn_vessels() if e.proxy.id == "ofac-15036"]
    listed = _listed(*sdn)
    by_mmsi = VesselIdentity(572469210, "572", "tv", "Tuvalu")
    [link] = link_identity(by_mmsi, listed)
    assert (link.method, link.entity_id) == ("mmsi", "ofac-15036") and link.score == 0.85

    from watchkeeper.movement.vessels import Observed

    def named(name: str, mmsi: int, flag: str, ship_type: str) -> VesselIdentity:
        ident = VesselIdentity(mmsi, str(mmsi)[:3], flag, None)
        ident.names.append(Observed(name, None, None, 1, "ais:1"))
        ident.ship_types.append(Observed(ship_type, None, None, 1, "ais:1"))
        return ident

    # Same name, Iranian MID (422), tanker: linked by name + flag + type, explained.
    [hit] = link_identity(named("ARTAVIL", 422000001, "ir", "80 Tanker"), listed)
    assert hit.method == "name_flag_type" and "flag ir" in hit.detail
    # The same name under another flag never reaches the threshold.
    assert link_identity(named("ARTAVIL", 636000001, "lr", "80 Tanker"), listed) == []
    # Name similarity just under the threshold (0.88): no link.
    params = NameFlagTypeParams()
    assert (
        link_identity(named("ARTAVXYZ", 422000001, "ir", "80 Tanker"), listed, params=params) == []
    )


def test_owner_links_through_registry_company_imo(tmp_path: Path) -> None:
    """Hand-made listed company carrying the real IMO company number that the
    shadow-fleet data gives as registered owner of IMO 8727941."""
    store = Store(":memory:")
    rec = shadow_fleet().get("8727941")
    assert rec is not None
    role, period = next((r, p) for r, p in rec.companies if r == "Registered owner")
    vessel = make_entity("Vessel", "test-vessel")
    vessel.add("name", rec.name)
    vessel.add("imoNumber", rec.imo)
    company = make_entity("Company", "test-owner")
    company.add("name", "Hand-made owner")
    company.add("imoNumber", period.value)
    samples.add_list(store, "test", [ListEntity(vessel, "1"), ListEntity(company, "2")], tmp_path)
    import pandas as pd

    samples.insert(
        store,
        pd.DataFrame(
            {"mmsi": [273344600], "time": [samples.utc(2024, 1, 1)], "lat": [59.9], "lon": [30.2]}
        ),
        pd.DataFrame(
            {"mmsi": [273344600], "time": [samples.utc(2024, 1, 1)], "imo": [int(rec.imo)]}
        ),
    )
    links = link_all(store)
    owner = [lk for lk in links if lk.entity_id == "test-owner"]
    assert owner and owner[0].method == "owner"
    assert f"company IMO {period.value}" in owner[0].detail and role in owner[0].detail


def _copy_registry(tmp: Path) -> Path:
    folder = tmp / "sf"
    shutil.copytree(DATA / "shadow_fleet", folder)
    return folder


def test_registry_loads_every_bundled_row() -> None:
    reg = ShadowFleetRegistry.load(DATA / "shadow_fleet")
    assert len(reg.vessels) == 637
    assert sum(len(v.mmsis) for v in reg.vessels.values()) == 627
    assert sum(len(v.names) for v in reg.vessels.values()) == 1949


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_mutated_registry_raises_our_error(data: st.DataObject) -> None:
    """Property: a damaged identity-history file loads or raises InputError naming it."""
    import tempfile

    folder = _copy_registry(Path(tempfile.mkdtemp(prefix="wk-sf-")))
    name = data.draw(
        st.sampled_from(
            ["vessel_mmsi", "vessel_names", "vessel_flags", "vessel_company", "sanctions"]
        )
    )
    path = folder / f"{name}.csv.gz"
    rows = list(csv.reader(io.StringIO(gzip.decompress(path.read_bytes()).decode())))
    r = data.draw(st.integers(0, min(len(rows) - 1, 30)))
    c = data.draw(st.integers(0, len(rows[r]) - 1))
    rows[r][c] = data.draw(st.sampled_from(["", "x", "12", "2024-13-45", "99999999999", "IMO"]))
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    path.write_bytes(gzip.compress(out.getvalue().encode()))
    try:
        ShadowFleetRegistry.load(folder)
    except InputError as exc:
        assert name in str(exc)
    finally:
        shutil.rmtree(folder.parent, ignore_errors=True)


def test_bad_mid_table_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mid.csv"
    path.write_text("MID,Allocated_to\n201,Albania\n1x1,Nowhere\n")
    with pytest.raises(InputError, match=r"mid.csv:3"):
        load_mid_table(path)
