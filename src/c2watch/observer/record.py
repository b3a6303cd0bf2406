"""One destination's probe results folded into one observation: an overall outcome and the stored columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from c2watch.probes.base import ProbeResult, ProbeTarget
from c2watch.probes.resolve import Resolution

__all__ = ["OUTCOMES", "Observation", "overall_outcome"]

OUTCOMES = ("responding", "ping-only", "silent", "dns-failed", "refused-by-guard", "error")


@dataclass
class Observation:
    """What one observer saw of one destination in one cycle."""

    target: ProbeTarget
    observed_at: dt.datetime
    resolution: Resolution | None
    results: dict[str, ProbeResult] = field(default_factory=dict)
    target_key: str = ""
    simulated: bool = False

    @property
    def finished_at(self) -> dt.datetime:
        ends = [r.started_at + dt.timedelta(milliseconds=r.elapsed_ms) for r in self.results.values()]
        return max([self.observed_at, *ends])

    @property
    def outcome(self) -> str:
        return overall_outcome(self)

    def result_fields(self, kind: str) -> dict[str, Any]:
        result = self.results.get(kind)
        return result.fields if result else {}

    def row(self, observer_pk: int, cycle_pk: int | None, simulated: bool) -> dict[str, Any]:
        """The ``observations`` table row."""
        return {
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
            **_ping_columns(self.results.get("icmp")),
            **_http_columns(self.results.get("http")),
            "tls_cert_sha256": self.result_fields("tls").get("cert_sha256")
            or self.result_fields("http").get("cert_sha256"),
            "details": self.details(),
        }

    def details(self) -> dict[str, Any]:
        return {
            "refused": list(self.target.refused),
            "dns_error": self.resolution.error if self.resolution else None,
            "probes": {
                kind: {"outcome": r.outcome, "elapsed_ms": r.elapsed_ms, **_jsonable(r.fields)}
                for kind, r in self.results.items()
            },
        }


_JSON_VALUES = (str, int, float, bool, list, type(None))  # a tuple: ``str | int | …`` is rebuilt at every use


def _jsonable(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, _JSON_VALUES) else str(v) for k, v in fields.items()}


def _ping_columns(result: ProbeResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    f = result.fields
    return {
        "ping_outcome": result.outcome,
        "ping_address": f.get("address"),
        "ping_sent": f.get("sent"),
        "ping_received": f.get("received"),
        "ping_loss_pct": f.get("loss_pct"),
        "ping_rtt_avg_ms": f.get("rtt_avg_ms"),
        "ping_ttl": f.get("ttl"),
    }


def _http_columns(result: ProbeResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    f = result.fields
    return {
        "http_outcome": result.outcome,
        "http_status": f.get("status"),
        "http_reason": f.get("reason"),
        "http_error": f.get("error"),
        "http_elapsed_ms": result.elapsed_ms,
        "http_server": _clip(f.get("server"), 1024),
        "http_content_type": _clip(f.get("content_type"), 1024),
        "http_body_bytes": f.get("body_bytes"),
        "http_body_sha256": f.get("body_sha256"),
        "http_location": _clip(f.get("location"), 2048),
    }


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value else value


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
