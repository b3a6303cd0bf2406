"""Bad input never becomes a 500: c2watch errors and request validation errors become 400/404 responses, as an
HTML page for the pages and as JSON for the API. The routes handle this themselves (a route class), so a router
mounted in another application (the hub) keeps the behaviour without app-level handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from c2watch.analysis import MonthOutOfRangeError, UnknownDestinationError
from c2watch.errors import C2WatchError, UnknownThreatError

__all__ = ["ErrorRenderer", "guarded_route", "json_error", "status_of"]

ErrorRenderer = Callable[[Request, int, str], Response]
_NOT_FOUND = (UnknownThreatError, MonthOutOfRangeError, UnknownDestinationError)


def status_of(exc: Exception) -> int:
    """404 for something that does not exist, 400 for input that cannot be read."""
    return 404 if isinstance(exc, _NOT_FOUND) else 400


def message_of(exc: Exception) -> str:
    if isinstance(exc, RequestValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def json_error(_request: Request, status: int, message: str) -> Response:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)


def guarded_route(render: ErrorRenderer) -> type[APIRoute]:
    """A route class whose handlers answer c2watch and validation errors with ``render``."""

    class GuardedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def guarded(request: Request) -> Response:
                try:
                    return await handler(request)
                except (C2WatchError, RequestValidationError) as exc:
                    return render(request, status_of(exc), message_of(exc))

            return guarded

    return GuardedRoute
