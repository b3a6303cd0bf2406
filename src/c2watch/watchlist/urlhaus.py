"""URLhaus (abuse.ch) CSV dumps: ``csv.txt``, ``csv_recent``, ``csv_online``.

A banner of ``#`` comments, then the column names as a comment, then quoted rows::

    # id,dateadded,url,url_status,last_online,threat,tags,urlhaus_link,reporter
    "2766173","2024-01-01 11:58:06","http://198.51.100.7:42715/i","online","2024-01-01 11:58:06",...

Older dumps lack ``last_online``; columns are found by name. Every row is one URL.

Threat ID: ``urlhaus:<family>``, the first tag that is not a file type, an architecture or a delivery
word (``32-bit,elf,mips,Mozi`` gives ``urlhaus:mozi``); a row with no such tag gets ``urlhaus:<threat>``
(``urlhaus:malware_download``). ``id`` is kept as the record id, ``dateadded`` as the report date;
offline URLs are kept (whether they come back is what c2watch watches).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from c2watch.errors import LineError, WatchlistError
from c2watch.models import WatchlistEntry
from c2watch.watchlist.decode import SourceLine
from c2watch.watchlist.feed import comment_header, family_threat, feed_entry, null_text
from c2watch.watchlist.rows import RowSchema
from c2watch.watchlist.table import parse_body, significant

__all__ = ["COLUMNS", "GENERIC_TAGS", "HINT", "NAME", "THREAT_RULE", "parse", "sniff"]

NAME = "urlhaus"
COLUMNS = ("id", "dateadded", "url", "url_status", "last_online", "threat", "tags", "urlhaus_link", "reporter")
REQUIRED = ("id", "dateadded", "url")
HINT = "be a URLhaus dump, whose column names are a comment ('# " + ",".join(COLUMNS) + "')"
THREAT_RULE = "urlhaus:<first malware-family tag>, else urlhaus:<threat>"
GENERIC_TAGS = frozenset(
    {
        *("32-bit", "64-bit", "arm", "arm4", "arm5", "arm6", "arm7", "aarch64", "mips", "mipsel", "mpsl"),
        *("x86", "x86-64", "x86_64", "i686", "sh4", "sparc", "m68k", "powerpc", "ppc", "elf"),
        *("exe", "dll", "msi", "doc", "docx", "docm", "xls", "xlsx", "xlsm", "rtf", "pdf", "lnk", "iso", "img"),
        *("zip", "rar", "7z", "gz", "js", "vbs", "hta", "ps1", "bat", "cmd", "sh", "jar", "apk", "txt"),
        *("ascii", "encrypted", "geofenced", "opendir", "malspam", "payload", "botnet", "c2", "none"),
    }
)
"""Tags that describe the file or its delivery, not the malware family."""

_SCHEMA = RowSchema(labels={"threat_id": "tags", "reported_on": "dateadded"})


def sniff(lines: Sequence[SourceLine]) -> bool:
    """True when a comment before the data names the URLhaus columns ``id``, ``dateadded`` and ``url``."""
    return comment_header(lines, REQUIRED) is not None


def parse(lines: Sequence[SourceLine], path: Path | str) -> tuple[list[WatchlistEntry], list[LineError]]:
    """Parse a URLhaus dump; raise :class:`WatchlistError` when its column comment is missing."""
    found = comment_header(lines, REQUIRED)
    if found is None:
        message = "missing URLhaus column comment: expected '# " + ",".join(COLUMNS) + "' before the data"
        raise WatchlistError(path, [LineError(_first_number(lines), message)])
    header, names = found
    body = [line for line in significant(lines) if line.number > header.number]

    def parse_row(number: int, cells: list[str]) -> tuple[WatchlistEntry | None, list[LineError]]:
        return _entry(number, dict(zip(names, cells, strict=True)))

    return parse_body(body, len(names), parse_row)


def _first_number(lines: Sequence[SourceLine]) -> int:
    rows = significant(lines)
    return rows[0].number if rows else 0


def _entry(number: int, row: dict[str, str]) -> tuple[WatchlistEntry | None, list[LineError]]:
    values = {"threat_id": threat_id(row), "url": row.get("url", ""), "summary": _summary(row)}
    times = {"reported_on": row.get("dateadded", "")}
    return feed_entry(values, _SCHEMA, line=number, source_ref=row.get("id") or None, times=times)


def threat_id(row: dict[str, str]) -> str:
    """``urlhaus:<family tag>``, else ``urlhaus:<threat>``; empty when the row has neither."""
    for tag in null_text(row.get("tags", "")).split(","):
        name = tag.strip()
        if name and name.lower() not in GENERIC_TAGS and not name.lower().startswith("dropped-by-"):
            return family_threat("urlhaus", name)
    threat = null_text(row.get("threat", ""))
    return family_threat("urlhaus", threat) if threat else ""


def _summary(row: dict[str, str]) -> str:
    """What the row says about the URL, without what changes from dump to dump (status, last online)."""
    parts = [f"URLhaus {null_text(row.get('threat', '')) or 'entry'}"]
    tags = null_text(row.get("tags", ""))
    if tags:
        parts.append(f"tags: {tags}")
    return "; ".join(parts)
