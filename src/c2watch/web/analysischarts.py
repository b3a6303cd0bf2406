"""What the analysis pages' charts draw, built from the analyses' results (handed to the page as JSON in a data
attribute; times as ``YYYY-MM-DD HH:MM:SS`` in the configured zone, what plotly reads as a date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from c2watch.analysis import Correlation, LocalClock, Reactivation, StatusHistory

__all__ = ["correlation_chart", "reactivation_chart", "transition_chart"]


def _text(clock: LocalClock, when: dt.datetime) -> str:
    return clock.text(int(when.timestamp()))


def correlation_chart(found: Sequence[Correlation]) -> dict[str, Any]:
    """The paper's Fig. 6 as a grid: one row per destination, one column per month, phi (and the 2x2 counts) in
    each cell; ``None`` where the destination has no pair of measurements that month or phi is undefined."""
    rows = list(dict.fromkeys(f"{c.threat_id} · {c.destination}" for c in found))
    months = sorted({c.month for c in found})
    phi: list[list[float | None]] = [[None] * len(months) for _ in rows]
    agreement: list[list[float | None]] = [[None] * len(months) for _ in rows]
    counts: list[list[list[int] | None]] = [[None] * len(months) for _ in rows]
    for c in found:
        r, m = rows.index(f"{c.threat_id} · {c.destination}"), months.index(c.month)
        if c.observations:
            phi[r][m], agreement[r][m] = c.phi, c.agreement
            counts[r][m] = [c.both, c.http_only, c.ping_only, c.neither]
    totals = [sum(getattr(c, name) for c in found) for name in ("both", "http_only", "ping_only", "neither")]
    return {"rows": rows, "months": months, "phi": phi, "agreement": agreement, "counts": counts, "totals": totals}


def transition_chart(found: Sequence[StatusHistory], clock: LocalClock) -> dict[str, Any]:
    """One bar per phase on a time axis, one row per destination and observer: a phase lasts until the next one
    starts (the last one until its last observation)."""
    bars = []
    for history in found:
        row = f"{history.threat_id} · {history.destination} · {history.observer}"
        ends = [p.first_at for p in history.phases[1:]] + [history.phases[-1].last_at] if history.phases else []
        for phase, end in zip(history.phases, ends, strict=True):
            bars.append(
                {
                    "row": row,
                    "state": phase.label,
                    "start": _text(clock, phase.first_at),
                    "end": _text(clock, end),
                    "ms": int((end - phase.first_at).total_seconds() * 1000),
                    "observations": phase.observations,
                }
            )
    return {"bars": bars}


def reactivation_chart(found: Sequence[Reactivation], clock: LocalClock) -> dict[str, Any]:
    """One bar per dormant gap (last answer → answered again), one row per destination."""
    return {
        "bars": [
            {
                "row": f"{r.threat_id} · {r.destination}",
                "state": str(r.http_status),
                "start": _text(clock, r.last_answer_at),
                "end": _text(clock, r.reactivated_at),
                "ms": int((r.reactivated_at - r.last_answer_at).total_seconds() * 1000),
                "days": r.dormant_days,
            }
            for r in found
        ]
    }
