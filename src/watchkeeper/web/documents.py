"""Reports read by ``watchkeeper read`` (``/documents``, ``/document/{id}``): the article
as its blocks, mentions of listed parties highlighted and linked to their entity pages,
places marked, claims with their speakers, and the captions and promo lines the reader
set aside greyed out with the reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from watchkeeper.web.render import error_page, render
from watchkeeper.web.security import ReaderDep, api_state

router = APIRouter()

# Blocks the reader keeps out of the story (layout.py's kinds).
SET_ASIDE = frozenset({"caption", "promo", "byline", "boilerplate", "navigation"})


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    mention_id: str
    kind: str
    entity_id: str | None
    caption: str | None
    score: float
    reason: str

    @property
    def anchor(self) -> str:
        return "m-" + self.mention_id.split("#", 1)[-1]


@dataclass
class Block:
    kind: str
    reason: str
    segments: list[tuple[str, Mention | None]] = field(default_factory=list)

    @property
    def set_aside(self) -> bool:
        return self.kind in SET_ASIDE


def segment(
    text: str, start: int, end: int, mentions: list[Mention]
) -> list[tuple[str, Mention | None]]:
    """``text[start:end]`` cut into plain runs and mentions (in order; a mention that
    overlaps one already taken is left plain)."""
    out: list[tuple[str, Mention | None]] = []
    at = start
    for m in sorted(mentions, key=lambda m: (m.start, -m.end)):
        if m.start < at or m.end > end or m.start < start:
            continue
        if m.start > at:
            out.append((text[at : m.start], None))
        out.append((text[m.start : m.end], m))
        at = m.end
    if at < end:
        out.append((text[at:end], None))
    return out


def _blocks(text: str, raw: Any, mentions: list[Mention]) -> list[Block]:
    blocks = json.loads(raw) if isinstance(raw, str) else (raw or [])
    if not blocks:
        blocks = [{"start": 0, "end": len(text), "kind": "body", "reason": ""}]
    out: list[Block] = []
    for b in blocks:
        start, end = int(b["start"]), int(b["end"])
        inside = [m for m in mentions if start <= m.start and m.end <= end]
        out.append(Block(str(b.get("kind", "body")), str(b.get("reason", "")),
                         segment(text, start, end, inside)))  # fmt: skip
    return out


@router.get("/documents")
async def document_list(request: Request, viewer: ReaderDep) -> HTMLResponse:
    rows = (
        api_state(request)
        .store.con.execute(
            "SELECT d.doc_id, d.title, d.source, d.published, d.read_at, "
            "(SELECT count(*) FROM document_mentions m WHERE m.doc_id = d.doc_id "
            "AND m.entity_id IS NOT NULL), "
            "(SELECT count(*) FROM document_claims c WHERE c.doc_id = d.doc_id) "
            "FROM documents d ORDER BY d.read_at DESC, d.doc_id"
        )
        .fetchall()
    )
    return render(request, "documents.html", documents=rows)


@router.get("/document/{doc_id}")
async def document_page(request: Request, viewer: ReaderDep, doc_id: str) -> HTMLResponse:
    con = api_state(request).store.con
    doc = con.execute(
        "SELECT doc_id, source, media_type, title, published, read_at, text, blocks "
        "FROM documents WHERE doc_id = ?",
        [doc_id],
    ).fetchone()
    if doc is None:
        return error_page(request, 404, f"No document {doc_id!r}.")
    mentions = [
        Mention(int(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], _caption(r[5]), float(r[6]), r[7] or "")
        for r in con.execute(
            "SELECT start_pos, end_pos, mention_id, kind, entity_id, detail, score, reason "
            "FROM document_mentions WHERE doc_id = ? ORDER BY start_pos",
            [doc_id],
        ).fetchall()
    ]  # fmt: skip
    claims = con.execute(
        "SELECT claim_no, source, form, content, detail FROM document_claims WHERE doc_id = ? "
        "ORDER BY claim_no",
        [doc_id],
    ).fetchall()
    text = str(doc[6] or "")
    parties: dict[str, tuple[str, int]] = {}
    for m in mentions:
        if m.entity_id:
            caption, n = parties.get(m.entity_id, (m.caption or m.entity_id, 0))
            parties[m.entity_id] = (caption, n + 1)
    return render(
        request,
        "document.html",
        doc={
            "id": doc[0],
            "source": doc[1],
            "media_type": doc[2],
            "title": doc[3],
            "published": doc[4],
            "read_at": doc[5],
        },  # fmt: skip
        blocks=_blocks(text, doc[7], mentions),
        claims=[(c[0], c[1], c[2], c[3], _claim_hedges(c[4])) for c in claims],
        parties=sorted(parties.items(), key=lambda kv: (-kv[1][1], kv[1][0])),
    )


def _caption(detail: Any) -> str | None:
    try:
        data = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return None
    value = data.get("caption") if isinstance(data, dict) else None
    return str(value) if value else None


def _claim_hedges(detail: Any) -> list[str]:
    try:
        data = json.loads(detail) if isinstance(detail, str) else detail
    except ValueError:
        return []
    hedges = data.get("hedges") if isinstance(data, dict) else None
    return [str(h) for h in hedges] if isinstance(hedges, list) else []
