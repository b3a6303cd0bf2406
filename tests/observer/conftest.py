"""Fixtures of the observer tests (helpers in tests.helpers.observing)."""
