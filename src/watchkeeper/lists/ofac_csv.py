"""List parser module (being built)."""

from __future__ import annotations

from watchkeeper.lists.base import ListParser

PARSERS: list[ListParser] = []
