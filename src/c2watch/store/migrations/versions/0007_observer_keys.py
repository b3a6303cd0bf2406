"""observer keys: each observer's Ed25519 public keys, with when they became valid and when they were revoked;
the records an agent refused because their signature did not hold

Revision ID: 0007
Revises: 0006

A hub keeps the keys registered or enrolled for its members' observers and checks every posted record against
them; an agent keeps the keys it pinned and checks every pulled or imported record (docs/sharing.md, trust model).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "observer_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_identity", sa.String(length=64), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column("observer_ref", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("valid_from", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("endorsement", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observer_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_observer_keys_key_id")),
    )
    with op.batch_alter_table("observer_keys", schema=None) as batch_op:
        batch_op.create_index("ix_observer_keys_observer", ["observer_ref"], unique=False)
    op.create_table(
        "refused_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(length=500), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("observer_ref", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("refused_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refused_records")),
        sa.UniqueConstraint("origin", "object_id", name="uq_refused_records_origin"),
    )


def downgrade() -> None:
    op.drop_table("refused_records")
    with op.batch_alter_table("observer_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_observer_keys_observer")
    op.drop_table("observer_keys")
