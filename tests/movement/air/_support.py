"""Test helpers (not tests): bundled real samples and small list stores made of real
OFAC SDN rows (byte-identical lines of the bundled 2024-05-03 ``sdn.csv``)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import DATA
from watchkeeper.io import read_bytes
from watchkeeper.lists import parse_files
from watchkeeper.store import Store

ADSB = DATA / "adsb"
FULL_FLIGHT = ADSB / "full_flight_short.jsonl.gz"  # rs1090 frames, icao24 393322, LFPG -> LFBO
PYMODES_ADSB = ADSB / "sample_data_adsb.csv.gz"
TRACE_FULL = ADSB / "trace_full_ac671b.json.gz"
NOISY = ADSB / "noisy_spoofing.json.gz"
QUICKSTART_PART = ADSB / "quickstart_part.jsonl.gz"
DUMP1090 = ADSB / "sample_dump1090.bin.gz"
HANDMADE = ADSB / "handmade_mahan_OIIE_SVMI.jsonl.gz"  # HAND-MADE, see handmade.py
SDN = DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz"

# MAHAN AIR and two of its aircraft, SYRIAN ARAB AIRLINES and one of its aircraft, POUYA
# AIR's IL-76 EP-PUS (Mode S 7342B3), RA-02791 (Mode S 140AE7) and its operator BERATEX.
AVIATION_ENT_NUMS = ("12927", "15438", "15439", "13440", "15613", "48727", "27197", "27194")


def sdn_rows(ent_nums: tuple[str, ...]) -> bytes:
    """The lines of these entries, exactly as the official file has them (CRLF, and the
    closing Ctrl-Z without which an OFAC file is refused as cut short)."""
    raw = read_bytes(SDN)
    lines = [line for line in raw.split(b"\r\n") if line.split(b",", 1)[0].decode() in ent_nums]
    assert len(lines) == len(ent_nums), "an entry is missing from the bundled sdn.csv"
    return b"\r\n".join(lines) + b"\r\n\x1a"


def load_sdn_subset(store: Store, tmp: Path, ent_nums: tuple[str, ...] = AVIATION_ENT_NUMS) -> None:
    folder = tmp / "sdn_csv_2024-05-03"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sdn.csv"
    path.write_bytes(sdn_rows(ent_nums))
    store.add_list_version(parse_files([path], "ofac_sdn"))
