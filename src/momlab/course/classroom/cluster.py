"""Grading on a Dask cluster: each submission one task, the lab's shared files sent once per lab.

    client = cluster.connect("tcp://grader-1:8786", sandboxed=True)   # checks the workers, or says what to fix
    for key, outcome in cluster.run_units(client, labs, units): ...   # as autograde.run_units

Workers need this package installed (the same version as here) and bubblewrap, nothing else: the
lab (source files, template gradebook, nbgrader_config.py) travels as one task per lab that every
submission's task depends on, so it crosses the network once per worker rather than once per learner,
and the scheduler can send it again if every worker holding it dies. The learner's files travel with
their own task. A worker returns the executed notebooks; only this process judges and writes grades.

Faults: a worker that dies while grading costs that submission one more try on another worker (the
scheduler's allowed-failures is set to 1 for this); a submission whose worker dies twice comes back as
`WorkerDied` and is reported, not tried again. A task that raises is tried once more (retries=1).
Every submission yields exactly once, so none is lost or graded twice.
"""

from __future__ import annotations

import hashlib
import itertools
import socket
import threading
import uuid
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from distributed.diagnostics.plugin import NannyPlugin, WorkerPlugin

from momlab.course.errors import UserError

ALLOWED_FAILURES = 1  # worker deaths a submission survives; the next one reports it
CONNECT_SECONDS = 10
TICK_SECONDS = 1.0  # how often a server of the cluster checks its event loop (Dask: every 20 ms; see slow_tick)
WORKERS_SECONDS = 60  # how long to wait for the first worker to join
SCHEMES = ("tcp", "tls")
START_WORKER = "dask worker {address} --nworkers <3 x cores> --nthreads 1"


class WorkerDied(Exception):
    """The workers grading a submission died twice: it is reported, not tried again."""


def address_of(text: str) -> str:
    """`tcp://HOST:PORT` (a bare HOST:PORT gets tcp://), or a UserError saying what the option wants."""
    address = text.strip()
    if "://" not in address:
        address = f"tcp://{address}"
    parts = urlsplit(address)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise UserError(f"--scheduler {text!r} is not a scheduler address: give tcp://HOST:PORT, as `dask scheduler` "
                        "prints it (port 8786 by default)")
    return f"{parts.scheme}://{parts.netloc}"


def connect(text: str, sandboxed: bool = True, report=print):
    """A Dask client on the scheduler at `text`, once it has a worker that can grade; else a UserError."""
    from distributed import Client

    address = address_of(text)
    parts = urlsplit(address)
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_SECONDS).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(f"no Dask scheduler answers at {address} ({reason}): start one there with `dask scheduler`, "
                        "or check the host and port (and the firewall between)") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except Exception as exc:  # it answered, but not as a Dask scheduler (or with another Dask version)
        raise UserError(f"{address} does not answer as a Dask scheduler ({type(exc).__name__}: {exc}); "
                        "start one with `dask scheduler`, with the same dask and distributed versions as here") from None
    try:
        client.run_on_scheduler(_set_up_scheduler, ALLOWED_FAILURES)
        client.register_plugin(QuietWorker(), name=QuietWorker.name)
        client.register_plugin(QuietNanny(), name=QuietNanny.name)
        _check_workers(client, address, sandboxed, report)
    except BaseException:
        client.close()
        raise
    return client


def run_units(client, labs: dict[str, bytes], units: Iterable[tuple], in_flight: int | None = None,
              task=None) -> Iterator[tuple]:
    """(key, run bytes or the exception that stopped it) for every (key, lab, learner, files) of `units`, as
    they finish. `labs` holds each lab's shared job (autograde.lab_job); `files()` reads a learner's files,
    called only when its task is sent. No more than `in_flight` tasks (default: as many as the cluster has
    threads) are out at a time, so a class of any size never sits in memory at once, and a worker that dies
    holds only the submission it was grading (Dask counts a death against every task assigned to that
    worker, waiting or not). `task` replaces the grading function (tests)."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    task = task or grade
    run = uuid.uuid4().hex[:8]  # keys of one run: two runs on one scheduler never share a result
    fingerprint = package_fingerprint()
    shared = {lab: client.submit(_lab_job, data, key=f"momlab-lab-{lab}-{run}") for lab, data in labs.items()}
    pending, numbers, keys = iter(units), itertools.count(), {}
    finished = as_completed(loop=client.loop)

    def fill() -> None:
        limit = in_flight or max(1, sum(client.nthreads().values()))
        while finished.count() < limit:
            unit = next(pending, None)
            if unit is None:
                return
            key, lab, learner, files = unit
            future = client.submit(task, shared[lab], learner, files(), fingerprint, retries=1,
                                   key=f"momlab-grade-{run}-{next(numbers)}-{lab}-{learner}")
            keys[future.key] = key
            finished.add(future)

    try:
        fill()
        for future in finished:
            key = keys.pop(future.key)
            try:
                outcome = future.result()
            except KilledWorker as exc:
                outcome = WorkerDied(f"the worker grading it died {ALLOWED_FAILURES + 1} times (last {exc.last_worker.address}); "
                                     "not tried again: look at that worker's log, then grade it again with --learner")
            except Exception as exc:
                outcome = exc
            future.release()
            fill()  # before handing the result over: the workers need not wait while this process judges it
            yield key, outcome
    finally:
        for future in shared.values():
            future.release()


# -- on the worker ---------------------------------------------------------------------------------------

_ONE_AT_A_TIME = threading.Lock()  # one grading per process: its time limit kills the process's kernels


def grade(lab_job: bytes, learner: str, files: dict[str, bytes], fingerprint: str) -> bytes:
    """A worker's task: grade one submission (unit.grade_one), unless this worker cannot grade as the
    instructor's machine would; then a run that is not graded, saying why."""
    from momlab.course.classroom import unit

    with _ONE_AT_A_TIME:
        job = unit.Job.from_bytes(lab_job)
        problem = worker_problem(job.sandbox, fingerprint)
        if problem:
            return unit.Run(job.lab, learner, False, problem=f"worker {_worker_name()}: {problem}").to_bytes()
        return unit.grade_one(lab_job, learner, files)


class QuietWorker(WorkerPlugin):
    """Every worker, those running and those that join or restart later: Dask's statistical profiler
    stopped (it samples each task's thread every 10 ms, which on a grading worker, with deep nbgrader and
    nbclient stacks and long tasks, cost about as much CPU as the grading itself; nobody reads its
    profiles here), and its event-loop check slowed (`slow_tick`)."""

    name = "momlab-quiet-worker"

    def setup(self, worker) -> None:
        for callback in ("profile", "profile-cycle"):
            periodic = worker.periodic_callbacks.pop(callback, None)
            if periodic is not None:
                periodic.stop()
        slow_tick(worker)


class QuietNanny(NannyPlugin):
    """Every nanny (the `dask worker` process that watches its workers): its event-loop check slowed."""

    name = "momlab-quiet-nanny"

    def setup(self, nanny) -> None:
        slow_tick(nanny)


def slow_tick(server) -> None:
    """Dask checks each server's event loop every 20 ms (distributed.admin.tick.interval), only to log when
    it was stuck for 3 s or more: with a scheduler, a nanny and two workers that is about a tenth of a core
    all the time, idle or not. Once a second still catches a 3 s stall."""
    tick = server.periodic_callbacks.get("tick")
    if tick is not None:
        tick.callback_time = TICK_SECONDS * 1000


def _lab_job(data: bytes) -> bytes:
    return data


@cache
def worker_problem(sandboxed: bool, fingerprint: str | None = None) -> str:
    """Why this process cannot grade ("" if it can): no sandbox, or another momlab than the instructor's."""
    if fingerprint and fingerprint != package_fingerprint():
        return ("runs another version of momlab than the instructor's: install the same one there "
                "(pip install of the same repository), then restart the worker")
    if sandboxed:
        from momlab.course.classroom import sandbox

        try:
            sandbox.require()
        except UserError as exc:
            return str(exc)
    return ""


def _worker_check(sandboxed: bool, fingerprint: str, dask_worker=None) -> tuple[str, int]:
    return worker_problem(sandboxed, fingerprint), dask_worker.state.nthreads


def _set_up_scheduler(allowed_failures: int, dask_scheduler=None) -> None:
    dask_scheduler.allowed_failures = allowed_failures
    slow_tick(dask_scheduler)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except ValueError:
        return socket.gethostname()


@cache
def package_fingerprint() -> str:
    """Changes when any file of the momlab package or its data changes (the same for an editable and a wheel
    install of one source)."""
    from momlab import data

    package, folder = Path(__file__).resolve().parents[2], data.folder().resolve()  # momlab/ and data/
    digest = hashlib.sha256()
    for root in (package, folder):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            parts = path.relative_to(root).parts
            if any(part == "__pycache__" or part.startswith(".") for part in parts) or path.suffix == ".pyc" \
                    or (root == package and path.is_relative_to(folder)):
                continue
            digest.update("/".join(parts).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _check_workers(client, address: str, sandboxed: bool, report) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except TimeoutError:
        raise UserError(f"the scheduler at {address} has no workers after {WORKERS_SECONDS} s: start them on each "
                        f"grading machine with `{START_WORKER.format(address=address)}`") from None
    answers = client.run(_worker_check, sandboxed, package_fingerprint(), on_error="return")
    broken = {worker: (answer[0] if isinstance(answer, tuple) else f"{type(answer).__name__}: {answer}")
              for worker, answer in answers.items() if not isinstance(answer, tuple) or answer[0]}
    if broken:
        raise UserError("these workers cannot grade: " + "; ".join(f"{w}: {why}" for w, why in sorted(broken.items()))
                        + ". Fix them or stop them, then run this again")
    threads = sum(answer[1] for answer in answers.values())
    if any(answer[1] > 1 for answer in answers.values()):
        report(f"Note: a worker with --nthreads above 1 grades one submission at a time anyway; start workers with "
               f"`{START_WORKER.format(address=address)}`")
    report(f"Dask scheduler {address}: {len(answers)} worker(s), {threads} thread(s).")
