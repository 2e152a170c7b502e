"""Copy one autograded submission from a throw-away gradebook into the course gradebook.

Each submission is graded in its own course folder and gradebook, so that two gradings can run at once
without two writers on one SQLite file; the parent process alone then writes the results here, field
by field as nbgrader's SaveAutoGrades and AssignLatePenalties would have. Manual scores already in the
course gradebook are kept.
"""

from __future__ import annotations

import warnings


def submission(source_url: str, target_url: str, lab: str, learner: str) -> tuple[float, float]:
    """Merge `learner`'s graded `lab`; returns its (score, max_score) in the course gradebook."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        # nbgrader's own queries trip SQLAlchemy 2's autoflush warnings; they are harmless here.
        warnings.simplefilter("ignore", SAWarning)
        return _merge(Gradebook, source_url, target_url, lab, learner)


def _merge(Gradebook, source_url: str, target_url: str, lab: str, learner: str) -> tuple[float, float]:
    with Gradebook(source_url) as source, Gradebook(target_url) as target:
        graded = source.find_submission(lab, learner)
        person = source.find_student(learner)
        target.update_or_create_student(learner, first_name=person.first_name, last_name=person.last_name,
                                        email=person.email, lms_user_id=person.lms_user_id)
        target.update_or_create_submission(lab, learner, timestamp=graded.timestamp)
        for notebook in graded.notebooks:
            into = target.find_submission_notebook(notebook.name, lab, learner)
            into.late_submission_penalty = notebook.late_submission_penalty
            for grade in notebook.grades:
                kept = target.find_grade(grade.name, notebook.name, lab, learner)
                kept.auto_score = grade.auto_score
                kept.needs_manual_grade = kept.manual_score is not None or kept.auto_score is None
            for comment in notebook.comments:
                target.find_comment(comment.name, notebook.name, lab, learner).auto_comment = comment.auto_comment
        target.db.commit()
        merged = target.find_submission(lab, learner)
        return merged.score, merged.max_score
