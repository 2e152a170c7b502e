"""Each lab states the time the written-down model gives (momlab.course.timing), and so does the README."""

from __future__ import annotations

import json
import re

import pytest

from momlab.course import timing
from tests.support.paths import ROOT

NOTEBOOKS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_notebook_states_the_models_time(path):
    estimate = timing.estimate(path)
    assert estimate.stated == estimate.rounded, (
        f"{path.name} says about {estimate.stated} minutes, the model gives {estimate.rounded}: "
        "run `python -m momlab.course.timing --write`, then `make release`")


def test_the_readme_table_shows_each_labs_time():
    readme = (ROOT / "README.md").read_text()
    for lab in sorted(p for p in (ROOT / "solutions").iterdir() if p.is_dir()):
        hours, minutes = divmod(timing.lab_minutes(lab), 60)
        shown = f"{hours} h {minutes:02d}" if hours else f"{minutes} min"
        assert re.search(rf"^\| `{re.escape(lab.name)}` \|[^|]*\|[^|]*\| {shown} \|", readme, re.M), f"README: {lab.name} should say {shown}"


def test_the_model_counts_reading_running_questions_and_exercises(tmp_path):
    def cell(kind, text, **grader):
        meta = {"nbgrader": grader} if grader else {}
        return {"cell_type": kind, "metadata": meta, "source": [text]}

    notebook = {"cells": [
        cell("markdown", "# Lab · about 5 minutes\n" + "word " * 300),
        cell("code", "x = 1\n# a comment\ny = 2\n"),
        cell("code", "### BEGIN SOLUTION\nanswers = {'a': 'b', 'c': 'd'}\n### END SOLUTION", solution=True, grade=False),
        cell("code", 'grading.answered("answers")\n', grade=True, points=2),
        cell("code", "def f():\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION", solution=True, grade=False),
        cell("code", "grading.check(f() is None, 'x')", grade=True, points=3),
    ]}
    path = tmp_path / "lab.ipynb"
    path.write_text(json.dumps(notebook))
    estimate = timing.estimate(path)
    assert (estimate.words, estimate.code_cells, estimate.code_lines, estimate.questions, estimate.exercise_points, estimate.stated) == \
        (306, 1, 2, 2, 3.0, 5)
    expected = 306 / timing.READING_WPM + timing.RUN_MINUTES + 2 / timing.CODE_LINES_PER_MINUTE \
        + 2 * timing.CHECK_MINUTES + 3 * timing.MINUTES_PER_POINT
    assert estimate.minutes == pytest.approx(expected)
    assert timing.write(path) and timing.estimate(path).stated == estimate.rounded == 30
    assert not timing.write(path)
