"""Query parameters shared by the pages and the JSON API (declared once, with their descriptions)."""

from __future__ import annotations

from fastapi import Query

from c2watch.analysis.verdictview import EVENT_LIMIT

__all__ = ["FormatParam", "KindParam", "LimitParam", "MonthParam", "Threat", "VerdictParam"]

Threat = Query(None, description="Only this threat ID.")
MonthParam = Query(None, description="Only this month, YYYY-MM in the configured zone.")
#: ``?verdict=alive,dormant`` or ``?verdict=alive&verdict=dormant`` (the filter form's checkboxes).
VerdictParam = Query([], description="Only destinations with these stored verdicts (comma separated or repeated).")
KindParam = Query([], description="Only events of these kinds (comma separated or repeated).")
LimitParam = Query(EVENT_LIMIT, ge=1, le=100_000, description="Only the newest N events.")
FormatParam = Query(
    "html", alias="format", pattern="^(html|csv)$", description="html (the page) or csv (its table, to download)."
)
