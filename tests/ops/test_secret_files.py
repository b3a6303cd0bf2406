"""Files holding a secret: created 0600 from the start (even under umask 0), and a warning (log and doctor) when
group or others may read one."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from c2watch.cli import cli
from c2watch.home import Home, exposed_secret_files, write_private

SECRET_CONFIG = (
    '[dns]\nnameservers = ["127.0.0.1"]\nport = 9\ntimeout = 0.2\n'  # doctor asks nothing beyond loopback
    '[hub]\nurl = "http://127.0.0.1:9/api/"\ntoken = "c2w_0123456789abcdef_s3cret"\ntimeout = 1\n'
)


@pytest.fixture
def no_umask() -> Iterator[None]:
    """umask 0: a file gets exactly the mode it is created with (0666 for a plain open)."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_the_config_0600_from_the_start(home: Path, no_umask: None) -> None:
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    assert mode(home / "c2watch.toml") == 0o600


def test_write_private_never_overwrites(tmp_path: Path, no_umask: None) -> None:
    path = tmp_path / "secret.key"
    write_private(path, "one")
    assert mode(path) == 0o600 and path.read_text() == "one"
    with pytest.raises(FileExistsError):
        write_private(path, "two")
    assert path.read_text() == "one"


def test_a_readable_secret_file_is_logged_and_flagged_by_doctor(home: Path, caplog: pytest.LogCaptureFixture) -> None:
    home.mkdir(parents=True)
    config = home / "c2watch.toml"
    config.write_text(SECRET_CONFIG, encoding="utf-8")
    config.chmod(0o644)
    key = home / "observer.key"
    write_private(key, "-----BEGIN PRIVATE KEY-----\n")
    with caplog.at_level(logging.WARNING, logger="c2watch.home"):
        settings = Home(home).settings()
    assert [r.getMessage() for r in caplog.records] == [
        f"{config} holds a secret and is readable by others (mode 644): chmod 600 it"
    ]
    assert exposed_secret_files(home, settings) == [(config, 0o644)]
    key.chmod(0o640)
    assert exposed_secret_files(home, settings) == [(config, 0o644), (key, 0o640)]
    result = CliRunner().invoke(cli, ["doctor", "--json"])
    secrets = {c["name"]: c for c in json.loads(result.stdout)}["secrets"]
    assert secrets["level"] == "warn" and str(key) in secrets["message"]
    assert secrets["fix"] == f"chmod 600 {config} {key}"
    config.chmod(0o600)
    key.chmod(0o600)
    assert exposed_secret_files(home, settings) == []


def test_a_config_without_secrets_may_be_readable(home: Path) -> None:
    home.mkdir(parents=True)
    config = home / "c2watch.toml"
    config.write_text('[observer]\nname = "tokyo-01"\n', encoding="utf-8")
    config.chmod(0o644)
    assert exposed_secret_files(home, Home(home).settings()) == []
    config.write_text('[alerts]\nwebhooks = ["https://user:pw@hooks.example/in"]\n', encoding="utf-8")
    assert exposed_secret_files(home, Home(home).settings()) == [(config, 0o644)]
