"""Upgrades from the first released schema to the current one, with data in place, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from c2watch.store import Store
from c2watch.store.engine import create_engine, current_revision, head_revision, migrate

FIRST = "0001"
NOW = dt.datetime(2021, 3, 1, 3, 0)


def seed_first_schema(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO threats (id, threat_id, reported_on, created_at) VALUES (1, 'A', '2020-10-01', :now)"),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO targets (id, threat_pk, key, ip, port, source, active, first_imported_at) "
                "VALUES (1, 1, '||198.51.100.7|80', '198.51.100.7', 80, 'list.csv', true, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO observers (id, name, organization, org_identity, system_identity, "
                "created_at) VALUES (1, 'o1', 'Org', 'identity--a', 'identity--b', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO cycles (id, observer_pk, slot_at, started_at, simulated) VALUES (1, 1, :now, :now, false)"
            ),
            {"now": NOW},
        )
        conn.execute(
            sa.text(
                "INSERT INTO observations (cycle_pk, observer_pk, target_pk, threat_id, observed_at, "
                "simulated, outcome, probed_kind, probed_value, http_status, http_reason) "
                "VALUES (1, 1, 1, 'A', :now, false, 'responding', 'ip', '198.51.100.7', 200, 'OK')"
            ),
            {"now": NOW},
        )


def test_upgrade_from_first_schema_keeps_data(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, FIRST)
    assert current_revision(engine) == FIRST
    seed_first_schema(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine)
    [row] = store.observations()
    assert (row["threat_id"], row["http_status"], row["http_reason"]) == ("A", 200, "OK")
    assert row["observed_at"] == NOW.replace(tzinfo=dt.UTC)
    assert [t.ip for t in store.targets()] == ["198.51.100.7"]
    assert store.outbox_depth() == 0  # tables of later migrations exist and work
    engine.dispose()
