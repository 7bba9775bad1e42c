"""api (see DESIGN.md)."""
