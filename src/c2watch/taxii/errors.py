"""TAXII error resources: every failure the hub reports is ``{title, description, http_status}`` with the TAXII
media type, never a stack trace."""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from c2watch.taxii.media import TAXII_MEDIA

__all__ = ["TaxiiError", "install_error_handlers", "taxii_error_response"]

log = logging.getLogger(__name__)


class TaxiiError(Exception):
    """Raised by a view; rendered as a TAXII error resource with ``status``."""

    def __init__(self, status: int, title: str, description: str = "", headers: dict[str, str] | None = None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.description = description
        self.headers = headers or {}


def taxii_error_response(
    status: int, title: str, description: str = "", headers: dict[str, str] | None = None
) -> Response:
    body = {"title": title, "description": description, "http_status": str(status)}
    return Response(json.dumps(body), status_code=status, media_type=TAXII_MEDIA, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_taxii(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TaxiiError)
        return taxii_error_response(exc.status, exc.title, exc.description, exc.headers)

    async def on_http(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return taxii_error_response(exc.status_code, str(exc.detail), "", dict(exc.headers or {}))

    async def on_validation(_request: Request, exc: Exception) -> Response:
        return taxii_error_response(400, "Bad request", str(exc)[:1000])

    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        return taxii_error_response(500, "Internal error", "the hub could not complete the request")

    app.add_exception_handler(TaxiiError, on_taxii)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Exception, on_unexpected)
