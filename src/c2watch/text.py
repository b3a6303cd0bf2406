"""Text from outside made safe to store and to show: no control characters, no lone surrogates.

A C2 server, another hub member or a feed may send any bytes. C0 and C1 control characters and DEL (which
PostgreSQL refuses as NUL, or which rewrite a terminal as escape sequences) become ``\\xNN``; lone surrogates
(bytes that were not UTF-8, kept by decoders as U+DC80..U+DCFF) become the ``\\xNN`` of their byte, any other
lone surrogate ``\\uXXXX``. Everything else is kept as it is.
"""

from __future__ import annotations

import re

__all__ = ["clean_text", "is_clean"]

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
