"""pyais is the oracle: every real sample message decodes to the same fields with both.

Every message of every real NMEA sample (``../shared/data/ais`` and the bundled
``data/ais``) goes through our framer and vectorised decoder and through pyais's own
stream reader; each message is matched by its payload and every field both decode is
compared, after pyais's scaling and "not available" conventions. Messages one side
has and the other does not must be explained by a counted reject.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyais.constants import ShipType
from pyais.stream import IterMessages

from tests.conftest import DATA, shared_path
from watchkeeper.io import read_bytes
from watchkeeper.movement.ais.decode import NEEDED_BITS, decode
from watchkeeper.movement.ais.nmea import FramedMessages, NmeaFramer

SHARED_NMEA = [
    ("aisdb", "test_data_201201.nmea"),
    ("aisdb", "test_data_20211101.nm4"),
    ("pyais", "nmea_data_sample.txt"),
    ("pyais", "timestamped.ais"),
    ("libais", "test.aivdm"),
]
BUNDLED_NMEA = [
    "aisdb/test_data_201201.nmea",
    "aisdb/test_data_20211101.nm4.gz",
    "pyais/nmea_data_sample.txt.gz",
    "pyais/timestamped.ais",
    "libais/test.aivdm.gz",
]


def frame_file(path: Path) -> tuple[FramedMessages, NmeaFramer]:
    framer = NmeaFramer()
    data = read_bytes(path)
    parts = [framer.feed(data), framer.finish()]
    fm = parts[0] if not len(parts[1]) else _concat(parts)
    return fm, framer


def _concat(parts: list[FramedMessages]) -> FramedMessages:
    # finish() only yields the unterminated last line; rebase it onto one payload buffer
    a, b = parts
    return FramedMessages(
        line=np.concatenate([a.line, b.line]),
        time_us=np.concatenate([a.time_us, b.time_us]),
        source_code=np.concatenate([a.source_code, b.source_code]),
        payload=np.concatenate([a.payload, b.payload]),
        start=np.concatenate([a.start, b.start + len(a.payload)]),
        length=np.concatenate([a.length, b.length]),
        fill=np.concatenate([a.fill, b.fill]),
        sources=b.sources,
    )


def pyais_messages(path: Path) -> dict[bytes, list[Any]]:
    """payload -> decoded pyais messages (pyais reassembles fragments itself)."""
    out: dict[bytes, list[Any]] = defaultdict(list)
    for msg in IterMessages(read_bytes(path).splitlines()):
        try:
            decoded = msg.decode()
        except Exception:  # pyais raises for empty payloads and unknown types
            continue
        out[msg.payload].append(decoded)
    return out


def _same_float(ours: float, theirs: float | None, na: bool) -> bool:
    if math.isnan(ours):
        return na
    return theirs is not None and ours == theirs


def compare_file(path: Path) -> Counter[str]:
    """Compare every decoded message; returns how many of each kind were compared."""
    fm, _ = frame_file(path)
    dec = decode(fm)
    oracle = pyais_messages(path)
    compared: Counter[str] = Counter()
    pos = dec.positions
    for k in range(len(pos)):
        i = int(pos.index[k])
        payload = fm.payload_bytes(i)
        assert payload in oracle, f"{path}:{fm.line[i]}: pyais did not decode {payload!r}"
        for theirs in oracle[payload]:
            where = f"{path}:{fm.line[i]} {payload!r}"
            t = int(pos.msg_type[k])
            assert theirs.msg_type == t, where
            assert theirs.mmsi == pos.mmsi[k], where
            assert theirs.lat == pos.lat[k] and theirs.lon == pos.lon[k], where
            assert bool(theirs.accuracy) == bool(pos.accuracy[k]), where
            if t == 27:
                assert _same_float(pos.sog[k], theirs.speed, theirs.speed == 63), where
                assert _same_float(pos.cog[k], theirs.course, theirs.course >= 360), where
            else:
                assert _same_float(pos.sog[k], theirs.speed, theirs.speed == 102.3), where
                assert _same_float(pos.cog[k], theirs.course, theirs.course >= 360), where
                assert _same_float(pos.heading[k], theirs.heading, theirs.heading >= 360), where
            if t in (1, 2, 3, 27):
                assert int(theirs.status) == pos.nav_status[k], where
            else:
                assert pos.nav_status[k] == -1, where
            compared["position"] += 1
    st = dec.statics
    names = st.name.to_pylist()
    callsigns = st.callsign.to_pylist()
    destinations = st.destination.to_pylist()
    for k in range(len(st)):
        i = int(st.index[k])
        payload = fm.payload_bytes(i)
        assert payload in oracle, f"{path}:{fm.line[i]}: pyais did not decode {payload!r}"
        for theirs in oracle[payload]:
            where = f"{path}:{fm.line[i]} {payload!r}"
            t = int(st.msg_type[k])
            assert theirs.msg_type == t and theirs.mmsi == st.mmsi[k], where
            if t == 5 or (t == 24 and st.part[k] == 1) or t == 19:
                code = int(st.ship_type[k])
                if t == 24:  # pyais keeps part B's type as a plain int
                    assert theirs.ship_type == max(code, 0), where
                else:
                    assert theirs.ship_type == (
                        ShipType.NotAvailable if code < 0 else ShipType.from_value(code)
                    ), where
            if t == 5:
                assert theirs.imo == max(int(st.imo[k]), 0), where
                assert _same_float(st.draught[k], theirs.draught, theirs.draught == 0), where
                assert (destinations[k] or "") == theirs.destination, where
            if t in (5, 19) or (t == 24 and st.part[k] == 0):
                assert (names[k] or "") == theirs.shipname, where
            if t == 5 or (t == 24 and st.part[k] == 1):
                assert (callsigns[k] or "") == theirs.callsign, where
            if t == 24:
                assert theirs.partno == st.part[k], where
            has_dims = not (t == 24 and st.part[k] == 0) and hasattr(theirs, "to_bow")
            if has_dims:
                ours = (st.to_bow[k], st.to_stern[k], st.to_port[k], st.to_starboard[k])
                assert ours == (
                    theirs.to_bow,
                    theirs.to_stern,
                    theirs.to_port,
                    theirs.to_starboard,
                ), where
            elif t == 24 and st.part[k] == 1:  # auxiliary craft: mothership MMSI, no dimensions
                assert st.to_bow[k] == -1 and hasattr(theirs, "mothership_mmsi"), where
            compared[f"static_{t}"] += 1
    oth = dec.others
    for k in range(len(oth.index)):
        payload = fm.payload_bytes(int(oth.index[k]))
        for theirs in oracle.get(payload, []):
            assert theirs.msg_type == oth.msg_type[k]
            if oth.mmsi[k] >= 0:
                assert theirs.mmsi == oth.mmsi[k]
            compared["other"] += 1
    _check_misses(path, fm, dec, oracle)
    return compared


def _check_misses(path: Path, fm: FramedMessages, dec: Any, oracle: dict[bytes, list[Any]]) -> None:
    """Every message pyais decodes that we do not is one we rejected, for a reason we can see."""
    ours = {fm.payload_bytes(i): i for i in range(len(fm))}
    decoded = (
        {fm.payload_bytes(int(i)) for i in dec.positions.index}
        | {fm.payload_bytes(int(i)) for i in dec.statics.index}
        | {fm.payload_bytes(int(i)) for i in dec.others.index}
    )
    lines = read_bytes(path).splitlines()
    for payload, msgs in oracle.items():
        if payload in decoded:
            continue
        if payload in ours:
            # framed but not stored: too short, bad type 24 part, or no valid position
            i = ours[payload]
            n_bits = int(fm.length[i]) * 6 - int(fm.fill[i])
            m = msgs[0]
            needed = NEEDED_BITS.get(m.msg_type, 40 if m.msg_type == 24 else 0)
            short = n_bits < needed
            part24 = m.msg_type == 24 and (getattr(m, "partno", 0) > 1 or n_bits < 162)
            lat, lon = getattr(m, "lat", None), getattr(m, "lon", None)
            no_fix = lat is not None and lon is not None and (abs(lat) > 90 or abs(lon) > 180)
            assert short or part24 or no_fix, f"{path}:{fm.line[i]}: {payload!r} not decoded"
            continue
        # not framed: pyais ignores checksums and fragment order; we count those lines
        raw = [ln for ln in lines if payload[:20] in ln]
        assert raw, payload
        assert any(_checksum_bad(ln) for ln in raw) or any(
            b",2," in ln or b",3," in ln for ln in raw
        ), f"{path}: pyais decoded {payload!r} that we did not frame"


def _checksum_bad(line: bytes) -> bool:
    body = line.split(b"\\")[-1]
    star = body.find(b"*")
    value = 0
    for b in body[1:star]:
        value ^= b
    try:
        return value != int(body[star + 1 : star + 3], 16)
    except ValueError:
        return True


@pytest.mark.parametrize("folder,name", SHARED_NMEA)
def test_shared_samples_equal_pyais(folder: str, name: str) -> None:
    compared = compare_file(shared_path("ais", folder, name))
    assert sum(compared.values()) > 0


@pytest.mark.parametrize("name", BUNDLED_NMEA)
def test_bundled_samples_equal_pyais(name: str) -> None:
    path = DATA / "ais" / name
    if not path.exists():
        pytest.skip(f"{path} not bundled")
    compared = compare_file(path)
    assert sum(compared.values()) > 0


def test_every_decoded_type_is_compared() -> None:
    """Across the samples, each type we decode was compared at least once."""
    total: Counter[str] = Counter()
    for folder, name in SHARED_NMEA:
        total += compare_file(shared_path("ais", folder, name))
    for kind in ("position", "static_5", "static_19", "static_24", "other"):
        assert total[kind] > 0, kind
    assert total["position"] > 1500
