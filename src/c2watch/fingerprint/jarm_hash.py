"""A JARM probe's answer read, and the ten answers hashed, as in the published algorithm (Salesforce, BSD-3-Clause).

Each answer becomes ``cipher|version|alpn|extension-types`` (hex, the ALPN protocol as text), or ``|||`` when it
is not a ServerHello. The fingerprint is 30 characters for the ten ciphers and versions and the first 32 hex
digits of a SHA-256 over the ALPNs and extension lists; 62 zeros when no probe got a ServerHello.

The offsets and checks follow the reference (github.com/salesforce/jarm, ``read_packet``, ``extract_extension_info``,
``jarm_hash``) so that any bytes give the reference's result; where the reference would crash on garbage (a version
it cannot map), the answer counts as no ServerHello. Every loop advances, every read is a bounded slice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = ["NO_ANSWER", "ZERO_FINGERPRINT", "jarm_fingerprint", "read_server_hello"]

NO_ANSWER = "|||"
ZERO_FINGERPRINT = "0" * 62

_CIPHER_INDEX = bytes.fromhex(
    "0004 0005 0007 000a 0016 002f 0033 0035 0039 003c 003d 0041 0045 0067 006b 0084 0088 009a 009c 009d 009e 009f"
    " 00ba 00be 00c0 00c4 c007 c008 c009 c00a c011 c012 c013 c014 c023 c024 c027 c028 c02b c02c c02f c030 c060 c061"
    " c072 c073 c076 c077 c09c c09d c09e c09f c0a0 c0a1 c0a2 c0a3 c0ac c0ad c0ae c0af cc13 cc14 cca8 cca9 1301 1302"
    " 1303 1304 1305"
).hex()
_CIPHERS = [_CIPHER_INDEX[i : i + 4] for i in range(0, len(_CIPHER_INDEX), 4)]


class _NotServerHello(Exception):
    """The answer cannot be read as the reference reads a ServerHello."""


def read_server_hello(data: bytes) -> str:
    """The reference's ``read_packet``: ``cipher|version|alpn|extensions`` of a ServerHello, else ``|||``."""
    try:
        return _read(data)
    except (_NotServerHello, IndexError, UnicodeDecodeError):
        return NO_ANSWER


def _read(data: bytes) -> str:
    if data[0] != 22 or data[5] != 2:  # not a handshake record holding a ServerHello (an alert is 21)
        return NO_ANSWER
    counter = data[43]  # the session id's length
    cipher = data[counter + 44 : counter + 46].hex()
    version = data[9:11].hex()
    if _version_char(version) is None:
        raise _NotServerHello(version)
    return f"{cipher}|{version}|{_extensions(data, counter)}"


def _extensions(data: bytes, counter: int) -> str:
    """``alpn|types``, ``|||`` where the reference gives up on the extensions; raises where it fails the answer."""
    try:
        if data[counter + 47] == 11 or data[counter + 50 : counter + 53] == b"\x0e\xac\x0b":
            return NO_ANSWER
        if data[82:85] == b"\x0f\xf0\x0b":
            return NO_ANSWER
    except IndexError:
        return NO_ANSWER
    types, alpn = _extension_list(data, counter + 49, _hex_int(data[counter + 47 : counter + 49]))
    return f"{alpn}|{'-'.join(types)}"


def _extension_list(data: bytes, count: int, length: int) -> tuple[list[str], str]:
    maximum = count + length - 1
    types: list[str] = []
    alpn: bytes | None = None
    while count < maximum:
        kind = data[count : count + 2]
        size = _hex_int(data[count + 2 : count + 4])
        if kind == b"\x00\x10" and alpn is None:
            if size == 0:  # the reference reads "" as bytes here and fails the answer
                raise _NotServerHello("empty ALPN")
            alpn = data[count + 4 : count + 4 + size][3:]
        types.append(kind.hex())
        count += 4 + size
    return types, (alpn or b"").decode()


def _hex_int(value: bytes) -> int:
    """The reference's ``int(hex, 16)``, which fails on no bytes at all."""
    if not value:
        raise _NotServerHello("truncated")
    return int.from_bytes(value, "big")


def _version_char(version: str) -> str | None:
    if version == "":
        return "0"
    digit = version[3:4]
    return "abcdef"[int(digit)] if digit in "012345" and digit else None


def _cipher_chars(cipher: str) -> str:
    if cipher == "":
        return "00"
    index = _CIPHERS.index(cipher) + 1 if cipher in _CIPHERS else len(_CIPHERS) + 1
    return f"{index:02x}"


def jarm_fingerprint(answers: Sequence[str]) -> str:
    """The reference's ``jarm_hash`` over the ten answers read by :func:`read_server_hello`."""
    if all(answer == NO_ANSWER for answer in answers):
        return ZERO_FINGERPRINT
    fuzzy, alpns_and_extensions = "", ""
    for answer in answers:
        cipher, version, alpn, extensions = answer.split("|")[:4]  # the reference's split, even of "c|v||||"
        fuzzy += _cipher_chars(cipher) + (_version_char(version) or "0")
        alpns_and_extensions += alpn + extensions
    return fuzzy + hashlib.sha256(alpns_and_extensions.encode()).hexdigest()[:32]
