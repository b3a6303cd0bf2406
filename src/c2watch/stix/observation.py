"""One observation as STIX 2.1 objects: SCOs of what was probed, one network-traffic per probe, an observed-data,
and a sighting of the campaign when the destination answered."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.models.observation import Observation
from c2watch.models.probes import AnyResult, HttpResult, PingResult
from c2watch.stix.signing import sign
from c2watch.stix.vocab import (
    DETAILS_EXTENSION,
    PROBE_EXTENSION,
    PRODUCER_CREATED,
    THREAT_ID_SOURCE,
    campaign_id,
    sco_id,
    stable_id,
    timestamp,
)

__all__ = ["Producer", "campaign_object", "observation_objects", "threat_reference"]


@dataclass(frozen=True)
class Producer:
    """Who made the record: the organisation and the observer (system) identities, how it probes, and the
    observer's key that signs every observed-data and sighting (none: unsigned, as agents before signing)."""

    org_identity: str
    system_identity: str
    org_name: str = ""
    observer_name: str = ""
    user_agent: str = ""
    key: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)
    endorsement: Mapping[str, Any] | None = field(default=None, compare=False)  # of ``key`` by the previous one

    def identities(self) -> list[dict[str, Any]]:
        base = {"type": "identity", "spec_version": "2.1", "created": PRODUCER_CREATED, "modified": PRODUCER_CREATED}
        return [
            {**base, "id": self.org_identity, "name": self.org_name, "identity_class": "organization"},
            {
                **base,
                "id": self.system_identity,
                "created_by_ref": self.org_identity,
                "name": self.observer_name,
                "description": "c2watch observer agent",
                "identity_class": "system",
            },
        ]


def campaign_object(threat_id: str) -> dict[str, Any]:
    """A threat ID as a campaign: the same object (id, no creator) at every organisation, so sharing dedupes it."""
    return {
        "type": "campaign",
        "spec_version": "2.1",
        "id": campaign_id(threat_id),
        "created": PRODUCER_CREATED,
        "modified": PRODUCER_CREATED,
        "name": threat_id,
        "external_references": [threat_reference(threat_id)],
    }


def threat_reference(threat_id: str) -> dict[str, str]:
    return {"source_name": THREAT_ID_SOURCE, "external_id": threat_id}


def _version(address: str) -> int:
    """4 or 6 for an address the guard or the resolver produced (valid by then: only IPv6 has a colon)."""
    return 6 if ":" in address else 4


def _address_sco(address: str) -> dict[str, Any]:
    kind = "ipv6-addr" if _version(address) == 6 else "ipv4-addr"
    return {"type": kind, "spec_version": "2.1", "id": sco_id(kind, {"value": address}), "value": address}


def _scos(obs: Observation) -> tuple[list[dict[str, Any]], dict[str, str], str | None]:
    """SCOs, address → id, and the id of the domain-name (if any)."""
    target = obs.target
    host_is_name = target.host_is_name
    addresses = list(dict.fromkeys([*(obs.resolution.addresses if obs.resolution else ()), *target.addresses]))
    if not host_is_name and target.host not in addresses:
        addresses.append(str(ipaddress.ip_address(target.host)))
    objects = [_address_sco(a) for a in addresses]
    ids = {a: o["id"] for a, o in zip(addresses, objects, strict=True)}
    domain_ref = None
    if host_is_name:
        domain: dict[str, Any] = {"type": "domain-name", "spec_version": "2.1", "value": target.host}
        domain["id"] = sco_id("domain-name", {"value": target.host})
        if ids:
            domain["resolves_to_refs"] = list(ids.values())
        objects.append(domain)
        domain_ref = str(domain["id"])
    if target.kind == "url":
        objects.append(
            {
                "type": "url",
                "spec_version": "2.1",
                "id": sco_id("url", {"value": target.url}),
                "value": target.url,
            }
        )
    return objects, ids, domain_ref


def _details(fields: Mapping[str, Any], outcome: str, keys: tuple[str, ...]) -> dict[str, Any]:
    values = {k: fields[k] for k in keys if fields.get(k) is not None}
    return {"extension_type": "property-extension", "outcome": outcome, **values}


def _traffic(obs: Observation, result: AnyResult, dst_ref: str, probe_ext: dict[str, Any]) -> dict[str, Any]:
    """A probe's network-traffic (observation_objects makes its id unique per observer)."""
    return {
        "type": "network-traffic",
        "spec_version": "2.1",
        "id": stable_id("network-traffic", dst_ref, obs.target.url, timestamp(result.started_at), result.kind),
        "start": timestamp(result.started_at),
        "end": timestamp(result.started_at + dt.timedelta(milliseconds=result.elapsed_ms)),
        "is_active": False,
        "dst_ref": dst_ref,
        "extensions": {PROBE_EXTENSION: {"extension_type": "property-extension", **probe_ext}},
    }


def _ip_version(address: str) -> str:
    return f"ipv{_version(address)}"


def _icmp_traffic(obs: Observation, result: PingResult, ids: dict[str, str]) -> dict[str, Any] | None:
    f = result.fields
    address = f.get("address")
    if address is None or address not in ids:
        return None
    ext: dict[str, Any] = {
        "probe": "icmp-echo",
        "result": result.outcome,
        "packets_sent": f["sent"],
        "packets_received": f["received"],
        "packet_loss_pct": f["loss_pct"],
    }
    if f.get("rtt_avg_ms") is not None:
        ext["rtt_avg_ms"] = f["rtt_avg_ms"]
    if f.get("ttl") is not None:
        ext["reply_ttl"] = f["ttl"]
    traffic = _traffic(obs, result, ids[address], ext)
    traffic["protocols"] = [_ip_version(address), "icmp"]
    traffic["src_packets"], traffic["dst_packets"] = f["sent"], f["received"]
    traffic["extensions"]["icmp-ext"] = {"icmp_type_hex": "08", "icmp_code_hex": "00"}
    traffic["extensions"][DETAILS_EXTENSION] = _details(f, result.outcome, ("error",))
    return traffic


_HTTP_DETAILS = (
    "error",
    "detail",
    "server",
    "content_type",
    "location",
    "body_bytes",
    "body_sha256",
    "header_order_sha256",
    "html_hash",
    "title",
    "cert_sha256",
    "cert_serial",
    "cert_subject",
    "cert_issuer",
    "cert_not_after",
    "cert_self_signed",
)


def _http_traffic(
    obs: Observation, result: HttpResult, ids: dict[str, str], domain_ref: str | None, user_agent: str
) -> dict[str, Any] | None:
    f, target = result.fields, obs.target
    # A failed GET records no address; it went to the first allowed one (the only reference of an IP target).
    address = f.get("address") or (target.addresses[0] if target.addresses else None)
    dst_ref = ids.get(f.get("address") or "") or domain_ref or ids.get(address or "")
    if dst_ref is None:
        return None
    ext: dict[str, Any] = {"probe": "http-get", "result": result.outcome, "target_url": target.url}
    status = f.get("status")
    shared_status = isinstance(status, int) and 100 <= status <= 599  # what the shared schema allows
    if shared_status:
        ext["http_status_code"] = status
        if f.get("reason") is not None:
            ext["http_reason_phrase"] = f["reason"]
    traffic = _traffic(obs, result, dst_ref, ext)
    ip_proto = _ip_version(address) if address else "ipv4"
    traffic["protocols"] = [ip_proto, "tcp", *(["ssl"] if target.scheme == "https" else []), "http"]
    traffic["dst_port"] = target.port
    traffic["extensions"]["http-request-ext"] = {
        "request_method": "get",
        "request_value": target.path,
        "request_version": "http/1.1",
        "request_header": {"Host": [target.host], "User-Agent": [user_agent]},
    }
    traffic["extensions"][DETAILS_EXTENSION] = _details(f, result.outcome, _HTTP_DETAILS)
    if not shared_status and status is not None:  # a status line the shared schema has no room for (600-999)
        traffic["extensions"][DETAILS_EXTENSION].update(status=status, reason=f.get("reason"))
    traffic["extensions"][DETAILS_EXTENSION].update(_active_fingerprints(obs))
    return traffic


def _active_fingerprints(obs: Observation) -> dict[str, Any]:
    """What the opt-in probes found of the same server: its JARM and Shodan's favicon hash; and what answers at
    the address a named destination resolved to."""
    found: dict[str, Any] = {}
    scan, icon, direct = obs.results.get("jarm"), obs.results.get("favicon"), obs.results.get("resolved")
    if scan is not None and scan.outcome == "fingerprinted":
        found["jarm"] = scan.fields.get("jarm")
    if icon is not None and icon.fields.get("favicon_hash") is not None:
        found["favicon_hash"] = icon.fields.get("favicon_hash")
    if direct is not None and direct.outcome not in ("not-a-name", "resolved-by-proxy"):
        fields: dict[str, Any] = dict(direct.fields)
        found["resolved"] = {"outcome": direct.outcome} | {k: fields[k] for k in _RESOLVED if fields.get(k) is not None}
    return found


_RESOLVED = ("address", "status", "server", "cert_sha256", "header_order_sha256", "title", "body_sha256", "error")


def observation_objects(obs: Observation, producer: Producer, created: str) -> list[dict[str, Any]]:
    """Everything one observation adds to a bundle (campaigns and identities are written once per bundle)."""
    objects, ids, domain_ref = _scos(obs)
    traffic = [
        t
        for t in (
            _icmp_traffic(obs, obs.ping, ids) if obs.ping is not None else None,
            _http_traffic(obs, obs.http, ids, domain_ref, producer.user_agent) if obs.http is not None else None,
        )
        if t is not None
    ]
    for item in traffic:  # two observers probing the same URL in the same second record two flows
        item["id"] = stable_id("network-traffic", producer.system_identity, item["id"])
    objects += traffic
    observed = _observed_data(obs, producer, objects, created)
    if producer.key is not None:  # the signature covers the objects it refers to (their digests)
        sign(observed, producer.key, {o["id"]: o for o in objects})
    objects.append(observed)
    if obs.outcome == "responding":
        sighting = _sighting(obs, producer, observed, created)
        objects.append(sign(sighting, producer.key) if producer.key is not None else sighting)
    return objects


def _observed_data(obs: Observation, producer: Producer, refs: list[dict[str, Any]], created: str) -> dict[str, Any]:
    return {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": stable_id("observed-data", producer.system_identity, obs.target.url, timestamp(obs.observed_at)),
        "created_by_ref": producer.org_identity,
        "created": created,
        "modified": created,
        "first_observed": timestamp(obs.observed_at),
        "last_observed": timestamp(obs.finished_at),
        "number_observed": 1,
        "external_references": [threat_reference(obs.target.threat_id)],
        "object_refs": [o["id"] for o in refs],
        "extensions": {
            DETAILS_EXTENSION: {
                "extension_type": "property-extension",
                "outcome": obs.outcome,
                "observer_ref": producer.system_identity,
                "probed_kind": obs.target.kind,
                "probed_value": obs.target.value,
                "target_key": obs.target_key,
                **({"resolved": list(obs.resolution.addresses)} if obs.resolution and obs.resolution.addresses else {}),
                "simulated": obs.simulated,
                **({"egress": obs.target.egress} if obs.target.egress else {}),
                **({"refused": list(obs.target.refused)} if obs.target.refused else {}),
                **({"fitted": obs.fitted} if obs.fitted else {}),
            }
        },
    }


def _sighting(obs: Observation, producer: Producer, observed: dict[str, Any], created: str) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": stable_id("sighting", observed["id"]),
        "created_by_ref": producer.org_identity,
        "created": created,
        "modified": created,
        "first_seen": observed["first_observed"],
        "last_seen": observed["last_observed"],
        "count": 1,
        "sighting_of_ref": campaign_id(obs.target.threat_id),
        "observed_data_refs": [observed["id"]],
        "where_sighted_refs": [producer.system_identity],
        "extensions": {
            DETAILS_EXTENSION: {"extension_type": "property-extension", "observer_ref": producer.system_identity}
        },
    }
