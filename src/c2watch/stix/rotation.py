"""Key rotation at the observer: a new key, endorsed by the current one, which is kept aside (retired, not
deleted: records it signed stay valid with its public key, which the hub and the agents keep).

Files, beside the key file ``K``: the new key is written as ``K.next`` (0600 from the start), its endorsement as
``K.endorsement.json``; then ``K`` becomes ``K.<old key id>.retired`` and ``K.next`` becomes ``K``. The next sync
enrols the new key with the endorsement; the hub and every agent that pinned the old key trust the new one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.errors import InputError
from c2watch.stix.keys import load_private_key, public_key_text, write_private_key
from c2watch.stix.signing import key_id
from c2watch.stix.trust import endorse

__all__ = ["endorsement_path", "load_endorsement", "rotate_key"]


def endorsement_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".endorsement.json")


def load_endorsement(key_path: Path, key: Ed25519PrivateKey) -> Mapping[str, Any] | None:
    """The endorsement of ``key`` written by the last rotation, if it is this key's."""
    path = endorsement_path(key_path)
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable endorsement: {exc}") from None
    if not isinstance(value, dict) or value.get("key_id") != key_id(key.public_key()):
        return None
    endorsement = value.get("endorsement")
    return endorsement if isinstance(endorsement, dict) else None


def rotate_key(key_path: Path, observer_ref: str) -> tuple[Ed25519PrivateKey, Path]:
    """Replace the key in ``key_path`` by a new one endorsed by it; the new key and where the old one went."""
    old = load_private_key(key_path)
    following = key_path.with_name(key_path.name + ".next")
    if following.exists():
        following.unlink()  # a rotation that stopped before its end: its key was never used
    new = write_private_key(following)
    endorsement = endorse(old, observer_ref, public_key_text(new))
    record = {"key_id": key_id(new.public_key()), "observer_ref": observer_ref, "endorsement": endorsement}
    endorsement_path(key_path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    retired = key_path.with_name(f"{key_path.name}.{key_id(old.public_key())}.retired")
    os.replace(key_path, retired)
    os.replace(following, key_path)
    return new, retired
