"""One submission's grading run, as data in and data out: what a worker runs, here or on another machine.

    result = unit.grade(job)                        # Job -> Run
    unit.Run.from_bytes(unit.grade_bytes(job.to_bytes()))   # the same, as bytes

The worker builds a throw-away course from the job alone (the course's nbgrader_config.py, the lab's
source, a gradebook with the lab generated in it, the learner's files), runs nbgrader's autograde with
every kernel in the sandbox (momlab.course.classroom.sandbox), and returns the executed notebooks. It needs
nothing but this package installed: no shared folder. It decides no score and records none (autograde runs
without its SaveAutoGrades and AssignLatePenalties steps): the parent judges the notebooks against the
solution's results (momlab.course.classroom.judge), works out late penalties from those scores
(momlab.course.classroom.merge) and alone writes the course gradebook.
"""

from __future__ import annotations

import base64
import json
import resource
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

SUBMISSION_LIMIT = 900  # seconds for one learner's lab, however its cells behave


@dataclass(frozen=True)
class Job:
    lab: str
    learner: str
    config: bytes  # the course's nbgrader_config.py
    source: dict[str, bytes]  # the lab's source folder: relative path -> content
    template: bytes  # a gradebook.db with the lab generated in it
    submitted: dict[str, bytes]  # the learner's files: relative path -> content
    sandbox: bool = True
    limits: dict = field(default_factory=dict)  # sandbox.Limits fields, where not the defaults

    def to_bytes(self) -> bytes:
        return _encode(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Job:
        return _decode(cls, data)


@dataclass(frozen=True)
class Run:
    lab: str
    learner: str
    ok: bool
    problem: str = ""  # why it could not be graded, one line
    notebooks: dict[str, bytes] = field(default_factory=dict)  # executed notebooks, by file name
    log: str = ""  # the end of nbgrader's log, for flags (a kernel that died)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this worker and its kernels

    def to_bytes(self) -> bytes:
        return _encode(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> Run:
        return _decode(cls, data)


def grade_bytes(job: bytes) -> bytes:
    """`grade` for callers that move bytes (a process pool, a Dask cluster)."""
    return grade(Job.from_bytes(job)).to_bytes()


def grade(job: Job) -> Run:
    started, cpu = time.monotonic(), _cpu()
    with tempfile.TemporaryDirectory(prefix="momlab-unit-") as tmp:
        run = _grade_in(Path(tmp), job)
    return Run(**{**asdict(run), "seconds": time.monotonic() - started, "cpu_seconds": _cpu() - cpu})


def _grade_in(root: Path, job: Job) -> Run:
    from sqlalchemy.exc import SAWarning

    from momlab.course import watchdog
    from momlab.course.classroom.course import Course

    (root / "nbgrader_config.py").write_bytes(job.config)
    course = Course.at(root)
    _write(course.source / job.lab, job.source)
    (root / "gradebook.db").write_bytes(job.template)
    handed_in = course.folder("submitted", job.learner, job.lab)
    _write(handed_in, job.submitted)
    unreadable = _unreadable(handed_in)
    if unreadable:
        return Run(job.lab, job.learner, False, problem=f"{unreadable}: ask the learner to hand it in again")
    limits = None
    if job.sandbox:
        from momlab.course.classroom import sandbox

        limits = sandbox.Limits(**job.limits)
    api = course.api(root, f"sqlite:///{root / 'gradebook.db'}", sandboxed=limits, scoring=False)
    with watchdog.deadline(SUBMISSION_LIMIT) as limit, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's queries trip SQLAlchemy 2's autoflush warnings
        outcome = api.autograde(job.lab, job.learner, force=True, create=True)
        if not outcome["success"] and "Kernel died" in outcome.get("error", "") + outcome.get("log", "") and not limit["expired"]:
            # On a busy machine a kernel now and then fails to start: once more.
            outcome = api.autograde(job.lab, job.learner, force=True, create=True)
    log = (outcome.get("log", "") + "\n" + outcome.get("error", "")).strip()
    if limit["expired"]:
        return Run(job.lab, job.learner, False, problem=f"stopped after {SUBMISSION_LIMIT} s (a cell that ignores interrupts?)", log=log[-5000:])
    if not outcome["success"]:
        return Run(job.lab, job.learner, False, problem=_why(log), log=log[-5000:])
    graded = course.folder("autograded", job.learner, job.lab)
    names = sorted(name for name in job.source if name.endswith(".ipynb") and "/" not in name)
    return Run(job.lab, job.learner, True, notebooks={name: (graded / name).read_bytes() for name in names if (graded / name).is_file()},
               log=log[-5000:])


def _write(folder: Path, files: dict[str, bytes]) -> None:
    for name, content in files.items():
        target = (folder / name).resolve()
        if folder.resolve() not in target.parents:
            raise ValueError(f"{name!r} is not a path inside the folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def read_folder(folder: Path, skip=(".ipynb_checkpoints", "__pycache__")) -> dict[str, bytes]:
    """Every regular file below `folder` (relative path -> content), for a Job. Links are never followed:
    a learner's link to /etc/shadow or the gradebook must not be read as root."""
    import os

    files = {}
    for here, folders, names in os.walk(folder, followlinks=False):
        folders[:] = sorted(name for name in folders if name not in skip and not os.path.islink(os.path.join(here, name)))
        for name in sorted(names):
            path = Path(here) / name
            if not path.is_symlink() and path.is_file() and not name.endswith(".sqlite"):
                files[str(path.relative_to(folder))] = path.read_bytes()
    return files


def _unreadable(folder: Path) -> str:
    """The first handed-in notebook that is not a notebook, with the reason ("" if all read)."""
    import nbformat

    for path in sorted(folder.glob("*.ipynb")):
        try:
            nbformat.read(path, as_version=4)
        except Exception as exc:
            return f"{path.name} is not a readable notebook ({type(exc).__name__})"
    return ""


def _why(log: str) -> str:
    """The most telling line of a failed nbgrader run: its last exception, else its last error line."""
    import re

    exception_line = re.compile(r"^\s*[\w.]*(Error|Exception|Interrupt)\b.*:")
    lines = log.splitlines()
    exceptions = [line for line in lines if exception_line.match(line) and "NbGraderException" not in line]
    errors = [line for line in lines if line.startswith("[ERROR]")]
    line = (exceptions or errors or ["nbgrader failed without a message"])[-1]
    return line.removeprefix("[ERROR] ").strip()[:300]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _encode(record) -> bytes:
    def plain(value):
        if isinstance(value, bytes):
            return {"b64": base64.b64encode(value).decode()}
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value

    return json.dumps({f.name: plain(getattr(record, f.name)) for f in fields(record)}).encode()


def _decode(cls, data: bytes):
    def back(value):
        if isinstance(value, dict) and set(value) == {"b64"}:
            return base64.b64decode(value["b64"])
        if isinstance(value, dict):
            return {key: back(item) for key, item in value.items()}
        return value

    return cls(**{key: back(value) for key, value in json.loads(data).items()})


def grade_one(lab_job: bytes, learner: str, files: dict[str, bytes]) -> bytes:
    """What a worker runs for one submission: the lab's job with this learner's files, graded (unit.grade)."""
    return grade(replace(Job.from_bytes(lab_job), learner=learner, submitted=files)).to_bytes()
