"""What every dashboard route needs: the store, the settings, the templates, and how to render and link."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

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

        values = {"t": translator(lang), "lang": lang, "href": href, "zone": self.zone, "clock": self.clock}
        return self.templates.TemplateResponse(request, name, {**values, **context}, status_code=status_code)


def link(request: Request, lang: str, route: str, query: dict[str, str] | None = None, **path: Any) -> str:
    """The path of ``route`` (works under any mount prefix), keeping ``lang=ja`` when it is chosen."""
    params = {**(query or {}), **({"lang": lang} if lang != "en" else {})}
    target = request.url_for(route, **{k: str(v) for k, v in path.items()}).path
    return f"{target}?{urlencode(params)}" if params else target
