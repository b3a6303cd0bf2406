"""No hostile value costs a record: one real cycle over destinations that each make one adversary-controlled field
hostile (longer than its column, control characters, bytes that are not UTF-8), together with well-behaved ones,
on SQLite and on PostgreSQL (which enforces lengths and refuses NUL)."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from stix2validator import ValidationOptions, validate_file

from c2watch.lab import Scenario
from c2watch.lab.behaviours import HOSTILE_FIELDS, HOSTILE_SHAPES
from c2watch.lab.hostile import hostile_value
from c2watch.stix.ingest import records_from_objects
from c2watch.store import Store
from c2watch.store.fit import CLIP_END
from c2watch.store.tables import observations
from tests.helpers.database import refuse_rows
from tests.helpers.observing import destination, lab_cycle, lab_settings

COLUMNS = {"reason": "http_reason", "server": "http_server", "content-type": "http_content_type"}
COLUMNS["location"] = "http_location"
HOSTILE = [f"field:{field}:{shape}" for field, shape in itertools.product(HOSTILE_FIELDS, HOSTILE_SHAPES)]
WELL_BEHAVED = ["status:200", "status:404", "status:418"]
SCENARIO = Scenario(
    [replace(destination(i + 1, b), address=f"127.89.0.{i + 1}") for i, b in enumerate(HOSTILE + WELL_BEHAVED)]
)
SETTINGS = lab_settings(cycle={"probes": ["http"]})
COMPARED = ("http_status", "http_reason", "http_server", "http_content_type", "http_location", "http_body_sha256")


def run(store: Store, tmp_path: Path) -> tuple[dict[str, dict[str, Any]], Path]:
    """One cycle over the scenario: stored rows by behaviour, and the bundle's path."""
    rows, path = lab_cycle(store, SCENARIO, SETTINGS, tmp_path)
    behaviours = {dest.name: b for dest, b in zip(SCENARIO, HOSTILE + WELL_BEHAVED, strict=True)}
    return {behaviours[name]: row for name, row in rows.items()}, path


def sent_text(field: str, shape: str) -> str:
    """The value as the client decodes it: UTF-8, bytes that are not UTF-8 kept as surrogates."""
    return hostile_value(field, shape).decode("utf-8", "surrogateescape")


def escaped(text: str) -> str:
    """What the store keeps of ``text``: control characters and undecodable bytes as ``\\xNN``."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(ch)
    return "".join(out)


def check_bundle_matches_store(path: Path, rows: dict[str, dict[str, Any]]) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    records = {r.row["probed_value"]: r.row for r in records_from_objects({o["id"]: o for o in bundle["objects"]})}
    stored = {row["probed_value"]: row for row in rows.values()}
    assert set(records) == set(stored)
    for key, record in records.items():
        for name in ("observed_at", "outcome", *COMPARED):
            assert record.get(name) == stored[key][name], (key, name)
    result = validate_file(str(path), ValidationOptions(version="2.1", disabled=["103", "301"]))
    assert result.is_valid, [(r.object_id, [str(e) for e in r.errors]) for r in result.object_results if r.errors]


def test_every_hostile_field_costs_at_most_its_value(store: Store, tmp_path: Path) -> None:
    rows, path = run(store, tmp_path)
    assert set(rows) == set(HOSTILE + WELL_BEHAVED)
    for behaviour in HOSTILE:
        _, field, shape = behaviour.split(":")
        row, column = rows[behaviour], COLUMNS[field]
        limit = observations.c[column].type.length  # type: ignore[attr-defined]
        sent = sent_text(field, shape)
        clean = escaped(sent)
        expected = clean if len(clean) <= limit else clean[: limit - len(CLIP_END)] + CLIP_END
        assert row["outcome"] == "responding" and row["http_status"] in (200, 302), behaviour
        assert row[column] == expected, behaviour
        mark = row["details"]["fitted"][column]
        change = "escaped" if len(clean) <= limit else "clipped" if clean == sent else "clipped+escaped"
        digest = hashlib.sha256(hostile_value(field, shape)).hexdigest()
        assert mark == {"change": change, "length": len(sent), "sha256": digest}, behaviour
    for behaviour in WELL_BEHAVED:
        row = rows[behaviour]
        code = int(behaviour.split(":")[1])
        assert (row["http_status"], row["http_server"], row["http_content_type"]) == (code, "nginx", "text/html")
        assert "fitted" not in row["details"] and "store_refused" not in row["details"]
    check_bundle_matches_store(path, rows)


def test_a_row_the_database_refuses_costs_only_its_refused_value(store: Store, tmp_path: Path) -> None:
    refuse_rows(store, "observations", "http_status", "418")
    rows, path = run(store, tmp_path)
    assert set(rows) == set(HOSTILE + WELL_BEHAVED)
    teapot = rows["status:418"]
    assert teapot["http_status"] is None and teapot["http_reason"] == "I'm a Teapot"
    refused = teapot["details"]["store_refused"]
    assert refused["columns"] == ["http_status"] and "refuse_http_status" in refused["error"]
    assert rows["status:404"]["http_status"] == 404 and "store_refused" not in rows["status:404"]["details"]
    assert all("store_refused" not in row["details"] for name, row in rows.items() if name != "status:418")
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert len([o for o in bundle["objects"] if o["type"] == "observed-data"]) == len(rows)


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
def test_lab_sends_the_hostile_bytes(shape: str) -> None:
    value = hostile_value("reason", shape)
    assert (b"\x00" in value) == (shape in ("control", "mixed"))
    assert len(hostile_value("server", "long")) > max(
        c.type.length  # type: ignore[attr-defined]
        for c in observations.columns
        if isinstance(getattr(c.type, "length", None), int)
    )
