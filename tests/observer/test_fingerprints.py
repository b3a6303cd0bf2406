"""A real cycle against lab personas records each answer's fingerprint with no extra request (certificate serial,
subject, issuer, expiry and self-signedness; header order, Shodan's html hash, the title) in the store and in the
STIX details extension, and the stored fingerprint is what the shipped signatures recognise."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import mmh3
from stix2validator import ValidationOptions, validate_file

from c2watch.fingerprint import favicon_hash
from c2watch.identity import Evidence, load_rules, match
from c2watch.identity.judge import REASSIGNED, judge
from c2watch.identity.sightings import sighting_of
from c2watch.lab import Scenario
from c2watch.lab.personas import PERSONAS
from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import Store
from tests.helpers.observing import destination, lab_cycle, lab_settings

PERSONA_NAMES = ["cobalt-strike", "metasploit", "nginx-default"]
SCENARIO = Scenario(
    [
        replace(destination(i + 1, f"as:{name}", scheme="https"), address=f"127.91.0.{i + 1}")
        for i, name in enumerate(PERSONA_NAMES)
    ]
)
SETTINGS = lab_settings(cycle={"probes": ["http", "tls"]})
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def cycle(store: Store, tmp_path: Path) -> tuple[dict[str, dict[str, Any]], Path]:
    rows, path = lab_cycle(store, SCENARIO, SETTINGS, tmp_path)
    names = {dest.name: name for dest, name in zip(SCENARIO, PERSONA_NAMES, strict=True)}
    return {names[name]: row for name, row in rows.items()}, path


def evidence(http: dict[str, Any]) -> Evidence:
    return Evidence(
        cert_serial=http.get("cert_serial"),
        cert_subject=http.get("cert_subject"),
        cert_issuer=http.get("cert_issuer"),
        title=http.get("title"),
        html_hash=http.get("html_hash"),
    )


def test_answers_are_fingerprinted_and_recognised(store: Store, tmp_path: Path) -> None:
    rows, path = cycle(store, tmp_path)
    http = {name: row["details"]["probes"]["http"] for name, row in rows.items()}
    tls = {name: row["details"]["probes"]["tls"] for name, row in rows.items()}
    cs = http["cobalt-strike"]
    assert (cs["cert_serial"], cs["cert_self_signed"], cs["title"]) == ("146473198", True, None)
    assert "O=cobaltstrike" in cs["cert_subject"] and cs["cert_sha256"] == tls["cobalt-strike"]["cert_sha256"]
    assert tls["metasploit"]["cert_issuer"] == "CN=MetasploitSelfSignedCA" and not tls["metasploit"]["cert_self_signed"]
    nginx = http["nginx-default"]
    assert nginx["title"] == "Welcome to nginx!" and nginx["html_hash"] == mmh3.hash(PERSONAS["nginx-default"].body)
    assert len({h["header_order_sha256"] for h in http.values()}) == 2  # nginx's headers, and the plain 404's
    found = {name: sorted(m.rule.id for m in match(load_rules(), evidence(h))) for name, h in http.items()}
    assert found == {
        "cobalt-strike": ["cobalt-strike.default-certificate"],
        "metasploit": ["metasploit.default"],
        "nginx-default": ["default-page.nginx"],
    }
    bundle = json.loads(path.read_text(encoding="utf-8"))
    flows = [o for o in bundle["objects"] if o["type"] == "network-traffic" and "dst_port" in o]
    serials = {o["extensions"][DETAILS_EXTENSION].get("cert_serial") for o in flows}
    assert "146473198" in serials and len(flows) == len(PERSONA_NAMES)
    result = validate_file(str(path), ValidationOptions(version="2.1", disabled=["103", "301"]))
    assert result.is_valid


ACTIVE = Scenario(
    [
        replace(destination(1, "as:nginx-default", scheme="https"), address="127.91.1.1"),
        replace(destination(2, "status:404"), address="127.91.1.2"),
        replace(destination(3, "closed", scheme="https"), address="127.91.1.3"),
    ]
)


def test_opt_in_jarm_and_favicon(store: Store, tmp_path: Path) -> None:
    settings = lab_settings(cycle={"probes": ["http", "jarm", "favicon"]}, tls={"timeout": 0.5})
    rows, path = lab_cycle(store, ACTIVE, settings, tmp_path)
    tenant, plain, closed = (rows[dest.name]["details"]["probes"] for dest in ACTIVE)
    assert tenant["jarm"]["outcome"] == "fingerprinted" and len(tenant["jarm"]["jarm"]) == 62
    assert tenant["jarm"]["answered"] >= 1 and set(tenant["jarm"]["jarm"]) != {"0"}
    assert tenant["favicon"]["favicon_hash"] == favicon_hash(PERSONAS["nginx-default"].body)  # the lab answers any path
    assert plain["jarm"]["outcome"] == "not-applicable" and plain["favicon"]["status"] == 404
    assert (closed["jarm"]["outcome"], closed["jarm"]["jarm"]) == ("no-answer", "0" * 62)
    assert closed["favicon"]["outcome"] == "error" and closed["favicon"]["error"] == "refused"
    bundle = json.loads(path.read_text(encoding="utf-8"))
    details = [o["extensions"][DETAILS_EXTENSION] for o in bundle["objects"] if "dst_port" in o]
    assert {d.get("jarm") for d in details} == {tenant["jarm"]["jarm"], None}
    assert tenant["favicon"]["favicon_hash"] in {d.get("favicon_hash") for d in details}


def test_stored_rows_become_sightings_the_judgement_reads(store: Store, tmp_path: Path) -> None:
    rows, _ = cycle(store, tmp_path)
    step = dt.timedelta(hours=4)
    c2, tenant = rows["cobalt-strike"], rows["nginx-default"]
    history = [{**c2, "observed_at": T0 + n * step} for n in range(10)]
    history += [{**tenant, "observed_at": T0 + n * step} for n in range(10, 40)]  # the address re-rented
    sightings = [sighting_of(row) for row in history]
    assert sightings[0].evidence.cert_serial == "146473198" and sightings[0].status == 404
    assert sightings[-1].evidence.title == "Welcome to nginx!" and sightings[-1].identity is not None
    judgement = judge(sightings, load_rules())
    assert (judgement.status, judgement.since) == (REASSIGNED, T0 + 10 * step)
    assert {"cert_sha256", "header_order"} <= set(judgement.differing)
    steady = judge([sighting_of({**c2, "observed_at": T0 + n * step}) for n in range(30)], load_rules())
    assert (steady.status, steady.identity) == (None, "same")
    assert steady.framework is not None and steady.framework.rule.name == "Cobalt Strike"
