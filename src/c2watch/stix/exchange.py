"""Air-gapped exchange: export this observer's records as one STIX bundle (from its cycle files) and import
another organisation's bundle with the hub's checks (valid objects, ``created_by_ref`` = that organisation)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from c2watch.errors import InputError
from c2watch.stix.ingest import parse_time
from c2watch.stix.validate import check_object

__all__ = ["ImportResult", "check_bundle", "export_bundle", "read_bundle"]


def _bundle_files(observations_dir: Path, since: dt.datetime) -> list[Path]:
    """The cycle files from ``since`` on, the parts of split bundles too (``<stamp>.json``, ``<stamp>.2.json``, …)."""
    files = []
    for path in sorted(observations_dir.glob("*/*/*/*.json")):
        stamp = dt.datetime.strptime(path.name.split(".", 1)[0], "%Y%m%dT%H%M%S%z")
        if stamp >= since:
            files.append(path)
    return files


def export_bundle(observations_dir: Path, since: dt.datetime) -> dict[str, Any]:
    """Every object of the cycle bundles from ``since`` on, each once, as one bundle."""
    objects: dict[str, dict[str, Any]] = {}
    for path in _bundle_files(observations_dir, since):
        for obj in json.loads(path.read_text(encoding="utf-8"))["objects"]:
            objects.setdefault(obj["id"], obj)
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects.values())}


def read_bundle(path: Path) -> list[Any]:
    """The objects of a STIX bundle file, or an InputError naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON file: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "bundle" or not isinstance(data.get("objects"), list):
        raise InputError(f"{path}: not a STIX bundle (expected type 'bundle' with an 'objects' list)")
    objects: list[Any] = data["objects"]
    return objects


@dataclass
class ImportResult:
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)


def check_bundle(objects: list[Any], org_identity: str) -> ImportResult:
    """Split ``objects`` into the accepted ones (by id) and failures with reasons, as the hub would."""
    result = ImportResult()
    for obj in objects:
        reason = check_object(obj, org_identity)
        if reason is None:
            result.accepted[obj["id"]] = obj
        else:
            ident = obj.get("id", "?") if isinstance(obj, dict) else "?"
            result.failures.append({"id": str(ident), "message": reason})
    return result


def parse_since(value: str) -> dt.datetime:
    try:
        parsed = parse_time(value) if "T" in value else dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    except ValueError as exc:
        raise InputError(f"--since: not a date or timestamp: {value!r}") from exc
    return parsed
