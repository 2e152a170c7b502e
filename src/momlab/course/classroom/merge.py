"""Write one judged submission into the course gradebook.

Each submission is run in a throw-away course of its own (momlab.course.classroom.unit) and judged in the
parent process (momlab.course.classroom.judge), which alone writes here, field by field as nbgrader's
SaveAutoGrades would have. Manual scores already in the course gradebook are kept.

Late penalties are worked out here too, after the judged scores are in, by nbgrader's own
AssignLatePenalties step with the course's settings (`LateSubmissionPlugin.penalty_method`, or the
course's `AssignLatePenalties.plugin_class`) against the course gradebook, where the due date is: a
penalty follows from the trusted score, never from what nbgrader made of the learner's kernel.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from datetime import datetime


def submission(target_url: str, lab: str, learner: str, scores: dict[str, dict[str, float]],
               timestamp: datetime | None = None, config=None) -> tuple[float, float]:
    """Record `learner`'s judged `lab`: scores is notebook name (without .ipynb) -> grade_id -> points;
    `timestamp` is when it was handed in (None: unknown, never late); `config` the course's nbgrader
    settings, for its late penalty. Returns the submission's (score less late penalties, max_score)."""
    with _gradebook(target_url) as target:
        target.update_or_create_student(learner)
        target.update_or_create_submission(lab, learner, timestamp=timestamp)
        for notebook, points in scores.items():
            into = target.find_submission_notebook(notebook, lab, learner)
            for grade in into.grades:
                if grade.name in points:
                    grade.auto_score = points[grade.name]
                    grade.needs_manual_grade = grade.manual_score is not None
        target.db.commit()
        if target.find_submission(lab, learner).total_seconds_late <= 0:
            return _on_time(target, lab, learner)
    return _penalise(target_url, lab, learner, scores, config)


def set_scores(target_url: str, lab: str, learner: str, scores: dict[str, dict[str, float]], config=None) -> tuple[float, float]:
    """Change the automatic scores of some test cells (an instructor clearing a flag); a late penalty
    that depends on the score follows it."""
    with _gradebook(target_url) as target:
        for notebook, points in scores.items():
            for grade_id, score in points.items():
                target.find_grade(grade_id, notebook, lab, learner).auto_score = score
        target.db.commit()
        if target.find_submission(lab, learner).total_seconds_late <= 0:
            return _on_time(target, lab, learner)
    return _penalise(target_url, lab, learner, scores, config)


def _on_time(target, lab: str, learner: str) -> tuple[float, float]:
    """No penalty (and none left from an earlier grading, as nbgrader's step resets it): (score, max_score)."""
    submission = target.find_submission(lab, learner)
    for notebook in submission.notebooks:
        notebook.late_submission_penalty = None
    target.db.commit()
    return submission.score, submission.max_score


def _penalise(target_url: str, lab: str, learner: str, notebooks, config) -> tuple[float, float]:
    """A late submission: nbgrader's AssignLatePenalties on each notebook, in the course gradebook; then
    the submission's (score less penalties, max_score)."""
    import nbformat
    from nbgrader.preprocessors import AssignLatePenalties

    quiet = logging.getLogger("momlab.late_penalties")  # nbgrader's step logs each late notebook as a warning
    step = AssignLatePenalties(config=config, log=quiet)
    with _quiet():
        for notebook in notebooks:
            resources = {"nbgrader": {"notebook": notebook, "assignment": lab, "student": learner, "db_url": target_url}}
            step.preprocess(nbformat.v4.new_notebook(), resources)
    with _gradebook(target_url) as target:
        merged = target.find_submission(lab, learner)
        return merged.score - merged.late_submission_penalty, merged.max_score


@contextmanager
def _gradebook(url: str):
    """nbgrader's Gradebook, with SQLAlchemy 2's autoflush warnings (from nbgrader's own queries) muted."""
    from nbgrader.api import Gradebook

    with _quiet(), Gradebook(url) as gradebook:
        yield gradebook


@contextmanager
def _quiet():
    """SQLAlchemy 2's autoflush warnings muted: nbgrader's own queries trip them."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        yield
