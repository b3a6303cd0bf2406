"""External Dynamic Lists (the plain-text lists Palo Alto, Fortinet, Check Point … poll): one value a line, of one
kind, with a strong ETag so a poller's ``If-None-Match`` gets a 304 while nothing changed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from c2watch.analysis.blocklist import Entry

__all__ = ["edl_text", "etag_of", "matches_etag"]


def edl_text(entries: Sequence[Entry], kind: str) -> str:
    """The values of ``kind``, one a line, sorted as advised; empty text for none."""
    return "".join(f"{entry.value}\n" for entry in entries if entry.kind == kind)


def etag_of(body: bytes) -> str:
    """A strong ETag: the body's SHA-256 (the same list always gets the same tag, on every process)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def matches_etag(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (``*``, lists and weak tags as RFC 9110 §13.1.2)."""
    if not if_none_match:
        return False
    tags = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)
