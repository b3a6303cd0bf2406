"""Property-based requests generated from the hub's own OpenAPI schema: no input makes it answer 5xx."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from c2watch.store import open_store
from c2watch.taxii.backend import StoreBackend
from c2watch.wiring.hub import create_hub_app
from tests.helpers.hub import make_tokens
from tests.helpers.stix_factory import envelope, producer


def _app():  # type: ignore[no-untyped-def]
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="c2watch-schemathesis-"))
    store = open_store(directory / "hub.db")
    tokens = make_tokens(store)
    org_a = "Org A CSIRT"
    token = store.access.verify_token(tokens["a-observer"])
    assert token is not None
    from c2watch.taxii.collections import OBSERVATIONS

    StoreBackend(store).add_objects(OBSERVATIONS, token, envelope(producer(org_a), 3), dt.datetime.now(dt.UTC))
    return create_hub_app(store), tokens


APP, TOKENS = _app()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.filterwarnings("ignore")
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.headers = {
        **(case.headers or {}),
        "Authorization": f"Bearer {TOKENS['a-admin']}",
        "Accept": "application/taxii+json;version=2.1",
    }
    case.call_and_validate(checks=[not_a_server_error])
