"""The plain name key used by exact and prefix search (fuzzy screening lives elsewhere)."""

from __future__ import annotations

import re

from normality import ascii_text

_NON_WORD = re.compile(r"[^a-z0-9]+")


def search_key(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: 'Mahán  Air,' -> 'mahan air'."""
    ascii = ascii_text(text) or ""
    return _NON_WORD.sub(" ", ascii.lower()).strip()
