"""Signatures as data: rules files (TOML) that say what a server is now, each rule naming its public source.

A rules file holds ``[[rule]]`` tables::

    [[rule]]
    id = "cobalt-strike-default-certificate"
    kind = "c2-framework"          # c2-framework | sinkhole | parking | default-page
    name = "Cobalt Strike"
    source = "BushidoUK, OSINT-SearchOperators, ShodanAdversaryInfa.csv"
    confidence = "high"            # high | medium | experimental (default medium)
    note = "..."                   # optional

    [[rule.match]]                 # one or more; the rule matches when any of them does,
    cert_serial = ["146473198"]    # a match table when all its conditions do, a condition when any value does

    [[rule.example]]               # optional: evidence the rule must (or must not) match, run by
    evidence = { cert_serial = "146473198" }   # `c2watch signatures test FILE`
    matches = true

The package ships :data:`SHIPPED` (``signatures.toml``); users add files of their own, whose rules replace shipped
rules of the same id. A bad file is an :class:`~c2watch.errors.InputError` naming the file, the rule and the field.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from c2watch.config import Settings
from c2watch.errors import InputError
from c2watch.identity.conditions import CONDITIONS
from c2watch.identity.evidence import Evidence

__all__ = [
    "CONFIDENCES",
    "KINDS",
    "SHIPPED",
    "Example",
    "Rule",
    "RulesError",
    "configured_rules",
    "load_rules",
    "parse_rules",
    "shipped_rules",
]

SHIPPED = Path(__file__).with_name("signatures.toml")
KINDS = ("c2-framework", "sinkhole", "parking", "default-page")
CONFIDENCES = ("high", "medium", "experimental")
_ID = re.compile(r"[a-z0-9][a-z0-9.-]{0,79}")
_FIELDS = {"id", "kind", "name", "source", "confidence", "note", "match", "example"}

MatchTable = tuple[tuple[str, tuple[Any, ...]], ...]


class RulesError(InputError):
    """A rules file that cannot be used; the message names the file, the rule and the field."""


@dataclass(frozen=True)
class Example:
    evidence: Evidence
    matches: bool


@dataclass(frozen=True)
class Rule:
    """One signature: what kind of server it recognises, whose, from which public source, and how."""

    id: str
    kind: str
    name: str
    source: str
    match: tuple[MatchTable, ...]
    confidence: str = "medium"
    note: str = ""
    examples: tuple[Example, ...] = ()
    origin: str = ""

    def matching(self, evidence: Evidence) -> MatchTable | None:
        """The first match table that ``evidence`` satisfies, or None."""
        for table in self.match:
            if _holds(table, evidence):
                return table
        return None

    def describe(self) -> str:
        """The rule's conditions in one line (``cert_serial = 146473198 | favicon_hash = -127886975``)."""
        return " | ".join(
            " and ".join(f"{name} = {' or '.join(_shown(v) for v in values)}" for name, values in table)
            for table in self.match
        )


def _holds(table: MatchTable, evidence: Evidence) -> bool:
    """Whether every condition of ``table`` holds (any of its values matches); plain loops, as every sighting of
    every destination is tested against every rule."""
    for name, values in table:
        test = CONDITIONS[name].test
        for value in values:
            if test(evidence, value):
                break
        else:
            return False
    return True


def _shown(value: Any) -> str:
    return str(value) if not isinstance(value, str) else value


class _Reader:
    """Reads one rule table, naming the place of every problem."""

    def __init__(self, origin: str, index: int, table: Any) -> None:
        self.origin, self.table = origin, table
        ident = table.get("id") if isinstance(table, dict) else None
        self.where = f"{origin}: rule {index + 1}" + (f" ({ident})" if isinstance(ident, str) else "")

    def fail(self, field: str, message: str) -> RulesError:
        return RulesError(f"{self.where}: {field}: {message}")

    def text(self, field: str, required: bool = True, choices: Sequence[str] = ()) -> str:
        value = self.table.get(field, None if required else "")
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(field, "expected a non-empty string" if required else "expected a string")
        if choices and value not in choices:
            raise self.fail(field, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def rule(self) -> Rule:
        if not isinstance(self.table, dict):
            raise RulesError(f"{self.where}: expected a table")
        unknown = sorted(set(self.table) - _FIELDS)
        if unknown:
            raise self.fail(unknown[0], f"unknown field; known: {', '.join(sorted(_FIELDS))}")
        ident = self.text("id")
        if not _ID.fullmatch(ident):
            raise self.fail("id", "lower-case letters, digits, dots and dashes, at most 80 characters")
        return Rule(
            ident,
            self.text("kind", choices=KINDS),
            self.text("name"),
            self.text("source"),
            self.match_tables(),
            self.text("confidence", choices=CONFIDENCES) if "confidence" in self.table else "medium",
            self.text("note", required=False),
            self.examples(),
            self.origin,
        )

    def match_tables(self) -> tuple[MatchTable, ...]:
        tables = self.table.get("match")
        if not isinstance(tables, list) or not tables:
            raise self.fail("match", "expected one or more [[rule.match]] tables")
        return tuple(self.match_table(n, table) for n, table in enumerate(tables))

    def match_table(self, n: int, table: Any) -> MatchTable:
        if not isinstance(table, dict) or not table:
            raise self.fail(f"match[{n}]", "expected a table with at least one condition")
        return tuple((name, self.values(f"match[{n}].{name}", name, value)) for name, value in sorted(table.items()))

    def values(self, field: str, name: str, value: Any) -> tuple[Any, ...]:
        condition = CONDITIONS.get(name)
        if condition is None:
            raise self.fail(field, f"unknown condition; known: {', '.join(CONDITIONS)}")
        items = value if isinstance(value, list) else [value]
        if not items:
            raise self.fail(field, "expected at least one value")
        try:
            return tuple(condition.parse(item) for item in items)
        except ValueError as exc:
            raise self.fail(field, str(exc)) from None

    def examples(self) -> tuple[Example, ...]:
        items = self.table.get("example", [])
        if not isinstance(items, list):
            raise self.fail("example", "expected [[rule.example]] tables")
        return tuple(self.example(n, item) for n, item in enumerate(items))

    def example(self, n: int, item: Any) -> Example:
        if not isinstance(item, dict) or not isinstance(item.get("evidence"), dict):
            raise self.fail(f"example[{n}]", "expected a table with an evidence table")
        if not isinstance(item.get("matches", True), bool) or set(item) - {"evidence", "matches"}:
            raise self.fail(f"example[{n}]", "only evidence and matches (true or false) may be set")
        try:
            return Example(Evidence.from_mapping(item["evidence"]), item.get("matches", True))
        except ValueError as exc:
            raise self.fail(f"example[{n}].evidence", str(exc)) from None


def parse_rules(text: str, origin: str) -> list[Rule]:
    """The rules of one file's text (``origin`` names it in errors)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{origin}: not TOML: {exc}") from None
    unknown = sorted(set(document) - {"rule"})
    if unknown:
        raise RulesError(f"{origin}: unknown top-level key {unknown[0]!r}; rules are [[rule]] tables")
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise RulesError(f"{origin}: rule: expected [[rule]] tables")
    rules = [_Reader(origin, index, table).rule() for index, table in enumerate(tables)]
    _check_unique(rules, origin)
    return rules


def _check_unique(rules: Iterable[Rule], origin: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RulesError(f"{origin}: rule id {rule.id!r} is used twice")
        seen.add(rule.id)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read the rules file: {exc}") from None


def load_rules(extra: Sequence[Path] = (), shipped: bool = True) -> list[Rule]:
    """The shipped rules, then each file of ``extra`` in order; a later rule replaces an earlier one of its id."""
    files = [SHIPPED, *extra] if shipped else list(extra)
    merged: dict[str, Rule] = {}
    for path in files:
        merged.update({rule.id: rule for rule in parse_rules(_read(path), str(path))})
    return list(merged.values())


@cache
def shipped_rules() -> tuple[Rule, ...]:
    """The shipped rules, read once per process."""
    return tuple(load_rules())


def configured_rules(settings: Settings) -> tuple[Rule, ...]:
    """The shipped rules and the files of ``[verdict] signatures`` (the shipped ones read once per process)."""
    files = settings.verdict.signatures
    return tuple(load_rules(files)) if files else shipped_rules()


def rules_by_kind(rules: Iterable[Rule]) -> Mapping[str, list[Rule]]:
    grouped: dict[str, list[Rule]] = {kind: [] for kind in KINDS}
    for rule in rules:
        grouped[rule.kind].append(rule)
    return grouped
