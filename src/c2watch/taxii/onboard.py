"""Joining a hub: from the URL a user was given to the API root to sync with, and the organisation the hub knows
the token by.

``--hub`` may be the server's discovery URL (``https://hub.example/taxii2/``, what every TAXII client starts from)
or an API root (``https://hub.example/api/``). A discovery resource (TAXII 2.1 §4.1) names its ``default`` API
root, which is followed; one without a default but with a single API root leads there; with several and no
default the user must choose, and the error lists them.

``[hub] url`` may also list several URLs of one hub (its replicas, behind no load balancer): every call tries them in
the order given and moves to the next when one cannot be reached or answers 5xx (:func:`first_answering`); a
refusal (4xx) is the hub's answer and ends there.

The organisation comes from the hub (``GET <api root>/organization/``, :mod:`c2watch.taxii.organization`): the
records an agent pushes carry its ``[observer] organization`` as creator, and the hub refuses every object created
by another organisation than the token's, so a different name is an error naming both, before anything is pushed.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from c2watch.config import hub_urls
from c2watch.errors import ConfigError
from c2watch.taxii.client import HubClient, HubRefused, HubUnavailable

__all__ = [
    "OrganizationMismatch",
    "api_root_of",
    "check_organization",
    "confirm_organization",
    "cursor_key",
    "first_answering",
    "hub_organization",
    "hub_urls",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


class OrganizationMismatch(HubRefused):
    """The hub knows the token by another organisation than the one this observer records as (a refusal: the
    agent's sync loop reports it and retries later, as for a revoked token)."""


async def first_answering(urls: Sequence[str], attempt: Callable[[str], Awaitable[T]]) -> T:
    """``attempt(url)`` with each URL in turn until one does not raise :class:`HubUnavailable` (that one raised by
    the last URL when none answers)."""
    if not urls:
        raise ConfigError("no hub URL: set [hub] url")
    for url in urls[:-1]:
        try:
            return await attempt(url)
        except HubUnavailable as exc:
            log.warning("%s; trying the next hub URL", exc)
    return await attempt(urls[-1])


def cursor_key(urls: Sequence[str], api_root: str) -> str:
    """Where the pull cursor of ``api_root`` is kept: under it for one URL; for several URLs of one hub, under the
    first one's API root (the same path on the first URL), whichever replica answered."""
    if len(urls) <= 1:
        return api_root
    return urljoin(urls[0], urlsplit(api_root).path)


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


async def confirm_organization(
    url: str | Sequence[str], token: str, organization: str, timeout: float = 30.0
) -> str | None:
    """At an agent's start: the organisation the hub knows the token by, checked against ``organization``
    (:class:`OrganizationMismatch` before any cycle queues objects the hub would refuse); None when the hub cannot
    be asked now (down, or refusing the token: the sync loop reports that and retries)."""

    async def ask(one: str) -> str | None:
        async with HubClient(await api_root_of(one, token, timeout), token, timeout) as hub:
            return await hub_organization(hub)

    try:
        on_hub = await first_answering(hub_urls(url), ask)
    except (HubUnavailable, HubRefused):
        return None
    check_organization(organization, on_hub)
    return on_hub
