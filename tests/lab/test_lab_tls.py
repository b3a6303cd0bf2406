from __future__ import annotations

import ssl

from c2watch.lab.tls import context_from_pem, self_signed_pem


def test_the_certificate_is_made_once() -> None:
    cert, key = self_signed_pem()
    assert self_signed_pem() == (cert, key)
    assert b"BEGIN CERTIFICATE" in cert and b"PRIVATE KEY" in key
    assert isinstance(context_from_pem(cert, key), ssl.SSLContext)
