"""Late submissions: the penalty is nbgrader's (the course's LateSubmissionPlugin settings, the due date in
the course gradebook), worked out in the grading process from the judged score, after the run.

The workers record no score and no penalty (their throw-away gradebook has no due date, and their
score is whatever nbgrader made of the learner's kernel): a course that sets a due date and
`penalty_method = "zero"` must see a late learner's judged points taken off, and no one else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nbgrader.api import Gradebook

from momlab.course.classroom import autograde, merge
from momlab.course.classroom.course import Course
from tests.support import references, synthetic
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

LAB = "01-mom-api"
DUE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HANDED_IN = {"late_solution": ("solution", DUE + timedelta(hours=3)), "late_half": ("half", DUE + timedelta(minutes=1)),
             "on_time": ("solution", DUE - timedelta(hours=1)), "no_timestamp": ("solution", None)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = synthetic.make_course(tmp_path_factory.mktemp("late"), ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    with open(root / "nbgrader_config.py", "a") as config:
        config.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    references.seed(root, [LAB], references.shared_folder(tmp_path_factory))
    for learner, (kind, when) in HANDED_IN.items():
        synthetic.hand_in(root, learner, LAB, kind, ROOT / "notebooks" / LAB)
        if when is not None:  # as nbgrader's exchange writes it on submit
            (root / "submitted" / learner / LAB / "timestamp.txt").write_text(when.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
    course = Course.at(root)
    with Gradebook(course.db_url) as gradebook:  # as `nbgrader db assignment add 01-mom-api --duedate=...` does
        gradebook.update_or_create_assignment(LAB, duedate=DUE)
    results = autograde.run(course, workers=2, report=lambda line: None)
    return course, {r.learner: r for r in results}


def recorded(course: Course, learner: str) -> tuple[float, float, float]:
    with Gradebook(course.db_url) as gradebook:
        submission = gradebook.find_submission(LAB, learner)
        return submission.score, submission.late_submission_penalty, submission.total_seconds_late


@pytest.mark.timeout(900)
def test_a_late_learner_loses_the_judged_points_and_no_one_else_does(graded):
    course, results = graded
    assert recorded(course, "late_solution") == (23, 23, 3 * 3600)
    assert recorded(course, "late_half") == (9, 9, 60)
    assert recorded(course, "on_time") == (23, 0, 0)
    assert recorded(course, "no_timestamp") == (23, 0, 0)
    assert {learner: (r.score, r.max_score) for learner, r in results.items()} == {
        "late_solution": (0, 23), "late_half": (0, 23), "on_time": (23, 23), "no_timestamp": (23, 23)}


def test_the_penalty_follows_a_score_changed_later(graded):
    """An instructor clearing a flag writes points back (merge.set_scores): under "zero" the penalty is
    worked out again from the new score, never left at the old one."""
    course, _ = graded
    with Gradebook(course.db_url) as gradebook:
        notebook = gradebook.find_submission_notebook(LAB, LAB, "late_solution")
        worth = {grade.name: grade.auto_score for grade in notebook.grades if grade.auto_score}
    taken_off = sorted(worth)[0]
    score, _ = merge.set_scores(course.db_url, LAB, "late_solution", {LAB: {taken_off: 0.0}}, course.config())
    assert score == 0
    assert recorded(course, "late_solution")[:2] == (23 - worth[taken_off], 23 - worth[taken_off])
