"""The hub's observer keys, beside the TAXII API root (not part of TAXII; c2watch agents use them):

- ``GET /api/observer-keys/``: every observer key the hub holds, with its organisation, observer, revocation time
  and endorsement, for any member. Served by the hub, signed by nothing: agents pin each observer's key on first
  sight and trust a later one only with the endorsement of a key they pinned (docs/sharing.md, trust model).
- ``POST /api/observer-keys/``: an observer's organisation enrols its key (``{"observer": name, "public_key": …,
  "endorsement": …}``, observer role): trust on first use, then only keys endorsed by the current one.
"""

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from c2watch.errors import InputError
from c2watch.stix.keys import parse_public_key, public_key_text
from c2watch.stix.signing import key_id
from c2watch.stix.trust import KeyRecord
from c2watch.stix.vocab import identity_ids
from c2watch.taxii.auth import require_write
from c2watch.taxii.backend import HubBackend, TokenInfo
from c2watch.taxii.collections import OBSERVATIONS
from c2watch.taxii.errors import TaxiiError

__all__ = ["KEYS_PATH", "keys_router"]

KEYS_PATH = "/api/observer-keys/"
_MAX_BODY = 16 * 1024
_ENROL_SCHEMA: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "observer": {"type": "string"},
                        "public_key": {"type": "string"},
                        "endorsement": {"type": "object"},
                    },
                    "required": ["observer", "public_key"],
                }
            }
        },
    }
}


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


def _enrolment(body: bytes, caller: TokenInfo, now: dt.datetime) -> KeyRecord:
    """The key record an enrolment asks for; 400 with the reason for anything else."""
    try:
        value = orjson.loads(body)
        name, text = value["observer"], value["public_key"]
        if not isinstance(name, str) or not isinstance(text, str) or not name or len(name) > 64:
            raise ValueError("'observer' (a name) and 'public_key' must be strings")
        public = parse_public_key(text)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, InputError) as exc:
        raise TaxiiError(400, "Not an enrolment", str(exc)[:300]) from None
    endorsement = value.get("endorsement") if isinstance(value.get("endorsement"), dict) else None
    org_identity, observer_ref = identity_ids(caller.organization, name)
    return KeyRecord(
        key_id(public),
        public_key_text(public),
        org_identity,
        caller.organization,
        observer_ref,
        now,
        None,
        "",
        endorsement,
    )


def keys_router(
    backend: HubBackend, auth: Callable[[Request], TokenInfo], clock: Callable[[], dt.datetime]
) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[TokenInfo, Depends(auth)]

    @router.get(KEYS_PATH)
    def observer_keys(caller: Caller) -> Response:
        """Every observer key the hub holds."""
        return _json({"keys": [record.as_json() for record in backend.observer_keys()]})

    @router.post(KEYS_PATH, status_code=201, openapi_extra=_ENROL_SCHEMA)
    async def enrol(request: Request, caller: Caller) -> Response:
        """Enrol the key of one of the caller's organisation's observers."""
        require_write(caller, OBSERVATIONS.writers, OBSERVATIONS.alias)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > _MAX_BODY:
                raise TaxiiError(413, "Request too large", f"an enrolment has at most {_MAX_BODY} bytes")
        record = _enrolment(body, caller, clock())
        try:
            outcome = await run_in_threadpool(backend.enrol_key, record)
        except InputError as exc:
            raise TaxiiError(409, "Key not enrolled", str(exc)) from None
        return _json({"status": outcome, "key": record.as_json()}, 200 if outcome == "known" else 201)

    return router
