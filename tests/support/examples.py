"""The public MOM examples (tests/data/mom-examples, copied from the course's shared folder)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.paths import EXAMPLES


def load_example(name: str):
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def complete_examples() -> list[Path]:
    """Every example that is a whole JSON-RPC request (it has a `jsonrpc` member)."""
    return [path for path in sorted(EXAMPLES.glob("*.json")) if "jsonrpc" in load_example(path.name)]


def templates() -> list[Path]:
    return sorted(EXAMPLES.glob("*.params-template.json"))
