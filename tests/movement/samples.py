"""Test helper (not tests): fill ``ais_positions``/``ais_static`` straight from the
real decoded CSVs, until the ingest lands, and build listed Vessel entities from
real OFAC SDN rows."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from watchkeeper.lists.base import ListEntity, ParsedList, make_entity
from watchkeeper.store import Store

BALTIC = "decoded_reports_baltic_all_ships_april_2018_micro_20k_sample_ais_data.csv"
GIBRALTAR = "decoded_traffic_Gibraltar_Straight_all_ships_2016A_micro_20k_sample_ais_data.csv"

_POS_COLS = [
    "msg_id",
    "ingest_id",
    "mmsi",
    "time",
    "lat",
    "lon",
    "sog",
    "cog",
    "heading",
    "nav_status",
    "msg_type",
    "accuracy",
    "source",
]
_STATIC_COLS = [
    "msg_id",
    "ingest_id",
    "mmsi",
    "time",
    "msg_type",
    "imo",
    "name",
    "callsign",
    "ship_type",
    "ship_type_text",
    "to_bow",
    "to_stern",
    "to_port",
    "to_starboard",
    "draught",
    "destination",
    "source",
]


def _next_id(store: Store) -> int:
    row = store.con.execute(
        "SELECT coalesce(max(m), 0) FROM (SELECT max(msg_id) m FROM ais_positions "
        "UNION ALL SELECT max(msg_id) FROM ais_static)"
    ).fetchone()
    return int(row[0]) + 1 if row else 1


def insert(store: Store, positions: pd.DataFrame, statics: pd.DataFrame | None = None) -> None:
    """Append rows (missing columns NULL; msg_id assigned when absent)."""
    start = _next_id(store)
    pos = positions.copy()
    if "msg_id" not in pos:
        pos["msg_id"] = np.arange(start, start + len(pos))
    for col in _POS_COLS:
        if col not in pos:
            pos[col] = 0 if col in ("ingest_id", "msg_type") else None
    table = pa.Table.from_pandas(pos[_POS_COLS], preserve_index=False)
    store.con.register("_pos", table)
    store.con.execute("INSERT INTO ais_positions BY NAME SELECT * FROM _pos")
    store.con.unregister("_pos")
    if statics is not None and len(statics):
        st = statics.copy()
        if "msg_id" not in st:
            base = start + len(pos)
            st["msg_id"] = np.arange(base, base + len(st))
        for col in _STATIC_COLS:
            if col not in st:
                st[col] = 0 if col in ("ingest_id", "msg_type") else None
        table = pa.Table.from_pandas(st[_STATIC_COLS], preserve_index=False)
        store.con.register("_st", table)
        store.con.execute("INSERT INTO ais_static BY NAME SELECT * FROM _st")
        store.con.unregister("_st")


def load_baltic(store: Store, path: Path) -> int:
    """The Argenni Baltic sample: positions, and its joined static fields as one
    static report per row (that is what the file says at each time)."""
    df = pd.read_csv(path, sep=";")
    df = df[df["mmsi"].notna()].reset_index(drop=True)
    time = pd.to_datetime(df["timestamp"].astype(float), unit="ms", utc=True)
    pos = pd.DataFrame(
        {
            "mmsi": df["mmsi"].astype("int64"),
            "time": time,
            "lat": df["lat"].astype(float),
            "lon": df["long"].astype(float),
            "sog": df["sog"].astype(float),
            "cog": df["cog"].astype(float),
            "msg_type": df["msgid"].astype("int64"),
            "accuracy": df["posacc"].astype(float) == 1,
            "source": "argenni-baltic",
        }
    )
    start = _next_id(store)
    pos["msg_id"] = np.arange(start, start + len(pos))
    imo = pd.to_numeric(df["imo"], errors="coerce")

    def dim(col: str) -> pd.Series:
        return pd.to_numeric(df[col], errors="coerce").astype("Int64")

    st = pd.DataFrame(
        {
            "msg_id": np.arange(start + len(pos), start + 2 * len(pos)),
            "mmsi": pos["mmsi"],
            "time": time,
            "msg_type": 0,
            "imo": imo.where(imo > 0).astype("Int64"),
            "name": df["name"].astype("string"),
            "callsign": df["callsign"].astype("string"),
            "ship_type_text": df["shipType"].astype("string"),
            "to_bow": dim("dimBow"),
            "to_stern": dim("dimStern"),
            "to_port": dim("dimPort"),
            "to_starboard": dim("dimStarboard"),
            "draught": pd.to_numeric(df["draught"], errors="coerce"),
            "source": "argenni-baltic",
        }
    )
    insert(store, pos, st)
    return len(pos)


def load_gibraltar(store: Store, path: Path) -> int:
    """The Argenni Gibraltar sample (MarineTraffic layout: speed and draught x10)."""
    df = pd.read_csv(path, sep=";", na_values=["NULL"])
    time = pd.to_datetime(df["TIMESTAMP_UTC"], utc=True)
    heading = df["HEADING"].where(df["HEADING"] != 511)
    pos = pd.DataFrame(
        {
            "mmsi": df["MMSI"].astype("int64"),
            "time": time,
            "lat": df["LAT"].astype(float),
            "lon": df["LON"].astype(float),
            "sog": df["SPEED_KNOTSx10"].astype(float) / 10.0,
            "cog": df["COURSE"].astype(float),
            "heading": heading.astype(float),
            "nav_status": df["STATUS"].astype("Int64"),
            "msg_type": 1,
            "source": "argenni-gibraltar",
        }
    )
    start = _next_id(store)
    pos["msg_id"] = np.arange(start, start + len(pos))
    st = pd.DataFrame(
        {
            "msg_id": np.arange(start + len(pos), start + 2 * len(pos)),
            "mmsi": pos["mmsi"],
            "time": time,
            "msg_type": 0,
            "ship_type_text": df["VESSEL_TYPE"].astype("string"),
            "draught": df["DRAUGHT_METERSx10"].astype(float) / 10.0,
            "source": "argenni-gibraltar",
        }
    )
    insert(store, pos, st)
    return len(pos)


def load_noaa(store: Store, path: Path) -> int:
    """The AISdb NOAA MarineCadastre sample (one report per MMSI, static joined)."""
    df = pd.read_csv(path)
    time = pd.to_datetime(df["BaseDateTime"], utc=True)
    pos = pd.DataFrame(
        {
            "mmsi": df["MMSI"].astype("int64"),
            "time": time,
            "lat": df["LAT"].astype(float),
            "lon": df["LON"].astype(float),
            "sog": df["SOG"].astype(float),
            "cog": df["COG"].astype(float),
            "heading": df["Heading"].where(df["Heading"] != 511).astype(float),
            "msg_type": 1,
            "source": "noaa",
        }
    )
    start = _next_id(store)
    pos["msg_id"] = np.arange(start, start + len(pos))
    imo = pd.to_numeric(df["IMO"].astype("string").str.removeprefix("IMO"), errors="coerce")
    st = pd.DataFrame(
        {
            "msg_id": np.arange(start + len(pos), start + 2 * len(pos)),
            "mmsi": pos["mmsi"],
            "time": time,
            "msg_type": 0,
            "imo": imo.where(imo > 0).astype("Int64"),
            "name": df["VesselName"].astype("string"),
            "callsign": df["CallSign"].astype("string"),
            "ship_type": pd.to_numeric(df["VesselType"], errors="coerce").astype("Int64"),
            "draught": pd.to_numeric(df["Draft"], errors="coerce"),
            "source": "noaa",
        }
    )
    insert(store, pos, st)
    return len(pos)


# ------------------------------------------------------------ listed vessels

_SDN_COLS = [
    "ent_num",
    "name",
    "type",
    "program",
    "title",
    "call_sign",
    "vess_type",
    "tonnage",
    "grt",
    "vess_flag",
    "vess_owner",
    "remarks",
]


def sdn_rows(path: Path) -> list[dict[str, str]]:
    from watchkeeper.io import read_bytes

    text = read_bytes(path).decode("cp1252", errors="replace").replace("\x1a", "")
    rows = []
    for raw in csv.reader(io.StringIO(text)):
        if len(raw) != 12:
            continue
        row = {
            k: ("" if v.strip() == "-0-" else v.strip())
            for k, v in zip(_SDN_COLS, raw, strict=True)
        }
        rows.append(row)
    return rows


def vessel_entities(rows: list[dict[str, str]]) -> list[ListEntity]:
    """FtM Vessels (and their owners, when named) from real SDN vessel rows."""
    out: list[ListEntity] = []
    for row in rows:
        if row["type"] != "vessel":
            continue
        proxy = make_entity("Vessel", f"ofac-{row['ent_num']}")
        proxy.add("name", row["name"])
        remarks = row["remarks"]
        for imo in re.findall(r"IMO (\d{7})", remarks):
            proxy.add("imoNumber", imo)
        for mmsi in re.findall(r"MMSI (\d{9})", remarks):
            proxy.add("mmsi", mmsi)
        for fka in re.findall(r"f\.k\.a\. '([^']+)'", remarks):
            proxy.add("previousName", fka)
        proxy.add("callSign", row["call_sign"] or None)
        proxy.add("type", row["vess_type"] or None)
        proxy.add("flag", row["vess_flag"] or None)
        proxy.add("program", row["program"] or None)
        out.append(ListEntity(proxy, row["ent_num"]))
    return out


def add_list(store: Store, source: str, entities: list[ListEntity], tmp: Path) -> None:
    marker = tmp / f"{source}.txt"
    marker.write_text(repr([e.proxy.id for e in entities]))
    store.add_list_version(ParsedList(source, "test", date(2024, 5, 3), [marker], entities))


def utc(*args: Any) -> datetime:
    return datetime(*args, tzinfo=UTC)


def real_store(*, lists: bool = True, tmp: Path | None = None) -> Store:
    """A store holding every real decoded AIS sample (Baltic, Gibraltar, NOAA) and,
    with ``lists``, the listed vessels of the real 2024-05-03 SDN."""
    from tests.conftest import shared_path

    store = Store(":memory:")
    folder = shared_path("ais", "argenni_ais_reconstruction")
    load_baltic(store, folder / BALTIC)
    load_gibraltar(store, folder / GIBRALTAR)
    load_noaa(store, shared_path("ais", "aisdb", "test_data_noaa_20230101.csv"))
    if lists:
        sdn = shared_path("sanctions", "ofac", "sdn_csv_2024-05-03", "sdn.csv")
        add_list(store, "ofac_sdn", vessel_entities(sdn_rows(sdn)), tmp or Path("/tmp"))
    return store
