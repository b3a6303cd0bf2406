"""Prometheus metrics of an agent and of a hub, each on a registry of its own (no process globals).

Names follow the Prometheus conventions: ``c2watch_`` prefix, base units, ``_total`` counters, ``_seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from c2watch.models.observation import EGRESS_FAILED, Observation
from c2watch.observer.cycle import CycleSummary

__all__ = ["CONTENT_TYPE_LATEST", "AgentMetrics", "HubMetrics"]

_CYCLE_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600)


class AgentMetrics:
    """Cycle duration, destinations per outcome, probe errors by kind, outbox depth, last successful sync, pulled
    records refused for their signature."""

    def __init__(self, outbox_depth: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry()
        self.cycle_duration = Histogram(
            "c2watch_cycle_duration_seconds",
            "Wall time of one observation cycle",
            registry=self.registry,
            buckets=_CYCLE_BUCKETS,
        )
        self.destinations = Counter(
            "c2watch_destinations_observed_total",
            "Destinations observed, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.last_cycle = Gauge(
            "c2watch_last_cycle_destinations",
            "Destinations of the last cycle, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.probe_errors = Counter(
            "c2watch_probe_errors_total",
            "Probe results that are errors, by probe and kind",
            ["probe", "kind"],
            registry=self.registry,
        )
        self.egress_failed = Counter(
            "c2watch_egress_failed_total",
            "Destinations not reached because their proxy failed (egress-failed), by egress label",
            ["egress"],
            registry=self.registry,
        )
        self.last_sync = Gauge(
            "c2watch_last_sync_success_timestamp_seconds", "Unix time of the last good sync", registry=self.registry
        )
        self.outbox = Gauge(
            "c2watch_outbox_depth", "Observations waiting to be pushed to the hub", registry=self.registry
        )
        self.refused = Counter(
            "c2watch_sync_refused_records_total",
            "Pulled records refused because their signature did not hold, by reason",
            ["reason"],
            registry=self.registry,
        )
        if outbox_depth is not None:
            self.outbox.set_function(outbox_depth)

    def observed(self, obs: Observation) -> None:
        self.destinations.labels(obs.outcome).inc()
        if obs.outcome == EGRESS_FAILED:
            self.egress_failed.labels(obs.target.egress).inc()
        for kind, result in obs.results.items():
            if result.outcome == "error":
                self.probe_errors.labels(kind, str(result.fields.get("error") or "error")).inc()

    def cycle_done(self, summary: CycleSummary) -> None:
        self.cycle_duration.observe(summary.duration_s)
        self.last_cycle.clear()
        for outcome, count in summary.outcomes.items():
            self.last_cycle.labels(outcome).set(count)

    def synced(self, refused: Mapping[str, int] | None = None) -> None:
        self.last_sync.set(time.time())
        for reason, count in (refused or {}).items():
            self.refused.labels(reason).inc(count)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class HubMetrics:
    """Request latencies by route and status, objects ingested by collection and result."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "c2watch_hub_request_duration_seconds",
            "Hub request latency",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.ingested = Counter(
            "c2watch_hub_ingested_objects_total",
            "Objects posted, by collection and result",
            ["collection", "result"],
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
