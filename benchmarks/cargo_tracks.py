"""Papers-against-tracks benchmark (issue 13 item 5): ``check_tracks`` over N generated
shipment lines against the bundled AIS samples (ingested, every ship detector run).
Writes the ``cargo_tracks`` section of BENCHMARKS.md.

Lines repeat as real manifests do: 5 goods lines per bill, and many bills on one vessel
voyage (V distinct voyages: a real IMO or broadcast name of the store, two ports, dates
either on the sample days or weeks away, so some voyages have tracks and some do not).

Peer, in the same run: the same check called line by line (``check_tracks(store,
[line])``), as a caller looping over a manifest would; on the first P lines, whose
findings must equal the batch's.

``python benchmarks/cargo_tracks.py [N] [V] [P]`` (default 1,000,000 20,000 300).
"""

from __future__ import annotations

import random
import resource
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks._report import table, write_section  # noqa: E402
from watchkeeper.cargo.model import ShipmentLine  # noqa: E402
from watchkeeper.cargo.tracks import TrackFinding, check_tracks, mismatch_events  # noqa: E402
from watchkeeper.movement.ais.ingest import ingest_paths  # noqa: E402
from watchkeeper.movement.detect import run_detectors  # noqa: E402
from watchkeeper.store import Store  # noqa: E402

SAMPLE_DAYS = [date(2016, 6, 1), date(2018, 4, 1), date(2021, 7, 1), date(2023, 1, 11)]
OTHER_PORTS = ["DKCPH", "SEGOT", "FIHEL", "VEJTC", "IRBND", "Rotterdam", "NLRTM", "RUKGD"]


def voyages(store: Store, n: int, rnd: random.Random) -> list[dict[str, object]]:
    def column(sql: str) -> list[object]:
        return sorted(r[0] for r in store.con.execute(sql).fetchall())

    imos = column("SELECT DISTINCT imo FROM ais_static WHERE imo > 0")
    names = column("SELECT DISTINCT name FROM ais_static WHERE name <> ''")
    called = column(
        "SELECT DISTINCT (params->>'port_locode') FROM events WHERE type = 'port_call' "
        "AND (params->>'port_locode') IS NOT NULL"
    )
    ports = [str(p) for p in called] + OTHER_PORTS
    out = []
    for _ in range(n):
        day = rnd.choice(SAMPLE_DAYS) + timedelta(days=rnd.choice([0, 0, 0, 1, -1, 30, 90]))
        carrier: dict[str, object] = (
            {"vessel_imo": str(rnd.choice(imos))}
            if rnd.random() < 0.7
            else {"vessel_name": rnd.choice(names)}
        )
        pol, pod = rnd.sample(ports, 2)
        out.append(
            {
                "mode": "sea",
                "port_of_loading": pol,
                "port_of_discharge": pod,
                "loading_date": day,
                "discharge_date": day + timedelta(days=rnd.randint(0, 3)),
                **carrier,
            }
        )
    return out


def lines_of(pool: list[dict[str, object]], n: int, rnd: random.Random) -> list[ShipmentLine]:
    out = []
    for i in range(n // 5):
        v = rnd.choice(pool)
        for j in range(5):
            out.append(
                ShipmentLine(f"B{i}", j + 1, f"gen.csv:{5 * i + j + 2}", "gen", goods="goods", **v)  # type: ignore[arg-type]
            )
    return out


def key(f: TrackFinding) -> tuple[object, ...]:
    return (f.line_id, f.kind, f.score, f.detail, f.evidence)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_voyages = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    n_peer = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    rnd = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp) / "b.duckdb") as store:
        ingest_paths(store, [ROOT / "data" / "ais"])
        run_detectors(store)
        pool = voyages(store, n_voyages, rnd)
        rows = []
        runs: dict[int, tuple[float, list[TrackFinding]]] = {}
        for size in (n // 10, n):
            lines = lines_of(pool, size, random.Random(size))
            t = time.perf_counter()
            found = check_tracks(store, lines)
            events = mismatch_events(lines, found)
            s = time.perf_counter() - t
            runs[size] = (s, found)
            mism = len({f.line_id for f in found if f.mismatch})
            rows.append(
                [
                    "watchkeeper (set-based)",
                    f"{size:,}",
                    f"{s:.1f}",
                    f"{size / s:,.0f}",
                    f"{len(found):,}",
                    f"{mism:,} lines, {len(events):,} events",
                ]
            )
            print(rows[-1], flush=True)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sample = lines_of(pool, n, random.Random(n))[:n_peer]
        t = time.perf_counter()
        peer = [f for ln in sample for f in check_tracks(store, [ln])]
        s = time.perf_counter() - t
        batch = [f for f in runs[n][1] if f.line_id in {ln.line_id for ln in sample}]
        same = sorted(map(key, peer)) == sorted(map(key, batch))
        rows.append(
            [
                "same check, line by line",
                f"{n_peer:,}",
                f"{s:.1f}",
                f"{n_peer / s:,.0f}",
                f"{len(peer):,}",
                "same findings" if same else "DIFFERENT findings",
            ]
        )
        print(rows[-1], flush=True)
    big = runs[n][0]
    body = (
        f"{n:,} generated shipment lines (5 per bill) over {n_voyages:,} declared voyages, "
        "against every bundled AIS sample with the ship detectors run.\n\n"
        + table(["implementation", "lines", "seconds", "lines/s", "findings", "contradicted"], rows)
        + f"\n\nSet-based vs line by line: {(n / big) / (n_peer / s):,.0f}x. Linear: "
        f"{(n // 10) / runs[n // 10][0]:,.0f} lines/s at {n // 10:,} lines, {n / big:,.0f} at "
        f"{n:,}. Peak RSS {peak_mb:,.0f} MB (the generated lines and their findings held in "
        "memory). The line-by-line peer gives the same findings on its lines: "
        + ("yes." if same else "NO.")
    )
    write_section("cargo_tracks", body)
    print(body)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
