"""Deny-list advice from the verdicts: which IPs, domains and URLs should stay blocked, and which may leave (why).

Each destination of the watchlist contributes its IP, its domain and its URL (each as given; a URL destination is
not widened to its host). A value stays on the list when any destination that names it has a status in ``keep``
(the policy of ``[blocklist]``: every status but the removable ones, by default ``dead``, ``reassigned``,
``parked`` and ``domain-gone``); otherwise it may leave, with the reasons. Each entry carries the policy's notes
for its statuses (by default, for ``sinkholed``: kept, and a hit means an infected host). ``valid_until`` follows the
evidence: a kept value is valid until it could be judged dead (the last answer plus the removal window, and at
least one more window from now); a removable one was valid until it became dead.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from c2watch.analysis.verdicts import DEAD, STATUSES, Verdict, VerdictRules
from c2watch.config import Settings
from c2watch.errors import InputError
from c2watch.stix.observation import Producer, campaign_object
from c2watch.stix.vocab import campaign_id, stable_id, timestamp

__all__ = ["DEFAULT_KEEP", "FORMATS", "Advice", "Entry", "Policy", "advise", "parse_keep", "render"]

DEFAULT_KEEP = tuple(s for s in STATUSES if s not in Settings().blocklist.removable)
FORMATS = ("plain", "csv", "stix")
KINDS = ("ip", "domain", "url")


def parse_keep(text: str) -> tuple[str, ...]:
    """``alive,dormant`` → the statuses kept; unknown ones are an input error naming the known ones."""
    wanted = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [status for status in wanted if status not in STATUSES]
    if unknown or not wanted:
        raise InputError(f"--keep: unknown status {', '.join(unknown) or '(none)'}; known: {', '.join(STATUSES)}")
    return wanted


@dataclass(frozen=True)
class Policy:
    """Which statuses keep a value on the deny list, and the notes shown per status (``[blocklist]``)."""

    keep: tuple[str, ...] = DEFAULT_KEEP
    notes: Mapping[str, str] = field(default_factory=lambda: dict(Settings().blocklist.notes))

    @classmethod
    def from_settings(cls, settings: Settings, keep: str | None = None) -> Policy:
        """The configured policy; ``keep`` (``--keep``) overrides which statuses are kept."""
        removable = settings.blocklist.removable
        kept = parse_keep(keep) if keep else tuple(s for s in STATUSES if s not in removable)
        return cls(kept, dict(settings.blocklist.notes))


@dataclass(frozen=True)
class Entry:
    """One deny-list value with the destinations behind it."""

    kind: str
    value: str
    keep: bool
    statuses: tuple[str, ...]
    threat_ids: tuple[str, ...]
    reason: str
    last_answer_at: dt.datetime | None
    valid_from: dt.datetime
    valid_until: dt.datetime
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "value": self.value,
            "advice": "keep" if self.keep else "remove",
            "statuses": list(self.statuses),
            "threat_ids": list(self.threat_ids),
            "last_answer_at": self.last_answer_at.isoformat() if self.last_answer_at else None,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "reason": self.reason,
            "note": self.note,
        }


@dataclass(frozen=True)
class Advice:
    computed_at: dt.datetime
    keep: list[Entry]
    removable: list[Entry]


def _values(verdict: Verdict) -> Iterable[tuple[str, str]]:
    t = verdict.target
    for kind, value in (("ip", t.ip), ("domain", t.domain), ("url", t.url)):
        if value:
            yield kind, value


def _until(verdict: Verdict, keep: bool, rules: VerdictRules, now: dt.datetime) -> dt.datetime:
    if not keep:  # dead (or a status the caller lets go): valid until it became so
        if verdict.status == DEAD and verdict.last_answer_at is not None:
            return verdict.last_answer_at + rules.dead_after
        return verdict.identity_since or now  # reassigned, parked, domain-gone: since the evidence began
    start = verdict.last_answer_at or now
    return max(start + rules.dead_after, now + rules.window)


def _entry(
    kind: str, value: str, verdicts: Sequence[Verdict], policy: Policy, rules: VerdictRules, now: dt.datetime
) -> Entry:
    kept = [v for v in verdicts if v.status in policy.keep]
    chosen = kept or list(verdicts)
    answers = [v.last_answer_at for v in verdicts if v.last_answer_at is not None]
    firsts = [v.first_observed_at for v in verdicts if v.first_observed_at is not None]
    valid_from = min([*firsts, now])
    valid_until = max(_until(v, bool(kept), rules, now) for v in chosen)
    if valid_until <= valid_from:
        valid_until = valid_from + dt.timedelta(seconds=1)
    reasons = sorted({f"{v.status}: {v.reason}" for v in chosen})
    return Entry(
        kind,
        value,
        bool(kept),
        tuple(sorted({v.status for v in verdicts})),
        tuple(sorted({v.threat_id for v in verdicts})),
        "; ".join(reasons),
        max(answers) if answers else None,
        valid_from,
        valid_until,
        "; ".join(note for status in sorted({v.status for v in verdicts}) if (note := policy.notes.get(status))),
    )


def advise(
    verdicts: Sequence[Verdict],
    rules: VerdictRules,
    now: dt.datetime,
    keep: Collection[str] | Policy = DEFAULT_KEEP,
    kinds: Collection[str] = KINDS,
    include_retired: bool = False,
) -> Advice:
    """Split the watchlist's values into those to keep on the deny list and those that may leave (``keep``: the
    policy, or the statuses that keep a value)."""
    policy = keep if isinstance(keep, Policy) else Policy(tuple(keep))
    by_value: dict[tuple[str, str], list[Verdict]] = defaultdict(list)
    for verdict in verdicts:
        if verdict.target.active or include_retired:
            for kind, value in _values(verdict):
                if kind in kinds:
                    by_value[(kind, value)].append(verdict)
    order = sorted(by_value, key=lambda key: (KINDS.index(key[0]), key[1]))
    entries = [_entry(kind, value, by_value[(kind, value)], policy, rules, now) for kind, value in order]
    return Advice(now, [e for e in entries if e.keep], [e for e in entries if not e.keep])


# --- output formats ---


def _plain(entries: Sequence[Entry], removable: bool) -> str:
    if removable:
        return "".join(f"{e.value}  # {e.reason}{'; ' + e.note if e.note else ''}\n" for e in entries)
    return "".join(f"{e.value}\n" for e in entries)


def _csv(entries: Sequence[Entry]) -> str:
    out = io.StringIO()
    columns = ["kind", "value", "advice", "statuses", "threat_ids", "last_answer_at", "valid_until", "reason", "note"]
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        row = entry.as_dict()
        writer.writerow(
            {
                **{key: row[key] for key in columns},
                "statuses": " ".join(entry.statuses),
                "threat_ids": " ".join(entry.threat_ids),
            }
        )
    return out.getvalue()


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def pattern(kind: str, value: str) -> str:
    """The STIX pattern matching ``value``."""
    if kind == "ip":
        sco = "ipv6-addr" if ipaddress.ip_address(value).version == 6 else "ipv4-addr"
    else:
        sco = {"domain": "domain-name", "url": "url"}[kind]
    return f"[{sco}:value = {_literal(value)}]"


def _indicator(entry: Entry, producer: Producer, now: dt.datetime) -> dict[str, Any]:
    advice = "keep on the deny list" if entry.keep else "may leave the deny list"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": stable_id("indicator", producer.org_identity, entry.kind, entry.value),
        "created_by_ref": producer.org_identity,
        "created": timestamp(entry.valid_from, millis=True),
        "modified": timestamp(max(now, entry.valid_from), millis=True),
        "name": f"C2 {entry.kind} {entry.value}",
        "description": f"c2watch: {advice} ({entry.reason}{'; ' + entry.note if entry.note else ''})",
        "indicator_types": ["malicious-activity"],
        "pattern": pattern(entry.kind, entry.value),
        "pattern_type": "stix",
        "pattern_version": "2.1",
        "valid_from": timestamp(entry.valid_from),
        "valid_until": timestamp(entry.valid_until),
        "labels": [f"c2watch-status:{status}" for status in entry.statuses],
    }


def _relationship(indicator: dict[str, Any], threat_id: str, producer: Producer) -> dict[str, Any]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": stable_id("relationship", indicator["id"], threat_id),
        "created_by_ref": producer.org_identity,
        "created": indicator["created"],
        "modified": indicator["modified"],
        "relationship_type": "indicates",
        "source_ref": indicator["id"],
        "target_ref": campaign_id(threat_id),
    }


def _stix(entries: Sequence[Entry], producer: Producer, now: dt.datetime) -> str:
    objects: list[dict[str, Any]] = [producer.identities()[0]]
    threat_ids = sorted({threat for entry in entries for threat in entry.threat_ids})
    objects += [campaign_object(threat) for threat in threat_ids]
    for entry in entries:
        indicator = _indicator(entry, producer, now)
        objects.append(indicator)
        objects += [_relationship(indicator, threat, producer) for threat in entry.threat_ids]
    bundle = {"type": "bundle", "id": stable_id("bundle", producer.org_identity, timestamp(now)), "objects": objects}
    return json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"


def render(advice: Advice, fmt: str, removable: bool, producer: Producer) -> str:
    """The kept (or, with ``removable``, the removable) entries as ``plain``, ``csv`` or ``stix``."""
    entries = advice.removable if removable else advice.keep
    if fmt == "plain":
        return _plain(entries, removable)
    if fmt == "csv":
        return _csv(entries)
    if fmt == "stix":
        return _stix(entries, producer, advice.computed_at)
    raise InputError(f"--format: unknown format {fmt!r}; known: {', '.join(FORMATS)}")
