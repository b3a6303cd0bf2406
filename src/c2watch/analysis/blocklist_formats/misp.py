"""A MISP feed directory (what MISP's "Feeds" fetch, and what PyMISP loads): ``manifest.json`` naming every event,
one ``<event uuid>.json`` per threat ID and ``hashes.csv`` (MD5 of each attribute value, for MISP's feed cache).

An event holds the threat ID's deny-list values as attributes (``ip-dst``, ``domain``, ``url``; ``to_ids`` true
for the kept list, false for the removable one), tagged with their statuses, ``first_seen``/``last_seen`` from the
evidence, and sightings: a sighting (type 0) at the last answer, and for a removable value an expiration sighting
(type 2) at its ``valid_until``. UUIDs are derived from the organisation, threat ID and value, so a new export
updates the same events and attributes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from c2watch.analysis.blocklist import Entry

__all__ = ["ATTRIBUTE_TYPES", "feed_files", "write_feed"]

ATTRIBUTE_TYPES = {"ip": "ip-dst", "domain": "domain", "url": "url"}
_NAMESPACE = uuid.UUID("0b6d3a4e-5c1f-4b7a-9e2d-8f3c6a1b2d40")  # c2watch's MISP feed namespace


def _epoch(moment: dt.datetime) -> str:
    return str(int(moment.timestamp()))


def _org(name: str, identity: str) -> dict[str, str]:
    return {"name": name, "uuid": identity.partition("--")[2] or str(uuid.uuid5(_NAMESPACE, name))}


def _sightings(entry: Entry, attribute_uuid: str, org: dict[str, str]) -> list[dict[str, Any]]:
    found = []
    if entry.last_answer_at is not None:
        found.append(("0", entry.last_answer_at))
    if not entry.keep:
        found.append(("2", entry.valid_until))
    return [
        {
            "uuid": str(uuid.uuid5(_NAMESPACE, f"{attribute_uuid}|{kind}|{_epoch(at)}")),
            "type": kind,
            "date_sighting": _epoch(at),
            "source": "c2watch",
            "Organisation": org,
        }
        for kind, at in found
    ]


def _attribute(entry: Entry, event_uuid: str, org: dict[str, str], now: dt.datetime) -> dict[str, Any]:
    attribute_uuid = str(uuid.uuid5(_NAMESPACE, f"{event_uuid}|{entry.kind}|{entry.value}"))
    attribute: dict[str, Any] = {
        "uuid": attribute_uuid,
        "type": ATTRIBUTE_TYPES[entry.kind],
        "category": "Network activity",
        "value": entry.value,
        "to_ids": entry.keep,
        "comment": (f"{entry.reason} ({entry.note})" if entry.note else entry.reason)[:1000],
        "timestamp": _epoch(now),
        "first_seen": entry.valid_from.isoformat(),
        "Tag": [{"name": f'c2watch:status="{status}"'} for status in entry.statuses],
        "Sighting": _sightings(entry, attribute_uuid, org),
    }
    if entry.last_answer_at is not None and entry.last_answer_at >= entry.valid_from:
        attribute["last_seen"] = entry.last_answer_at.isoformat()
    return attribute


def _event(
    threat_id: str, entries: Sequence[Entry], org: dict[str, str], removable: bool, now: dt.datetime
) -> dict[str, Any]:
    event_uuid = str(uuid.uuid5(_NAMESPACE, f"{org['uuid']}|{threat_id}"))
    mode = "may leave the deny list" if removable else "stay on the deny list"
    return {
        "uuid": event_uuid,
        "info": f"c2watch: C2 destinations of {threat_id} that {mode}",
        "date": min(entry.valid_from for entry in entries).date().isoformat(),
        "timestamp": _epoch(now),
        "publish_timestamp": _epoch(now),
        "published": True,
        "analysis": "2",
        "threat_level_id": "2",
        "Orgc": org,
        "Tag": [{"name": "c2watch"}, {"name": f'c2watch:threat-id="{threat_id}"'}],
        "Attribute": [_attribute(entry, event_uuid, org, now) for entry in entries],
    }


def _manifest_entry(event: dict[str, Any]) -> dict[str, Any]:
    keys = ("info", "date", "timestamp", "analysis", "threat_level_id", "Orgc", "Tag")
    return {key: event[key] for key in keys}


def feed_files(
    entries: Sequence[Entry], org_name: str, org_identity: str, removable: bool, now: dt.datetime
) -> dict[str, str]:
    """File name → text of the feed: ``manifest.json``, one event file per threat ID, ``hashes.csv``."""
    org = _org(org_name, org_identity)
    by_threat: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        for threat_id in entry.threat_ids:
            by_threat[threat_id].append(entry)
    events = [_event(threat, by_threat[threat], org, removable, now) for threat in sorted(by_threat)]
    files = {f"{e['uuid']}.json": json.dumps({"Event": e}, indent=1, ensure_ascii=False) + "\n" for e in events}
    files["manifest.json"] = json.dumps({e["uuid"]: _manifest_entry(e) for e in events}, indent=1) + "\n"
    hashes = [
        f"{hashlib.md5(a['value'].encode(), usedforsecurity=False).hexdigest()},{e['uuid']}\n"
        for e in events
        for a in e["Attribute"]
    ]
    files["hashes.csv"] = "".join(hashes)
    return files


def write_feed(directory: Path, files: dict[str, str]) -> None:
    """Write the feed's files into ``directory`` (created when missing); the manifest last, so a reader that
    polls it never names an event not yet written."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items(), key=lambda item: item[0] == "manifest.json"):
        (directory / name).write_text(text, encoding="utf-8")
