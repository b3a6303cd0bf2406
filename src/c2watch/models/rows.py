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


def _plan(order: tuple[str, ...]) -> list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]]:
    """Per kind, in order: the columns it fills alone and their fields, and the (field, column) pairs an earlier
    kind fills first (``tls_cert_sha256``: the TLS probe's certificate, else the one HTTP saw)."""
    plan, claimed = [], set()
    for kind in order:
        pairs = COLUMNS_BY_KIND[kind]
        alone = [(name, column) for name, column in pairs if column not in claimed]
        after = tuple((name, column) for name, column in pairs if column in claimed)
        plan.append((kind, tuple(c for _, c in alone), tuple(n for n, _ in alone), after))
        claimed |= {column for _, column in pairs}
    return plan


_PLAN = _plan(("icmp", "tls", "http"))


def result_fields(result: AnyResult) -> dict[str, Any]:
    """A result's fields by name, whatever the probe."""
    return cast(dict[str, Any], result.fields)


def probe_columns(results: Mapping[str, AnyResult]) -> dict[str, Any]:
    """The columns of the probes' results."""
    row: dict[str, Any] = {"tls_cert_sha256": None}
    icmp, http = results.get("icmp"), results.get("http")
    if icmp is not None:
        row["ping_outcome"] = icmp.outcome
    if http is not None:
        row["http_outcome"], row["http_elapsed_ms"] = http.outcome, http.elapsed_ms
    for kind, columns, names, after in _PLAN:
        result = results.get(kind)
        if result is not None:
            get = result_fields(result).get
            row.update(zip(columns, map(get, names)))  # noqa: B905 (both from one list of pairs)
            for name, column in after:
                if row[column] is None:
                    row[column] = get(name)
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
    if obs.target.egress:
        details["egress"] = obs.target.egress
    if obs.fitted:
        details["fitted"] = obs.fitted
    return details
