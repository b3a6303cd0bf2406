"""The hub's admin page (``/admin/``, behind the dashboard login): tokens (never their secrets) and the latest
status resources. An organisation's ``admin`` sees its own organisation's; the hub ``operator`` sees every
organisation's; any other role is refused (403)."""

from collections.abc import Callable
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from c2watch.taxii.backend import HubBackend, TokenInfo

__all__ = ["ADMIN_ROLES", "admin_router"]

ADMIN_ROLES = ("admin", "operator")

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>c2watch hub: admin</title>
<link rel="stylesheet" href="/static/c2watch.css"></head><body><main>
<h1>c2watch hub: {scope}</h1>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<h2>Tokens</h2><table id="tokens"><tr><th>id</th><th>organisation</th><th>name</th><th>role</th><th>created</th>
<th>expires</th><th>revoked</th></tr>{tokens}</table>
<h2>Latest posts</h2><table id="statuses"><tr><th>status</th><th>organisation</th><th>at</th><th>objects</th>
<th>failures</th></tr>{statuses}</table></main></body></html>"""


def _cells(*values: Any) -> str:
    return "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in values) + "</tr>"


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""


def admin_page(backend: HubBackend, caller: TokenInfo) -> str:
    hub_wide = caller.hub_wide
    tokens = backend.tokens(None if hub_wide else caller.organization)
    statuses = backend.recent_statuses(None if hub_wide else caller.org_pk)
    names = {t.org_pk: t.organization for t in backend.tokens(None)} if hub_wide else {}
    rows = "".join(
        _cells(
            t.public_id, t.organization, t.name, t.role, _when(t.created_at), _when(t.expires_at), _when(t.revoked_at)
        )
        for t in tokens
    )
    posts = "".join(
        _cells(
            s["id"],
            names.get(s["org_pk"], caller.organization),
            _when(s["request_timestamp"]),
            s["total_count"],
            s["failure_count"],
        )
        for s in statuses
    )
    scope = "the whole hub" if hub_wide else caller.organization
    return _PAGE.format(scope=escape(scope), tokens=rows, statuses=posts)


def admin_router(backend: HubBackend, auth: Callable[[Request], TokenInfo]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/admin/")
    def admin(caller: Annotated[TokenInfo, Depends(auth)]) -> HTMLResponse:
        if caller.role not in ADMIN_ROLES:
            raise HTTPException(403, f"role {caller.role!r} has no admin page")
        return HTMLResponse(admin_page(backend, caller))

    return router
