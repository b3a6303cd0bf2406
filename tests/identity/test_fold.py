"""The stored identity fold skips the signatures when a destination brings its last evidence again; the tracks it
keeps must equal those of testing every sighting (``Track.add`` on each row), whatever changes and whenever, on
every backend, and tracks stored before the evidence digest was kept still fold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from c2watch.identity import Evidence, judge, load_rules
from c2watch.identity.judge import PARKED, SINKHOLED, Identity, IdentityRules, Sighting, Track
from c2watch.identity.sightings import evidence_digest, sighting_of, signatures_digest
from c2watch.store import Store
from c2watch.store.tables import identity_tracks
from tests.verdict.world import World, slot

SIGNATURES = load_rules()
RULES = IdentityRules()
SINKHOLE = "104.155.11.149"
C2_CERT = "c" * 64


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


def row(world: World, target: str, n: int, observer: str = "tokyo", **answer: Any) -> dict[str, Any]:
    """An answering row (a C2 on nginx by default) with the details the sighting reads."""
    status = answer.get("status", 200)
    http: dict[str, Any] = {"address": answer.get("address", "192.0.2.10"), "title": answer.get("title", "Login")}
    dns: dict[str, Any] = {"name_servers": answer["name_servers"]} if "name_servers" in answer else {}
    if answer.get("nxdomain"):
        dns["error"] = "nxdomain"
    found = world.row(target, observer, slot(n), status=status, body=answer.get("body", "b" * 64), cert=C2_CERT)
    found["http_server"] = answer.get("server", "nginx") if status is not None else None
    found["details"] = {"probes": {"http": http if status is not None else {"error": "timeout"}, "dns": dns}}
    found["ping_address"] = http["address"]
    return found


def stored(store: Store, name_pk: int) -> dict[str, Any]:
    return store.verdicts.identity_tracks([name_pk])[name_pk].as_dict()


def from_scratch(world: World, target_pk: int) -> dict[str, Any]:
    """The track of testing every stored row against every signature, in time order (no skip)."""
    track = Track()
    names = {pk: name for name, pk in world.observers.items()}
    rows = [r for r in world.store.observations.rows() if r["target_pk"] == target_pk]
    for found in sorted(rows, key=lambda r: (r["observed_at"], r["id"])):
        track.add(sighting_of(found, names[found["observer_pk"]]), SIGNATURES, RULES)
    return track.as_dict()


def without_digest(state: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in state.items() if key != "evidence"}


CHANGES = {
    "new server header": ({"server": "Apache/2.4.58"}, None),
    "new body hash": ({"body": "d" * 64}, None),
    "sinkhole address": ({"address": SINKHOLE}, SINKHOLED),
    "parking name servers": ({"name_servers": ["ns1.parkingcrew.net"]}, PARKED),
    "status only": ({"status": 404}, None),
    "no answer": ({"status": None}, None),
}


@pytest.mark.parametrize("change", CHANGES)
def test_repeated_evidence_then_a_change_folds_as_testing_every_sighting(world: World, change: str) -> None:
    values, status = CHANGES[change]
    pk = world.target("a")
    for n in range(8):  # the same evidence, folded cycle by cycle (the track's digest is read back each time)
        world.add(row(world, "a", n, observer=("tokyo", "osaka")[n % 2]))
        world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(n))
    world.add(*(row(world, "a", n, **values) for n in range(8, 13)))  # then changed evidence, in one page
    world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(13))
    state = stored(world.store, pk)
    assert without_digest(state) == without_digest(from_scratch(world, pk))
    judgement = world.store.verdicts.identity_tracks([pk])[pk].judgement(SIGNATURES, RULES)
    assert judgement.status == status
    assert state["evidence"] == evidence_digest(world.store.observations.rows()[-1], signatures_digest(SIGNATURES))


def test_the_same_evidence_again_is_not_tested_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tested: list[Evidence] = []
    real = judge.match

    def counting(signatures: Any, evidence: Evidence) -> Any:
        tested.append(evidence)
        return real(signatures, evidence)

    monkeypatch.setattr(judge, "match", counting)
    world.target("a")
    world.target("b")
    for n in range(5):
        world.add(row(world, "a", n), row(world, "b", n, server=f"nginx/{n}"))
        world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(n))
    assert len(tested) == 1 + 5  # a: its first row only; b: every row (its server header changes each time)


def test_a_track_stored_without_the_digest_still_folds(world: World) -> None:
    pk = world.target("a")
    world.add(*(row(world, "a", n) for n in range(4)))
    world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(4))
    old_shape = without_digest(stored(world.store, pk))
    with world.store.begin() as conn:
        conn.execute(identity_tracks.update().where(identity_tracks.c.target_pk == pk).values(state=old_shape))
    world.add(*(row(world, "a", n) for n in range(4, 6)), *(row(world, "a", n, address=SINKHOLE) for n in range(6, 9)))
    world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(9))
    state = stored(world.store, pk)
    assert without_digest(state) == without_digest(from_scratch(world, pk))
    assert state["evidence"] and state["run"]["count"] == 9 and state["streaks"]["sinkhole"]["count"] == 3


def test_new_signatures_test_the_same_evidence_again(world: World) -> None:
    pk = world.target("a")
    without_sinkholes = [rule for rule in SIGNATURES if rule.kind != "sinkhole"]
    world.add(*(row(world, "a", n, address=SINKHOLE) for n in range(4)))
    world.store.verdicts.fold_identities(without_sinkholes, RULES, slot(4))
    assert "sinkhole" not in stored(world.store, pk)["streaks"]
    world.add(*(row(world, "a", n, address=SINKHOLE) for n in range(4, 7)))
    world.store.verdicts.fold_identities(SIGNATURES, RULES, slot(7))
    assert stored(world.store, pk)["streaks"]["sinkhole"]["count"] == 3
    judgement = world.store.verdicts.identity_tracks([pk])[pk].judgement(SIGNATURES, RULES)
    assert judgement.status == SINKHOLED


class Reading(dict[str, Any]):
    """A row or ``details`` part that records which keys are read."""

    def __init__(self, values: Mapping[str, Any], read: set[str], path: str = "") -> None:
        nested = {k: Reading(v, read, f"{path}{k}.") if isinstance(v, Mapping) else v for k, v in values.items()}
        super().__init__(nested)
        self.read, self.path = read, path

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(self.path + key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(self.path + key)
        return super().__getitem__(key)


def test_the_digest_reads_every_value_the_sighting_reads(world: World) -> None:
    world.target("a")
    full = row(world, "a", 0, name_servers=["ns1.example"], nxdomain=True)
    full["details"]["probes"] |= {
        "tls": {"cert_serial": "1", "cert_subject": "s", "cert_issuer": "i", "cert_sha256": "e" * 64},
        "favicon": {"favicon_hash": 5},
        "jarm": {"jarm": "0" * 62},
    }
    full["details"]["probes"]["dns"]["ptr_names"] = {"192.0.2.10": ["host.example"]}
    by_sighting: set[str] = set()
    by_digest: set[str] = set()
    sighting_of(Reading(full, by_sighting))
    evidence_digest(Reading(full, by_digest), signatures_digest(SIGNATURES))
    ptr_of_the_address = "details.probes.dns.ptr_names.192.0.2.10"  # the digest reads the whole PTR map
    assert by_sighting - {"observed_at", "details", ptr_of_the_address} <= by_digest
    assert "details.probes.dns.ptr_names" in by_digest
    assert {"details.probes.jarm.jarm", "details.probes.dns.error", "probed_value"} <= by_digest


def test_each_value_the_sighting_reads_changes_the_digest(world: World) -> None:
    world.target("a")
    key = signatures_digest(SIGNATURES)
    base = row(world, "a", 0)
    digests = {evidence_digest(base, key)}
    for name, value in (("http_server", "Apache"), ("http_body_sha256", "f" * 64), ("probed_value", "b:8080")):
        digests.add(evidence_digest(base | {name: value}, key))
    for probe, value in (("http", {"address": SINKHOLE}), ("http", {"html_hash": 1}), ("dns", {"error": "nxdomain"})):
        details = {"probes": {**base["details"]["probes"], probe: base["details"]["probes"][probe] | value}}
        digests.add(evidence_digest(base | {"details": details}, key))
    digests.add(evidence_digest(base, signatures_digest(SIGNATURES[1:])))
    assert len(digests) == 8
    assert evidence_digest(base | {"observed_at": slot(9), "observer_pk": 99}, key) == evidence_digest(base, key)


C2 = Identity(cert_sha256="c2", server="nginx", header_order="h", title="", body_sha256="b")
TENANT = Identity(cert_sha256="t", server="nginx/1.24.0", header_order="h2", title="Welcome to nginx!")


def sightings() -> list[Sighting]:
    """Runs of repeated evidence: answers, silence, a new tenant, a sinkhole, NXDOMAIN, each a few times."""
    t0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    parts: list[tuple[int, int | None, Identity | None, Evidence, bool]] = [
        (1, 200, C2, Evidence(), False),  # before any baseline: pending answers repeat
        (4, 200, C2, Evidence(), False),
        (3, None, None, Evidence(), False),
        (5, 200, TENANT, Evidence(title="Welcome to nginx!"), False),
        (4, 200, TENANT, Evidence(address=SINKHOLE), False),
        (7, None, None, Evidence(), True),
        (3, 404, C2, Evidence(status=404), False),
    ]
    found, n = [], 0
    for count, status, identity, evidence, nxdomain in parts:
        for _ in range(count):
            found.append(Sighting(t0 + n * dt.timedelta(hours=4), status, identity, evidence, nxdomain, f"o{n % 3}"))
            n += 1
    return found


def test_repeat_moves_a_track_as_add_would() -> None:
    added, repeated = Track(), Track()
    previous: Sighting | None = None
    skipped = 0
    for sighting in sightings():
        added.add(sighting, SIGNATURES, RULES)
        same = previous is not None and (previous.status, previous.identity, previous.evidence, previous.nxdomain) == (
            sighting.status,
            sighting.identity,
            sighting.evidence,
            sighting.nxdomain,
        )
        if same and repeated.repeat(sighting.at, sighting.observer, sighting.status, RULES):
            skipped += 1
        else:
            repeated.add(sighting, SIGNATURES, RULES)
        assert repeated.as_dict() == added.as_dict()
        previous = sighting
    assert skipped == 27 - 6  # every sighting but the first of each run of one evidence (the first two parts are one)
    assert repeated.judgement(SIGNATURES, RULES) == added.judgement(SIGNATURES, RULES)
