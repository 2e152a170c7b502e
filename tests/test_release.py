"""The committed release notebooks carry what momlab.course.release adds: each exercise cell (answer or
test, with code) is tagged raises-exception, so JupyterLab's Run All goes past it; no other cell is.
That Run All on the untouched release then errs only in those cells (never a NameError) is checked in
the browser, in JupyterLab itself: tests/test_browser.py."""

from __future__ import annotations

import nbformat
import pytest

from momlab.course.progress import has_exercises
from momlab.course.release import TAG, is_exercise
from tests.support.paths import ROOT

RELEASES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))


def test_there_are_releases():
    assert len(RELEASES) >= 13


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.name)
def test_exactly_the_exercise_cells_are_tagged(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [i for i, cell in enumerate(notebook.cells) if TAG in cell.metadata.get("tags", [])]
    exercises = [i for i, cell in enumerate(notebook.cells) if is_exercise(cell)]
    reading = not has_exercises(ROOT / "solutions" / path.parent.name / path.name)  # the answer sheet: nothing to tag
    assert exercises or reading, f"{path.name} has no exercise cell"
    assert tagged == exercises
