"""Signatures as data: the shipped rules load and pass their own examples, a bad rules file is refused with a
message naming the file, the rule and the field, matching follows the documented semantics, and the CLI lists,
checks and matches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.identity import KINDS, Evidence, RulesError, check_examples, load_rules, match, parse_rules

GOOD = """
[[rule]]
id = "lab.c2"
kind = "c2-framework"
name = "Lab C2"
source = "the test"
[[rule.match]]
cert_contains = ["lab-c2"]
port = [8443, 9443]
[[rule.match]]
address_in = ["192.0.2.0/28"]
[[rule.example]]
evidence = { cert_subject = "CN=LAB-C2", port = 9443 }
"""


def test_shipped_rules_load_and_pass_their_examples() -> None:
    rules = load_rules()
    assert len({rule.id for rule in rules}) == len(rules) >= 25
    assert {rule.kind for rule in rules} == set(KINDS)
    assert all(rule.source.strip() and rule.examples for rule in rules)
    results = check_examples(rules)
    assert [(r.rule.id, r.index) for r in results if not r.passed] == []
    assert all(any(e.matches for e in rule.examples) for rule in rules)  # each rule is shown to match something


def test_public_defaults_are_recognised() -> None:
    rules = load_rules()
    cases = {
        "cobalt-strike.default-certificate": Evidence(cert_serial="146473198"),
        "metasploit.default": Evidence(favicon_hash=-127886975),
        "sinkhole.microsoft": Evidence(address="207.46.90.7"),
        "parking.sedo": Evidence(name_servers=("NS1.SEDOPARKING.COM.",)),
        "default-page.nginx": Evidence(title="Welcome to nginx!"),
    }
    for rule_id, evidence in cases.items():
        assert [m.rule.id for m in match(rules, evidence)] == [rule_id]
    assert match(rules, Evidence(address="198.51.100.7", title="Login", port=443)) == []


def test_conditions_of_a_table_all_hold_and_any_table_or_value_does() -> None:
    [rule] = parse_rules(GOOD, "good.toml")
    assert rule.matching(Evidence(cert_issuer="O=lab-c2", port=8443)) is not None
    assert rule.matching(Evidence(cert_issuer="O=lab-c2", port=443)) is None  # port does not hold
    assert rule.matching(Evidence(port=8443)) is None  # certificate unknown: does not hold
    assert rule.matching(Evidence(address="192.0.2.15")) is not None
    assert rule.matching(Evidence(address="192.0.2.16")) is None
    assert rule.matching(Evidence(address="not an address")) is None
    found = match([rule], Evidence(address="192.0.2.1"))
    assert [m.as_dict()["by"] for m in found] == [["address_in"]]


def test_a_file_of_yours_replaces_a_shipped_rule_of_the_same_id(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text(GOOD.replace('id = "lab.c2"', 'id = "default-page.nginx"'), encoding="utf-8")
    rules = {rule.id: rule for rule in load_rules([mine])}
    assert rules["default-page.nginx"].name == "Lab C2" and rules["default-page.nginx"].origin == str(mine)
    assert len(rules) == len(load_rules())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('kind = "c2-framework"', 'kind = "botnet"'), "bad.toml: rule 1 (lab.c2): kind: must be one of"),
        (('source = "the test"', 'source = " "'), "bad.toml: rule 1 (lab.c2): source: expected a non-empty string"),
        (("port = [8443, 9443]", 'port = ["https"]'), "rule 1 (lab.c2): match[0].port: expected an integer"),
        (('address_in = ["192.0.2.0/28"]', 'address_in = ["192.0.2.0/33"]'), "match[1].address_in: expected an"),
        (('cert_contains = ["lab-c2"]', 'cert_containz = ["lab-c2"]'), "match[0].cert_containz: unknown condition"),
        (('cert_contains = ["lab-c2"]', 'jarm = ["00"]'), "match[0].jarm: expected a JARM fingerprint"),
        (('id = "lab.c2"', 'id = "Lab C2"'), "bad.toml: rule 1 (Lab C2): id: lower-case letters"),
        (('name = "Lab C2"', 'name = "Lab C2"\ncolour = "red"'), "rule 1 (lab.c2): colour: unknown field"),
        (("port = 9443 }", "prot = 9443 }"), "example[0].evidence: unknown evidence field(s): prot"),
        (("[[rule]]", "[rules]"), "bad.toml: unknown top-level key 'rules'"),
        (('id = "lab.c2"', "id = 'lab.c2'\nid2 ="), "bad.toml: not TOML"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_place(change: tuple[str, str], message: str) -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(GOOD.replace(*change, 1), "bad.toml")
    assert message in str(caught.value)


def test_an_id_used_twice_is_refused() -> None:
    with pytest.raises(RulesError, match=r"rule id .lab\.c2. is used twice"):
        parse_rules(GOOD + GOOD, "twice.toml")


def invoke(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "signatures", *args])
    return result.exit_code, result.output


def test_cli_lists_checks_and_matches(tmp_path: Path) -> None:
    code, output = invoke(tmp_path, "list", "--kind", "sinkhole", "--json")
    listed = json.loads(output)
    assert code == 0 and {item["kind"] for item in listed} == {"sinkhole"} and len(listed) >= 10
    rules = tmp_path / "mine.toml"
    rules.write_text(GOOD + "[[rule.example]]\nevidence = { port = 8443 }\n", encoding="utf-8")
    code, output = invoke(tmp_path, "test", str(rules))
    assert code == 1 and "FAIL lab.c2: example 2 should match" in output and "2 example(s), 1 failed" in output
    evidence = tmp_path / "evidence.json"
    evidence.write_text(json.dumps([{"address": "104.155.11.149"}, {"title": "Login"}]), encoding="utf-8")
    code, output = invoke(tmp_path, "test", str(evidence))
    assert code == 0 and output.splitlines() == [
        "evidence 1: sinkhole abuse.ch (sinkhole.abuse-ch, high)",
        "evidence 2: no signature matches",
    ]
    evidence.write_text(json.dumps([{"address": 7}]), encoding="utf-8")
    code, output = invoke(tmp_path, "test", str(evidence))
    assert code == 2 and "evidence.json: evidence 1: address: expected a string, got 7" in output
