"""What is known of a server at one moment, as the signatures read it: its address and port, what its answer looked
like (status, headers, title, body and favicon hashes), its TLS certificate and JARM, and what DNS says of its
name. Every field is optional: a rule's condition on a field that is unknown does not hold."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["EVIDENCE_FIELDS", "Evidence"]


@dataclass(frozen=True)
class Evidence:
    """One destination's fingerprint and DNS facts (see docs/signatures.md for where each comes from)."""

    address: str | None = None
    port: int | None = None
    status: int | None = None
    server: str | None = None
    title: str | None = None
    body_text: str | None = None
    html_hash: int | None = None
    favicon_hash: int | None = None
    jarm: str | None = None
    cert_serial: str | None = None
    cert_subject: str | None = None
    cert_issuer: str | None = None
    cert_names: tuple[str, ...] = ()
    name_servers: tuple[str, ...] = ()
    ptr_names: tuple[str, ...] = ()
    cnames: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> Evidence:
        """Evidence from plain values (a rule's example, a JSON file); lists become tuples. Unknown keys and values
        of the wrong type raise ``ValueError`` naming the field."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown evidence field(s): {', '.join(unknown)}")
        return cls(**{name: _checked(name, str(known[name].type), value) for name, value in values.items()})


def _checked(name: str, kind: str, value: Any) -> Any:
    if kind.startswith("tuple"):
        if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name}: expected a list of strings")
        return tuple(value)
    wanted = int if kind.startswith("int") else str
    if value is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
        raise ValueError(f"{name}: expected {'an integer' if wanted is int else 'a string'}, got {value!r}")
    return value


EVIDENCE_FIELDS = tuple(f.name for f in fields(Evidence))
