"""Structured logs: one JSON object per line when not on a terminal."""

from __future__ import annotations

import io
import json
import logging

from c2watch.logs import configure_logging


def test_json_lines_with_extra_fields() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream)
    logging.getLogger("c2watch.observer.cycle").info("cycle %s finished", 7, extra={"cycle": {"destinations": 3}})
    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["message"] == "cycle 7 finished" and entry["level"] == "info"
    assert entry["logger"] == "c2watch.observer.cycle" and entry["cycle"] == {"destinations": 3}
    assert entry["ts"].endswith("+00:00")


def test_plain_text_on_request() -> None:
    stream = io.StringIO()
    configure_logging(stream=stream, as_json=False)
    logging.getLogger("c2watch").warning("hub down")
    assert "WARNING hub down" in stream.getvalue()
