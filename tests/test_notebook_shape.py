"""Notebooks are for people: short text cells and short set-up cells, so that reading stays one idea at a
time and read-only code lives in the library under names a learner can look up."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import ROOT

NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
MAX_WORDS, MAX_SETUP_LINES = 300, 25


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_text_cells_are_short(path):
    cells = json.loads(path.read_text())["cells"]
    long = [(n, len("".join(c["source"]).split())) for n, c in enumerate(cells) if c["cell_type"] == "markdown"
            and len("".join(c["source"]).split()) > MAX_WORDS]
    assert not long, f"{path.name}: text cells over {MAX_WORDS} words (cell index, words): {long}; split them by idea"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_set_up_cell_is_short(path):
    cells = json.loads(path.read_text())["cells"]
    setups = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).lstrip().startswith("# Set-up")]
    graded = any(c.get("metadata", {}).get("nbgrader", {}).get("grade") for c in cells)
    assert setups or not graded, f"{path.name}: no set-up cell (a code cell starting '# Set-up')"
    for cell in setups:
        lines = len("".join(cell["source"]).splitlines())
        assert lines <= MAX_SETUP_LINES, f"{path.name}: a set-up cell of {lines} lines; move read-only code into momlab"
