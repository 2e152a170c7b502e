"""Write one judged submission into the course gradebook.

Each submission is run in a throw-away course of its own (momlab.course.classroom.unit) and judged in the
parent process (momlab.course.classroom.judge), which alone writes here, field by field as nbgrader's
SaveAutoGrades and AssignLatePenalties would have. Manual scores already in the course gradebook are kept.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from datetime import datetime


def submission(target_url: str, lab: str, learner: str, scores: dict[str, dict[str, float]],
               timestamp: str = "", late_penalties: dict[str, float] | None = None) -> tuple[float, float]:
    """Record `learner`'s judged `lab`: scores is notebook name (without .ipynb) -> grade_id -> points.
    Returns the submission's (score, max_score) in the course gradebook."""
    with _gradebook(target_url) as target:
        target.update_or_create_student(learner)
        target.update_or_create_submission(lab, learner, timestamp=datetime.fromisoformat(timestamp) if timestamp else None)
        for notebook, points in scores.items():
            into = target.find_submission_notebook(notebook, lab, learner)
            into.late_submission_penalty = (late_penalties or {}).get(notebook + ".ipynb", 0.0)
            for grade in into.grades:
                if grade.name in points:
                    grade.auto_score = points[grade.name]
                    grade.needs_manual_grade = grade.manual_score is not None
        target.db.commit()
        merged = target.find_submission(lab, learner)
        return merged.score, merged.max_score


def set_scores(target_url: str, lab: str, learner: str, scores: dict[str, dict[str, float]]) -> tuple[float, float]:
    """Change the automatic scores of some test cells (an instructor clearing a flag)."""
    with _gradebook(target_url) as target:
        for notebook, points in scores.items():
            for grade_id, score in points.items():
                target.find_grade(grade_id, notebook, lab, learner).auto_score = score
        target.db.commit()
        merged = target.find_submission(lab, learner)
        return merged.score, merged.max_score


@contextmanager
def _gradebook(url: str):
    """nbgrader's Gradebook, with SQLAlchemy 2's autoflush warnings (from nbgrader's own queries) muted."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)
        with Gradebook(url) as gradebook:
            yield gradebook
