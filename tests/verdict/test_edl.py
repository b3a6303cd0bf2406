"""The deny lists firewalls poll (External Dynamic Lists), served over real HTTP by the local dashboard and by the
hub: one value a line per kind, a token required (Bearer or HTTP Basic password), ETag and If-None-Match → 304
until the verdicts change the list."""

from __future__ import annotations

import httpx

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web import create_app
from c2watch.wiring.hub import create_hub_app
from tests.helpers.hub import ThreadServer, make_tokens
from tests.verdict.world import SETTINGS, World, slot

TOKEN = "edl-token-0123456789abcdef"


def seed(store: Store) -> World:
    """An alive IP+URL destination and a dead IP+domain one, with the verdicts stored as a refresh leaves them."""
    world = World(store)
    world.target("alive", threat="TID-A", ip="198.51.100.7", url="http://198.51.100.7:8080/gate.php", port=8080)
    world.target("dead", threat="TID-B", ip="203.0.113.9", domain="cdn.c2.example", port=443)
    world.add(world.row("alive", "tokyo", slot(20), status=200))
    world.add(world.row("dead", "tokyo", slot(0), status=200), *world.series("dead", "tokyo", range(1, 20)))
    world.refresh(slot(20))
    return world


def test_dashboard_serves_the_lists_to_its_tokens_with_etags(store: Store) -> None:
    world = seed(store)
    settings = SETTINGS.model_copy(update={"edl": Settings(edl={"tokens": [TOKEN]}).edl})  # type: ignore[arg-type]
    with ThreadServer(create_app(store, settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/edl/ip.txt").status_code == 401
        assert client.get("/edl/ip.txt", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
        ip = client.get("/edl/ip.txt", auth=("firewall", TOKEN))  # HTTP Basic, as firewalls send it
        assert ip.status_code == 200 and ip.headers["content-type"] == "text/plain; charset=utf-8"
        assert ip.text == "198.51.100.7\n"
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert client.get("/edl/url.txt", headers=bearer).text == "http://198.51.100.7:8080/gate.php\n"
        assert client.get("/edl/domain.txt", headers=bearer).text == ""  # the only domain is dead
        etag = ip.headers["etag"]
        same = client.get("/edl/ip.txt", headers={**bearer, "If-None-Match": etag})
        assert same.status_code == 304 and same.content == b"" and same.headers["etag"] == etag
        world.add(world.row("dead", "tokyo", slot(21), status=200))  # the dead one answers again
        world.refresh(slot(21))
        changed = client.get("/edl/ip.txt", headers={**bearer, "If-None-Match": etag})
        assert changed.status_code == 200 and changed.text == "198.51.100.7\n203.0.113.9\n"
        assert changed.headers["etag"] != etag


def test_dashboard_without_tokens_serves_no_list(store: Store) -> None:
    with ThreadServer(create_app(store, SETTINGS)) as url:
        answer = httpx.get(url + "/edl/ip.txt", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert answer.status_code == 404 and "[edl] tokens" in answer.text


def test_hub_serves_the_lists_to_organisation_tokens(store: Store) -> None:
    seed(store)
    tokens = make_tokens(store)
    with ThreadServer(create_hub_app(store, SETTINGS)) as url, httpx.Client(base_url=url, timeout=30) as client:
        refused = client.get("/edl/ip.txt")
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith("Basic")
        ip = client.get("/edl/ip.txt", auth=("pa-firewall", tokens["a-reader"]))
        assert ip.status_code == 200 and ip.text == "198.51.100.7\n"
        again = client.get("/edl/ip.txt", auth=("pa-firewall", tokens["b-observer"]), headers={"If-None-Match": "*"})
        assert again.status_code == 304
        weak = client.get(
            "/edl/ip.txt", auth=("x", tokens["a-reader"]), headers={"If-None-Match": f'"other", W/{ip.headers["etag"]}'}
        )
        assert weak.status_code == 304
        stale = client.get("/edl/ip.txt", auth=("x", tokens["a-reader"]), headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200 and stale.text == ip.text
