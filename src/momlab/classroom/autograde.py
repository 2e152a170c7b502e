"""Autograde a class: every submission in its own throw-away course and gradebook, two per core at a time.

    results = autograde.run(Course.at("."), labs=["01-mom-api"])

1. For each lab, nbgrader generates the assignment twice: into a template gradebook the gradings copy,
   and into the course gradebook (neither touches the course's release folder).
2. A pool of worker processes (two per core: see progress.DEFAULT_WORKERS) grades submissions: each copies the template gradebook
   and the learner's files into a folder of its own and runs nbgrader's autograde there, so no two
   processes ever write one SQLite file. nbgrader's per-cell timeout and output limit (nbgrader_config.py)
   stop runaway cells; a last-resort deadline kills a kernel that ignores them (momlab.watchdog).
3. The parent process alone merges each result into the course gradebook and copies the autograded
   notebooks into autograded/<learner>/<lab>/.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from ..errors import UserError
from ..progress import DEFAULT_WORKERS
from . import merge
from .course import Course

SUBMISSION_LIMIT = 900  # seconds for one learner's lab, however its cells behave


@dataclass(frozen=True)
class Graded:
    lab: str
    learner: str
    ok: bool
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    problem: str = ""  # why it could not be graded, one line
    folder: str = ""  # where it was graded (a worker's throw-away course)


def pending(course: Course, labs: list[str] | None, learners: list[str] | None, force: bool) -> list[tuple[str, str]]:
    """The (lab, learner) submissions to grade: all handed in, less those already graded unless `force`."""
    for lab in labs or []:
        course.check_lab(lab)
    jobs = []
    for lab in labs or course.labs():
        for learner in course.submissions(lab):
            if learners and learner not in learners:
                continue
            if force or not course.folder("autograded", learner, lab).is_dir():
                jobs.append((lab, learner))
    return jobs


def run(course: Course, labs: list[str] | None = None, learners: list[str] | None = None, force: bool = False,
        workers: int = DEFAULT_WORKERS, report=print) -> list[Graded]:
    """Grade the pending submissions and return one result per submission, in the order they finish."""
    if not (course.root / "submitted").is_dir() or not any(course.submissions(lab) for lab in (labs or course.labs())):
        raise UserError(f"nothing handed in under {course.root / 'submitted'}: put each learner's notebooks in "
                        "submitted/<learner>/<lab>/, or run `momlab class collect <lab> --from <download.zip>`")
    jobs = pending(course, labs, learners, force)
    if not jobs:
        report("Every submission is graded already (use --force to grade them again).")
        return []
    work = Path(tempfile.mkdtemp(prefix="momlab-grading-"))
    try:
        templates = {lab: _prepare(course, lab, work) for lab in sorted({lab for lab, _ in jobs})}
        report(f"Generated {len(templates)} lab(s); grading {len(jobs)} submission(s), {workers} at a time.")
        results = []
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(grade_one, str(course.root), lab, learner, str(templates[lab]), str(work / lab / learner))
                       for lab, learner in jobs]
            for future, (lab, learner) in _finished(futures, jobs):
                try:
                    result = _keep(course, future.result())
                except Exception as exc:  # a worker died: say so, and keep what is merged already
                    result = Graded(lab, learner, False, problem=f"grading stopped: {type(exc).__name__}: {exc}")
                results.append(result)
                status = f"{result.score:g}/{result.max_score:g}" if result.ok else f"NOT GRADED: {result.problem}"
                report(f"{result.lab:<24} {result.learner:<20} {status}  ({result.seconds:.0f} s)")
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _finished(futures, jobs):
    """(future, job) pairs in the order the futures finish."""
    job_of = dict(zip(futures, jobs, strict=True))
    for future in as_completed(futures):
        yield future, job_of[future]


def _prepare(course: Course, lab: str, work: Path) -> Path:
    """The lab in the course gradebook, and a template course folder whose gradebook gradings copy."""
    template = work / f"template-{lab}"
    for root, db_url in ((template, f"sqlite:///{template / 'gradebook.db'}"), (work / f"release-{lab}", course.db_url)):
        root.mkdir(parents=True)
        outcome = course.api(root, db_url).generate_assignment(lab, force=True)
        if not outcome["success"]:
            raise UserError(f"nbgrader could not generate {lab} from {course.source / lab}; run "
                            f"`nbgrader generate_assignment {lab} --force` to see why")
    return template


def grade_one(course_root: str, lab: str, learner: str, template: str, folder: str) -> Graded:
    """In a worker process: grade one submission in `folder`, a course of its own."""
    from sqlalchemy.exc import SAWarning

    from .. import watchdog

    started = time.monotonic()
    course, here = Course.at(course_root), Path(folder)
    here.mkdir(parents=True)
    shutil.copy(Path(template) / "gradebook.db", here / "gradebook.db")
    shutil.copytree(course.folder("submitted", learner, lab), here / "submitted" / learner / lab)
    unreadable = _unreadable(here / "submitted" / learner / lab)
    if unreadable:
        return Graded(lab, learner, False, seconds=time.monotonic() - started, folder=folder,
                      problem=f"{unreadable}: ask the learner to hand it in again")
    api = course.api(here, f"sqlite:///{here / 'gradebook.db'}")
    with watchdog.deadline(SUBMISSION_LIMIT) as limit, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's queries trip SQLAlchemy 2's autoflush warnings
        outcome = api.autograde(lab, learner, force=True, create=True)
        if not outcome["success"] and "Kernel died" in outcome.get("error", "") + outcome.get("log", "") and not limit["expired"]:
            # On a busy machine a kernel now and then fails to start (its ports taken by another): once more.
            outcome = api.autograde(lab, learner, force=True, create=True)
    seconds = time.monotonic() - started
    if limit["expired"]:
        return Graded(lab, learner, False, seconds=seconds, folder=folder, problem=f"stopped after {SUBMISSION_LIMIT} s (a cell that ignores interrupts?)")
    if not outcome["success"]:
        return Graded(lab, learner, False, seconds=seconds, folder=folder, problem=_why(outcome))
    return Graded(lab, learner, True, seconds=seconds, folder=folder)


def _unreadable(folder: Path) -> str:
    """The first handed-in notebook that is not a notebook, with the reason ("" if all read)."""
    import nbformat

    for path in sorted(folder.glob("*.ipynb")):
        try:
            nbformat.read(path, as_version=4)
        except Exception as exc:
            return f"{path.name} is not a readable notebook ({type(exc).__name__})"
    return ""


_EXCEPTION_LINE = re.compile(r"^\s*[\w.]*(Error|Exception|Interrupt)\b.*:")


def _why(outcome: dict) -> str:
    """The most telling line of a failed nbgrader run: its last exception, else its last error line."""
    lines = (outcome.get("log", "") + "\n" + outcome.get("error", "")).splitlines()
    exceptions = [line for line in lines if _EXCEPTION_LINE.match(line) and "NbGraderException" not in line]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    line = (exceptions or errors or ["nbgrader failed without a message"])[-1]
    return line.removeprefix("[ERROR] ").strip()[:300]


def _keep(course: Course, result: Graded) -> Graded:
    """In the parent, the only writer: merge a finished grading into the course gradebook and folders."""
    if not result.ok:
        return result
    here = Path(result.folder)
    score, max_score = merge.submission(f"sqlite:///{here / 'gradebook.db'}", course.db_url, result.lab, result.learner)
    target = course.folder("autograded", result.learner, result.lab)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(here / "autograded" / result.learner / result.lab, target)
    shutil.rmtree(here, ignore_errors=True)
    return Graded(result.lab, result.learner, True, score, max_score, result.seconds)

