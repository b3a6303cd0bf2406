"""The lab's DNS answers a scenario's names as its clock moves: the address, then NXDOMAIN or a parking provider's
name servers; scenario errors name the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dns.asyncresolver
import dns.resolver
import pytest

from c2watch.lab import Destination, FakeClock, Lab, Scenario, ScenarioError, scenario_from_mapping

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def resolver(port: int) -> dns.asyncresolver.Resolver:
    r = dns.asyncresolver.Resolver(configure=False)
    r.nameservers, r.port, r.lifetime, r.timeout = ["127.0.0.1"], port, 1.0, 1.0
    return r


def named(name: str, domain: str, dns_steps: list[tuple[datetime | None, str]], index: int) -> Destination:
    return Destination(
        name=name, threat_id="T", address=f"127.66.1.{index}", port=0, timeline=[(None, "status:200")],
        domain=domain, dns=dns_steps,
    )  # fmt: skip


async def test_the_names_follow_the_clock() -> None:
    clock = FakeClock(T0)
    scenario = Scenario(
        [
            named("gone", "www.gone.test", [(T0, "a"), (T0 + timedelta(days=1), "nxdomain")], 1),
            named("parked", "shop.parked.test", [(T0, "a"), (T0 + timedelta(days=1), "ns:ns1.parkingcrew.net")], 2),
        ]
    )
    async with Lab(scenario, clock) as lab:
        assert lab.dns_port is not None
        r = resolver(lab.dns_port)
        assert [a.to_text() for a in await r.resolve("www.gone.test", "A")] == ["127.66.1.1"]
        assert [a.to_text() for a in await r.resolve("parked.test", "NS")] == ["ns1.lab-dns.test."]
        clock.set(T0 + timedelta(days=1))
        await lab.sync()
        with pytest.raises(dns.resolver.NXDOMAIN):
            await r.resolve("www.gone.test", "A")
        assert [a.to_text() for a in await r.resolve("parked.test", "NS")] == ["ns1.parkingcrew.net."]
        assert [a.to_text() for a in await r.resolve("shop.parked.test", "A")] == ["127.66.1.2"]
        assert lab.url_for("parked").startswith("http://shop.parked.test:")


def test_a_lab_without_names_runs_no_dns() -> None:
    assert Lab(Scenario([Destination("a", "T", "127.66.1.3", 0, [(None, "closed")])])).dns is None


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"dns": [{"answer": "a"}]}, "dns"),  # no domain
        ({"domain": "c2.example.com"}, "domain"),  # not under .test: never the lab's to answer
        ({"domain": "c2.lab.test", "dns": [{"answer": "a"}, {"start": T0, "answer": "mx:x"}]}, "dns[1].answer"),
        (
            {"domain": "c2.lab.test", "dns": [{"start": T0, "answer": "a"}, {"start": T0, "answer": "nxdomain"}]},
            "dns[1].start",
        ),
    ],
)
def test_scenario_errors_name_the_field(item: dict[str, object], field: str) -> None:
    base = {"name": "a", "threat_id": "T", "address": "127.66.1.4", "port": 0, "behaviour": "closed"}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_mapping({"destination": [{**base, **item}]})
    assert caught.value.field == f"destination[0].{field}"
