"""The nbgrader pipeline, for real: release, validate, autograde and feedback of every lab.

Everything runs in a temporary copy of the course, through nbgrader's Python API and command line,
with real kernels running the real notebooks against the real mock.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from momlab.course.classroom import autograde, feedback, reference
from momlab.course.classroom.course import Course
from momlab.course.classroom.feedback import hidden_lines
from momlab.course.progress import has_exercises
from tests.support import references
from tests.support.nbgrader import run_nbgrader
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

FOLDERS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
# The labs: folders with a graded cell. Reading material (the answer sheet) has nothing to grade: it gets
# no test class here, and tests/test_answer_sheet.py checks it (its release included).
LABS = [lab for lab in FOLDERS if any(has_exercises(nb) for nb in (ROOT / "solutions" / lab).glob("*.ipynb"))]
MARKERS = re.compile(r"BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS|BEGIN MARK SCHEME")


def notebooks_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.ipynb"))


def graded(lab: str, tmp_path_factory) -> Path:
    """A course folder holding one lab, released and graded by `momlab class` (sandboxed, judged against
    the solution's results): 'blank' hands in the release notebook unchanged, 'twice' the solution with every
    code cell but the tests run twice (results must not depend on what a learner ran before a test), and, for
    the first lab only, 'sol' the solution as it is. The solution as it is also runs as the reference, which
    refuses a solution that does not run to the end; a judged 'sol' in every lab would grade that same run again.
    Built once per lab (the class fixture of its test class); one folder (and gradebook) per lab, so labs can be
    graded side by side."""
    course = tmp_path_factory.mktemp(f"course-{lab}")
    shutil.copytree(ROOT / "solutions" / lab, course / "solutions" / lab)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    references.seed(course, [lab], references.shared_folder(tmp_path_factory))  # lab 01's is shared with other tests
    result = run_nbgrader(course, "generate_assignment", lab, "--force")
    assert result.returncode == 0, f"generate_assignment {lab} failed:\n{result.stdout}\n{result.stderr}"
    handed_in = [("blank", course / "notebooks" / lab)] + ([("sol", course / "solutions" / lab)] if lab == LABS[0] else [])
    for student, folder in handed_in:
        target = course / "submitted" / student / lab
        target.mkdir(parents=True)
        for notebook in notebooks_of(folder):
            shutil.copy(notebook, target)
    (course / "submitted" / "twice" / lab).mkdir(parents=True)
    for notebook in notebooks_of(course / "solutions" / lab):
        nbformat.write(reference.twice(nbformat.read(notebook, as_version=4)), course / "submitted" / "twice" / lab / notebook.name)
    results = autograde.run(Course.at(course), workers=2, report=lambda line: None)
    assert all(r.ok for r in results), [r.problem for r in results if not r.ok]
    written, failed = feedback.generate(Course.at(course), lab)
    assert written and not failed, f"feedback of {lab} failed its check: {failed}"
    return course


def solution_learners(lab: str) -> tuple[str, ...]:
    """The learners of `graded` who hand in the solution."""
    return ("sol", "twice") if lab == LABS[0] else ("twice",)


def validate_verdicts(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(first source line, 'passes' or 'fails') of each test cell, by the rule nbgrader's Validate applies."""
    from nbgrader.utils import determine_grade, is_grade

    verdicts = []
    for cell in notebook.cells:
        if is_grade(cell) and cell.cell_type == "code":
            score, max_score = determine_grade(cell)
            verdicts.append((cell.source.split("\n")[0], "passes" if score == max_score else "fails"))
    return verdicts


def scores(course: Path, lab: str, student: str) -> tuple[float, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(lab, student)
        return submission.score, submission.max_score


def test_there_is_at_least_one_lab():
    assert LABS, "solutions/ holds no lab folder"


@pytest.fixture(scope="class")
def lab(request) -> str:
    return request.cls.lab_name


@pytest.fixture(scope="class")
def course(lab, tmp_path_factory) -> Path:
    """The lab graded once for its test class (see `graded`)."""
    return graded(lab, tmp_path_factory)


class LabChecks:
    """The checks every lab must pass; one subclass per lab below, so that pytest-xdist (--dist loadscope)
    keeps each lab's tests, and its one grading, on one worker."""

    lab_name = ""

    def test_committed_release_is_what_make_release_generates(self, course, lab):
        committed = ROOT / "notebooks" / lab
        assert committed.is_dir(), f"notebooks/{lab} is missing: run `make release`"
        generated = course / "notebooks" / lab
        assert [p.name for p in notebooks_of(committed)] == [p.name for p in notebooks_of(generated)]
        for notebook in notebooks_of(generated):
            fresh = json.loads(notebook.read_text())
            kept = json.loads((committed / notebook.name).read_text())
            assert kept == fresh, f"notebooks/{lab}/{notebook.name} differs from solutions/: run `make release`, never edit notebooks/"

    def test_release_contains_no_solution_or_hidden_test(self, lab):
        for notebook in notebooks_of(ROOT / "notebooks" / lab):
            text = notebook.read_text()
            assert not MARKERS.search(text), f"{notebook} contains a solution or hidden-test marker"
            for line in hidden_lines(ROOT / "solutions" / lab):
                assert line not in text, f"{notebook} contains hidden test text: {line!r}"

    def test_solutions_get_full_marks(self, course, lab):
        for learner in solution_learners(lab):
            score, max_score = scores(course, lab, learner)
            assert max_score > 0
            assert score == max_score, f"the solution of {lab} ({learner}) scored {score}/{max_score}"

    def test_unchanged_release_gets_zero(self, course, lab):
        score, max_score = scores(course, lab, "blank")
        assert max_score > 0
        assert score == 0, f"the unchanged release of {lab} scored {score}/{max_score}: a test passes without any work"

    def test_feedback_shows_no_hidden_test_source(self, course, lab):
        secret = hidden_lines(ROOT / "solutions" / lab)
        assert secret, f"{lab} has no hidden tests"
        for student in (*solution_learners(lab), "blank"):
            pages = list((course / "feedback" / student / lab).glob("*.html"))
            assert pages, f"no feedback for {student}/{lab}"
            for page in pages:
                page_text = page.read_text()
                for line in secret:
                    assert line not in page_text and html.escape(line) not in page_text, f"feedback {page.name} for {student} shows hidden line {line!r}"

    def test_validate_says_what_the_grades_say(self, course, lab):
        """nbgrader's Validate rule (a test cell passes when its run shows no error), applied to the graded
        runs: every test passes for the solution and none for the untouched release. Each notebook then
        runs once for all these checks; `nbgrader validate` itself, end to end, runs on the first lab."""
        for learner, wanted in (*((name, "passes") for name in solution_learners(lab)), ("blank", "fails")):
            for notebook in notebooks_of(course / "autograded" / learner / lab):
                verdicts = validate_verdicts(nbformat.read(notebook, as_version=4))
                wrong = [source for source, verdict in verdicts if verdict != wanted]
                assert verdicts and not wrong, f"Validate on {learner}'s {notebook.name}: these test cells do not say {wanted!r}: {wrong}"
        if lab == LABS[0]:
            solutions = [str(p) for p in notebooks_of(course / "solutions" / lab)]
            result = run_nbgrader(course, "validate", *solutions)
            assert result.stdout.count("Success! Your notebook passes all the tests.") == len(solutions), result.stdout[-3000:]
            releases = [str(p) for p in notebooks_of(course / "notebooks" / lab)]
            result = run_nbgrader(course, "validate", "--invert", *releases)
            assert result.stdout.count("Success! The notebook does not pass any tests.") == len(releases), result.stdout[-3000:]

for _lab in LABS:
    _name = "TestLab" + "".join(part.capitalize() for part in _lab.replace("-", "_").split("_"))
    globals()[_name] = type(_name, (LabChecks,), {"lab_name": _lab})

