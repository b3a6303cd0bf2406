"""Observing without being seen, for real: the observer, the proxies and the C2 each in a network namespace this test
creates (10.78.0.0/24 exists only inside them) and removes, even on failure.

- ``obs`` (10.78.0.10): the observer, with its own resolver on its 127.0.0.1 (knows the C2 names);
- ``proxy`` (10.78.0.20): microsocks (SOCKS5, names resolved at the proxy: ``socks5h``) and tinyproxy (HTTP
  CONNECT), both Debian packages; their namespace resolves the C2 names through its own hosts file;
- ``c2`` (10.78.0.30 http, 10.78.0.31 https): the lab's servers, which log every connection's peer and request.

A direct cycle first (the control: the C2 sees 10.78.0.10 and the observer's resolver is asked for the names), then
one through both proxies (round robin): the C2 sees only 10.78.0.20 for HTTP, TLS, JARM and the favicon, and the
observer's resolver is never asked for a C2 name; then the proxies are stopped: every destination is
``egress-failed`` for three days of cycles and no verdict changes.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file

from c2watch.analysis.verdicts import VerdictRules, evaluate
from c2watch.home import Home
from c2watch.store import open_store
from c2watch.watchlist.importer import import_watchlist
from tests.helpers.proxies import require_proxies, start_microsocks, start_tinyproxy, stop, wait_until
from tests.verdict.netns import Driver, Netns, python, require_netns

OBSERVER, PROXY, C2_HTTP, C2_HTTPS = "10.78.0.10", "10.78.0.20", "10.78.0.30", "10.78.0.31"
SOCKS_PORT, CONNECT_PORT, DNS_PORT = 1080, 8888, 5353
NAMES = {"gate.c2.example": C2_HTTP, "secure.c2.example": C2_HTTPS}
T0 = dt.datetime(2021, 3, 1, tzinfo=dt.UTC)
WATCHLIST = f"""threat_id,ip,url,port
EG-HTTP-IP,{C2_HTTP},http://{C2_HTTP}/gate.php,80
EG-HTTPS-IP,{C2_HTTPS},https://{C2_HTTPS}/gate.php,443
EG-HTTP-NAME,,http://gate.c2.example/gate.php,80
EG-HTTPS-NAME,,https://secure.c2.example/gate.php,443
EG-PROXY,{PROXY},http://{PROXY}:{CONNECT_PORT}/,{CONNECT_PORT}
"""
PROBED = 4  # the fifth is the proxy's own address: refused by the guard, proxy or not

BASE = f"""
[observer]
name = "egress-01"
organization = "Org Egress"
[cycle]
probes = ["dns", "icmp", "http", "tls", "jarm", "favicon"]
[icmp]
count = 1
interval = 0.05
timeout = 0.5
[http]
connect_timeout = 2.0
total_timeout = 4.0
[tls]
timeout = 2.0
[dns]
nameservers = ["127.0.0.1"]
port = {DNS_PORT}
timeout = 1.0
[safety]
allow_networks = ["{C2_HTTP}/31"]
allow_domains = ["c2.example"]
"""
EGRESS = f"""
[egress]
pick = "round-robin"
dns = "proxy"
proxies = [
  {{url = "socks5h://{PROXY}:{SOCKS_PORT}", label = "socks"}},
  {{url = "http://{PROXY}:{CONNECT_PORT}", label = "connect"}},
]
"""


def c2_rules() -> str:
    return f"""table ip c2w_egress {{
  chain forward {{
    type nat hook prerouting priority -100; policy accept;
    ip daddr {C2_HTTP} tcp dport 80 dnat to 127.88.0.1:8001
    ip daddr {C2_HTTPS} tcp dport 443 dnat to 127.88.0.2:8443
  }}
}}
"""


@pytest.fixture
def net() -> Iterator[Netns]:
    require_netns()
    require_proxies()
    netns = Netns()
    hosts = Path("/etc/netns") / netns.name("proxy")  # `ip netns exec` mounts it over /etc: the proxy's resolver
    try:
        netns.build({"obs": [OBSERVER], "proxy": [PROXY], "c2": [C2_HTTP, C2_HTTPS]})
        hosts.mkdir(parents=True)
        lines = "".join(f"{address} {name}\n" for name, address in NAMES.items())
        (hosts / "hosts").write_text(f"127.0.0.1 localhost\n{lines}", encoding="utf-8")
        yield netns
    finally:
        netns.teardown()
        shutil.rmtree(hosts, ignore_errors=True)


def listening(net: Netns, port: int) -> bool:
    found = subprocess.run(
        ["ip", "netns", "exec", net.name("proxy"), "ss", "-Hltn", f"sport = :{port}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return bool(found.stdout.strip())


def start_proxies(net: Netns, tmp_path: Path) -> list[subprocess.Popen[bytes]]:
    inside = ["ip", "netns", "exec", net.name("proxy")]
    procs = [
        start_microsocks(PROXY, SOCKS_PORT, tmp_path / "microsocks.log", prefix=inside),
        start_tinyproxy(PROXY, CONNECT_PORT, tmp_path / "tinyproxy", f"{OBSERVER}/32", prefix=inside),
    ]
    try:
        for port in (SOCKS_PORT, CONNECT_PORT):
            wait_until(lambda port=port: listening(net, port), f"proxy on port {port}")  # type: ignore[misc]
    except BaseException:
        for proc in procs:
            stop(proc)
        raise
    return procs


def start(net: Netns, tmp_path: Path) -> tuple[Driver, Driver, Path]:
    net.run("c2", "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1")
    net.run("c2", "nft", "-f", "-", stdin=c2_rules())
    config = {
        "destinations": [
            {"name": "http", "address": "127.88.0.1", "port": 8001, "scheme": "http"},
            {"name": "https", "address": "127.88.0.2", "port": 8443, "scheme": "https"},
        ]
    }
    c2_log = tmp_path / "c2.log"
    c2 = Driver(net.spawn("c2", python("tests.observer.egress_netns_agent", "c2", json.dumps(config)), c2_log), c2_log)
    home = tmp_path / "observer"
    home.mkdir()
    Home(home).init()
    (home / "c2watch.toml").write_text(BASE, encoding="utf-8")
    store = open_store(home / "c2watch.db")
    (tmp_path / "watchlist.csv").write_text(WATCHLIST, encoding="utf-8")
    import_watchlist(store, tmp_path / "watchlist.csv", T0)
    store.close()
    log = tmp_path / "observer.log"
    records = json.dumps({name: [address] for name, address in NAMES.items()})
    argv = python("tests.observer.egress_netns_agent", "observer", str(home), str(DNS_PORT), records)
    obs = Driver(net.spawn("obs", argv, log), log)
    assert c2.reply()["ready"] and obs.reply()["ready"]
    return c2, obs, home


def rows(home: Path, since: dt.datetime) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "c2watch.db") as conn:
        found = conn.execute(
            "SELECT probed_value, outcome, details FROM observations WHERE observed_at >= ? ORDER BY probed_value",
            (since.strftime("%Y-%m-%d %H:%M:%S"),),
        ).fetchall()
    return [{"value": v, "outcome": o, "details": json.loads(d)} for v, o, d in found]


def valid_bundle(path: str) -> bool:
    return bool(validate_file(path, ValidationOptions(version="2.1", disabled=["103", "301"])).is_valid)


def c2_names_asked(obs: Driver) -> dict[str, int]:
    """How often the observer's resolver was asked about each name of the C2's zone."""
    return {name: n for name, n in obs.call(cmd="dns")["names"].items() if name.endswith("c2.example")}


@pytest.fixture
def proxies(net: Netns, tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = start_proxies(net, tmp_path)
    try:
        yield procs
    finally:
        for proc in procs:
            stop(proc)


def test_the_c2_sees_the_proxy_never_the_observer(
    net: Netns, tmp_path: Path, proxies: list[subprocess.Popen[bytes]]
) -> None:
    c2, obs, home = start(net, tmp_path)

    direct = obs.call(cmd="cycle", at=T0.isoformat())  # the control: what a direct observer shows
    assert direct["outcomes"] == {"responding": PROBED, "refused-by-guard": 1}
    seen = c2.call(cmd="access")
    assert {peer for _, peer in seen["hits"]} == {OBSERVER}
    asked = c2_names_asked(obs)
    assert set(NAMES) <= set(asked)

    c2.call(cmd="clear")
    (home / "c2watch.toml").write_text(BASE + EGRESS, encoding="utf-8")
    via = T0 + dt.timedelta(hours=4)
    through = obs.call(cmd="cycle", at=via.isoformat())
    assert through["outcomes"] == {"responding": PROBED, "refused-by-guard": 1}
    assert valid_bundle(through["stix_path"])
    seen = c2.call(cmd="access")
    assert {peer for _, peer in seen["hits"]} == {PROXY}  # HTTP, favicon, TLS and JARM: the proxy's address only
    hits_https = sum(1 for name, _ in seen["hits"] if name == "https")
    assert hits_https >= 2 * (1 + 1 + 1 + 10)  # two destinations: GET, favicon, handshake, ten JARM hellos
    heads = [head for _, _, head in seen["access"]]
    assert len(heads) == 2 * PROBED  # GET and favicon of each
    assert sum("Host: gate.c2.example\r\n" in head for head in heads) == 2  # the name reached the C2 as sent
    assert not any(word in head for head in heads for word in ("Via:", "Forwarded", "egress-01", "Org Egress"))
    assert c2_names_asked(obs) == asked  # not one question more than the direct cycle asked: socks5h
    observed = [row for row in rows(home, via) if row["outcome"] == "responding"]
    assert {row["details"]["egress"] for row in observed} == {"socks", "connect"}
    for row in observed:
        probes = row["details"]["probes"]
        assert probes["icmp"]["outcome"] == "refused-by-egress"
        assert probes["dns"]["outcome"] == ("by-proxy" if "c2.example" in row["value"] else "not-applicable")
        if row["value"].startswith("https"):
            assert probes["tls"]["outcome"] == "handshake" and probes["jarm"]["outcome"] == "fingerprinted"

    store = open_store(home / "c2watch.db")
    rules = VerdictRules(dead_after=dt.timedelta(days=1), min_silent_cycles=2)
    judged_at = T0 + dt.timedelta(days=5)
    store.verdicts.fold_summaries(via)
    before = [v.as_dict() for v in evaluate(store, rules, judged_at)]
    for proc in proxies:
        stop(proc)
    for day in (1, 2, 3):
        down = obs.call(cmd="cycle", at=(T0 + dt.timedelta(days=day)).isoformat())
        assert down["outcomes"] == {"egress-failed": PROBED, "refused-by-guard": 1}
        assert valid_bundle(down["stix_path"])
    store.verdicts.fold_summaries(judged_at)
    after = [v.as_dict() for v in evaluate(store, rules, judged_at)]
    store.close()
    assert sorted(v["status"] for v in before) == ["dormant"] * PROBED + ["never-seen"]
    probed = [n for n, v in enumerate(before) if v["threat_id"] != "EG-PROXY"]  # refused: observed on as before
    assert [after[n] for n in probed] == [before[n] for n in probed]
    for driver in (c2, obs):
        driver.call(cmd="quit")
