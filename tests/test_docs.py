"""The docs cannot drift: every setting and every probe kind is documented, the CLI reference is current."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from pydantic import BaseModel

import c2watch
from c2watch.config import Settings
from c2watch.models.rows import FIELD_COLUMNS
from c2watch.probes import PROBES
from c2watch.store.tables import observations

DOCS = Path(__file__).parent.parent / "docs"


def setting_keys() -> list[str]:
    keys = []
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        keys += [f"{section}.{name}" for name in model.model_fields]
    return keys


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key in setting_keys() if f"`{key}`" not in text]
    assert missing == []


def test_every_probe_kind_is_documented() -> None:
    text = (DOCS / "observer.md").read_text(encoding="utf-8")
    assert [kind for kind in PROBES if f"`{kind}`" not in text] == []


def test_cli_reference_is_current() -> None:
    generated = subprocess.run(
        [sys.executable, "scripts/gen-cli-docs.py"], capture_output=True, text=True, check=True, cwd=DOCS.parent
    ).stdout
    current = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert generated == current, "run: python scripts/gen-cli-docs.py > docs/cli.md"


def test_architecture_page_matches_the_layer_contract() -> None:
    """docs/architecture.md lists the layers of the import-linter contract, in order, and every package is in one."""
    config = tomllib.loads((DOCS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    [contract] = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    layers = [
        sorted(name.strip().removeprefix("c2watch.") for name in layer.split("|")) for layer in contract["layers"]
    ]
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| (.+?) \|", text, re.MULTILINE)
    assert [sorted(re.findall(r"`(\w+)`", packages)) for _, packages in rows] == layers
    root = Path(c2watch.__file__).parent
    children = {p.stem for p in root.glob("*.py") if p.stem not in {"__init__", "__main__"}}
    children |= {p.parent.name for p in root.glob("*/__init__.py")}
    assert children == {name for layer in layers for name in layer}


def test_every_fitted_column_is_documented_with_its_bound() -> None:
    text = (DOCS / "observer.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "`" in line]
    for column in set(FIELD_COLUMNS.values()):
        [row] = [line for line in rows if f"`{column}`" in line]
        length = getattr(observations.c[column].type, "length", None)
        assert str(length) in row if length else ("integer" in row or "float" in row), column
