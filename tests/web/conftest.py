"""The dashboard served by uvicorn on 127.0.0.1 (port 0) over a seeded store, and a tiny HTTP client."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.analysis.seed import standard


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str] | None = None) -> Reply:
    """GET ``url`` (loopback only) without raising on 4xx/5xx."""
    assert url.startswith("http://127.0.0.1:"), url
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Reply(exc.code, dict(exc.headers), exc.read())


@dataclass
class Served:
    url: str
    ids: dict[str, list[int]]

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return fetch(self.url + path.lstrip("/"), headers)


@pytest.fixture
def served(store: Store) -> Iterator[Served]:
    """The standard data set behind a running dashboard, on every backend."""
    ids = standard(store)
    with ServedApp(create_app(store, Settings())) as app:
        yield Served(app.url, ids)
