"""The key commands: init makes the observer's key 0600, ``key show`` prints its public half, ``key rotate``
keeps the old key aside; the hub operator registers, lists and revokes observer keys; the air-gapped import takes
a key with ``--key`` and refuses an altered record. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from c2watch.stix.keys import load_private_key, public_key_text
from c2watch.stix.signing import key_id
from c2watch.stix.vocab import DETAILS_EXTENSION, identity_ids
from tests.helpers.cli import Invoke, as_json
from tests.helpers.hub import ORG_B, signing_producer
from tests.helpers.stix_factory import group


def test_init_makes_a_private_key_and_key_show_prints_its_public_half(invoke: Invoke, home: Path) -> None:
    path = home / "observer.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert invoke("key", "show").stdout.strip() == public_key_text(load_private_key(path))
    shown = as_json(invoke("key", "show", "--json"))
    assert shown["observer_ref"] == identity_ids("Local CSIRT", "observer-01")[1]
    assert "observer.key" not in invoke("init").stdout  # init again keeps the key
    rotated = invoke("key", "rotate").stdout
    assert shown["key_id"] in rotated
    assert as_json(invoke("key", "show", "--json"))["key_id"] != shown["key_id"]
    [retired] = home.glob("observer.key.*.retired")
    assert key_id(load_private_key(retired).public_key()) == shown["key_id"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_hub_operator_registers_lists_and_revokes_observer_keys(invoke: Invoke, home: Path, tmp_path: Path) -> None:
    invoke("hub", "org", "add", ORG_B)
    public = tmp_path / "osaka.pub"
    public.write_text(invoke("key", "show").stdout)
    added = as_json(
        invoke("hub", "observer", "add", "--org", ORG_B, "--observer", "osaka-01", "--key", str(public), "--json")
    )
    assert added["observer_ref"] == identity_ids(ORG_B, "osaka-01")[1] and added["added"] is True
    again = invoke("hub", "observer", "add", "--org", ORG_B, "--observer", "osaka-01", "--key", public.read_text())
    assert "already registered" in again.stdout
    other = invoke("hub", "observer", "add", "--org", ORG_B, "--observer", "osaka-02", "--key", str(public), ok=False)
    assert other.exit_code != 0 and "belongs to observer" in other.stderr
    unknown = invoke("hub", "observer", "add", "--org", "Nobody", "--observer", "x", "--key", str(public), ok=False)
    assert "unknown organisation" in unknown.stderr
    [listed] = as_json(invoke("hub", "observer", "list", "--json"))
    assert (listed["key_id"], listed["revoked_at"], listed["source"]) == (added["key_id"], None, "registered")
    invoke("hub", "observer", "revoke-key", added["key_id"], "--at", "2026-12-01T00:00:00Z")
    [revoked] = as_json(invoke("hub", "observer", "list", "--json"))
    assert revoked["revoked_at"].startswith("2026-12-01T00:00:00")
    future = invoke("hub", "observer", "revoke-key", added["key_id"], "--at", "2999-01-01", ok=False)
    assert "not in the future" in future.stderr


def test_import_with_the_observers_key_refuses_an_altered_record(invoke: Invoke, tmp_path: Path) -> None:
    p = signing_producer(ORG_B, "osaka-20")
    objects = [*p.identities(), *group(p, 1), *group(p, 2)]
    observed = [o for o in objects if o["type"] == "observed-data"]
    observed[1]["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"
    path = tmp_path / "org-b.json"
    path.write_text(
        json.dumps({"type": "bundle", "id": "bundle--6f0c5e55-5f0a-4c7e-8a55-2b1e4c0f8a11", "objects": objects})
    )
    assert p.key is not None
    result = as_json(
        invoke("import", "observations", str(path), "--org", ORG_B, "--key", public_key_text(p.key), "--json")
    )
    assert (result["indexed"], result["refused_signatures"]) == (1, 1)
    assert {f["id"]: f["message"] for f in result["failures"]} == {observed[1]["id"]: "signature: invalid"}
    text = invoke("import", "observations", str(path), "--org", ORG_B).stdout
    assert "1 records whose signature does not hold" in text  # the key is pinned now


def test_key_trust_pins_another_observers_key_by_hand(invoke: Invoke, tmp_path: Path) -> None:
    p = signing_producer(ORG_B, "osaka-30")
    assert p.key is not None
    text = public_key_text(p.key)
    assert (
        "pinned for observer" in invoke("key", "trust", "--org", ORG_B, "--observer", "osaka-30", "--key", text).stdout
    )
    again = invoke("key", "trust", "--org", ORG_B, "--observer", "osaka-30", "--key", text).stdout
    assert "already pinned" in again
    bad = invoke("key", "trust", "--org", ORG_B, "--observer", "osaka-30", "--key", "AAAA", ok=False)
    assert "32 bytes" in bad.stderr
