"""The network destinations a STIX 2.1 indicator pattern names.

The pattern is parsed by the OASIS ``stix2-patterns`` grammar (:class:`stix2patterns.v21.pattern.Pattern`)
and turned into an expression tree by the ``stix2`` visitor built on it; no regular expressions.

Reading rule: every observation expression (``[...]``, whatever joins or qualifies it) is read on its own.
Inside one, ``OR`` gives alternatives and ``AND`` combines them, so
``[network-traffic:dst_ref.value = '198.51.100.7' AND network-traffic:dst_port = 8443]`` is one
destination (198.51.100.7, port 8443). Only ``=`` and ``IN`` name values; any other comparison, a negated
one, a network range (``198.51.100.0/24``) or another property constrains nothing here. These properties
name a destination: ``ipv4-addr:value``, ``ipv6-addr:value``, ``domain-name:value``, ``url:value``,
``network-traffic:dst_ref.value`` (an address or a name) and ``network-traffic:dst_port``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from stix2 import patterns as ast
from stix2.pattern_visitor import STIXPatternVisitorForSTIX21
from stix2patterns.v21.grammars.STIXPatternParser import STIXPatternParser
from stix2patterns.v21.pattern import Pattern

from c2watch.models.net import is_ip_literal

__all__ = ["MAX_ALTERNATIVES", "MAX_PATTERN_CHARS", "Destination", "PatternError", "destinations"]

MAX_PATTERN_CHARS = 20_000
MAX_ALTERNATIVES = 1_000

Partial = dict[str, str]
"""Some of ``ip``, ``domain``, ``url``, ``port`` (``host`` until it is known to be an address or a name)."""

_PATHS: dict[tuple[str, tuple[str, ...]], str] = {
    ("ipv4-addr", ("value",)): "ip",
    ("ipv6-addr", ("value",)): "ip",
    ("domain-name", ("value",)): "domain",
    ("url", ("value",)): "url",
    ("network-traffic", ("dst_ref", "value")): "host",
    ("network-traffic", ("dst_port",)): "port",
}


class PatternError(ValueError):
    """The pattern is not valid STIX 2.1 pattern syntax (or is too large to read)."""


@dataclass(frozen=True)
class Destination:
    """One destination as the pattern writes it (values not yet normalised)."""

    ip: str = ""
    domain: str = ""
    url: str = ""
    port: str = ""


def destinations(pattern: str) -> list[Destination]:
    """The destinations ``pattern`` names, in pattern order without repeats; :class:`PatternError` if invalid."""
    tree = _parse(pattern)
    found: dict[Destination, None] = {}
    for observation in _observations(tree):
        for partial in _alternatives(observation):
            destination = _destination(partial)
            if destination is not None:
                found[destination] = None
    return list(found)


def _parse(pattern: str) -> Any:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"pattern is {len(pattern)} characters long (limit {MAX_PATTERN_CHARS})")
    try:
        compiled = Pattern(pattern)
        return compiled.visit(STIXPatternVisitorForSTIX21(STIXPatternParser, "", ""))
    except Exception as exc:  # third-party grammar and visitor: any failure means the pattern is unusable
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise PatternError(f"not a valid STIX pattern: {message}") from None


def _observations(node: Any) -> Iterator[Any]:
    """The comparison expression inside every ``[...]`` of the pattern."""
    if isinstance(node, ast.ObservationExpression):
        yield node.operand
    elif isinstance(node, ast._CompoundObservationExpression):
        for operand in node.operands:
            yield from _observations(operand)
    elif isinstance(node, ast.QualifiedObservationExpression):
        yield from _observations(node.observation_expression)
    elif isinstance(node, ast.ParentheticalExpression):
        yield from _observations(node.expression)


def _alternatives(node: Any) -> list[Partial]:
    """Each way the comparison expression ``node`` can match, as the destination fields it fixes."""
    if isinstance(node, ast.ParentheticalExpression):
        return _alternatives(node.expression)
    if isinstance(node, ast.OrBooleanExpression):
        return _capped([alt for operand in node.operands for alt in _alternatives(operand)])
    if isinstance(node, ast.AndBooleanExpression):
        combined: list[Partial] = [{}]
        for operand in node.operands:
            combined = _capped(_combine(combined, _alternatives(operand)))
        return combined
    return _comparison(node)


def _capped(alternatives: list[Partial]) -> list[Partial]:
    if len(alternatives) > MAX_ALTERNATIVES:
        raise PatternError(f"pattern names more than {MAX_ALTERNATIVES} destinations")
    return alternatives


def _combine(left: list[Partial], right: list[Partial]) -> list[Partial]:
    """``left AND right``: every compatible pair merged (two different values for one field never match)."""
    merged: list[Partial] = []
    for one in left:
        for other in right:
            if all(one[name] == value for name, value in other.items() if name in one):
                merged.append({**one, **other})
    return merged


def _comparison(node: Any) -> list[Partial]:
    """The values one comparison fixes; ``[{}]`` when it fixes none of the destination fields."""
    if not isinstance(node, ast._ComparisonExpression) or node.negated:
        return [{}]
    field = _field(node.lhs)
    if field is None:
        return [{}]
    if isinstance(node, ast.EqualityComparisonExpression):
        values = [_literal(node.rhs)]
    elif isinstance(node, ast.InComparisonExpression) and isinstance(node.rhs, ast.ListConstant):
        values = [_literal(constant) for constant in node.rhs.value]
    else:
        return [{}]
    return [_value(field, value) for value in values]


def _literal(constant: Any) -> str:
    """The text of a constant; string literals come from the parse tree still escaped (``\\'``, ``\\\\``)."""
    value = str(getattr(constant, "value", ""))
    if not isinstance(constant, ast.StringConstant) or getattr(constant, "needs_to_be_quoted", True):
        return value
    chars: list[str] = []
    escaped = False
    for char in value:
        if escaped or char != "\\":
            chars.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(chars)


def _field(path: Any) -> str | None:
    if not isinstance(path, ast.ObjectPath):
        return None
    names = tuple(str(getattr(part, "property_name", "")) for part in path.property_path)
    return _PATHS.get((str(path.object_type_name), names))


def _value(field: str, value: str) -> Partial:
    """``{field: value}``; an address of a network range fixes nothing, a host becomes ``ip`` or ``domain``."""
    text = value.strip()
    if field in ("ip", "host") and "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            network = None  # not a network: normalising the value will say what is wrong with it
        if network is not None:
            if network.num_addresses > 1:
                return {}
            text = str(network.network_address)
    if field == "host":
        field = "ip" if is_ip_literal(text) else "domain"
    return {field: text}


def _destination(partial: Partial) -> Destination | None:
    if not (partial.get("ip") or partial.get("domain") or partial.get("url")):
        return None
    return Destination(
        ip=partial.get("ip", ""),
        domain=partial.get("domain", ""),
        url=partial.get("url", ""),
        port=partial.get("port", ""),
    )
