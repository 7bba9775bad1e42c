"""``watchkeeper cargo``: shipments in (``cargo ingest``) and goods codes (``cargo hs``).

Other cargo commands (``check``, ``tracks``) register themselves on ``cargo_app``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from watchkeeper.cli.common import DbOption, JsonOption, console, open_db, print_json

cargo_app = typer.Typer(
    help="Shipments: bills of lading, manifests, air waybills, customs declarations.",
    no_args_is_help=True,
)


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="CSV, JSON-lines or XLSX files (optionally .gz).")
    ],
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            help="Layout name (cbp_ams, customs_declaration, bill_of_lading) or a layout "
            ".toml file; default: found by the files' columns.",
        ),
    ] = None,
    db: DbOption = None,
    json_out: JsonOption = False,
) -> None:
    """Read shipment files through a layout and store their lines: one transaction per
    file (the files of a CBP AMS extract together), all or nothing. A file already
    ingested (same bytes) is skipped. Bad input names the file, row and column, exit 2."""
    from watchkeeper.cargo.ingest import ingest_files

    with open_db(db) as store:
        report = ingest_files(store, paths, layout)
    if json_out:
        print_json(report.to_dict())
        return
    table = Table("files", "layout", "status", "batch", "shipments", "lines")
    for f in report.files:
        names = ", ".join(Path(p).name for p in f.paths)
        table.add_row(names, f.layout, f.status, str(f.batch_id), str(f.shipments), str(f.lines))
    console.print(table)
    console.print(f"{report.lines} shipment line(s) stored")


def hs(
    code_or_text: Annotated[
        str, typer.Argument(help="An HS code (2710.19.1100) or a goods description.")
    ],
    description: Annotated[
        str, typer.Option("--description", "-d", help="The goods description beside a code.")
    ] = "",
    limit: Annotated[int, typer.Option(help="Most proposals.")] = 5,
    json_out: JsonOption = False,
) -> None:
    """Check an HS code against HS 2022 (and a description against it), or propose
    headings for a goods description, with the words that decided each."""
    from dataclasses import asdict

    from watchkeeper.cargo.hs import check_hs, hs_digits, propose_headings

    try:
        hs_digits(code_or_text)
        is_code = True
    except ValueError:
        is_code = False
    if is_code:
        check = check_hs(code_or_text, description)
        if json_out:
            print_json(asdict(check))
            return
        status = "valid" if check.valid else "NOT VALID"
        console.print(f"[bold]{check.core or code_or_text}[/bold]: {status} — {check.detail}")
        for code, text in check.path:
            console.print(f"  {code}  {text}", highlight=False)
        for flag in check.controls:
            console.print(
                f"  [red]{flag.kind}[/red]: {flag.label} ({flag.source})", highlight=False
            )
        proposals = list(check.proposals)
    else:
        proposals = propose_headings(code_or_text, limit)
        if json_out:
            print_json([asdict(p) for p in proposals])
            return
    if proposals:
        table = Table("code", "confidence", "text", "decided by")
        for p in proposals[:limit]:
            table.add_row(p.code, f"{p.confidence:.2f}", p.text[:70], ", ".join(p.words))
        console.print(table)
    elif not is_code:
        console.print("no heading shares a word with this description")


def register(app: typer.Typer) -> None:
    cargo_app.command("ingest")(ingest)
    cargo_app.command("hs")(hs)
    from watchkeeper.cli import cargo_check

    cargo_check.register(cargo_app)
    from watchkeeper.cli import cargo_tracks

    cargo_tracks.register(cargo_app)
    app.add_typer(cargo_app, name="cargo")
