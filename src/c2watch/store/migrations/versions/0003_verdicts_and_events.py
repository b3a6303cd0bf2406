"""verdicts and events: per observer answer summaries, cached verdicts, change events, webhook cursors

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analysis_state",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_analysis_state")),
    )
    op.create_table(
        "webhook_cursors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_cursors")),
        sa.UniqueConstraint("url", name=op.f("uq_webhook_cursors_url")),
    )
    op.create_table(
        "answer_summaries",
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("observer_pk", sa.Integer(), nullable=False),
        sa.Column("observations", sa.Integer(), nullable=False),
        sa.Column("first_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("last_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("http_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("icmp_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("icmp_ttl", sa.Integer(), nullable=True),
        sa.Column("tls_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("silent_http", sa.Integer(), nullable=False),
        sa.Column("silent_icmp", sa.Integer(), nullable=False),
        sa.Column("silent_tls", sa.Integer(), nullable=False),
        sa.Column("after_http", sa.Integer(), nullable=False),
        sa.Column("after_icmp", sa.Integer(), nullable=False),
        sa.Column("after_tls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["observer_pk"], ["observers.id"], name=op.f("fk_answer_summaries_observer_pk_observers")
        ),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_answer_summaries_target_pk_targets")),
        sa.PrimaryKeyConstraint("target_pk", "observer_pk", name=op.f("pk_answer_summaries")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("threat_id", sa.String(length=200), nullable=False),
        sa.Column("observer_pk", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("detected_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["observer_pk"], ["observers.id"], name=op.f("fk_events_observer_pk_observers")),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_events_target_pk_targets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_events_uid")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_at", ["at"], unique=False)
        batch_op.create_index("ix_events_target_kind", ["target_pk", "kind", "at"], unique=False)

    op.create_table(
        "verdicts",
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("since", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("computed_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("last_answer_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_verdicts_target_pk_targets")),
        sa.PrimaryKeyConstraint("target_pk", name=op.f("pk_verdicts")),
    )


def downgrade() -> None:
    op.drop_table("verdicts")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_target_kind")
        batch_op.drop_index("ix_events_at")

    op.drop_table("events")
    op.drop_table("answer_summaries")
    op.drop_table("webhook_cursors")
    op.drop_table("analysis_state")
