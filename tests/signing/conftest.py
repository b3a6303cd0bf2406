"""The hub and invoke fixtures (helpers in tests.helpers.hub and tests.helpers.cli)."""

from tests.helpers.cli import invoke
from tests.helpers.hub import hub

__all__ = ["hub", "invoke"]
