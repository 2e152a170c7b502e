"""Where the repository and the tests' reference files are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
EXAMPLES = DATA / "mom-examples"
OBJECTIVES_FILE = DATA / "EXAM_OBJECTIVES.md"
