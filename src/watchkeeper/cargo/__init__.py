"""cargo (see DESIGN.md)."""
