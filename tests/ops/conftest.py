"""The hub fixture for operations tests."""

from tests.hub.conftest import hub

__all__ = ["hub"]
