"""Undo defanging and normalise single watchlist values.

Every ``normalize_*`` function returns the canonical value or raises :class:`ValueError`
whose message is a short human reason (it ends up in a :class:`~c2watch.errors.LineError`).
Each one is idempotent: normalising its own output returns the same output.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Collection
from urllib.parse import urlsplit

from c2watch.models.net import is_ip_literal
from c2watch.models.net import is_ip_literal as is_ip_address

__all__ = [
    "HASH_LENGTHS",
    "is_ip_address",
    "normalize_date",
    "normalize_domain",
    "normalize_hash",
    "normalize_ip",
    "normalize_port",
    "normalize_url",
    "refang",
    "url_explicit_port",
]

_DOT = re.compile(r"\s*[\[({]\s*(?:\.|dot)\s*[\])}]\s*", re.IGNORECASE)
_BRACKETED = re.compile(r"[\[({]\s*(://|:|/|@)\s*[\])}]")
_HTTP_SCHEME = re.compile(r"^hxxp(s?)(?=://)", re.IGNORECASE)
_FTP_SCHEME = re.compile(r"^fxp(s?)(?=://)", re.IGNORECASE)
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
_PORT = re.compile(r"^[0-9]{1,5}$")
_HEX = re.compile(r"^[0-9a-f]+$")
_DEFAULT_PORTS = {"http": 80, "https": 443}

HASH_LENGTHS: dict[str, int] = {"md5": 32, "sha1": 40, "sha256": 64}
"""Hex length of each accepted hash algorithm."""


def _show(text: str, limit: int = 80) -> str:
    """``repr(text)``, shortened for error messages."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def _refang_once(text: str) -> str:
    text = _DOT.sub(".", text)
    text = _BRACKETED.sub(r"\1", text)
    text = _HTTP_SCHEME.sub(lambda match: "https" if match.group(1) else "http", text)
    return _FTP_SCHEME.sub(lambda match: "ftps" if match.group(1) else "ftp", text)


def refang(value: str) -> str:
    """Undo common defanging (``hxxp://``, ``[.]``, ``(dot)``, ``[:]``, ``[@]`` ...) and trim.

    Repeats until nothing changes, so ``refang(refang(x)) == refang(x)``.
    """
    text = value.strip()
    while True:
        new = _refang_once(text).strip()
        if new == text:
            return text
        text = new


def normalize_ip(value: str) -> str:
    """Return the canonical (compressed) form of an IPv4 or IPv6 address."""
    text = refang(value)
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:
        raise ValueError(f"IP address must not have a zone index: {_show(text)}")
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        raise ValueError(f"not a valid IPv4 or IPv6 address: {_show(text)}") from None


def _to_ascii(name: str) -> str:
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"not a valid internationalised domain name: {_show(name)} ({exc})") from None


def normalize_domain(value: str) -> str:
    """Return a lower-case ASCII (IDNA) domain name with at least two labels and no trailing dot."""
    text = refang(value).lower()
    if not text:
        raise ValueError("empty domain name")
    if is_ip_literal(text) or is_ip_literal(text.strip("[]")):
        raise ValueError(f"an IP address is not a domain name: {_show(text)}")
    name = _to_ascii(text[:-1] if text.endswith(".") else text).lower()
    if len(name) > 253:
        raise ValueError(f"domain name is {len(name)} characters long (limit 253)")
    labels = name.split(".")
    if len(labels) < 2:
        raise ValueError(f"domain name needs at least two labels: {_show(text)}")
    for label in labels:
        if not _LABEL.match(label):
            raise ValueError(
                f"invalid domain label {_show(label)} in {_show(text)}: labels are 1-63 characters"
                " of a-z, 0-9 and '-', not starting or ending with '-'"
            )
    if labels[-1].isdigit():
        raise ValueError(f"top-level label must not be all digits: {_show(text)}")
    return name


def normalize_port(value: str | int) -> int:
    """Return a TCP/UDP port number in 1..65535."""
    text = str(value).strip()
    if not _PORT.match(text):
        raise ValueError(f"port must be a number in 1..65535, not {_show(text)}")
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range 1..65535")
    return port


def normalize_date(value: str) -> dt.date:
    """Parse ``YYYY-MM-DD`` or ``YYYY/MM/DD`` (month and day may have one digit)."""
    text = value.strip()
    match = _DATE.match(text)
    if not match:
        raise ValueError(f"date must be YYYY-MM-DD, not {_show(text)}")
    year, _, month, day = match.groups()
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"not a valid date: {_show(text)} ({exc})") from None


def normalize_hash(value: str, algorithms: Collection[str] = tuple(HASH_LENGTHS)) -> str:
    """Return a lower-case hex digest whose length matches one of ``algorithms``."""
    text = value.strip().lower()
    lengths = {HASH_LENGTHS[name]: name for name in algorithms}
    if not _HEX.match(text) or len(text) not in lengths:
        names = "/".join(algorithms)
        raise ValueError(f"not a hex {names} digest: {_show(text)}")
    return text


def _split_host_port(hostport: str) -> tuple[str, str]:
    """Split ``host[:port]`` or ``[v6][:port]`` into host (brackets kept) and the port text."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in URL host")
        host, rest = hostport[: end + 1], hostport[end + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"unexpected {_show(rest)} after URL host")
        return host, rest[1:]
    host, _, port = hostport.partition(":")
    if ":" in port:
        raise ValueError("an IPv6 address in a URL must be in brackets")
    return host, port


def _normalize_url_host(host: str) -> str:
    if not host:
        raise ValueError("URL has no host")
    if host.startswith("["):
        address = normalize_ip(host[1:-1])
        if ":" not in address:
            raise ValueError(f"only IPv6 addresses go in brackets: {_show(host)}")
        return f"[{address}]"
    if is_ip_literal(host):
        return normalize_ip(host)
    return normalize_domain(host)


def _check_url_text(text: str) -> None:
    if not text:
        raise ValueError("empty URL")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise ValueError("URL contains whitespace or control characters")


def normalize_url(value: str) -> tuple[str, int]:
    """Return the canonical URL and its effective port.

    Only http and https are accepted; scheme and host are lower-cased, the host is normalised as
    a domain or IP address, a default port is dropped, path and query are kept, the fragment is dropped.
    """
    text = refang(value)
    _check_url_text(text)
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not text[len(scheme) :].startswith("://"):
        raise ValueError(f"URL must start with http:// or https://: {_show(text)}")
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host_text, port_text = _split_host_port(hostport)
    host = _normalize_url_host(host_text)
    port = normalize_port(port_text) if port_text else _DEFAULT_PORTS[scheme]
    netloc = f"{userinfo}{at}{host}" + ("" if port == _DEFAULT_PORTS[scheme] else f":{port}")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path}{query}", port


def url_explicit_port(url: str) -> int | None:
    """The port written in a normalised URL, or None when it uses the scheme's default."""
    _, _, hostport = urlsplit(url).netloc.rpartition("@")
    _, port_text = _split_host_port(hostport)
    return int(port_text) if port_text else None
