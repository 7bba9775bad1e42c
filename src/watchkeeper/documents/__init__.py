"""documents (see DESIGN.md)."""
