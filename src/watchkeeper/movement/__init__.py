"""movement (see DESIGN.md)."""
