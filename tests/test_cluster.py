"""Grading on a Dask cluster (momlab.course.classroom.cluster): a real `dask scheduler` and two `dask worker`
processes on loopback grade a small synthetic class; one worker is killed (SIGKILL) while it grades,
and every grade still matches grading on this machine. Also: a worker that dies costs its submission
one retry and a second death is reported, a bad scheduler address is one line and exit code 2, and
the progress bar's lines in a terminal and in a log."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from momlab.course.classroom import autograde, cluster, progressbar, sandbox
from momlab.course.classroom.course import Course
from tests.support import references, synthetic
from tests.support.paths import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

DASK = str(Path(sys.executable).parent / "dask")
LAB = "01-mom-api"
KINDS = ("solution", "blank", "half", "answered")
# Grading needs the sandbox (as in test_sandbox.py: skipped without it, except under CI=true, where it fails).
needs_sandbox = pytest.mark.skipif(not sandbox.available() and os.environ.get("CI") != "true",
                                   reason="no grading sandbox on this machine (apt-get install bubblewrap)")


# -- a cluster of separate processes on loopback ----------------------------------------------------------

@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """(scheduler address, a client on it): `dask scheduler` and two `dask worker` processes, each in its own
    session so that everything they start is ended with them, whatever the tests did."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    # _dies below is a task: this module, and the tests.support it imports, must import there
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    started: list[subprocess.Popen] = []
    client = None

    def start(*args: str, log: str) -> subprocess.Popen:
        process = subprocess.Popen([DASK, *args], stdout=(folder / log).open("wb"), stderr=subprocess.STDOUT,
                                   start_new_session=True, cwd=folder, env=env)
        started.append(process)
        return process

    try:
        start("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
              "--scheduler-file", str(folder / "scheduler.json"), log="scheduler.log")
        address = _address(folder / "scheduler.json", started[0])
        for name in ("w1", "w2"):
            start("worker", address, "--name", name, "--nthreads", "1", "--nworkers", "1", "--memory-limit", "2GiB",
                  "--no-dashboard", "--local-directory", str(folder / name), log=f"{name}.log")
        client = Client(address, timeout=30, set_as_default=False)
        client.wait_for_workers(2, timeout=120)
        yield address, client
    finally:
        if client is not None:
            client.close()
        for process in started:
            _end(process)


def _address(scheduler_file: Path, process: subprocess.Popen, wait: float = 60) -> str:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
    raise RuntimeError(f"dask scheduler did not start (exit code {process.poll()})")


def _end(process: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    try:  # a worker's nanny restarts its worker in the same session: nothing of the session may stay
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# -- the class ---------------------------------------------------------------------------------------------

def make_class(root: Path) -> Course:
    root = synthetic.make_course(root, ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    for kind in KINDS:
        synthetic.hand_in(root, kind, LAB, kind, ROOT / "notebooks" / LAB)
    return Course.at(root)


def cell_scores(course: Course) -> dict[str, dict[str, float]]:
    """learner -> grade cell -> score, from the course gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        return {submission.student.id: {grade.name: grade.score for notebook in submission.notebooks for grade in notebook.grades}
                for submission in gradebook.find_assignment(LAB).submissions}


class Killer(threading.Thread):
    """SIGKILLs the worker process that has been grading a submission for `after` seconds, once; `victim` is
    the key of that submission's task. A lab 01 submission takes a worker 2 s or more (the sandbox, the kernel,
    the notebook), even on a quiet machine: one second in, it is mid-submission."""

    def __init__(self, client, after: float = 1.0):
        super().__init__(daemon=True)
        self.client, self.after = client, after
        self.victim: str | None = None
        self.stopped = threading.Event()

    def run(self) -> None:
        seen: dict[str, float] = {}
        while not self.stopped.wait(0.25):
            for worker, keys in self.client.processing().items():
                for key in keys:
                    if not str(key).startswith("momlab-grade-"):
                        continue
                    if time.monotonic() - seen.setdefault(key, time.monotonic()) >= self.after:
                        pid = self.client.run(os.getpid, workers=[worker])[worker]
                        os.kill(pid, signal.SIGKILL)
                        self.victim = str(key)
                        return


@needs_sandbox
def test_grades_through_a_cluster_match_local_grades_with_a_worker_killed(dask_cluster, tmp_path, tmp_path_factory):
    address, client = dask_cluster
    local = make_class(tmp_path / "local")
    references.seed(local.root, [LAB], references.shared_folder(tmp_path_factory))
    shutil.copytree(local.root, tmp_path / "cluster")
    results = {r.learner: r for r in autograde.run(local, workers=2, report=lambda line: None)}
    assert sorted(results) == sorted(KINDS) and all(r.ok for r in results.values())
    remote = Course.at(tmp_path / "cluster")  # the same hand-ins, and the solution's results (.momlab): computed once

    killer = Killer(client)
    killer.start()
    lines: list[str] = []
    try:
        graded = autograde.run(remote, scheduler=address, report=lines.append)
    finally:
        killer.stopped.set()
        killer.join(timeout=10)
    assert killer.victim, "no worker was killed while grading: the test proves nothing"
    by_learner = {r.learner: r for r in graded}
    assert len(graded) == len(KINDS) and sorted(by_learner) == sorted(KINDS), "each submission once: none lost, none twice"
    assert all(r.ok for r in graded), [r.problem for r in graded]
    assert cell_scores(remote) == cell_scores(local)
    assert cell_scores(local)["solution"] and sum(cell_scores(local)["solution"].values()) == 23
    assert {k: (r.score, r.max_score, r.flags) for k, r in by_learner.items()} == {k: (r.score, r.max_score, r.flags) for k, r in results.items()}
    assert any("on the Dask cluster at" in line for line in lines)


# -- faults, without grading: a task that kills its own worker ---------------------------------------------

def _dies(lab_job, learner, files, fingerprint):
    """Kills the worker process it runs in: always, or only the first time (when `files` names a marker)."""
    marker = files.get("marker")
    if marker and Path(marker).exists():
        return f"{learner} done".encode()
    if marker:
        Path(marker).touch()
    os.kill(os.getpid(), signal.SIGKILL)


@needs_sandbox
def test_a_worker_that_dies_costs_one_retry_and_a_second_death_is_reported(dask_cluster, tmp_path):
    address, _ = dask_cluster
    client = cluster.connect(address, report=lambda line: None)
    try:
        once = dict(cluster.run_units(client, {"lab": b""}, [("once", "lab", "once", lambda: {"marker": str(tmp_path / "m")})],
                                      in_flight=1, task=_dies))
        assert once == {"once": b"once done"}
        always = dict(cluster.run_units(client, {"lab": b""}, [("always", "lab", "always", dict)], in_flight=1, task=_dies))
        assert list(always) == ["always"] and isinstance(always["always"], cluster.WorkerDied)
        assert "died 2 times" in str(always["always"]) and "not tried again" in str(always["always"])
        client.wait_for_workers(2, timeout=120)  # the nannies bring the killed workers back for the other tests
    finally:
        client.close()


def _profiling(dask_worker=None) -> bool:
    return any(name in dask_worker.periodic_callbacks for name in ("profile", "profile-cycle"))


def _tick_ms(dask_worker=None, dask_scheduler=None) -> float:
    return (dask_worker or dask_scheduler).periodic_callbacks["tick"].callback_time


@needs_sandbox
def test_the_cluster_is_quiet_once_connected_even_workers_restarted(dask_cluster):
    """Dask samples every task's thread every 10 ms by default, and checks every server's event loop every
    20 ms: grading need not pay for either. The workers the death test above killed came back as new
    processes: they too."""
    address, _ = dask_cluster
    client = cluster.connect(address, report=lambda line: None)
    try:
        profiling = client.run(_profiling)
        assert len(profiling) == 2 and not any(profiling.values()), profiling
        quiet = cluster.TICK_SECONDS * 1000
        workers, nannies = client.run(_tick_ms), client.run(_tick_ms, nanny=True)
        assert len(workers) == 2 and set(workers.values()) == {quiet}, workers
        assert nannies and set(nannies.values()) == {quiet}, nannies
        assert client.run_on_scheduler(_tick_ms) == quiet
    finally:
        client.close()


def test_a_pool_process_that_dies_costs_one_retry_here_too(tmp_path):
    marker = str(tmp_path / "m")
    once = dict(autograde._in_pool({"lab": b""}, [("once", "lab", "once", lambda: {"marker": marker})], 1, task=_dies_in_pool))
    assert once == {"once": b"once done"}
    always = dict(autograde._in_pool({"lab": b""}, [("always", "lab", "always", dict)], 1, task=_dies_in_pool))
    assert list(always) == ["always"] and type(always["always"]).__name__ == "BrokenProcessPool"


def _dies_in_pool(lab_job, learner, files):
    return _dies(lab_job, learner, files, None)


# -- what the instructor sees ------------------------------------------------------------------------------

def test_a_bad_scheduler_address_is_one_line_and_exit_code_2(tmp_path, capsys):
    from momlab.cli import main

    root = synthetic.make_course(tmp_path / "course", ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    synthetic.hand_in(root, "ada", LAB, "blank", ROOT / "notebooks" / LAB)
    with __import__("socket").socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    cases = {"nonsense": "is not a scheduler address", "http://127.0.0.1:8786": "is not a scheduler address",
             f"tcp://127.0.0.1:{closed}": "no Dask scheduler answers at"}
    for address, message in cases.items():
        capsys.readouterr()
        code = main(["class", "--course", str(root), "autograde", "--scheduler", address])
        err = capsys.readouterr().err
        assert code == 2, (address, err)
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (root / "autograded").exists()


def test_the_progress_bar_in_a_log_and_in_a_terminal():
    now = [0.0]
    results = [autograde.Graded("01-mom-api", "ada", True, 12, 12, seconds=10),
               autograde.Graded("04-integrations", "ada", False, problem="no"),
               autograde.Graded("01-mom-api", "bob", True, 5, 12, seconds=10, flags=("x",))]
    log = io.StringIO()
    bar = progressbar.Bar(log, interactive=False, now=lambda: now[0])
    bar.start(3, ["01-mom-api", "04-integrations", "01-mom-api"])
    now[0] = 10.0
    bar.done(results[0])
    assert bar.to_go() == pytest.approx(20.0)  # two left at 10 s each, one at a time so far
    bar.at_once = 4
    assert bar.to_go() == pytest.approx(10.0)  # the same, two at a time
    bar.at_once = 0
    bar.print("a line")
    now[0] = 12.0
    bar.done(results[1])
    bar.done(results[2])
    bar.finish()
    lines = log.getvalue().splitlines()
    assert lines[0] == "progress: 1/3 done: 1 graded, 0 not graded, 0 flagged  0:10 elapsed, about 0:20 to go"
    assert lines[1] == "a line" and lines[-1] == "3/3 done: 2 graded, 1 not graded, 1 flagged, in 0:12"
    assert "\r" not in log.getvalue() and "\x1b" not in log.getvalue()

    terminal = io.StringIO()
    bar = progressbar.Bar(terminal, interactive=True, now=lambda: now[0])
    bar.start(3)
    bar.done(results[0])
    bar.print("a line")
    now[0] = 14.0
    bar.finish()
    shown = terminal.getvalue()
    assert "\r[########................] 1/3 done" in shown and "\r\x1b[Ka line\n" in shown
    assert shown.endswith("1/3 done: 1 graded, 0 not graded, 0 flagged, in 0:02\n")

    table = progressbar.table(results).splitlines()
    assert table[0].split() == ["lab", "submissions", "graded", "not", "graded", "flagged", "mean", "score", "slowest"]
    assert table[1].split() == ["01-mom-api", "2", "2", "0", "1", "8.5/12", "0:10"]
    assert table[2].split() == ["04-integrations", "1", "0", "1", "0", "-", "0:00"]
