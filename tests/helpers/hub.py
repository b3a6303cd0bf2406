"""A running hub on loopback (uvicorn in a thread) over the store under test, with two organisations; calls to it."""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from c2watch.stix.keys import public_key_text
from c2watch.stix.observation import Producer
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord
from c2watch.store import Store, TokenInfo
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.media import TAXII_MEDIA
from c2watch.wiring.hub import create_hub_app
from tests.helpers.stix_factory import producer


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


@functools.cache
def observer_key(org: str, observer: str) -> Ed25519PrivateKey:
    """One key per test observer (the same all session long, as an agent's key file)."""
    return Ed25519PrivateKey.generate()


def signing_producer(org: str, observer: str = "observer-01") -> Producer:
    """An agent's producer with its key: every observed-data and sighting it makes is signed."""
    return replace(producer(org, observer), key=observer_key(org, observer))


def key_record(org: str, observer: str = "observer-01", key: Ed25519PrivateKey | None = None) -> KeyRecord:
    """The observer's key as the hub operator registers it (``hub observer add``)."""
    p, private = producer(org, observer), key or observer_key(org, observer)
    public = private.public_key()
    at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    return KeyRecord(
        key_id(public), public_key_text(public), p.org_identity, org, p.system_identity, at, source="registered"
    )


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
