"""The hub fixture (helpers in tests.helpers.hub)."""

from tests.helpers.hub import hub

__all__ = ["hub"]
