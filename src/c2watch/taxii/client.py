"""A small async TAXII 2.1 client for the agent's sync (aiohttp): post an envelope, read a page of objects.
Transport failures and 5xx answers become :class:`HubUnavailable`; a refused token becomes :class:`HubRefused`.
An answer is read in chunks and given up past ``max_response_bytes`` (:class:`HubUnavailable`), so a hub can never
make an agent hold more than that of one page in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson

from c2watch.errors import C2WatchError
from c2watch.gcpause import gc_paused
from c2watch.taxii.media import TAXII_MEDIA

__all__ = ["HubClient", "HubRefused", "HubUnavailable", "Page"]


class HubUnavailable(C2WatchError):
    """The hub could not be reached or failed (retry later)."""


class HubRefused(C2WatchError):
    """The hub refused the request for good (bad token, no permission, bad request); ``status`` is the HTTP one."""

    exit_code = 2

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Page:
    objects: list[dict[str, Any]]
    more: bool
    next: str | None
    date_added_last: str | None


class HubClient:
    """``async with HubClient("https://hub.example/api/", token) as hub:``."""

    def __init__(
        self, api_root: str, token: str, timeout: float = 30.0, max_response_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self.api_root = api_root.rstrip("/") + "/"
        self.max_response_bytes = max_response_bytes
        self._headers = {"Authorization": f"Bearer {token}", "Accept": TAXII_MEDIA}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HubClient:
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[dict[str, Any], dict[str, str]]:
        assert self._session is not None, "use 'async with HubClient(...)'"
        try:
            async with self._session.request(method, self.api_root + path, **kwargs) as response:
                body = await self._read(response, f"{method} {path}")
                headers = dict(response.headers)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise HubUnavailable(f"hub {self.api_root} unreachable: {exc or type(exc).__name__}") from exc
        if status >= 500:
            raise HubUnavailable(f"hub {self.api_root} answered {status}: {_text(body, 200)}")
        if status >= 400:
            raise HubRefused(f"hub {self.api_root} refused {method} {path}: {status} {_text(body, 300)}", status)
        try:
            with gc_paused():  # a page of thousands of objects: no collections while it is built
                value = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise HubUnavailable(f"hub {self.api_root} answered {status} with no JSON: {_text(body, 200)}") from exc
        if not isinstance(value, dict):
            raise HubUnavailable(f"hub {self.api_root} answered {status} with JSON that is not an object")
        return value, headers

    async def get(self, path: str = "") -> dict[str, Any]:
        """GET a JSON resource under the URL given (``""``: that URL itself, e.g. a discovery resource)."""
        value, _ = await self._request("GET", path)
        return value

    async def _read(self, response: aiohttp.ClientResponse, what: str) -> bytes:
        """The body, read in chunks up to ``max_response_bytes`` (a declared larger length is refused unread)."""
        limit = self.max_response_bytes
        too_large = HubUnavailable(f"hub {self.api_root} answered {what} with more than {limit} bytes")
        if response.content_length is not None and response.content_length > limit:
            raise too_large
        chunks, size = [], 0
        async for chunk in response.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def add_objects(self, collection: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
        """POST an envelope; returns the status resource."""
        body = orjson.dumps({"objects": objects})
        status, _ = await self._request(
            "POST", f"collections/{collection}/objects/", data=body, headers={"Content-Type": TAXII_MEDIA}
        )
        return status

    async def observer_keys(self) -> list[Any]:
        """The observer keys the hub publishes (``GET observer-keys/``; none from a hub without them)."""
        try:
            value, _ = await self._request("GET", "observer-keys/")
        except HubRefused as exc:
            if exc.status == 404:
                return []
            raise
        keys = value.get("keys")
        return keys if isinstance(keys, list) else []

    async def enrol_key(self, enrolment: dict[str, Any]) -> dict[str, Any]:
        """Enrol this observer's key (``POST observer-keys/``); HubRefused 409 when the hub will not."""
        body = orjson.dumps(enrolment)
        value, _ = await self._request(
            "POST", "observer-keys/", data=body, headers={"Content-Type": "application/json"}
        )
        return value

    async def get_objects(
        self,
        collection: str,
        added_after: str | None = None,
        next_: str | None = None,
        limit: int = 1000,
        ids: Sequence[str] = (),
    ) -> Page:
        """One page of objects (the last version of each), oldest first; ``ids`` asks for those objects only."""
        params: dict[str, str] = {"limit": str(limit)}
        if added_after:
            params["added_after"] = added_after
        if next_:
            params["next"] = next_
        if ids:
            params["match[id]"] = ",".join(ids)
        envelope, headers = await self._request("GET", f"collections/{collection}/objects/", params=params)
        return Page(
            envelope.get("objects", []),
            bool(envelope.get("more")),
            envelope.get("next"),
            headers.get("X-TAXII-Date-Added-Last"),
        )


def _text(body: bytes, limit: int) -> str:
    return body[:limit].decode("utf-8", errors="replace")
