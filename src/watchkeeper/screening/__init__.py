"""Screening: normalisation, candidate index, scoring with explanations (see DESIGN.md)."""

from watchkeeper.screening.engine import (
    DEFAULT_THRESHOLD,
    Explanation,
    Hit,
    Query,
    Screener,
)

__all__ = ["DEFAULT_THRESHOLD", "Explanation", "Hit", "Query", "Screener"]
