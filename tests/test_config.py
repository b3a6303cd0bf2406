"""Settings: defaults, TOML, environment overrides, and bad values refused with the key named."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.config import Settings, load_settings
from c2watch.errors import ConfigError
from c2watch.home import Home


def write_config(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "c2watch.toml").write_text(text, encoding="utf-8")


def test_defaults_without_a_file(home: Path) -> None:
    settings = load_settings(home)
    assert settings.schedule.interval_minutes == 240 and settings.schedule.anchor == "00:00:00"
    assert settings.schedule.zone == "Asia/Tokyo" and settings.icmp.count == 4
    assert settings.safety.allow_networks == [] and settings.http.accept_encoding == "gzip, deflate"


def test_toml_then_environment(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home, '[icmp]\ncount = 3\n[safety]\nallow_networks = ["127.0.0.1/8"]\n')
    settings = load_settings(home)
    assert settings.icmp.count == 3 and settings.safety.allow_networks == ["127.0.0.0/8"]
    monkeypatch.setenv("C2WATCH_ICMP__COUNT", "7")
    assert load_settings(home).icmp.count == 7


def test_the_hub_url_is_one_url_or_a_list_of_replicas(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(home).hub.urls == ()
    write_config(home, '[hub]\nurl = ["https://hub-1.example/api/", " https://hub-2.example/api/", ""]\n')
    assert load_settings(home).hub.urls == ("https://hub-1.example/api/", "https://hub-2.example/api/")
    monkeypatch.setenv("C2WATCH_HUB__URL", "https://hub.example/taxii2/")
    assert load_settings(home).hub.urls == ("https://hub.example/taxii2/",)


BAD = {
    "unknown key": ("[icmp]\ncolour = 1\n", "icmp.colour"),
    "unknown section": ("[probing]\nx = 1\n", "probing"),
    "negative count": ("[icmp]\ncount = -1\n", "icmp.count"),
    "unknown probe kind": ('[cycle]\nprobes = ["icmp", "smtp"]\n', "cycle.probes"),
    "bad zone": ('[schedule]\nzone = "Mars/Olympus"\n', "schedule.zone"),
    "bad anchor": ('[schedule]\nanchor = "25:00:00"\n', "schedule.anchor"),
    "bad network": ('[safety]\nallow_networks = ["127.0.0.0/33"]\n', "safety.allow_networks"),
    "zero timeout": ("[http]\ntotal_timeout = 0\n", "http.total_timeout"),
    "toml syntax": ("[icmp\n", "c2watch.toml"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_names_the_key(home: Path, case: str) -> None:
    text, key = BAD[case]
    write_config(home, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(home)
    assert key in str(caught.value) and "c2watch.toml" in str(caught.value)


def test_bad_environment_value_names_the_key(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C2WATCH_CYCLE__CONCURRENCY", "-5")
    with pytest.raises(ConfigError, match=r"cycle\.concurrency"):
        load_settings(home)


def test_cli_reports_config_error_with_exit_code(home: Path) -> None:
    write_config(home, "[icmp]\ncount = -1\n")
    result = CliRunner().invoke(cli, ["threats", "list"])
    assert result.exit_code == 2 and "icmp.count" in result.stderr


def test_init_creates_config_and_store_and_is_idempotent(home: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["init"])
    assert first.exit_code == 0, first.output
    assert (home / "c2watch.toml").exists() and (home / "c2watch.db").exists()
    assert "created" in first.stdout
    config_before = (home / "c2watch.toml").read_text()
    second = runner.invoke(cli, ["init"])
    assert second.exit_code == 0 and "created" not in second.stdout
    assert (home / "c2watch.toml").read_text() == config_before
    assert load_settings(home) == Settings()


def test_written_default_config_round_trips(home: Path) -> None:
    Home(home).init()
    assert "[safety]" in (home / "c2watch.toml").read_text()
    assert load_settings(home) == Settings()
