"""Real cycles against hostile lab destinations on loopback: each ends in a recorded outcome within the timeout,
memory stays bounded and the rest of the cycle is unaffected."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
import stix2
from stix2validator import ValidationOptions, validate_file

from c2watch.lab import Lab, Scenario
from c2watch.models.observation import Observation
from c2watch.observer.cycle import CycleOptions, run_cycle
from tests.helpers.observing import by_address, destination, import_lab, lab_settings

HOSTILE = [
    ("status:200", "http"),
    ("closed", "http"),
    ("tarpit", "http"),
    ("reset", "http"),
    ("endless-body", "http"),
    ("gzip-bomb", "http"),
    ("many-headers", "http"),
    ("huge-header", "http"),
    ("drip", "http"),
    ("garbage", "http"),
    ("tls-stall", "https"),
    ("redirect-private", "http"),
    ("non-ascii-reason", "http"),
    ("invalid-utf8", "http"),
    ("status:200", "https"),
    ("slow:0.3", "http"),
]
SCENARIO = Scenario([destination(i + 1, b, scheme) for i, (b, scheme) in enumerate(HOSTILE)])


def address(behaviour: str, scheme: str = "http") -> str:
    return f"127.88.0.{HOSTILE.index((behaviour, scheme)) + 1}"


@pytest.fixture(scope="module")
def cycle_result(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Observation], dict[str, object], int]:
    """One cycle over every hostile destination (module-scoped: the cycle is the expensive part)."""
    import asyncio

    tmp_path = tmp_path_factory.mktemp("hostile")

    async def go() -> tuple[dict[str, Observation], dict[str, object], int]:
        from c2watch.store import open_store

        store = open_store(tmp_path / "c2watch.db")
        seen: list[Observation] = []
        async with Lab(SCENARIO) as lab:
            import_lab(store, lab, SCENARIO, tmp_path)
            tracemalloc.start()
            start = time.perf_counter()
            summary = await run_cycle(store, lab_settings(), tmp_path, CycleOptions(on_result=seen.append))
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        stored = {row["probed_value"]: row for row in store.observations.rows()}
        store.close()
        return by_address(seen), {"summary": summary, "elapsed": elapsed, "stored": stored}, peak

    return asyncio.run(go())


def http_of(results: dict[str, Observation], behaviour: str, scheme: str = "http") -> dict[str, object]:
    obs = results[address(behaviour, scheme)]
    result = obs.results["http"]
    return {"outcome": result.outcome, **result.fields}


def test_cycle_ends_within_the_timeout_with_bounded_memory(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    results, info, peak = cycle_result
    assert len(results) == len(HOSTILE)
    assert info["elapsed"] < 2.0 + 1.0 + 1.5  # total timeout + guard + scheduling slack
    assert peak < 40 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_normal_answer_is_recorded_exactly(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    http = http_of(cycle_result[0], "status:200")
    assert (http["outcome"], http["status"], http["reason"], http["server"]) == ("responding", 200, "OK", "nginx")
    assert http["body_bytes"] and len(str(http["body_sha256"])) == 64


@pytest.mark.parametrize(
    ("behaviour", "scheme", "kind"),
    [
        ("closed", "http", "refused"),
        ("tarpit", "http", "timeout"),
        ("reset", "http", "reset"),
        ("many-headers", "http", "protocol"),
        ("huge-header", "http", "protocol"),
        ("drip", "http", "timeout"),
        ("garbage", "http", "protocol"),
        ("tls-stall", "https", "timeout"),
    ],
)
def test_failures_are_outcomes(cycle_result: tuple, behaviour: str, scheme: str, kind: str) -> None:  # type: ignore[type-arg]
    http = http_of(cycle_result[0], behaviour, scheme)
    assert (http["outcome"], http["error"]) == ("error", kind)
    obs = cycle_result[0][address(behaviour, scheme)]
    assert obs.outcome == "ping-only"  # loopback still answers ICMP


def test_endless_body_and_gzip_bomb_are_read_up_to_the_cap_only(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    endless = http_of(cycle_result[0], "endless-body")
    assert (endless["status"], endless["body_bytes"]) == (200, 65536)
    bomb = http_of(cycle_result[0], "gzip-bomb")
    assert bomb["status"] == 200 and 0 < int(bomb["body_bytes"]) <= 65536  # type: ignore[call-overload]


def test_redirect_is_recorded_not_followed(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    redirect = http_of(cycle_result[0], "redirect-private")
    assert (redirect["status"], redirect["location"]) == (302, "http://10.0.0.1/")


def test_non_ascii_reason_phrase_is_kept(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    http = http_of(cycle_result[0], "non-ascii-reason")
    assert http["status"] == 200 and "OK" in str(http["reason"]) and not str(http["reason"]).isascii()


def test_bytes_that_are_not_utf8_are_stored_escaped(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    http = http_of(cycle_result[0], "invalid-utf8")
    assert (http["status"], http["reason"], http["server"]) == (200, "\\xff\\xfe OK", "x\\xc3(y")
    port = cycle_result[0][address("invalid-utf8")].target.port
    row = cycle_result[1]["stored"][f"http://{address('invalid-utf8')}:{port}/gate.php"]
    assert (row["http_reason"], row["http_server"]) == ("\\xff\\xfe OK", "x\\xc3(y")


def test_https_records_certificate_and_handshake(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    obs = cycle_result[0][address("status:200", "https")]
    assert obs.results["http"].fields["status"] == 200
    cert = obs.results["http"].fields["cert_sha256"]
    assert cert and obs.results["tls"].fields["cert_sha256"] == cert
    stall = cycle_result[0][address("tls-stall", "https")]
    assert stall.results["tls"].outcome == "error"


def test_every_result_is_stored(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    results, info, _ = cycle_result
    stored = info["stored"]
    assert len(stored) == len(HOSTILE)
    row = stored[f"http://{address('status:200')}:{results[address('status:200')].target.port}/gate.php"]
    assert (row["http_status"], row["http_reason"], row["outcome"]) == (200, "OK", "responding")
    assert row["ping_sent"] == 2 and row["ping_received"] == 2 and row["ping_ttl"] == 64
    summary = info["summary"]
    assert sum(summary.outcomes.values()) == len(HOSTILE)


def test_bundle_is_valid_stix(cycle_result: tuple) -> None:  # type: ignore[type-arg]
    path = Path(str(cycle_result[1]["summary"].stix_path))
    assert path.exists() and not path.with_name(path.name + ".partial").exists()
    bundle = stix2.parse(path.read_text(encoding="utf-8"), allow_custom=False)
    kinds = {obj.type for obj in bundle.objects}
    assert {"identity", "campaign", "observed-data", "network-traffic", "sighting", "url"} <= kinds
    observed = [o for o in bundle.objects if o.type == "observed-data"]
    assert len(observed) == len(HOSTILE)
    result = validate_file(str(path), ValidationOptions(version="2.1", disabled=["103", "301"]))
    errors = [(r.object_id, [str(e) for e in r.errors]) for r in result.object_results if r.errors]
    assert result.is_valid, errors
    assert not any(r.warnings for r in result.object_results)
