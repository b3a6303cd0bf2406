"""Deny-list outputs people plug in: --values gives the same kind of values in both modes; the nftables file is
checked by nft itself (in a network namespace this test creates) and loaded there; the MISP feed is read back by
PyMISP, the MISP project's own library."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pymisp import MISPEvent

from c2watch.analysis.blocklist import Advice, advise
from c2watch.analysis.blocklist_formats import feed_files, nft_set, parse_values, write_feed
from c2watch.analysis.verdicts import Verdict
from c2watch.cli import cli
from c2watch.errors import InputError
from c2watch.store import Store, open_store
from tests.verdict.world import RULES, World, slot

NOW = slot(20)
ORG, ORG_IDENTITY = "Org A CSIRT", "identity--6f1c1d36-5d6c-5a43-9d53-9c2b4b1f0e01"


def world_verdicts(store: Store) -> list[Verdict]:
    """alive IPv4+URL (TID-A); dead IPv4+domain (TID-B); an IPv6 both alive (TID-A) and dead (TID-B)."""
    world = World(store)
    world.target("alive", threat="TID-A", ip="198.51.100.7", url="http://198.51.100.7:8080/gate.php", port=8080)
    world.target("dead", threat="TID-B", ip="203.0.113.9", domain="cdn.c2.example", port=443)
    world.target("shared-alive", threat="TID-A", ip="2001:db8::7", port=80)
    world.target("shared-dead", threat="TID-B", ip="2001:db8::7", port=443)
    world.add(
        world.row("alive", "tokyo", slot(20), status=200), world.row("shared-alive", "tokyo", slot(20), status=200)
    )
    for name in ("dead", "shared-dead"):
        world.add(world.row(name, "tokyo", slot(0), status=200), *world.series(name, "tokyo", range(1, 20)))
    return list(world.verdicts(NOW).values())


def build(store: Store, values: str = "all") -> Advice:
    return advise(world_verdicts(store), RULES, NOW, kinds=parse_values(values))


def test_values_choose_the_same_kind_in_both_modes(store: Store) -> None:
    assert parse_values("all") == ("ip", "domain", "url") and parse_values("url, ip") == ("ip", "url")
    with pytest.raises(InputError, match="unknown kind mac"):
        parse_values("mac")
    verdicts = world_verdicts(store)
    for kind in ("ip", "domain", "url"):
        advice = advise(verdicts, RULES, NOW, kinds=parse_values(kind))
        assert {e.kind for e in advice.keep + advice.removable} == {kind}
    advice = advise(verdicts, RULES, NOW, kinds=parse_values("ip"))
    assert [e.value for e in advice.keep] == ["198.51.100.7", "2001:db8::7"]  # shared: kept while one is alive
    assert [e.value for e in advice.removable] == ["203.0.113.9"]


# --- nftables ---


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace of this test's own (nft -c needs netlink; nothing outside it is touched)."""
    if shutil.which("nft") is None or shutil.which("ip") is None:
        pytest.skip("Debian packages nftables and iproute2 not installed")
    name = f"c2w-nft-{secrets.token_hex(4)}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {made.stderr.strip()}")
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=True)


def nft(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", netns, "nft", *args], capture_output=True, text=True, timeout=30)


def test_nft_file_is_checked_and_loaded_by_nft(store: Store, netns: str, tmp_path: Path) -> None:
    advice = build(store)
    kept, removable = tmp_path / "kept.nft", tmp_path / "removable.nft"
    kept.write_text(nft_set(advice.keep, removable=False), encoding="utf-8")
    removable.write_text(nft_set(advice.removable, removable=True), encoding="utf-8")
    assert "1 domain/URL values left out" in kept.read_text()
    for path in (kept, removable):
        checked = nft(netns, "-c", "-f", str(path))
        assert checked.returncode == 0, checked.stderr
    broken = tmp_path / "broken.nft"
    broken.write_text(kept.read_text().replace("198.51.100.7", "198.51.100.777"), encoding="utf-8")
    assert nft(netns, "-c", "-f", str(broken)).returncode != 0  # the check does reject a bad file
    for _ in range(2):  # loading twice replaces the contents (the sets are flushed first)
        assert nft(netns, "-f", str(kept)).returncode == 0
    listed = nft(netns, "-j", "list", "set", "inet", "c2watch", "c2watch_block_v4")
    elements = [item["set"].get("elem") for item in json.loads(listed.stdout)["nftables"] if "set" in item]
    assert elements == [["198.51.100.7"]]
    v6 = nft(netns, "list", "set", "inet", "c2watch", "c2watch_block_v6").stdout
    assert "2001:db8::7" in v6


def test_nft_refuses_a_list_without_addresses(store: Store) -> None:
    advice = build(store, "url")
    with pytest.raises(InputError, match="--values ip or all"):
        nft_set(advice.keep, removable=False)
    assert "add table inet c2watch" in nft_set([], removable=False)  # an empty list is still a valid file


# --- MISP feed ---


def test_misp_feed_loads_in_pymisp_with_attributes_and_sightings(store: Store, tmp_path: Path) -> None:
    advice = build(store)
    feed = tmp_path / "feed"
    write_feed(feed, feed_files(advice.removable, ORG, ORG_IDENTITY, True, NOW))
    write_feed(tmp_path / "kept", feed_files(advice.keep, ORG, ORG_IDENTITY, False, NOW))
    manifest = json.loads((feed / "manifest.json").read_text())
    assert len(manifest) == 1  # the removable values all belong to TID-B
    [(event_uuid, head)] = manifest.items()
    assert head["Orgc"]["name"] == ORG and "TID-B" in head["info"]
    event = MISPEvent()
    event.load_file(str(feed / f"{event_uuid}.json"))
    assert event.uuid == event_uuid and event.Orgc.name == ORG
    by_value = {a.value: a for a in event.attributes}
    assert {(a.type, a.value) for a in event.attributes} == {
        ("ip-dst", "203.0.113.9"),
        ("domain", "cdn.c2.example"),
    }
    dead = by_value["203.0.113.9"]
    assert dead.to_ids is False and dead.category == "Network activity"
    assert sorted(int(s.type) for s in dead.sightings) == [0, 2]  # the last answer, then its expiry
    assert [t.name for t in dead.tags] == ['c2watch:status="dead"']
    hashes = (feed / "hashes.csv").read_text().splitlines()
    assert len(hashes) == 2 and all(line.endswith(event_uuid) for line in hashes)
    kept_manifest = json.loads((tmp_path / "kept" / "manifest.json").read_text())
    kept_events = []
    for uuid in kept_manifest:
        loaded = MISPEvent()
        loaded.load_file(str(tmp_path / "kept" / f"{uuid}.json"))
        kept_events.append(loaded)
    values = {a.value: a.to_ids for e in kept_events for a in e.attributes}
    assert values == {"198.51.100.7": True, "2001:db8::7": True, "http://198.51.100.7:8080/gate.php": True}


def test_cli_writes_nft_and_misp_and_refuses_what_they_cannot_hold(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["init"]).exit_code == 0
    store = open_store(home / "c2watch.db")
    world_verdicts(store)
    World(store).refresh(NOW)  # stored verdicts, read with --no-refresh
    store.close()

    def run(*args: str) -> Result:
        return runner.invoke(cli, ["export", "blocklist", "--no-refresh", *args])

    nft_out = run("--values", "ip", "--format", "nft")
    assert nft_out.exit_code == 0 and "add element inet c2watch c2watch_block_v4 { 198.51.100.7 }" in nft_out.stdout
    assert run("--values", "url", "--format", "nft").exit_code == 2
    assert "--output DIR" in run("--format", "misp").stderr
    feed = tmp_path / "misp"
    written = run("--format", "misp", "--removable", "-o", str(feed))
    assert written.exit_code == 0 and "2 removable values written as a MISP feed of 1 events" in written.stderr
    assert sorted(p.name for p in feed.iterdir())[-2:] == ["hashes.csv", "manifest.json"]
    assert run("--removable", "--values", "ip").stdout.splitlines()[0].startswith("203.0.113.9  # dead")
    assert run("--removable", "--kind", "domain").stdout.startswith("cdn.c2.example  # dead")  # the former name
