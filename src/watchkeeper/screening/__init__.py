"""screening (see DESIGN.md)."""
