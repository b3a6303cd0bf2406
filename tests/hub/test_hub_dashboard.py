"""The dashboard inside the hub: only behind a login with an organisation token, via a signed session cookie."""

from __future__ import annotations

import httpx

from c2watch.taxii.login import COOKIE
from tests.helpers.hub import ORG_A, RunningHub, post
from tests.helpers.stix_factory import envelope, producer


def test_dashboard_needs_a_login_and_shows_every_observers_records(hub: RunningHub) -> None:
    post(hub, "a-observer", envelope(producer(ORG_A), 3))
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        anonymous = browser.get("/dashboard/")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
        assert browser.get("/login").status_code == 200
        refused = browser.post("/login", data={"token": "c2w_nope_nope"})
        assert refused.status_code == 401 and COOKIE not in browser.cookies
        signed_in = browser.post("/login", data={"token": hub.tokens["a-reader"]})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard/"
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = browser.get("/dashboard/")
        assert page.status_code == 200 and "TID-1" in page.text
        assert "Content-Security-Policy" in page.headers
        hub.store.access.revoke_token(hub.tokens["a-reader"].split("_")[1])
        assert browser.get("/dashboard/").status_code == 303  # revoking the token ends the session


def test_forged_or_tampered_session_cookie_is_refused(hub: RunningHub) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as browser:
        browser.post("/login", data={"token": hub.tokens["a-reader"]})
        value = browser.cookies[COOKIE]
        assert browser.get("/dashboard/").status_code == 200
        for forged in (value[:-1] + ("A" if value[-1] != "A" else "B"), "", "x" * 43, value + "."):
            browser.cookies.set(COOKIE, forged)
            assert browser.get("/dashboard/").status_code == 303
