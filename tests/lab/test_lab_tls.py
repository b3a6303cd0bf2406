from __future__ import annotations

import shutil
import ssl
import sys

import pytest

from c2watch.lab import tls
from c2watch.lab.tls import CERT_COMMON_NAME, LabSetupError, context_from_pem, self_signed_pem

from .conftest import StartLab
from .helpers import connect, fetch, one, status_of


def test_the_certificate_is_made_once() -> None:
    cert, key = self_signed_pem()
    assert self_signed_pem() == (cert, key)
    assert b"BEGIN CERTIFICATE" in cert and b"PRIVATE KEY" in key
    assert isinstance(context_from_pem(cert, key), ssl.SSLContext)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
async def test_without_cryptography_openssl_makes_the_certificate(
    monkeypatch: pytest.MonkeyPatch, start_lab: StartLab
) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)  # import fails
    monkeypatch.setattr(tls, "_pem", None)
    cert, _ = self_signed_pem()
    assert b"BEGIN CERTIFICATE" in cert
    lab = await start_lab(one("tls", "status:200", scheme="https"))
    assert status_of(await fetch(lab.url_for("tls")))[0] == 200
    conn = await connect(lab.url_for("tls"))
    try:
        der = conn.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        assert CERT_COMMON_NAME.encode() in der
    finally:
        conn.close()


def test_no_way_to_make_a_certificate_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography", None)
    monkeypatch.setattr(tls, "_pem", None)
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(LabSetupError, match="openssl"):
        self_signed_pem()
