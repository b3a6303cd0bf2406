"""Plain lists: one destination a line, ``#`` comments.

What URLhaus publishes as ``text_online``/``text_recent`` (URLs) and its ``hostfile`` (``127.0.0.1<tab>host``),
Feodo Tracker's ``ipblocklist.txt`` (addresses), and the lists analysts paste together. Every line is a URL, an
IP address, ``address:port`` (``[v6]:port``), a host name (``host:port``), or a hostfile line.

Threat ID: such a list names no family. A banner naming the feed gives ``urlhaus:unattributed``,
``feodo:unattributed`` or ``threatfox:unattributed``; any other list is ``list:<file name>`` (``--threat`` names
it better). A ``# END N entries`` or ``# Number of entries: N`` footer that disagrees with the lines read is an
error (a truncated download).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from c2watch.errors import LineError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import Ignored, footer_errors
from c2watch.watchlist.refang import is_ip_address, refang
from c2watch.watchlist.rows import RowSchema, build_entry
from c2watch.watchlist.table import significant

__all__ = ["HINT", "NAME", "THREAT_RULE", "parse", "sniff", "threat_of"]

NAME = "text"
HINT = "be a plain list, one URL, IP address, address:port or host name a line (URLhaus text_*, Feodo ipblocklist.txt)"
THREAT_RULE = "urlhaus:, feodo: or threatfox:unattributed by the banner, else list:<file name>"
_BANNERS = (
    ("urlhaus", "urlhaus:unattributed"),
    ("feodo", "feodo:unattributed"),
    ("threatfox", "threatfox:unattributed"),
)
_HOSTFILE = re.compile(r"^(?:127\.0\.0\.1|0\.0\.0\.0|::1?)\s+(\S+)$")
_TOKEN = re.compile(r"^[^\s,;\"'<>{}|]+$")
_SNIFFED_LINES = 50
_SCHEMA = RowSchema(labels={"threat_id": "threat", "ip": "value", "domain": "value", "url": "value", "port": "value"})
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "local", "broadcasthost"})


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True when the first lines that are not comments each hold one destination (or a hostfile entry)."""
    rows = significant(lines)[:_SNIFFED_LINES]
    return bool(rows) and all(_looks_like_one(line.text.strip()) for line in rows)


def _looks_like_one(text: str) -> bool:
    if _HOSTFILE.match(text):
        return True
    return bool(_TOKEN.match(text)) and any(mark in refang(text) for mark in (".", ":"))


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """One entry per line; the threat ID from the banner or the file name."""
    threat = threat_of(lines, path)
    rows = significant(lines)
    entries: list[WatchlistEntry] = []
    errors: list[LineError] = []
    for line in rows:
        values, problem = _values(line)
        if problem is not None:
            errors.append(problem)
            continue
        entry, row_errors = build_entry({"threat_id": threat, **values}, line.number, _SCHEMA)
        errors += row_errors
        entries += [] if entry is None else [entry]
    return entries, errors + footer_errors(lines, len(rows), "lines")


def threat_of(lines: Sequence[SourceLine], path: Path | str) -> str:
    """The feed's unattributed group when a banner comment names the feed, else ``list:<file name>``."""
    banner = " ".join(line.text.lower() for line in lines[:20] if line.text.lstrip().startswith("#"))
    for word, threat in _BANNERS:
        if word in banner:
            return threat
    return f"list:{Path(path).name}"


def _values(line: SourceLine) -> tuple[dict[str, str], LineError | None]:
    """The canonical fields a line names, or why it is skipped."""
    text = line.text.strip()
    hostfile = _HOSTFILE.match(text)
    if hostfile:
        name = hostfile.group(1)
        if name.lower() in _LOCAL_NAMES:
            return {}, Ignored(line.number, "hostfile entry for the local host skipped", "value")
        return {"domain": name}, None
    if not _TOKEN.match(text):
        return {}, LineError(line.number, "expected one URL, address or host name on the line", "value")
    return _destination(refang(text)), None


def _destination(text: str) -> dict[str, str]:
    if "://" in text:
        return {"url": text}
    if is_ip_address(text.strip("[]")):
        return {"ip": text}
    host, port = _split_port(text)
    return {"ip": host, "port": port} if is_ip_address(host) else {"domain": host, "port": port}


def _split_port(text: str) -> tuple[str, str]:
    """``host:port`` or ``[v6]:port`` as (host, port); the whole text and no port otherwise."""
    if text.startswith("[") and "]:" in text:
        host, _, port = text[1:].partition("]:")
        return host, port
    host, colon, port = text.rpartition(":")
    return (host, port) if colon and ":" not in host else (text, "")
