"""The HTTP API (FastAPI): yente-compatible /match and /search, entities, decisions."""

from watchkeeper.api.app import create_app

__all__ = ["create_app"]
