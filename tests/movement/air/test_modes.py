"""Raw Mode-S frames: CRC/parity, CPR positions, bad frames counted by reason (real samples)."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pyModeS
from pyModeS.util import crc

from tests.conftest import shared_path
from tests.movement.air._support import DUMP1090, FULL_FLIGHT, PYMODES_ADSB
from watchkeeper.io import open_text
from watchkeeper.movement.air.formats import read_air_file
from watchkeeper.movement.air.geodesy import haversine_km
from watchkeeper.movement.air.modes import (
    RawFrames,
    crc_remainders,
    decode_frames,
    read_frames_csv,
    read_frames_jsonl,
)


def _rs1090_lines(n: int | None = None) -> list[dict[str, object]]:
    with gzip.open(FULL_FLIGHT, "rt") as fh:
        return [json.loads(line) for _, line in zip(range(n or 10**9), fh, strict=False)]


def test_crc_remainders_equal_pymodes_on_real_frames() -> None:
    rows = _rs1090_lines(3000)
    long_frames = [str(r["frame"]) for r in rows]
    short_frames = [str(r["frame"])[:14] for r in rows if int(str(r["df"])) in (0, 4, 5, 11)]
    assert np.array_equal(crc_remainders(long_frames), [crc(f) for f in long_frames])
    assert np.array_equal(crc_remainders(short_frames), [crc(f) for f in short_frames])


def test_positions_agree_with_rs1090_on_the_real_flight() -> None:
    """rs1090 decoded the same frames (its lat/lon are in the file): our CPR positions must
    agree wherever both have one."""
    rows = _rs1090_lines()
    theirs = {
        float(r["timestamp"]): (float(r["latitude"]), float(r["longitude"]))  # type: ignore[arg-type]
        for r in rows
        if r.get("latitude") is not None
    }
    with open_text(FULL_FLIGHT) as fh:
        decoded = decode_frames(read_frames_jsonl(fh, Counter()))
    st = decoded.states
    assert set(st.icao24.tolist()) == {"393322"}
    both = [i for i, t in enumerate(st.time) if float(t) in theirs]
    assert len(both) > 5000
    ref = np.array([theirs[float(st.time[i])] for i in both])
    d = haversine_km(st.lat[both], st.lon[both], ref[:, 0], ref[:, 1])
    assert np.quantile(d, 0.99) < 0.05  # 50 m
    # Surface positions (taxi at LFPG before any airborne fix) are decoded too.
    assert (st.onground == 1).sum() > 1000
    assert decoded.repaired["short_frame_padded"] > 20000  # rs1090 writes DF4/5/11 as 112 bits


def test_pymodes_sample_positions_match_pymodes_pipe_decoder() -> None:
    with open_text(PYMODES_ADSB) as fh:
        raw = read_frames_csv(fh.read(), Counter())
    ours = decode_frames(raw).states
    pipe = pyModeS.PipeDecoder()
    theirs = {}
    for t, frame in zip(raw.times, raw.frames, strict=True):
        out = pipe.decode(frame, timestamp=t)
        if out.get("latitude") is not None:
            theirs[(t, frame)] = (out["latitude"], out["longitude"])
    assert len(ours) > 500 and len(theirs) > 500
    # Same frame times and positions: compare by time (several frames share a second).
    by_time: dict[float, list[tuple[float, float]]] = {}
    for (t, _), pos in theirs.items():
        by_time.setdefault(t, []).append(pos)
    close = 0
    for t, lat, lon in zip(ours.time, ours.lat, ours.lon, strict=True):
        cands = by_time.get(float(t), [])
        if cands and min(float(haversine_km(lat, lon, a, b)) for a, b in cands) < 0.05:
            close += 1
    assert close / len(ours) > 0.9
    assert set(ours.callsign.tolist()) == {"EZY85MH"}


def _frames(*rows: tuple[float, str, str | None]) -> RawFrames:
    raw = RawFrames()
    for t, f, hint in rows:
        raw.add(t, f, hint)
    return raw


def test_bad_frames_are_counted_by_reason_never_fatal() -> None:
    """Real frames, damaged on purpose (edge cases): one bit flipped, odd length, not hex,
    a DF20 whose parity address was never seen, a NaN time, frames out of time order."""
    good = [r for r in _rs1090_lines(400) if str(r["df"]) == "17"][:6]
    t0 = float(good[0]["timestamp"])  # type: ignore[arg-type]
    frames = [str(r["frame"]) for r in good]
    flipped = frames[0][:10] + format(int(frames[0][10], 16) ^ 1, "x") + frames[0][11:]
    raw = _frames(
        (t0 + 5, frames[1], None),
        (t0 + 1, frames[2], None),  # earlier than the frame before: out of order
        (t0 + 6, flipped, None),
        (t0 + 7, frames[3][:-1], None),
        (t0 + 8, "zz" + frames[4][2:], None),
        (t0 + 9, "a0001838ca3e51f0a8000047a36a", None),  # real DF20 of another aircraft
        (float("nan"), frames[5], None),
        (t0 + 10, frames[3] + "00", None),
    )
    out = decode_frames(raw)
    assert out.rejects == Counter(
        crc_error=1, odd_length_hex=1, bad_hex=1, unverified_address=1, bad_time=1, bad_length=1
    )
    assert out.repaired["out_of_order"] == 1
    assert len(out.frames) == 2
    assert list(out.frames.time) == sorted(out.frames.time)


def test_address_parity_checked_against_the_stated_address() -> None:
    """pyModeS Comm-B sample: each row states the address; DF20 parity must give it."""
    path = shared_path("adsb", "pymodes", "sample_data_commb_df20.csv")
    parsed = read_air_file(path)
    assert parsed.format == "frames-csv"
    assert parsed.frames is not None
    assert len(parsed.frames) + parsed.rejects["parity_error"] == 5000
    assert len(parsed.frames) > 4000
    assert set(parsed.frames.df.tolist()) == {20}


def test_beast_binary_stream() -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    parsed = read_air_file(DUMP1090, beast_start=start)
    assert parsed.format == "beast"
    assert parsed.frames is not None
    assert len(parsed.frames) + sum(parsed.rejects.values()) == 239
    assert parsed.frames.time[0] == start.timestamp()
    # 12 MHz clock: the sample spans about 24 s.
    assert 20 < parsed.frames.time[-1] - parsed.frames.time[0] < 30
    assert "48520a" in set(parsed.frames.icao24.tolist())
    assert parsed.rejects["crc_error"] == 0
