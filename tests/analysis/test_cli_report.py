from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from c2watch.cli import cli

Report = Callable[..., Result]


@pytest.fixture
def report(home: Path, store_url: str, seeded: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch) -> Report:
    """``c2watch report ...`` against the seeded store on every backend."""
    monkeypatch.setenv("C2WATCH_STORE__URL", store_url)
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0

    def run(*args: str, code: int = 0) -> Result:
        result = runner.invoke(cli, ["report", *args])
        assert result.exit_code == code, result.output
        return result

    return run


def test_monthly_table_csv_json(report: Report) -> None:
    table = report("monthly").stdout
    assert "2021-01" in table and "50.5" in table and "33.9" in table
    rows = list(csv.reader(io.StringIO(report("monthly", "--format", "csv").stdout)))
    assert rows == [
        ["threat ID", "reported", "2021-01", "2021-02"],
        ["X", "2020-10", "50.5", "66.7"],
        ["Y", "2021-01", "-", "33.9"],
    ]
    data = json.loads(report("monthly", "--threat", "X", "--format", "json").stdout)
    assert data["threats"][0]["months"]["2021-02"] == {"observations": 1008, "answered": 672, "rate": 66.7}


def test_correlation_transitions_reactivations(report: Report) -> None:
    corr = json.loads(report("correlation", "--threat", "X", "--month", "2021-01", "--format", "json").stdout)
    assert len(corr) == 3 and {c["month"] for c in corr} == {"2021-01"}
    rows = list(csv.reader(io.StringIO(report("transitions", "--threat", "X", "--format", "csv").stdout)))
    assert rows[0] == ["threat ID", "destination", "observer", "path", "changed at"]
    assert rows[1][3:] == ["200 → 404 → 500", "2021-02-01 00:00, 2021-02-15 00:00"]
    found = json.loads(report("reactivations", "--format", "json").stdout)
    assert [(r["threat_id"], r["dormant_days"]) for r in found] == [("X", 15.2)]
    assert "15.2" in report("reactivations", "--min-gap-days", "10").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["monthly", "--threat", "NOPE"], "NOPE"),
        (["correlation", "--month", "2021-13"], "out of range"),
        (["transitions", "--month", "March"], "YYYY-MM"),
    ],
)
def test_bad_input_is_an_error_message(report: Report, args: list[str], message: str) -> None:
    result = report(*args, code=2)
    assert message in result.stderr
