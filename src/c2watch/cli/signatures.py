"""``c2watch signatures list|test``: the signatures that say what a server is now (docs/signatures.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from c2watch.cli.context import App, pass_app
from c2watch.errors import InputError
from c2watch.identity import KINDS, Evidence, Rule, check_examples, load_rules, match

_RULES = click.option(
    "--rules",
    "extra",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A rules file of yours, after the shipped ones (repeatable; a rule of the same id replaces the shipped one).",
)


@click.group()
def signatures() -> None:
    """Signatures: C2 framework defaults, sinkholes, parking providers and default pages, each with its source."""


def _rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "kind": rule.kind,
        "name": rule.name,
        "confidence": rule.confidence,
        "match": rule.describe(),
        "source": rule.source,
        "note": rule.note,
        "file": rule.origin,
    }


@signatures.command("list")
@click.option("--kind", type=click.Choice(KINDS), help="Only rules of this kind.")
@_RULES
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def list_signatures(app: App, kind: str | None, extra: tuple[Path, ...], as_json: bool) -> None:
    """List the signatures (shipped, then yours).

    Example: c2watch signatures list --kind sinkhole
    """
    rules = [rule for rule in load_rules(extra) if kind is None or rule.kind == kind]
    if as_json:
        app.print_json([_rule_json(rule) for rule in rules])
        return
    table = Table("id", "kind", "name", "confidence", "matches", "source")
    for rule in rules:
        table.add_row(rule.id, rule.kind, rule.name, rule.confidence, rule.describe(), rule.source)
    app.console.print(table)


@signatures.command("test")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@_RULES
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def test_signatures(app: App, file: Path, extra: tuple[Path, ...], as_json: bool) -> None:
    """Check a rules FILE (.toml: read it and run each rule's examples) or match an evidence FILE (.json: an
    object or a list of objects with fields such as address, cert_serial, favicon_hash, title, name_servers).

    Exits 1 when an example fails. Example: c2watch signatures test my-rules.toml
    """
    if file.suffix.lower() == ".json":
        _match_evidence(app, file, load_rules(extra), as_json)
    else:
        _run_examples(app, load_rules([*extra, file], shipped=False), file, as_json)


def _run_examples(app: App, rules: list[Rule], file: Path, as_json: bool) -> None:
    results = [r for r in check_examples(rules) if r.rule.origin == str(file)]
    failed = [r for r in results if not r.passed]
    if as_json:
        app.print_json(
            {
                "file": str(file),
                "rules": len([r for r in rules if r.origin == str(file)]),
                "examples": len(results),
                "failed": [{"id": r.rule.id, "example": r.index + 1, "expected": r.expected} for r in failed],
            }
        )
    else:
        for r in failed:
            expected = "match" if r.expected else "not match"
            click.echo(f"FAIL {r.rule.id}: example {r.index + 1} should {expected}", err=True)
        click.echo(f"{file}: {len(rules)} rule(s), {len(results)} example(s), {len(failed)} failed")
    if failed:
        raise click.exceptions.Exit(1)


def _evidence_list(file: Path) -> list[Evidence]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{file}: cannot read the evidence: {exc}") from None
    items = data if isinstance(data, list) else [data]
    evidence = []
    for index, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ValueError("expected an object")
            evidence.append(Evidence.from_mapping(item))
        except ValueError as exc:
            raise InputError(f"{file}: evidence {index + 1}: {exc}") from None
    return evidence


def _match_evidence(app: App, file: Path, rules: list[Rule], as_json: bool) -> None:
    found = [[m.as_dict() for m in match(rules, evidence)] for evidence in _evidence_list(file)]
    if as_json:
        app.print_json([{"evidence": index + 1, "matches": matches} for index, matches in enumerate(found)])
        return
    for index, matches in enumerate(found):
        shown = ", ".join(f"{m['kind']} {m['name']} ({m['id']}, {m['confidence']})" for m in matches)
        click.echo(f"evidence {index + 1}: {shown or 'no signature matches'}")
