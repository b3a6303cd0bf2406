"""The hub's two collections and who may write them (every member reads both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from c2watch.taxii.media import TAXII_MEDIA

__all__ = ["COLLECTIONS", "OBSERVATIONS", "WATCHLIST", "CollectionDef", "find_collection"]


@dataclass(frozen=True)
class CollectionDef:
    id: str
    alias: str
    title: str
    description: str
    writers: tuple[str, ...]

    def resource(self, role: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "alias": self.alias,
            "title": self.title,
            "description": self.description,
            "can_read": True,
            "can_write": role in self.writers,
            "media_types": [TAXII_MEDIA.replace("taxii", "stix")],
        }


WATCHLIST = CollectionDef(
    "6f4d8a3e-2c1b-4e5f-9a7d-0b3c2e1f4a51",
    "watchlist",
    "Watchlist",
    "C2 destinations to observe: campaigns (threat IDs) and indicators. Coordinators write, members read.",
    ("coordinator", "admin"),
)
OBSERVATIONS = CollectionDef(
    "1b9e7c5a-3d2f-4a8b-8c6e-5f4a3b2c1d07",
    "observations",
    "Observations",
    "Liveness observations of every observer as observed-data, network-traffic and sightings. "
    "Observers write, members read.",
    ("observer", "admin"),
)
COLLECTIONS = (WATCHLIST, OBSERVATIONS)


def find_collection(key: str) -> CollectionDef | None:
    """By id or alias."""
    return next((c for c in COLLECTIONS if key in (c.id, c.alias)), None)
