"""Lab personas look like what they emulate: the certificate and page of a C2 framework at its defaults, a new
tenant's nginx, a parking page and a sinkhole, each recognised by the shipped signature that names it."""

from __future__ import annotations

import warnings

from cryptography import x509

from c2watch.identity import Evidence, load_rules, match
from c2watch.lab import Scenario
from c2watch.lab.personas import PERSONAS

from .conftest import StartLab
from .helpers import connect, dest, fetch, status_of

SCENARIO = Scenario(
    [
        dest("cs", 21, (None, "as:cobalt-strike"), scheme="https"),
        dest("msf", 22, (None, "as:metasploit"), scheme="https"),
        dest("tenant", 23, (None, "as:nginx-default"), scheme="https"),
        dest("parked", 24, (None, "as:parking")),
    ]
)


async def certificate(url: str) -> x509.Certificate:
    conn = await connect(url)
    try:
        der = conn.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        conn.close()
    with warnings.catch_warnings():  # cryptography warns of Cobalt Strike's country "Earth" (not two letters)
        warnings.simplefilter("ignore", UserWarning)
        certificate = x509.load_der_x509_certificate(der)
        certificate.subject.rfc4514_string()  # the names are read (and warned about) once, here
        return certificate


async def test_personas_present_their_certificates_and_pages(start_lab: StartLab) -> None:
    lab = await start_lab(SCENARIO)
    cs = await certificate(lab.url_for("cs"))
    assert cs.serial_number == 146473198 and "CN=Major Cobalt Strike" in cs.subject.rfc4514_string()
    answer = await fetch(lab.url_for("cs"))
    assert status_of(answer) == (404, b"Not Found") and answer.endswith(
        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    msf = await certificate(lab.url_for("msf"))
    assert msf.issuer.rfc4514_string() == "CN=MetasploitSelfSignedCA"
    tenant = await certificate(lab.url_for("tenant"))
    assert tenant.subject.rfc4514_string() == "CN=www.new-tenant.example"
    page = await fetch(lab.url_for("tenant"))
    assert status_of(page)[0] == 200 and page.endswith(PERSONAS["nginx-default"].body)
    assert b"Server: nginx/1.24.0\r\n" in page and b"<title>Welcome to nginx!</title>" in page
    rules = load_rules()
    seen = {
        "cs": Evidence(cert_serial=str(cs.serial_number), cert_subject=cs.subject.rfc4514_string()),
        "msf": Evidence(cert_issuer=msf.issuer.rfc4514_string()),
        "tenant": Evidence(title="Welcome to nginx!", cert_subject=tenant.subject.rfc4514_string()),
    }
    found = {name: [m.rule.id for m in match(rules, evidence)] for name, evidence in seen.items()}
    assert found == {
        "cs": ["cobalt-strike.default-certificate"],
        "msf": ["metasploit.default"],
        "tenant": ["default-page.nginx"],
    }
    assert b"this domain is parked" in await fetch(lab.url_for("parked"))
