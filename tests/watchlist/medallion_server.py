"""A real medallion (the OASIS reference TAXII 2.1 server) on 127.0.0.1, in a child process, for the pull tests.

Its memory backend serves the objects of ``feeds/stix_bundle.json`` in the shape of medallion's own
``default_data.json`` (discovery, one API root, a readable watchlist collection, an unreadable one), with
``max_page_size`` as asked, and HTTP Basic users. The child binds a free port and prints it; the fixture reads
that line, so the server is listening before any test uses it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

BUNDLE = Path(__file__).parent / "feeds" / "stix_bundle.json"
WATCHLIST = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
SECRET = "64993447-4d7e-4f70-b94d-d7f33742ee63"
USER, PASSWORD = "reader", "loopback-password"
STIX = "application/stix+json;version=2.1"
TAXII = "application/taxii+json;version=2.1"

_SERVE = """
import sys
from medallion import load_app
from werkzeug.serving import make_server
server = make_server("127.0.0.1", 0, load_app(sys.argv[1]), threaded=True)
print(server.server_port, flush=True)
server.serve_forever()
"""


@dataclass(frozen=True)
class Medallion:
    base: str

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    @property
    def api_root(self) -> str:
        return f"{self.base}/trustgroup1/"

    def add(self, objects: list[dict[str, Any]]) -> None:
        """POST ``objects`` to the watchlist collection (medallion stamps them with the current date_added)."""
        response = requests.post(
            f"{self.api_root}collections/{WATCHLIST}/objects/",
            json={"objects": objects},
            auth=(USER, PASSWORD),
            headers={"Accept": TAXII, "Content-Type": TAXII},
            timeout=10,
        )
        response.raise_for_status()

    def delete(self, object_id: str) -> None:
        """DELETE every version of ``object_id`` from the watchlist collection."""
        response = requests.delete(
            f"{self.api_root}collections/{WATCHLIST}/objects/{object_id}/",
            auth=(USER, PASSWORD),
            headers={"Accept": TAXII},
            timeout=10,
        )
        response.raise_for_status()


def _collection(ident: str, title: str, objects: list[dict[str, Any]], can_read: bool) -> dict[str, Any]:
    manifest = [
        {"id": obj["id"], "date_added": obj["modified"], "version": obj["modified"], "media_type": STIX}
        for obj in objects
    ]
    return {
        "id": ident,
        "title": title,
        "can_read": can_read,
        "can_write": True,
        "media_types": [STIX],
        "objects": objects,
        "manifest": manifest,
    }


def data(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """medallion's memory-backend document serving ``objects`` in the watchlist collection."""
    info = {"title": "Loopback trust group", "versions": [TAXII], "max_content_length": 9_765_625}
    return {
        "/discovery": {"title": "Loopback medallion", "default": "/trustgroup1/", "api_roots": ["/trustgroup1/"]},
        "trustgroup1": {
            "information": info,
            "status": [],
            "collections": [
                _collection(WATCHLIST, "watchlist", objects, can_read=True),
                _collection(SECRET, "secret", [], can_read=False),
            ],
        },
    }


@contextmanager
def running(folder: Path, max_page_size: int, objects: list[dict[str, Any]] | None = None) -> Iterator[Medallion]:
    """medallion serving ``objects`` (default: the test bundle's) until the block ends."""
    served = objects if objects is not None else json.loads(BUNDLE.read_text())["objects"]
    (folder / "data.json").write_text(json.dumps(data(served)))
    config = {
        "backend": {"module_class": "MemoryBackend", "module": "medallion.backends.memory_backend"},
        "users": {USER: PASSWORD},
        "taxii": {"max_page_size": max_page_size},
    }
    config["backend"]["filename"] = str(folder / "data.json")
    (folder / "config.json").write_text(json.dumps(config))
    child = subprocess.Popen(
        [sys.executable, "-c", _SERVE, str(folder / "config.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = child.stdout.readline().strip()
        assert port.isdigit(), "medallion did not start"
        yield Medallion(f"http://127.0.0.1:{port}")
    finally:
        child.terminate()
        child.wait(timeout=10)
        if child.stdout is not None:
            child.stdout.close()
