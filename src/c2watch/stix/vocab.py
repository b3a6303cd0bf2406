"""Our STIX 2.1 vocabulary in one place: namespaces, deterministic ids, the two extension-definitions.

``PROBE_EXTENSION`` is the shared liveness-probe property-extension (its id is fixed forever; its schema allows only
the listed properties). ``DETAILS_EXTENSION`` carries what that schema has no room for (error kinds, headers, body
and certificate hashes, the overall outcome).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from typing import Any

import orjson

__all__ = [
    "DETAILS_EXTENSION",
    "PROBE_EXTENSION",
    "THREAT_ID_SOURCE",
    "campaign_id",
    "extension_definitions",
    "identity_ids",
    "sco_id",
    "stable_id",
    "timestamp",
]

PROBE_EXTENSION = "extension-definition--3f1b9c2e-7a44-4c1b-9d5e-2b8f6a0c1d11"
DETAILS_EXTENSION = "extension-definition--8d0c5f7e-2a61-4b3e-9f4a-6c2d1e0b7a55"
THREAT_ID_SOURCE = "cert-threat-id"
PRODUCER_CREATED = "2024-05-01T00:00:00.000Z"

_SCO_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7").bytes  # STIX 2.1 §2.9
_C2WATCH_NAMESPACE = uuid.UUID("5d1c3f0a-6b7e-5a2d-8c4f-3e9b1a7d2c60").bytes


@functools.lru_cache(maxsize=256)  # one observation formats each of its few instants several times
def timestamp(value: dt.datetime, millis: bool = False) -> str:
    """RFC 3339 in UTC with a ``Z``; ``millis`` for created/modified (exactly 3 fraction digits)."""
    text = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat("T", "milliseconds" if millis else "microseconds")
    return text + "Z" if millis else text.rstrip("0").rstrip(".") + "Z"


def taxii_timestamp(value: dt.datetime) -> str:
    """The hub's timestamps (``date_added``, object versions, status, ``added_after``): RFC 3339 in UTC with exactly
    six fraction digits, so that they compare as text."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_VARIANT = {digit: "89ab"[int(digit, 16) & 0x3] for digit in "0123456789abcdef"}  # RFC 4122 variant bits


def _uuid5(namespace: bytes, name: str | bytes) -> str:
    """``str(uuid.uuid5(UUID(bytes=namespace), name))``, several times faster (ids are made for every object of a
    cycle): the SHA-1 in hexadecimal, the version digit set to 5 and the variant bits to 10."""
    data = name if isinstance(name, bytes) else name.encode("utf-8")
    h = hashlib.sha1(namespace + data).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def sco_id(kind: str, contributing: dict[str, Any]) -> str:
    """A deterministic SCO id: UUIDv5 of the canonical JSON of its id-contributing properties (STIX 2.1 §2.9)."""
    return f"{kind}--{_uuid5(_SCO_NAMESPACE, orjson.dumps(contributing, option=orjson.OPT_SORT_KEYS))}"


def stable_id(kind: str, *parts: str) -> str:
    """A deterministic id for our own objects, so that re-exporting the same record gives the same id."""
    return f"{kind}--{_uuid5(_C2WATCH_NAMESPACE, '|'.join((kind, *parts)))}"


@functools.lru_cache(maxsize=1024)
def campaign_id(threat_id: str) -> str:
    """The same threat ID gives the same campaign id at every organisation."""
    return stable_id("campaign", THREAT_ID_SOURCE, threat_id)


def identity_ids(organization: str, observer: str) -> tuple[str, str]:
    """(organisation identity, observer system identity)."""
    org = stable_id("identity", "organization", organization)
    return org, stable_id("identity", "system", organization, observer)


def extension_definitions(created_by: str) -> list[dict[str, Any]]:
    common = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "created_by_ref": created_by,
        "created": PRODUCER_CREATED,
        "modified": PRODUCER_CREATED,
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    return [
        {
            **common,
            "id": PROBE_EXTENSION,
            "name": "c2-liveness-probe",
            "description": "Active liveness probe results (ICMP echo / HTTP GET) attached to network-traffic SCOs",
            "schema": "https://example.org/stix/c2-liveness-probe/v1/schema.json",
        },
        {
            **common,
            "id": DETAILS_EXTENSION,
            "name": "c2watch-probe-details",
            "description": "c2watch probe details: error kinds, response headers, body and certificate hashes",
            "schema": "https://example.org/stix/c2watch-probe-details/v1/schema.json",
        },
    ]
