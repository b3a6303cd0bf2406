"""A tiny authoritative DNS server on loopback for the lab and the tests: fixed A/AAAA records, NXDOMAIN otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import TracebackType
from typing import cast

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset

__all__ = ["LabDns"]


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, records: Mapping[str, list[str]], ttl: int) -> None:
        self.records = records
        self.ttl = ttl
        self.transport: asyncio.DatagramTransport | None = None
        self.queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:  # garbage datagrams are ignored, as a real server would
            return
        self.queries += 1
        assert self.transport is not None
        self.transport.sendto(self._answer(query).to_wire(), addr)

    def _answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name = question.name.to_text().rstrip(".").lower()
        if name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
            return response
        wanted = "A" if question.rdtype == dns.rdatatype.A else "AAAA"
        addresses = [a for a in self.records[name] if (":" in a) == (wanted == "AAAA")]
        if addresses:
            response.answer.append(dns.rrset.from_text(question.name, self.ttl, "IN", wanted, *addresses))
        return response


class LabDns:
    """``async with LabDns({"c2.lab.test": ["127.77.0.5"]}) as server:`` then use ``server.port`` on 127.0.0.1."""

    def __init__(self, records: Mapping[str, list[str]], host: str = "127.0.0.1", port: int = 0, ttl: int = 60):
        self.protocol = _Protocol({k.lower().rstrip("."): v for k, v in records.items()}, ttl)
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

    @property
    def queries(self) -> int:
        return self.protocol.queries
