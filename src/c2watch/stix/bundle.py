"""A cycle's STIX 2.1 bundle, streamed to disk as observations finish (memory stays flat for a million targets).

Above ``max_bytes`` the bundle is split between observations into several files, each a complete bundle of its
own (the identities, the extension definitions and the campaigns its observations refer to): the first is
``<stamp>.json`` (the one ``cycles.stix_path`` names), the next ``<stamp>.2.json``, ``<stamp>.3.json`` and so on;
:func:`bundle_parts` lists them from the first. Each file is written as ``<name>.partial`` and every file of the
cycle is renamed when it ends (the first one last): a file without the suffix is complete.
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

__all__ = ["BundleWriter", "bundle_part", "bundle_parts", "bundle_path"]


def bundle_path(data_dir: Path, observer: str, slot_at: dt.datetime, zone: str) -> Path:
    """``<data>/observations/<observer>/<YYYY>/<MM>/<YYYYMMDDTHHMMSS+0900>.json`` in the configured zone."""
    local = slot_at.astimezone(ZoneInfo(zone))
    return data_dir / "observations" / observer / f"{local:%Y}" / f"{local:%m}" / f"{local:%Y%m%dT%H%M%S%z}.json"


def bundle_part(first: Path, number: int) -> Path:
    """The ``number``-th file (1-based) of the bundle whose first file is ``first``: ``<stamp>.<number>.json``."""
    if number == 1:
        return first
    stamp, _dot, suffixes = first.name.partition(".")
    return first.with_name(f"{stamp}.{number}.{suffixes}")


def bundle_parts(first: Path) -> list[Path]:
    """Every file of a cycle's bundle, from its first one (``cycles.stix_path``): the parts that follow it, each
    plain or compressed (``.json.gz``, as retention leaves them), until a number is missing."""
    parts = [first]
    plain = first.with_name(first.name.removesuffix(".gz"))
    while True:
        following = bundle_part(plain, len(parts) + 1)
        found = [path for path in (following, following.with_name(following.name + ".gz")) if path.exists()]
        if not found:
            return parts
        parts.append(found[0])


_CLOSE = b"\n]}\n"


class BundleWriter:
    """Write one bundle object by object; identities and extension-definitions first, each campaign once per file.

    With ``max_bytes`` a new file is begun before an observation once the current one has reached that size
    (files end a little above it: an observation is never split)."""

    def __init__(self, path: Path, producer: Producer, max_bytes: int | None = None) -> None:
        self.path = path
        self.producer = producer
        self.max_bytes = max_bytes
        self.paths: list[Path] = []
        """The files written (complete once the writer is left without an error)."""
        self._campaigns: set[str] = set()
        self._file: IO[bytes] | None = None
        self._count = 0
        self._size = 0

    def __enter__(self) -> BundleWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._begin()
        return self

    def _begin(self) -> None:
        self.paths.append(bundle_part(self.path, len(self.paths) + 1))
        self._file = _partial(self.paths[-1]).open("wb")
        self._campaigns, self._count, self._size = set(), 0, 0
        self._put(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [\n'.encode())
        for obj in self.producer.identities() + extension_definitions(self.producer.org_identity):
            self._write(obj)

    def _put(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._size += len(data)

    def _write(self, obj: dict[str, Any]) -> None:
        if self._count:
            self._put(b",\n")
        self._put(orjson.dumps(obj))
        self._count += 1

    def _end(self) -> None:
        assert self._file is not None
        self._file.write(_CLOSE)
        self._file.close()

    def add(self, threat_id: str, objects: Iterable[dict[str, Any]]) -> None:
        """Append one observation's objects (its campaign first, once per file)."""
        if self.max_bytes is not None and self._size >= self.max_bytes:
            self._end()
            self._begin()
        if threat_id not in self._campaigns:
            self._campaigns.add(threat_id)
            self._write(campaign_object(threat_id))
        for obj in objects:
            self._write(obj)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._end()
        if exc_type is None:
            for path in reversed(self.paths):  # the first file last: once it exists, all of them do
                _partial(path).replace(path)


def _partial(path: Path) -> Path:
    return path.with_name(path.name + ".partial")
