"""Many vantage points for real: a hub, three observers with their own addresses and simulated C2 hosts, each in a
network namespace this test creates (10.77.0.0/24 exists only inside them) and removes, even on failure.

The C2 namespace runs the lab's servers on 127.88.0.x and forwards its 10.77.0.2x addresses to them (DNAT), and
drops everything from kyoto-01's address to the "blocker" host. Over nine fast-forwarded 4-hour slots every observer
runs its cycles (ICMP + HTTP through the namespaces), syncs through the hub and refreshes verdicts and events as the
agent does; in the end every observer holds exactly the same verdicts, events and deny-list advice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from c2watch.home import Home
from c2watch.store import open_store
from c2watch.watchlist.importer import import_watchlist
from tests.verdict.netns import Driver, Netns, python, require_netns

JST = dt.timezone(dt.timedelta(hours=9))
T0 = dt.datetime(2021, 1, 5, tzinfo=JST)  # a slot: 00:00 JST
SLOT = dt.timedelta(hours=4)
SLOTS = 9
HUB = "10.77.0.2"
OBSERVERS = {"tokyo-01": "10.77.0.11", "osaka-01": "10.77.0.12", "kyoto-01": "10.77.0.13"}
BLOCKED = "kyoto-01"


def slot(n: int) -> dt.datetime:
    return T0 + n * SLOT


#: name -> (address seen by the observers, lab address, lab port, timeline)
C2 = {
    "blocker": ("10.77.0.21", "127.88.0.1", 8001, [(None, "status:200")]),
    "sleeper": ("10.77.0.22", "127.88.0.2", 8002, [(None, "status:200"), (slot(2), "closed"), (slot(6), "status:200")]),
    "switcher": ("10.77.0.23", "127.88.0.3", 8003, [(None, "status:200"), (slot(3), "status:404")]),
    "dier": ("10.77.0.24", "127.88.0.4", 8004, [(None, "status:200"), (slot(1), "closed")]),
    "never": ("10.77.0.25", "127.88.0.5", 8005, [(None, "closed")]),
}


def url(name: str) -> str:
    return f"http://{C2[name][0]}/gate.php"


def observer_toml(name: str, index: int, token: str) -> str:
    webhook = 'webhooks = ["http://127.0.0.1:9099/hook"]' if index == 0 else "webhooks = []"
    return f"""
[observer]
name = "{name}"
organization = "Org {name}"
[schedule]
jitter_seconds = 0.0
stagger_seconds = 1800.0
[cycle]
probes = ["icmp", "http"]
[icmp]
count = 1
interval = 0.05
timeout = 0.5
[http]
connect_timeout = 1.0
total_timeout = 2.0
[safety]
allow_networks = ["10.77.0.0/24"]
[hub]
url = "http://{HUB}:8400/api/"
token = "{token}"
[verdict]
alive_hours = 8.0
dead_days = 1.0
min_silent_cycles = 3
blocked_windows = 3
lookback_days = 2.0
merge_hours = 12.0
[alerts]
{webhook}
"""


def c2_rules() -> str:
    """DNAT of each host's address to its lab server; kyoto-01's packets to the blocker dropped before anything."""
    nat = "\n".join(f"    ip daddr {a} tcp dport 80 dnat to {lab}:{port}" for a, lab, port, _ in C2.values())
    return f"""table ip c2w_sim {{
  chain early {{
    type filter hook prerouting priority -300; policy accept;
    ip saddr {OBSERVERS[BLOCKED]} ip daddr {C2["blocker"][0]} drop
  }}
  chain forward {{
    type nat hook prerouting priority -100; policy accept;
{nat}
  }}
}}
"""


@pytest.fixture
def net() -> Iterator[Netns]:
    require_netns()
    netns = Netns()
    try:
        members = {"hub": [HUB], **{n: [a] for n, a in OBSERVERS.items()}, "c2": [a for a, *_ in C2.values()]}
        netns.build({k.split("-")[0]: v for k, v in members.items()})
        yield netns
    finally:
        netns.teardown()


def prepare_homes(tmp_path: Path) -> dict[str, Path]:
    """The hub's data directory (organisations, tokens) and each observer's (config, store, watchlist)."""
    hub_home = tmp_path / "hub"
    Home(hub_home).init()
    hub_store = open_store(hub_home / "c2watch.db")
    csv = "threat_id,ip,url,port\n" + "".join(f"NS-{n},{a},{url(n)},80\n" for n, (a, *_) in C2.items())
    (tmp_path / "watchlist.csv").write_text(csv, encoding="utf-8")
    homes = {"hub": hub_home}
    for index, name in enumerate(OBSERVERS):
        hub_store.access.add_organization(f"Org {name}")
        token, _ = hub_store.access.create_token(f"Org {name}", name, "observer")
        home = tmp_path / name
        home.mkdir()
        (home / "c2watch.toml").write_text(observer_toml(name, index, token), encoding="utf-8")
        Home(home).init()
        store = open_store(home / "c2watch.db")
        import_watchlist(store, tmp_path / "watchlist.csv", slot(0))
        store.close()
        homes[name] = home
    hub_store.close()
    return homes


def start(net: Netns, tmp_path: Path, homes: dict[str, Path]) -> tuple[Driver, dict[str, Driver]]:
    hub_log = tmp_path / "hub.log"
    net.spawn(
        "hub",
        python("c2watch", "hub", "serve", "--host", HUB, "--port", "8400"),
        hub_log,
        C2WATCH_HOME=str(homes["hub"]),
    )
    net.run("c2", "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1")
    net.run("c2", "nft", "-f", "-", stdin=c2_rules())
    config = {
        "start": slot(0).isoformat(),
        "destinations": [
            {"name": n, "address": lab, "port": port, "timeline": [[a and a.isoformat(), b] for a, b in timeline]}
            for n, (_, lab, port, timeline) in C2.items()
        ],
    }
    c2_log = tmp_path / "c2.log"
    c2 = Driver(net.spawn("c2", python("tests.verdict.netns_agent", "c2", json.dumps(config)), c2_log), c2_log)
    observers = {}
    for name in OBSERVERS:
        log = tmp_path / f"{name}.log"
        argv = python("tests.verdict.netns_agent", "observer", str(homes[name]))
        observers[name] = Driver(net.spawn(name.split("-")[0], argv, log), log)
    assert c2.reply()["ready"]
    offsets = {name: driver.reply()["offset_s"] for name, driver in observers.items()}
    assert len({int(seconds) for seconds in offsets.values()}) == 3  # staggered: never the same second
    observers["tokyo-01"].call(cmd="wait_hub")
    return c2, observers


def expected_state(me: str) -> dict[str, Any]:
    everybody = sorted(OBSERVERS)
    first_back = "osaka-01"  # the smallest stagger: the first to see the sleeper answer again
    return {
        "verdicts": {
            url("blocker"): {
                "status": "blocked-for-observer",
                "agreeing": ["osaka-01", "tokyo-01"],
                "blocked": [BLOCKED],
            },
            url("sleeper"): {"status": "alive", "agreeing": everybody, "blocked": []},
            url("switcher"): {"status": "alive", "agreeing": everybody, "blocked": []},
            url("dier"): {"status": "dead", "agreeing": everybody, "blocked": []},
            url("never"): {"status": "never-seen", "agreeing": everybody, "blocked": []},
        },
        "events": [
            ["blocking-suspected", url("blocker"), BLOCKED, [BLOCKED]],
            ["dead", url("dier"), "", everybody],
            ["reactivated", url("sleeper"), "", sorted({me, first_back})],
            ["status-changed", url("switcher"), "200→404", everybody],
        ],
        "keep": [C2[n][0] for n in ("blocker", "sleeper", "switcher", "never")]
        + [url(n) for n in ("blocker", "sleeper", "switcher", "never")],
        "removable": [C2["dier"][0], url("dier")],
    }


def test_three_observers_a_hub_and_c2_hosts_in_namespaces(net: Netns, tmp_path: Path) -> None:
    homes = prepare_homes(tmp_path)
    c2, observers = start(net, tmp_path, homes)
    for n in range(SLOTS):
        listening = c2.call(cmd="at", time=(slot(n) + dt.timedelta(seconds=1)).isoformat())["listening"]
        assert listening["sleeper"] == (n < 2 or n >= 6) and listening["dier"] == (n < 1)
        for driver in observers.values():  # the three cycles run at once, each at its own stagger
            driver.send(cmd="cycle", slot=slot(n).isoformat())
        summaries = {name: driver.reply() for name, driver in observers.items()}
        assert all(s["destinations"] == 5 for s in summaries.values())
        assert summaries[BLOCKED]["outcomes"].get("silent", 0) >= 1  # the blocker drops kyoto-01 entirely
        for driver in observers.values():
            driver.call(cmd="sync", now=(slot(n) + dt.timedelta(hours=1)).isoformat())
    for driver in observers.values():  # one more round: everybody has everybody's records
        driver.call(cmd="sync", now=(slot(SLOTS - 1) + dt.timedelta(hours=2)).isoformat())
    now = (slot(SLOTS - 1) + dt.timedelta(hours=3)).isoformat()
    states = {name: driver.call(cmd="state", now=now) for name, driver in observers.items()}
    for name, state in states.items():
        expected = expected_state(name)
        assert state["verdicts"] == expected["verdicts"], name
        assert state["events"] == expected["events"], name
        assert state["keep"] == expected["keep"] and state["removable"] == expected["removable"], name
        for destination, by_observer in state["times"].items():
            assert sorted(by_observer) == sorted(OBSERVERS) and all(len(t) == SLOTS for t in by_observer.values())
            for n in range(SLOTS):  # in every slot the three observers probed at three different seconds
                seconds = {dt.datetime.fromisoformat(times[n]).replace(microsecond=0) for times in by_observer.values()}
                assert len(seconds) == 3, (destination, n)
    received = states["tokyo-01"]["received"]  # the webhook on tokyo-01's 127.0.0.1 got each of its events once
    assert sorted(map(tuple, received)) == sorted((k, d, s) for k, d, s, _ in states["tokyo-01"]["events"])
    for driver in [c2, *observers.values()]:
        driver.call(cmd="quit")
