"""The agent's side of observer keys, at each sync: enrol its own key with the hub (trust on first use, or
endorsed by its previous key after a rotation), then read the keys the hub publishes and pin them
(:mod:`c2watch.stix.pinning`), so that every pulled record is checked against keys pinned here."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from c2watch.errors import InputError
from c2watch.stix.exchange import check_bundle
from c2watch.stix.keys import public_key_text
from c2watch.stix.observation import Producer
from c2watch.stix.pinning import bind_given_keys, pin_published, screen
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord, Keyring, Refusal, key_record_from_json
from c2watch.stix.vocab import identity_ids
from c2watch.store import Store
from c2watch.taxii.client import HubClient, HubRefused

__all__ = ["ImportReport", "enrol_own_key", "import_records", "learn_keys", "own_key_record"]

log = logging.getLogger(__name__)


class Report(Protocol):
    keys: dict[str, Any]


def own_key_record(producer: Producer, now: dt.datetime) -> KeyRecord | None:
    if producer.key is None:
        return None
    public = producer.key.public_key()
    return KeyRecord(
        key_id(public),
        public_key_text(public),
        producer.org_identity,
        producer.org_name,
        producer.system_identity,
        now,
        source="own",
        endorsement=producer.endorsement,
    )


async def enrol_own_key(store: Store, hub: HubClient, producer: Producer, report: Report) -> None:
    """Pin our own key here and enrol it with the hub; a hub that refuses is reported, not fatal (the push then
    shows which records it refused)."""
    record = own_key_record(producer, store.clock())
    if record is None:
        return
    try:
        await asyncio.to_thread(store.keys.add, record)
    except InputError as exc:
        report.keys["own"] = str(exc)
    enrolment: dict[str, Any] = {"observer": producer.observer_name, "public_key": record.public_key}
    if producer.endorsement:
        enrolment["endorsement"] = dict(producer.endorsement)
    try:
        answer = await hub.enrol_key(enrolment)
    except HubRefused as exc:
        log.warning("the hub did not enrol this observer's key: %s", exc)
        report.keys["enrolment"] = "refused" if exc.status == 409 else f"unsupported ({exc.status})"
        return
    report.keys["enrolment"] = str(answer.get("status", "?"))


def _published(values: list[Any], report: Report) -> list[KeyRecord]:
    records, bad = [], 0
    for value in values:
        try:
            records.append(key_record_from_json(value, "hub"))
        except InputError:
            bad += 1
    if bad:
        report.keys["malformed"] = bad
    return records


async def learn_keys(store: Store, hub: HubClient, report: Report) -> Keyring:
    """Pin what the hub publishes that may be trusted; the keyring every pulled record is checked against."""
    published = _published(await hub.observer_keys(), report)
    pinning = pin_published(store.keys.records(), published)
    for record in pinning.new:
        await asyncio.to_thread(store.keys.add, record)
    for key, at in pinning.revocations:
        await asyncio.to_thread(store.keys.revoke, key, at)
    for record, reason in pinning.untrusted:
        log.warning("hub %s: observer key %s not trusted: %s", hub.api_root, record.key_id, reason)
    report.keys.update(
        {"pinned": len(pinning.new), "revoked": len(pinning.revocations), "untrusted": len(pinning.untrusted)}
    )
    return Keyring(store.keys.records())


@dataclass
class ImportReport:
    accepted: int = 0
    indexed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def import_records(
    store: Store, objects: list[Any], organization: str, given: list[Ed25519PublicKey], origin: str
) -> ImportReport:
    """Index another organisation's exchange file as the hub would take it (its objects, ``created_by_ref`` that
    organisation), keeping only the records whose signature holds against the keys pinned here and ``given``
    (pinned now, each bound to the observer whose records it signs)."""
    checked = check_bundle(objects, identity_ids(organization, "")[0])
    now = store.clock()
    for record in bind_given_keys(given, checked.accepted, identity_ids(organization, "")[0], organization, now):
        store.keys.add(record)
    kept, refusals = screen(checked.accepted, checked.accepted, Keyring(store.keys.records()))
    store.keys.save_refusals(origin, refusals)
    indexed = store.observations.index_shared(dict(kept))
    return ImportReport(len(checked.accepted) - len(refusals), indexed, checked.failures, refusals)
