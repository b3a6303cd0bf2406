"""Whose key signs what: observers' public keys with their owners, the check of a record against them, and the
endorsement that carries trust from an observer's key to its next one (rotation).

A record (observed-data or sighting) is attributed to the organisation and observer of the key that signed it, and
only if they are the ones the record names: ``created_by_ref`` the key's organisation, the details extension's
``observer_ref`` (and a sighting's ``where_sighted_refs``) the key's observer. A key revoked at T still vouches
for records created before T; a record it signed created at or after T is refused (``revoked``).

An endorsement is a signature by an observer's current key over its next public key::

    {"by": "<key id of the endorsing key>", "value": "<base64 signature>"}

over the RFC 8785 canonical JSON of ``{"purpose": "c2watch-key-endorsement", "observer_ref": …, "public_key": …}``.
Whoever pinned the current key can then trust the next one without asking anyone (docs/sharing.md, trust model).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from c2watch.errors import InputError
from c2watch.stix.keys import parse_public_key, public_key_text
from c2watch.stix.signing import Check, key_id, signature_of, verify
from c2watch.stix.vocab import DETAILS_EXTENSION

__all__ = ["SIGNED_TYPES", "KeyRecord", "Keyring", "Refusal", "endorse", "endorsed_by", "record_observer"]

SIGNED_TYPES = frozenset({"observed-data", "sighting"})
_PURPOSE = "c2watch-key-endorsement"


@dataclass(frozen=True)
class KeyRecord:
    """One observer key and whom it belongs to. ``source``: on a hub ``registered`` (by the operator),
    ``enrolled`` (first push) or ``endorsed`` (rotation); on an agent ``hub`` (pinned on first sight), ``endorsed``
    or ``given`` (by hand)."""

    key_id: str
    public_key: str
    org_identity: str
    organization: str
    observer_ref: str
    valid_from: dt.datetime
    revoked_at: dt.datetime | None = None
    source: str = ""
    endorsement: Mapping[str, Any] | None = None

    def public(self) -> Ed25519PublicKey:
        return parse_public_key(self.public_key)

    def revoked_before(self, when: dt.datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= when

    def as_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "public_key": self.public_key,
            "org_identity": self.org_identity,
            "organization": self.organization,
            "observer_ref": self.observer_ref,
            "valid_from": _stamp(self.valid_from),
            "revoked_at": _stamp(self.revoked_at) if self.revoked_at else None,
            "endorsement": dict(self.endorsement) if self.endorsement else None,
        }


@dataclass(frozen=True)
class Refusal:
    """A record refused because its signature did not hold: ``reason`` is the :class:`Check` outcome."""

    object_id: str
    observer_ref: str | None
    key_id: str | None
    reason: str


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(dt.UTC)


def key_record_from_json(value: Any, source: str) -> KeyRecord:
    """A published key (``as_json``); :class:`InputError` for anything malformed, or a key id that is not its
    key's."""
    try:
        public = parse_public_key(value["public_key"])
        record = KeyRecord(
            str(value["key_id"]),
            public_key_text(public),
            str(value["org_identity"]),
            str(value.get("organization") or ""),
            str(value["observer_ref"]),
            _time(value["valid_from"]),
            _time(value["revoked_at"]) if value.get("revoked_at") else None,
            source,
            value.get("endorsement") if isinstance(value.get("endorsement"), Mapping) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not a published observer key: {exc}") from None
    if record.key_id != key_id(public):
        raise InputError(f"key id {record.key_id!r} is not the id of its public key")
    return record


def record_observer(obj: Mapping[str, Any]) -> Any:
    """The observer a record names (its details extension's ``observer_ref``)."""
    details = obj.get("extensions", {}).get(DETAILS_EXTENSION) if isinstance(obj.get("extensions"), Mapping) else None
    return details.get("observer_ref") if isinstance(details, Mapping) else None


def _names_signer(obj: Mapping[str, Any], key: KeyRecord) -> bool:
    if obj.get("created_by_ref") != key.org_identity or record_observer(obj) != key.observer_ref:
        return False
    return obj.get("type") != "sighting" or obj.get("where_sighted_refs") == [key.observer_ref]


class Keyring:
    """The keys a hub or an agent trusts, by key id, and the observers that have one."""

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self.records = {r.key_id: r for r in records}
        self._public = {r.key_id: r.public() for r in self.records.values()}
        self.observers = {r.observer_ref for r in self.records.values()}

    def check(self, obj: Mapping[str, Any], refs: Mapping[str, Mapping[str, Any]] | None = None) -> Check:
        """``verify`` against these keys, then attribution: ``not-the-signer`` when the record names another
        organisation or observer than the key's, ``revoked`` when created at or after the key's revocation."""
        check = verify(obj, self._public, refs)
        if not check.valid:
            return check
        key = self.records[str(check.key)]
        if not _names_signer(obj, key):
            return Check("not-the-signer", key.key_id)
        try:
            created = _time(obj.get("created"))
        except ValueError:
            return Check("malformed", key.key_id)
        return Check("revoked", key.key_id) if key.revoked_before(created) else check

    def judge(self, obj: Mapping[str, Any], refs: Mapping[str, Mapping[str, Any]] | None = None) -> Check:
        """:meth:`check`, with the policy for unsigned records: accepted (``unsigned``, as agents before signing
        made them) only while the observer they name has no key here; refused (``unsigned-refused``) after."""
        check = self.check(obj, refs)
        if check.outcome == "unsigned" and record_observer(obj) in self.observers:
            return Check("unsigned-refused")
        return check


def _endorsed_text(observer_ref: str, public_key: str) -> bytes:
    return bytes(rfc8785.dumps({"purpose": _PURPOSE, "observer_ref": observer_ref, "public_key": public_key}))


def endorse(current: Ed25519PrivateKey, observer_ref: str, new_public_key: str) -> dict[str, str]:
    """``current``'s endorsement of ``new_public_key`` as the same observer's next key."""
    value = current.sign(_endorsed_text(observer_ref, new_public_key))
    return {"by": key_id(current.public_key()), "value": base64.b64encode(value).decode("ascii")}


def endorsed_by(record: KeyRecord, trusted: Iterable[KeyRecord]) -> KeyRecord | None:
    """The key among ``trusted`` (the same observer's) whose endorsement ``record`` carries, if it verifies."""
    endorsement = record.endorsement or {}
    by = next((t for t in trusted if t.key_id == endorsement.get("by") and t.observer_ref == record.observer_ref), None)
    if by is None or not isinstance(endorsement.get("value"), str):
        return None
    try:
        by.public().verify(
            base64.b64decode(endorsement["value"], validate=True),
            _endorsed_text(record.observer_ref, record.public_key),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return None
    return by


def signed_type(obj: Any) -> bool:
    return isinstance(obj, Mapping) and obj.get("type") in SIGNED_TYPES and signature_of(obj) is not None
