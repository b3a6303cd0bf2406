"""Signed observations: an observer's Ed25519 signature over the RFC 8785 canonical JSON of each record it makes.

The signature travels inside the object, in the c2watch details extension (``DETAILS_EXTENSION``)::

    "signature": {"alg": "Ed25519", "key": "<key id>", "value": "<base64 of 64 bytes>"}

and covers the whole object as canonical JSON (RFC 8785: :mod:`c2watch.stix.canonical`, the bytes of the ``rfc8785``
package) *without* that ``signature`` member. An observed-data's probe results live in the objects it refers to
(network-traffic and the addresses and names probed), so before signing, the SHA-256 of each referred object's
canonical JSON is written into the same extension (``signed_refs``: id -> digest): the signature covers them too.
The key id is the SHA-256 of the raw 32-byte public key, in hexadecimal, cut to 32 characters: whoever holds the
public key can recompute it. A record altered anywhere after signing (on the hub, in its database, in transit, in an
exchange file) no longer verifies; a record signed by a key that is unknown, or revoked before the record was
created, is refused by the caller's policy (:func:`verify` says which).

What a signature proves: the holder of that observer's private key made this record, unchanged since. What it does
not: that the observer saw what it says (an organisation can lie about its own observer's results).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from c2watch.stix.canonical import canonical_json
from c2watch.stix.vocab import DETAILS_EXTENSION

__all__ = ["ALGORITHM", "Check", "key_id", "sign", "signature_of", "verify"]

ALGORITHM = "Ed25519"


@dataclass(frozen=True)
class Check:
    """The outcome of checking one object: ``valid``, ``unsigned``, ``unknown-key``, ``malformed``, ``invalid``
    (the object or an object it refers to was changed) or ``incomplete`` (an object it refers to is missing)."""

    outcome: str
    key: str | None = None

    @property
    def valid(self) -> bool:
        return self.outcome == "valid"


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


@functools.lru_cache(maxsize=16)
def _signer(private_key: Ed25519PrivateKey) -> str:
    """The key id of a signing key (asked for every record signed; keys hash by identity)."""
    return key_id(private_key.public_key())


def _unsigned(obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without its signature member (copies of the dicts on the way to it: the caller's object is never
    changed, and the rest is shared, as canonical JSON only reads it)."""
    bare = dict(obj)
    extensions = bare.get("extensions")
    if not isinstance(extensions, dict):
        return bare
    details = extensions.get(DETAILS_EXTENSION)
    if isinstance(details, dict) and "signature" in details:
        details = dict(details)
        del details["signature"]
        bare["extensions"] = {**extensions, DETAILS_EXTENSION: details}
    return bare


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return canonical_json(_unsigned(obj))


def _digest(obj: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(obj))).hexdigest()


def sign(
    obj: dict[str, Any], private_key: Ed25519PrivateKey, refs: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Any]:
    """``obj`` (which must carry the details extension) with its signature set, in place and returned; ``refs``
    (id -> object) holds the objects it refers to, whose digests the signature covers."""
    details = obj["extensions"][DETAILS_EXTENSION]
    referred = [ref for ref in obj.get("object_refs", []) if refs and ref in refs]
    if referred:
        assert refs is not None
        details["signed_refs"] = {ref: _digest(refs[ref]) for ref in referred}
    value = private_key.sign(_canonical(obj))
    details["signature"] = {
        "alg": ALGORITHM,
        "key": _signer(private_key),
        "value": base64.b64encode(value).decode("ascii"),
    }
    return obj


def signature_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The signature member of ``obj``, if it has one (not checked)."""
    extensions = obj.get("extensions")
    details = extensions.get(DETAILS_EXTENSION) if isinstance(extensions, Mapping) else None
    signature = details.get("signature") if isinstance(details, Mapping) else None
    return signature if isinstance(signature, Mapping) else None


def _decoded(signature: Mapping[str, Any]) -> bytes | None:
    value = signature.get("value")
    if signature.get("alg") != ALGORITHM or not isinstance(value, str) or not isinstance(signature.get("key"), str):
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 64 else None


def verify(
    obj: Mapping[str, Any], keys: Mapping[str, Ed25519PublicKey], refs: Mapping[str, Mapping[str, Any]] | None = None
) -> Check:
    """Check ``obj``'s signature against ``keys`` (key id -> public key, the keys the caller trusts for it) and the
    objects it refers to against their signed digests (``refs``: id -> object)."""
    signature = signature_of(obj)
    if signature is None:
        return Check("unsigned")
    raw = _decoded(signature)
    if raw is None:
        return Check("malformed")
    key = keys.get(signature["key"])
    if key is None:
        return Check("unknown-key", signature["key"])
    try:
        canonical = _canonical(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):  # a number or value JSON cannot carry exactly
        return Check("malformed", signature["key"])
    try:
        key.verify(raw, canonical)
    except InvalidSignature:
        return Check("invalid", signature["key"])
    return _check_refs(obj, refs or {}, signature["key"])


def _check_refs(obj: Mapping[str, Any], refs: Mapping[str, Mapping[str, Any]], key: str) -> Check:
    signed = obj["extensions"][DETAILS_EXTENSION].get("signed_refs", {})
    if not isinstance(signed, Mapping):
        return Check("malformed", key)
    for ref, digest in signed.items():
        referred = refs.get(ref)
        if referred is None:
            return Check("incomplete", key)
        try:
            if _digest(referred) != digest:
                return Check("invalid", key)
        except (rfc8785.CanonicalizationError, TypeError, ValueError):
            return Check("invalid", key)
    return Check("valid", key)
