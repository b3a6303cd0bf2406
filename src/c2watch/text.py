"""Text from outside made safe to store and to show: no control characters, no lone surrogates; URLs without
their credentials (:func:`redact_url`).

A C2 server, another hub member or a feed may send any bytes. C0 and C1 control characters and DEL (which
PostgreSQL refuses as NUL, or which rewrite a terminal as escape sequences) become ``\\xNN``; lone surrogates
(bytes that were not UTF-8, kept by decoders as U+DC80..U+DCFF) become the ``\\xNN`` of their byte, any other
lone surrogate ``\\uXXXX``. Everything else is kept as it is.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "clean_text", "is_clean", "redact_url", "redact_urls"]

REDACTED = "REDACTED"
#: Query parameters whose value is a credential (compared lower-case, ``-`` read as ``_``); a name that contains
#: one of the markers (``api_token``, ``x_signature``) counts too.
_SECRET_MARKERS = ("token", "secret", "key", "password", "passwd", "pwd", "auth", "sig", "signature", "code")
_SECRET_NAMES = frozenset({"access_token", "apikey", "api_key", "credential", "credentials", "session", "hash"})

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, as surrogateescape keeps it
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def is_clean(value: str) -> bool:
    """True when :func:`clean_text` would keep ``value`` as it is."""
    return (value.isascii() and value.isprintable()) or _UNSAFE.search(value) is None


def clean_text(value: str) -> str:
    """``value`` without control characters or lone surrogates (escaped as ``\\xNN``, ``\\uXXXX``)."""
    if value.isascii() and value.isprintable():
        return value
    return _UNSAFE.sub(_escape, value)


def _secret_param(name: str) -> bool:
    key = name.lower().replace("-", "_")
    return key in _SECRET_NAMES or any(marker in key for marker in _SECRET_MARKERS)


def redact_url(url: str) -> str:
    """``url`` as it may be logged and stored: user and password, and the values of token-like query parameters
    (``token``, ``api_key``, ``sig`` …), replaced by ``REDACTED``; everything else kept. Text that is not a URL
    is returned as it is.

    >>> redact_url("https://user:pw@hooks.example/in?token=abc&room=7")
    'https://REDACTED@hooks.example/in?token=REDACTED&room=7'
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    netloc = parts.netloc
    if parts.username is not None or parts.password is not None:
        host = parts.hostname or ""
        shown = f"[{host}]" if ":" in host else host
        netloc = f"{REDACTED}@{shown}" + (f":{port}" if port is not None else "")
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(_secret_param(name) for name, _ in pairs):
            kept = [(name, REDACTED if _secret_param(name) else value) for name, value in pairs]
            query = urlencode(kept, quote_via=quote, safe="")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment and REDACTED))


def redact_urls(text: str, urls: list[str] | tuple[str, ...]) -> str:
    """``text`` (an error message, a log line) with each of ``urls`` replaced by its :func:`redact_url` form."""
    for url in sorted(urls, key=len, reverse=True):
        if url in text:
            text = text.replace(url, redact_url(url))
    return text
