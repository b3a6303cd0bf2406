"""Observation groups as an observer of a given organisation produces them (through the real STIX code)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from c2watch.models.observation import Observation
from c2watch.models.probes import ProbeResult, ProbeTarget
from c2watch.stix.observation import Producer, campaign_object, observation_objects
from c2watch.stix.vocab import identity_ids, timestamp

T0 = dt.datetime(2026, 1, 5, 3, 0, tzinfo=dt.UTC)


def producer(org: str, observer: str = "observer-01") -> Producer:
    org_id, system_id = identity_ids(org, observer)
    return Producer(org_id, system_id, org, observer, "Mozilla/5.0 test")


def observation(index: int, at: dt.datetime, status: int | None = 200, threat: str = "TID-1") -> Observation:
    address = f"198.51.100.{index % 250 + 1}"
    url = f"http://{address}:8080/gate{index}.php"
    target = ProbeTarget(index, threat, "url", url, address, 8080, "http", url, f"/gate{index}.php", (address,))
    icmp = ProbeResult(
        "icmp",
        "alive",
        at,
        800.0,
        {"address": address, "sent": 4, "received": 3, "loss_pct": 25.0, "rtt_avg_ms": 12.5, "ttl": 49},
    )
    fields: dict[str, Any] = {"address": address, "url": url}
    if status is None:
        http = ProbeResult("http", "error", at, 5000.0, {**fields, "error": "timeout"})
    else:
        http = ProbeResult(
            "http",
            "responding",
            at,
            40.0,
            {**fields, "status": status, "reason": "OK", "server": "nginx", "body_bytes": 10},
        )
    return Observation(target, at, None, {"icmp": icmp, "http": http}, f"{url}|||8080")


def group(p: Producer, index: int, at: dt.datetime = T0, status: int | None = 200) -> list[dict[str, Any]]:
    obs = observation(index, at, status)
    return [campaign_object(obs.target.threat_id), *observation_objects(obs, p, timestamp(at, millis=True))]


def envelope(p: Producer, count: int, at: dt.datetime = T0) -> list[dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {o["id"]: o for o in p.identities()}
    for i in range(count):
        for obj in group(p, i, at + dt.timedelta(seconds=i)):
            objects.setdefault(obj["id"], obj)
    return list(objects.values())
