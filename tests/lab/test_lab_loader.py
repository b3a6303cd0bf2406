from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from c2watch.errors import InputError
from c2watch.lab import ScenarioError, load_scenario

GOOD = """
seed = 7
slot_seconds = 3600

[[destination]]
name = "alpha"
threat_id = "DEMO-A"
address = "127.77.0.1"
port = 8080
path = "/gate.php"
ping = "loss:50"
reported_on = 2025-02-01
timeline = [
  { behaviour = "status:200" },
  { start = 2025-03-01T00:00:00Z, behaviour = "status:404" },
  { start = "2025-04-01T02:00:00+02:00", behaviour = "closed" },
]

[[destination]]
name = "bravo"
threat_id = "DEMO-B"
address = "127.77.0.2"
port = 8443
scheme = "https"
behaviour = "rate:0.4:status:200"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_a_good_scenario(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, GOOD))
    assert (scenario.seed, scenario.slot_seconds, len(scenario)) == (7, 3600, 2)
    alpha, bravo = scenario.destinations
    assert alpha.reported_on == date(2025, 2, 1) and alpha.ping_mode.loss == 50
    assert [step[1] for step in alpha.timeline] == ["status:200", "status:404", "closed"]
    assert alpha.timeline[2][0] == datetime(2025, 4, 1, tzinfo=UTC)
    assert alpha.behaviour_at(datetime(2025, 3, 15, tzinfo=UTC)).code == 404
    assert bravo.scheme == "https" and bravo.path == "/" and bravo.timeline == ((None, "rate:0.4:status:200"),)


BASE = """
[[destination]]
name = "alpha"
threat_id = "DEMO-A"
address = "127.77.0.1"
port = 8080
"""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('behaviour = "status:200"\nscheme = "ftp"', "destination[0].scheme"),
        ('behaviour = "bogus"', "destination[0].behaviour"),
        ('timeline = [{ behaviour = "status:200" }, { start = 2025-01-01T00:00:00Z, behaviour = "nope" }]',
         "destination[0].timeline[1].behaviour"),
        ('timeline = [{ start = 2025-01-01T00:00:00, behaviour = "tarpit" }]', "destination[0].timeline[0].start"),
        ('timeline = [{ start = "yesterday", behaviour = "tarpit" }]', "destination[0].timeline[0].start"),
        ('timeline = [{ behaviour = "tarpit", when = 1 }]', "destination[0].timeline[0].when"),
        ('timeline = "status:200"', "destination[0].timeline"),
        ('behaviour = "tarpit"\ntimeline = [{ behaviour = "tarpit" }]', "destination[0].timeline"),
        ("", "destination[0].timeline"),
        ('behaviour = "tarpit"\nping = "sometimes"', "destination[0].ping"),
        ('behaviour = "tarpit"\nreported_on = "May 1st"', "destination[0].reported_on"),
        ('behaviour = "tarpit"\ncolour = "red"', "destination[0].colour"),
        ('behaviour = "tarpit"\npath = 5', "destination[0].path"),
    ],
)  # fmt: skip
def test_bad_fields_are_named(tmp_path: Path, body: str, field: str) -> None:
    path = write(tmp_path, BASE + body + "\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == field
    assert str(info.value).startswith(f"{path}: {field}: ")
    assert isinstance(info.value, InputError)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('port = 8080', 'port = "8080"', "destination[0].port"),
        ('address = "127.77.0.1"', 'address = "10.0.0.1"', "destination[0].address"),
        ('address = "127.77.0.1"', 'address = "c2.example.com"', "destination[0].address"),
        ('name = "alpha"\n', "", "destination[0].name"),
        ('threat_id = "DEMO-A"', "threat_id = 3", "destination[0].threat_id"),
    ],
)  # fmt: skip
def test_bad_values_are_named(tmp_path: Path, old: str, new: str, field: str) -> None:
    path = write(tmp_path, (BASE + 'behaviour = "tarpit"\n').replace(old, new))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("text", "field"),
    [("seed = 1.5\n", "seed"), ("slot_seconds = 0\n", "slot_seconds"), ("flavour = 1\n", "flavour"),
     ("destination = 3\n", "destination")],
)  # fmt: skip
def test_bad_top_level_keys_are_named(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.field == field


def test_duplicate_names_are_reported_with_their_index(tmp_path: Path) -> None:
    text = BASE + 'behaviour = "tarpit"\n' + BASE.replace("8080", "8081") + 'behaviour = "tarpit"\n'
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, text))
    assert info.value.field == "destination[1].name"


def test_unreadable_or_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "[[destination]\n"))


def test_empty_file_is_an_empty_scenario(tmp_path: Path) -> None:
    assert len(load_scenario(write(tmp_path, ""))) == 0
