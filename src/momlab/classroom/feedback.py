"""nbgrader's feedback pages for a lab, then a check that none shows a hidden test's source.

nbgrader_config.py removes hidden tests from feedback (ClearHiddenTests), and momlab.grading keeps
tracebacks to one line; this check makes sure of it before anything is returned to learners. A page
that still shows a hidden line is moved to feedback-withheld/ (kept for the instructor to look at)."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import nbformat

from ..errors import UserError
from .course import Course

HIDDEN_START, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"


def hidden_lines(lab_source: Path) -> list[str]:
    """The distinctive lines (longer than 25 characters) of the hidden tests in a lab's source folder."""
    lines = []
    for path in sorted(lab_source.glob("*.ipynb")):
        inside = False
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if HIDDEN_START in line:
                    inside = True
                elif HIDDEN_END in line:
                    inside = False
                elif inside and len(line.strip()) > 25:
                    lines.append(line.strip())
    return lines


def generate(course: Course, lab: str) -> tuple[int, list[str]]:
    """Feedback for every graded learner of `lab`: (pages written, pages withheld for showing hidden tests)."""
    course.check_lab(lab)
    if not any((course.root / "autograded").glob(f"*/{lab}")):
        raise UserError(f"nothing autograded for {lab} yet: run `momlab class autograde {lab}` first")
    outcome = course.api().generate_feedback(lab, force=True)
    if not outcome["success"]:
        raise UserError(f"nbgrader could not generate feedback for {lab}; run `nbgrader generate_feedback {lab}` to see why")
    secret = hidden_lines(course.source / lab)
    pages = sorted((course.root / "feedback").glob(f"*/{lab}/*.html"))
    withheld = []
    for page in pages:
        text = page.read_text(errors="replace")
        if any(line in text or html.escape(line) in text for line in secret):
            target = course.root / "feedback-withheld" / page.relative_to(course.root / "feedback")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(page, target)
            withheld.append(str(target.relative_to(course.root)))
    return len(pages) - len(withheld), withheld
