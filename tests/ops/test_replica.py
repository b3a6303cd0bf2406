"""The dashboard on a read-only PostgreSQL connection (as on a streaming replica): every API answer and the
overview page are served without a single write."""

from __future__ import annotations

import datetime as dt
import urllib.request

import pytest
from sqlalchemy.engine import make_url

from c2watch.config import Settings
from c2watch.errors import StoreError
from c2watch.store import open_store
from c2watch.store.retention import RetentionPolicy, run_retention
from c2watch.web import create_app
from c2watch.web.server import ServedApp
from tests.helpers.history import ZONE, year_of_history


def read_only(url: str) -> str:
    """``url`` whose every transaction is read-only, as a hot standby's are."""
    parsed = make_url(url)
    options = f"{parsed.query.get('options', '')} -cdefault_transaction_read_only=on".strip()
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def test_the_dashboard_only_reads(postgres_url: str) -> None:
    primary = open_store(postgres_url)
    seeded = year_of_history(primary)
    run_retention(primary, RetentionPolicy(keep_days=200, zone=ZONE), dt.datetime(2021, 1, 20, tzinfo=dt.UTC))
    primary.close()

    replica = open_store(read_only(postgres_url), upgrade=False)
    with pytest.raises(StoreError, match="read-only transaction"):
        replica.access.add_organization("Org Z")
    paths = [
        "",
        "api/overview",
        "api/report/monthly",
        "api/correlation?threat=A",
        "api/transitions?threat=A",
        "api/reactivations?threat=A",
        "api/threats/A/month/2020-03",  # rolled up
        "api/threats/A/month/2020-12",  # raw
        f"api/destinations/{seeded['A'][0]}",
    ]
    with ServedApp(create_app(replica, Settings())) as app:
        for path in paths:
            with urllib.request.urlopen(app.url + path, timeout=60) as response:
                assert response.status == 200, path
    replica.close()
