"""Static files: our stylesheet and script from this package, plotly.js from the installed ``plotly`` wheel.

Nothing comes from a CDN, and no third-party file is kept in the repository.
"""

from __future__ import annotations

import importlib.resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

__all__ = ["ASSETS", "assets_router", "plotly_js"]

_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def plotly_js() -> Traversable:
    """``plotly/package_data/plotly.min.js`` of the installed plotly wheel."""
    return importlib.resources.files("plotly") / "package_data" / "plotly.min.js"


def _own(name: str) -> Traversable:
    return importlib.resources.files("c2watch.web") / "static" / name


#: Served name -> where it comes from (no other file can be asked for).
ASSETS = {
    "c2watch.css": _own("c2watch.css"),
    "dashboard.js": _own("dashboard.js"),
    "analysis.js": _own("analysis.js"),
    "plotly.min.js": plotly_js(),
}


def assets_router() -> APIRouter:
    """``/static/{name}`` for the names in :data:`ASSETS` (no login: they hold no data)."""
    router = APIRouter(include_in_schema=False)
    cache: dict[str, bytes] = {}

    @router.get("/static/{name}", name="dashboard.static")
    def static(name: str) -> Response:
        source = ASSETS.get(name)
        if source is None:
            raise HTTPException(404, f"no static file {name!r}")
        if name not in cache:
            cache[name] = source.read_bytes()
        suffix = name[name.rindex(".") :]
        return Response(cache[name], media_type=_TYPES[suffix], headers={"Cache-Control": "public, max-age=3600"})

    return router
