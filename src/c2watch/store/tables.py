"""SQLAlchemy Core tables. Times are stored in UTC; the schema itself is created only by Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

__all__ = [
    "UTCDateTime",
    "analysis_state",
    "answer_summaries",
    "cycles",
    "daily_rollups",
    "events",
    "metadata",
    "observations",
    "observer_keys",
    "observers",
    "organizations",
    "outbox",
    "primary_key",
    "refused_records",
    "sessions",
    "sync_cursors",
    "target_sources",
    "targets",
    "taxii_objects",
    "taxii_statuses",
    "threats",
    "tokens",
    "verdicts",
    "webhook_cursors",
]


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps naive text, so we normalise)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the store; use an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


def primary_key(result: sa.CursorResult[Any]) -> int:
    """The id an INSERT created."""
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

threats = sa.Table(
    "threats",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("threat_id", sa.String(200), nullable=False, unique=True),
    sa.Column("reported_on", sa.Date),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

targets = sa.Table(
    "targets",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("threat_pk", sa.Integer, sa.ForeignKey("threats.id"), nullable=False),
    sa.Column("key", sa.String(2400), nullable=False),
    sa.Column("ip", sa.String(64)),
    sa.Column("domain", sa.String(255)),
    sa.Column("url", sa.String(2048)),
    sa.Column("port", sa.Integer),
    sa.Column("reported_on", sa.Date),
    sa.Column("malware_hash", sa.String(64)),
    sa.Column("file_type", sa.String(200)),
    sa.Column("summary", sa.Text),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("source_ref", sa.String(200)),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("first_imported_at", UTCDateTime, nullable=False),
    sa.Column("retired_at", UTCDateTime),
    sa.UniqueConstraint("threat_pk", "key", name="uq_targets_threat_key"),
)

target_sources = sa.Table(
    "target_sources",
    metadata,
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
    sa.Column("source", sa.String(500), nullable=False),
    sa.Column("listed_at", UTCDateTime, nullable=False),
    sa.PrimaryKeyConstraint("target_pk", "source", name="pk_target_sources"),
    sa.Index("ix_target_sources_source", "source", "target_pk"),
)
"""Every source (watchlist file, feed, TAXII collection) that lists an active target; a target is retired when
no source lists it any more. ``targets.source`` keeps the source that listed it first."""

observers = sa.Table(
    "observers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("organization", sa.String(200), nullable=False),
    sa.Column("org_identity", sa.String(64), nullable=False),
    sa.Column("system_identity", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

cycles = sa.Table(
    "cycles",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("observer_pk", sa.Integer, sa.ForeignKey("observers.id"), nullable=False),
    sa.Column("slot_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("simulated", sa.Boolean, nullable=False),
    sa.Column("stix_path", sa.String(1000)),
    sa.Column("summary", sa.JSON),
)

# On PostgreSQL (migration 0004) this table is partitioned by month of observed_at (see c2watch.store.partitions):
# its primary key there is (id, observed_at), and ix_observations_threat_time also carries the month view's columns.
observations = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("cycle_pk", sa.Integer, sa.ForeignKey("cycles.id")),
    sa.Column("observer_pk", sa.Integer, sa.ForeignKey("observers.id"), nullable=False),
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
    sa.Column("threat_id", sa.String(200), nullable=False),
    sa.Column("observed_at", UTCDateTime, nullable=False),
    sa.Column("simulated", sa.Boolean, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("probed_kind", sa.String(8), nullable=False),
    sa.Column("probed_value", sa.String(2048), nullable=False),
    sa.Column("resolved", sa.JSON),
    sa.Column("ping_outcome", sa.String(32)),
    sa.Column("ping_address", sa.String(64)),
    sa.Column("ping_sent", sa.Integer),
    sa.Column("ping_received", sa.Integer),
    sa.Column("ping_loss_pct", sa.Float),
    sa.Column("ping_rtt_avg_ms", sa.Float),
    sa.Column("ping_ttl", sa.Integer),
    sa.Column("http_outcome", sa.String(32)),
    sa.Column("http_status", sa.Integer),
    sa.Column("http_reason", sa.String(1024)),
    sa.Column("http_error", sa.String(32)),
    sa.Column("http_elapsed_ms", sa.Float),
    sa.Column("http_server", sa.String(1024)),
    sa.Column("http_content_type", sa.String(1024)),
    sa.Column("http_body_bytes", sa.Integer),
    sa.Column("http_body_sha256", sa.String(64)),
    sa.Column("http_location", sa.String(2048)),
    sa.Column("tls_cert_sha256", sa.String(64)),
    sa.Column("details", sa.JSON),
    sa.Column("stix_id", sa.String(64)),
    sa.UniqueConstraint("observer_pk", "target_pk", "observed_at", name="uq_observations_once"),
    sa.Index("ix_observations_threat_time", "threat_id", "observed_at"),
    sa.Index("ix_observations_target_time", "target_pk", "observed_at"),
)

# --- sharing: the hub's organisations, tokens, TAXII objects and statuses; the agent's outbox and cursors ---

organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("identity", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("org_pk", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("expires_at", UTCDateTime),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("secret_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("token_pk", sa.Integer, sa.ForeignKey("tokens.id"), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Index("ix_sessions_token", "token_pk"),
)

observer_keys = sa.Table(
    "observer_keys",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_identity", sa.String(64), nullable=False),
    sa.Column("organization", sa.String(200), nullable=False),
    sa.Column("observer_ref", sa.String(64), nullable=False),
    sa.Column("key_id", sa.String(32), nullable=False, unique=True),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("valid_from", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("endorsement", sa.JSON),
    sa.Index("ix_observer_keys_observer", "observer_ref"),
)
"""Observers' public keys. On a hub: the keys registered (``hub observer add``) or enrolled (first push) for each
observer of a member organisation. On an agent: the keys it pinned (learned from its hub on first sight, or given
by hand) and checks every pulled or imported record against. ``key_id`` is :func:`c2watch.stix.signing.key_id`."""

refused_records = sa.Table(
    "refused_records",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("origin", sa.String(500), nullable=False),
    sa.Column("object_id", sa.String(100), nullable=False),
    sa.Column("observer_ref", sa.String(64)),
    sa.Column("key_id", sa.String(32)),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("refused_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("origin", "object_id", name="uq_refused_records_origin"),
)
"""Records an agent refused (pulled from a hub, or imported) because their signature did not hold: once per
origin (hub API root or file) and object id, the first reason kept."""

taxii_objects = sa.Table(
    "taxii_objects",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("collection", sa.String(64), nullable=False),
    sa.Column("object_id", sa.String(100), nullable=False),
    sa.Column("object_type", sa.String(64), nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("spec_version", sa.String(8), nullable=False),
    sa.Column("date_added", UTCDateTime, nullable=False),
    sa.Column("org_pk", sa.Integer, sa.ForeignKey("organizations.id")),
    sa.Column("body", sa.Text, nullable=False),
    sa.UniqueConstraint("collection", "object_id", "version", name="uq_taxii_objects_version"),
    sa.Index("ix_taxii_objects_added", "collection", "date_added", "id"),
)

taxii_statuses = sa.Table(
    "taxii_statuses",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("org_pk", sa.Integer, sa.ForeignKey("organizations.id"), nullable=False),
    sa.Column("request_timestamp", UTCDateTime, nullable=False),
    sa.Column("total_count", sa.Integer, nullable=False),
    sa.Column("successes", sa.JSON, nullable=False),
    sa.Column("failures", sa.JSON, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("objects", sa.Text, nullable=False),
    sa.Column("acked_at", UTCDateTime),
    sa.Index("ix_outbox_pending", "acked_at", "id"),
)

sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("hub", sa.String(500), primary_key=True),
    sa.Column("collection", sa.String(64), primary_key=True),
    sa.Column("added_after", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# --- verdicts across observers, change events and their webhook delivery ---

answer_summaries = sa.Table(
    "answer_summaries",
    metadata,
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), primary_key=True),
    sa.Column("observer_pk", sa.Integer, sa.ForeignKey("observers.id"), primary_key=True),
    sa.Column("observations", sa.Integer, nullable=False),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("http_at", UTCDateTime),
    sa.Column("http_status", sa.Integer),
    sa.Column("icmp_at", UTCDateTime),
    sa.Column("icmp_ttl", sa.Integer),
    sa.Column("tls_at", UTCDateTime),
    sa.Column("silent_http", sa.Integer, nullable=False),
    sa.Column("silent_icmp", sa.Integer, nullable=False),
    sa.Column("silent_tls", sa.Integer, nullable=False),
    sa.Column("after_http", sa.Integer, nullable=False),
    sa.Column("after_icmp", sa.Integer, nullable=False),
    sa.Column("after_tls", sa.Integer, nullable=False),
)

analysis_state = sa.Table(
    "analysis_state",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

identity_tracks = sa.Table(
    "identity_tracks",
    metadata,
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

verdicts = sa.Table(
    "verdicts",
    metadata,
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), primary_key=True),
    sa.Column("status", sa.String(24), nullable=False),
    sa.Column("since", UTCDateTime, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
    sa.Column("last_answer_at", UTCDateTime),
    sa.Column("evidence", sa.JSON, nullable=False),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String(32), nullable=False, unique=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("target_pk", sa.Integer, sa.ForeignKey("targets.id"), nullable=False),
    sa.Column("threat_id", sa.String(200), nullable=False),
    sa.Column("observer_pk", sa.Integer, sa.ForeignKey("observers.id")),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("detected_at", UTCDateTime, nullable=False),
    sa.Column("summary", sa.String(1000), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Index("ix_events_at", "at"),
    sa.Index("ix_events_target_kind", "target_pk", "kind", "at"),
)

webhook_cursors = sa.Table(
    "webhook_cursors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("url", sa.String(2000), nullable=False, unique=True),
    sa.Column("last_event_id", sa.Integer, nullable=False),
    sa.Column("delivered", sa.Integer, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("last_error", sa.String(500)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# --- retention: per day, destination and observer, what the reports need once the raw rows are gone ---
# (derived data, written only by retention: no foreign keys, and a primary key led by the day so that rolling up a
# month appends to the indexes instead of touching every page of them)

daily_rollups = sa.Table(
    "daily_rollups",
    metadata,
    sa.Column("day_start", UTCDateTime, primary_key=True),
    sa.Column("target_pk", sa.Integer, primary_key=True),
    sa.Column("observer_pk", sa.Integer, primary_key=True),
    sa.Column("zone", sa.String(64), nullable=False),
    sa.Column("threat_id", sa.String(200), nullable=False),
    sa.Column("observations", sa.Integer, nullable=False),
    sa.Column("answered", sa.Integer, nullable=False),
    sa.Column("first_at", UTCDateTime, nullable=False),
    sa.Column("last_at", UTCDateTime, nullable=False),
    sa.Column("last_answer_at", UTCDateTime),
    sa.Column("runs", sa.Text, nullable=False),
    sa.Column("ping_sent", sa.Integer, nullable=False),
    sa.Column("ping_received", sa.Integer, nullable=False),
    sa.Column("ping_replied", sa.Integer, nullable=False),
    sa.Column("ping_loss_n", sa.Integer, nullable=False),
    sa.Column("ping_loss_sum", sa.Float, nullable=False),
    sa.Column("rtt_n", sa.Integer, nullable=False),
    sa.Column("rtt_sum", sa.Float, nullable=False),
    sa.Column("pair_both", sa.Integer, nullable=False),
    sa.Column("pair_http_only", sa.Integer, nullable=False),
    sa.Column("pair_ping_only", sa.Integer, nullable=False),
    sa.Column("pair_neither", sa.Integer, nullable=False),
    sa.Column("out_responding", sa.Integer, nullable=False),
    sa.Column("out_ping_only", sa.Integer, nullable=False),
    sa.Column("out_silent", sa.Integer, nullable=False),
    sa.Column("out_dns_failed", sa.Integer, nullable=False),
    sa.Column("out_refused_by_guard", sa.Integer, nullable=False),
    sa.Column("out_error", sa.Integer, nullable=False),
    sa.Column("out_other", sa.Integer, nullable=False),
    sa.Index("ix_daily_rollups_threat_day", "threat_id", "day_start"),
)
