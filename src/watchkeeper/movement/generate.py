"""Synthetic AIS for benchmarks only: real tracks replayed, shifted in time and space.

Each synthetic vessel takes one real track and plays it forward, then backward,
then forward again ("ping-pong", so the replay never teleports), until it has
about ``positions_per_vessel`` reports; then it is moved by a random offset of up
to ``max_shift_deg`` and started at a random time. The time window grows with the
number of positions, so traffic density -- and so the cost per position of the
two-vessel joins -- stays the same at every size. Never used by tests or detectors'
results: the real tracks are.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from watchkeeper.movement.tracks import Track


@dataclass(frozen=True)
class GeneratorParams:
    positions_per_vessel: int = 2000
    max_shift_deg: float = 1.0
    days_per_million: float = 30.0  # time window per million positions
    pause_seconds: float = 600.0  # between one replay and the next
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
    seed: int = 7


def _ping_pong(base: Track, target: int, pause: float) -> tuple[np.ndarray, ...]:
    """Indices into ``base`` and relative times for ~``target`` reports."""
    n = len(base)
    rel = base.t - base.t[0]
    duration = float(rel[-1])
    reps = max(1, int(np.ceil(target / n)))
    idx_parts, t_parts = [], []
    offset = 0.0
    for r in range(reps):
        if r % 2 == 0:
            idx = np.arange(n)
            t = rel
        else:  # backward: same places, time still running forward
            idx = np.arange(n)[::-1]
            t = duration - rel[::-1]
        idx_parts.append(idx)
        t_parts.append(t + offset)
        offset += duration + pause
    return np.concatenate(idx_parts)[:target], np.concatenate(t_parts)[:target]


def replay(
    base: Sequence[Track],
    n_positions: int,
    params: GeneratorParams | None = None,
    *,
    batch_positions: int = 1_000_000,
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Batches of (positions, statics) Arrow tables in the ``ais_positions`` /
    ``ais_static`` layouts, ``n_positions`` positions in all."""
    p = params or GeneratorParams()
    usable = [t for t in base if len(t) >= 10 and t.t[-1] > t.t[0]]
    if not usable:
        raise ValueError("replay needs real tracks with at least 10 reports")
    rng = np.random.default_rng(p.seed)
    window = p.days_per_million * 86400.0 * max(n_positions, 1) / 1e6
    start = p.start.timestamp()
    msg_id = 1
    made = 0
    vessel = 0
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("mmsi", "t", "lat", "lon", "sog", "cog")}
    statics: dict[str, list[object]] = {k: [] for k in ("mmsi", "ship_type", "name")}
    pending = 0

    def flush() -> tuple[pa.Table, pa.Table]:
        nonlocal msg_id
        mmsi = np.concatenate(cols["mmsi"])
        n = mmsi.size
        t_us = (np.concatenate(cols["t"]) * 1e6).astype(np.int64)
        positions = pa.table(
            {
                "msg_id": pa.array(np.arange(msg_id, msg_id + n), pa.int64()),
                "ingest_id": pa.array(np.zeros(n, np.int32)),
                "mmsi": pa.array(mmsi.astype(np.int32)),
                "time": pa.array(t_us, pa.timestamp("us", tz="UTC")),
                "lat": np.concatenate(cols["lat"]),
                "lon": np.concatenate(cols["lon"]),
                "sog": np.concatenate(cols["sog"]),
                "cog": np.concatenate(cols["cog"]),
                "msg_type": pa.array(np.ones(n, np.int16)),
                "source": pa.array(["generated"] * n),
            }
        )
        msg_id += n
        m = len(statics["mmsi"])
        static = pa.table(
            {
                "msg_id": pa.array(np.arange(msg_id, msg_id + m), pa.int64()),
                "ingest_id": pa.array(np.zeros(m, np.int32)),
                "mmsi": pa.array(statics["mmsi"], pa.int32()),
                "time": pa.array([p.start] * m, pa.timestamp("us", tz="UTC")),
                "msg_type": pa.array(np.full(m, 5, np.int16)),
                "name": pa.array(statics["name"], pa.string()),
                "ship_type": pa.array(statics["ship_type"], pa.int16()),
                "source": pa.array(["generated"] * m),
            }
        )
        msg_id += m
        for v in cols.values():
            v.clear()
        for s in statics.values():
            s.clear()
        return positions, static

    while made < n_positions:
        b = usable[vessel % len(usable)]
        want = min(p.positions_per_vessel, n_positions - made)
        idx, rel = _ping_pong(b, want, p.pause_seconds)
        dlat, dlon = rng.uniform(-p.max_shift_deg, p.max_shift_deg, 2)
        t0 = start + rng.uniform(0, window)
        mid = str(b.mmsi)[:3] if str(b.mmsi)[0] in "234567" else "999"
        mmsi = int(mid) * 1_000_000 + vessel % 1_000_000
        cols["mmsi"].append(np.full(idx.size, mmsi, np.int64))
        cols["t"].append(t0 + rel)
        cols["lat"].append(np.clip(b.lat[idx] + dlat, -89.9, 89.9))
        cols["lon"].append(((b.lon[idx] + dlon + 540.0) % 360.0) - 180.0)
        cols["sog"].append(b.sog[idx])
        cols["cog"].append(b.cog[idx])
        statics["mmsi"].append(mmsi)
        statics["ship_type"].append(int(b.static.ship_type[0]) if len(b.static) else None)
        statics["name"].append(f"REPLAY {vessel}")
        made += idx.size
        pending += idx.size
        vessel += 1
        if pending >= batch_positions:
            yield flush()
            pending = 0
    if pending:
        yield flush()
