"""A cycle's STIX 2.1 bundle, streamed to disk as observations finish (memory stays flat for 100,000 targets).

The file is written as ``<name>.partial`` and renamed when the cycle ends: a file without the suffix is complete.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from c2watch.stix.observation import Producer, campaign_object
from c2watch.stix.vocab import extension_definitions

__all__ = ["BundleWriter", "bundle_path"]


def bundle_path(data_dir: Path, observer: str, slot_at: dt.datetime, zone: str) -> Path:
    """``<data>/observations/<observer>/<YYYY>/<MM>/<YYYYMMDDTHHMMSS+0900>.json`` in the configured zone."""
    local = slot_at.astimezone(ZoneInfo(zone))
    return data_dir / "observations" / observer / f"{local:%Y}" / f"{local:%m}" / f"{local:%Y%m%dT%H%M%S%z}.json"


class BundleWriter:
    """Write one bundle object by object; identities and extension-definitions first, each campaign once."""

    def __init__(self, path: Path, producer: Producer) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".partial")
        self.producer = producer
        self._campaigns: set[str] = set()
        self._file: IO[bytes] | None = None
        self._count = 0

    def __enter__(self) -> BundleWriter:
        self.partial.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.partial.open("wb")
        self._file.write(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [\n'.encode())
        for obj in self.producer.identities() + extension_definitions(self.producer.org_identity):
            self._write(obj)
        return self

    def _write(self, obj: dict[str, Any]) -> None:
        assert self._file is not None
        if self._count:
            self._file.write(b",\n")
        self._file.write(orjson.dumps(obj))
        self._count += 1

    def add(self, threat_id: str, objects: Iterable[dict[str, Any]]) -> None:
        """Append one observation's objects (its campaign first, once per bundle)."""
        if threat_id not in self._campaigns:
            self._campaigns.add(threat_id)
            self._write(campaign_object(threat_id))
        for obj in objects:
            self._write(obj)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._file is not None
        self._file.write(b"\n]}\n")
        self._file.close()
        if exc_type is None:
            self.partial.replace(self.path)
