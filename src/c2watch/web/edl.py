"""Deny lists a firewall polls (External Dynamic Lists): ``/edl/ip.txt``, ``/edl/domain.txt`` and ``/edl/url.txt``,
one value a line, the values that stay on the deny list as the last verdict refresh left them (nothing is
recomputed on a request; kept as the ``[blocklist]`` policy says, as ``export blocklist`` does by default).

Every answer carries a strong ``ETag`` (the body's hash); a poller sending it back in ``If-None-Match`` gets
``304 Not Modified`` while the list is unchanged. Access needs a token: the local dashboard takes the ``[edl]
tokens`` (none set: no list is served), the hub its organisation tokens, both as ``Authorization: Bearer <token>``
or as the password of HTTP Basic auth (what firewalls' EDL settings offer).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from c2watch.analysis.blocklist import KINDS, Policy, advise
from c2watch.analysis.blocklist_formats import edl_text, etag_of, matches_etag
from c2watch.analysis.verdicts import VerdictRules, stored_verdicts
from c2watch.config import Settings
from c2watch.store import Store

__all__ = ["edl_router", "edl_tokens_auth", "presented_token"]

AuthDependency = Callable[..., Any]  # as c2watch.web.app's: a FastAPI dependency that raises to refuse
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="c2watch deny lists", charset="UTF-8"'}


def presented_token(header: str) -> str | None:
    """The token of ``Authorization: Bearer|Token <token>`` or of HTTP Basic auth (its password)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() in ("bearer", "token"):
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2] or None
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def edl_tokens_auth(tokens: Sequence[str]) -> AuthDependency:
    """The local dashboard's check: one of ``tokens`` (none: 404, the lists are not served)."""

    def check(request: Request) -> None:
        if not tokens:
            raise HTTPException(404, "no deny lists served here: set [edl] tokens")
        given = presented_token(request.headers.get("authorization", ""))
        if given is None or not any(hmac.compare_digest(given, token) for token in tokens):
            raise HTTPException(401, "a valid [edl] token is required", headers=_CHALLENGE)

    return check


def edl_router(store: Store, settings: Settings, auth: AuthDependency) -> APIRouter:
    """``GET /edl/{ip,domain,url}.txt`` behind ``auth``."""
    router = APIRouter(dependencies=[Depends(auth)], tags=["deny lists"])
    rules, policy = VerdictRules.from_settings(settings), Policy.from_settings(settings)

    def serve(kind: str, request: Request) -> Response:
        advice = advise(stored_verdicts(store), rules, store.clock(), policy, (kind,))
        body = edl_text(advice.keep, kind).encode("utf-8")
        headers = {"ETag": etag_of(body), "Cache-Control": "no-cache"}
        if matches_etag(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="text/plain; charset=utf-8", headers=headers)

    def endpoint(kind: str) -> Callable[[Request], Response]:
        def list_of_kind(request: Request) -> Response:
            return serve(kind, request)

        return list_of_kind

    for kind in KINDS:
        router.add_api_route(
            f"/edl/{kind}.txt",
            endpoint(kind),
            methods=["GET"],
            name=f"edl.{kind}",
            summary=f"The {kind} deny list, one value a line",
            response_class=Response,
        )
    return router
