"""The opt-in resolved-address probe: a named destination's GET sent to the address its name resolved to, with the
address as Host (the lab's access log shows both requests); the answer at the address recorded per observation and
in the STIX details extension; an IP destination left alone; nothing runs by default."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from c2watch.lab import Destination, Lab, Scenario, with_lab_names
from c2watch.models.kinds import DEFAULT_PROBES
from c2watch.observer.cycle import run_cycle
from c2watch.store import Store
from tests.helpers.observing import import_lab, lab_settings

SCENARIO = Scenario(
    [
        Destination("named", "T", "127.66.2.1", 0, [(None, "as:nginx-default")], domain="gate.moved.test"),
        Destination("plain", "T", "127.66.2.2", 0, [(None, "status:404")]),
    ]
)


def _cycle(store: Store, tmp_path: Path, probes: list[str]) -> tuple[dict[str, dict[str, Any]], list[bytes], Path]:
    async def go() -> tuple[list[bytes], Path]:
        async with Lab(SCENARIO, control_icmp=False) as lab:
            settings = with_lab_names(lab_settings(cycle={"probes": probes}), lab)
            import_lab(store, lab, SCENARIO, tmp_path)
            summary = await run_cycle(store, settings, tmp_path)
            heads = [access.head for access in lab.access if access.name == "named"]
        assert summary.stix_path is not None
        return heads, Path(summary.stix_path)

    heads, bundle = asyncio.run(go())
    rows = {("named" if "moved" in row["probed_value"] else "plain"): row for row in store.observations.rows()}
    return {name: row["details"]["probes"] for name, row in rows.items()}, heads, bundle


def test_the_address_of_a_name_is_asked_as_well(store: Store, tmp_path: Path) -> None:
    probes, heads, bundle = _cycle(store, tmp_path, ["dns", "http", "resolved"])
    named, plain = probes["named"], probes["plain"]
    assert named["http"]["status"] == 200 and named["resolved"]["status"] == 200
    assert named["resolved"]["address"] == "127.66.2.1" and named["resolved"]["url"].startswith("http://127.66.2.1:")
    assert named["resolved"]["title"] == named["http"]["title"] == "Welcome to nginx!"
    hosts = sorted(
        line.split(b": ", 1)[1] for head in heads for line in head.split(b"\r\n") if line.startswith(b"Host:")
    )
    assert [host.split(b":")[0] for host in hosts] == [b"127.66.2.1", b"gate.moved.test"]
    assert plain["resolved"]["outcome"] == "not-a-name" and "status" not in plain["resolved"]
    details = [
        ext
        for obj in json.loads(bundle.read_text(encoding="utf-8"))["objects"]
        for ext in obj.get("extensions", {}).values()
        if isinstance(ext, dict) and isinstance(ext.get("resolved"), dict)  # not the name's list of addresses
    ]
    assert [d["resolved"]["status"] for d in details] == [200]


def test_off_by_default(store: Store, tmp_path: Path) -> None:
    assert "resolved" not in DEFAULT_PROBES
    probes, heads, _ = _cycle(store, tmp_path, list(DEFAULT_PROBES))
    assert "resolved" not in probes["named"] and len(heads) == 1
