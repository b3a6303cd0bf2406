"""The probe kinds, declared once: every probe the cycle can run, and those whose answers a verdict can rest on."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["ANSWER_PROBES", "DEFAULT_PROBES", "OPT_IN_PROBES", "PROBE_KINDS", "AnswerProbe", "ProbeKind"]

ProbeKind = Literal["dns", "icmp", "http", "tls", "jarm", "favicon", "resolved"]
PROBE_KINDS: tuple[ProbeKind, ...] = get_args(ProbeKind)
"""Every probe kind (``c2watch.probes.PROBES`` has one probe for each; ``[cycle] probes`` names some). ``jarm`` and
``favicon`` are off by default: an implant never sends them (docs/fingerprints.md); so is ``resolved`` (a named
destination's GET sent to its address, docs/observer.md)."""

OPT_IN_PROBES: tuple[ProbeKind, ...] = ("jarm", "favicon", "resolved")
"""Kinds off by default: requests an implant would never make, which a watchful operator can notice."""
DEFAULT_PROBES: tuple[ProbeKind, ...] = tuple(kind for kind in PROBE_KINDS if kind not in OPT_IN_PROBES)
"""``[cycle] probes`` by default."""

AnswerProbe = Literal["http", "icmp", "tls"]
ANSWER_PROBES: tuple[AnswerProbe, ...] = get_args(AnswerProbe)
"""The kinds whose answer says a destination is alive (``[verdict] answer_probes``; DNS only resolves)."""
