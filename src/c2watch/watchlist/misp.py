"""MISP feeds: a directory (or its ``manifest.json``) with one ``<event uuid>.json`` per event, or events.

Read: a feed directory or its ``manifest.json`` (``{"<event uuid>": {"info": ..., ...}}``, the events in
the files beside it), one event file (``{"Event": {...}}``, or the bare event as PyMISP writes it), a list of
such events, or a REST search answer (``{"response": [{"Event": ...}]}``).

Destinations: attributes of type ``ip-dst``, ``ip-dst|port``, ``domain``, ``hostname``, ``domain|ip``,
``hostname|port`` and ``url`` (a URL without a scheme is taken as ``http://``), and objects holding such
attributes (``ip-port``, ``domain-ip``, ``url`` ...: an object with URLs gives its URLs; otherwise its
addresses and names, each with each destination port; one address with one name stay one destination).
Deleted attributes and objects, and those whose ``to_ids`` is false (context, not indicators), are skipped
by design, as are other attribute types.

Threat ID: ``misp:<event uuid>``, one per event. The attribute's (or object's) uuid is the record id, the
event's ``date`` the report date, its ``info`` the summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine, read_text
from c2watch.watchlist.feed import FeedError, Ignored, decode_json, feed_entry, load_json, member, sniff_json, text_of
from c2watch.watchlist.refang import is_ip_address, refang
from c2watch.watchlist.rows import RowSchema

__all__ = ["JSON_HINT", "MANIFEST", "NAME", "THREAT_RULE", "parse", "sniff"]

NAME = "misp"
MANIFEST = "manifest.json"
JSON_HINT = 'be a MISP feed (a directory or its manifest.json) or MISP events ({"Event": {...}} or bare)'
THREAT_RULE = "misp:<event uuid> (one threat per event)"
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SCHEMA = RowSchema(labels={"reported_on": "date", "threat_id": "uuid"})
_SINGLE = {"ip-dst": ("ip",), "domain": ("domain",), "hostname": ("domain",), "url": ("url",)}
_PAIRS = {"ip-dst|port": ("ip", "port"), "domain|ip": ("domain", "ip"), "hostname|port": ("domain", "port")}
_PORT_RELATIONS = frozenset({"dst-port", "port"})
_FILE_EXTENSIONS = frozenset(
    {"exe", "dll", "scr", "sys", "bat", "cmd", "ps1", "vbs", "js", "jse", "hta", "lnk", "msi", "jar", "bin", "dat"}
    | {"tmp", "log", "txt", "ini", "cfg", "doc", "docx", "xls", "xlsx", "rtf", "pdf", "rar", "7z", "gz", "uin"}
)
"""Extensions that are not top-level domains: a scheme-less "URL" ending in one is a file name."""

Target = dict[str, str]
Result = tuple[list[WatchlistEntry], list[LineError]]


@dataclass(frozen=True)
class _Event:
    """What every destination of one event shares."""

    threat_id: str
    date: str
    info: str


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True for a MISP manifest, event, list of events or search answer."""
    return _shape(sniff_json(lines)) is not None


def parse(lines: Sequence[SourceLine], path: Path | str) -> Result:
    """Parse MISP events; a manifest's events are read from the files beside it."""
    document = load_json(lines, path)
    shape = _shape(document)
    if shape is None:
        message = 'not a MISP feed: expected a manifest ({"<event uuid>": {"info": ...}}) or {"Event": {...}}'
        raise WatchlistError(path, [FeedError(0, message, at="$")])
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for at, event in _events(shape, document, Path(path)):
        if isinstance(event, LineError):
            errors.append(event)
            continue
        found, problems = _event(at, event)
        entries += found
        errors += problems
    return entries, errors


def _shape(document: Any) -> str | None:
    if isinstance(document, list):
        return "events" if document and (_wrapped(document[0]) or _bare(document[0])) else None
    if not isinstance(document, dict) or not document:
        return None
    if _wrapped(document):
        return "event"
    if _bare(document):
        return "bare"
    if isinstance(document.get("response"), list):
        return "response"
    key, value = next(iter(document.items()))
    return "manifest" if _UUID.match(key) and isinstance(value, dict) and "info" in value else None


def _wrapped(item: Any) -> bool:
    """An event as MISP exports it: ``{"Event": {...}}``."""
    return isinstance(item, dict) and isinstance(item.get("Event"), dict)


def _bare(item: Any) -> bool:
    """An event without the wrapper, as PyMISP writes it: its uuid, info and attributes or objects at the top."""
    return isinstance(item, dict) and "uuid" in item and "info" in item and ("Attribute" in item or "Object" in item)


def _unwrap(at: str, item: Any) -> tuple[str, Any]:
    """The event of ``item`` (wrapped or bare) and where it is."""
    if _wrapped(item):
        return member(at, "Event"), item["Event"]
    return at, item if _bare(item) else None


def _events(shape: str, document: Any, path: Path) -> Iterator[tuple[str, Any]]:
    """Every event as (where, event JSON or the error reading it)."""
    if shape in ("event", "bare"):
        yield _unwrap("$", document)
    elif shape in ("events", "response"):
        base = "$" if shape == "events" else "$.response"
        items = document if shape == "events" else document["response"]
        for index, item in enumerate(items):
            yield _unwrap(member(base, index), item)
    else:
        for uuid in document:
            yield _event_file(path.parent, str(uuid))


def _event_file(folder: Path, uuid: str) -> tuple[str, Any]:
    """The event a manifest lists, read from ``<uuid>.json`` beside it."""
    if not _UUID.match(uuid):
        return member("$", uuid), FeedError(0, "manifest key is not an event uuid", at=member("$", uuid))
    name = f"{uuid}.json"
    try:
        decoded = read_text(folder / name, max_line_chars=None)
    except WatchlistError as exc:
        reason = "; ".join(err.message for err in exc.errors)
        return name, FeedError(0, f"event listed in {MANIFEST} cannot be read: {reason}", at=name)
    document, problem = decode_json(decoded.lines)
    if problem is not None:
        return name, FeedError(0, f"line {problem.line}: {problem.message}", at=name)
    at, event = _unwrap(f"{name}: $", document)
    if event is None:
        return name, FeedError(0, 'not a MISP event file: expected {"Event": {...}}', at=f"{name}: $")
    return at, event


def _event(at: str, event: Any) -> Result:
    if not isinstance(event, dict):
        return [], [FeedError(0, "not a MISP event (a JSON object)", at=at)]
    uuid = text_of(event.get("uuid"))
    if not uuid:
        return [], [FeedError(0, "event without a uuid", at=member(at, "uuid"))]
    context = _Event(f"misp:{uuid.lower()}", text_of(event.get("date")), text_of(event.get("info")))
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for key, read in (("Attribute", _attribute), ("Object", _object)):
        items = event.get(key, [])
        if not isinstance(items, list):
            errors.append(FeedError(0, "must be a list", at=member(at, key)))
            continue
        for index, item in enumerate(items):
            found, problems = read(member(member(at, key), index), item, context)
            entries += found
            errors += problems
    return entries, errors


def _attribute(at: str, attribute: Any, event: _Event) -> Result:
    if not isinstance(attribute, dict):
        return [], [FeedError(0, "not a MISP attribute (a JSON object)", at=at)]
    kind = text_of(attribute.get("type")).lower()
    value = text_of(attribute.get("value"))
    target = _attribute_target(kind, value)
    if target is None:
        return [], [Ignored(0, f"attribute type {kind!r} skipped: not a network destination", at=at)]
    if kind == "url" and not _names_a_host(value):
        message = "url attribute without a scheme skipped: it names no host (a file name or a path)"
        return [], [Ignored(0, message, at=at)]
    if attribute.get("deleted") is True:
        return [], [Ignored(0, "deleted attribute skipped", at=at)]
    if attribute.get("to_ids") is False:
        return [], [Ignored(0, "attribute with to_ids false skipped (context, not an indicator)", at=at)]
    return _entries(at, [target], event, text_of(attribute.get("uuid")))


def _attribute_target(kind: str, value: str) -> Target | None:
    """The destination fields of an attribute of type ``kind``; None for other types."""
    if kind in _SINGLE:
        (name,) = _SINGLE[kind]
        return {name: _with_scheme(value) if name == "url" else value}
    if kind in _PAIRS:
        first, second = _PAIRS[kind]
        left, _, right = value.partition("|")
        return {first: left, second: right}
    return None


def _names_a_host(url: str) -> bool:
    """False for a scheme-less ``url`` value that starts with no host name or address (``igfxtray.exe``,
    ``Data/dtl.dat``, ``198.51.100``): MISP users file paths and file names as URLs."""
    text = refang(url)
    if "://" in text or not text:
        return True
    host = re.split(r"[/?#]", text, maxsplit=1)[0].rpartition("@")[2]
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    labels = name.lower().rstrip(".").split(".")
    if len(labels) < 2 or not labels[-1]:
        return is_ip_address(name.strip("[]"))
    return is_ip_address(name.strip("[]")) or (labels[-1].isalpha() and labels[-1] not in _FILE_EXTENSIONS)


def _with_scheme(url: str) -> str:
    text = refang(url)
    return text if "://" in text or not text else f"http://{text}"


def _object(at: str, obj: Any, event: _Event) -> Result:
    if not isinstance(obj, dict):
        return [], [FeedError(0, "not a MISP object (a JSON object)", at=at)]
    name = text_of(obj.get("name")) or "object"
    if obj.get("deleted") is True:
        return [], [Ignored(0, f"deleted {name!r} object skipped", at=at)]
    attributes = obj.get("Attribute", [])
    if not isinstance(attributes, list):
        return [], [FeedError(0, "must be a list", at=member(at, "Attribute"))]
    live = [item for item in attributes if isinstance(item, dict) and item.get("deleted") is not True]
    fields, flagged = _object_fields(live)
    if not (fields["ip"] or fields["domain"] or fields["url"]):
        return [], [Ignored(0, f"{name!r} object skipped: no network destination in it", at=at)]
    if not flagged:
        return [], [Ignored(0, f"{name!r} object skipped: to_ids is false on its destinations", at=at)]
    return _entries(at, _object_targets(fields), event, text_of(obj.get("uuid")))


def _object_fields(attributes: list[dict[str, Any]]) -> tuple[dict[str, list[str]], bool]:
    """The ips, domains, urls and destination ports of an object's attributes; whether one has to_ids."""
    fields: dict[str, list[str]] = {"ip": [], "domain": [], "url": [], "port": []}
    flagged = False
    for attribute in attributes:
        kind = text_of(attribute.get("type")).lower()
        value = text_of(attribute.get("value"))
        if kind == "port" and text_of(attribute.get("object_relation")).lower() in _PORT_RELATIONS:
            fields["port"].append(value)
            continue
        target = _attribute_target(kind, value)
        if target is None:
            continue
        flagged = flagged or attribute.get("to_ids") is not False
        for key, item in target.items():
            fields[key].append(item)
    return {key: list(dict.fromkeys(values)) for key, values in fields.items()}, flagged


def _object_targets(fields: dict[str, list[str]]) -> list[Target]:
    if fields["url"]:
        return [{"url": url} for url in fields["url"]]
    ports = fields["port"] or [""]
    if len(fields["ip"]) == 1 and len(fields["domain"]) == 1:
        return [{"ip": fields["ip"][0], "domain": fields["domain"][0], "port": port} for port in ports]
    hosts = [("ip", ip) for ip in fields["ip"]] + [("domain", domain) for domain in fields["domain"]]
    return [{kind: host, "port": port} for kind, host in hosts for port in ports]


def _entries(at: str, targets: list[Target], event: _Event, uuid: str) -> Result:
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for target in targets:
        values = {"threat_id": event.threat_id, "summary": event.info, **target}
        entry, problems = feed_entry(values, _SCHEMA, at=at, source_ref=uuid or None, times={"reported_on": event.date})
        errors += problems
        entries += [entry] if entry else []
    return entries, errors
