"""The one row builder of the ``observations`` table: our observations (the writer) and the records other
observers shared (STIX ingest) become rows here, their probe results mapped to columns by :data:`FIELD_COLUMNS`.

:data:`FIELD_COLUMNS` is the only map from a probe's result fields to the ``observations`` columns: the row
builder reads it, and :func:`c2watch.store.observation_fit.fit_observation` fits each mapped value to its column
before the observation reaches the writer, so the store row and the STIX objects carry the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from c2watch.models.observation import Observation
from c2watch.models.probes import AnyResult

__all__ = [
    "COLUMNS_BY_KIND",
    "FIELD_COLUMNS",
    "observation_details",
    "observation_row",
    "probe_columns",
    "result_fields",
]

#: (probe kind, result field) -> ``observations`` column. The outcome and elapsed time of the ICMP and HTTP
#: probes have columns of their own (``ping_outcome``, ``http_outcome``, ``http_elapsed_ms``).
FIELD_COLUMNS: dict[tuple[str, str], str] = {
    ("icmp", "address"): "ping_address",
    ("icmp", "sent"): "ping_sent",
    ("icmp", "received"): "ping_received",
    ("icmp", "loss_pct"): "ping_loss_pct",
    ("icmp", "rtt_avg_ms"): "ping_rtt_avg_ms",
    ("icmp", "ttl"): "ping_ttl",
    ("http", "status"): "http_status",
    ("http", "reason"): "http_reason",
    ("http", "error"): "http_error",
    ("http", "server"): "http_server",
    ("http", "content_type"): "http_content_type",
    ("http", "body_bytes"): "http_body_bytes",
    ("http", "body_sha256"): "http_body_sha256",
    ("http", "location"): "http_location",
    ("http", "cert_sha256"): "tls_cert_sha256",
    ("tls", "cert_sha256"): "tls_cert_sha256",
}
COLUMNS_BY_KIND: dict[str, list[tuple[str, str]]] = {}
for (_kind, _field), _column in FIELD_COLUMNS.items():
    COLUMNS_BY_KIND.setdefault(_kind, []).append((_field, _column))


def result_fields(result: AnyResult) -> dict[str, Any]:
    """A result's fields by name, whatever the probe."""
    return cast(dict[str, Any], result.fields)


def probe_columns(results: Mapping[str, AnyResult]) -> dict[str, Any]:
    """The columns of the probes' results."""
    row: dict[str, Any] = {**_outcome_columns(results), "tls_cert_sha256": None}
    for kind in ("icmp", "tls", "http"):  # the first value wins: the TLS probe's certificate before HTTP's
        result = results.get(kind)
        if result is not None:
            for name, column in COLUMNS_BY_KIND[kind]:
                if row.get(column) is None:
                    row[column] = result_fields(result).get(name)
    return row


def observation_row(obs: Observation, observer_pk: int, cycle_pk: int | None, simulated: bool) -> dict[str, Any]:
    """The ``observations`` table row of one of our (fitted) observations."""
    return {
        "cycle_pk": cycle_pk,
        "observer_pk": observer_pk,
        "target_pk": obs.target.target_id,
        "threat_id": obs.target.threat_id,
        "observed_at": obs.observed_at,
        "simulated": simulated,
        "outcome": obs.outcome,
        "probed_kind": obs.target.kind,
        "probed_value": obs.target.value,
        "resolved": list(obs.resolution.addresses) if obs.resolution else None,
        **probe_columns(obs.results),
        "details": observation_details(obs),
    }


def observation_details(obs: Observation) -> dict[str, Any]:
    details = {
        "refused": list(obs.target.refused),
        "dns_error": obs.resolution.error if obs.resolution else None,
        "probes": {
            kind: {"outcome": r.outcome, "elapsed_ms": r.elapsed_ms, **r.fields} for kind, r in obs.results.items()
        },
    }
    if obs.fitted:
        details["fitted"] = obs.fitted
    return details


def _outcome_columns(results: Mapping[str, AnyResult]) -> dict[str, Any]:
    icmp, http = results.get("icmp"), results.get("http")
    columns: dict[str, Any] = {}
    if icmp is not None:
        columns["ping_outcome"] = icmp.outcome
    if http is not None:
        columns.update(http_outcome=http.outcome, http_elapsed_ms=http.elapsed_ms)
    return columns
