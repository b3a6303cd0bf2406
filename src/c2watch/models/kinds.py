"""The probe kinds, declared once: every probe the cycle can run, and those whose answers a verdict can rest on."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["ANSWER_PROBES", "PROBE_KINDS", "AnswerProbe", "ProbeKind"]

ProbeKind = Literal["dns", "icmp", "http", "tls"]
PROBE_KINDS: tuple[ProbeKind, ...] = get_args(ProbeKind)
"""Every probe kind (``c2watch.probes.PROBES`` has one probe for each; ``[cycle] probes`` names some)."""

AnswerProbe = Literal["http", "icmp", "tls"]
ANSWER_PROBES: tuple[AnswerProbe, ...] = get_args(AnswerProbe)
"""The kinds whose answer says a destination is alive (``[verdict] answer_probes``; DNS only resolves)."""
