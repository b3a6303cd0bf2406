"""A signed cycle file stays stix2-validator clean and its records match the details extension's schema; what an
observer writes verifies with its key, and the air-gapped import refuses what was altered in the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from stix2validator import ValidationOptions, validate_file

import c2watch.stix
from c2watch.stix.bundle import BundleWriter
from c2watch.stix.trust import Keyring
from c2watch.stix.vocab import DETAILS_EXTENSION
from c2watch.store import open_store
from c2watch.taxii.keysync import import_records, own_key_record
from tests.helpers.hub import ORG_B, signing_producer
from tests.helpers.stix_factory import T0, group

SCHEMAS = Path(c2watch.stix.__file__).parent / "schemas"


def signed_file(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    p = signing_producer(ORG_B, "osaka-10")
    path = tmp_path / "cycle.json"
    with BundleWriter(path, p) as bundle:
        for index in range(4):
            objects = group(p, index, T0, status=200 if index % 2 else None)
            bundle.add("TID-1", objects[1:])
    return path, json.loads(path.read_text())["objects"]


def test_a_signed_cycle_file_is_valid_stix_and_matches_the_schema(tmp_path: Path) -> None:
    path, objects = signed_file(tmp_path)
    result = validate_file(str(path), ValidationOptions(version="2.1", disabled=["103", "301"]))
    assert result.is_valid, [str(e) for e in result.errors]
    schema = json.loads((SCHEMAS / f"{DETAILS_EXTENSION}.json").read_text())
    signed = [o for o in objects if o["type"] in ("observed-data", "sighting")]
    assert {o["type"] for o in signed} == {"observed-data", "sighting"}
    for obj in signed:
        jsonschema.validate(obj, schema)
        assert "signature" in obj["extensions"][DETAILS_EXTENSION]
    record = own_key_record(signing_producer(ORG_B, "osaka-10"), T0)
    assert record is not None
    keyring = Keyring([record])
    context = {o["id"]: o for o in objects}
    assert all(keyring.check(obj, context).valid for obj in signed)


def test_the_air_gapped_import_refuses_an_altered_record(tmp_path: Path) -> None:
    _, objects = signed_file(tmp_path)
    observed = [o for o in objects if o["type"] == "observed-data"]
    observed[0]["extensions"][DETAILS_EXTENSION]["outcome"] = "silent"
    store = open_store(tmp_path / "importer.db")
    record = own_key_record(signing_producer(ORG_B, "osaka-10"), T0)
    assert record is not None
    without_key = import_records(store, objects, ORG_B, [], "file:x")
    assert without_key.indexed == 0 and {r.reason for r in without_key.refused} == {"unknown-key"}
    with_key = import_records(store, objects, ORG_B, [record.public()], "file:y")
    assert [r.object_id for r in with_key.refused] == [observed[0]["id"]]
    assert with_key.indexed == 3 and store.keys.refusal_counts()["invalid"] == 1
