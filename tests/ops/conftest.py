"""The hub fixture for operations tests."""

from tests.helpers.hub import hub

__all__ = ["hub"]
