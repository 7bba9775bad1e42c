"""One vessel's reports as time-sorted NumPy arrays, loaded from the store in chunks
of vessels (so memory stays bounded however many positions there are), and
resampling onto fixed time bins without interpolating across long gaps.

Times are float64 seconds since the Unix epoch, UTC; speeds knots; degrees WGS84.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt

from watchkeeper.movement.geo import FloatArray, IntArray, ShoreDistance
from watchkeeper.movement.ports import PortIndex
from watchkeeper.store import Store

ObjArray = npt.NDArray[np.object_]


def to_datetime(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=UTC)


def to_seconds(when: datetime) -> float:
    return when.timestamp()


@dataclass
class StaticReports:
    """A vessel's static/voyage reports, time-sorted (reports without a time last)."""

    msg_id: IntArray
    t: FloatArray  # NaN when the source gave no time
    imo: IntArray  # 0 when not given
    name: ObjArray
    callsign: ObjArray
    ship_type: IntArray  # 0 when not given
    draught: FloatArray  # metres, NaN when not given

    @classmethod
    def empty(cls) -> StaticReports:
        return cls(
            np.empty(0, np.int64),
            np.empty(0, np.float64),
            np.empty(0, np.int64),
            np.empty(0, object),
            np.empty(0, object),
            np.empty(0, np.int64),
            np.empty(0, np.float64),
        )

    def __len__(self) -> int:
        return int(self.msg_id.size)

    def take(self, index: IntArray | slice) -> StaticReports:
        return StaticReports(
            self.msg_id[index],
            self.t[index],
            self.imo[index],
            self.name[index],
            self.callsign[index],
            self.ship_type[index],
            self.draught[index],
        )


@dataclass
class Track:
    """One MMSI's position reports, sorted by time, exact duplicates removed."""

    mmsi: int
    msg_id: IntArray
    t: FloatArray
    lat: FloatArray
    lon: FloatArray
    sog: FloatArray  # knots, NaN when not available
    cog: FloatArray  # degrees, NaN when not available
    static: StaticReports = field(default_factory=StaticReports.empty)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.t.size)

    @classmethod
    def from_arrays(
        cls,
        mmsi: int,
        msg_id: npt.ArrayLike,
        t: npt.ArrayLike,
        lat: npt.ArrayLike,
        lon: npt.ArrayLike,
        sog: npt.ArrayLike | None = None,
        cog: npt.ArrayLike | None = None,
        static: StaticReports | None = None,
    ) -> Track:
        """Sort by time (then msg_id) and drop reports repeating the previous one's
        time and position (the same message heard by two receivers)."""
        t_a = np.asarray(t, dtype=np.float64)
        n = t_a.size
        ids = np.asarray(msg_id, dtype=np.int64)
        lat_a = np.asarray(lat, dtype=np.float64)
        lon_a = np.asarray(lon, dtype=np.float64)
        sog_a = np.full(n, np.nan) if sog is None else np.asarray(sog, dtype=np.float64)
        cog_a = np.full(n, np.nan) if cog is None else np.asarray(cog, dtype=np.float64)
        order = np.lexsort((ids, t_a))
        if n > 1:
            ts, la, lo = t_a[order], lat_a[order], lon_a[order]
            dup = np.zeros(n, dtype=bool)
            dup[1:] = (ts[1:] == ts[:-1]) & (la[1:] == la[:-1]) & (lo[1:] == lo[:-1])
            order = order[~dup]
        if not np.array_equal(order, np.arange(n)):
            t_a, ids, lat_a, lon_a = t_a[order], ids[order], lat_a[order], lon_a[order]
            sog_a, cog_a = sog_a[order], cog_a[order]
        return cls(int(mmsi), ids, t_a, lat_a, lon_a, sog_a, cog_a, static or StaticReports.empty())

    def evidence(self, index: npt.ArrayLike, limit: int = 60) -> tuple[str, ...]:
        """``ais:<msg_id>`` of positions ``index``; long spans keep the first and last
        and an even sample in between (``limit`` ids at most)."""
        idx = np.unique(np.asarray(index, dtype=np.int64))
        if idx.size > limit:
            pick = np.linspace(0, idx.size - 1, limit).round().astype(np.int64)
            idx = idx[np.unique(pick)]
        return tuple(f"ais:{int(m)}" for m in self.msg_id[idx])

    def span_evidence(self, start: int, stop: int, limit: int = 60) -> tuple[str, ...]:
        """Evidence for positions ``start..stop`` inclusive."""
        return self.evidence(np.arange(start, stop + 1), limit)

    # Derived per-position values, computed once per track and shared by detectors.
    def shore_nm(self, shore: ShoreDistance) -> FloatArray:
        if "shore_nm" not in self._cache:
            self._cache["shore_nm"] = shore.nm(self.lat, self.lon)
        value: FloatArray = self._cache["shore_nm"]
        return value

    def nearest_port(self, ports: PortIndex, max_km: float = 50.0) -> tuple[IntArray, FloatArray]:
        """Nearest WPI port per position within ``max_km`` (-1 / inf beyond)."""
        key = f"port:{max_km}"
        if key not in self._cache:
            self._cache[key] = ports.nearest(self.lat, self.lon, max_km)
        value: tuple[IntArray, FloatArray] = self._cache[key]
        return value


# ----------------------------------------------------------------------- loading

_POSITIONS_SQL = """
SELECT mmsi, msg_id, epoch(time) AS t, lat, lon,
       coalesce(sog, 'NaN'::DOUBLE) AS sog, coalesce(cog, 'NaN'::DOUBLE) AS cog
FROM ais_positions
WHERE mmsi IN (SELECT unnest(?)) AND lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180
  {since}
ORDER BY mmsi, time, msg_id
"""

_STATIC_SQL = """
SELECT mmsi, msg_id, coalesce(epoch(time), 'NaN'::DOUBLE) AS t, coalesce(imo, 0) AS imo,
       coalesce(trim(name), '') AS name, coalesce(trim(callsign), '') AS callsign,
       coalesce(ship_type, 0) AS ship_type, coalesce(draught, 'NaN'::DOUBLE) AS draught
FROM ais_static WHERE mmsi IN (SELECT unnest(?))
ORDER BY mmsi, time NULLS LAST, msg_id
"""


def vessel_counts(store: Store, since: datetime | None = None) -> list[tuple[int, int]]:
    """(mmsi, positions) for every vessel with positions (since ``since``)."""
    sql = "SELECT mmsi, count(*) FROM ais_positions"
    params: list[Any] = []
    if since is not None:
        sql += " WHERE time >= ?"
        params.append(since)
    sql += " GROUP BY mmsi ORDER BY mmsi"
    return [(int(m), int(c)) for m, c in store.con.execute(sql, params).fetchall()]


def vessel_chunks(
    counts: Sequence[tuple[int, int]], max_positions: int = 1_000_000
) -> Iterator[list[int]]:
    """Groups of MMSIs holding at most ``max_positions`` positions (one vessel may
    exceed it alone)."""
    chunk: list[int] = []
    total = 0
    for mmsi, n in counts:
        if chunk and total + n > max_positions:
            yield chunk
            chunk, total = [], 0
        chunk.append(mmsi)
        total += n
    if chunk:
        yield chunk


def _split(keys: IntArray) -> list[tuple[int, int, int]]:
    """(key, start, stop) for runs of equal keys in a sorted array."""
    if keys.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    stops = np.r_[starts[1:], keys.size]
    return [(int(keys[a]), int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def load_chunk(store: Store, mmsis: Sequence[int], since: datetime | None = None) -> list[Track]:
    """The tracks of these vessels, with their static reports."""
    params: list[Any] = [list(mmsis)]
    since_sql = ""
    if since is not None:
        since_sql = "AND time >= ?"
        params.append(since)
    pos = store.con.execute(_POSITIONS_SQL.format(since=since_sql), params).fetchnumpy()
    st = store.con.execute(_STATIC_SQL, [list(mmsis)]).fetchnumpy()
    statics: dict[int, StaticReports] = {}
    s_mmsi = np.asarray(st["mmsi"], dtype=np.int64)
    s_all = StaticReports(
        np.asarray(st["msg_id"], dtype=np.int64),
        np.asarray(st["t"], dtype=np.float64),
        np.asarray(st["imo"], dtype=np.int64),
        np.asarray(st["name"], dtype=object),
        np.asarray(st["callsign"], dtype=object),
        np.asarray(st["ship_type"], dtype=np.int64),
        np.asarray(st["draught"], dtype=np.float64),
    )
    for mmsi, a, b in _split(s_mmsi):
        statics[mmsi] = s_all.take(slice(a, b))
    p_mmsi = np.asarray(pos["mmsi"], dtype=np.int64)
    arrays = {k: np.asarray(pos[k]) for k in ("msg_id", "t", "lat", "lon", "sog", "cog")}
    tracks = []
    for mmsi, a, b in _split(p_mmsi):
        tracks.append(
            Track.from_arrays(
                mmsi,
                arrays["msg_id"][a:b],
                arrays["t"][a:b],
                arrays["lat"][a:b],
                arrays["lon"][a:b],
                arrays["sog"][a:b],
                arrays["cog"][a:b],
                statics.get(mmsi),
            )
        )
    return tracks


def iter_tracks(
    store: Store,
    mmsis: Sequence[int] | None = None,
    since: datetime | None = None,
    max_positions: int = 1_000_000,
) -> Iterator[list[Track]]:
    """Tracks in chunks of vessels of at most ``max_positions`` positions each."""
    counts = vessel_counts(store, since)
    if mmsis is not None:
        wanted = set(mmsis)
        counts = [(m, n) for m, n in counts if m in wanted]
    for chunk in vessel_chunks(counts, max_positions):
        yield load_chunk(store, chunk, since)


def load_track(store: Store, mmsi: int, since: datetime | None = None) -> Track | None:
    found = load_chunk(store, [mmsi], since)
    return found[0] if found else None


# -------------------------------------------------------------------- resampling


@dataclass
class Resampled:
    """A track on fixed time bins: ``t`` are multiples of the bin width (UTC)."""

    mmsi: int
    t: FloatArray
    lat: FloatArray
    lon: FloatArray
    sog: FloatArray
    cog: FloatArray
    source: IntArray  # index into the track of the nearest real position

    def __len__(self) -> int:
        return int(self.t.size)


def resample(
    track: Track, bin_seconds: float = 600.0, max_gap_seconds: float = 3600.0
) -> Resampled:
    """Positions at every bin time inside the track, linearly interpolated between
    the reports around it; bins inside a gap longer than ``max_gap_seconds`` are left
    out (never interpolated). Speed and course are interpolated too (course across
    north by the shorter way)."""
    key = f"resample:{bin_seconds}:{max_gap_seconds}"
    if key in track._cache:
        cached: Resampled = track._cache[key]
        return cached
    t = track.t
    if t.size == 0:
        e = np.empty(0, np.float64)
        return Resampled(track.mmsi, e, e, e, e, e, np.empty(0, np.int64))
    # Bins only inside stretches without a long gap (a sparse track spanning months
    # must not cost a bin every 10 minutes of it).
    brk = np.flatnonzero(np.diff(t) > max_gap_seconds)
    seg_start = np.r_[0, brk + 1]
    seg_end = np.r_[brk, t.size - 1]
    b0 = np.ceil(t[seg_start] / bin_seconds).astype(np.int64)
    b1 = np.floor(t[seg_end] / bin_seconds).astype(np.int64)
    counts = np.maximum(b1 - b0 + 1, 0)
    total = int(counts.sum())
    if total == 0:
        e = np.empty(0, np.float64)
        return Resampled(track.mmsi, e, e, e, e, e, np.empty(0, np.int64))
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    bins = (np.repeat(b0, counts) + within).astype(np.float64) * bin_seconds
    right = np.searchsorted(t, bins, side="left")  # first report at or after the bin
    right = np.clip(right, 0, t.size - 1)
    exact = t[right] == bins
    left = np.where(exact, right, np.clip(right - 1, 0, t.size - 1))
    span = t[right] - t[left]
    keep = exact | (span <= max_gap_seconds)
    bins, left, right, span = bins[keep], left[keep], right[keep], span[keep]
    w = np.where(span > 0, (bins - t[left]) / np.where(span > 0, span, 1.0), 0.0)
    lat = track.lat[left] + w * (track.lat[right] - track.lat[left])
    dlon = ((track.lon[right] - track.lon[left] + 540.0) % 360.0) - 180.0
    lon = ((track.lon[left] + w * dlon + 540.0) % 360.0) - 180.0
    sog_l, sog_r = track.sog[left], track.sog[right]
    sog = np.where(
        np.isnan(sog_l), sog_r, np.where(np.isnan(sog_r), sog_l, sog_l + w * (sog_r - sog_l))
    )
    dcog = ((track.cog[right] - track.cog[left] + 540.0) % 360.0) - 180.0
    cog = (track.cog[left] + w * dcog) % 360.0
    source = np.where(w <= 0.5, left, right).astype(np.int64)
    out = Resampled(track.mmsi, bins, lat, lon, sog, cog, source)
    track._cache[key] = out
    return out
