"""What the server is now, judged from sightings over time: the designed status for each story, and never a
false ``reassigned`` for a C2 that only changes its status code, restarts, renews its certificate or flaps."""

from __future__ import annotations

import datetime as dt

import pytest

from c2watch.identity import Evidence, load_rules
from c2watch.identity.judge import DOMAIN_GONE, PARKED, REASSIGNED, SINKHOLED, Identity, Sighting, judge

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
STEP = dt.timedelta(hours=4)
RULES = load_rules()
C2 = Identity(cert_sha256="c2-cert", server="nginx", header_order="h-c2", title="", body_sha256="b-c2-200")
TENANT = Identity(cert_sha256="tenant-cert", server="nginx/1.24.0", header_order="h-tenant", title="Welcome to nginx!")
CS_EVIDENCE = Evidence(cert_serial="146473198", port=443)


def seen(n: int, status: int | None = 200, identity: Identity | None = C2, **evidence: object) -> Sighting:
    return Sighting(T0 + n * STEP, status, identity if status is not None else None, Evidence(**evidence))  # type: ignore[arg-type]


def history(*parts: list[Sighting]) -> list[Sighting]:
    return [s for part in parts for s in part]


def run(start: int, count: int, **kwargs: object) -> list[Sighting]:
    return [seen(n, **kwargs) for n in range(start, start + count)]  # type: ignore[arg-type]


ERROR_404 = Identity("c2-cert", "nginx", "h-c2", "404", "b404")
ERROR_500 = Identity("c2-cert", "nginx", "h-c2", "500", "b500")
RENEWED = Identity("renewed", "nginx", "h-c2", "", "b-c2-200")
NGINX_PAGE = {"identity": TENANT, "title": "Welcome to nginx!"}
PARKING = {"status": None, "name_servers": ["ns1.parkingcrew.net"]}


def nxdomain(start: int, stop: int) -> list[Sighting]:
    return [Sighting(T0 + n * STEP, nxdomain=True) for n in range(start, stop)]


STORIES = {
    "steady C2": (run(0, 30), None, "same"),
    "status code only (200 -> 404 -> 500)": (
        history(run(0, 10), run(10, 10, status=404, identity=ERROR_404), run(20, 10, status=500, identity=ERROR_500)),
        None,
        "same",
    ),
    "restart and flapping": (
        history(run(0, 5), run(5, 10, status=None), run(15, 5), run(20, 3, status=None), run(23, 5)),
        None,
        "same",
    ),
    "certificate renewed only": (history(run(0, 10), run(10, 30, identity=RENEWED)), None, "same"),
    "new tenant with a default page": (history(run(0, 10), run(10, 30, **NGINX_PAGE)), REASSIGNED, "changed"),
    "new tenant, not yet stayed": (history(run(0, 10), run(10, 4, **NGINX_PAGE)), None, "changed"),
    "too few answers": (run(0, 2), None, "unknown"),
    "sinkholed domain": (
        history(run(0, 10), run(10, 6, identity=TENANT, address="104.155.11.149")),
        SINKHOLED,
        "changed",
    ),
    "parked domain": (history(run(0, 10), run(10, 6, **PARKING)), PARKED, "changed"),
    "domain gone for the removal window": (history(run(0, 10), nxdomain(10, 200)), DOMAIN_GONE, "unknown"),
    "NXDOMAIN, not yet for the window": (history(run(0, 10), nxdomain(10, 40)), None, "same"),
}


@pytest.mark.parametrize("story", STORIES)
def test_each_story_gets_its_designed_judgement(story: str) -> None:
    sightings, status, identity = STORIES[story]
    judgement = judge(sightings, RULES)
    assert (judgement.status, judgement.identity) == (status, identity), judgement.reason


def test_reassigned_says_what_changed_and_since_when() -> None:
    judgement = judge(STORIES["new tenant with a default page"][0], RULES)
    assert judgement.since == T0 + 10 * STEP
    assert set(judgement.differing) >= {"cert_sha256", "server", "header_order"}
    assert judgement.signature is not None and judgement.signature.rule.id == "default-page.nginx"


def test_a_new_c2_framework_identity_is_changed_not_removable() -> None:
    moved = Identity(cert_sha256="cs-default", server="", header_order="h-cs")
    sightings = history(run(0, 10), run(10, 30, identity=moved, cert_serial="146473198", port=443))
    judgement = judge(sightings, RULES)
    assert (judgement.status, judgement.identity) == (None, "changed")
    assert judgement.framework is not None and judgement.framework.rule.name == "Cobalt Strike"


def test_sightings_of_several_observers_are_judged_in_time_order() -> None:
    sightings = STORIES["new tenant with a default page"][0]
    assert judge(list(reversed(sightings)), RULES).status == REASSIGNED


def test_a_sinkhole_must_hold_in_the_latest_sightings() -> None:
    once = history(run(0, 10), run(10, 1, address="104.155.11.149"), run(11, 5))
    assert judge(once, RULES).status is None
