"""The OFAC 50% fixpoint and the per-entity exposure query on generated corporate
graphs shaped like real registers (``_graph_gen``: power-law holdings, chains up to 10
deep, cross-holdings, joint ownership, share ranges, unknown holders), against a plain
networkx implementation of the same rule in the same run (same answers first, then
time), and the same fixpoint on Apache Spark (``scale.graph``, iterated joins).

The graph is generated once per size and saved; each engine runs on it in its own
process, which loads the arrays (no temporaries freed before the engine starts, so
their pages are not reused unseen), and its peak memory is the peak resident set
(``VmHWM``, reset once the arrays are loaded) above the resident set with the arrays.

Usage: ``python benchmarks/graph.py [--sizes 100000,1000000,10000000]
[--peer-sizes 100000,1000000] [--spark-sizes 100000] [--queries 1000]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

THRESHOLD = 0.5 - 1e-9  # OFAC: 50% or more, with graph.control's float tolerance


# --------------------------------------------------------------- the peer


def networkx_graph(
    n: int,
    holder: NDArray[np.int64],
    held: NDArray[np.int64],
    low: NDArray[np.float64],
    high: NDArray[np.float64],
    listed: NDArray[np.bool_],
    unknown: NDArray[np.bool_],
) -> Any:
    """A networkx DiGraph of the holdings (duplicate rows summed on one edge), listed
    and unknown as node attributes."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(
        (i, {"listed": a, "unknown": b})
        for i, (a, b) in enumerate(zip(listed.tolist(), unknown.tolist(), strict=True))
    )
    for h, x, lo, hi in zip(
        holder.tolist(), held.tolist(), low.tolist(), high.tolist(), strict=True
    ):
        data = graph.get_edge_data(h, x)
        if data is None:
            graph.add_edge(h, x, low=lo, high=hi)
        else:
            data["low"] += lo
            data["high"] += hi
    return graph


def networkx_statuses(graph: Any) -> NDArray[np.int8]:
    """The rule, plainly: sweep every node, sum what its counted holders hold, repeat
    until a sweep adds nobody; first the blocked set, then the possible set."""
    nodes = graph.nodes
    blocked = {x for x, listed in nodes(data="listed") if listed}
    while True:
        new = [
            x
            for x in graph
            if x not in blocked
            and sum(d["low"] for h, d in graph.pred[x].items() if h in blocked) >= THRESHOLD
        ]
        if not new:
            break
        blocked.update(new)
    unknown = {x for x, u in nodes(data="unknown") if u}
    possible = set(blocked)
    while True:
        new = []
        for x in graph:
            if x in possible:
                continue
            could = rest = 0.0
            for h, d in graph.pred[x].items():
                if h in possible or h in unknown:
                    could += d["high"]
                else:
                    rest += d["low"]
            if min(could, 1.0 - rest) >= THRESHOLD:
                new.append(x)
        if not new:
            break
        possible.update(new)
    status = np.zeros(graph.number_of_nodes(), dtype=np.int8)
    status[list(possible)] = 1
    status[list(blocked)] = 2
    return status


# --------------------------------------------------------------- workers


def _proc_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Reset VmHWM to the current resident set (Linux 4.0+); False if not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def save_graph(size: int, seed: int, folder: Path) -> tuple[Path, float]:
    from _graph_gen import generate

    t0 = time.perf_counter()
    graph = generate(size, seed)
    took = time.perf_counter() - t0
    path = folder / f"graph-{size}.npz"
    fields = ("holder", "held", "low", "high", "listed", "unknown")
    np.savez(path, n=graph.n, **{name: getattr(graph, name) for name in fields})
    return path, took


def _best(result: dict[str, Any], build_s: float, fixpoint_s: float) -> None:
    """Keep the fastest of the repeats (the machine is shared: the others measure load)."""
    if build_s + fixpoint_s < result.get("build_s", np.inf) + result.get("fixpoint_s", np.inf):
        result.update(build_s=build_s, fixpoint_s=fixpoint_s)
    result["repeats"] = result.get("repeats", 0) + 1


def worker(
    engine: str, graph_file: Path, seed: int, queries: int, repeat: int, out: Path
) -> dict[str, Any]:
    with np.load(graph_file) as f:
        n = int(f["n"])
        holder, held, low, high = f["holder"], f["held"], f["low"], f["high"]
        listed, unknown = f["listed"], f["unknown"]
    args = (n, holder, held, low, high, listed, unknown)
    result: dict[str, Any] = {"engine": engine, "edges": int(holder.size), "nodes": n}
    gc.collect()
    base = _proc_kib("VmRSS")
    result["peak_reset"] = _reset_peak()
    if engine == "ours":
        from watchkeeper.graph.control import OwnershipArrays

        for _ in range(repeat):
            t0 = time.perf_counter()
            arrays = OwnershipArrays(*args)
            t1 = time.perf_counter()
            status = arrays.fixpoint()
            _best(result, t1 - t0, time.perf_counter() - t1)
            # The first run's peak: later ones overlap the previous arrays' lifetime.
            result.setdefault("peak_mib", (_proc_kib("VmHWM") - base) / 1024)
        # Exposure: why is this party blocked or possibly blocked -- the statements
        # up to the listed parties (chain) and what its holders hold (tallies).
        rng = np.random.default_rng(seed)
        derived = np.flatnonzero((status >= 1) & ~listed)
        picks = rng.choice(derived, size=min(queries, derived.size), replace=False)
        times, lengths = [], []
        for i in picks.tolist():
            q0 = time.perf_counter_ns()
            chain = arrays.chain(i)
            arrays.tallies(i)
            times.append(time.perf_counter_ns() - q0)
            lengths.append(len(chain))
        ms = np.array(times) / 1e6
        result.update(
            queries=int(picks.size),
            query_p50_ms=float(np.percentile(ms, 50)),
            query_p99_ms=float(np.percentile(ms, 99)),
            query_max_ms=float(ms.max()),
            chain_p50=float(np.percentile(lengths, 50)),
            chain_max=int(max(lengths)),
        )
    elif engine == "networkx":
        for _ in range(repeat):
            t0 = time.perf_counter()
            nx_graph = networkx_graph(*args)
            t1 = time.perf_counter()
            status = networkx_statuses(nx_graph)
            _best(result, t1 - t0, time.perf_counter() - t1)
            del nx_graph
        result["peak_mib"] = (_proc_kib("VmHWM") - base) / 1024
    elif engine == "spark":
        from _graph_gen import generate

        from watchkeeper.scale.graph import ofac_fixpoint_spark
        from watchkeeper.scale.spark import build_session

        t0 = time.perf_counter()
        spark = build_session("local[2]")
        result["session_s"] = time.perf_counter() - t0
        try:
            small = generate(10_000, seed + 1)
            t0 = time.perf_counter()
            ofac_fixpoint_spark(spark, *small.arrays())
            result["warmup_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            status = ofac_fixpoint_spark(spark, *args)
            result.update(build_s=0.0, fixpoint_s=time.perf_counter() - t0)
        finally:
            spark.stop()
        result["peak_mib"] = None  # the JVM's memory is not this process's
    else:
        raise SystemExit(f"unknown engine {engine}")
    result["counts"] = np.bincount(status, minlength=3).tolist()
    np.save(out, status)
    return result


def run(
    engine: str, size: int, graph_file: Path, args: argparse.Namespace, folder: Path
) -> dict[str, Any]:
    out = folder / f"{engine}-{size}.npy"
    repeat = args.repeat if size <= 1_000_000 else 1
    cmd = [sys.executable, __file__, "--worker", engine, "--graph", str(graph_file)]
    cmd += ["--seed", str(args.seed), "--queries", str(args.queries), "--out", str(out)]
    cmd += ["--repeat", str(repeat)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{engine} at {size}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["status_file"] = str(out)
    print(json.dumps({k: v for k, v in result.items() if k != "status_file"}), flush=True)
    return result


# --------------------------------------------------------------- report


def _f(x: float, digits: int = 2) -> str:
    return f"{x:,.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,1000000,10000000")
    ap.add_argument("--peer-sizes", default="100000,1000000")
    ap.add_argument("--spark-sizes", default="100000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--graph", default=None)
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine up to 1M holdings")
    ap.add_argument("--no-write", action="store_true", help="print, do not touch BENCHMARKS.md")
    args = ap.parse_args()
    if args.worker:
        result = worker(
            args.worker, Path(args.graph), args.seed, args.queries, args.repeat, Path(args.out)
        )
        print(json.dumps(result))
        return

    from _report import table, write_section

    sizes = [int(s) for s in args.sizes.split(",") if s]
    peer_sizes = {int(s) for s in args.peer_sizes.split(",") if s}
    spark_sizes = {int(s) for s in args.spark_sizes.split(",") if s}
    load = os.getloadavg()[0]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="wk-bench-graph-") as tmp:
        for size in sizes:
            graph_file, generate_s = save_graph(size, args.seed, Path(tmp))
            print(f"generated {size:,} holdings in {generate_s:.1f} s", flush=True)
            results["ours", size] = run("ours", size, graph_file, args, Path(tmp))
            results["ours", size]["generate_s"] = generate_s
            mine = np.load(results["ours", size]["status_file"])
            for peer, wanted in (("networkx", peer_sizes), ("spark", spark_sizes)):
                if size not in wanted:
                    continue
                r = run(peer, size, graph_file, args, Path(tmp))
                results[peer, size] = r
                theirs = np.load(r["status_file"])
                r["differ"] = int((theirs != mine).sum())
                if r["differ"]:  # times of different answers mean nothing: stop here
                    raise SystemExit(f"{peer} at {size:,}: {r['differ']:,} statuses differ")
    load = max(load, os.getloadavg()[0])

    order = {"ours": 0, "networkx": 1, "spark": 2}
    ranked = sorted(results.items(), key=lambda kv: (kv[0][1], order[kv[0][0]]))
    rows = []
    for (engine, size), r in ranked:
        total = r["build_s"] + r["fixpoint_s"]
        rows.append(
            [
                {"ours": "graph.control", "networkx": "networkx", "spark": "Spark local[2]"}[
                    engine
                ],
                f"{size:,}",
                f"{r['nodes']:,}",
                _f(r["build_s"]),
                _f(r["fixpoint_s"]),
                _f(total),
                _f(total / size * 1e9, 0),
                "n/a (JVM)" if r["peak_mib"] is None else _f(r["peak_mib"], 0),
                "/".join(f"{c:,}" for c in reversed(r["counts"])),
                "-" if engine == "ours" else ("yes" if r["differ"] == 0 else f"NO ({r['differ']})"),
            ]
        )
    ratios = []
    for (engine, size), r in ranked:
        if engine == "ours":
            continue
        ours = results["ours", size]
        ours_total = ours["build_s"] + ours["fixpoint_s"]
        peer_total = r["build_s"] + r["fixpoint_s"]
        ratios.append(
            [
                engine,
                f"{size:,}",
                f"{peer_total / ours_total:,.0f}x",
                f"{r['fixpoint_s'] / ours['fixpoint_s']:,.0f}x" if r["build_s"] else "-",
                "-" if r["peak_mib"] is None else f"{r['peak_mib'] / ours['peak_mib']:,.0f}x",
            ]
        )
    queries = [
        [
            f"{size:,}",
            str(results["ours", size]["queries"]),
            _f(results["ours", size]["query_p50_ms"], 3),
            _f(results["ours", size]["query_p99_ms"], 3),
            _f(results["ours", size]["query_max_ms"], 3),
            f"{results['ours', size]['chain_p50']:g} / {results['ours', size]['chain_max']}",
        ]
        for size in sizes
    ]
    body = f"""Generated registers (`benchmarks/_graph_gen.py`, seed {args.seed}): ultimate owners
over ten levels of companies, 1-5 holders per company (shares a random split of 60-100%,
one 2-holder company in twenty a 50/50 joint venture), holders picked by a power law
within their level (the biggest holds thousands of companies), 30% of holdings skip
levels, 1% point back up (cross-holdings, cycles), 10% of shares are ranges and 0.5% of
unknown size, 0.5% of owners are unknown holders, about 0.75% of nodes listed (a quarter
of them picked by size of holdings). Ids shuffled. Each engine runs in its own process;
peak memory is the peak resident set above the loaded arrays (``VmHWM`` reset once they
are loaded). Times are the best of {args.repeat} runs up to 1,000,000 holdings (one run
above, and one for Spark). Load average during the run: up to {load:.1f} on 2 cores
(shared with other work).

- graph.control: `OwnershipArrays(n, holder, held, low, high, listed, unknown)` (build:
  CSR by holder and by held), then `.fixpoint()` (worklists: each holding read once per
  set). Statuses: blocked / possibly blocked / not blocked.
- networkx: a `DiGraph` (duplicate holdings summed on one edge; build timed apart),
  then the rule swept over every node until a sweep adds nobody, blocked set then
  possible set: the same rule written plainly.
- Spark local[2]: `scale.graph.ofac_fixpoint_spark` (semi-naive iterated joins, lineage
  cut each round); session start and a 10,000-holding warm-up not counted.

"""
    headers = ["engine", "holdings", "nodes", "build s", "fixpoint s", "total s"]
    headers += ["ns / holding", "peak MiB", "blocked/possibly/not", "same statuses"]
    body += table(headers, rows)
    per_edge = [
        (results["ours", size]["build_s"] + results["ours", size]["fixpoint_s"]) / size * 1e9
        for size in sizes
    ]
    body += "\n\nGrowth: graph.control's build + fixpoint per holding, " + ", ".join(
        f"{size:,}: {ns:,.0f} ns" for size, ns in zip(sizes, per_edge, strict=True)
    )
    body += f" (largest over smallest: {per_edge[-1] / per_edge[0]:.2f}; 1.00 is linear)."
    run_peer = [size for size in sizes if ("networkx", size) in results]
    skipped = [size for size in sizes if ("networkx", size) not in results]
    if run_peer and skipped:
        r = results["networkx", run_peer[-1]]
        scale = skipped[-1] / run_peer[-1]
        body += (
            f" networkx was not run at {', '.join(f'{s:,}' for s in skipped)} holdings: "
            f"linearly from its {run_peer[-1]:,} run it would take about "
            f"{(r['build_s'] + r['fixpoint_s']) * scale:,.0f} s and "
            f"{r['peak_mib'] * scale / 1024:,.1f} GiB at {skipped[-1]:,} (its sweeps "
            "grow with the depth reached as well, so this is a lower bound)."
        )
    body += "\n\nThe peers' time and memory over graph.control's, same holdings:\n\n"
    body += table(["peer", "holdings", "total time", "fixpoint only", "peak memory"], ratios)
    body += "\n\nExposure on the built arrays (`chain(i)` + `tallies(i)`: the holdings from "
    body += "the entity up to the listed parties and what its holders hold), for random "
    body += "entities blocked or possibly blocked by ownership (not listed themselves):\n\n"
    body += table(
        ["holdings", "queries", "p50 ms", "p99 ms", "max ms", "chain length p50 / max"], queries
    )
    big = results["ours", sizes[-1]]
    big_s = big["build_s"] + big["fixpoint_s"]
    body += (
        f"\n\nIssue 12's targets, at {sizes[-1]:,} holdings: the fixpoint (build included) "
        f"in {big_s:,.1f} s (target: within 60 s: {'met' if big_s <= 60 else 'NOT met'}); "
        f"exposure p99 {big['query_p99_ms']:.3f} ms (target: under 10 ms: "
        f"{'met' if big['query_p99_ms'] < 10 else 'NOT met'}). The exposure query here "
        "is on arrays already built; `watchkeeper exposure` also reads the relations "
        "from the store and builds them."
    )
    if any(engine == "spark" for engine, _ in results):
        body += (
            "\n\nOn one machine Spark is by far the slowest engine: every round of the "
            "fixpoint is a Spark job (a join, two aggregations, a checkpoint) with a "
            "fixed cost of about a second here, and the rounds follow the depth of the "
            "chains. What it buys is the same statuses when the holdings no longer fit "
            "one machine; the same-statuses column is the point."
        )
    if args.no_write:
        print(body)
    else:
        write_section("graph", body)
        print("wrote the graph section of BENCHMARKS.md")


if __name__ == "__main__":
    main()
