"""target sources: every source that lists a destination, so overlapping feeds do not retire each other's

Revision ID: 0005
Revises: 0004

A destination listed by two sources (two watchlist files, a file and a TAXII collection ...) stays active until
neither lists it. Each active target's ``source`` becomes its first (and, so far, only) listing source; retired
targets are listed by none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "target_sources",
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("listed_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_target_sources_target_pk_targets")),
        sa.PrimaryKeyConstraint("target_pk", "source", name=op.f("pk_target_sources")),
    )
    with op.batch_alter_table("target_sources", schema=None) as batch_op:
        batch_op.create_index("ix_target_sources_source", ["source", "target_pk"], unique=False)
    op.execute(
        "INSERT INTO target_sources (target_pk, source, listed_at) "
        "SELECT id, source, first_imported_at FROM targets WHERE active"
    )


def downgrade() -> None:
    with op.batch_alter_table("target_sources", schema=None) as batch_op:
        batch_op.drop_index("ix_target_sources_source")
    op.drop_table("target_sources")
