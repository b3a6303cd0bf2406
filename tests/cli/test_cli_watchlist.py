"""The watchlist commands as a user runs them, on SQLite and PostgreSQL: good files, bad files, store unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.cli import Invoke, as_json

HEADER = "threat_id,ip,domain,url,port,reported_on,malware_sha256,file_type,summary\n"
GOOD = (
    HEADER
    + "TID-A,198.51.100.7,,,80,2020-10-01,,,first\n"
    + "TID-A,,c2.bad.example,,443,2020-10-01,,,second\n"
    + "TID-B,,,hxxp://gate.bad[.]example/a.php,,2021-02-01,,,defanged\n"
)


def write(tmp_path: Path, text: str | bytes, name: str = "list.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def listing(invoke: Invoke) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = as_json(invoke("watchlist", "list", "--all", "--json"))
    return rows


def test_import_list_and_threats(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("watchlist", "import", str(write(tmp_path, GOOD)), "--json")
    assert as_json(result)["added"] == 3
    rows = listing(invoke)
    assert {r["url"] for r in rows} == {None, "http://gate.bad.example/a.php"}
    threats = as_json(invoke("threats", "list", "--json"))
    assert [(t["threat_id"], t["active_targets"]) for t in threats] == [("TID-A", 2), ("TID-B", 1)]
    assert [r["threat_id"] for r in as_json(invoke("watchlist", "list", "--threat", "TID-B", "--json"))] == ["TID-B"]


def test_reimport_changes_nothing_and_dropped_rows_retire(invoke: Invoke, tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    invoke("watchlist", "import", str(path))
    again = as_json(invoke("watchlist", "import", str(path), "--json"))
    assert (again["added"], again["unchanged"]) == (0, 3)
    write(tmp_path, GOOD.rsplit("TID-B", 1)[0])
    dropped = as_json(invoke("watchlist", "import", str(path), "--json"))
    assert dropped["retired"] == 1
    assert len(as_json(invoke("watchlist", "list", "--json"))) == 2
    assert len(listing(invoke)) == 3


BAD_CASES = {
    "wrong header": ("threat,address\nTID-A,198.51.100.7\n", ["line 1"]),
    "unknown column": (HEADER.strip() + ",colour\nTID-A,198.51.100.7,,,80,,,,,red\n", ["colour"]),
    "bad ip": (HEADER + "TID-A,198.51.100.999,,,80,,,,\n", ["line 2", "ip"]),
    "bad port": (HEADER + "TID-A,198.51.100.7,,,70000,,,,\n", ["line 2", "port"]),
    "bad date": (HEADER + "TID-A,198.51.100.7,,,80,2020-13-45,,,\n", ["line 2", "reported_on"]),
    "no destination": (HEADER + "TID-A,,,,80,,,,\n", ["line 2"]),
    "empty file": ("", ["empty"]),
    "binary": (b"\x00\x01\x02PK\x03\x04" * 50, ["binary"]),
    "long line": (HEADER + "TID-A,198.51.100.7,,,80,,,,\n" + "TID-A," + "x" * 10_000_000 + "\n", ["line 3"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_is_refused_and_store_unchanged(invoke: Invoke, tmp_path: Path, case: str) -> None:
    invoke("watchlist", "import", str(write(tmp_path, GOOD, "before.csv")))
    before = listing(invoke)
    text, expected = BAD_CASES[case]
    path = write(tmp_path, text)
    result = invoke("watchlist", "import", str(path), ok=False)
    assert result.exit_code == 2
    assert str(path) in result.stderr
    for fragment in expected:
        assert fragment in result.stderr
    assert listing(invoke) == before


def test_every_bad_line_is_listed(invoke: Invoke, tmp_path: Path) -> None:
    text = HEADER + "TID-A,bad-ip,,,80,,,,\nTID-A,198.51.100.7,,,80,,,,\nTID-A,198.51.100.8,,,0,,,,\nTID-A,,,,,,,,\n"
    result = invoke("watchlist", "import", str(write(tmp_path, text)), ok=False)
    for line in ("line 2", "line 4", "line 5"):
        assert line in result.stderr
    assert "line 3" not in result.stderr
    assert listing(invoke) == []


def test_skip_invalid_keeps_good_rows_and_lists_bad(invoke: Invoke, tmp_path: Path) -> None:
    text = HEADER + "TID-A,bad-ip,,,80,,,,\nTID-A,198.51.100.7,,,80,,,,\n"
    result = invoke("watchlist", "import", str(write(tmp_path, text)), "--skip-invalid", "--json")
    report = as_json(result)
    assert report["added"] == 1 and [s["line"] for s in report["skipped"]] == [2]
    assert [r["ip"] for r in listing(invoke)] == ["198.51.100.7"]


def test_dry_run_stores_nothing(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("watchlist", "import", str(write(tmp_path, GOOD)), "--dry-run")
    assert "would import" in result.stdout and "3 added" in result.stdout
    assert listing(invoke) == []


def test_bom_crlf_and_shift_jis_are_read(invoke: Invoke, tmp_path: Path) -> None:
    bom = write(tmp_path, ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8"), "bom.csv")
    assert as_json(invoke("watchlist", "import", str(bom), "--json"))["added"] == 3
    sjis_text = HEADER + "TID-J,203.0.113.5,,,80,2021-03-01,,,遠隔操作サーバ\n"
    sjis = write(tmp_path, sjis_text.encode("shift_jis"), "sjis.csv")
    report = as_json(invoke("watchlist", "import", str(sjis), "--json"))
    assert report["encoding"] == "cp932"
    summaries = [r["extra"] for r in as_json(invoke("watchlist", "list", "--threat", "TID-J", "--json"))]
    assert summaries[0]["summary"] == "遠隔操作サーバ"


def test_c2lemon_format(invoke: Invoke, tmp_path: Path) -> None:
    text = (
        "1,,#uid,#ip,#domain,#url,#port,#date,#report-date,#note,#hash,#file type\n"
        "2,,A,198.51.100.9,,,80,2020-10-01,2020-10-02,note,,exe\n"
    )
    report = as_json(invoke("watchlist", "import", str(write(tmp_path, text)), "--json"))
    assert report["format"] == "c2lemon" and report["added"] == 1


def test_values_longer_than_the_store_columns_are_line_errors(invoke: Invoke, tmp_path: Path) -> None:
    long_threat = "T" * 201
    long_url = "http://c2.bad.example/" + "a" * 2100
    text = HEADER + f"{long_threat},198.51.100.7,,,80,,,,\nTID-A,,,{long_url},,,,,\n"
    result = invoke("watchlist", "import", str(write(tmp_path, text)), ok=False)
    assert result.exit_code == 2
    assert "line 2" in result.stderr and "threat id is 201 characters" in result.stderr
    assert "line 3" in result.stderr and "URL is" in result.stderr
    assert listing(invoke) == []
