"""Pull a watchlist from a collection of any TAXII 2.1 server, with the OASIS ``taxii2-client``.

``url`` is the server's discovery URL (every API root it lists is searched for the collection) or an API
root URL. The collection's objects are read page by page (``as_pages``: ``limit``, ``more``, ``next``),
parsed like a STIX bundle (:mod:`.stix_feed`) and imported atomically; the source (which scopes
retirement) is the collection's URL. The token goes as ``Authorization: Bearer <token>``, or as the
HTTP Basic password with ``user``. The environment's proxy and ``.netrc`` settings are not used.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any
from urllib.parse import urljoin

import requests
from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from taxii2client.common import _HTTPConnection
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import MEDIA_TYPE_TAXII_V21, ApiRoot, Collection, as_pages

from c2watch.errors import LineError, WatchlistError
from c2watch.store import ImportReport, Store
from c2watch.watchlist import finish_parse, stix_feed
from c2watch.watchlist.feed import check_threat_id
from c2watch.watchlist.importer import store_entries
from c2watch.watchlist.stix_feed import Located, entries_from_objects

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGES", "FetchedCollection", "PullOutcome", "fetch_collection", "pull_watchlist"]

DEFAULT_PAGE_SIZE = 1000
MAX_PAGES = 10_000
DEFAULT_TIMEOUT = 30.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # one answer read at most (decompressed): a server cannot exhaust our memory
_CLIENT_ERRORS = (requests.RequestException, TAXIIServiceException, KeyError, TypeError, ValueError, AttributeError)
_PAGING_LOGGER = "taxii2client.v21"


@dataclass
class FetchedCollection:
    """Every object of one collection, each with where it was found (page and index)."""

    url: str
    title: str
    pages: int = 0
    objects: list[Located] = field(default_factory=list)


@dataclass
class PullOutcome:
    """What a pull read and what it changed (or, with ``dry_run``, would change)."""

    url: str
    collection: str
    title: str
    pages: int
    objects: int
    report: ImportReport
    skipped: list[LineError] = field(default_factory=list)
    ignored: list[LineError] = field(default_factory=list)
    threat_rule: str = ""


def pull_watchlist(
    store: Store,
    url: str,
    collection: str,
    token: str | None,
    now: dt.datetime,
    *,
    user: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    threat: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    timeout: float = DEFAULT_TIMEOUT,
) -> PullOutcome:
    """Read collection ``collection`` from the TAXII 2.1 server at ``url`` and import its indicators.

    Atomic like a file import: any bad object refuses the pull (store unchanged) unless ``skip_invalid``.
    ``now`` is the import time (indicators whose ``valid_until`` is not after it are skipped).
    """
    problem = None if threat is None else check_threat_id(threat)
    if problem:
        raise WatchlistError(url, [LineError(0, f"--threat: {problem}")])
    fetched = fetch_collection(url, collection, token, user=user, page_size=page_size, timeout=timeout)
    entries, errors = entries_from_objects(fetched.objects, now)
    parsed = finish_parse(entries, errors, stix_feed.NAME, "utf-8", threat)
    report = store_entries(store, parsed, fetched.url, fetched.url, now, skip_invalid=skip_invalid, dry_run=dry_run)
    return PullOutcome(
        fetched.url,
        collection,
        fetched.title,
        fetched.pages,
        len(fetched.objects),
        report,
        list(parsed.errors),
        list(parsed.ignored),
        parsed.threat_rule,
    )


def fetch_collection(
    url: str,
    collection: str,
    token: str | None = None,
    *,
    user: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    timeout: float = DEFAULT_TIMEOUT,
    max_pages: int = MAX_PAGES,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> FetchedCollection:
    """Every object of the collection; :class:`WatchlistError` (naming ``url``) when the server fails us (or sends
    an answer over ``max_response_bytes``)."""
    conn = _connection(token, user, timeout, max_response_bytes)
    try:
        with _quiet_paging():
            found = _find_collection(conn, url, collection)
            return _read(found, page_size, max_pages)
    except _CLIENT_ERRORS as exc:
        raise WatchlistError(url, [LineError(0, _describe(exc))]) from None
    finally:
        conn.close()


# Connection ----------------------------------------------------------------------------------------------------


class AnswerTooLarge(requests.RequestException):
    """A server's answer over the bytes we read of one."""


class _TimeoutAdapter(HTTPAdapter):
    """Every request gets a timeout (requests has none by default), and no answer is read past ``max_bytes``."""

    def __init__(self, timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout
        self.max_bytes = max_bytes

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        response = super().send(request, True, timeout or self.timeout, verify, cert, proxies)
        if not stream:
            _read_bounded(response, self.max_bytes)
        return response


def _read_bounded(response: Response, limit: int) -> None:
    """Read the body (decompressed) in chunks, giving up past ``limit`` bytes (a larger declared length unread)."""
    declared = response.headers.get("Content-Length", "")
    too_large = AnswerTooLarge(f"the TAXII server's answer is larger than {limit} bytes ({response.url})")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise too_large
    chunks, size = [], 0
    for chunk in response.raw.stream(256 * 1024, decode_content=True):
        size += len(chunk)
        if size > limit:
            response.close()
            raise too_large
        chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True


def _connection(token: str | None, user: str | None, timeout: float, max_bytes: int = MAX_RESPONSE_BYTES) -> Any:
    conn = _HTTPConnection(auth=_auth(token, user), version="2.1", user_agent=f"c2watch/{version('c2watch')}")
    conn.session.trust_env = False  # no proxy, CA bundle or .netrc from the environment
    adapter = _TimeoutAdapter(timeout, max_bytes)
    conn.session.mount("http://", adapter)
    conn.session.mount("https://", adapter)
    return conn


def _auth(token: str | None, user: str | None) -> Any:
    """HTTP Basic (``user`` and the token as password), a Bearer token, or None."""
    if token is None:
        return None
    if user is not None:
        return requests.auth.HTTPBasicAuth(user, token)

    def bearer(request: Any) -> Any:
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    return bearer


@contextmanager
def _quiet_paging() -> Iterator[None]:
    """Hide taxii2-client's warning that the server sends smaller pages than asked for (servers may)."""

    def keep(record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("TAXII Server Response with different amount")

    logger = logging.getLogger(_PAGING_LOGGER)
    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        response = exc.response
        return f"TAXII server answered HTTP {response.status_code} {response.reason} for {response.url}"
    if isinstance(exc, AnswerTooLarge):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return f"TAXII server did not answer in time: {exc}"
    if isinstance(exc, requests.ConnectionError):
        return f"cannot connect to the TAXII server: {exc}"
    if isinstance(exc, TAXIIServiceException):
        return f"TAXII server answer not usable: {' '.join(str(exc).split())}"
    return f"TAXII server answer not understood ({type(exc).__name__}: {exc})"


# Discovery and collections -------------------------------------------------------------------------------------


def _find_collection(conn: Any, url: str, collection: str) -> Any:
    """The readable collection whose id (or alias) is ``collection``, in every API root ``url`` leads to."""
    seen: list[str] = []
    for root_url in _api_roots(conn, url):
        for found in ApiRoot(root_url, conn=conn).collections:
            if collection in (found.id, getattr(found, "alias", None)):
                if not found.can_read:
                    raise WatchlistError(
                        url, [LineError(0, f"collection {collection} may not be read (can_read false)")]
                    )
                return found
            seen.append(f"{found.id} ({found.title})")
    known = ", ".join(seen) or "none"
    raise WatchlistError(url, [LineError(0, f"no collection {collection!r} on this server; it has: {known}")])


def _api_roots(conn: Any, url: str) -> list[str]:
    """The API roots of a discovery URL (default first), or ``url`` itself when it is an API root."""
    info = conn.get(url, headers={"Accept": MEDIA_TYPE_TAXII_V21})
    if not isinstance(info, dict):
        raise WatchlistError(url, [LineError(0, "TAXII answer is not a JSON object")])
    if "api_roots" in info or "default" in info:
        listed = [info.get("default"), *(info.get("api_roots") or [])]
        roots = [urljoin(url, root) for root in listed if isinstance(root, str) and root]
        return list(dict.fromkeys(roots))
    if "versions" in info:
        return [url]
    message = "neither a TAXII 2.1 discovery resource (api_roots) nor an API root (versions)"
    raise WatchlistError(url, [LineError(0, message)])


def _read(found: Collection, page_size: int, max_pages: int) -> FetchedCollection:
    """Every object of the collection, page by page, refusing a server that pages forever.

    A cursor may repeat (medallion keeps one server-side cursor per request and sends the same ``next`` on every
    page); a loop shows as a page that announces more objects but brings none not already received.
    """
    fetched = FetchedCollection(found.url, str(found.title))
    received: set[str] = set()
    for envelope in as_pages(found.get_objects, per_request=page_size):
        fetched.pages += 1
        _check_envelope(found.url, envelope, fetched.pages, max_pages)
        objects = envelope.get("objects", [])
        if not _new_objects(objects, received) and envelope.get("more"):
            message = f"page {fetched.pages} brings no new object but says more follow (the server pages in a loop)"
            raise WatchlistError(found.url, [LineError(0, message)])
        fetched.objects += [(f"page {fetched.pages}: $.objects[{i}]", obj) for i, obj in enumerate(objects)]
    return fetched


def _new_objects(objects: list[Any], received: set[str]) -> int:
    """How many of ``objects`` (compared by their whole JSON text) were not received before; remembers them."""
    texts = {json.dumps(obj, sort_keys=True) for obj in objects}
    new = texts - received
    received |= new
    return len(new)


def _check_envelope(url: str, envelope: Any, page: int, max_pages: int) -> None:
    problem = None
    if page > max_pages:
        problem = f"more than {max_pages} pages"
    elif not isinstance(envelope, dict):
        problem = f"page {page} is not a TAXII envelope (a JSON object)"
    elif not isinstance(envelope.get("objects", []), list):
        problem = f"page {page}: 'objects' is not a list"
    elif envelope.get("more") and not envelope.get("next"):
        problem = f"page {page} says more objects follow but gives no 'next' cursor"
    if problem:
        raise WatchlistError(url, [LineError(0, problem)])
