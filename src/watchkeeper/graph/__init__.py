"""graph (see DESIGN.md)."""
