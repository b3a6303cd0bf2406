"""sharing

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("identity", sa.String(length=64), nullable=False),
        sa.Column("created_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("identity", name=op.f("uq_organizations_identity")),
        sa.UniqueConstraint("name", name=op.f("uq_organizations_name")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("objects", sa.Text(), nullable=False),
        sa.Column("acked_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_pending", ["acked_at", "id"], unique=False)

    op.create_table(
        "sync_cursors",
        sa.Column("hub", sa.String(length=500), nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("added_after", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.Column("updated_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hub", "collection", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "taxii_objects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collection", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=100), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("spec_version", sa.String(length=8), nullable=False),
        sa.Column("date_added", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["org_pk"], ["organizations.id"], name=op.f("fk_taxii_objects_org_pk_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_objects")),
        sa.UniqueConstraint("collection", "object_id", "version", name="uq_taxii_objects_version"),
    )
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.create_index("ix_taxii_objects_added", ["collection", "date_added", "id"], unique=False)

    op.create_table(
        "taxii_statuses",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=False),
        sa.Column("request_timestamp", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("successes", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["org_pk"], ["organizations.id"], name=op.f("fk_taxii_statuses_org_pk_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxii_statuses")),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("org_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", c2watch.store.tables.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", c2watch.store.tables.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["org_pk"], ["organizations.id"], name=op.f("fk_tokens_org_pk_organizations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
        sa.UniqueConstraint("public_id", name=op.f("uq_tokens_public_id")),
    )


def downgrade() -> None:
    op.drop_table("tokens")
    op.drop_table("taxii_statuses")
    with op.batch_alter_table("taxii_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_taxii_objects_added")

    op.drop_table("taxii_objects")
    op.drop_table("sync_cursors")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending")

    op.drop_table("outbox")
    op.drop_table("organizations")
