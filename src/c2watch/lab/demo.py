"""The built-in demo scenario, and a scenario written as a native c2watch watchlist CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from c2watch.lab.scenario import Destination, Scenario
from c2watch.watchlist.native import COLUMNS

__all__ = ["DEMO_START", "WATCHLIST_HEADER", "example_scenario", "to_watchlist_csv"]

#: Where the demo's timelines begin unless told otherwise.
DEMO_START = datetime(2025, 1, 1, tzinfo=UTC)
WATCHLIST_HEADER = COLUMNS  # the native CSV format's columns


def example_scenario(start: datetime = DEMO_START) -> Scenario:
    """Eight destinations of threats DEMO-A and DEMO-B on 127.77.0.1-8.

    ``demo-a-gate`` answers 200 from ``start``, 404 from ``start`` + 7 days and 500 from
    ``start`` + 14 days; the others keep one behaviour (closed, tarpit, slow, reset, HTTPS 200,
    a deterministic 60 % rate, and one whose pings are dropped).
    """

    def dest(
        index: int,
        name: str,
        threat: str,
        behaviour: str,
        *,
        scheme: str = "http",
        port: int = 8080,
        path: str = "/gate.php",
        ping: str = "reply",
    ) -> Destination:
        return Destination(
            name=name,
            threat_id=threat,
            address=f"127.77.0.{index}",
            port=port,
            timeline=[(None, behaviour)],
            scheme=scheme,
            path=path,
            ping=ping,
            reported_on=start.date(),
            summary=f"c2watch lab demo: {behaviour}",
        )

    gate = Destination(
        name="demo-a-gate",
        threat_id="DEMO-A",
        address="127.77.0.1",
        port=8080,
        path="/gate.php",
        timeline=[
            (start, "status:200"),
            (start + timedelta(days=7), "status:404"),
            (start + timedelta(days=14), "status:500"),
        ],
        reported_on=start.date(),
        summary="c2watch lab demo: 200, then 404 after a week, then 500",
    )
    return Scenario(
        [
            gate,
            dest(2, "demo-a-panel", "DEMO-A", "closed", ping="drop"),
            dest(3, "demo-a-tarpit", "DEMO-A", "tarpit"),
            dest(4, "demo-a-slow", "DEMO-A", "slow:1.5"),
            dest(5, "demo-b-gate", "DEMO-B", "reset"),
            dest(6, "demo-b-tls", "DEMO-B", "status:200", scheme="https", port=8443, path="/"),
            dest(7, "demo-b-rate", "DEMO-B", "rate:0.6:status:200"),
            dest(8, "demo-b-lossy", "DEMO-B", "status:404", ping="loss:50"),
        ]
    )


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
