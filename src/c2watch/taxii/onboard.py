"""Joining a hub: from the URL a user was given to the API root to sync with, and the organisation the hub knows
the token by.

``--hub`` may be the server's discovery URL (``https://hub.example/taxii2/``, what every TAXII client starts from)
or an API root (``https://hub.example/api/``). A discovery resource (TAXII 2.1 §4.1) names its ``default`` API
root, which is followed; one without a default but with a single API root leads there; with several and no
default the user must choose, and the error lists them.

The organisation comes from the hub (``GET <api root>/organization/``, :mod:`c2watch.taxii.organization`): the
records an agent pushes carry its ``[observer] organization`` as creator, and the hub refuses every object created
by another organisation than the token's, so a different name is an error naming both, before anything is pushed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from c2watch.errors import ConfigError
from c2watch.taxii.client import HubClient, HubRefused, HubUnavailable

__all__ = ["OrganizationMismatch", "api_root_of", "check_organization", "confirm_organization", "hub_organization"]


class OrganizationMismatch(HubRefused):
    """The hub knows the token by another organisation than the one this observer records as (a refusal: the
    agent's sync loop reports it and retries later, as for a revoked token)."""


def _is_discovery(resource: dict[str, Any]) -> bool:
    return "api_roots" in resource or "default" in resource


def _choose(url: str, discovery: dict[str, Any]) -> str:
    default = discovery.get("default")
    if isinstance(default, str) and default:
        return urljoin(url, default)
    roots = [urljoin(url, root) for root in discovery.get("api_roots") or [] if isinstance(root, str)]
    if len(roots) == 1:
        return roots[0]
    if not roots:
        raise ConfigError(f"--hub {url}: the hub's discovery resource lists no API root")
    listed = "\n".join(f"  {root}" for root in roots)
    raise ConfigError(
        f"--hub {url}: the hub has {len(roots)} API roots and no default; pass the one to sync with as --hub "
        f"(and as [hub] url):\n{listed}"
    )


async def api_root_of(url: str, token: str, timeout: float = 30.0) -> str:
    """The API root ``url`` leads to: itself when it is one, else the one its discovery resource points to."""
    async with HubClient(url, token, timeout) as hub:
        resource = await hub.get()
        api_root = hub.api_root
    if not _is_discovery(resource):
        return api_root
    return _choose(api_root, resource).rstrip("/") + "/"


async def hub_organization(hub: HubClient) -> str | None:
    """The organisation the hub knows the token by; None from a hub without the endpoint (older, or not c2watch)."""
    try:
        answer = await hub.get("organization/")
    except HubRefused as exc:
        if exc.status == 404:
            return None
        raise
    name = answer.get("organization")
    return name if isinstance(name, str) and name else None


def check_organization(configured: str, on_hub: str | None) -> None:
    """Raise :class:`OrganizationMismatch` naming both names when they differ."""
    if on_hub is not None and on_hub != configured:
        raise OrganizationMismatch(
            f"the hub knows this token as organisation {on_hub!r}, but this observer records as {configured!r} "
            f"([observer] organization); the hub would refuse every record. Set [observer] organization = "
            f'"{on_hub}" in c2watch.toml (cycles recorded as {configured!r} stay local)'
        )


async def confirm_organization(url: str, token: str, organization: str, timeout: float = 30.0) -> str | None:
    """At an agent's start: the organisation the hub knows the token by, checked against ``organization``
    (:class:`OrganizationMismatch` before any cycle queues objects the hub would refuse); None when the hub cannot
    be asked now (down, or refusing the token: the sync loop reports that and retries)."""
    try:
        async with HubClient(await api_root_of(url, token, timeout), token, timeout) as hub:
            on_hub = await hub_organization(hub)
    except (HubUnavailable, HubRefused):
        return None
    check_organization(organization, on_hub)
    return on_hub
