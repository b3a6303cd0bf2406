"""A table of a page as a CSV download (``?format=csv``)."""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import Response

from c2watch.analysis.tables import Table

__all__ = ["csv_download"]


def csv_download(table: Table, *name: str | None) -> Response:
    """``table`` as a CSV attachment named ``c2watch-<name parts>.csv`` (ASCII, and UTF-8 in ``filename*``)."""
    stem = "-".join(["c2watch", *(part for part in name if part)])
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", stem)
    disposition = f"attachment; filename=\"{plain}.csv\"; filename*=UTF-8''{quote(stem, safe='')}.csv"
    return Response(
        table.csv().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition},
    )
