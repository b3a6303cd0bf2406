"""The CLI run against a data directory on every backend, and its JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from c2watch.cli import cli

Invoke = Callable[..., Result]


@pytest.fixture
def invoke(home: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    """Run the CLI against a data directory whose store is SQLite or PostgreSQL (``C2WATCH_STORE__URL``)."""
    monkeypatch.setenv("C2WATCH_STORE__URL", store_url)
    runner = CliRunner()

    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("init")
    return run


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)
