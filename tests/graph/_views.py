"""Hand-made graph views for the question tests (queries, export, events, diff), and
the real shadow-fleet vessel owner and manager history (bundled in data/) as relations,
read here with the csv module so these tests do not depend on the graph loaders."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from tests.conftest import DATA
from watchkeeper.graph.model import Node, Relation, RelationKind, Share


@dataclass
class View:
    """What ``graph.view.load_view`` gives: nodes, relations in force, listed ids."""

    nodes: dict[str, Node] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)
    listed: dict[str, set[str]] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)


def own(
    rid: str,
    holder: str,
    held: str,
    share: float | None,
    kind: RelationKind = "ownership",
    **kw: object,
) -> Relation:
    return Relation(
        id=rid,
        kind=kind,
        holder=holder,
        held=held,
        share=None if share is None else Share.exact(share),
        source_ref=f"hand-made#{rid}",
        **kw,  # type: ignore[arg-type]
    )


def view(
    relations: Iterable[Relation],
    *,
    names: dict[str, str] | None = None,
    ofac: Iterable[str] = (),
    schemas: dict[str, str] | None = None,
) -> View:
    rels = list(relations)
    names = names or {}
    schemas = schemas or {}
    ids = {r.holder for r in rels} | {r.held for r in rels} | set(names)
    nodes = {
        i: Node(id=i, name=names.get(i, i), schema=schemas.get(i, "Company"), source_ref="t")
        for i in sorted(ids)
    }
    return View(nodes=nodes, relations=rels, listed={"ofac": set(ofac), "eu": set(), "uk": set()})


ROLE_KIND: dict[str, RelationKind] = {
    "Registered owner": "vessel_owner",
    "ISM Manager": "vessel_manager",
    "Ship manager / Commercial manager": "vessel_manager",
}


def shadow_fleet_view(as_of: date) -> View:
    """The bundled shadow-fleet owner/manager history (data/shadow_fleet), in force on
    ``as_of``: companies ``imo_company:<n>``, vessels ``imo:<n>``."""
    path = DATA / "shadow_fleet" / "vessel_company.csv.gz"
    rels: list[Relation] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            rel = Relation(
                id=f"sf:{line}",
                kind=ROLE_KIND[row["role"]],
                holder=f"imo_company:{row['company_imo']}",
                held=f"imo:{row['vessel_imo']}",
                role=row["role"],
                start=date.fromisoformat(row["start_date"]) if row["start_date"] else None,
                end=date.fromisoformat(row["end_date"]) if row["end_date"] else None,
                source_ref=f"vessel_company.csv.gz:{line}",
            )
            if rel.valid_on(as_of):
                rels.append(rel)
    return view(rels, schemas={r.held: "Vessel" for r in rels})


NORD = "ofac-37062"  # NORD PROJECT LLC: OFAC-listed, owner and ISM manager of NP DIKSON


def questions_store(sdn_db_path: Path, path: Path) -> Path:
    """A store (at ``path``) of the bundled SDN 2023-12-28 trio (list version 1) and the
    SDN 2024-05-03 file (version 2), the shadow-fleet history, and a small hand-made
    register: NORD PROJECT LLC (resolved to ofac-37062) owns 60% of Nord Subsidiary,
    which owns 50% of Nord Sub-Subsidiary; two companies both named Twin Co."""
    from tests.conftest import copy_store
    from watchkeeper.graph.model import GraphBatch
    from watchkeeper.graph.resolve import Resolution
    from watchkeeper.graph.shadow_fleet import read_shadow_fleet
    from watchkeeper.graph.store import store_graph_batch
    from watchkeeper.lists import parse_files
    from watchkeeper.store import Store

    copy_store(sdn_db_path, path)
    with Store(path) as s:
        sdn_2024 = DATA / "lists" / "ofac" / "sdn_csv_2024-05-03" / "sdn.csv.gz"
        s.add_list_version(parse_files([sdn_2024], "ofac_sdn"))
        store_graph_batch(s, read_shadow_fleet(DATA / "shadow_fleet"))
        batch = GraphBatch(
            source="register",
            files=["register.csv"],
            nodes=[
                Node("register:np", "NORD PROJECT LLC TRANSPORT COMPANY", "Company"),
                Node("register:sub", "Nord Subsidiary", "Company", source_ref="register.csv:3"),
                Node("register:subsub", "Nord Sub-Subsidiary", "Company"),
                Node("register:t1", "Twin Co", "Company"),
                Node("register:t2", "Twin Co", "Company"),
            ],
            relations=[
                own("register:r1", "register:np", "register:sub", 0.6),
                own("register:r2", "register:sub", "register:subsub", 0.5),
                own("register:r3", "register:t1", "register:t2", 0.1),
            ],
        )
        store_graph_batch(s, batch, resolutions={"register:np": Resolution(NORD, "name", 1.0)})
    return path
