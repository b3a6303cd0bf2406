"""The identity scenario (examples/identity): real cycles against the lab over 14 fast-forwarded days, the verdict
of every destination at the end of every day exactly as designed — a re-rented address becomes ``reassigned``, a
sinkholed and a parked domain ``sinkholed`` and ``parked``, a domain answering NXDOMAIN for the removal window
``domain-gone``; a C2 that only changes its status code, restarts or flaps is never anything but alive."""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest
from stix2validator import ValidationOptions, validate_file

from c2watch.analysis.blocklist import Policy, advise
from c2watch.analysis.events import list_events
from c2watch.analysis.verdicts import VerdictRules
from c2watch.config import load_settings
from c2watch.lab import Scenario, load_scenario
from c2watch.lab.storyline import DayTable, verdicts_by_day
from c2watch.store import Store, open_store
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.helpers.browser import chromium, needs_chromium, shot, watched_page

EXAMPLE = Path(__file__).parents[2] / "examples" / "identity"


def _designed() -> ModuleType:
    spec = importlib.util.spec_from_file_location("identity_scenario", EXAMPLE / "make_scenario.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DESIGN = _designed()


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, DayTable, Path]]:
    data = tmp_path_factory.mktemp("identity")
    shutil.copy(EXAMPLE / "c2watch.toml", data / "c2watch.toml")
    settings = load_settings(data)
    loaded = load_scenario(EXAMPLE / "scenario.toml")
    scenario = Scenario([replace(d, port=0) for d in loaded], seed=loaded.seed)  # free ports: parallel runs
    store = open_store(data / "c2watch.db")
    table = asyncio.run(verdicts_by_day(store, settings, data, scenario, DESIGN.START, DESIGN.DAYS))
    yield store, table, data
    store.close()


def test_every_destination_every_day_as_designed(observed: tuple[Store, DayTable, Path]) -> None:
    _, table, _ = observed
    assert len(table.days) == DESIGN.DAYS
    assert table.statuses == DESIGN.DESIGNED, "\n" + "\n".join(table.rows())


def test_no_false_removable_for_a_server_that_stays(observed: tuple[Store, DayTable, Path]) -> None:
    last = observed[1].last
    for name in ("cs-steady", "status-only", "flapping", "restart"):
        assert last[name].identity_state == "same", (name, last[name].identity)
    assert (
        last["cs-steady"].matched is not None and last["cs-steady"].matched["id"] == "cobalt-strike.default-certificate"
    )


def test_each_new_status_carries_its_evidence(observed: tuple[Store, DayTable, Path]) -> None:
    last = observed[1].last
    rented = last["re-rented"].identity
    assert rented is not None and {"cert_sha256", "header_order"} <= set(rented["differing"])
    assert rented["since"].startswith("2026-03-04T15:00:00")  # day 4, 00:00 JST
    assert rented["signature"]["kind"] == "default-page"
    assert last["sunk"].matched == {**last["sunk"].matched, "id": "sinkhole.shadowserver", "kind": "sinkhole"}
    assert last["parked"].matched is not None and last["parked"].matched["id"] == "parking.parkingcrew"
    gone = last["gone"].identity
    assert gone is not None and gone["since"].startswith("2026-03-02T15:00:00")  # NXDOMAIN from day 2
    for name in ("re-rented", "sunk", "parked", "gone"):
        assert last[name].identity and last[name].identity["observers"], name


def test_identity_changes_are_events(observed: tuple[Store, DayTable, Path]) -> None:
    store = observed[0]
    kinds = {(e.kind, e.destination.split("//")[1].split(":")[0]) for e in list_events(store)}
    assert {("reassigned", "127.66.0.2"), ("sinkholed", "gate.sunk.test"), ("parked", "shop.parked.test")} <= kinds
    assert ("domain-gone", "www.gone.test") in kinds
    changed = [e for e in list_events(store, kinds=["identity-changed", "reassigned"]) if "127.66.0.2" in e.destination]
    assert changed and all("127.66.0.1" not in e.destination for e in list_events(store, kinds=["identity-changed"]))


def test_the_deny_list_policy(observed: tuple[Store, DayTable, Path]) -> None:
    _, table, data = observed
    settings = load_settings(data)
    verdicts = list(table.last.values())
    advice = advise(
        verdicts, VerdictRules.from_settings(settings), verdicts[0].computed_at, Policy.from_settings(settings)
    )
    removable = {e.value.split("//")[-1].split(":")[0] for e in advice.removable if e.kind == "url"}
    kept = {e.value.split("//")[-1].split(":")[0]: e for e in advice.keep if e.kind == "url"}
    assert removable == {"127.66.0.2", "shop.parked.test", "www.gone.test"}
    assert "infected host" in kept["gate.sunk.test"].note
    assert {"127.66.0.1", "127.66.0.3", "127.66.0.4", "127.66.0.5", "127.66.0.9"} <= set(kept)


def test_the_bundles_stay_valid(observed: tuple[Store, DayTable, Path]) -> None:
    bundles = sorted((observed[2] / "observations").rglob("*.json"))
    assert len(bundles) == DESIGN.DAYS * 6
    for path in (bundles[0], bundles[len(bundles) // 2], bundles[-1]):
        result = validate_file(str(path), ValidationOptions(version="2.1", disabled=["103", "301"]))
        assert result.is_valid, path


def _threat_page(url: str, lang: str = "en") -> str:
    with urllib.request.urlopen(f"{url}threats/IDENTITY?month=2026-03&lang={lang}", timeout=30) as reply:
        return str(reply.read().decode("utf-8"))


def test_the_dashboard_shows_each_status_its_identity_and_match(observed: tuple[Store, DayTable, Path]) -> None:
    store, _, data = observed
    with ServedApp(create_app(store, load_settings(data))) as app:
        english, japanese = _threat_page(app.url), _threat_page(app.url, "ja")
    for status, label in (("reassigned", "Reassigned"), ("sinkholed", "Sinkholed"), ("parked", "Parked")):
        assert f'data-status="{status}">{label}</span>' in english
    assert 'value="domain-gone"' in english and "Domain gone" in english  # in the filter, with its count
    assert 'data-rule="cobalt-strike.default-certificate"' in english and 'data-identity="same"' in english
    assert 'data-rule="sinkhole.shadowserver"' in english
    assert "再割当て" in japanese and "シンクホール化" in japanese and "ドメイン消滅" in japanese


@needs_chromium
def test_the_dashboard_in_chromium(observed: tuple[Store, DayTable, Path]) -> None:
    store, table, data = observed
    errors: list[str] = []
    with (
        ServedApp(create_app(store, load_settings(data))) as app,
        chromium() as browser,
        watched_page(browser, app.url, errors) as page,
    ):
        page.goto(f"{app.url}threats/IDENTITY?month=2026-03")
        page.check("#verdict-filter input[value=reassigned]")
        page.check("#verdict-filter input[value=sinkholed]")
        page.click("#view-form button[type=submit]")
        page.wait_for_selector("#destinations tbody tr[data-status]")
        shown = page.eval_on_selector_all("#destinations tbody tr", "rows => rows.map(r => r.dataset.status)")
        assert sorted(shown) == ["reassigned", "sinkholed"]
        page.wait_for_selector("#month-view[data-rendered=true]")
        marks = page.evaluate("document.getElementById('chart-http').layout.annotations.map(a => a.text)")
        assert {"Reassigned", "Sinkholed", "Identity changed"} <= set(marks)  # where the server changed
        shot(page, "identity-threat")
        rented = table.last["re-rented"].target.id
        page.goto(f"{app.url}destinations/{rented}?lang=ja")
        assert page.inner_text("#verdict .verdict") == "再割当て"
        assert "cert_sha256" in page.inner_text("#identity-differing")
        shot(page, "identity-destination-ja")
    assert errors == []
