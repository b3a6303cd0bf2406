"""One destination's probe results folded into one observation: an overall outcome and the stored columns.

:data:`FIELD_COLUMNS` is the only map from a probe's result fields to the ``observations`` columns: the row
builder reads it, and :meth:`Observation.fit` fits each mapped value to its column (:mod:`c2watch.store.fit`)
before the observation reaches the writer, so the store row and the STIX objects carry the same values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from c2watch.probes.base import ProbeResult, ProbeTarget
from c2watch.probes.resolve import Resolution
from c2watch.store.fit import JSON_TEXT_LIMIT, fit_json, fit_text, fit_value
from c2watch.store.tables import observations

__all__ = ["FIELD_COLUMNS", "Observation", "overall_outcome"]

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
_COLUMNS_BY_KIND: dict[str, list[tuple[str, str]]] = {}
for (_kind, _field), _column in FIELD_COLUMNS.items():
    _COLUMNS_BY_KIND.setdefault(_kind, []).append((_field, _column))


@dataclass
class Observation:
    """What one observer saw of one destination in one cycle."""

    target: ProbeTarget
    observed_at: dt.datetime
    resolution: Resolution | None
    results: dict[str, ProbeResult] = field(default_factory=dict)
    target_key: str = ""
    simulated: bool = False
    #: How values were changed to fit (column or ``kind.field`` -> mark as a dict), see :meth:`fit`.
    fitted: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def finished_at(self) -> dt.datetime:
        ends = [r.started_at + dt.timedelta(milliseconds=r.elapsed_ms) for r in self.results.values()]
        return max([self.observed_at, *ends])

    @property
    def outcome(self) -> str:
        return overall_outcome(self)

    def fit(self) -> Observation:
        """Fit every result field in place: a mapped field to its column, any other as JSON (text clipped to
        :data:`~c2watch.store.fit.JSON_TEXT_LIMIT`); each changed value is marked in :attr:`fitted` under its
        column or ``kind.field``. Idempotent."""
        for kind, result in self.results.items():
            columns = dict(_COLUMNS_BY_KIND.get(kind, ()))
            for name, value in result.fields.items():
                column = columns.get(name)
                if column is not None:
                    result.fields[name], mark = fit_value(observations.c[column], value)
                elif isinstance(value, str):
                    result.fields[name], mark = fit_text(value, JSON_TEXT_LIMIT)
                else:
                    result.fields[name], mark = fit_json(value), None
                if mark is not None:
                    self.fitted[column or f"{kind}.{name}"] = mark.as_dict()
        return self

    def row(self, observer_pk: int, cycle_pk: int | None, simulated: bool) -> dict[str, Any]:
        """The ``observations`` table row (of a fitted observation)."""
        row: dict[str, Any] = {
            "cycle_pk": cycle_pk,
            "observer_pk": observer_pk,
            "target_pk": self.target.target_id,
            "threat_id": self.target.threat_id,
            "observed_at": self.observed_at,
            "simulated": simulated,
            "outcome": self.outcome,
            "probed_kind": self.target.kind,
            "probed_value": self.target.value,
            "resolved": list(self.resolution.addresses) if self.resolution else None,
            **_outcome_columns(self.results),
            "tls_cert_sha256": None,
            "details": self.details(),
        }
        for kind in ("icmp", "tls", "http"):  # the first value wins: the TLS probe's certificate before HTTP's
            result = self.results.get(kind)
            if result is not None:
                for name, column in _COLUMNS_BY_KIND[kind]:
                    if row.get(column) is None:
                        row[column] = result.fields.get(name)
        return row

    def details(self) -> dict[str, Any]:
        details = {
            "refused": list(self.target.refused),
            "dns_error": self.resolution.error if self.resolution else None,
            "probes": {
                kind: {"outcome": r.outcome, "elapsed_ms": r.elapsed_ms, **r.fields} for kind, r in self.results.items()
            },
        }
        if self.fitted:
            details["fitted"] = self.fitted
        return details


def _outcome_columns(results: dict[str, ProbeResult]) -> dict[str, Any]:
    icmp, http = results.get("icmp"), results.get("http")
    columns: dict[str, Any] = {}
    if icmp is not None:
        columns["ping_outcome"] = icmp.outcome
    if http is not None:
        columns.update(http_outcome=http.outcome, http_elapsed_ms=http.elapsed_ms)
    return columns


def overall_outcome(obs: Observation) -> str:
    """responding > ping-only > silent; refused-by-guard or dns-failed when nothing could be probed."""
    http, icmp = obs.results.get("http"), obs.results.get("icmp")
    if http is not None and http.outcome == "responding":
        return "responding"
    if icmp is not None and icmp.outcome == "alive":
        return "ping-only"
    if not obs.target.addresses:
        if obs.resolution is not None and obs.resolution.error:
            return "dns-failed"
        return "refused-by-guard" if obs.target.refused else "dns-failed"
    return "silent"
