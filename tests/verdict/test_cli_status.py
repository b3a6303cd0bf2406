"""``c2watch status``, ``c2watch events`` and ``c2watch export blocklist`` on a store seeded around the real now."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from c2watch.cli import cli
from c2watch.config import load_settings
from c2watch.errors import ConfigError
from c2watch.store import open_store
from tests.verdict.world import World

TOML = """
[verdict]
alive_hours = 8.0
dead_days = 2.0
min_silent_cycles = 3
"""


def run(*args: str, code: int = 0) -> Result:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def seeded(home: Path) -> Path:
    """alive (200 → 404 one slot ago), dead (silent for 3 days), never-seen; around the real clock."""
    run("init")
    (home / "c2watch.toml").write_text(TOML, encoding="utf-8")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    store = open_store(home / "c2watch.db")
    world = World(store)
    world.target("alive", threat="TID-A", ip="198.51.100.1", url="http://198.51.100.1/g.php", port=80)
    world.target("dead", threat="TID-B", domain="dead.c2.example", port=80)
    world.target("never", threat="TID-B", ip="198.51.100.3", port=80)

    def ago(hours: float) -> dt.datetime:
        return now - dt.timedelta(hours=hours)

    world.add(world.row("alive", "tokyo", ago(8), status=200), world.row("alive", "tokyo", ago(4), status=404))
    world.add(
        world.row("dead", "tokyo", ago(80), status=200), *(world.row("dead", "tokyo", ago(h)) for h in (60, 30, 4))
    )
    world.add(world.row("never", "tokyo", ago(4)), world.row("never", "tokyo", ago(8)))
    store.close()
    return home


def test_status_table_and_json(seeded: Path) -> None:
    table = run("status").stdout
    assert "alive" in table and "dead" in table and "never-seen" in table
    data = json.loads(run("status", "--json").stdout)
    statuses = {v["destination"]: v["status"] for v in data["verdicts"]}
    assert statuses == {
        "http://198.51.100.1/g.php": "alive",
        "dead.c2.example:80": "dead",
        "198.51.100.3:80": "never-seen",
    }
    assert data["rules"]["alive_hours"] == 8.0 and data["zone"] == "Asia/Tokyo"
    alive = next(v for v in data["verdicts"] if v["status"] == "alive")
    assert alive["observers"][0]["last_http_status"] == 404 and alive["last_answer_at"].endswith("+09:00")
    only_b = json.loads(run("status", "--threat", "TID-B", "--json", "--no-refresh").stdout)
    assert sorted(v["status"] for v in only_b["verdicts"]) == ["dead", "never-seen"]
    assert "unknown threat ID 'NOPE'" in run("status", "--threat", "NOPE", code=2).stderr


def test_events_list(seeded: Path) -> None:
    data = json.loads(run("events", "--json").stdout)
    assert sorted(e["kind"] for e in data["events"]) == ["dead", "status-changed"]
    assert json.loads(run("events", "--json", "--kind", "dead").stdout)["events"][0]["threat_id"] == "TID-B"
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [e["kind"] for e in json.loads(run("events", "--json", "--since", since).stdout)["events"]] == [
        "status-changed"
    ]
    assert "HTTP status 200 → 404" in run("events").stdout


def test_export_blocklist(seeded: Path, tmp_path: Path) -> None:
    assert run("export", "blocklist").stdout.splitlines() == [
        "198.51.100.1",
        "198.51.100.3",
        "http://198.51.100.1/g.php",
    ]
    [line] = run("export", "blocklist", "--removable").stdout.splitlines()
    assert line.startswith("dead.c2.example  # dead: no answer")
    assert run("export", "blocklist", "--keep", "alive", "--kind", "ip").stdout.splitlines() == ["198.51.100.1"]
    out = tmp_path / "deny.json"
    result = run("export", "blocklist", "--format", "stix", "-o", str(out))
    assert "3 kept values written" in result.stderr
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert sum(o["type"] == "indicator" for o in bundle["objects"]) == 3
    assert "unknown status zombie" in run("export", "blocklist", "--keep", "zombie", code=2).stderr
    assert "unknown kind mac" in run("export", "blocklist", "--kind", "mac", code=2).stderr
    csv_text = run("export", "blocklist", "--format", "csv", "--removable").stdout
    assert csv_text.splitlines()[0] == "kind,value,advice,statuses,threat_ids,last_answer_at,valid_until,reason,note"


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_events_deliver_sends_to_the_webhooks(home: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run("init")
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        (home / "c2watch.toml").write_text(TOML + f'[alerts]\nwebhooks = ["{url}"]\n', encoding="utf-8")
        store = open_store(home / "c2watch.db")
        world = World(store)
        world.target("a", threat="TID-A")
        now = dt.datetime.now(dt.UTC)
        world.add(world.row("a", "tokyo", now - dt.timedelta(hours=2), status=200))
        world.add(world.row("a", "tokyo", now - dt.timedelta(hours=1), status=500))
        store.close()
        result = run("events", "--deliver", "--json")
        assert "'delivered': 1" in result.stderr
        assert [e["subject"] for e in Hook.received] == ["200→500"]
        assert "'delivered': 0" in run("events", "--deliver").stderr
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[alerts]\nwebhooks = ["ftp://x/"]\n', "alerts.webhooks"),
        ('[verdict]\nanswer_probes = ["smtp"]\n', "verdict.answer_probes"),
        ("[verdict]\ndead_days = 0\n", "verdict.dead_days"),
        ("[schedule]\nstagger_seconds = -1\n", "schedule.stagger_seconds"),
    ],
)
def test_bad_verdict_and_alert_settings_name_the_key(home: Path, text: str, key: str) -> None:
    home.mkdir(parents=True)
    (home / "c2watch.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_settings(home)
