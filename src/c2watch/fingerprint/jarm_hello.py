"""The ten ClientHellos of JARM, as the published algorithm builds them (Salesforce, BSD-3-Clause).

JARM (github.com/salesforce/jarm, John Althouse, Andrew Smart, RJ Nunaly, Mike Brady; Copyright (c) 2020
salesforce.com, inc., BSD 3-Clause licence) sends ten TLS ClientHellos that differ in version, cipher list and
order, GREASE, ALPN list and order, and the supported_versions extension. A server's choices among them
fingerprint its TLS stack and configuration. This module rebuilds the probes byte for byte as the reference does,
including its quirks (the "ALL" ALPN list joins ``spdy/3`` and ``h2`` into one item, which changes how it is
reordered), because a different byte changes the fingerprint.
"""

from __future__ import annotations

import os
import secrets
import struct
from dataclasses import dataclass
from typing import Literal

__all__ = ["PROBES", "ProbeSpec", "client_hello", "reorder"]

Order = Literal["FORWARD", "REVERSE", "TOP_HALF", "BOTTOM_HALF", "MIDDLE_OUT"]

_CIPHERS_ALL = bytes.fromhex(
    "0016 0033 0067 c09e c0a2 009e 0039 006b c09f c0a3 009f 0045 00be 0088 00c4 009a c008 c009 c023 c0ac c0ae c02b"
    " c00a c024 c0ad c0af c02c c072 c073 cca9 1302 1301 cc14 c007 c012 c013 c027 c02f c014 c028 c030 c060 c061"
    " c076 c077 cca8 1305 1304 1303 cc13 c011 000a 002f 003c c09c c0a0 009c 0035 003d c09d c0a1 009d 0041 00ba"
    " 0084 00c0 0007 0004 0005"
)
_TLS13_CIPHERS = frozenset(bytes.fromhex(c) for c in ("1301", "1302", "1303", "1304", "1305"))
_GREASE = tuple(bytes([b, b]) for b in range(0x0A, 0x100, 0x10))

_ALPNS_ALL: tuple[bytes, ...] = (b"\x08http/0.9", b"\x08http/1.0", b"\x08http/1.1", b"\x06spdy/1", b"\x06spdy/2")
_ALPNS_ALL += (b"\x06spdy/3\x02h2", b"\x03h2c", b"\x02hq")  # spdy/3 and h2: one item, as in the reference
_ALPNS_RARE = (b"\x08http/0.9", b"\x08http/1.0", b"\x06spdy/1", b"\x06spdy/2", b"\x06spdy/3", b"\x03h2c", b"\x02hq")

_FIXED_EXTENSIONS = bytes.fromhex(
    "00170000"  # extended_master_secret
    "0001000101"  # max_fragment_length
    "ff01000100"  # renegotiation_info
    "000a000a0008001d001700180019"  # supported_groups
    "000b00020100"  # ec_point_formats
    "00230000"  # session_ticket
)
_SIGNATURE_ALGORITHMS = bytes.fromhex("000d00140012040308040401050308050501080606010201")
_PSK_KEY_EXCHANGE_MODES = bytes.fromhex("002d00020101")


@dataclass(frozen=True)
class ProbeSpec:
    """One JARM probe: the reference's name and its settings."""

    name: str
    version: Literal["TLS_1.1", "TLS_1.2", "TLS_1.3"]
    tls13_ciphers: bool
    cipher_order: Order
    grease: bool
    rare_alpn: bool
    supported_versions: Literal["1.2_SUPPORT", "NO_SUPPORT", "1.3_SUPPORT"]
    extension_order: Order


PROBES = (
    ProbeSpec("tls1_2_forward", "TLS_1.2", True, "FORWARD", False, False, "1.2_SUPPORT", "REVERSE"),
    ProbeSpec("tls1_2_reverse", "TLS_1.2", True, "REVERSE", False, False, "1.2_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_2_top_half", "TLS_1.2", True, "TOP_HALF", False, False, "NO_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_2_bottom_half", "TLS_1.2", True, "BOTTOM_HALF", False, True, "NO_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_2_middle_out", "TLS_1.2", True, "MIDDLE_OUT", True, True, "NO_SUPPORT", "REVERSE"),
    ProbeSpec("tls1_1_middle_out", "TLS_1.1", True, "FORWARD", False, False, "NO_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_3_forward", "TLS_1.3", True, "FORWARD", False, False, "1.3_SUPPORT", "REVERSE"),
    ProbeSpec("tls1_3_reverse", "TLS_1.3", True, "REVERSE", False, False, "1.3_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_3_invalid", "TLS_1.3", False, "FORWARD", False, False, "1.3_SUPPORT", "FORWARD"),
    ProbeSpec("tls1_3_middle_out", "TLS_1.3", True, "MIDDLE_OUT", True, False, "1.3_SUPPORT", "REVERSE"),
)
"""The ten probes in the reference's order (``tls1_1_middle_out`` is, as there, TLS 1.1 in forward order)."""

# (record layer version, ClientHello version) per probe version.
_VERSIONS = {"TLS_1.1": (b"\x03\x02", b"\x03\x02"), "TLS_1.2": (b"\x03\x03", b"\x03\x03")}
_VERSIONS["TLS_1.3"] = (b"\x03\x01", b"\x03\x03")


def reorder(items: list[bytes], order: Order) -> list[bytes]:
    """The reference's ``cipher_mung``: ``items`` reversed, halved or taken from the middle out."""
    size, middle = len(items), len(items) // 2
    if order == "REVERSE":
        return items[::-1]
    if order == "BOTTOM_HALF":
        return items[middle + size % 2 :]
    if order == "TOP_HALF":  # the top half reversed, with the middle item first when there is one
        return ([items[middle]] if size % 2 else []) + reorder(items[::-1], "BOTTOM_HALF")
    if order == "MIDDLE_OUT":
        first = [items[middle]] if size % 2 else []
        base = middle if size % 2 else middle - 1
        return first + [item for i in range(1, middle + 1) for item in (items[base + i], items[middle - i])]
    return list(items)


def client_hello(spec: ProbeSpec, server_name: str) -> bytes:
    """The TLS record carrying the ClientHello of probe ``spec``, with ``server_name`` in SNI (as the reference)."""
    record_version, hello_version = _VERSIONS[spec.version]
    session_id = os.urandom(32)
    ciphers = _ciphers(spec)
    body = hello_version + os.urandom(32) + bytes([len(session_id)]) + session_id
    body += struct.pack(">H", len(ciphers)) + ciphers + b"\x01\x00" + _extensions(spec, server_name)
    handshake = b"\x01\x00" + struct.pack(">H", len(body)) + body
    return b"\x16" + record_version + struct.pack(">H", len(handshake)) + handshake


def _ciphers(spec: ProbeSpec) -> bytes:
    ciphers = [_CIPHERS_ALL[i : i + 2] for i in range(0, len(_CIPHERS_ALL), 2)]
    if not spec.tls13_ciphers:
        ciphers = [cipher for cipher in ciphers if cipher not in _TLS13_CIPHERS]
    ciphers = reorder(ciphers, spec.cipher_order)
    return (_grease() if spec.grease else b"") + b"".join(ciphers)


def _grease() -> bytes:
    return secrets.choice(_GREASE)


def _extensions(spec: ProbeSpec, server_name: str) -> bytes:
    extensions = (_grease() + b"\x00\x00") if spec.grease else b""
    extensions += _server_name(server_name) + _FIXED_EXTENSIONS + _alpn(spec) + _SIGNATURE_ALGORITHMS
    extensions += _key_share(spec.grease) + _PSK_KEY_EXCHANGE_MODES
    if spec.version == "TLS_1.3" or spec.supported_versions == "1.2_SUPPORT":
        extensions += _supported_versions(spec)
    return struct.pack(">H", len(extensions)) + extensions


def _server_name(name: str) -> bytes:
    encoded = name.encode()
    return b"\x00\x00" + struct.pack(">HHBH", len(encoded) + 5, len(encoded) + 3, 0, len(encoded)) + encoded


def _alpn(spec: ProbeSpec) -> bytes:
    alpns = list(_ALPNS_RARE if spec.rare_alpn else _ALPNS_ALL)
    protocols = b"".join(reorder(alpns, spec.extension_order))
    return b"\x00\x10" + struct.pack(">HH", len(protocols) + 2, len(protocols)) + protocols


def _key_share(grease: bool) -> bytes:
    share = (_grease() + b"\x00\x01\x00") if grease else b""
    share += b"\x00\x1d\x00\x20" + os.urandom(32)  # x25519, a random 32-byte public key
    return b"\x00\x33" + struct.pack(">HH", len(share) + 2, len(share)) + share


def _supported_versions(spec: ProbeSpec) -> bytes:
    versions = [b"\x03\x01", b"\x03\x02", b"\x03\x03"]
    if spec.supported_versions != "1.2_SUPPORT":
        versions.append(b"\x03\x04")
    listed = (_grease() if spec.grease else b"") + b"".join(reorder(versions, spec.extension_order))
    return b"\x00\x2b" + struct.pack(">HB", len(listed) + 1, len(listed)) + listed
