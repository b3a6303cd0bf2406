"""Load a :class:`Scenario` from TOML; every error names the field it is about.

Format::

    seed = 0                 # optional: seed of the deterministic ``rate`` draws
    slot_seconds = 14400     # optional: length of a ``rate`` time slot

    [[destination]]
    name = "alpha"
    threat_id = "DEMO-A"
    address = "127.77.0.1"   # loopback only
    port = 8080
    scheme = "http"          # optional, http | https
    path = "/gate.php"       # optional, default "/"
    ping = "reply"           # optional, reply | drop | loss:N | follow | ttl:N
    reported_on = 2024-05-01 # optional
    summary = "demo"         # optional
    timeline = [
      { behaviour = "status:200" },
      { start = 2024-06-01T00:00:00Z, behaviour = "status:404" },
    ]
    # or, for a behaviour that never changes:  behaviour = "status:200"
    domain = "gate.alpha.test" # optional: the URL names it, the lab's DNS answers it (c2watch.lab.names)
    dns = [                  # optional: what the lab's DNS answers for the domain over time (default: a)
      { start = 2024-07-01T00:00:00Z, answer = "nxdomain" },
    ]
    pings = [                # optional: the ping mode over time (before the first step: ping)
      { start = 2024-06-10T00:00:00Z, ping = "ttl:52" },   # also follow: echo answered while HTTP answers
    ]
    blocked = [              # optional: source addresses (observers) whose traffic is dropped over time
      { start = 2024-06-20T00:00:00Z, sources = "127.78.0.3" },
    ]
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from c2watch.lab.behaviours import BehaviourError, parse_behaviour
from c2watch.lab.scenario import DEFAULT_SLOT_SECONDS, Destination, Scenario, ScenarioError, Step

__all__ = ["load_scenario", "scenario_from_mapping"]

_TOP_KEYS = {"seed", "slot_seconds", "destination"}
_DEST_KEYS = {
    "name",
    "threat_id",
    "address",
    "port",
    "scheme",
    "path",
    "ping",
    "reported_on",
    "summary",
    "timeline",
    "behaviour",
    "domain",
    "dns",
    "pings",
    "blocked",
}
_REQUIRED = ("name", "threat_id", "address", "port")
_STRINGS = ("name", "threat_id", "address", "scheme", "path", "ping", "summary", "domain")


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario TOML file; raise :class:`ScenarioError` naming the bad field."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ScenarioError("", f"cannot read: {exc.strerror or exc}", source) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError("", f"not valid TOML: {exc}", source) from None
    return scenario_from_mapping(data, source)


def scenario_from_mapping(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Build a scenario from parsed TOML (or any mapping of the same shape)."""
    try:
        return _scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(exc.field, exc.message, source) from None


def _scenario(data: Mapping[str, Any]) -> Scenario:
    _reject_unknown(data, _TOP_KEYS, "")
    items = data.get("destination", [])
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ScenarioError("destination", "must be an array of tables ([[destination]])")
    destinations = []
    for index, item in enumerate(items):
        try:
            destinations.append(_destination(item))
        except ScenarioError as exc:
            raise exc.within(f"destination[{index}]") from None
    return Scenario(
        destinations,
        seed=data.get("seed", 0),
        slot_seconds=data.get("slot_seconds", DEFAULT_SLOT_SECONDS),
    )


def _reject_unknown(data: Mapping[str, Any], known: set[str], prefix: str) -> None:
    for key in data:
        if key not in known:
            raise ScenarioError(f"{prefix}{key}", f"unknown key; known keys: {', '.join(sorted(known))}")


def _destination(item: Mapping[str, Any]) -> Destination:
    _reject_unknown(item, _DEST_KEYS, "")
    for key in _REQUIRED:
        if key not in item:
            raise ScenarioError(key, "is required")
    for key in _STRINGS:
        if key in item and not isinstance(item[key], str):
            raise ScenarioError(key, f"must be a string, got {item[key]!r}")
    steps = ("timeline", "behaviour", "dns", "pings", "blocked")
    fields = {key: value for key, value in item.items() if key not in steps}
    fields["reported_on"] = _date(item.get("reported_on"))
    return Destination(
        timeline=_timeline(item),
        dns=_steps(item.get("dns", []), "dns", "answer"),
        pings=_steps(item.get("pings", []), "pings", "ping"),
        blocked=_steps(item.get("blocked", []), "blocked", "sources"),
        **fields,
    )


def _steps(steps: Any, array: str, key: str) -> list[Step]:
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise ScenarioError(array, f"must be an array of tables like {{ start = ..., {key} = ... }}")
    return [_step(index, step, array, key) for index, step in enumerate(steps)]


def _date(value: object) -> date | None:
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ScenarioError("reported_on", f"must be a date (YYYY-MM-DD), got {value!r}")


def _timeline(item: Mapping[str, Any]) -> list[Step]:
    if ("timeline" in item) == ("behaviour" in item):
        raise ScenarioError("timeline", "give exactly one of 'timeline' and 'behaviour'")
    if "behaviour" in item:
        if not isinstance(item["behaviour"], str):
            raise ScenarioError("behaviour", f"must be a string, got {item['behaviour']!r}")
        try:
            parse_behaviour(item["behaviour"])
        except BehaviourError as exc:
            raise ScenarioError("behaviour", str(exc)) from None
        return [(None, item["behaviour"])]
    steps = item["timeline"]
    if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
        raise ScenarioError("timeline", "must be an array of tables like { start = ..., behaviour = ... }")
    return [_step(index, step) for index, step in enumerate(steps)]


def _step(index: int, step: Mapping[str, Any], array: str = "timeline", key: str = "behaviour") -> Step:
    where = f"{array}[{index}]"
    _reject_unknown(step, {"start", key}, f"{where}.")
    behaviour = step.get(key)
    if not isinstance(behaviour, str):
        raise ScenarioError(f"{where}.{key}", f"must be a string, got {behaviour!r}")
    start = step.get("start")
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start)
        except ValueError:
            raise ScenarioError(f"{where}.start", f"not an ISO 8601 date-time: {start!r}") from None
    if start is not None and not isinstance(start, datetime):
        raise ScenarioError(f"{where}.start", f"must be a date-time with a UTC offset, got {start!r}")
    return (start, behaviour)
