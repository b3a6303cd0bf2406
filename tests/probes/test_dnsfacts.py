"""DNS facts from a real (lab) name server on loopback: CNAME, the zone with its SOA and name servers, PTR names,
and NXDOMAIN / SERVFAIL as data; the facts feed the signatures (parking by name server, sinkhole by PTR)."""

from __future__ import annotations

import dns.asyncresolver

from c2watch.config import Settings
from c2watch.identity import Evidence, load_rules, match
from c2watch.lab.dnsserver import LabDns
from c2watch.models.probes import ProbeTarget
from c2watch.probes.base import ProbeContext
from c2watch.probes.dns import probe as dns_probe
from c2watch.probes.dnsfacts import dns_facts
from c2watch.probes.resolve import Resolver
from c2watch.safety import Guard

RECORDS = {
    "gate.parked.test": {"A": ["127.0.0.9"]},
    "parked.test": {
        "SOA": ["ns1.parkingcrew.net. hostmaster.parked.test. 1 7200 3600 1209600 300"],
        "NS": ["ns1.parkingcrew.net.", "ns2.parkingcrew.net."],
    },
    "www.sunk.test": {"CNAME": ["this-domain-is-sinkholed-by.abuse.ch."]},
    "broken.test": {"RCODE": ["SERVFAIL"]},
    "9.0.0.127.in-addr.arpa": {"PTR": ["sinkhole.cert.pl."]},
}


def resolver(port: int) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers, r.port, r.lifetime, r.timeout = ["127.0.0.1"], port, 1.0, 1.0
    return r


async def test_facts_of_a_parked_domain_and_a_sinkholed_address() -> None:
    async with LabDns(RECORDS) as server:
        facts = await dns_facts(resolver(server.port), "gate.parked.test", ["127.0.0.9", "127.0.0.10"])
    assert (facts.zone, facts.name_servers) == ("parked.test", ("ns1.parkingcrew.net", "ns2.parkingcrew.net"))
    assert facts.soa is not None and facts.soa.startswith("ns1.parkingcrew.net.")
    assert facts.ptr_names == {"127.0.0.9": ("sinkhole.cert.pl",)} and facts.cnames == () and not facts.nxdomain
    evidence = Evidence(name_servers=facts.name_servers, ptr_names=facts.ptr_names["127.0.0.9"])
    assert {m.rule.id for m in match(load_rules(), evidence)} == {"parking.parkingcrew", "sinkhole.cert-polska"}


async def test_cname_nxdomain_and_servfail_are_data() -> None:
    async with LabDns(RECORDS) as server:
        sunk = await dns_facts(resolver(server.port), "www.sunk.test", [])
        gone = await dns_facts(resolver(server.port), "gone.test", [])
        broken = await dns_facts(resolver(server.port), "broken.test", [])
        address_only = await dns_facts(resolver(server.port), None, ["127.0.0.9", "not an address"])
    assert sunk.cnames == ("this-domain-is-sinkholed-by.abuse.ch",)
    assert [m.rule.id for m in match(load_rules(), Evidence(cnames=sunk.cnames))] == ["sinkhole.abuse-ch"]
    assert gone.nxdomain and gone.zone is None and gone.errors["zone"] == "nxdomain"
    assert not broken.nxdomain and broken.errors["zone"] == "servfail"
    assert address_only.ptr_names == {"127.0.0.9": ("sinkhole.cert.pl",)} and address_only.zone is None


async def test_a_silent_name_server_is_a_timeout_within_the_lifetime() -> None:
    import asyncio
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        loop = asyncio.get_running_loop()
        start = loop.time()
        facts = await dns_facts(resolver(silent.getsockname()[1]), "gate.parked.test", ["127.0.0.9"])
        elapsed = loop.time() - start
    assert facts.errors["cname"] == "timeout" and facts.errors["zone"] == "timeout" and facts.ptr_names == {}
    assert elapsed < 3 * 1.0 + 1.0  # cname, zone and PTR questions, each bounded by the lifetime


async def test_the_dns_probe_records_the_facts() -> None:
    async with LabDns(RECORDS) as server:
        settings = Settings(dns={"nameservers": ["127.0.0.1"], "port": server.port, "timeout": 1.0})  # type: ignore[arg-type]
        resolver = Resolver(settings.dns)
        ctx = ProbeContext(guard=Guard.from_strings(["127.0.0.0/8"]), resolver=resolver)
        url = "http://gate.parked.test/"
        target = ProbeTarget(1, "T", "url", url, "gate.parked.test", 80, "http", url, "/", ("127.0.0.9",))
        result = await dns_probe(target, settings, ctx)
    fields = result.fields
    assert (result.outcome, fields["addresses"], fields["zone"]) == ("resolved", ["127.0.0.9"], "parked.test")
    assert fields["name_servers"] == ["ns1.parkingcrew.net", "ns2.parkingcrew.net"]
    assert fields["ptr_names"] == {"127.0.0.9": ["sinkhole.cert.pl"]} and "facts_errors" not in fields
