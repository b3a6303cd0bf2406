"""``c2watch sync --backfill SINCE``: queue the observations of this observer's cycles that never went to the
outbox (recorded before ``[hub]`` was set), from the cycles' STIX bundle files, so the next push shares them.

Each cycle is queued in one transaction with the mark that it is queued, so running it twice queues nothing twice.
A cycle whose bundle file is gone (``cycle.write_stix`` off, or deleted by retention) cannot be queued: it is
counted, never an error."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from c2watch.errors import InputError
from c2watch.stix.bundle import bundle_parts
from c2watch.stix.regroup import observation_groups
from c2watch.store import Store

__all__ = ["BackfillReport", "backfill", "unqueued_notice"]


@dataclass
class BackfillReport:
    cycles: int = 0
    observations: int = 0
    without_file: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"cycles": self.cycles, "observations": self.observations, "without_file": self.without_file}


def _bundle_groups(stix_path: str | None) -> list[list[Any]] | None:
    """The observation groups of a cycle's bundle, over every file it was split into, or None when it is gone."""
    if not stix_path:
        return None
    groups: list[list[Any]] = []
    for path in bundle_parts(Path(stix_path)):
        objects = _bundle_objects(path)
        if objects is None:
            return None
        groups += observation_groups(objects)
    return groups


def _bundle_objects(path: Path) -> list[Any] | None:
    """The objects of one bundle file (kept or compressed), or None when it is gone."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        return None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputError(f"{path}: cannot read the cycle's bundle: {exc}") from exc
    try:
        objects = json.loads(raw)["objects"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a STIX bundle: {exc}") from exc
    return objects if isinstance(objects, list) else None


def backfill(store: Store, system_identity: str, since: dt.datetime) -> BackfillReport:
    """Queue every real cycle of ``system_identity`` since ``since`` that is not queued yet."""
    report = BackfillReport()
    for cycle in store.outbox.unqueued_cycles(system_identity, since, known_only=False):
        groups = _bundle_groups(cycle.stix_path)
        if groups is None:
            report.without_file += 1
            continue
        store.outbox.queue_cycle(cycle.cycle_pk, [json.dumps(group) for group in groups])
        report.cycles += 1
        report.observations += len(groups)
    return report


def unqueued_notice(store: Store, system_identity: str) -> str | None:
    """What to tell the user when cycles recorded without a hub were never queued, or None."""
    waiting = store.outbox.unqueued_cycles(system_identity)
    if not waiting:
        return None
    first = waiting[0].slot_at
    return (
        f"{len(waiting)} cycle(s) since {first:%Y-%m-%d %H:%M} UTC were recorded before [hub] was set and never "
        f"pushed; queue them with: c2watch sync --backfill {first:%Y-%m-%d}"
    )
