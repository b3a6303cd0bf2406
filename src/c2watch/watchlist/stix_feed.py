"""STIX 2.1 bundles of indicators (and the objects of a TAXII collection, see :mod:`.taxii_pull`).

Every ``indicator`` whose ``pattern_type`` is ``stix`` gives the destinations its pattern names
(:mod:`.stix_pattern`); revoked indicators, expired ones (``valid_until`` before the import time), ones
not yet valid and patterns that name no single destination are skipped by design and reported. Of several
versions of one object the latest ``modified`` counts.

Threat ID of an indicator, the first rule that gives one:

1. its own ``external_references`` entry with ``source_name`` ``cert-threat-id``;
2. that entry on a ``campaign`` the indicator ``indicates`` (a ``relationship``);
3. that entry on a ``report`` whose ``object_refs`` hold the indicator;
4. ``stix:<name>`` of such a campaign, then of such a report;
5. ``stix:<name>`` of a ``malware`` or ``intrusion-set`` the indicator ``indicates``;
6. ``stix:unattributed``.

Several campaigns (or reports) on the same rule give the destination once under each. The indicator id is
the record id; its ``created`` day the report date; its ``name`` the summary.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.stix.vocab import THREAT_ID_SOURCE
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import FeedError, Ignored, feed_entry, feed_time, load_json, member, sniff_json
from c2watch.watchlist.rows import RowSchema
from c2watch.watchlist.stix_pattern import Destination, PatternError, destinations

__all__ = [
    "JSON_HINT",
    "NAME",
    "THREAT_RULE",
    "UNATTRIBUTED",
    "Located",
    "entries_from_objects",
    "not_a_feed",
    "parse",
    "parse_at",
    "sniff",
]

NAME = "stix"
JSON_HINT = 'be a STIX 2.1 bundle ({"type": "bundle", "objects": [...]}) or TAXII envelope ({"objects": [...]})'
THREAT_RULE = (
    f"the {THREAT_ID_SOURCE} external reference of the indicator, its campaign or report; "
    "else stix:<campaign, report, malware or intrusion-set name>; else stix:unattributed"
)
UNATTRIBUTED = "stix:unattributed"
_ID = re.compile(r"^[a-z0-9-]+--[0-9a-fA-F-]{36}$")
_SCHEMA = RowSchema(
    labels={"ip": "pattern", "domain": "pattern", "url": "pattern", "port": "pattern", "reported_on": "created"}
)
_BEFORE_ALL = dt.datetime.min.replace(tzinfo=dt.UTC)

_ENVELOPE_KEYS = frozenset({"objects", "more", "next"})
_PULL = "read a collection with 'c2watch watchlist pull --taxii URL --collection ID'"
_NOT_FEEDS = (
    (frozenset({"/discovery"}), f"a medallion (TAXII server) data file, not a watchlist: serve it and {_PULL}"),
    (frozenset({"backend"}), "a medallion (TAXII server) configuration file, not a watchlist"),
    (frozenset({"api_roots"}), f"a TAXII 2.1 discovery resource, not a watchlist: {_PULL}"),
    (frozenset({"versions", "max_content_length"}), f"a TAXII 2.1 API root resource, not a watchlist: {_PULL}"),
    (frozenset({"collections"}), f"a TAXII 2.1 collections resource, not a watchlist: {_PULL}"),
    (frozenset({"success_count", "status"}), "a TAXII 2.1 status resource, not a watchlist"),
)

Located = tuple[str, Any]
"""An object as found (where: a JSON path, or a TAXII page and index) and its parsed JSON."""


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True for a bundle (a JSON object with ``"type": "bundle"``) or a saved TAXII 2.1 envelope."""
    return _shape(sniff_json(lines)) is not None


def _shape(document: Any) -> str | None:
    """``bundle``, ``envelope`` (a TAXII 2.1 Get Objects answer: ``objects``, ``more``, ``next``) or None."""
    if not isinstance(document, dict):
        return None
    if document.get("type") == "bundle":
        return "bundle"
    if isinstance(document.get("objects"), list) and set(document) <= _ENVELOPE_KEYS:
        return "envelope"
    return None


def not_a_feed(document: Any) -> str | None:
    """Why a JSON document that is no watchlist was refused, when it is a known kind (TAXII resources, medallion's
    files); None otherwise."""
    if not isinstance(document, dict):
        return None
    for keys, what in _NOT_FEEDS:
        if keys <= set(document):
            return what
    return None


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a bundle, judging ``valid_until`` against the wall clock."""
    return parse_at(lines, path, dt.datetime.now(dt.UTC))


def parse_at(
    lines: Sequence[SourceLine], path: Path | str, now: dt.datetime
) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a bundle; indicators whose ``valid_until`` is not after ``now`` are skipped."""
    document = load_json(lines, path)
    if _shape(document) is None:
        message = 'not a STIX 2.1 bundle: expected {"type": "bundle", "objects": [...]} or a TAXII envelope'
        raise WatchlistError(path, [FeedError(0, message, at="$")])
    objects = document.get("objects", [])
    if not isinstance(objects, list):
        raise WatchlistError(path, [FeedError(0, "must be a list of STIX objects", at="$.objects")])
    return entries_from_objects([(member("$.objects", i), obj) for i, obj in enumerate(objects)], now)


def entries_from_objects(objects: Iterable[Located], now: dt.datetime) -> tuple[list[WatchlistEntry], list[LineError]]:
    """The destinations of every indicator among ``objects``, with the errors and skips in document order."""
    located = list(objects)
    graph = _Graph.build(located)
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for at, obj in located:
        problem = _object_problem(obj)
        if problem:
            errors.append(FeedError(0, problem, at=at))
        elif obj["type"] == "indicator" and graph.objects[obj["id"]][0] == at:
            found, problems = _indicator(at, obj, graph, now)
            entries += found
            errors += problems
    return entries, errors


@dataclass
class _Graph:
    """The latest version of every object, and who indicates or reports what."""

    objects: dict[str, Located] = field(default_factory=dict)
    indicates: dict[str, list[str]] = field(default_factory=dict)
    reported_in: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, objects: Iterable[Located]) -> _Graph:
        graph = cls()
        for at, obj in objects:
            if _object_problem(obj) is None and _newer(obj, graph.objects.get(obj["id"])):
                graph.objects[obj["id"]] = (at, obj)
        for _, obj in graph.objects.values():
            graph._link(obj)
        return graph

    def _link(self, obj: dict[str, Any]) -> None:
        if obj.get("revoked") is True:
            return
        if obj["type"] == "relationship" and obj.get("relationship_type") == "indicates":
            source, target = obj.get("source_ref"), obj.get("target_ref")
            if isinstance(source, str) and isinstance(target, str):
                self.indicates.setdefault(source, []).append(target)
        elif obj["type"] == "report" and isinstance(obj.get("object_refs"), list):
            for ref in obj["object_refs"]:
                if isinstance(ref, str):
                    self.reported_in.setdefault(ref, []).append(obj["id"])

    def related(self, ids: Iterable[str], *types: str) -> list[dict[str, Any]]:
        """The live objects among ``ids`` whose type is one of ``types``."""
        found = (self.objects.get(ref) for ref in ids)
        return [obj for _, obj in filter(None, found) if obj["type"] in types and obj.get("revoked") is not True]

    def threat_ids(self, indicator: dict[str, Any]) -> list[str]:
        """The indicator's threat IDs by the module's rule (never empty)."""
        own = _cert_threat_id(indicator)
        if own:
            return [own]
        campaigns = self.related(self.indicates.get(indicator["id"], []), "campaign")
        reports = self.related(self.reported_in.get(indicator["id"], []), "report")
        families = self.related(self.indicates.get(indicator["id"], []), "malware", "intrusion-set")
        tiers = (
            [_cert_threat_id(obj) for obj in campaigns],
            [_cert_threat_id(obj) for obj in reports],
            [_named(obj) for obj in campaigns],
            [_named(obj) for obj in reports],
            [_named(obj) for obj in families],
        )
        for tier in tiers:
            ids = sorted({threat for threat in tier if threat})
            if ids:
                return ids
        return [UNATTRIBUTED]


def _object_problem(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return "not a STIX object (a JSON object with type and id)"
    kind, ident = obj.get("type"), obj.get("id")
    if not isinstance(kind, str) or not kind:
        return "STIX object without a type"
    if not isinstance(ident, str) or not _ID.match(ident) or not ident.startswith(f"{kind}--"):
        return f"{kind} object without a valid id ('{kind}--<uuid>')"
    return None


def _newer(obj: dict[str, Any], known: Located | None) -> bool:
    return known is None or _modified(obj) >= _modified(known[1])


def _modified(obj: dict[str, Any]) -> dt.datetime:
    try:
        return feed_time(str(obj.get("modified", "")))
    except ValueError:
        return _BEFORE_ALL


def _cert_threat_id(obj: dict[str, Any]) -> str | None:
    references = obj.get("external_references")
    for ref in references if isinstance(references, list) else []:
        if isinstance(ref, dict) and ref.get("source_name") == THREAT_ID_SOURCE:
            value = ref.get("external_id")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _named(obj: dict[str, Any]) -> str | None:
    name = obj.get("name")
    return f"stix:{' '.join(name.split())}" if isinstance(name, str) and name.strip() else None


# One indicator -------------------------------------------------------------------------------------------------


def _indicator(
    at: str, indicator: dict[str, Any], graph: _Graph, now: dt.datetime
) -> tuple[list[WatchlistEntry], list[LineError]]:
    where = f"{at} ({indicator['id']})"
    problem = _validity(indicator, where, now)
    if problem is not None:
        return [], [problem]
    pattern = indicator.get("pattern")
    if not isinstance(pattern, str):
        return [], [FeedError(0, "indicator without a pattern", "pattern", at=where)]
    try:
        found = destinations(pattern)
    except PatternError as exc:
        return [], [FeedError(0, str(exc), "pattern", at=where)]
    if not found:
        message = (
            "pattern names no single network destination (ipv4-addr, ipv6-addr, domain-name, url, network-traffic)"
        )
        return [], [Ignored(0, message, at=where)]
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for threat in graph.threat_ids(indicator):
        for destination in found:
            entry, row_errors = _entry(where, indicator, threat, destination)
            errors += row_errors
            entries += [entry] if entry else []
    return entries, list(dict.fromkeys(errors))


def _validity(indicator: dict[str, Any], where: str, now: dt.datetime) -> LineError | None:
    """Why the indicator is skipped (revoked, other pattern language, expired, not yet valid) or bad; else None."""
    if indicator.get("revoked") is True:
        return Ignored(0, "revoked indicator skipped", at=where)
    pattern_type = indicator.get("pattern_type", "stix")
    if pattern_type != "stix":
        return Ignored(0, f"pattern_type {pattern_type!r} skipped: only STIX patterns are read", at=where)
    for name in ("valid_until", "valid_from"):
        value = indicator.get(name)
        if value is None:
            continue
        try:
            moment = feed_time(str(value))
        except ValueError as exc:
            return FeedError(0, str(exc), name, at=where)
        if name == "valid_until" and moment <= now:
            return Ignored(0, "expired indicator skipped (valid_until is not after the import time)", at=where)
        if name == "valid_from" and moment > now:
            return Ignored(0, "indicator not valid yet skipped (valid_from is after the import time)", at=where)
    return None


def _entry(
    where: str, indicator: dict[str, Any], threat: str, destination: Destination
) -> tuple[WatchlistEntry | None, list[LineError]]:
    values = {
        "threat_id": threat,
        "ip": destination.ip,
        "domain": destination.domain,
        "url": destination.url,
        "port": destination.port,
        "summary": _text(indicator.get("name")),
    }
    times = {"reported_on": _text(indicator.get("created")) or _text(indicator.get("valid_from"))}
    return feed_entry(values, _SCHEMA, at=where, source_ref=indicator["id"], times=times)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
