"""``watchkeeper run``: the main job on the bundled data (what ``make run`` does)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from watchkeeper.cli.common import DbOption, console, open_db, settings
from watchkeeper.errors import WatchkeeperError
from watchkeeper.lists import parse_files
from watchkeeper.store import Store

# The bundled list publications, oldest first, so the newest is "current".
BUNDLED_LISTS: list[tuple[str, list[str]]] = [
    (
        "ofac_sdn",
        [
            "lists/ofac/sdn_csv_2023-12-28/sdn.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/add.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/alt.csv.gz",
            "lists/ofac/sdn_csv_2023-12-28/sdn_comments.csv.gz",
        ],
    ),
    ("ofac_sdn", ["lists/ofac/sdn_csv_2024-05-03/sdn.csv.gz"]),
    (
        "ofac_cons",
        [
            "lists/ofac/cons_nonsdn_csv/cons_prim.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_add.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_alt.csv.gz",
            "lists/ofac/cons_nonsdn_csv/cons_comments.csv.gz",
        ],
    ),
    ("un_sc", ["lists/un/consolidated.xml.gz"]),
    ("us_csl", ["lists/us_csl/consolidated.csv.gz"]),
]


def load_bundled_lists(store: Store, data_dir: Path) -> None:
    for source, files in BUNDLED_LISTS:
        paths = [data_dir / f for f in files]
        missing = [p for p in paths if not p.exists()]
        if missing:
            console.print(f"  [yellow]skipped {source}: {missing[0]} is missing[/yellow]")
            continue
        try:
            parsed = parse_files(paths, source)
        except WatchkeeperError as exc:
            console.print(f"  [red]{source}: {exc}[/red]")
            continue
        version, new = store.add_list_version(parsed)
        state = "loaded" if new else "already loaded"
        console.print(f"  {source} {version.version}: {version.entity_count:,} entries ({state})")


Step = Callable[[Store, Path], None]

STEPS: list[tuple[str, Step]] = [
    ("Sanctions lists", load_bundled_lists),
]


def run(
    data: Annotated[Path | None, typer.Option(help="Folder of bundled data.")] = None,
    db: DbOption = None,
) -> None:
    """Load the bundled lists, AIS, flights and reports; detect events; print a summary."""
    cfg = settings(db)
    data_dir = data or cfg.data_dir
    console.print(f"[bold]Watchkeeper[/bold]: store {cfg.db_path}, data {data_dir}")
    with open_db(db) as store:
        for title, step in STEPS:
            console.rule(title)
            step(store, data_dir)
        console.rule("Summary")
        console.print(f"  {store.entity_count():,} listed entities in the current lists")
        for v in store.list_versions():
            console.print(f"  {v.source:10} {v.version:12} {v.entity_count:>7,} entries")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
