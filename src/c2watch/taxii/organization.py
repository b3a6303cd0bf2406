"""``GET /api/organization/``: which organisation the caller's token belongs to, so an agent learns the name its
records must carry (``created_by_ref``) from the hub instead of trusting its own ``[observer] organization``.

Not a TAXII 2.1 endpoint: a small c2watch addition under the API root, answered in the TAXII media type with the
same token check as every TAXII request::

    {"organization": "Org A CSIRT", "identity": "identity--…", "role": "observer", "token": "<public id>"}
"""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from c2watch.taxii.backend import TokenInfo
from c2watch.taxii.media import check_accept
from c2watch.taxii.views import API_ROOT, taxii_json

__all__ = ["ORGANIZATION_PATH", "organization_router"]

ORGANIZATION_PATH = "organization/"


def organization_router(auth: Callable[[Request], TokenInfo]) -> APIRouter:
    """The organisation of the caller's token, at ``/api/organization/``."""
    router = APIRouter(dependencies=[Depends(check_accept)])

    @router.get(API_ROOT + ORGANIZATION_PATH)
    def organization(caller: Annotated[TokenInfo, Depends(auth)]) -> Response:
        """The caller's organisation, its STIX identity and the token's role."""
        return taxii_json(
            {
                "organization": caller.organization,
                "identity": caller.org_identity,
                "role": caller.role,
                "token": caller.public_id,
            }
        )

    return router
