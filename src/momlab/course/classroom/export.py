"""Grades as CSV, by nbgrader's own exporter (one row per learner and lab)."""

from __future__ import annotations

from pathlib import Path

from momlab.course.classroom.course import Course


def grades_csv(course: Course, to: Path) -> Path:
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    to = to if to.is_absolute() else course.root / to
    with Gradebook(course.db_url) as gradebook:
        CsvExportPlugin(to=str(to)).export(gradebook)
    return to
