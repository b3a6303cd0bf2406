"""TAXII 2.1 endpoints, each linked to its section of the specification
(https://docs.oasis-open.org/cti/taxii/v2.1/taxii-v2.1.html)."""

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from c2watch.gcpause import gc_paused
from c2watch.metrics import HubMetrics
from c2watch.stix.ingest import parse_time
from c2watch.stix.vocab import taxii_timestamp
from c2watch.taxii.auth import require_write
from c2watch.taxii.backend import HubBackend, ObjectQuery, Outcome, StoredObject, TokenInfo
from c2watch.taxii.collections import COLLECTIONS, CollectionDef, find_collection
from c2watch.taxii.errors import TaxiiError
from c2watch.taxii.ingest import parse_envelope
from c2watch.taxii.media import TAXII_MEDIA, check_accept, check_content_type

__all__ = ["API_ROOT", "taxii_router"]

API_ROOT = "/api/"
MAX_PAGE = 10_000
_CHUNK = 1 << 20  # bytes of a page sent at once
ENVELOPE_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            TAXII_MEDIA: {
                "schema": {
                    "type": "object",
                    "properties": {"objects": {"type": "array", "items": {"type": "object"}}},
                    "required": ["objects"],
                }
            }
        },
    }
}
Ids = Annotated[list[str] | None, Query(alias="match[id]")]
Types = Annotated[list[str] | None, Query(alias="match[type]")]
Versions = Annotated[list[str] | None, Query(alias="match[version]")]


class Filters:
    """The query parameters of the objects and manifest endpoints (§3.4)."""

    def __init__(
        self,
        added_after: str | None = None,
        limit: int | None = None,
        next: str | None = None,
        ids: Ids = None,
        types: Types = None,
        versions: Versions = None,
    ) -> None:
        self.added_after, self.limit, self.next = added_after, limit, next
        self.ids, self.types, self.versions = ids, types, versions

    def query(
        self,
        collection: CollectionDef,
        ids: list[str] | None = None,
        versions: list[str] | None = None,
        with_body: bool = True,
    ) -> ObjectQuery:
        query = _query(
            collection, self.added_after, self.limit, self.next, ids or self.ids, self.types, versions or self.versions
        )
        query.with_body = with_body
        return query


def _paged(page: list[StoredObject], more: bool, key: str, items: list[Any]) -> Response:
    body: dict[str, Any] = {"more": more, key: items}
    if more:
        body["next"] = str(page[-1].pk)
    return taxii_json(body, headers=_page_headers(page))


def taxii_json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = value if isinstance(value, str) else orjson.dumps(value)
    return Response(body, status_code=status, media_type=TAXII_MEDIA, headers=headers)


_MAX_NEXT = 2**31 - 1  # an object's row id (``taxii_objects.id``): larger would only reach the database to fail


def _parse_added_after(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except (ValueError, OverflowError) as exc:  # OverflowError: a time before year 1 once in UTC
        raise TaxiiError(400, "Bad added_after", f"not a timestamp: {value[:100]!r}") from exc


def _split(values: list[str] | None) -> list[str]:
    return [part for value in values or [] for part in value.split(",") if part]


def _query(
    collection: CollectionDef,
    added_after: str | None,
    limit: int | None,
    next_: str | None,
    ids: list[str] | None,
    types: list[str] | None,
    versions: list[str] | None,
) -> ObjectQuery:
    if limit is not None and limit < 1:
        raise TaxiiError(400, "Bad limit", "limit must be a positive integer")
    if next_ is not None and not (next_.isascii() and next_.isdigit() and int(next_) <= _MAX_NEXT):
        raise TaxiiError(400, "Bad next", "unknown 'next' value")
    wanted = _split(versions) or ["last"]
    return ObjectQuery(
        collection.id,
        _parse_added_after(added_after),
        _split(ids),
        _split(types),
        wanted,
        int(next_ or 0),
        min(limit or MAX_PAGE, MAX_PAGE),
    )


def _page_headers(page: list[StoredObject]) -> dict[str, str]:
    if not page:
        return {}
    return {
        "X-TAXII-Date-Added-First": taxii_timestamp(page[0].date_added),
        "X-TAXII-Date-Added-Last": taxii_timestamp(page[-1].date_added),
    }


def _status(backend: HubBackend, status_id: str, org_pk: int | None) -> dict[str, Any]:
    row = backend.status(status_id, org_pk)
    if row is None:
        raise TaxiiError(404, "Unknown status", f"no status {status_id}")
    return _status_resource(row)


def _status_resource(row: dict[str, Any]) -> dict[str, Any]:
    """§4.3.1 the status resource; every request completes at once, so nothing is ever pending."""
    successes, failures = row["successes"], row["failures"]
    return {
        "id": row["id"],
        "status": "complete",
        "request_timestamp": taxii_timestamp(row["request_timestamp"]),
        "total_count": row["total_count"],
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TaxiiError(413, "Request too large", f"the hub accepts at most {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TaxiiError(413, "Request too large", f"the hub accepts at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def taxii_router(
    backend: HubBackend,
    auth: Callable[[Request], TokenInfo],
    max_content_length: int,
    clock: Callable[[], dt.datetime],
    metrics: HubMetrics | None = None,
    on_ingest: Callable[[str], None] | None = None,
) -> APIRouter:
    """The TAXII 2.1 API: discovery at /taxii2/, one API root at /api/. ``on_ingest(alias)`` is called after a POST
    stored something."""
    router = APIRouter(dependencies=[Depends(check_accept)])
    Caller = Annotated[TokenInfo, Depends(auth)]

    def collection_or_404(collection_id: str) -> CollectionDef:
        found = find_collection(collection_id)
        if found is None:
            raise TaxiiError(404, "Unknown collection", f"no collection {collection_id}")
        return found

    @router.get("/taxii2/")
    def discovery(request: Request, caller: Caller) -> Response:
        """§4.1 Server Discovery."""
        root = str(request.url_for("api_root"))
        return taxii_json(
            {
                "title": "c2watch hub",
                "description": "Shared C2 liveness observations",
                "default": root,
                "api_roots": [root],
            }
        )

    @router.get(API_ROOT, name="api_root")
    def api_root(caller: Caller) -> Response:
        """§4.2 Get API Root Information."""
        return taxii_json(
            {
                "title": "c2watch",
                "description": "Watchlist and observations of the members",
                "versions": [TAXII_MEDIA],
                "max_content_length": max_content_length,
            }
        )

    @router.get(API_ROOT + "status/{status_id}/")
    def status(status_id: str, caller: Caller) -> Response:
        """§4.3 Get Status."""
        return taxii_json(_status(backend, status_id, None if caller.hub_wide else caller.org_pk))

    @router.get(API_ROOT + "collections/")
    def collections(caller: Caller) -> Response:
        """§5.1 Get Collections."""
        return taxii_json({"collections": [c.resource(caller.role) for c in COLLECTIONS]})

    @router.get(API_ROOT + "collections/{collection_id}/")
    def collection(collection_id: str, caller: Caller) -> Response:
        """§5.2 Get a Collection."""
        return taxii_json(collection_or_404(collection_id).resource(caller.role))

    @router.get(API_ROOT + "collections/{collection_id}/manifest/")
    def manifest(collection_id: str, caller: Caller, filters: Annotated[Filters, Depends()]) -> Response:
        """§5.3 Get Object Manifests."""
        page, more = backend.objects(filters.query(collection_or_404(collection_id), with_body=False))
        entries = [
            {
                "id": o.object_id,
                "date_added": taxii_timestamp(o.date_added),
                "version": o.manifest_version(),
                "media_type": "application/stix+json;version=2.1",
            }
            for o in page
        ]
        return _paged(page, more, "objects", entries)

    @router.get(API_ROOT + "collections/{collection_id}/objects/")
    def get_objects(collection_id: str, caller: Caller, filters: Annotated[Filters, Depends()]) -> Response:
        """§5.4 Get Objects."""
        return _envelope(backend, filters.query(collection_or_404(collection_id)))

    @router.post(
        API_ROOT + "collections/{collection_id}/objects/",
        dependencies=[Depends(check_content_type)],
        status_code=202,
        openapi_extra=ENVELOPE_SCHEMA,
    )
    async def add_objects(collection_id: str, request: Request, caller: Caller) -> Response:
        """§5.5 Add Objects: the status resource, complete at once."""
        target = collection_or_404(collection_id)
        require_write(caller, target.writers, target.alias)
        body = await _read_body(request, max_content_length)
        now = clock()
        outcome = await run_in_threadpool(_ingest, backend, target, caller, body, now)
        if metrics is not None:
            metrics.ingested.labels(target.alias, "success").inc(len(outcome.successes))
            metrics.ingested.labels(target.alias, "failure").inc(len(outcome.failures))
        if on_ingest is not None and outcome.successes:
            on_ingest(target.alias)
        row = {
            "id": outcome.status_id,
            "request_timestamp": now,
            "total_count": outcome.total,
            "successes": outcome.successes,
            "failures": outcome.failures,
        }
        return taxii_json(_status_resource(row), status=202)

    @router.get(API_ROOT + "collections/{collection_id}/objects/{object_id}/")
    def get_object(
        collection_id: str, object_id: str, caller: Caller, filters: Annotated[Filters, Depends()]
    ) -> Response:
        """§5.6 Get an Object."""
        query = filters.query(collection_or_404(collection_id), ids=[object_id])
        return _envelope(backend, query, missing_is_404=True)

    @router.get(API_ROOT + "collections/{collection_id}/objects/{object_id}/versions/")
    def versions(
        collection_id: str, object_id: str, caller: Caller, filters: Annotated[Filters, Depends()]
    ) -> Response:
        """§5.8 Get Object Versions."""
        query = filters.query(collection_or_404(collection_id), ids=[object_id], versions=["all"], with_body=False)
        page, more = backend.objects(query)
        if not page and not filters.next:
            raise TaxiiError(404, "Unknown object", f"no object {object_id}")
        return _paged(page, more, "versions", [o.manifest_version() for o in page])

    return router


def _ingest(backend: HubBackend, target: CollectionDef, caller: TokenInfo, body: bytes, now: dt.datetime) -> Outcome:
    """Parse and store an envelope (in a worker thread: the event loop goes on serving other requests)."""
    with gc_paused():
        outcome: Outcome = backend.add_objects(target, caller, parse_envelope(body), now)
    return outcome


def _envelope(backend: HubBackend, query: ObjectQuery, missing_is_404: bool = False) -> Response:
    """The page as an envelope, streamed in chunks of about ``_CHUNK`` bytes (the stored bodies are never joined into
    one more copy of the page; a chunk per object cost more CPU than the query: every chunk crosses a thread and
    each HTTP middleware)."""
    page, more = backend.objects(query)
    if missing_is_404 and not page and not query.after_pk:
        raise TaxiiError(404, "Unknown object", f"no object {query.ids[0]}")
    head = {"more": more}
    if more:
        head["next"] = str(page[-1].pk)  # type: ignore[assignment]
    prefix = json.dumps(head)[:-1] + ', "objects": ['

    def chunks() -> Iterator[bytes]:
        parts, size = [prefix.encode()], 0
        for n, stored in enumerate(page):
            parts.append((b"," if n else b"") + stored.body.encode())
            size += len(parts[-1])
            if size >= _CHUNK:
                yield b"".join(parts)
                parts, size = [], 0
        parts.append(b"]}")
        yield b"".join(parts)

    size = len(prefix) + sum(len(o.body) for o in page) + max(len(page) - 1, 0) + 2
    headers = {**_page_headers(page)}
    if all(o.body.isascii() for o in page):
        headers["Content-Length"] = str(size)
    return StreamingResponse(chunks(), media_type=TAXII_MEDIA, headers=headers)
