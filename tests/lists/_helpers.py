"""What the tests of the hand-built list excerpts share: where the excerpts are, the
entities of a result by id, and hand-made variants of an excerpt."""

from __future__ import annotations

from pathlib import Path

from watchkeeper.lists.base import ParsedList

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lists"


def by_id(parsed: ParsedList) -> dict[str, dict[str, list[str]]]:
    return {e.proxy.id or "": e.proxy.to_dict()["properties"] for e in parsed.entities}


def schema_of(parsed: ParsedList, entity_id: str) -> str:
    return next(e.proxy.schema.name for e in parsed.entities if e.proxy.id == entity_id)


def variant(tmp_path: Path, source: Path, old: str, new: str, name: str | None = None) -> Path:
    """A hand-made edge case: the excerpt with one piece of text replaced."""
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / (name or source.name)
    path.write_text(text.replace(old, new, 1), encoding="utf-8", newline="")
    return path
