"""Serving the dashboard with uvicorn on a socket we bind first, so the URL (even for port 0) is known before
the server starts, and early clients wait in the listen backlog instead of being refused: no readiness polling.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from types import TracebackType

import uvicorn
from fastapi import FastAPI

from c2watch.errors import InputError

__all__ = ["ServedApp", "bind", "serve", "url_of"]

_JOIN_TIMEOUT = 10.0


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port`` 0: any free port); :class:`InputError` if it cannot be."""
    family = socket.AF_INET6 if _is_v6(host) else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def _is_v6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def _server(app: FastAPI) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))


def serve(app: FastAPI, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C / SIGTERM), in the calling thread; a stop is a normal end."""
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the signal it shut down for
        _server(app).run(sockets=[sock])


class ServedApp:
    """``with ServedApp(app) as served: served.url`` — the app served from a background thread."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self._server = _server(app)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ServedApp:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.should_exit = True
        self._thread.join(_JOIN_TIMEOUT)
        self.sock.close()
