"""A cycle's bundle back into one group of objects per observation, as the outbox holds them: the campaign, the
SCOs and network-traffic the observed-data refers to, the observed-data and its sighting (see
:func:`c2watch.stix.observation.observation_objects`). Identities and extension-definitions are left out: a push
sends the producer's identities with every envelope."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from c2watch.stix.observation import campaign_object
from c2watch.stix.vocab import THREAT_ID_SOURCE

__all__ = ["observation_groups"]

Obj = dict[str, Any]


def _threat_id(observed: Obj) -> str | None:
    for ref in observed.get("external_references") or []:
        if isinstance(ref, dict) and ref.get("source_name") == THREAT_ID_SOURCE:
            value = ref.get("external_id")
            return value if isinstance(value, str) else None
    return None


def observation_groups(objects: list[Any]) -> list[list[Obj]]:
    """One list per observed-data of ``objects``, in their order."""
    by_id: dict[str, Obj] = {o["id"]: o for o in objects if isinstance(o, dict) and isinstance(o.get("id"), str)}
    sightings: dict[str, list[Obj]] = defaultdict(list)
    for obj in by_id.values():
        if obj.get("type") == "sighting":
            for ref in obj.get("observed_data_refs") or []:
                sightings[ref].append(obj)
    groups = []
    for obj in by_id.values():
        if obj.get("type") != "observed-data":
            continue
        threat = _threat_id(obj)
        group = [campaign_object(threat)] if threat else []
        group += [by_id[ref] for ref in obj.get("object_refs") or [] if ref in by_id]
        groups.append([*group, obj, *sightings.get(obj["id"], [])])
    return groups
