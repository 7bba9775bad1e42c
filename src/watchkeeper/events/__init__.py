"""The one shape every analysis writes: an event with its evidence."""

from watchkeeper.events.model import Event, subject_value

__all__ = ["Event", "subject_value"]
