"""Analyses over the store, each a library function with a CLI (``c2watch report …``) and a JSON endpoint.

- :func:`monthly_report`: monthly HTTP response rate per threat ID (the paper's Table 1);
- :func:`correlations`: HTTP answer x ping reply per destination and month (agreement, phi);
- :func:`status_histories`: status-code phases and transitions per destination and observer;
- :func:`reactivations`: destinations that were dormant, then answered again;
- :func:`overview`, :func:`month_view`, :func:`destination_history`: what the dashboard shows.

Aggregation runs in the database (:mod:`c2watch.store.queries`); months are read in the configured zone.
"""

from c2watch.analysis.correlation import Correlation, correlations, phi
from c2watch.analysis.destination import DestinationHistory, UnknownDestinationError, destination_history
from c2watch.analysis.localtime import LocalClock
from c2watch.analysis.monthly import MonthlyReport, monthly_report
from c2watch.analysis.months import Month, MonthError, MonthOutOfRangeError
from c2watch.analysis.monthview import MonthView, month_view
from c2watch.analysis.overview import Overview, overview
from c2watch.analysis.reactivation import Reactivation, reactivations
from c2watch.analysis.transitions import StatusHistory, status_histories

__all__ = [
    "Correlation",
    "DestinationHistory",
    "LocalClock",
    "Month",
    "MonthError",
    "MonthOutOfRangeError",
    "MonthView",
    "MonthlyReport",
    "Overview",
    "Reactivation",
    "StatusHistory",
    "UnknownDestinationError",
    "correlations",
    "destination_history",
    "month_view",
    "monthly_report",
    "overview",
    "phi",
    "reactivations",
    "status_histories",
]
