"""What every dashboard route needs: the store, the settings, the templates, and how to render and link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from c2watch.analysis import LocalClock
from c2watch.config import Settings
from c2watch.store import Store
from c2watch.web.i18n import language, translator

__all__ = ["Dashboard", "make_templates"]


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("c2watch.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=env)


@dataclass(frozen=True)
class Dashboard:
    """One dashboard over one store (no module globals: every router closes over its own)."""

    store: Store
    settings: Settings
    templates: Jinja2Templates
    sign_out: str | None = None  # the path a "Sign out" button posts to (the hub's /logout); None: no login

    @property
    def zone(self) -> str:
        return self.settings.observer.zone

    @property
    def clock(self) -> LocalClock:
        return LocalClock(self.zone)

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request.query_params.get("lang"))

        def href(route: str, query: dict[str, str] | None = None, **path: Any) -> str:
            return link(request, lang, route, query, **path)

        def path_for(route: str, **path: Any) -> str:
            return route_path(request, route, **path)

        values = {
            "t": translator(lang),
            "lang": lang,
            "href": href,
            "path_for": path_for,
            "zone": self.zone,
            "clock": self.clock,
            "sign_out": self.sign_out,
        }
        return self.templates.TemplateResponse(request, name, {**values, **context}, status_code=status_code)


def route_path(request: Request, route: str, **path: Any) -> str:
    """The path of ``route`` (works under any mount prefix) with each path value percent-encoded whole (a threat
    ID such as ``a/b?c#d %`` becomes one segment, ``a%2Fb%3Fc%23d%20%25``, and reads back as it was)."""
    return request.url_for(route, **{k: quote(str(v), safe="") for k, v in path.items()}).path


def link(request: Request, lang: str, route: str, query: dict[str, str] | None = None, **path: Any) -> str:
    """The path of ``route`` with its path values encoded (:func:`route_path`), keeping ``lang=ja`` when chosen."""
    params = {**(query or {}), **({"lang": lang} if lang != "en" else {})}
    target = route_path(request, route, **path)
    return f"{target}?{urlencode(params)}" if params else target
