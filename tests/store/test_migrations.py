"""Upgrades from the first released schema to the current one, with data in place, on SQLite and PostgreSQL
(where 0004 turns ``observations`` into a table partitioned by month)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from c2watch.analysis import monthly_report
from c2watch.store import Store, partitions
from c2watch.store.engine import create_engine, current_revision, head_revision, migrate
from c2watch.store.retention import RetentionPolicy, run_retention

FIRST = "0001"
NOW = dt.datetime(2021, 3, 1, 3, 0)
JANUARY = dt.datetime(2021, 1, 15, 12, 0)


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
        conn.execute(
            sa.text(
                "INSERT INTO observations (cycle_pk, observer_pk, target_pk, threat_id, observed_at, "
                "simulated, outcome, probed_kind, probed_value) "
                "VALUES (1, 1, 1, 'A', :then, false, 'silent', 'ip', '198.51.100.7')"
            ),
            {"then": JANUARY},
        )


def partition_rows(engine: sa.Engine) -> dict[str, int]:
    """PostgreSQL: rows per partition of ``observations`` (the partitions that hold any)."""
    with engine.connect() as conn:
        found = {
            p.name: conn.execute(sa.text(f"SELECT count(*) FROM {p.name}")).scalar_one()
            for p in partitions.list_partitions(conn)
        }
    return {name: count for name, count in found.items() if count}


def test_upgrade_from_first_schema_keeps_data(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, FIRST)
    assert current_revision(engine) == FIRST
    seed_first_schema(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    store = Store(engine)
    old, row = store.observations.rows()
    assert (row["threat_id"], row["http_status"], row["http_reason"]) == ("A", 200, "OK")
    assert row["observed_at"] == NOW.replace(tzinfo=dt.UTC) and old["observed_at"] == JANUARY.replace(tzinfo=dt.UTC)
    assert [t.ip for t in store.watchlist.targets()] == ["198.51.100.7"]
    assert store.outbox.depth() == 0  # tables of later migrations exist and work
    if engine.dialect.name == "postgresql":  # each row in the partition of its month, none refused
        assert partition_rows(engine) == {"observations_p202101": 1, "observations_p202103": 1}
    engine.dispose()


def test_upgraded_store_takes_rows_and_rolls_them_up(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, FIRST)
    seed_first_schema(engine)
    migrate(engine)
    store = Store(engine)
    first = {k: v for k, v in store.observations.rows()[0].items() if k != "id"}
    store.observations.insert([{**first, "observed_at": NOW.replace(tzinfo=dt.UTC, day=2)}])
    ids = [row["id"] for row in store.observations.rows()]
    assert len(set(ids)) == 3 and ids[-1] > max(ids[:-1])  # the id sequence goes on
    table1 = monthly_report(store, "Asia/Tokyo").as_dict()
    assert table1["threats"][0]["months"]["2021-03"] == {"observations": 2, "answered": 1, "rate": 50.0}
    report = run_retention(
        store, RetentionPolicy(keep_days=1, zone="Asia/Tokyo"), dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    )
    assert report.complete and report.observations_rolled_up == (3 if engine.dialect.name == "postgresql" else 2)
    assert monthly_report(store, "Asia/Tokyo").as_dict() == table1
    engine.dispose()


def test_0004_downgrades_and_upgrades_again_with_data(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, FIRST)
    seed_first_schema(engine)
    migrate(engine)
    migrate_down(engine, "0003")
    assert current_revision(engine) == "0003"
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM observations")).scalar_one() == 2
        assert not partitions.is_partitioned(conn)
    migrate(engine)
    assert len(Store(engine).observations.rows()) == 2
    engine.dispose()


def test_0005_lists_each_active_target_under_its_source(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, "0004")
    seed_first_schema(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO targets (id, threat_pk, key, ip, port, source, active, first_imported_at, retired_at) "
                "VALUES (2, 1, '||198.51.100.8|80', '198.51.100.8', 80, 'old.csv', false, :now, :now)"
            ),
            {"now": NOW},
        )
    migrate(engine)
    store = Store(engine)
    assert [(t.ip, t.active, t.extra.get("sources")) for t in store.watchlist.targets()] == [
        ("198.51.100.7", True, "list.csv"),
        ("198.51.100.8", False, None),
    ]
    report = store.watchlist.apply([], "list.csv", NOW.replace(tzinfo=dt.UTC))
    assert report.retired == ["A ||198.51.100.7|80"]
    migrate_down(engine, "0004")
    assert current_revision(engine) == "0004"
    migrate(engine)
    engine.dispose()


def migrate_down(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    from c2watch.store.engine import _alembic_config

    with engine.begin() as connection:
        command.downgrade(_alembic_config(connection), revision)


def test_0008_token_expiry_sessions_and_webhook_keys_without_credentials(store_url: str) -> None:
    engine = create_engine(store_url)
    migrate(engine, "0005")
    with engine.begin() as conn:
        for n, url in enumerate(
            (
                "https://alice:pw@hooks.example/in?token=T1",
                "https://hooks.example/in?token=T2",
                "https://hooks.example/plain",
                "https://hooks.example/in?token=T3",  # the same key as T2's once redacted: dropped
            )
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO webhook_cursors (id, url, last_event_id, delivered, failures, updated_at) "
                    "VALUES (:id, :url, 0, :n, 0, :now)"
                ),
                {"id": n + 1, "url": url, "n": n, "now": NOW},
            )
    migrate(engine, "0008")
    with engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT url, delivered FROM webhook_cursors ORDER BY id")).all()
    assert [tuple(k) for k in keys] == [
        ("https://REDACTED@hooks.example/in?token=REDACTED", 0),
        ("https://hooks.example/in?token=REDACTED", 1),
        ("https://hooks.example/plain", 2),
    ]
    store = Store(engine)
    store.access.add_organization("Org")
    now = NOW.replace(tzinfo=dt.UTC)
    secret, info = store.access.create_token("Org", "t", "reader", now=now, expires="1d")
    session = store.access.start_session(info.public_id, dt.timedelta(hours=1), now=now)
    assert store.access.session_token(session, now=now) == info
    migrate_down(engine, "0005")
    assert current_revision(engine) == "0005"
    migrate(engine)
    assert store.access.verify_token(secret, now=now) is not None  # the token stays; its expiry went with 0008
    assert store.access.session_token(session, now=now) is None
    engine.dispose()
