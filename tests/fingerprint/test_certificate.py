"""Certificate fingerprints: every field exact, hostile certificates are data, a real TLS server's certificate."""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from c2watch.fingerprint.certificate import (
    MAX_CERTIFICATE_BYTES,
    MAX_DNS_NAMES,
    certificate_fingerprint,
    parse_certificate,
)

from .certs import NOW, made_context, make, name, tls_server

COBALT_STRIKE = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "Ea", _validate=False),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Cyberspace"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Somewhere"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cobaltstrike"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "AdvancedPenTesting"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Major Cobalt Strike"),
    ]
)


def test_every_field_of_a_self_signed_certificate() -> None:
    made = make(COBALT_STRIKE, dns_names=["c2.example", "xn--bcher-kva.example"])
    fingerprint = certificate_fingerprint(made.der)
    assert fingerprint.sha256 == hashlib.sha256(made.der).hexdigest()
    assert fingerprint.serial == "146473198"
    subject = "CN=Major Cobalt Strike,OU=AdvancedPenTesting,O=cobaltstrike,L=Somewhere,ST=Cyberspace,C=Ea"
    assert (fingerprint.subject, fingerprint.issuer) == (subject, subject)
    assert fingerprint.not_before == NOW - timedelta(days=1)
    assert fingerprint.not_after == NOW + timedelta(days=365)
    assert fingerprint.not_after is not None and fingerprint.not_after.utcoffset() == timedelta(0)
    assert fingerprint.self_signed is True
    assert fingerprint.dns_names == ("c2.example", "xn--bcher-kva.example")
    assert fingerprint.error is None


def test_a_ca_signed_certificate_is_not_self_signed() -> None:
    ca = make(name("Test CA"))
    leaf = make(name("c2.example"), issuer=ca)
    fingerprint = certificate_fingerprint(leaf.der)
    assert (fingerprint.subject, fingerprint.issuer, fingerprint.self_signed) == ("CN=c2.example", "CN=Test CA", False)


def test_issuer_equal_to_subject_but_signed_by_another_key_is_not_self_signed() -> None:
    made = make(name("imposter"), signer=ec.generate_private_key(ec.SECP256R1()))
    fingerprint = certificate_fingerprint(made.der)
    assert (fingerprint.issuer == fingerprint.subject, fingerprint.self_signed) == (True, False)


def test_an_expired_certificate_keeps_its_dates() -> None:
    made = make(name("old"), not_before=NOW - timedelta(days=800), not_after=NOW - timedelta(days=400))
    fingerprint = certificate_fingerprint(made.der)
    assert fingerprint.not_after == NOW - timedelta(days=400)
    assert fingerprint.error is None


def test_names_in_bmp_and_t61_strings_are_read() -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "T61", _ASN1Type.T61String),
            x509.NameAttribute(NameOID.COMMON_NAME, "é€\u202e", _ASN1Type.BMPString),
        ]
    )
    assert certificate_fingerprint(make(subject).der).subject == "CN=é€\u202e,O=T61"


def test_a_name_that_is_not_utf8_costs_the_names_not_the_fingerprint() -> None:
    der = make(name("PLACEHOLDER")).der.replace(b"PLACEHOLDER", b"\xff\xfe\x80\xc3(abcdef")
    fingerprint = certificate_fingerprint(der)
    assert (fingerprint.subject, fingerprint.issuer, fingerprint.self_signed) == (None, None, None)
    assert fingerprint.serial == "146473198"
    assert fingerprint.not_after == NOW + timedelta(days=365)
    assert fingerprint.error is not None and fingerprint.error.startswith("subject: ValueError")
    assert fingerprint.sha256 == hashlib.sha256(der).hexdigest()


def test_a_negative_serial_is_kept_and_a_broken_signature_is_not_self_signed() -> None:
    serial = 146473198  # 0x08bb00ee: setting the top bit of its DER makes it negative (and breaks the signature)
    der = make(name("neg"), serial=serial).der.replace(b"\x02\x04\x08\xbb\x00\xee", b"\x02\x04\x88\xbb\x00\xee")
    fingerprint = certificate_fingerprint(der)
    assert fingerprint.serial == str(0x88BB00EE - 2**32) == "-2001010450"
    assert fingerprint.self_signed is False


def test_truncated_empty_and_garbage_der_are_errors_with_a_hash() -> None:
    der = make(name("whole")).der
    for data in (der[: len(der) // 2], b"", b"\x30\x82\xff\xff" + b"\x00" * 10, b"GET / HTTP/1.1\r\n\r\n"):
        fingerprint = certificate_fingerprint(data)
        assert fingerprint.sha256 == hashlib.sha256(data).hexdigest()
        assert fingerprint.serial is None and fingerprint.subject is None
        assert fingerprint.error is not None and fingerprint.error.startswith("not a certificate")


MUTATED = make(name("mutated"), dns_names=["a.example"]).der


@given(st.lists(st.tuples(st.integers(0, len(MUTATED) - 1), st.integers(0, 255)), max_size=8), st.integers(0, 40))
def test_any_mutation_of_a_certificate_is_a_result(changes: list[tuple[int, int]], cut: int) -> None:
    der = bytearray(MUTATED)
    for at, value in changes:
        der[at] = value
    data = bytes(der[: len(der) - cut])
    fingerprint = parse_certificate(data)
    assert fingerprint.sha256 == hashlib.sha256(data).hexdigest()
    assert fingerprint.error is not None or fingerprint.subject is not None


def test_a_huge_subject_is_kept_whole() -> None:
    units = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{i:04d}" + "u" * 996) for i in range(30)]
    fingerprint = certificate_fingerprint(make(x509.Name([*units, *name("big")])).der)
    assert fingerprint.subject is not None and len(fingerprint.subject) > 30_000
    assert fingerprint.subject.startswith("CN=big,OU=0029uuu")


def test_a_certificate_over_the_bound_is_hashed_not_parsed() -> None:
    units = [x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "u" * 1000) for _ in range(70)]
    der = make(x509.Name(units)).der
    assert len(der) > MAX_CERTIFICATE_BYTES
    fingerprint = certificate_fingerprint(der)
    assert (fingerprint.sha256, fingerprint.subject) == (hashlib.sha256(der).hexdigest(), None)
    assert fingerprint.error == f"certificate of {len(der)} bytes, over {MAX_CERTIFICATE_BYTES}"


def test_a_certificate_seen_before_is_remembered_not_parsed_again() -> None:
    der = make(name("twice")).der
    assert certificate_fingerprint(der) is certificate_fingerprint(bytes(der))
    assert certificate_fingerprint(der) == parse_certificate(der)


def test_subject_alternative_names_are_bounded_in_count() -> None:
    names = [f"n{i}.example" for i in range(MAX_DNS_NAMES + 50)]
    fingerprint = certificate_fingerprint(make(name("many"), dns_names=names).der)
    assert fingerprint.dns_names == tuple(names[:MAX_DNS_NAMES])
    assert fingerprint.dns_name_count == MAX_DNS_NAMES + 50


async def test_the_certificate_a_loopback_tls_server_presents() -> None:
    made = make(name("PLACEHOLDER"), dns_names=["c2.example"])
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
    async with tls_server(made_context(made)) as port:
        _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        writer.close()
    assert der == made.der
    fingerprint = certificate_fingerprint(der)
    assert (fingerprint.subject, fingerprint.self_signed, fingerprint.dns_names) == (
        "CN=PLACEHOLDER",
        True,
        ("c2.example",),
    )
