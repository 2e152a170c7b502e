"""momlab.grading: checks for test cells, and proof that failing hidden tests leak no source into feedback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from momlab import grading

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import nbcells as nb  # noqa: E402
from test_course import run_nbgrader  # noqa: E402


def test_check_passes_and_fails_with_its_message():
    grading.check(True, "unused")
    with pytest.raises(grading.CheckFailed, match="say what to fix"):
        grading.check(0, "say what to fix")


def test_failed_check_renders_only_its_message():
    lines = grading.CheckFailed("the id is missing")._render_traceback_()
    assert len(lines) == 1 and "the id is missing" in lines[0]


def test_hidden_turns_any_error_into_a_labelled_check():
    with pytest.raises(grading.CheckFailed, match=r"ex1: your code raised KeyError: 'sku'"):
        with grading.hidden("ex1"):
            {}["sku"]
    with pytest.raises(grading.CheckFailed, match="ex1: too small") as caught:
        with grading.hidden("ex1"):
            grading.check(False, "too small")
    assert caught.value.__suppress_context__


def test_answer_hash_is_salted_and_normalised():
    assert grading.answer_hash(" b ", "q1") == grading.answer_hash("b", "q1")
    assert grading.answer_hash("b", "q1") != grading.answer_hash("b", "q2")
    assert grading.answer_hash({"c", "a"}, "q") == grading.answer_hash({"a", "c"}, "q")
    assert grading.answer_hash(["a", "c"], "q") != grading.answer_hash(["c", "a"], "q")
    assert grading.answer_hash({"x": 1, "y": 2}, "q") == grading.answer_hash({"y": 2, "x": 1}, "q")


def test_check_answer_accepts_the_right_answer_only():
    expected = grading.answer_hash("b", "salt")
    grading.check_answer("b", "salt", expected, "hint")
    grading.check_answer("b", "salt", [grading.answer_hash("a", "salt"), expected], "hint")
    with pytest.raises(grading.CheckFailed, match="re-read 1.1"):
        grading.check_answer("c", "salt", expected, "re-read 1.1")


HIDDEN_SECRET = "a_hidden_value_nobody_should_see = 424242"


def test_feedback_of_failing_hidden_tests_quotes_no_hidden_source(tmp_path):
    """A synthetic lab whose hidden tests fail in every way they can: a check, an error inside
    grading.hidden, and a bare error outside it. The feedback must show none of their lines."""
    lab = "99-leak-check"
    cells = [
        nb.md("# leak check"),
        nb.setup("from momlab import grading\ngrading.setup()"),
        nb.answer("ans", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        nb.tests("t_check", f"grading.check(f() == 1, 'f must return 1')\n### BEGIN HIDDEN TESTS\n{HIDDEN_SECRET}\nwith grading.hidden('h1'):\n    grading.check(f() == a_hidden_value_nobody_should_see, 'hidden check failed')\n### END HIDDEN TESTS", points=1),
        nb.tests("t_error", f"### BEGIN HIDDEN TESTS\n{HIDDEN_SECRET}\nwith grading.hidden('h2'):\n    f()['no such key']\n### END HIDDEN TESTS", points=1),
        nb.tests("t_bare", f"### BEGIN HIDDEN TESTS\n{HIDDEN_SECRET}\nassert f() == a_hidden_value_nobody_should_see, 'bare assert'\n### END HIDDEN TESTS", points=1),
    ]
    nb.write(nb.notebook(cells), tmp_path / "solutions" / lab / f"{lab}.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    assert run_nbgrader(tmp_path, "generate_assignment", lab, "--force").returncode == 0
    submitted = tmp_path / "submitted" / "someone" / lab
    submitted.mkdir(parents=True)
    shutil.copy(tmp_path / "solutions" / lab / f"{lab}.ipynb", submitted)  # passes visible tests, fails every hidden one
    result = run_nbgrader(tmp_path, "autograde", lab, "--force")
    assert result.returncode == 0, result.stderr[-2000:]
    assert run_nbgrader(tmp_path, "generate_feedback", lab, "--force").returncode == 0
    page = (tmp_path / "feedback" / "someone" / lab / f"{lab}.html").read_text()
    assert "hidden check failed" in page and "h2: your code raised TypeError" in page  # the failures are reported...
    assert "a_hidden_value_nobody_should_see" not in page and "424242" not in page  # ...without their source
    assert "BEGIN HIDDEN" not in page
