"""Alert (and case) building over millions of events generated from the real event mix,
against the same rules written as plain DuckDB SQL; same firings compared in the same run.

Input: the store ``make run`` leaves (``--source``, default /tmp/wkrun.duckdb; copied,
never written), whose 713 events (465 port calls, 123 identity changes, 35 voyages,
21 AIS gaps, 15 blocked vessel owners, 14 prohibited cargoes, 8 Mahan Air flights...)
are replicated to N: replica k shifts every time by k days and renames every typed
subject (``mmsi:..``, ``imo:..``, ``icao24:..``, ``doc:..``, ``cargo:..``) with a ``.k``
suffix, so each replica is a separate fleet with the same type mix, subjects per event,
parameters and pairings (a gap and the port calls of its own vessel); list entity ids
(``ofac-..``) are kept, as the same listed operator flies many flights. The last replica
is a hash sample of the events, so N need not be a multiple of 713. ``vessel_links``
(12 rows) are not replicated: MMSIs renamed in a replica are not linked.

Watchkeeper: ``raise_alerts`` over every stored event (one transaction, alerts written),
then ``build_cases`` when it exists. Peer: each rule as one plain DuckDB SQL query (types,
score, ``json_extract_string`` parameter filters, listed subjects, the near condition as
an unnest join within the window) returning (rule, event) firings, without titles, why
or deduplication. Firings compared with the events behind Watchkeeper's alerts.

Each measurement runs in its own process; peak memory is that process's VmHWM.

    python benchmarks/alerts.py [--sizes 1000000,3000000] [--source /tmp/wkrun.duckdb]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))
from _report import table, write_section  # noqa: E402

_REMAP = (
    "list_transform(subjects, s -> CASE WHEN k = 0 OR NOT contains(s, ':') THEN s "
    "ELSE s || '.' || k END)"
)


def _peak_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss carries over fork and exec)."""
    try:
        for row in Path("/proc/self/status").read_text().splitlines():
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(source: Path, out: Path, n: int) -> dict[str, Any]:
    """A copy of the make-run store whose events are the real ones replicated to ``n``."""
    from watchkeeper.store.db import Store

    out.unlink(missing_ok=True)
    shutil.copy(source, out)
    with Store(out) as store:
        con = store.con
        real = con.execute("SELECT count(*) FROM events").fetchone()
        count = int(real[0]) if real else 0
        replicas = -(-n // count)
        con.execute(
            "CREATE TEMP TABLE _base AS SELECT *, row_number() OVER "
            "(ORDER BY hash(event_id)) - 1 AS i FROM events"
        )
        con.execute("DELETE FROM events")
        con.execute("DELETE FROM alerts")
        con.execute(
            "INSERT INTO events SELECT event_id || CASE WHEN k = 0 THEN '' ELSE '~' || k END, "
            f"type, {_REMAP}, start_time + k * INTERVAL 1 DAY, end_time + k * INTERVAL 1 DAY, "
            "lat, lon, score, detail, params, evidence, now() "
            "FROM _base, range(?) AS r(k) WHERE k * ? + i < ?",
            [replicas, count, n],
        )
        con.execute("CHECKPOINT")
        mix = con.execute("SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC").fetchall()
    return {"real": count, "replicas": replicas, "mix": mix}


def run_ours(db: Path, memory: str) -> dict[str, Any]:
    from watchkeeper.alerts.engine import raise_alerts
    from watchkeeper.store.db import Store

    with Store(db) as store:
        if memory:
            store.con.execute(f"SET memory_limit = '{memory}'")
        c0, t0 = time.process_time(), time.perf_counter()
        run = raise_alerts(store)
        t1 = time.perf_counter()
        c1 = time.process_time()
        stored = store.con.execute("SELECT count(*) FROM events").fetchone()
    return {
        "events": int(stored[0]) if stored else 0,
        "alerts": len(run.created),
        "fired_events": run.events_read,
        "total_s": t1 - t0,
        "cpu_s": c1 - c0,
        "peak_mb": _peak_mb(),
    }


def run_cases(db: Path, memory: str) -> dict[str, Any]:
    from watchkeeper.alerts.cases import build_cases
    from watchkeeper.store.db import Store

    with Store(db) as store:
        if memory:
            store.con.execute(f"SET memory_limit = '{memory}'")
        c0, t0 = time.process_time(), time.perf_counter()
        run = build_cases(store)
        t1 = time.perf_counter()
        c1 = time.process_time()
        cases = store.con.execute("SELECT count(*) FROM cases").fetchone()
    return {
        "alerts": run.alerts,
        "cases": int(cases[0]) if cases else 0,
        "total_s": t1 - t0,
        "cpu_s": c1 - c0,
        "peak_mb": _peak_mb(),
    }


def _peer_params(wanted: dict[str, tuple[Any, ...]], column: str) -> str:
    """Parameter filters as an analyst writes them: JSON text compared to the values."""
    out = []
    for key, allowed in wanted.items():
        values = ", ".join(
            "'" + (str(v).lower() if isinstance(v, bool) else str(v)).replace("'", "''") + "'"
            for v in allowed
        )
        out.append(f"json_extract_string({column}, '$.{key}') IN ({values})")
    return " AND ".join(out) or "TRUE"


def peer_sql() -> str:
    """The bundled rules as one plain DuckDB query of (rule_id, event_id) firings."""
    from watchkeeper.alerts.rules import load_rules

    listed = (
        "listed AS (SELECT DISTINCT unnest(subjects) AS s FROM events "
        "WHERE type IN ('vessel_owner_blocked', 'owned_by_blocked') "
        "UNION SELECT 'mmsi:' || mmsi FROM vessel_links "
        "UNION SELECT list_filter(subjects, x -> starts_with(x, 'mmsi:'))[1] FROM events "
        "WHERE len(list_filter(subjects, x -> starts_with(x, 'mmsi:'))) = 1 "
        "AND len(list_filter(subjects, x -> starts_with(x, 'imo:'))) = 1 "
        "AND list_filter(subjects, x -> starts_with(x, 'imo:'))[1] IN "
        "(SELECT unnest(subjects) FROM events "
        "WHERE type IN ('vessel_owner_blocked', 'owned_by_blocked')))"
    )
    selects = []
    for rule in load_rules():
        types = ", ".join(f"'{t}'" for t in rule.types)
        where = [
            f"e.type IN ({types})",
            f"e.score >= {rule.min_score}",
            _peer_params(rule.params, "e.params"),
        ]
        if rule.listed:
            where.append(
                "e.event_id IN (SELECT event_id FROM (SELECT event_id, unnest(subjects) AS s "
                f"FROM events WHERE type IN ({types})) u "
                "WHERE NOT contains(u.s, ':') OR u.s IN (SELECT s FROM listed))"
            )
        if rule.near is not None:
            hours = rule.near.within_hours
            where.append(
                "e.event_id IN (SELECT a.event_id FROM "
                f"(SELECT event_id, unnest(subjects) AS s, start_time, end_time FROM events "
                f"WHERE type IN ({types})) a JOIN "
                f"(SELECT event_id, unnest(subjects) AS s, start_time, end_time FROM events "
                f"WHERE type = '{rule.near.type}' AND {_peer_params(rule.near.params, 'params')}) b "
                "ON a.s = b.s AND a.event_id <> b.event_id "
                f"AND b.start_time <= a.end_time + INTERVAL '{hours} hours' "
                f"AND b.end_time >= a.start_time - INTERVAL '{hours} hours')"
            )
        selects.append(
            f"SELECT '{rule.id}' AS rule_id, e.event_id FROM events e WHERE " + " AND ".join(where)
        )
    return f"WITH {listed} " + " UNION ALL ".join(selects)


def run_peer(db: Path, memory: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    con.execute("SET TimeZone = 'UTC'")
    if memory:
        con.execute(f"SET memory_limit = '{memory}'")
    sql = peer_sql()
    c0, t0 = time.process_time(), time.perf_counter()
    con.execute(f"CREATE TEMP TABLE peer AS {sql}")
    t1 = time.perf_counter()
    c1 = time.process_time()
    peak = _peak_mb()
    con.execute(
        "CREATE TEMP TABLE ours AS SELECT DISTINCT rule_id, unnest(json_keys(why)) AS event_id "
        "FROM alerts"
    )
    counts = con.execute(
        "SELECT (SELECT count(*) FROM peer), (SELECT count(*) FROM ours), "
        "(SELECT count(*) FROM (SELECT * FROM peer EXCEPT SELECT * FROM ours)), "
        "(SELECT count(*) FROM (SELECT * FROM ours EXCEPT SELECT * FROM peer))"
    ).fetchone()
    assert counts is not None
    return {
        "firings": int(counts[0]),
        "ours_firings": int(counts[1]),
        "peer_only": int(counts[2]),
        "ours_only": int(counts[3]),
        "total_s": t1 - t0,
        "cpu_s": c1 - c0,
        "peak_mb": peak,
    }


def _child(kind: str, db: Path, memory: str) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON result."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(db), memory],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _has_cases() -> bool:
    try:
        from watchkeeper.alerts.cases import build_cases  # noqa: F401
    except ImportError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,3000000")
    parser.add_argument("--source", type=Path, default=Path("/tmp/wkrun.duckdb"))
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--no-cases", action="store_true", help="skip build_cases")
    parser.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument(
        "--duckdb-memory",
        default="1GB",
        help="DuckDB memory_limit in each measured process ('' for DuckDB's default, 80%% of RAM)",
    )
    parser.add_argument(
        "--cases-max", type=int, default=3_000_000, help="build_cases only up to this many events"
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        kind, db, memory = args.child
        runners = {"ours": run_ours, "cases": run_cases, "peer": run_peer}
        print(json.dumps(runners[kind](Path(db), memory)))
        return

    if not args.source.exists():
        raise SystemExit(f"{args.source}: no make-run store (run `make run` first)")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="wk-alerts-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cases = _has_cases() and not args.no_cases
    rows, case_rows, peer_rows = [], [], []
    mix: list[Any] = []
    real = 0
    for n in sorted(int(s) for s in args.sizes.split(",") if s):
        db = workdir / f"events_{n}.duckdb"
        t = time.perf_counter()
        gen = generate(args.source, db, n)
        real, mix = gen["real"], gen["mix"]
        print(f"{n:,} events generated in {time.perf_counter() - t:.0f} s", flush=True)
        ours = _child("ours", db, args.duckdb_memory)
        rows.append([
            f"{n:,}", f"{ours['alerts']:,}", f"{ours['fired_events']:,}", f"{ours['total_s']:.1f}",
            f"{ours['cpu_s']:.1f}", f"{n / ours['total_s']:,.0f}", f"{n / ours['cpu_s']:,.0f}",
            f"{ours['peak_mb']:,.0f}",
            f"{ours['total_s'] / n * 1e6:.1f}",
        ])  # fmt: skip
        print(f"  raise_alerts: {ours}", flush=True)
        peer = _child("peer", db, args.duckdb_memory)
        peer_rows.append([
            f"{n:,}", f"{peer['firings']:,}", f"{peer['total_s']:.1f}",
            f"{n / peer['total_s']:,.0f}", f"{peer['peak_mb']:,.0f}",
            f"{peer['ours_firings'] - peer['ours_only']:,} same, {peer['peer_only']:,} peer only, "
            f"{peer['ours_only']:,} ours only",
            f"{ours['total_s'] / peer['total_s']:.1f}x",
        ])  # fmt: skip
        print(f"  peer SQL: {peer}", flush=True)
        if cases and n <= args.cases_max:
            res = _child("cases", db, args.duckdb_memory)
            case_rows.append([
                f"{n:,}", f"{res['alerts']:,}", f"{res['cases']:,}", f"{res['total_s']:.1f}",
                f"{res['cpu_s']:.1f}", f"{n / res['total_s']:,.0f}", f"{n / res['cpu_s']:,.0f}",
                f"{res['peak_mb']:,.0f}",
            ])  # fmt: skip
            print(f"  build_cases: {res}", flush=True)
        db.unlink(missing_ok=True)
    mix_text = ", ".join(f"{t} {c:,}" for t, c in mix[:8])
    body = f"""
Events: the {real} events of the `make run` store replicated to N (replica k: times
shifted k days, typed subjects renamed `<id>.k`, list entity ids kept; the last replica
a hash sample), so the type mix, subjects per event, parameters and pairings are the real
ones; at the largest size: {mix_text}, ... `vessel_links` (12) not replicated. Each row
is its own process (peak RSS is its VmHWM, DuckDB's buffers included), with DuckDB's
`memory_limit` set to {args.duckdb_memory or "its default (80% of RAM)"}: DuckDB keeps what it reads cached up to that
limit, so without one its cache, not the engine, grows with the store. What still grows
with N is the alerts written: all go in one transaction (all or nothing) and DuckDB holds
uncommitted rows in memory until the commit.

`raise_alerts` (rules selected in DuckDB per event type, candidates paged into Python,
alerts written in one transaction):

{table(["events", "alerts", "events fired", "wall s", "CPU s", "events/s",
        "events per CPU s", "peak RSS MB",
        "wall s per 1M events"], rows)}

Peer: the same rules as plain DuckDB SQL (one query, firings only: no titles, no why,
no deduplication into alerts), and the (rule, event) firings compared with the events
behind Watchkeeper's alerts, over all events:

{table(["events", "peer firings", "wall s", "events/s", "peak RSS MB", "firings compared",
        "Watchkeeper time / peer"], peer_rows)}
"""  # fmt: skip
    if case_rows:
        body += f"""
`build_cases` over the alerts just raised (another helper's code, measured here at the
same sizes):

{table(["events", "alerts", "cases", "wall s", "CPU s", "events/s", "events per CPU s",
        "peak RSS MB"], case_rows)}
"""  # fmt: skip
    body += f"\nLoad average at the end: {os.getloadavg()[0]:.1f} on 2 shared cores.\n"
    print(body)
    if not args.no_write:
        write_section("alerts", body)


if __name__ == "__main__":
    main()
