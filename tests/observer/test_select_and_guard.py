"""Target selection (URL, then domain, then IP), name resolution on a loopback DNS server, and the safety guard."""

from __future__ import annotations

import pytest

from c2watch.config import DnsSettings
from c2watch.lab.dnsserver import LabDns
from c2watch.models import Target
from c2watch.observer.select import choose, prepare
from c2watch.probes.resolve import Resolver
from c2watch.safety import Guard


def target(**fields: object) -> Target:
    values: dict[str, object] = {
        "id": 1,
        "threat_id": "T",
        "key": "k",
        "ip": None,
        "domain": None,
        "url": None,
        "port": None,
    }
    values.update(fields)
    return Target(**values)  # type: ignore[arg-type]


def test_url_beats_domain_beats_ip() -> None:
    full = target(ip="198.51.100.1", domain="c2.bad.example", url="https://c2.bad.example:8443/a?b=1", port=8443)
    chosen = choose(full)
    assert (chosen.kind, chosen.host, chosen.port, chosen.scheme, chosen.path) == (
        "url",
        "c2.bad.example",
        8443,
        "https",
        "/a?b=1",
    )
    no_url = choose(target(ip="198.51.100.1", domain="c2.bad.example", port=443))
    assert (no_url.kind, no_url.host, no_url.scheme, no_url.url) == (
        "domain",
        "c2.bad.example",
        "https",
        "https://c2.bad.example:443/",
    )
    ip_only = choose(target(ip="2001:db8::5", port=8080))
    assert (ip_only.kind, ip_only.scheme, ip_only.url) == ("ip", "http", "http://[2001:db8::5]:8080/")


@pytest.mark.parametrize(
    ("address", "allowed", "refused_as"),
    [
        ("127.0.0.1", [], "loopback"),
        ("::1", [], "loopback"),
        ("10.1.2.3", [], "private"),
        ("192.168.1.1", ["127.0.0.0/8"], "private"),
        ("169.254.0.1", [], "link-local"),
        ("224.0.0.5", [], "multicast"),
        ("0.0.0.0", [], "unspecified"),
        ("192.0.2.10", [], "documentation"),
        ("2001:db8::1", [], "documentation"),
        ("100.64.0.1", [], "not-global"),
        ("::ffff:10.0.0.1", [], "private"),
    ],
)
def test_guard_refuses_non_global_addresses(address: str, allowed: list[str], refused_as: str) -> None:
    reason = Guard.from_strings(allowed).refusal(address)
    assert reason is not None and reason.startswith(refused_as)


def test_guard_allows_listed_networks_only() -> None:
    guard = Guard.from_strings(["127.0.0.0/8"])
    assert guard.refusal("127.9.9.9") is None
    assert guard.refusal("10.0.0.1") is not None


LAB_RECORDS = {
    "c2.lab.test": ["127.88.1.1", "::1"],
    "private.lab.test": ["10.0.0.7"],
    "mixed.lab.test": ["127.88.1.2", "192.168.7.7"],
}


async def resolve_with_lab(name: str, allow: list[str], allow_domains: tuple[str, ...] = ("lab.test",)):  # type: ignore[no-untyped-def]
    async with LabDns(LAB_RECORDS) as dns:
        resolver = Resolver(DnsSettings(nameservers=["127.0.0.1"], port=dns.port, timeout=1.0))
        result = await prepare(target(domain=name, port=80), Guard.from_strings(allow), resolver, allow_domains)
        return result, dns.queries


async def test_domain_resolves_and_every_address_is_recorded() -> None:
    (chosen, resolution), _ = await resolve_with_lab("c2.lab.test", ["127.0.0.0/8", "::1/128"])
    assert resolution is not None and set(resolution.addresses) == {"127.88.1.1", "::1"}
    assert set(chosen.addresses) == {"127.88.1.1", "::1"} and chosen.refused == ()


async def test_domain_resolving_to_loopback_is_refused_unless_allowed() -> None:
    (chosen, resolution), _ = await resolve_with_lab("c2.lab.test", [])
    assert resolution is not None and chosen.addresses == ()
    assert all(reason.startswith("loopback") for reason in chosen.refused)


async def test_domain_resolving_to_private_is_refused_even_with_loopback_allowed() -> None:
    (chosen, _), _ = await resolve_with_lab("private.lab.test", ["127.0.0.0/8"])
    assert chosen.addresses == () and chosen.refused[0].startswith("private")
    (mixed, _), _ = await resolve_with_lab("mixed.lab.test", ["127.0.0.0/8"])
    assert mixed.addresses == ("127.88.1.2",) and mixed.refused[0].startswith("private")


async def test_nxdomain_is_data() -> None:
    (chosen, resolution), queries = await resolve_with_lab("nothing.lab.test", ["127.0.0.0/8"])
    assert resolution is not None and resolution.error == "nxdomain" and chosen.addresses == ()
    assert queries >= 1


async def test_reserved_names_are_never_looked_up_unless_allowed() -> None:
    (chosen, resolution), queries = await resolve_with_lab("c2.lab.test", ["127.0.0.0/8"], allow_domains=())
    assert resolution is None and queries == 0
    assert chosen.refused and "reserved name" in chosen.refused[0]
