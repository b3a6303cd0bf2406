"""TAXII 2.1 media types and content negotiation (406 for a bad Accept, 415 for a bad Content-Type)."""

from __future__ import annotations

from fastapi import Request

__all__ = ["TAXII_MEDIA", "check_accept", "check_content_type"]

TAXII_MEDIA = "application/taxii+json;version=2.1"
_ACCEPTED = {"application/taxii+json;version=2.1", "application/taxii+json", "*/*", "application/*"}


def _media_types(header: str) -> list[str]:
    types = []
    for part in header.split(","):
        fields = [f.strip().lower() for f in part.split(";")]
        params = [f for f in fields[1:] if f and not f.startswith("q=")]
        types.append(";".join([fields[0], *params]))
    return types


def check_accept(request: Request) -> None:
    """Raise 406 unless the client accepts the TAXII 2.1 media type."""
    from c2watch.taxii.errors import TaxiiError

    header = request.headers.get("accept", "")
    if header and not any(t in _ACCEPTED for t in _media_types(header)):
        raise TaxiiError(406, "Not acceptable", f"this server serves {TAXII_MEDIA}, not {header!r}")


def check_content_type(request: Request) -> None:
    """Raise 415 unless the body is sent as TAXII 2.1 JSON."""
    from c2watch.taxii.errors import TaxiiError

    header = request.headers.get("content-type", "")
    if _media_types(header)[:1] not in (["application/taxii+json;version=2.1"], ["application/taxii+json"]):
        raise TaxiiError(415, "Unsupported media type", f"send {TAXII_MEDIA}, not {header!r}")
