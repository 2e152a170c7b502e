"""momlab.course.grading: checks for test cells, and proof that failing hidden tests leak no source into feedback."""

from __future__ import annotations

import shutil
import sys

import nbformat
import pytest

from momlab.course import grading
from tests.support.paths import ROOT

sys.path.insert(0, str(ROOT / "tools"))

import nbcells as nb  # noqa: E402

from tests.support.nbgrader import run_nbgrader  # noqa: E402


def test_check_passes_and_fails_with_its_message():
    grading.check(True, "unused")
    with pytest.raises(grading.CheckFailed, match="say what to fix"):
        grading.check(0, "say what to fix")


def test_answered_names_the_answers_still_missing(monkeypatch):
    import __main__

    monkeypatch.setattr(__main__, "given", 1, raising=False)
    grading.answered("given")  # no IPython here: the running script's globals are the learner's
    with pytest.raises(grading.CheckFailed, match="`missing_one` is not defined yet: write your answer in the cell above"):
        grading.answered("given", "missing_one")
    with pytest.raises(grading.CheckFailed, match="`a_x`, `b_x` and `c_x` are not defined yet"):
        grading.answered("a_x", "b_x", "c_x")


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


HIDDEN_SECRET = "a_hidden_value_nobody_should_see = 424242"


@pytest.mark.slow
def test_feedback_of_failing_hidden_tests_quotes_no_hidden_source(tmp_path):
    """A synthetic lab whose hidden tests fail for a learner in every way they can: a result that
    differs, code that raises, a result never reported. Graded and fed back through `momlab class`, the
    page says which hidden checks failed, and shows none of their lines."""
    from momlab.course.classroom import autograde, feedback
    from momlab.course.classroom.course import Course

    lab = "99-leak-check"
    hidden = f"### BEGIN HIDDEN TESTS\n{HIDDEN_SECRET}\n"
    cells = [
        nb.md("# leak check"),
        nb.setup("from momlab import grading\ngrading.setup()"),
        nb.answer("ans", "def f(x):\n    ### BEGIN SOLUTION\n    return {'x': x}\n    ### END SOLUTION"),
        nb.tests("t_differs", f"grading.check(f(1) is not None, 'f must return something')\n{hidden}"
                              "grading.report('h1', f(a_hidden_value_nobody_should_see))\n### END HIDDEN TESTS", points=1),
        nb.tests("t_raises", f"{hidden}grading.report('h2', [grading.outcome(f, a_hidden_value_nobody_should_see)])\n### END HIDDEN TESTS", points=1),
        nb.tests("t_stops", f"{hidden}assert isinstance(f(0), dict), 'bare assert'\ngrading.report('h3', f(a_hidden_value_nobody_should_see))\n### END HIDDEN TESTS", points=1),
    ]
    nb.write(nb.notebook(cells), tmp_path / "solutions" / lab / f"{lab}.ipynb")
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    assert run_nbgrader(tmp_path, "generate_assignment", lab, "--force").returncode == 0
    learner = nbformat.read(tmp_path / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    learner.cells[2].source = "def f(x):\n    if x > 1000:\n        raise KeyError(x)\n    return [x]"
    (tmp_path / "submitted" / "someone" / lab).mkdir(parents=True)
    nbformat.write(learner, tmp_path / "submitted" / "someone" / lab / f"{lab}.ipynb")
    course = Course.at(tmp_path)
    results = autograde.run(course, report=lambda line: None, sandboxed=sandbox_available())
    assert [r.score for r in results] == [0]
    assert feedback.generate(course, lab) == (1, [])
    page = (tmp_path / "feedback" / "someone" / lab / f"{lab}.html").read_text()
    assert "h1: no result" in page and "h3: no result" in page  # the failures are reported...
    assert "h2: differs from the solution" in page and "your code raised KeyError" in page
    assert "a_hidden_value_nobody_should_see" not in page and "424242" not in page  # ...without their source
    assert "BEGIN HIDDEN" not in page


def sandbox_available() -> bool:
    from momlab.course.classroom import sandbox

    return sandbox.available()
