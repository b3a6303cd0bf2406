"""The STIX bundle of each cycle (``<data>/observations/<observer>/<YYYY>/<MM>/<stamp>.json``) past its keeping
period: kept, compressed to ``<stamp>.json.gz`` or deleted, and ``cycles.stix_path`` updated to match.

Compression writes ``.json.gz.partial``, renames it, then removes the ``.json``: an interrupted run leaves either the
original or both (the next run removes the original), never a half file under the final name.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from c2watch.store.tables import cycles

__all__ = ["FileMode", "FilesReport", "cycle_files", "expire_cycle_files"]

FileMode = Literal["keep", "compress", "delete"]
_STAMP = "%Y%m%dT%H%M%S%z"


@dataclass
class FilesReport:
    mode: str
    cutoff: dt.datetime
    compressed: int = 0
    deleted: int = 0
    bytes_freed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}


def _stamp(path: Path) -> dt.datetime:
    """The cycle's slot from the file name, else the file's modification time."""
    try:
        return dt.datetime.strptime(path.name.split(".", 1)[0], _STAMP).astimezone(dt.UTC)
    except ValueError:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def cycle_files(observations_dir: Path) -> Iterator[tuple[Path, dt.datetime]]:
    """Every finished cycle file (plain or compressed) with its slot time."""
    for pattern in ("*/*/*/*.json", "*/*/*/*.json.gz"):
        for path in sorted(observations_dir.glob(pattern)):
            yield path, _stamp(path)


def _compress(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        with path.open("rb") as source, gzip.open(partial, "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
        partial.replace(target)
    path.unlink()
    return target


def _repoint(conn: sa.Connection, old: Path, new: Path | None) -> None:
    conn.execute(
        cycles.update().where(cycles.c.stix_path == str(old)).values(stix_path=None if new is None else str(new))
    )


def expire_cycle_files(
    conn: sa.Connection, observations_dir: Path, mode: FileMode, cutoff: dt.datetime, dry_run: bool = False
) -> FilesReport:
    """Compress or delete the cycle files of slots before ``cutoff`` (``keep``: nothing)."""
    report = FilesReport(mode, cutoff)
    if mode == "keep" or not observations_dir.is_dir():
        return report
    for path, slot in cycle_files(observations_dir):
        compressed = path.suffix == ".gz"
        if slot >= cutoff or (mode == "compress" and compressed):
            continue
        size = path.stat().st_size
        if mode == "delete":
            report.deleted += 1
            if not dry_run:
                path.unlink()
                _repoint(conn, path, None)
            report.bytes_freed += size
            continue
        report.compressed += 1
        if not dry_run:
            target = _compress(path)
            _repoint(conn, path, target)
            report.bytes_freed += size - target.stat().st_size
    return report
