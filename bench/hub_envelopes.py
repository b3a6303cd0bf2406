"""What the hub benchmark posts: one observer's signed envelopes of observations, as its agent sends them.

Envelope ``n`` holds ``size`` observations of the same ``size`` destinations at T0 + 4 h × n (addresses in the
IPv6 documentation range, never contacted): for each, a url and an ipv6-addr SCO, two network-traffic (ICMP, HTTP),
an observed-data and a sighting, both signed with the observer's Ed25519 key (the hub checks them against the key
registered for it); 50 campaigns and the two identities. From the second envelope on the SCOs, campaigns and
identities are identical re-posts, as on a live hub.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.models.observation import Observation
from c2watch.models.probes import ProbeResult, ProbeTarget
from c2watch.stix.keys import public_key_text
from c2watch.stix.observation import Producer, campaign_object, observation_objects
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord
from c2watch.stix.validate import object_version
from c2watch.stix.vocab import identity_ids, timestamp

ORG = "Bench CSIRT"
OBSERVER = "bench-01"
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
Row = tuple[str, str, str, str, str]  # object id, type, version, spec_version, body: a taxii_objects row's content


def producer(key: Ed25519PrivateKey | None) -> Producer:
    """The bench observer (``key`` None: unsigned records, as agents made before signing)."""
    return Producer(*identity_ids(ORG, OBSERVER), ORG, OBSERVER, "bench", key)


def key_record(key: Ed25519PrivateKey) -> KeyRecord:
    """The observer's key as the hub operator registers it (``hub observer add``)."""
    p, public = producer(None), key.public_key()
    at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    return KeyRecord(key_id(public), public_key_text(public), p.org_identity, ORG, p.system_identity, at, None, "bench")


def observation(i: int, at: dt.datetime) -> Observation:
    address = f"2001:db8::{i:x}"  # documentation range (RFC 3849), one address per destination; never contacted
    url = f"http://[{address}]:8080/g{i}.php"
    target = ProbeTarget(i, f"TID-{i % 50}", "url", url, address, 8080, "http", url, f"/g{i}.php", (address,))
    icmp = ProbeResult(
        "icmp",
        "alive",
        at,
        760.0,
        {"address": address, "sent": 4, "received": 4, "loss_pct": 0.0, "rtt_avg_ms": 20.0, "ttl": 52},
    )
    http = ProbeResult(
        "http",
        "responding",
        at,
        35.0,
        {"address": address, "status": 200, "reason": "OK", "server": "nginx", "body_bytes": 612},
    )
    return Observation(target, at, None, {"icmp": icmp, "http": http}, f"{url}|||8080")


def envelope(p: Producer, number: int, size: int) -> list[dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {o["id"]: o for o in p.identities()}
    at = T0 + dt.timedelta(hours=4 * number)
    created = timestamp(at, millis=True)
    for i in range(size):
        obs = observation(i, at)
        for obj in [campaign_object(obs.target.threat_id), *observation_objects(obs, p, created)]:
            objects.setdefault(obj["id"], obj)
    return list(objects.values())


def encoded(p: Producer, number: int, size: int) -> tuple[bytes, int]:
    """Envelope ``number`` as the body of a POST, and its count of objects."""
    objects = envelope(p, number, size)
    return orjson.dumps({"objects": objects}), len(objects)


def stored_rows(raw_key: bytes, size: int, number: int) -> list[Row]:
    """Envelope ``number`` as the rows ingest stores in taxii_objects, signed with the private key ``raw_key`` (its
    32 raw bytes: this runs in worker processes)."""
    key = Ed25519PrivateKey.from_private_bytes(raw_key)
    return [
        (obj["id"], obj["type"], object_version(obj), obj["spec_version"], orjson.dumps(obj).decode())
        for obj in envelope(producer(key), number, size)
    ]
