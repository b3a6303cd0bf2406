"""A tiny authoritative DNS server on loopback for the lab and the tests: fixed records, NXDOMAIN otherwise.

Records are given per name, either as a list of addresses (A and AAAA) or by type
(``{"c2.lab.test": {"A": ["127.77.0.5"], "NS": ["ns1.lab-parking.test"], "CNAME": [...], "SOA": [...]}}``); a name
whose records hold ``"rcode": ["SERVFAIL"]`` answers that error. A CNAME is followed within the server's own names.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import cast

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

__all__ = ["LabDns"]


Records = Mapping[str, list[str] | Mapping[str, list[str]]]


def _by_type(value: list[str] | Mapping[str, list[str]]) -> dict[str, list[str]]:
    if isinstance(value, Mapping):
        return {kind.upper(): list(items) for kind, items in value.items()}
    return {"A": [a for a in value if ":" not in a], "AAAA": [a for a in value if ":" in a]}


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, records: Mapping[str, dict[str, list[str]]], ttl: int) -> None:
        self.records = records
        self.ttl = ttl
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0
        self.names: Counter[str] = Counter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # garbage datagrams are ignored, as a real server would
            return
        self.queries += 1
        if query.question:
            self.names[query.question[0].name.to_text().rstrip(".").lower()] += 1
        assert self.transport is not None
        self.transport.sendto(self._answer(query).to_wire(), addr)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        wanted = dns.rdatatype.to_text(question.rdtype)
        for _ in range(8):  # a CNAME chain within our own names, bounded
            records = self.records.get(name)
            if records is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
                return response
            if "RCODE" in records:
                response.set_rcode(dns.rcode.from_text(records["RCODE"][0]))
                return response
            if records.get(wanted):
                response.answer.append(dns.rrset.from_text(name + ".", self.ttl, "IN", wanted, *records[wanted]))
                return response
            if not records.get("CNAME"):
                return response  # no data of that type
            target = records["CNAME"][0].rstrip(".").lower()
            response.answer.append(dns.rrset.from_text(name + ".", self.ttl, "IN", "CNAME", target + "."))
            name = target
        return response


class LabDns:
    """``async with LabDns({"c2.lab.test": ["127.77.0.5"]}) as server:`` then use ``server.port`` on 127.0.0.1."""

    def __init__(self, records: Records, host: str = "127.0.0.1", port: int = 0, ttl: int = 60):
        self.protocol = _Protocol({k.lower().rstrip("."): _by_type(v) for k, v in records.items()}, ttl)
        self.host = host
        self.port = port
        self._transport: asyncio.DatagramTransport | None = None

    async def __aenter__(self) -> LabDns:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self.protocol, local_addr=(self.host, self.port))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._transport is not None:
            self._transport.close()

    def set_records(self, records: Records) -> None:
        """Answer from ``records`` from now on (the lab changes its names as its clock moves)."""
        self.protocol.records = {k.lower().rstrip("."): _by_type(v) for k, v in records.items()}

    @property
    def queries(self) -> int:
        return self.protocol.queries

    @property
    def names(self) -> Counter[str]:
        """How often each name was asked about (lower case, no trailing dot)."""
        return self.protocol.names
