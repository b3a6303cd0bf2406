"""Add objects to a collection: parse the envelope, check each object and who may write it, keep the valid ones (an
identical re-post is a success), index observations for the dashboard (and open the judge's gathering), and return
the TAXII status resource."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import sqlalchemy as sa

from c2watch.stix.ingest import records_from_objects
from c2watch.stix.trust import SIGNED_TYPES, Keyring, record_observer
from c2watch.stix.validate import SCO_VERSION, check_object, object_version
from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import TokenInfo
from c2watch.store.gathering import arrived
from c2watch.store.keys import list_keys
from c2watch.store.shared import index_records
from c2watch.store.taxii import NewObjects, add_objects, find_existing, owners, save_status
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


def _sort(objects: list[Any], token: TokenInfo, outcome: Outcome, max_bytes: int | None = None) -> Valid:
    """Valid objects by (id, version) with their canonical JSON, in one pass over the envelope; refusals (and
    objects whose JSON is over ``max_bytes``) go to ``outcome.failures``."""
    valid: Valid = {}
    org_identity, failures, dumps = token.org_identity, outcome.failures, orjson.dumps
    for obj in objects:
        reason = check_object(obj, org_identity)
        if reason is not None:
            failures.append(_entry(obj, message=reason))
            continue
        body = dumps(obj)
        if max_bytes is not None and len(body) > max_bytes:
            failures.append(_entry(obj, message=f"object of {len(body)} bytes; the hub takes at most {max_bytes}"))
            continue
        valid[(obj["id"], object_version(obj))] = (obj, body.decode())
    return valid


def _refuse(valid: Valid, key: tuple[str, str], outcome: Outcome, message: str) -> None:
    obj, _ = valid.pop(key)
    outcome.failures.append(_entry(obj, key[1], message))


def _foreign_versions(
    conn: sa.Connection, collection: CollectionDef, token: TokenInfo, valid: Valid, owner: dict[str, int | None]
) -> list[tuple[str, str]]:
    """Keys of objects whose id another organisation posted first, unless identical to what is stored (a shared
    campaign or a re-post of the same version is a repeat, not a rewrite)."""
    foreign = [key for key in valid if owner.get(key[0]) not in (None, token.org_pk) and key[1] != SCO_VERSION]
    stored = find_existing(conn, collection.id, foreign) if foreign else {}
    return [key for key in foreign if stored.get(key) is None or orjson.loads(stored[key]) != valid[key][0]]


def _organization_claim(obj: dict[str, Any], token: TokenInfo) -> bool:
    """An organisation identity other than the poster's own, as the hub registered it."""
    if obj.get("type") != "identity" or obj.get("identity_class") != "organization":
        return False
    return obj["id"] != token.org_identity or obj.get("name") != token.organization


def _observer_ref(obj: dict[str, Any]) -> Any:
    details = obj.get("extensions", {}).get(DETAILS_EXTENSION)
    return details.get("observer_ref") if isinstance(details, dict) else None


def _check_claims(
    conn: sa.Connection, collection: CollectionDef, token: TokenInfo, valid: Valid, outcome: Outcome
) -> None:
    """Ownership (docs/sharing.md, trust model): an object id belongs to the organisation that posted it first;
    organisation identities are the hub's; an observation's observer is one of the posting organisation's."""
    refs = {
        r for obj, _ in valid.values() if obj["type"] == "observed-data" and isinstance(r := _observer_ref(obj), str)
    }
    owner = owners(conn, collection.id, [key[0] for key in valid] + sorted(refs))
    for key in _foreign_versions(conn, collection, token, valid, owner):
        _refuse(valid, key, outcome, "this object belongs to another organisation")
    for key in [k for k, (obj, _) in valid.items() if _organization_claim(obj, token)]:
        _refuse(valid, key, outcome, "organisation identities are written by the hub only")
    posted = {k[0] for k, (obj, _) in valid.items() if obj["type"] == "identity"}
    for key in [k for k, (obj, _) in valid.items() if obj["type"] == "observed-data"]:
        ref = _observer_ref(valid[key][0])
        if not (owner.get(ref) == token.org_pk or (ref in posted and owner.get(ref) is None)):
            _refuse(valid, key, outcome, f"observer_ref {ref!r} is not an observer of the posting organisation")


def _referred(conn: sa.Connection, collection: CollectionDef, valid: Valid) -> dict[str, dict[str, Any]]:
    """The envelope's objects by id, and the stored SCOs its observed-data refers to but the envelope lacks."""
    context = {obj["id"]: obj for obj, _ in valid.values()}
    wanted = {
        ref for obj in list(context.values()) if obj["type"] == "observed-data" for ref in obj.get("object_refs", [])
    }
    missing = [(ref, SCO_VERSION) for ref in wanted - context.keys() if isinstance(ref, str)]
    stored = find_existing(conn, collection.id, missing) if missing else {}
    context.update({object_id: orjson.loads(body) for (object_id, _), body in stored.items()})
    return context


def _check_signatures(
    conn: sa.Connection, collection: CollectionDef, valid: Valid, outcome: Outcome, now: dt.datetime
) -> None:
    """Every observed-data and sighting is signed by a key registered for the observer it names (docs/sharing.md,
    trust model), made before that key's revocation and posted before it too; unsigned ones only while their
    observer has no key."""
    signed = [key for key, (obj, _) in valid.items() if obj["type"] in SIGNED_TYPES]
    if not signed:
        return
    observers = {r for key in signed if isinstance(r := record_observer(valid[key][0]), str)}
    keyring = Keyring(list_keys(conn, sorted(observers)))
    context = _referred(conn, collection, valid)
    for key in signed:
        check = keyring.judge(valid[key][0], context)
        record = keyring.records.get(check.key or "")
        if check.valid and record is not None and record.revoked_before(now):
            _refuse(valid, key, outcome, f"signature: key {record.key_id} was revoked before this post")
        elif not check.valid and check.outcome != "unsigned":
            _refuse(valid, key, outcome, f"signature: {check.outcome}" + (f" (key {check.key})" if check.key else ""))


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
    conn: sa.Connection,
    collection: CollectionDef,
    token: TokenInfo,
    objects: list[Any],
    now: dt.datetime,
    max_object_bytes: int | None = None,
) -> Outcome:
    """Store what is valid, new and at most ``max_object_bytes`` (JSON) each; everything in one transaction (the
    caller's)."""
    outcome = Outcome(str(uuid.uuid4()), len(objects))
    valid = _sort(objects, token, outcome, max_object_bytes)
    _check_claims(conn, collection, token, valid, outcome)
    if collection is OBSERVATIONS:
        _check_signatures(conn, collection, valid, outcome, now)
    inserted = add_objects(conn, _new_objects(collection, token, valid, now))
    outcome.successes.extend(_entry(valid[key][0], key[1]) for key in valid if key in inserted)
    _judge_repeats(conn, collection, valid, [key for key in valid if key not in inserted], outcome)
    if collection is OBSERVATIONS and inserted:
        context = {obj["id"]: obj for obj, _ in valid.values()}
        records = [replace(r, org_name=token.organization) for r in records_from_objects(context)]  # as registered
        outcome.indexed = index_records(conn, records, now)
        arrived(conn, now)  # the judge's gathering, seen by every replica (docs/sharing.md)
    save_status(conn, outcome.status_id, token.org_pk, now, outcome.total, outcome.successes, outcome.failures)
    return outcome
