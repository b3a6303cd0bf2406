"""Dashboard sessions kept on the hub: logging out ends the session on the server (a copied cookie stops working),
the login refuses cross-site posts, and tokens may expire (a clear 401 for the API and the login)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import sqlalchemy as sa

from c2watch.errors import InputError
from c2watch.store import Store
from c2watch.store.access import parse_expiry
from c2watch.store.tables import sessions
from c2watch.taxii.login import COOKIE, LIFETIME
from tests.helpers.hub import ORG_A, RunningHub, call

FOREIGN = "https://evil.example"


@contextmanager
def signed_in(hub: RunningHub, token: str = "a-reader") -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        response = browser.post("/login", data={"token": hub.tokens.get(token, token)}, headers={"Origin": hub.url})
        assert response.status_code == 303, response.text
        yield browser


def test_logout_ends_the_session_on_the_server(hub: RunningHub) -> None:
    with signed_in(hub) as browser, httpx.Client(base_url=hub.url, timeout=30) as thief:
        copied = browser.cookies[COOKIE]
        thief.cookies.set(COOKIE, copied)
        assert thief.get("/dashboard/").status_code == 200  # a copy works while the session lives
        logout = browser.post("/logout", headers={"Origin": hub.url})
        assert logout.status_code == 303 and COOKIE not in browser.cookies
        gone = thief.get("/dashboard/")
        assert gone.status_code == 303 and gone.headers["location"] == "/login"
        assert not hub.store.access.session_token(copied)
    with signed_in(hub) as again:  # a new login is a new session
        assert again.get("/dashboard/").status_code == 200 and again.cookies[COOKIE] != copied


def test_revoking_a_token_ends_its_sessions(hub: RunningHub) -> None:
    with signed_in(hub, "a-admin") as browser, signed_in(hub, "a-reader") as other:
        admin_id = hub.tokens["a-admin"].split("_")[1]
        hub.store.access.revoke_token(admin_id)
        assert browser.get("/dashboard/").status_code == 303
        assert other.get("/dashboard/").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": FOREIGN},
        {"Origin": "null"},
        {"Referer": FOREIGN + "/page"},
        {"Origin": "http://127.0.0.1:1"},  # same host, another port
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": FOREIGN},
    ],
)
def test_cross_site_login_and_logout_are_refused(hub: RunningHub, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        refused = browser.post("/login", data={"token": hub.tokens["a-reader"]}, headers=headers)
        assert refused.status_code == 403 and COOKIE not in browser.cookies
    with signed_in(hub) as browser:
        assert browser.post("/logout", headers=headers).status_code == 403
        assert browser.get("/dashboard/").status_code == 200  # a forged logout ended nothing


def test_same_origin_or_no_origin_signs_in(hub: RunningHub) -> None:
    own = (
        {"Origin": hub.url},
        {"Referer": hub.url + "/login"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # what a browser sends under no-referrer
        {},
    )
    for headers in own:
        with httpx.Client(base_url=hub.url, timeout=30) as browser:
            response = browser.post("/login", data={"token": hub.tokens["a-reader"]}, headers=headers)
            assert response.status_code == 303 and browser.get("/dashboard/").status_code == 200


def expiring_token(store: Store, hours_left: float) -> str:
    now = dt.datetime.now(dt.UTC)
    secret, _ = store.access.create_token(
        ORG_A, "short-lived", "reader", now=now - dt.timedelta(days=1), expires=now + dt.timedelta(hours=hours_left)
    )
    return secret


def test_an_expired_token_is_a_clear_401(hub: RunningHub) -> None:
    live, expired = expiring_token(hub.store, 1), expiring_token(hub.store, -1)
    assert call(hub, "GET", "collections/", live).status_code == 200
    refused = call(hub, "GET", "collections/", expired)
    assert refused.status_code == 401
    body = refused.json()
    assert body["title"] == "Token expired" and "expired at" in body["description"]
    assert "ask for a new one" in body["description"]
    unknown = call(hub, "GET", "collections/", "c2w_0000000000000000_nope").json()
    assert unknown["title"] == "Unauthorized" and "expired" not in unknown["description"]
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        login = browser.post("/login", data={"token": expired})
        assert login.status_code == 401 and "expired" in login.text and COOKIE not in browser.cookies


def test_a_session_ends_when_its_token_expires(store: Store) -> None:
    store.access.add_organization(ORG_A)
    now = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    _, info = store.access.create_token(ORG_A, "t", "reader", now=now, expires="2h")
    assert info.expires_at == now + dt.timedelta(hours=2)
    value = store.access.start_session(info.public_id, LIFETIME, now=now)
    assert store.access.session_token(value, now=now + dt.timedelta(hours=1)) == info
    assert store.access.session_token(value, now=now + dt.timedelta(hours=2)) is None
    _, lasting = store.access.create_token(ORG_A, "u", "reader", now=now)
    other = store.access.start_session(lasting.public_id, LIFETIME, now=now)
    assert store.access.session_token(other, now=now + LIFETIME - dt.timedelta(seconds=1)) == lasting
    assert store.access.session_token(other, now=now + LIFETIME) is None  # the session's own end
    assert [t.expires_at for t in store.access.list_tokens(ORG_A)] == [now + dt.timedelta(hours=2), None]
    later = now + LIFETIME + dt.timedelta(days=2)
    store.access.start_session(lasting.public_id, LIFETIME, now=later)  # a login deletes long-ended sessions
    with store.access.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(sessions)).scalar_one() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90d", dt.datetime(2026, 7, 30, 12, tzinfo=dt.UTC)),
        ("12h", dt.datetime(2026, 5, 2, 0, tzinfo=dt.UTC)),
        ("2w", dt.datetime(2026, 5, 15, 12, tzinfo=dt.UTC)),
        ("2027-03-31", dt.datetime(2027, 3, 31, tzinfo=dt.UTC)),
        ("2027-03-31T09:00:00+09:00", dt.datetime(2027, 3, 31, tzinfo=dt.UTC)),
    ],
)
def test_expiry_text(text: str, expected: dt.datetime) -> None:
    assert parse_expiry(text, dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)) == expected


@pytest.mark.parametrize(("text", "message"), [("soon", "give a date"), ("0d", "positive"), ("2020-01-01", "past")])
def test_bad_expiry_is_refused_naming_the_value(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message) as refused:
        parse_expiry(text, dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC))
    assert repr(text) in str(refused.value)
