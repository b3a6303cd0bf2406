"""Map what aiohttp and the OS raise to the error kinds we record: timeout, refused, reset, tls, protocol, …"""

from __future__ import annotations

import asyncio
import errno
import ssl

import aiohttp
from aiohttp import http_exceptions

__all__ = ["error_kind"]

_ERRNO_KINDS = {
    errno.ECONNREFUSED: "refused",
    errno.ECONNRESET: "reset",
    errno.EPIPE: "reset",
    errno.ECONNABORTED: "reset",
    errno.EHOSTUNREACH: "unreachable",
    errno.ENETUNREACH: "unreachable",
    errno.ETIMEDOUT: "timeout",
}


def _os_kind(exc: OSError) -> str | None:
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    return _ERRNO_KINDS.get(exc.errno or 0)


def error_kind(exc: BaseException) -> str:
    """One short word for a failed exchange."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "tls"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "reset"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _os_kind(exc.os_error) or "connect"
    if isinstance(exc, http_exceptions.HttpProcessingError | aiohttp.ClientResponseError | aiohttp.ClientPayloadError):
        return "protocol"
    if isinstance(exc, OSError):
        return _os_kind(exc) or "os-error"
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        return error_kind(cause)
    return "protocol" if isinstance(exc, aiohttp.ClientError | ValueError) else "error"
