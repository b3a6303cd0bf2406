"""Which signatures a server's evidence matches, and a rules file's own examples checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from c2watch.identity.evidence import Evidence
from c2watch.identity.rules import Rule

__all__ = ["ExampleResult", "Match", "check_examples", "match"]


@dataclass(frozen=True)
class Match:
    """``rule`` matched, by the conditions of ``table``."""

    rule: Rule
    table: tuple[tuple[str, tuple[Any, ...]], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.rule.id,
            "kind": self.rule.kind,
            "name": self.rule.name,
            "confidence": self.rule.confidence,
            "source": self.rule.source,
            "by": sorted(name for name, _ in self.table),
        }


def match(rules: Sequence[Rule], evidence: Evidence) -> list[Match]:
    """Every rule that ``evidence`` matches, in the rules' order."""
    found = []
    for rule in rules:
        table = rule.matching(evidence)
        if table is not None:
            found.append(Match(rule, table))
    return found


@dataclass(frozen=True)
class ExampleResult:
    rule: Rule
    index: int
    expected: bool
    matched: bool

    @property
    def passed(self) -> bool:
        return self.expected == self.matched


def check_examples(rules: Sequence[Rule]) -> list[ExampleResult]:
    """Each rule's examples run against the rule itself."""
    return [
        ExampleResult(rule, index, example.matches, rule.matching(example.evidence) is not None)
        for rule in rules
        for index, example in enumerate(rule.examples)
    ]
