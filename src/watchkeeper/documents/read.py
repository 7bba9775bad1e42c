"""Read one document end to end: text, layout, mentions, claims; store it and write a
``report_mention`` event per listed party it names."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from followthemoney import model

from watchkeeper.documents.claims import Claim, extract_claims
from watchkeeper.documents.gazetteer import NameGazetteer
from watchkeeper.documents.layout import (
    STORY_KINDS,
    Block,
    published_date,
    split_blocks,
    split_sentences,
    story_text,
)
from watchkeeper.documents.mentions import Mention, MentionFinder, PartyLinker
from watchkeeper.documents.text import SourceText
from watchkeeper.events import Event
from watchkeeper.store import Store


@dataclass
class Reading:
    doc_id: str
    source: SourceText
    blocks: list[Block]
    mentions: list[Mention]
    claims: list[Claim]
    list_versions: list[int] = field(default_factory=list)
    published: str | None = None  # ISO date: the source's, else the date the page states

    @property
    def set_aside(self) -> list[Block]:
        """Captions, credits, datelines, site boilerplate, repeats and promo lines."""
        return [b for b in self.blocks if b.kind not in STORY_KINDS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "source": self.source.source,
            "media_type": self.source.media_type,
            "title": self.source.title
            or next((b.text for b in self.blocks if b.kind == "headline"), None),
            "published": self.published,
            "set_aside": [
                {"start": b.start, "end": b.end, "text": b.text, "kind": b.kind, "reason": b.reason}
                for b in self.set_aside
            ],
            "mentions": [m.to_dict() for m in self.mentions],
            "claims": [c.to_dict() for c in self.claims],
            "list_versions": self.list_versions,
        }


def read_text(
    source: SourceText, gazetteer: NameGazetteer, linker: PartyLinker | None = None
) -> Reading:
    """Everything Watchkeeper reads in one text (nothing stored)."""
    text = source.text
    blocks = split_blocks(text)
    sentences = split_sentences(text, blocks)
    # Credits, chrome and datelines are blanked (offsets kept): "Ali Mohammadi/Bloomberg"
    # or "7Dnews London - AP" name no party of the story.
    mentions = MentionFinder(gazetteer, linker).find(story_text(text, blocks), blocks)
    claims = extract_claims(sentences)
    doc_id = "doc-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    published = source.published or published_date(blocks)
    return Reading(doc_id, source, blocks, mentions, claims, published=published)


def _article_entity(reading: Reading) -> dict[str, Any]:
    article = model.make_entity("Article")
    article.id = reading.doc_id
    data = reading.to_dict()
    article.add("title", data["title"])
    article.add("bodyText", reading.source.text)
    article.add("sourceUrl", reading.source.source if "://" in reading.source.source else None)
    article.add("fileName", None if "://" in reading.source.source else reading.source.source)
    article.add("mimeType", reading.source.media_type)
    article.add("contentHash", reading.source.content_hash)
    article.add("publishedAt", reading.published, quiet=True)
    return article.to_dict()


def _mention_entity(doc_id: str, mention: Mention, countries: list[str]) -> dict[str, Any]:
    ent = model.make_entity("Mention")
    ent.id = f"{doc_id}-m{mention.start}-{mention.end}"
    ent.add("document", doc_id)
    ent.add("name", mention.text)
    if mention.entity_id:
        ent.add("resolved", mention.entity_id)
    if mention.schema:
        ent.add("detectedSchema", mention.schema)
    ent.add("contextCountry", countries, quiet=True)
    return ent.to_dict()


def store_reading(store: Store, reading: Reading, *, read_at: datetime | None = None) -> int:
    """Store the document, its mentions and claims, and its events; one transaction.
    Reading the same text again replaces what was stored for it. Returns events written."""
    read_at = read_at or datetime.now(UTC)
    doc_id = reading.doc_id
    countries = sorted({m.country for m in reading.mentions if m.kind == "place" and m.country})
    events: dict[str, list[Mention]] = {}
    for m in reading.mentions:
        if m.kind in ("party", "vessel", "aircraft") and m.entity_id:
            events.setdefault(m.entity_id, []).append(m)
    title = reading.to_dict()["title"]
    when = read_at
    with store.transaction() as con:
        con.execute("DELETE FROM document_mentions WHERE doc_id = ?", [doc_id])
        con.execute("DELETE FROM document_claims WHERE doc_id = ?", [doc_id])
        con.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])
        con.execute(
            "DELETE FROM events WHERE type = 'report_mention' AND list_contains(subjects, ?)",
            [f"doc:{doc_id}"],
        )
        con.execute(
            "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                doc_id,
                reading.source.source,
                reading.source.media_type,
                title,
                reading.published,
                read_at,
                reading.source.text,
                json.dumps([b.__dict__ for b in reading.blocks]),
                reading.list_versions,
                json.dumps(_article_entity(reading)),
            ],
        )
        if reading.mentions:
            con.executemany(
                "INSERT INTO document_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    [
                        doc_id,
                        f"{doc_id}#{m.start}-{m.end}",
                        m.start,
                        m.end,
                        m.text,
                        m.kind,
                        m.entity_id,
                        m.score,
                        m.reason,
                        json.dumps({**m.to_dict(), "ftm": _mention_entity(doc_id, m, countries)}),
                    ]
                    for m in reading.mentions
                ],
            )
        if reading.claims:
            con.executemany(
                "INSERT INTO document_claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    [doc_id, n, c.source, c.source_key, c.form, c.content, json.dumps(c.to_dict())]
                    for n, c in enumerate(reading.claims)
                ],
            )
        rows = []
        for entity_id, ms in events.items():
            event = Event(
                type="report_mention",
                subjects=(entity_id, f"doc:{doc_id}"),
                start=when,
                end=when,
                score=max(m.score for m in ms),
                detail=(
                    f"'{title or reading.source.source}' names {ms[0].caption or entity_id} "
                    f"{len(ms)} time(s): " + "; ".join(sorted({m.text for m in ms}))
                ),
                evidence=tuple(f"doc:{doc_id}#{m.start}-{m.end}" for m in ms)
                + (f"list:{entity_id}",),
                params={"source": reading.source.source, "reasons": [m.reason for m in ms]},
            )
            rows.append(event)
        store.write_events(rows)
    return len(rows)
