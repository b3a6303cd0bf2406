"""Read observations back out of STIX: an ``observed-data`` of ours plus the objects it refers to become the
observation record the dashboard and reports use. Objects of other producers are kept but not indexed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeGuard

from c2watch.models.observation import SharedRecord
from c2watch.models.probes import AnyResult, HttpFields, HttpResult, PingFields, PingResult, ProbeResult
from c2watch.models.rows import probe_columns
from c2watch.stix.vocab import DETAILS_EXTENSION, PROBE_EXTENSION, THREAT_ID_SOURCE
from c2watch.text import is_clean

__all__ = ["SharedRecord", "parse_time", "records_from_objects"]


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _threat_id(observed: Mapping[str, Any]) -> str | None:
    for ref in observed.get("external_references", []):
        if ref.get("source_name") == THREAT_ID_SOURCE and ref.get("external_id"):
            return str(ref["external_id"])
    return None


def _ping(traffic: Mapping[str, Any], ext: Any, values: Mapping[str, str], observed_at: dt.datetime) -> PingResult:
    """``ext`` (like ``details`` below) is another producer's, unchecked: the row builder fits its values."""
    fields: PingFields = {
        "address": values.get(traffic.get("dst_ref", "")),
        "sent": ext.get("packets_sent"),
        "received": ext.get("packets_received"),
        "loss_pct": ext.get("packet_loss_pct"),
        "rtt_avg_ms": ext.get("rtt_avg_ms"),
        "ttl": ext.get("reply_ttl"),
    }
    return ProbeResult("icmp", ext.get("result"), observed_at, 0.0, fields)


def _http(traffic: Mapping[str, Any], ext: Any) -> HttpResult:
    details: Any = traffic.get("extensions", {}).get(DETAILS_EXTENSION, {})
    start = parse_time(traffic["start"])
    elapsed = (parse_time(traffic["end"]) - start).total_seconds() * 1000
    fields: HttpFields = {
        "status": ext.get("http_status_code", details.get("status")),
        "reason": ext.get("http_reason_phrase", details.get("reason")),
        "error": details.get("error"),
        "server": details.get("server"),
        "content_type": details.get("content_type"),
        "body_bytes": details.get("body_bytes"),
        "body_sha256": details.get("body_sha256"),
        "location": details.get("location"),
        "cert_sha256": details.get("cert_sha256"),
    }
    return ProbeResult("http", ext.get("result"), start, round(elapsed, 3), fields)


def _probe_results(
    observed: Mapping[str, Any],
    objects: Mapping[str, Mapping[str, Any]],
    values: Mapping[str, str],
    observed_at: dt.datetime,
) -> dict[str, AnyResult]:
    """The ICMP and HTTP results of an observed-data, read back from its network-traffic objects."""
    results: dict[str, AnyResult] = {}
    for ref in observed.get("object_refs", []):
        traffic = objects.get(ref, {})
        ext = traffic.get("extensions", {}).get(PROBE_EXTENSION)
        if traffic.get("type") != "network-traffic" or not ext:
            continue
        if ext.get("probe") == "icmp-echo":
            results["icmp"] = _ping(traffic, ext, values, observed_at)
        elif ext.get("probe") == "http-get":
            results["http"] = _http(traffic, ext)
    return results


def _short(value: Any, limit: int) -> TypeGuard[str]:
    """An identifying string: not empty, at most ``limit`` characters, nothing to escape."""
    return isinstance(value, str) and 0 < len(value) <= limit and is_clean(value)


def _record(
    observed: Mapping[str, Any], objects: Mapping[str, Mapping[str, Any]], values: Mapping[str, str]
) -> SharedRecord | None:
    details = observed.get("extensions", {}).get(DETAILS_EXTENSION)
    threat_id = _threat_id(observed)
    if not details or not _short(threat_id, 200) or not _short(details.get("target_key"), 2400):
        return None
    if not _short(details.get("observer_ref"), 64) or not isinstance(observed.get("created_by_ref", ""), str):
        return None
    observer = objects.get(details["observer_ref"], {})
    org = objects.get(observed.get("created_by_ref", ""), {})
    observed_at = parse_time(observed["first_observed"])
    row = {
        "threat_id": threat_id,
        "observed_at": observed_at,
        "simulated": bool(details.get("simulated", False)),
        "outcome": details.get("outcome", "unknown"),
        "probed_kind": details.get("probed_kind", "ip"),
        "probed_value": details.get("probed_value", ""),
        "resolved": details.get("resolved"),
        "stix_id": observed["id"],
        **probe_columns(_probe_results(observed, objects, values, observed_at)),
    }
    if isinstance(details.get("fitted"), dict):  # how its producer fitted values (the store adds its own)
        row["details"] = {"fitted": details["fitted"]}
    if _short(details.get("egress"), 32):  # the opaque label of the proxy it went through
        row.setdefault("details", {})["egress"] = details["egress"]
    return SharedRecord(
        threat_id,
        details["target_key"],
        observed.get("created_by_ref", ""),
        details["observer_ref"],
        str(observer.get("name") or details["observer_ref"]),
        str(org.get("name") or observed.get("created_by_ref", "")),
        row,
    )


def records_from_objects(objects: Mapping[str, Mapping[str, Any]]) -> list[SharedRecord]:
    """Every observation record among ``objects`` (id → object), skipping observed-data that is not ours or that
    cannot be read as ours (another producer's, or a malformed one: it is stored all the same, never indexed)."""
    records = []
    values = {oid: str(obj["value"]) for oid, obj in objects.items() if "value" in obj}
    for obj in objects.values():
        if obj.get("type") == "observed-data":
            try:
                record = _record(obj, objects, values)
            except (AttributeError, KeyError, TypeError, ValueError):  # not shaped as ours: kept, not indexed
                continue
            if record is not None:
                records.append(record)
    return records
