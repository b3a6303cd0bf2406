"""The dashboard served by uvicorn on 127.0.0.1 (port 0) over a seeded store with stored verdicts and events, and a
tiny HTTP client."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from c2watch.analysis.events import refresh
from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.conftest import backend_store
from tests.helpers.seed import FEB, JAN, JST, MAR, add_observers, add_threat, seed, standard


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


#: When the served store's verdicts were computed: just after the last slot of the standard data set.
JUDGED_AT = dt.datetime(2021, 2, 28, 12, tzinfo=dt.UTC)
#: Default rules, but changes looked for over the whole data set (so one refresh records every event).
JUDGE_SETTINGS = Settings(verdict={"lookback_days": 90})  # type: ignore[arg-type]


def _z(index: int, observer: int, at: dt.datetime) -> tuple[int | None, float | None]:
    """Threat Z: z0 answers obs-0 but never obs-1 (from Feb 20); z1 answers until Jan 10, then is silent."""
    if index == 0:
        return (200 if observer == 0 else None), None
    return (200 if at < dt.datetime(2021, 1, 10, tzinfo=JST) else None), None


def judged(store: Store, ids: dict[str, list[int]]) -> dict[str, list[int]]:
    """The standard data set plus threat Z, judged at :data:`JUDGED_AT`: X d0, d1 alive, d2 never-seen; Y
    dormant; Z z0 blocked-for-observer (obs-1), z1 dead. Events: X d1 reactivated (Jan 20), X d0 200 → 404 (Feb 1)
    and 404 → 500 (Feb 15), Z z1 dead (Feb 8), Z z0 blocking of obs-1 suspected (Feb 28)."""
    z = add_threat(store, "Z", 2)
    seed(store, "Z", z[:1], ids["observers"], dt.datetime(2021, 2, 20, tzinfo=JST), MAR, _z)
    seed(store, "Z", z[1:], ids["observers"], JAN, MAR, lambda _i, o, at: _z(1, o, at))
    refresh(store, JUDGE_SETTINGS, JUDGED_AT)
    return {**ids, "Z": z}


#: Threat IDs every link must carry percent-encoded (tests/web/test_links.py, the browser test).
ODD = "a/b?c#d %"
ODD_IDS = (ODD, "%2F..%2F", "x y+z&w=1", "日本/語")


def odd_threats(store: Store) -> None:
    """One destination per :data:`ODD_IDS` threat, answering 200 to one observer through February, judged."""
    observers = add_observers(store, 1)
    for threat in ODD_IDS:
        seed(store, threat, add_threat(store, threat, 1), observers, FEB, MAR, lambda _i, _o, _at: (200, None))
    refresh(store, JUDGE_SETTINGS, JUDGED_AT)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The judged data set behind a running dashboard, on every backend (read-only: shared by a module)."""
    with backend_store(request.param, tmp_path_factory.mktemp("served")) as store:
        ids = judged(store, standard(store))
        with ServedApp(create_app(store, Settings())) as app:
            yield Served(app.url, ids)
