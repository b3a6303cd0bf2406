"""token expiry, server-side dashboard sessions, webhook cursors without credentials

Revision ID: 0008
Revises: 0007

``tokens.expires_at``: a token may expire (NULL: never). ``sessions``: a dashboard login is a row (the SHA-256 of
the cookie's random value, its token, when it ends), so logging out ends it on the server and a copied cookie stops
working. ``webhook_cursors.url`` is the webhook's URL without credentials (``c2watch.text.redact_url``): existing
keys are redacted; a cursor whose redacted key another one already has is dropped (its webhook starts again
from the newest event).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import c2watch.store.tables
from c2watch.text import redact_url

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _redact_webhook_cursors() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, url FROM webhook_cursors ORDER BY id")).all()
    seen = {url for _, url in rows if redact_url(url) == url}
    for pk, url in rows:
        key = redact_url(url)
        if key == url:
            continue
        if key in seen:
            conn.execute(sa.text("DELETE FROM webhook_cursors WHERE id = :id"), {"id": pk})
        else:
            conn.execute(sa.text("UPDATE webhook_cursors SET url = :url WHERE id = :id"), {"url": key, "id": pk})
            seen.add(key)


def upgrade() -> None:
    utc = c2watch.store.tables.UTCDateTime
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", utc(), nullable=True))
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("token_pk", sa.Integer(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("expires_at", utc(), nullable=False),
        sa.Column("ended_at", utc(), nullable=True),
        sa.ForeignKeyConstraint(["token_pk"], ["tokens.id"], name=op.f("fk_sessions_token_pk_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
        sa.UniqueConstraint("secret_sha256", name=op.f("uq_sessions_secret_sha256")),
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.create_index("ix_sessions_token", ["token_pk"], unique=False)
    _redact_webhook_cursors()


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_sessions_token")
    op.drop_table("sessions")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
