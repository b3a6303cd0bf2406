"""Add objects to a collection: parse the envelope, check each object, keep the valid ones (an identical re-post is
a success), index observations for the dashboard, and return the TAXII status resource."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from c2watch.stix.ingest import records_from_objects
from c2watch.stix.validate import SCO_VERSION, check_object, object_version
from c2watch.store import TokenInfo
from c2watch.store.shared import index_records
from c2watch.store.taxii import NewObjects, add_objects, find_existing, save_status
from c2watch.taxii.collections import OBSERVATIONS, CollectionDef
from c2watch.taxii.errors import TaxiiError

__all__ = ["Outcome", "parse_envelope", "store_envelope"]


@dataclass
class Outcome:
    status_id: str
    total: int
    successes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    indexed: int = 0


def parse_envelope(body: bytes) -> list[Any]:
    """The ``objects`` of a TAXII envelope; 400 with the reason for anything else."""
    try:
        envelope = orjson.loads(body)
    except (orjson.JSONDecodeError, ValueError, UnicodeDecodeError) as exc:
        raise TaxiiError(400, "Malformed JSON", str(exc)[:300]) from exc
    if not isinstance(envelope, dict):
        raise TaxiiError(400, "Not an envelope", 'expected a JSON object {"objects": [...]}')
    if envelope.get("type") == "bundle":
        raise TaxiiError(400, "A bundle is not an envelope", 'POST {"objects": [...]}, not a STIX bundle')
    objects = envelope.get("objects")
    if not isinstance(objects, list):
        raise TaxiiError(400, "Not an envelope", "the envelope has no 'objects' list")
    return objects


def _entry(obj: Any, version: str | None = None, message: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": str(obj.get("id", "")) if isinstance(obj, dict) else ""}
    if version and version != "-":
        entry["version"] = version
    if message:
        entry["message"] = message
    return entry


Valid = dict[tuple[str, str], tuple[dict[str, Any], str]]


def _sort(objects: list[Any], token: TokenInfo, outcome: Outcome) -> Valid:
    """Valid objects by (id, version) with their canonical JSON, in one pass over the envelope; refusals go to
    ``outcome.failures``."""
    valid: Valid = {}
    org_identity, failures, dumps = token.org_identity, outcome.failures, orjson.dumps
    for obj in objects:
        reason = check_object(obj, org_identity)
        if reason is not None:
            failures.append(_entry(obj, message=reason))
            continue
        valid[(obj["id"], object_version(obj))] = (obj, dumps(obj).decode())
    return valid


def _new_objects(collection: CollectionDef, token: TokenInfo, valid: Valid, now: dt.datetime) -> NewObjects:
    items = [
        (object_id, obj["type"], version, str(obj.get("spec_version", "2.1")), body)
        for (object_id, version), (obj, body) in valid.items()
    ]
    return NewObjects(collection.id, token.org_pk, now, items)


def _judge_repeats(
    conn: sa.Connection, collection: CollectionDef, valid: Valid, repeats: list[tuple[str, str]], outcome: Outcome
) -> None:
    """An object already stored under the same id and version: a success when identical (SCOs always are, by
    their deterministic ids), a failure when it differs."""
    versioned = [key for key in repeats if key[1] != SCO_VERSION]
    existing = find_existing(conn, collection.id, versioned) if versioned else {}
    for key in repeats:
        obj, body = valid[key]
        stored = existing.get(key)
        if stored is None or stored == body or orjson.loads(stored) == obj:
            outcome.successes.append(_entry(obj, key[1]))
        else:
            outcome.failures.append(_entry(obj, key[1], "a different object with this id and version exists"))


def store_envelope(
    conn: sa.Connection, collection: CollectionDef, token: TokenInfo, objects: list[Any], now: dt.datetime
) -> Outcome:
    """Store what is valid and new; everything in one transaction (the caller's)."""
    outcome = Outcome(str(uuid.uuid4()), len(objects))
    valid = _sort(objects, token, outcome)
    inserted = add_objects(conn, _new_objects(collection, token, valid, now))
    outcome.successes.extend(_entry(valid[key][0], key[1]) for key in valid if key in inserted)
    _judge_repeats(conn, collection, valid, [key for key in valid if key not in inserted], outcome)
    if collection is OBSERVATIONS and inserted:
        context = {obj["id"]: obj for obj, _ in valid.values()}
        outcome.indexed = index_records(conn, records_from_objects(context), now)
    save_status(conn, outcome.status_id, token.org_pk, now, outcome.total, outcome.successes, outcome.failures)
    return outcome
