"""An observer's Ed25519 key: made by ``c2watch init``, kept in a file only its owner may read, its public half
registered with the hub (``c2watch hub observer add --key``) and given to other members.

The private key file is created with mode 0600 from the start (never loosened and tightened afterwards); loading a
key file that others may read works but warns. Public keys are written as the base64 of their 32 raw bytes (what
``--key`` takes); PEM is accepted too.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from c2watch.errors import InputError

__all__ = [
    "ensure_private_key",
    "load_private_key",
    "parse_public_key",
    "public_key_text",
    "read_public_key",
    "write_private_key",
]

log = logging.getLogger(__name__)


def write_private_key(path: Path) -> Ed25519PrivateKey:
    """Make a key and write it to ``path`` (which must not exist), readable by its owner only."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``; warns when the file is readable or writable by others than its owner."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the observer key: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s: the observer's private key is readable by others (mode %o): chmod 600 it", path, mode & 0o777)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{path}: not a PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key")
    return key


def ensure_private_key(path: Path) -> tuple[Ed25519PrivateKey, bool]:
    """The key in ``path``, made (0600 from the start) when there is none yet; and whether it was made now."""
    try:
        return write_private_key(path), True
    except FileExistsError:
        return load_private_key(path), False


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public key as base64 of its 32 raw bytes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 raw form or PEM; :class:`InputError` saying what is wrong otherwise."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(stripped.encode())
        except ValueError as exc:
            raise InputError(f"not a PEM public key: {exc}") from None
        if not isinstance(key, Ed25519PublicKey):
            raise InputError("not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("a public key is base64 of 32 bytes or PEM") from None
    if len(raw) != 32:
        raise InputError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def read_public_key(value: str) -> Ed25519PublicKey:
    """A public key given on a command line: its text, or the path of a file holding it (or a private key)."""
    path = Path(value)
    if len(value) < 4096 and path.is_file():
        text = path.read_text(encoding="utf-8", errors="replace")
        if "PRIVATE KEY" in text:
            return load_private_key(path).public_key()
        try:
            return parse_public_key(text)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None
    return parse_public_key(value)
