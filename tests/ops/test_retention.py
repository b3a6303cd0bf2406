"""``c2watch retention run`` on both backends (reports unchanged, STIX cycle files compressed then deleted) and the
hub's upkeep (partitions made when it starts, retention in its daily work)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from c2watch.analysis import monthly_report
from c2watch.cli import cli
from c2watch.config import RetentionSettings, Settings
from c2watch.store import Store, open_store, partitions
from c2watch.store.tables import cycles
from c2watch.store.upkeep import Upkeep
from c2watch.wiring.hub import create_hub_app
from tests.helpers.history import ZONE, year_of_history

OLD_SLOT = dt.datetime(2020, 3, 1, tzinfo=dt.UTC)


def configure(home: Path, store_url: str, retention: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "c2watch.toml").write_text(f'[store]\nurl = "{store_url}"\n[retention]\n{retention}\n', encoding="utf-8")


def cycle_file(home: Path, store: Store, slot: dt.datetime, text: str) -> Path:
    """A finished cycle whose bundle file is ``text``."""
    local = slot.astimezone(dt.timezone(dt.timedelta(hours=9)))
    path = home / "observations" / "obs-0" / f"{local:%Y}" / f"{local:%m}" / f"{local:%Y%m%dT%H%M%S%z}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    observer = store.observations.ensure_observer("obs-0", "Org 0", "identity--org-0", "identity--sys-0", slot)
    cycle = store.observations.start_cycle(observer, slot, slot, simulated=True)
    store.observations.finish_cycle(cycle, slot, str(path), {})
    return path


def stix_paths(store: Store) -> list[str | None]:
    with store.connect() as conn:
        return list(conn.execute(sa.select(cycles.c.stix_path).order_by(cycles.c.id)).scalars())


def run(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["retention", "run", "--json", *args])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def files(report: dict[str, Any]) -> tuple[int, int]:
    """(compressed, deleted) cycle files of a run."""
    return report["stix_files"]["compressed"], report["stix_files"]["deleted"]


def test_retention_run_from_the_command_line(home: Path, store_url: str) -> None:
    configure(home, store_url, 'stix_files = "compress"\nstix_keep_days = 30')
    store = open_store(store_url)
    year_of_history(store)
    table1 = monthly_report(store, ZONE).as_dict()
    bundle = '{"type": "bundle", "objects": []}\n' * 50
    old = cycle_file(home, store, OLD_SLOT, bundle)
    recent = cycle_file(home, store, dt.datetime.now(dt.UTC) - dt.timedelta(days=2), bundle)

    dry = run("--dry-run")
    assert dry["dry_run"] and files(dry) == (1, 0)
    assert old.exists() and monthly_report(store, ZONE).as_dict() == table1

    done = run()
    assert done["observations_rolled_up"] == dry["observations_rolled_up"] and done["complete"]
    assert monthly_report(store, ZONE).as_dict() == table1
    packed = old.with_name(old.name + ".gz")
    assert not old.exists() and gzip.decompress(packed.read_bytes()).decode() == bundle and recent.exists()
    assert stix_paths(store)[-2:] == [str(packed), str(recent)]

    configure(home, store_url, 'stix_files = "delete"\nstix_keep_days = 30')
    assert files(run()) == (0, 1)
    assert not packed.exists() and recent.exists() and stix_paths(store)[-2:] == [None, str(recent)]
    store.close()


async def test_the_hub_makes_partitions_ahead_when_it_starts(store: Store) -> None:
    clock = lambda: dt.datetime(2031, 5, 10, tzinfo=dt.UTC)  # noqa: E731
    app = create_hub_app(store, Settings(), clock=clock)
    async with app.router.lifespan_context(app):  # what uvicorn runs before serving
        with store.connect() as conn:
            made = [p.name for p in partitions.list_partitions(conn)] if partitions.is_partitioned(conn) else []
    if store.engine.dialect.name == "postgresql":
        assert {f"observations_p2031{m:02d}" for m in (5, 6, 7, 8)} <= set(made)
    else:
        assert made == []


def test_the_hubs_daily_upkeep_runs_retention_when_asked(store: Store) -> None:
    year_of_history(store)
    table1 = monthly_report(store, ZONE).as_dict()
    total = len(store.observations.rows())
    clock = lambda: dt.datetime(2021, 6, 1, tzinfo=dt.UTC)  # noqa: E731
    off = Settings(retention=RetentionSettings(keep_days=100, daily=False))
    assert Upkeep(store, off, clock).daily() is None and len(store.observations.rows()) == total
    report = Upkeep(store, Settings(retention=RetentionSettings(keep_days=100)), clock).daily()
    assert report is not None and report.observations_rolled_up > 0 and report.complete
    assert monthly_report(store, ZONE).as_dict() == table1
