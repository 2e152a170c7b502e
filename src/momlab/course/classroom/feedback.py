"""Feedback pages for a lab, built only from what cannot leak, checked, and released all together.

A page shows the learner's own cells (their source), the release's version of every locked cell (so
no hidden test can appear, whatever the learner wrote), and on each test cell the judge's verdict and
score. No output of the grading run is shown: learner code ran beside the hidden tests and could have
copied them into its output, encoded so that no check would see it. Every page is then checked for the
hidden tests' lines; if any page fails, none is released (the pages stay in a temporary folder that is
removed) and the pages that failed are named.
"""

from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path

import nbformat

from momlab.course.classroom.course import Course
from momlab.course.errors import UserError

HIDDEN_START, HIDDEN_END = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
PREPROCESSORS = ["nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"]


def hidden_lines(lab_source: Path) -> list[str]:
    """The distinctive lines (longer than 25 characters) of the hidden tests in a lab's source folder:
    those that appear nowhere else in the lab (a line the release shows too is no secret)."""
    hidden, shown = [], set()
    for path in sorted(lab_source.glob("*.ipynb")):
        inside = False
        for cell in nbformat.read(path, as_version=4).cells:
            for line in cell.source.splitlines():
                if HIDDEN_START in line:
                    inside = True
                elif HIDDEN_END in line:
                    inside = False
                elif len(line.strip()) > 25:
                    (hidden.append if inside else shown.add)(line.strip())
    return [line for line in hidden if line not in shown]


def generate(course: Course, lab: str) -> tuple[int, list[str]]:
    """Feedback for every graded learner of `lab`: (pages released, pages that failed the check). When
    any page fails, nothing is released."""
    course.check_lab(lab)
    graded = sorted((course.root / "autograded").glob(f"*/{lab}"))
    if not graded:
        raise UserError(f"nothing autograded for {lab} yet: run `momlab class autograde {lab}` first")
    with tempfile.TemporaryDirectory(prefix="momlab-feedback-") as tmp:
        staging = Path(tmp)
        release = course.generate(lab, staging / "release")
        for folder in graded:
            target = staging / "autograded" / folder.parent.name / lab
            target.mkdir(parents=True)
            for path in sorted(folder.glob("*.ipynb")):
                nbformat.write(safe_copy(nbformat.read(path, as_version=4), release.get(path.name)), target / path.name)
        outcome = _feedback(course, staging, lab)
        if not outcome["success"]:
            raise UserError(f"nbgrader could not generate feedback for {lab}; run `nbgrader generate_feedback {lab}` to see why")
        secret = hidden_lines(course.source / lab)
        pages = sorted((staging / "feedback").glob(f"*/{lab}/*.html"))
        failed = [str(page.relative_to(staging)) for page in pages if _quotes(page.read_text(errors="replace"), secret)]
        if failed:
            return 0, failed
        for learner in sorted({page.parent.parent.name for page in pages}):
            target = course.folder("feedback", learner, lab)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(staging / "feedback" / learner / lab, target)
            for name in ("timestamp.txt", "submission_secret.txt"):  # nbgrader release_feedback names each page by these
                handed_in = course.folder("submitted", learner, lab) / name
                if handed_in.is_file() and not handed_in.is_symlink():
                    shutil.copy(handed_in, target / name)
        return len(pages), []


def safe_copy(nb, release):
    """The learner's notebook as feedback shows it: their own sources, the release's locked cells, no
    output but the judge's verdict on each test cell."""
    given = {}
    if release is not None:
        given = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
                 if c.get("metadata", {}).get("nbgrader", {}).get("locked")}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("locked"):
            cell.source = given.get(meta.get("grade_id"), "# (this cell is not in the release)")
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        verdict = cell.get("metadata", {}).get("momlab")
        if verdict:
            text = f"Score {verdict['score']:g} of {verdict['max_score']:g}\n" + "".join(f"  {line}\n" for line in verdict["verdict"])
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    return nb


def _feedback(course: Course, staging: Path, lab: str) -> dict:
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from momlab.course.classroom.course import tools_on_path

    tools_on_path()
    config = course.config(staging, course.db_url)
    config.GenerateFeedback.preprocessors = PREPROCESSORS
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config).generate_feedback(lab, force=True)


def _quotes(text: str, secret: list[str]) -> bool:
    return any(line in text or html.escape(line) in text for line in secret)
