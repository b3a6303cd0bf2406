"""Helpers for the watchlist parser tests: write real files into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.helpers.cli import invoke  # the CLI on SQLite and on PostgreSQL, as in tests/cli

__all__ = ["invoke"]

WriteFile = Callable[..., Path]

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """``write_file(content, name="list.csv", encoding="utf-8", newline="\\n")`` -> the file's path.

    ``content`` is text (lines joined with ``newline``, encoded with ``encoding``) or raw bytes.
    """

    def write(
        content: str | bytes | list[str],
        name: str = "list.csv",
        encoding: str = "utf-8",
        newline: str = "\n",
    ) -> Path:
        path = tmp_path / name
        if isinstance(content, list):
            content = newline.join(content) + newline
        data = content if isinstance(content, bytes) else content.encode(encoding)
        path.write_bytes(data)
        return path

    return write
