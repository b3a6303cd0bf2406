"""The built-in demo scenario, and a scenario written as a native c2watch watchlist CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from c2watch.lab.scenario import Destination, Scenario
from c2watch.watchlist.native import COLUMNS

__all__ = ["DEMO_DAYS", "DEMO_OBSERVERS", "DEMO_START", "WATCHLIST_HEADER", "example_scenario", "to_watchlist_csv"]

#: Where the demo's timelines begin unless told otherwise.
DEMO_START = datetime(2025, 1, 1, tzinfo=UTC)
WATCHLIST_HEADER = COLUMNS  # the native CSV format's columns


#: The demo's observers: name and the loopback address its probes leave from; the last is blocked by one destination.
DEMO_OBSERVERS = (("lab-tokyo", "127.78.0.1"), ("lab-osaka", "127.78.0.2"), ("lab-sapporo", "127.78.0.3"))
DEMO_DAYS = 35


def example_scenario(start: datetime = DEMO_START, days: float = DEMO_DAYS) -> Scenario:
    """Sixteen destinations of threats DEMO-A, DEMO-B and DEMO-C on 127.77.0.1-16, over ``days`` from ``start``.

    DEMO-A replays the paper's two stories: ``demo-a-gate`` answers 200, then 404 from a quarter of the span, 500
    from half of it and nothing from four fifths (200 → 404 → 500 → silent, dormant at the end);
    ``demo-a-flap`` answers HTTP in a deterministic 50 % of the slots and its pings follow (HTTP and ping flapping
    together), beside three that never answer (closed with pings dropped, tarpit, too slow). DEMO-B lives and dies:
    ``demo-b-gate`` stops for good after 5 % of the span (``dead`` once the removal window, 30 days by default,
    has passed), ``demo-b-back`` goes silent from 30 % to 60 % and comes back (``reactivated``), ``demo-b-tls``
    drops the connections and pings of the last demo observer (``DEMO_OBSERVERS``) from 70 %
    (``blocked-for-observer``), ``demo-b-moved``'s echo replies come with TTL 52 instead of 64 from 40 % (the host
    moved), plus a 60 % rate and a lossy 404. DEMO-C tells what a C2 destination becomes (examples/identity): a
    Cobalt Strike address re-rented to a new tenant after 5 days (``reassigned``), a domain sinkholed and one parked
    after 4 days, one answering NXDOMAIN from 12 hours in (``domain-gone`` once that lasted the removal window), and
    a staging server replaced by a Cobalt Strike team server at half the span (``identity-changed``); their names
    are answered by the lab's own DNS.
    """

    def at(share: float) -> datetime:
        return start + timedelta(days=days * share)

    def dest(
        index: int,
        name: str,
        threat: str,
        timeline: list[tuple[float, str]],
        summary: str,
        *,
        scheme: str = "http",
        ping: str = "reply",
        **more: object,
    ) -> Destination:
        return Destination(
            name=name,
            threat_id=threat,
            address=f"127.77.0.{index}",
            port=8443 if scheme == "https" else 8080,
            path="/" if scheme == "https" else "/gate.php",
            timeline=[(at(share), behaviour) for share, behaviour in timeline],
            scheme=scheme,
            ping=ping,
            reported_on=start.date(),
            summary=f"c2watch lab demo: {summary}",
            **more,  # type: ignore[arg-type]
        )

    blocked = DEMO_OBSERVERS[-1][1]
    return Scenario(
        [
            dest(
                1,
                "demo-a-gate",
                "DEMO-A",
                [(0, "status:200"), (0.25, "status:404"), (0.5, "status:500"), (0.8, "silent")],
                "200, then 404, then 500, then silent",
            ),
            dest(2, "demo-a-panel", "DEMO-A", [(0, "closed")], "closed", ping="drop"),
            dest(3, "demo-a-tarpit", "DEMO-A", [(0, "tarpit")], "tarpit"),
            dest(4, "demo-a-slow", "DEMO-A", [(0, "slow:1.5")], "slow:1.5"),
            dest(5, "demo-b-gate", "DEMO-B", [(0, "status:200"), (0.05, "closed")], "dies", ping="follow"),
            dest(
                6,
                "demo-b-tls",
                "DEMO-B",
                [(0, "status:200")],
                f"blocks {blocked} from 70 %",
                scheme="https",
                blocked=[(at(0.7), blocked)],
            ),
            dest(7, "demo-b-rate", "DEMO-B", [(0, "rate:0.6:status:200")], "rate:0.6:status:200"),
            dest(8, "demo-b-lossy", "DEMO-B", [(0, "status:404")], "404, half the pings lost", ping="loss:50"),
            *_identity_stories(start),
            dest(
                13, "demo-a-flap", "DEMO-A", [(0, "rate:0.5:status:200")], "HTTP and ping flap together", ping="follow"
            ),
            dest(
                14, "demo-b-moved", "DEMO-B", [(0, "status:200")], "echo TTL 64, then 52", pings=[(at(0.4), "ttl:52")]
            ),
            dest(
                15,
                "demo-b-back",
                "DEMO-B",
                [(0, "status:200"), (0.3, "silent"), (0.6, "status:200")],
                "silent from 30 % to 60 %, then back",
                ping="follow",
            ),
            dest(
                16,
                "demo-c-redeployed",
                "DEMO-C",
                [(0, "status:200"), (0.5, "as:cobalt-strike")],
                "a staging server, then a Cobalt Strike team server",
                scheme="https",
            ),
        ]
    )


def _identity_stories(start: datetime) -> list[Destination]:
    def story(
        index: int,
        name: str,
        timeline: list[tuple[int, str]],
        summary: str,
        scheme: str = "http",
        domain: str | None = None,
        dns: tuple[tuple[int, str], ...] = (),
    ) -> Destination:
        return Destination(
            name=name,
            threat_id="DEMO-C",
            address=f"127.77.0.{index}",
            port=8443 if scheme == "https" else 8080,
            path="/",
            timeline=[(start + timedelta(hours=hours), behaviour) for hours, behaviour in timeline],
            scheme=scheme,
            reported_on=start.date(),
            summary=f"c2watch lab demo: {summary}",
            domain=domain,
            dns=[(start + timedelta(hours=hours), answer) for hours, answer in dns],
        )

    sunk = "ns:sinkhole1.shadowserver.org,sinkhole2.shadowserver.org"
    return [
        story(9, "demo-c-rerented", [(0, "as:cobalt-strike"), (120, "as:nginx-default")], "re-rented", scheme="https"),
        story(
            10,
            "demo-c-sunk",
            [(0, "as:cobalt-strike"), (96, "as:sinkhole")],
            "sinkholed",
            scheme="https",
            domain="gate.sunk.test",
            dns=((0, "a"), (96, sunk)),
        ),
        story(
            11,
            "demo-c-parked",
            [(0, "status:200"), (96, "as:parking")],
            "parked",
            domain="shop.parked.test",
            dns=((0, "a"), (96, "ns:ns1.parkingcrew.net,ns2.parkingcrew.net")),
        ),
        story(
            12,
            "demo-c-gone",
            [(0, "status:200")],
            "NXDOMAIN",
            domain="www.gone.test",
            dns=((0, "a"), (12, "nxdomain")),
        ),
    ]


def to_watchlist_csv(scenario: Scenario, ports: Mapping[str, int] | None = None) -> str:
    """The scenario as a c2watch watchlist CSV: one line per destination, URL and port filled.

    ``ports`` (name -> port, e.g. from a started lab's ``ports()``) overrides ``port = 0``.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WATCHLIST_HEADER)
    for dest in scenario:
        port = (ports or {}).get(dest.name, dest.port)
        reported = dest.reported_on.isoformat() if dest.reported_on else ""
        summary = dest.summary or f"c2watch lab destination {dest.name}"
        ip = "" if dest.domain else dest.address  # a named destination is found through the lab's DNS
        row = [dest.threat_id, ip, dest.domain or "", dest.url(port), port, reported, "", "", summary]
        writer.writerow(row)
    return out.getvalue()
