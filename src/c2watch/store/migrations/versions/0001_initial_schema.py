"""initial schema

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("org_identity", sa.String(length=64), nullable=False),
        sa.Column("system_identity", sa.String(length=64), nullable=False),
        sa.Column("created_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observers")),
        sa.UniqueConstraint("system_identity", name=op.f("uq_observers_system_identity")),
    )
    op.create_table(
        "threats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("threat_id", sa.String(length=200), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("created_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threats")),
        sa.UniqueConstraint("threat_id", name=op.f("uq_threats_threat_id")),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("observer_pk", sa.Integer(), nullable=False),
        sa.Column("slot_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("started_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("finished_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("stix_path", sa.String(length=1000), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["observer_pk"], ["observers.id"], name=op.f("fk_cycles_observer_pk_observers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycles")),
    )
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("threat_pk", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=2400), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("reported_on", sa.Date(), nullable=True),
        sa.Column("malware_hash", sa.String(length=64), nullable=True),
        sa.Column("file_type", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("first_imported_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("retired_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["threat_pk"], ["threats.id"], name=op.f("fk_targets_threat_pk_threats")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint("threat_pk", "key", name="uq_targets_threat_key"),
    )
    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_pk", sa.Integer(), nullable=True),
        sa.Column("observer_pk", sa.Integer(), nullable=False),
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("threat_id", sa.String(length=200), nullable=False),
        sa.Column("observed_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("probed_kind", sa.String(length=8), nullable=False),
        sa.Column("probed_value", sa.String(length=2048), nullable=False),
        sa.Column("resolved", sa.JSON(), nullable=True),
        sa.Column("ping_outcome", sa.String(length=32), nullable=True),
        sa.Column("ping_address", sa.String(length=64), nullable=True),
        sa.Column("ping_sent", sa.Integer(), nullable=True),
        sa.Column("ping_received", sa.Integer(), nullable=True),
        sa.Column("ping_loss_pct", sa.Float(), nullable=True),
        sa.Column("ping_rtt_avg_ms", sa.Float(), nullable=True),
        sa.Column("ping_ttl", sa.Integer(), nullable=True),
        sa.Column("http_outcome", sa.String(length=32), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("http_reason", sa.String(length=1024), nullable=True),
        sa.Column("http_error", sa.String(length=32), nullable=True),
        sa.Column("http_elapsed_ms", sa.Float(), nullable=True),
        sa.Column("http_server", sa.String(length=1024), nullable=True),
        sa.Column("http_content_type", sa.String(length=1024), nullable=True),
        sa.Column("http_body_bytes", sa.Integer(), nullable=True),
        sa.Column("http_body_sha256", sa.String(length=64), nullable=True),
        sa.Column("http_location", sa.String(length=2048), nullable=True),
        sa.Column("tls_cert_sha256", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("stix_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["cycle_pk"], ["cycles.id"], name=op.f("fk_observations_cycle_pk_cycles")),
        sa.ForeignKeyConstraint(["observer_pk"], ["observers.id"], name=op.f("fk_observations_observer_pk_observers")),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_observations_target_pk_targets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
        sa.UniqueConstraint("observer_pk", "target_pk", "observed_at", name="uq_observations_once"),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_target_time", ["target_pk", "observed_at"], unique=False)
        batch_op.create_index("ix_observations_threat_time", ["threat_id", "observed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_threat_time")
        batch_op.drop_index("ix_observations_target_time")

    op.drop_table("observations")
    op.drop_table("targets")
    op.drop_table("cycles")
    op.drop_table("threats")
    op.drop_table("observers")
