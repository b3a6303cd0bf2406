"""What the lab's DNS says of a destination's name over time: its address, NXDOMAIN, SERVFAIL, or its address with
the name servers of a parking provider or a sinkhole.

A destination with a ``domain`` has a ``dns`` timeline of answers (``a`` when none is given):

- ``a``: the name resolves to the destination's address (zone with lab name servers);
- ``nxdomain`` / ``servfail``: that error;
- ``ns:NAME[,NAME…]``: the address, in a zone whose name servers are those names (a parking provider's
  ``ns1.parkingcrew.net``, a sinkhole's ``sinkhole1.shadowserver.org``: data the signatures read, never contacted);
- ``cname:NAME``: a CNAME to that name (e.g. a sinkhole operator's ``this-domain-is-sinkholed-by.abuse.ch``).

Names must end in ``.test`` (RFC 2606 reserves it): the lab's server is the only one asked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["LAB_NS", "NameAnswer", "NameAnswerError", "check_domain", "parse_answer", "records_for"]

LAB_NS = "ns1.lab-dns.test"
_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


class NameAnswerError(ValueError):
    pass


@dataclass(frozen=True)
class NameAnswer:
    kind: str
    names: tuple[str, ...] = ()


def _names(text: str) -> tuple[str, ...]:
    names = tuple(part.strip().lower().rstrip(".") for part in text.split(",") if part.strip())
    bad = [name for name in names if not _NAME.fullmatch(name)]
    if not names or bad:
        raise NameAnswerError(f"expected host names after ':', got {text!r}")
    return names


def parse_answer(text: str) -> NameAnswer:
    """``a``, ``nxdomain``, ``servfail``, ``ns:NAME,…`` or ``cname:NAME``."""
    if text in ("a", "nxdomain", "servfail"):
        return NameAnswer(text)
    kind, _, rest = text.partition(":")
    if kind == "ns":
        return NameAnswer("ns", _names(rest))
    if kind == "cname":
        names = _names(rest)
        if len(names) == 1:
            return NameAnswer("cname", names)
    raise NameAnswerError(f"must be a, nxdomain, servfail, ns:NAME[,NAME] or cname:NAME, got {text!r}")


def check_domain(domain: str) -> str:
    name = domain.lower().rstrip(".")
    if not _NAME.fullmatch(name) or not name.endswith(".test"):
        raise NameAnswerError(f"must be a host name under .test, got {domain!r}")
    return name


def _zone(domain: str) -> str:
    labels = domain.split(".")
    return ".".join(labels[-2:]) if len(labels) > 2 else domain


def records_for(domain: str, address: str, answer: NameAnswer) -> dict[str, dict[str, list[str]]]:
    """The lab server's records that give ``answer`` for ``domain`` (records of other names merged by the lab)."""
    if answer.kind == "nxdomain":
        return {}
    if answer.kind == "servfail":
        return {domain: {"RCODE": ["SERVFAIL"]}}
    kind = "AAAA" if ":" in address else "A"
    if answer.kind == "cname":
        return {domain: {"CNAME": [answer.names[0] + "."]}}
    servers: Sequence[str] = answer.names if answer.kind == "ns" else (LAB_NS,)
    zone = _zone(domain)
    soa = f"{servers[0]}. hostmaster.{zone}. 1 7200 3600 1209600 300"
    records: dict[str, dict[str, list[str]]] = {zone: {"SOA": [soa], "NS": [name + "." for name in servers]}}
    records.setdefault(domain, {})[kind] = [address]
    return records
