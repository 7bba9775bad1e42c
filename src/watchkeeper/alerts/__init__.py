"""alerts (see DESIGN.md)."""
