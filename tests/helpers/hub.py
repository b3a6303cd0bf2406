"""A running hub on loopback (uvicorn in a thread) over the store under test, with two organisations; calls to it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from c2watch.store import Store, TokenInfo
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.wiring.hub import create_hub_app


@dataclass
class RunningHub:
    url: str
    store: Store
    tokens: dict[str, str]

    @property
    def api_root(self) -> str:
        return self.url + "/api/"


class ThreadServer:
    """uvicorn on 127.0.0.1, port chosen by the kernel; started and stopped without sleeping."""

    def __init__(self, app: object, lifespan: str = "off") -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_level="warning",  # type: ignore[arg-type]
                lifespan=lifespan,  # type: ignore[arg-type]
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        for _ in range(1000):
            if self.server.started:
                break
            self.thread.join(0.01)
        assert self.server.started, "uvicorn did not start"
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


ORG_A, ORG_B = "Org A CSIRT", "Org B SOC"


def make_tokens(store: Store) -> dict[str, str]:
    store.access.add_organization(ORG_A)
    store.access.add_organization(ORG_B)
    tokens = {}
    for org, role in (
        (ORG_A, "observer"),
        (ORG_A, "reader"),
        (ORG_A, "coordinator"),
        (ORG_B, "observer"),
        (ORG_A, "admin"),
    ):
        key = f"{'a' if org == ORG_A else 'b'}-{role}"
        tokens[key], _ = store.access.create_token(org, key, role)
    return tokens


def observer_token(store: Store) -> tuple[str, TokenInfo]:
    """Org A's reader token and its observer token's info (on a store with :func:`make_tokens`' organisations)."""
    tokens = make_tokens(store)
    info = store.access.verify_token(tokens["a-observer"])
    assert info is not None
    return tokens["a-reader"], info


def by_stix_id(store: Store) -> dict[str, dict[str, Any]]:
    """Every stored observation row by the id of its STIX observed-data."""
    return {row["stix_id"]: row for row in store.observations.rows()}


@pytest.fixture
def hub(store: Store) -> Iterator[RunningHub]:
    tokens = make_tokens(store)
    with ThreadServer(create_hub_app(store, max_content_length=2 * 1024 * 1024)) as url:
        yield RunningHub(url, store, tokens)


OBJECTS_PATH = f"collections/{OBSERVATIONS.id}/objects/"


def call(
    hub: RunningHub,
    method: str,
    path: str,
    token: str | None = "a-reader",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {"Accept": TAXII_MEDIA, "Content-Type": TAXII_MEDIA}
    if token is not None:
        sent["Authorization"] = f"Bearer {hub.tokens.get(token, token)}"
    sent.update(headers or {})
    return httpx.request(method, hub.api_root + path, content=body, headers=sent, timeout=30)


def post(
    hub: RunningHub, token: str, objects: list[object] | dict[str, object], path: str = OBJECTS_PATH
) -> httpx.Response:
    payload = objects if isinstance(objects, dict) else {"objects": objects}
    return call(hub, "POST", path, token, json.dumps(payload).encode())
