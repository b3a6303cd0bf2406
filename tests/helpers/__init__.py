"""Helpers shared by the test packages (a test module never imports another test module)."""
