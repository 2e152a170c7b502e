"""Autograde a class: every submission run in a sandbox, judged outside it, written by one process.

    results = autograde.run(Course.at("."), labs=["01-mom-api"])

1. For each lab, nbgrader generates the assignment twice: into a template gradebook that every run
   starts from, and into the course gradebook (neither touches the course's release folder); and the
   lab's solution runs once in grading mode to give the reference results (momlab.course.classroom.reference).
2. A pool of worker processes (three per core: see progress.GRADING_WORKERS), or a Dask cluster
   (momlab.course.classroom.cluster), runs the submissions, each a self-contained unit of work, bytes in and
   bytes out (momlab.course.classroom.unit): nbgrader's autograde in a throw-away course, every kernel in a
   bubblewrap sandbox (momlab.course.classroom.sandbox). A lab's share of the job (its source, template
   gradebook and settings) is encoded once; a learner's files are read only when their turn comes, so
   a class of any size is never in memory at once.
3. This process alone judges each run against the reference (momlab.course.classroom.judge), scans the
   learner's cells for tampering (momlab.course.classroom.scan), flags what needs the instructor's eye
   (momlab.course.classroom.flags), and writes the scores into the course gradebook and the executed
   notebooks into autograded/<learner>/<lab>/. It trusts no file the learner's code could have written.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from momlab.course import pools
from momlab.course.classroom import flags, judge, merge, reference, scan, unit
from momlab.course.classroom.course import Course
from momlab.course.errors import UserError
from momlab.course.progress import GRADING_WORKERS

LIMIT_ERRORS = {"CellTimeoutError": "a cell ran past the time limit", "MemoryError": "a cell ran out of memory",
                "DeadKernelError": "the kernel died"}
# The notes where output was cut: momlab.course.classroom.limits (bytes), then nbgrader's LimitOutput (lines).
OUTPUT_CUT = ("output limit]", "... Output truncated ...")


@dataclass(frozen=True)
class Graded:
    lab: str
    learner: str
    ok: bool
    score: float = 0.0
    max_score: float = 0.0
    seconds: float = 0.0
    problem: str = ""  # why it could not be graded, one line
    flags: tuple[str, ...] = ()  # why the instructor should look at it
    cpu_seconds: float = 0.0


@dataclass(frozen=True)
class Lab:
    """What every submission of one lab is run from and judged against."""
    name: str
    template: bytes  # gradebook with the lab generated in it
    source: dict[str, bytes]
    release: dict  # notebook name -> the release notebook (what the learner was given)
    reference: dict  # notebook name -> grade_id -> {"points", "results"}


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
        workers: int = GRADING_WORKERS, report=print, sandboxed: bool = True, limits: dict | None = None,
        scheduler: str | None = None, progress=None) -> list[Graded]:
    """Grade the pending submissions and return one result per submission, in the order they finish: on
    this machine, `workers` at a time, or on the Dask cluster whose scheduler is at `scheduler`.
    `progress` (a momlab.course.classroom.progressbar.Bar) is started once the labs are prepared and told of
    every result."""
    if not (course.root / "submitted").is_dir() or not any(course.submissions(lab) for lab in (labs or course.labs())):
        raise UserError(f"nothing handed in under {course.root / 'submitted'}: put each learner's notebooks in "
                        "submitted/<learner>/<lab>/, or run `momlab class collect <lab> --from <download.zip>`")
    jobs = pending(course, labs, learners, force)
    if not jobs:
        report("Every submission is graded already (use --force to grade them again).")
        return []
    client = None
    if scheduler:  # the workers run the kernels: they, not this machine, need the sandbox (checked on connecting)
        from momlab.course.classroom import cluster

        client = cluster.connect(scheduler, sandboxed, report)
    elif sandboxed:
        from momlab.course.classroom import sandbox

        sandbox.require()
        sandbox.share_zygote()
    if not sandboxed:
        report("WARNING: grading without a sandbox (--no-sandbox): learner code runs as this user, with this "
               "machine's files and network. Use it only for work you trust.")
    work, outcomes = Path(tempfile.mkdtemp(prefix="momlab-grading-")), None
    try:
        prepared = {lab: prepare(course, lab, work, workers) for lab in sorted({lab for lab, _ in jobs})}
        where = f"on the Dask cluster at {scheduler}" if client else f"{workers} at a time"
        report(f"Prepared {len(prepared)} lab(s); grading {len(jobs)} submission(s) {where}{' in a sandbox' if sandboxed else ''}.")
        config = (course.root / "nbgrader_config.py").read_bytes()
        shared = {name: lab_job(lab, config, sandboxed, limits) for name, lab in prepared.items()}
        units = (((lab, learner), lab, learner, partial(unit.read_folder, course.folder("submitted", learner, lab)))
                 for lab, learner in jobs)
        if progress is not None:
            at_once = sum(client.nthreads().values()) if client else workers
            progress.start(len(jobs), [lab for lab, _ in jobs], at_once)
        results, outcomes = [], run_units(shared, units, workers, client)
        for (lab, learner), outcome in outcomes:
            try:
                if isinstance(outcome, BaseException):
                    raise outcome
                result = keep(course, prepared[lab], unit.Run.from_bytes(outcome), sandboxed)
            except UserError:
                raise
            except Exception as exc:  # a worker died: say so, and keep what is written already
                result = Graded(lab, learner, False, problem=f"grading stopped: {type(exc).__name__}: {exc}")
            results.append(result)
            report(line(result))
            if progress is not None:
                progress.done(result)
        return results
    finally:
        if outcomes is not None:
            outcomes.close()  # stops the pool (or releases the cluster's tasks) now, even after an error
        if progress is not None:
            progress.finish()
        if client is not None:
            client.close()
        shutil.rmtree(work, ignore_errors=True)


def lab_job(lab: Lab, config: bytes, sandboxed: bool, limits: dict | None) -> bytes:
    """The part of every submission's job that is the same for the whole lab (no learner, no files)."""
    return unit.Job(lab.name, "", config, lab.source, lab.template, {}, sandboxed, limits or {}).to_bytes()


def run_units(labs: dict[str, bytes], units: Iterable[tuple], workers: int, client=None) -> Iterator[tuple]:
    """(key, run bytes or the exception that stopped it) for each (key, lab, learner, files) of `units`, as
    they finish: on the Dask cluster of `client` (momlab.course.classroom.cluster), else here in a pool of `workers`
    processes. `labs` maps each lab to its lab_job; `files()` reads the learner's files when their turn comes."""
    if client is not None:
        from momlab.course.classroom import cluster

        yield from cluster.run_units(client, labs, units)
    else:
        yield from _in_pool(labs, units, max(1, workers))


def _in_pool(labs: dict[str, bytes], units: Iterable[tuple], workers: int, task=unit.grade_one) -> Iterator[tuple]:
    """run_units in a pool of processes, with at most two submissions per process handed out at a time. A pool
    process that dies (the OOM killer, say) breaks the pool: a new pool takes over, and each submission the
    broken one had in hand gets one more try; one that breaks a pool twice is reported. (A pool cannot tell
    which submission broke it: one that breaks it twice takes its neighbours' one more try with it.)
    `task` replaces what grades one submission (tests)."""
    queue, again, broke_once = iter(units), [], set()
    while True:
        pool = pools.pool(workers)
        running: dict = {}
        try:
            while True:
                while len(running) < 2 * workers and (item := again.pop(0) if again else next(queue, None)) is not None:
                    key, lab, learner, files = item
                    running[pool.submit(task, labs[lab], learner, files())] = item
                if not running:
                    return
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                broken = yield from _outcomes(done, running, again, broke_once)
                if broken:  # the pool's other submissions fail with it, at once
                    yield from _outcomes(wait(running).done, running, again, broke_once)
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _outcomes(done, running: dict, again: list, broke_once: set):
    """Yield (key, outcome) for finished pool futures; those a broken pool took down go to `again` the first
    time. Returns whether the pool broke."""
    broken = False
    for future in done:
        item = running.pop(future)
        try:
            outcome = future.result()
        except BrokenProcessPool as exc:
            broken = True
            if item[0] not in broke_once:
                broke_once.add(item[0])
                again.append(item)
                continue
            outcome = exc
        except Exception as exc:
            outcome = exc
        yield item[0], outcome
    return broken


def line(result: Graded) -> str:
    status = f"{result.score:g}/{result.max_score:g}" if result.ok else f"NOT GRADED: {result.problem}"
    flagged = f"  FLAGGED: {'; '.join(result.flags)}" if result.flags else ""
    return f"{result.lab:<24} {result.learner:<20} {status}  ({result.seconds:.0f} s){flagged}"


def prepare(course: Course, lab: str, work: Path, workers: int = GRADING_WORKERS) -> Lab:
    """The lab in the course gradebook, a template gradebook for the runs, its release, and its reference."""
    template = work / f"template-{lab}"
    release = course.generate(lab, template)
    course.generate(lab, work / f"release-{lab}", course.db_url)
    return Lab(lab, (template / "gradebook.db").read_bytes(), unit.read_folder(course.source / lab), release,
               reference.load(course.root, course.source / lab, workers))


def keep(course: Course, lab: Lab, run: unit.Run, sandboxed: bool = True) -> Graded:
    """Judge one run and write it into the course: the only writer of the gradebook and autograded/."""
    import nbformat
    from nbgrader.coursedir import CourseDirectory

    if not run.ok:
        return Graded(run.lab, run.learner, False, seconds=run.seconds, problem=run.problem, cpu_seconds=run.cpu_seconds)
    submitted = course.folder("submitted", run.learner, run.lab)
    executed = {name: nbformat.reads(data.decode(), as_version=4) for name, data in run.notebooks.items()}
    reasons = [f"{name}: {why}" for why, name in _limits(executed, run.log)] + ([] if sandboxed else ["graded without the sandbox (--no-sandbox)"])
    scores, held = {}, {}
    target = course.folder("autograded", run.learner, run.lab)
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name, expected in lab.reference.items():
        nb = executed[name] if name in executed else nbformat.v4.new_notebook()
        verdicts = judge.judge(nb, expected)
        tampering = scan.notebook_findings(nb, lab.release[name])
        changed = _changed_test_cells(submitted / name, lab.release[name])
        reasons += [f"{name}: {finding}" for finding in tampering]
        reasons += [f"{name}: test cell {grade_id} was changed" for grade_id in changed]
        touched = set(verdicts) if tampering else set(changed)
        stem = name.removesuffix(".ipynb")
        scores[stem] = {g: (0.0 if g in touched else v.score) for g, v in verdicts.items()}
        held[stem] = {g: verdicts[g].score for g in touched if verdicts[g].score}
        _annotate(nb, verdicts)
        nbformat.write(nb, target / name)
    handed_in_at = CourseDirectory().get_existing_timestamp(str(submitted))  # nbgrader's reading of timestamp.txt; the run refused a bad one
    score, max_score = merge.submission(course.db_url, run.lab, run.learner, scores, handed_in_at, course.config())
    held = {stem: cells for stem, cells in held.items() if cells}
    flags.record(course, run.learner, run.lab, flags.Flag(run.learner, run.lab, reasons, held) if reasons else None)
    return Graded(run.lab, run.learner, True, score, max_score, run.seconds, flags=tuple(reasons), cpu_seconds=run.cpu_seconds)


def _limits(executed: dict, log: str) -> list[tuple[str, str]]:
    """(what happened, notebook) for every limit a run hit, from its executed notebooks and its log."""
    found = []
    for name, nb in executed.items():
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                why = LIMIT_ERRORS.get(output.get("ename", ""))
                if output.get("output_type") == "stream" and any(note in str(output.get("text", ""))[-300:] for note in OUTPUT_CUT):
                    why = "a cell's output passed the size limit"
                if why and (why, name) not in found:
                    found.append((why, name))
    if "Kernel died" in log or "DeadKernelError" in log:
        found.append(("the kernel died", "the lab"))
    return found


def _changed_test_cells(handed_in: Path, release) -> list[str]:
    """grade_ids of the locked cells (tests and set-up) whose source the learner changed."""
    import nbformat

    given = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
             if c.get("metadata", {}).get("nbgrader", {}).get("locked")}
    try:
        nb = nbformat.read(handed_in, as_version=4)
    except Exception:
        return []  # an unreadable file is not graded at all (momlab.course.classroom.unit)
    changed = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in given and _visible(cell.source) != _visible(given[grade_id]) and grade_id not in changed:
            changed.append(grade_id)
    return changed


def _visible(source: str) -> str:
    """A test cell's source less its hidden tests, as the release has it (nbgrader puts them back)."""
    import re

    return re.sub(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", "", source, flags=re.S).strip()


def _annotate(nb, verdicts: dict[str, judge.Verdict]) -> None:
    """Put the judge's verdict on each test cell (momlab.course.classroom.feedback shows it); nothing else of ours."""
    for cell in nb.cells:
        cell.get("metadata", {}).pop("momlab", None)
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in verdicts:
            verdict = verdicts[grade_id]
            cell.metadata["momlab"] = {"score": verdict.score, "max_score": verdict.max_score, "verdict": list(verdict.lines)}
