"""retention: daily rollups; on PostgreSQL, observations partitioned by month

Revision ID: 0004
Revises: 0003

PostgreSQL: ``observations`` becomes a table partitioned by RANGE (observed_at), one partition per UTC month
(``observations_pYYYYMM``, made for every month holding rows and the coming ones) and ``observations_default``.
Its primary key becomes (id, observed_at) (a partitioned table's keys must hold the partition key; ids still come
from the same sequence), and ``ix_observations_threat_time`` carries the columns the dashboard reads, so that
the month view and the monthly report are index-only scans. Every row is copied: on a large store, plan the
upgrade for a quiet hour.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables
from c2watch.store import partitions

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

AHEAD_MONTHS = 3
_FOREIGN = (("cycle_pk", "cycles"), ("observer_pk", "observers"), ("target_pk", "targets"))
_COVERED = "target_pk, observer_pk, http_status, ping_loss_pct"


def _rollup_table() -> None:
    utc = c2watch.store.tables.UTCDateTime
    pings = ["ping_sent", "ping_received", "ping_replied", "ping_loss_n"]
    pairs = ["pair_both", "pair_http_only", "pair_ping_only", "pair_neither"]
    outcomes = ["responding", "ping_only", "silent", "dns_failed", "refused_by_guard", "error", "other"]
    op.create_table(
        "daily_rollups",
        sa.Column("day_start", utc(), nullable=False),
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("observer_pk", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("threat_id", sa.String(length=200), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("first_at", utc(), nullable=False),
        sa.Column("last_at", utc(), nullable=False),
        sa.Column("last_answer_at", utc(), nullable=True),
        sa.Column("runs", sa.Text(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in pings),
        sa.Column("ping_loss_sum", sa.Float(), nullable=False),
        sa.Column("rtt_n", sa.Integer(), nullable=False),
        sa.Column("rtt_sum", sa.Float(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in pairs),
        *(sa.Column(f"out_{name}", sa.Integer(), nullable=False) for name in outcomes),
        sa.PrimaryKeyConstraint("day_start", "target_pk", "observer_pk", name=op.f("pk_daily_rollups")),
    )
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.create_index("ix_daily_rollups_threat_day", ["threat_id", "day_start"], unique=False)


def _columns() -> str:
    return ", ".join(column.name for column in c2watch.store.tables.observations.columns)


def _keys_and_indexes(table: str, partitioned: bool) -> None:
    key = "id, observed_at" if partitioned else "id"
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_observations PRIMARY KEY ({key})")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT uq_observations_once UNIQUE (observer_pk, target_pk, observed_at)")
    for column, parent in _FOREIGN:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_observations_{column}_{parent} "
            f"FOREIGN KEY ({column}) REFERENCES {parent} (id)"
        )
    include = f" INCLUDE ({_COVERED})" if partitioned else ""
    op.execute(f"CREATE INDEX ix_observations_threat_time ON {table} (threat_id, observed_at){include}")
    op.execute(f"CREATE INDEX ix_observations_target_time ON {table} (target_pk, observed_at)")


def _set_aside(table: str) -> str:
    """Rename ``observations`` and its keys and indexes out of the way; returns its id sequence."""
    op.execute(f"ALTER TABLE observations RENAME TO {table}")
    for name in ("pk_observations", "uq_observations_once"):
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {name} TO {name}_old")
    for name in ("ix_observations_threat_time", "ix_observations_target_time"):
        op.execute(f"ALTER INDEX {name} RENAME TO {name}_old")
    sequence = op.get_bind().execute(sa.text(f"SELECT pg_get_serial_sequence('{table}', 'id')")).scalar()
    assert sequence, "observations.id has no sequence"
    return str(sequence)


def _partition_postgres() -> None:
    conn = op.get_bind()
    sequence = _set_aside("observations_old")
    op.execute("CREATE TABLE observations (LIKE observations_old INCLUDING DEFAULTS) PARTITION BY RANGE (observed_at)")
    op.execute(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF observations DEFAULT")
    now = dt.datetime.now(dt.UTC)
    first, last = conn.execute(sa.text("SELECT min(observed_at), max(observed_at) FROM observations_old")).one()
    if first is not None:
        partitions.ensure_partitions(conn, first.replace(tzinfo=dt.UTC), last.replace(tzinfo=dt.UTC))
    partitions.ensure_partitions(conn, now, partitions.add_months(partitions.month_floor(now), AHEAD_MONTHS))
    op.execute(f"INSERT INTO observations ({_columns()}) SELECT {_columns()} FROM observations_old")
    _keys_and_indexes("observations", partitioned=True)
    op.execute(f"ALTER SEQUENCE {sequence} OWNED BY observations.id")
    op.execute("DROP TABLE observations_old")
    op.execute("ANALYZE observations")


def _unpartition_postgres() -> None:
    sequence = _set_aside("observations_parted")
    op.execute("CREATE TABLE observations (LIKE observations_parted INCLUDING DEFAULTS)")
    op.execute(f"INSERT INTO observations ({_columns()}) SELECT {_columns()} FROM observations_parted")
    _keys_and_indexes("observations", partitioned=False)
    op.execute(f"ALTER SEQUENCE {sequence} OWNED BY observations.id")
    op.execute("DROP TABLE observations_parted CASCADE")


def upgrade() -> None:
    _rollup_table()
    if op.get_bind().dialect.name == "postgresql":
        _partition_postgres()


def downgrade() -> None:
    """Back to one plain table (rows already rolled up stay gone: their rollups are dropped here)."""
    if op.get_bind().dialect.name == "postgresql":
        _unpartition_postgres()
    with op.batch_alter_table("daily_rollups", schema=None) as batch_op:
        batch_op.drop_index("ix_daily_rollups_threat_day")
    op.drop_table("daily_rollups")
