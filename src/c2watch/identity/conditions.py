"""The conditions a signature may set, as data: each names the evidence field it reads, how its values are written
in a rules file, and how one value is tested. A condition holds when any of its values matches; a signature's
match table holds when all its conditions hold."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from c2watch.identity.evidence import Evidence

__all__ = ["CONDITIONS", "Condition"]

_JARM = re.compile(r"[0-9a-f]{62}")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Condition:
    """``parse`` turns one written value into its compiled form (``ValueError`` when it is bad); ``test`` says
    whether the evidence matches that compiled value."""

    name: str
    help: str
    parse: Callable[[Any], Any]
    test: Callable[[Evidence, Any], bool]


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    return value


def _serial(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isdigit():
        return str(int(value))
    raise ValueError(f"expected a certificate serial number in decimal, got {value!r}")


def _jarm(value: Any) -> str:
    if not isinstance(value, str) or not _JARM.fullmatch(value.lower()):
        raise ValueError(f"expected a JARM fingerprint (62 hexadecimal characters), got {value!r}")
    return value.lower()


def _network(value: Any) -> Network:
    """An address or a network (``199.2.137.0/24``)."""
    try:
        return ipaddress.ip_network(_text(value), strict=False)
    except ValueError:
        raise ValueError(f"expected an address or a network such as 192.0.2.0/24, got {value!r}") from None


def _glob(value: Any) -> str:
    return _text(value).lower().rstrip(".")


@lru_cache(maxsize=256)
def _address(text: str) -> tuple[int, int] | None:
    """The address's version and number, parsed once for every network condition that tests it (None when it is
    not an address)."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    return address.version, int(address)


def _in_network(evidence: Evidence, network: Network) -> bool:
    """``address in network`` on integers (every sighting is tested against every network of the signatures)."""
    address = None if evidence.address is None else _address(evidence.address)
    if address is None or address[0] != network.version:
        return False
    return address[1] & int(network.netmask) == int(network.network_address)


def _contains(field: str) -> Callable[[Evidence, Any], bool]:
    def test(evidence: Evidence, needle: str) -> bool:
        value = getattr(evidence, field)
        return value is not None and needle.lower() in value.lower()

    return test


def _any_name(field: str) -> Callable[[Evidence, Any], bool]:
    def test(evidence: Evidence, pattern: str) -> bool:
        return any(fnmatch.fnmatchcase(name.lower().rstrip("."), pattern) for name in getattr(evidence, field))

    return test


def _equals(field: str) -> Callable[[Evidence, Any], bool]:
    return lambda evidence, value: getattr(evidence, field) == value


def _cert_contains(evidence: Evidence, needle: str) -> bool:
    texts = [evidence.cert_subject or "", evidence.cert_issuer or "", *evidence.cert_names]
    return any(needle.lower() in text.lower() for text in texts)


def _jarm_equals(evidence: Evidence, value: str) -> bool:
    return evidence.jarm is not None and evidence.jarm.lower() == value


_LIST: list[Condition] = [
    Condition("cert_serial", "certificate serial number (decimal)", _serial, _equals("cert_serial")),
    Condition("cert_subject_contains", "text in the certificate subject", _text, _contains("cert_subject")),
    Condition("cert_issuer_contains", "text in the certificate issuer", _text, _contains("cert_issuer")),
    Condition("cert_contains", "text in the certificate subject, issuer or names", _text, _cert_contains),
    Condition("jarm", "JARM fingerprint", _jarm, _jarm_equals),
    Condition("favicon_hash", "Shodan http.favicon.hash", _integer, _equals("favicon_hash")),
    Condition("html_hash", "Shodan http.html_hash", _integer, _equals("html_hash")),
    Condition("address_in", "address or network the server's address is in", _network, _in_network),
    Condition("port", "port", _integer, _equals("port")),
    Condition("status", "HTTP status code", _integer, _equals("status")),
    Condition("server_contains", "text in the HTTP Server header", _text, _contains("server")),
    Condition("title_contains", "text in the HTML title", _text, _contains("title")),
    Condition("body_contains", "text in the first bytes of the body", _text, _contains("body_text")),
    Condition("name_server", "name server of the domain (glob: *.sedoparking.com)", _glob, _any_name("name_servers")),
    Condition("ptr", "PTR name of the address (glob)", _glob, _any_name("ptr_names")),
    Condition("cname", "CNAME of the domain (glob)", _glob, _any_name("cnames")),
]

#: Condition name -> condition: the only list of what a signature can test.
CONDITIONS: dict[str, Condition] = {condition.name: condition for condition in _LIST}
