"""identity tracks: each destination's identity state, folded from its observations (what the server is now)

Revision ID: 0006
Revises: 0005

The fold starts from the first observation still stored: its watermark (``identity_tracks`` in
``analysis_state``) is created at 0 by the first fold.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_tracks",
        sa.Column("target_pk", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["target_pk"], ["targets.id"], name=op.f("fk_identity_tracks_target_pk_targets")),
        sa.PrimaryKeyConstraint("target_pk", name=op.f("pk_identity_tracks")),
    )


def downgrade() -> None:
    op.drop_table("identity_tracks")
