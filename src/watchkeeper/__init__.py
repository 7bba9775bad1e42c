"""Watchkeeper: watches sanctioned networks, with the evidence for every step."""

__version__ = "0.1.0"
