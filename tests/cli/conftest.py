"""The ``invoke`` fixture (helpers in tests.helpers.cli)."""

from tests.helpers.cli import invoke

__all__ = ["invoke"]
