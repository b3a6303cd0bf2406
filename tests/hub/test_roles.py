"""Roles on the hub: an organisation's ``admin`` sees its own organisation's status resources and admin page, the
hub ``operator`` the whole hub's; ``/metrics`` is not open on the public listener."""

from __future__ import annotations

import datetime as dt
import socket

import httpx
import pytest

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.wiring.hub import create_hub_app, serve_metrics
from tests.helpers.hub import ORG_A, ORG_B, RunningHub, ThreadServer, call, make_tokens, post
from tests.helpers.stix_factory import envelope, producer

OPERATOR_ORG = "Hub Operations"


def operator(hub: RunningHub) -> str:
    hub.store.access.add_organization(OPERATOR_ORG)
    secret, _ = hub.store.access.create_token(OPERATOR_ORG, "ops", "operator")
    return secret


def b_admin(hub: RunningHub) -> str:
    secret, _ = hub.store.access.create_token(ORG_B, "b-admin", "admin")
    return secret


def test_admin_sees_its_own_organisations_statuses_operator_every_one(hub: RunningHub) -> None:
    ops, admin_b = operator(hub), b_admin(hub)
    status_a = post(hub, "a-observer", envelope(producer(ORG_A), 1)).json()["id"]
    status_b = post(hub, "b-observer", envelope(producer(ORG_B), 1)).json()["id"]
    seen = {
        (who, status): call(hub, "GET", f"status/{status}/", token).status_code
        for who, token in (("a-admin", "a-admin"), ("b-admin", admin_b), ("operator", ops))
        for status in (status_a, status_b)
    }
    assert seen == {
        ("a-admin", status_a): 200,
        ("a-admin", status_b): 404,
        ("b-admin", status_a): 404,
        ("b-admin", status_b): 200,
        ("operator", status_a): 200,
        ("operator", status_b): 200,
    }
    assert call(hub, "GET", f"status/{status_b}/", ops).json()["success_count"] > 0


def admin_page(hub: RunningHub, token: str) -> httpx.Response:
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        assert browser.post("/login", data={"token": hub.tokens.get(token, token)}).status_code == 303
        return browser.get("/admin/")


def test_admin_page_is_scoped_to_the_organisation(hub: RunningHub) -> None:
    ops = operator(hub)
    status_a = post(hub, "a-observer", envelope(producer(ORG_A), 1)).json()["id"]
    status_b = post(hub, "b-observer", envelope(producer(ORG_B), 1)).json()["id"]
    own = admin_page(hub, "a-admin")
    assert own.status_code == 200
    assert status_a in own.text and ORG_A in own.text
    assert status_b not in own.text and ORG_B not in own.text and "b-observer" not in own.text
    everything = admin_page(hub, ops)
    assert everything.status_code == 200 and "the whole hub" in everything.text
    assert all(shown in everything.text for shown in (status_a, status_b, ORG_A, ORG_B, "b-observer"))
    for role in ("a-reader", "a-observer", "a-coordinator"):
        assert admin_page(hub, role).status_code == 403
    with httpx.Client(base_url=hub.url, timeout=30) as anonymous:
        assert anonymous.get("/admin/").status_code == 303


def test_metrics_are_not_open_on_the_public_listener(hub: RunningHub) -> None:
    ops = operator(hub)
    assert httpx.get(f"{hub.url}/metrics", timeout=30).status_code == 401
    for token in ("a-admin", "a-reader"):
        assert call_metrics(hub.url, hub.tokens[token]).status_code == 401
    served = call_metrics(hub.url, ops)
    assert served.status_code == 200 and "c2watch_hub_request_duration_seconds" in served.text


def call_metrics(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_metrics_token(store: Store) -> None:
    make_tokens(store)
    settings = Settings(hub={"metrics_token": "scrape-me-0123456789"})  # type: ignore[arg-type]
    with ThreadServer(create_hub_app(store, settings)) as url:
        assert call_metrics(url, "scrape-me-0123456789").status_code == 200
        assert call_metrics(url, "scrape-me-012345678").status_code == 401
        assert httpx.get(f"{url}/metrics", timeout=30).status_code == 401


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_metrics_on_a_separate_listen_address(store: Store) -> None:
    make_tokens(store)
    port = free_port()
    settings = Settings(hub={"metrics_listen": f"127.0.0.1:{port}"})  # type: ignore[arg-type]
    app = create_hub_app(store, settings)
    with ThreadServer(app) as url:
        assert httpx.get(f"{url}/metrics", timeout=30).status_code == 404  # not on the public listener at all
        host, bound = serve_metrics(app, settings.hub.metrics_listen)
        assert (host, bound) == ("127.0.0.1", port)
        httpx.get(f"{url}/api/collections/", timeout=30)
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
        assert scraped.status_code == 200 and 'route="/api/collections/"' in scraped.text


@pytest.mark.parametrize("listen", ["127.0.0.1", "hub.example:x", "127.0.0.1:9400 "])
def test_bad_metrics_listen_is_refused(listen: str) -> None:
    with pytest.raises(ValueError, match="metrics_listen"):
        Settings(hub={"metrics_listen": listen})  # type: ignore[arg-type]


def test_operator_token_can_expire_too(hub: RunningHub) -> None:
    hub.store.access.add_organization(OPERATOR_ORG)
    now = dt.datetime.now(dt.UTC)
    old, _ = hub.store.access.create_token(
        OPERATOR_ORG, "ops", "operator", now=now - dt.timedelta(days=2), expires=now - dt.timedelta(days=1)
    )
    assert call_metrics(hub.url, old).status_code == 401
