"""List parsers: input rows per second and peak memory, beside plain readers of the same files.

For every parser registered in ``watchkeeper.lists.registry.PARSERS`` that has a bundled
publication (``watchkeeper.cli.run.BUNDLED_LISTS``), on the same files in the same run:

* **Watchkeeper**: the parser's ``parse()`` (decode, check, Remarks grammar, FtM entities);
* **pandas**: a plain ``pandas.read_csv`` (or ``read_xml`` for XML) of the same files,
  strings only, no mapping: the floor of reading the bytes into rows;
* **FtM mapping** (CSV lists): followthemoney's own CSV import, a ``QueryMapping`` over
  ``CSVSource.read_csv`` records, mapping each primary row to one ``LegalEntity`` (name,
  program, Remarks as raw notes), i.e. what FtM gives without a format-specific parser.

Each measurement runs in a fresh process: one cold run under ``tracemalloc`` gives the
peak of Python allocations (and the growth of the process's max RSS), then the best of
``--repeats`` timed runs gives wall and CPU seconds. Rows are the records in the input
files, counted by pandas, so rows/s compare like with like.

    python benchmarks/lists.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import io
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))

from _report import table, write_section  # noqa: E402

from watchkeeper.lists.ofac_csv import PRIMARY_COLUMNS  # noqa: E402

DATA = ROOT / "data"
# OFAC legacy CSV files have no header row and are cp1252.
OFAC_NAMES = {
    "sdn.csv",
    "add.csv",
    "alt.csv",
    "sdn_comments.csv",
    "cons_prim.csv",
    "cons_add.csv",
    "cons_alt.csv",
    "cons_comments.csv",
}
OFAC_PRIMARY = {"sdn.csv", "cons_prim.csv"}


@dataclass
class Result:
    tool: str
    rows: int
    entities: int
    wall: float
    cpu: float
    peak_mb: float
    rss_mb: float


def _logical(path: Path) -> str:
    from watchkeeper.io import logical_name

    return logical_name(path).lower()


def run_watchkeeper(source: str, paths: list[Path]) -> tuple[int, int]:
    from watchkeeper.lists.registry import PARSERS

    parsed = PARSERS[source].parse(paths)
    return parsed.primary_count, len(parsed.entities)


def run_pandas(source: str, paths: list[Path]) -> tuple[int, int]:
    import pandas as pd

    rows = 0
    for path in paths:
        name = _logical(path)
        if name.endswith(".xml"):
            frame = pd.read_xml(path, xpath="//INDIVIDUAL | //ENTITY", parser="lxml")
        elif name in OFAC_NAMES:
            frame = pd.read_csv(
                path,
                header=None,
                dtype=str,
                keep_default_na=False,
                encoding="cp1252",
                skipfooter=0,
            )
            # The closing Ctrl-Z comes through as one more (one-cell) row.
            frame = frame[frame[0].str.strip() != "\x1a"]
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        rows += len(frame)
    return rows, 0


def run_ftm_mapping(source: str, paths: list[Path]) -> tuple[int, int]:
    from followthemoney import model
    from followthemoney.mapping.csv import CSVSource

    from watchkeeper.io import read_bytes

    mapping = model.make_mapping(
        {
            "csv_url": "unused.csv",
            "entities": {
                "entry": {
                    "schema": "LegalEntity",
                    "keys": ["ent_num"],
                    "properties": {
                        "name": {"column": "SDN_Name"},
                        "program": {"column": "Program"},
                        "notes": {"column": "Remarks"},
                    },
                }
            },
        },
        key_prefix="ofac",
    )
    rows = entities = 0
    for path in paths:
        if _logical(path) not in OFAC_PRIMARY:
            continue
        text = read_bytes(path).decode("cp1252").rstrip("\x1a\r\n")
        lines = io.StringIO(",".join(PRIMARY_COLUMNS) + "\n" + text)
        for record in CSVSource.read_csv(lines):
            rows += 1
            entities += len(mapping.map(record))
    return rows, entities


RUNNERS: dict[str, Callable[[str, list[Path]], tuple[int, int]]] = {
    "Watchkeeper": run_watchkeeper,
    "pandas": run_pandas,
    "FtM mapping": run_ftm_mapping,
}


IMPORTS = {
    "Watchkeeper": ["watchkeeper.lists.registry"],
    "pandas": ["pandas", "lxml.etree"],
    "FtM mapping": ["followthemoney.mapping.csv", "watchkeeper.io"],
}


def _proc_status_kb(key: str) -> int:
    """VmRSS / VmHWM (peak RSS of this process image) in KiB, from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(tool: str, source: str, paths: list[Path], repeats: int) -> Result:
    """Runs in a fresh process: cold run under tracemalloc, then the best timed run."""
    runner = RUNNERS[tool]
    for module in IMPORTS[tool]:  # import cost is not parse cost
        importlib.import_module(module)
    base_rss = _proc_status_kb("VmRSS")
    tracemalloc.start()
    rows, entities = runner(source, paths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = _proc_status_kb("VmHWM") - base_rss
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        runner(source, paths)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return Result(tool, rows, entities, best_wall, best_cpu, peak / 2**20, rss / 1024)


def in_fresh_process(tool: str, source: str, paths: list[Path], repeats: int) -> Result:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(measure, tool, source, paths, repeats).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from watchkeeper.cli.run import BUNDLED_LISTS
    from watchkeeper.lists.registry import PARSERS

    rows_out: list[list[object]] = []
    failed: list[str] = []
    skipped = [s for s in PARSERS if s not in {source for source, _ in BUNDLED_LISTS}]
    for source, files in BUNDLED_LISTS:
        if source not in PARSERS:
            skipped.append(source)
            continue
        paths = [DATA / f for f in files]
        if not all(p.exists() for p in paths):
            skipped.append(source)
            continue
        label = f"{source} ({paths[0].parent.name})"
        tools = ["Watchkeeper", "pandas"]
        if any(_logical(p) in OFAC_PRIMARY for p in paths):
            tools.append("FtM mapping")
        try:
            results = {t: in_fresh_process(t, source, paths, args.repeats) for t in tools}
        except Exception as exc:  # a parser still being built must not stop the others
            print(f"{source}: {type(exc).__name__}: {exc}", file=sys.stderr)
            failed.append(f"{source} ({type(exc).__name__})")
            continue
        input_rows = results["pandas"].rows
        ours = results["Watchkeeper"]
        ours_rate = input_rows / ours.cpu if ours.cpu else float("nan")
        for tool, r in results.items():
            # Watchkeeper and pandas read every file; the FtM mapping only the primary one.
            read = input_rows if tool != "FtM mapping" else r.rows
            rate = read / r.cpu if r.cpu else float("nan")
            if r is ours:
                produced = f"{ours.rows:,} entries / {ours.entities:,} entities"
            else:
                produced = f"{r.entities:,} entities" if r.entities else "rows only"
            rows_out.append(
                [
                    label,
                    tool,
                    f"{read:,}",
                    produced,
                    f"{r.wall:.2f}",
                    f"{r.cpu:.2f}",
                    f"{rate:,.0f}",
                    f"{rate / ours_rate:.1f}x",
                    f"{r.peak_mb:.0f}",
                    f"{r.rss_mb:.0f}",
                ]
            )
            print(" | ".join(str(c) for c in rows_out[-1]), flush=True)

    body = table(
        [
            "publication",
            "reader",
            "rows read",
            "output",
            "wall s (best)",
            "CPU s (best)",
            "rows/s (CPU)",
            "rows/s vs Watchkeeper",
            "peak MB (tracemalloc)",
            "peak RSS growth MB",
        ],
        rows_out,
    )
    body += (
        "\n\nRows are the records of the input files, counted by pandas (every file of the "
        "publication: for OFAC the primary file plus add/alt/comments; the FtM mapping reads "
        "only the primary file). pandas only reads strings into "
        "a frame; the FtM mapping maps primary rows to one flat entity each with no Remarks "
        "parsing, no addresses, aliases or links. Watchkeeper checks every row, parses the "
        "Remarks grammar and builds every entity (sanctions, addresses, identifications, "
        "links). Peak memory is measured on the first (cold) run in a fresh process after "
        "the imports (it includes one-time tables such as FtM's country names); times are "
        "the best of the warm runs. The machine is shared by several jobs, so rows/s are "
        "computed on CPU seconds, the steadier figure; wall seconds are shown beside them."
    )
    if skipped:
        body += "\n\nNot measured (no bundled publication or placeholder parser): " + ", ".join(
            f"`{s}`" for s in sorted(set(skipped))
        )
    if failed:
        body += "\n\nFailed in this run: " + ", ".join(failed)
    write_section("lists", body)


if __name__ == "__main__":
    main()
