"""Checks on each posted object: enough of STIX 2.1 to store it safely, and provenance (``created_by_ref`` must be
the posting organisation). A bad object is reported in the status resource; the others of the envelope are kept."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from c2watch.stix.vocab import taxii_timestamp

__all__ = ["SCO_TYPES", "SCO_VERSION", "check_object", "object_version"]

SCO_VERSION = "-"
"""The version of an object that has none (SCOs): stored as such, so every version compares as text."""

SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
_TYPE = re.compile(r"[a-z][a-z0-9-]{1,248}[a-z0-9]\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


@lru_cache(maxsize=4096)
def _canonical(value: str) -> str | None:
    """An RFC 3339 UTC timestamp ending in Z in one canonical form (microseconds), or ``None`` if it is not one.
    Cached: the objects of an envelope share a handful of timestamps."""
    if not value.endswith("Z"):
        return None
    try:
        stamp = dt.datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        return None
    return taxii_timestamp(stamp)


def _timestamp(value: Any) -> str | None:
    return _canonical(value) if isinstance(value, str) and len(value) <= 40 else None  # nothing long is cached


def object_version(obj: dict[str, Any]) -> str:
    """``modified`` (else ``created``) in one canonical form, so versions compare as text; SCOs have none."""
    return _timestamp(obj.get("modified") or obj.get("created")) or SCO_VERSION


def _check_shape(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return "not a JSON object"
    kind, ident = obj.get("type"), obj.get("id")
    if not isinstance(kind, str) or not _TYPE.match(kind):
        return "missing or invalid 'type'"
    if not isinstance(ident, str) or not ident.startswith(kind + "--"):
        return "missing 'id' or it does not start with its type"
    if not _UUID.match(ident, len(kind) + 2):
        return f"id {ident!r} does not end in a UUID"
    return None


def _check_sdo(obj: dict[str, Any]) -> str | None:
    if obj.get("spec_version") != "2.1":
        return "spec_version must be '2.1'"
    for prop in ("created", "modified"):
        if _timestamp(obj.get(prop)) is None:
            return f"'{prop}' must be an RFC 3339 UTC timestamp ending in Z"
    return None


def _check_provenance(obj: dict[str, Any], org_identity: str) -> str | None:
    creator = obj.get("created_by_ref")
    if creator is not None:
        return None if creator == org_identity else f"created_by_ref {creator!r} is not the posting organisation"
    if obj["type"] in SCO_TYPES or obj["type"] == "campaign" or obj["id"] == org_identity:
        return None
    return "created_by_ref is required (the posting organisation's identity)"


def check_object(obj: Any, org_identity: str) -> str | None:
    """Why ``obj`` is refused, or ``None`` when it may be stored."""
    reason = _check_shape(obj)
    if reason is None and obj["type"] not in SCO_TYPES:
        reason = _check_sdo(obj)
    if reason is None:
        reason = _check_provenance(obj, org_identity)
    return reason
