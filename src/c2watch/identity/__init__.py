"""What a server is now: signatures (rules as data, each naming its public source) matched against a server's
fingerprint and DNS facts — a C2 framework left at its defaults, a sinkhole, a parking page, a web server's default
page. See docs/signatures.md."""

from c2watch.identity.evidence import EVIDENCE_FIELDS, Evidence
from c2watch.identity.match import ExampleResult, Match, check_examples, match
from c2watch.identity.rules import (
    CONFIDENCES,
    KINDS,
    SHIPPED,
    Example,
    Rule,
    RulesError,
    configured_rules,
    load_rules,
    parse_rules,
    shipped_rules,
)

__all__ = [
    "CONFIDENCES",
    "EVIDENCE_FIELDS",
    "KINDS",
    "SHIPPED",
    "Evidence",
    "Example",
    "ExampleResult",
    "Match",
    "Rule",
    "RulesError",
    "check_examples",
    "configured_rules",
    "load_rules",
    "match",
    "parse_rules",
    "shipped_rules",
]
