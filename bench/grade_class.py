"""What grading a class costs: CPU-seconds and wall time per learner, on this machine and through a Dask
cluster, and the projected time for 100 and 500 learners on N machines.

    python bench/grade_class.py                          # 20 learners, every lab, local then a 2-worker cluster
    python bench/grade_class.py --learners 6 --mode local
    python bench/grade_class.py --learners 3 --labs 01-mom-api,07-mom-knowledge --mode cluster
    python bench/grade_class.py --learners 3 --mode local --kernels both   # ordinary kernels, then forked ones

A synthetic class (tests/support/synthetic.py) in a temporary course: learners hand in, in turn, the
solution, the release unchanged, and a half-solved notebook, so the mix is one third each. (Endless
loops and floods are left out: each costs a fixed 30 s cell timeout, which would swamp the figure;
the tests cover them.) "local" grades it with `momlab class autograde`'s pool (--workers at once);
"cluster" starts `dask scheduler` and --cluster-workers `dask worker` processes (one thread each) on
loopback and grades it again through them (--scheduler), and the grades must be the same.

CPU-seconds count every process the run starts (the grader, its workers, the sandboxes and kernels,
the scheduler): they are read from a cgroup of this process's own (cpuacct, as root on Linux). Without
one they fall back to this process and its waited-for children, which misses the sandboxed kernels (it
says so). CPU-seconds are the figure to compare between runs on a busy machine; wall time depends on
what else runs, so the load average is printed beside it. "setup" is preparing the labs (nbgrader
generates each twice; the solutions run once, then are cached) and, for the cluster, starting it.

The projection: setup + learners x wall per learner / N machines like this one (submissions are
independent), but never below the grader's own serial work (judging and writing every result here).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # momlab, and tests.support

from momlab.course.classroom import autograde  # noqa: E402
from momlab.course.classroom.course import Course  # noqa: E402
from momlab.course.progress import GRADING_WORKERS  # noqa: E402
from tests.support import synthetic  # noqa: E402

MIX = ("solution", "blank", "half")
MACHINES = (1, 2, 4, 8)


# -- CPU-seconds of this process and everything it starts -----------------------------------------------

class CpuMeter:
    """CPU-seconds used so far by this process and all it started, from a cgroup made for it (else rusage)."""

    def __init__(self):
        self.group: Path | None = None
        self.home: Path | None = None
        self.read = self._rusage
        self.kind = "rusage of this process and its waited-for children (misses the sandboxed kernels)"
        for parent, usage, kind in self._hierarchies():
            group = parent / f"momlab-bench-{secrets.token_hex(4)}"
            try:
                group.mkdir()
                (group / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                if group.is_dir():
                    group.rmdir()
                continue
            self.group, self.home, self.kind = group, parent, kind
            self.read = lambda group=group, usage=usage: usage(group)
            break

    @staticmethod
    def _hierarchies():
        """(where to make the group, how to read its CPU-seconds, what it is) for cgroup v1 cpuacct, then v2."""
        mounts = [line.split() for line in Path("/proc/mounts").read_text().splitlines()] if Path("/proc/mounts").is_file() else []
        own = {}
        if Path("/proc/self/cgroup").is_file():
            for line in Path("/proc/self/cgroup").read_text().splitlines():
                number, controllers, path = line.split(":", 2)
                own["v2" if number == "0" else controllers] = path
        for _, mount, kind, options, *_ in mounts:
            if kind == "cgroup" and "cpuacct" in options.split(","):
                key = next((k for k in own if "cpuacct" in k.split(",")), None)
                if key is not None:
                    yield (Path(mount) / own[key].lstrip("/"), lambda g: int((g / "cpuacct.usage").read_text()) / 1e9,
                           "a cgroup (cpuacct) holding every process of the run")
            if kind == "cgroup2" and "v2" in own:
                def usage(group):
                    stat = dict(line.split() for line in (group / "cpu.stat").read_text().splitlines())
                    return int(stat["usage_usec"]) / 1e6
                yield Path(mount) / own["v2"].lstrip("/"), usage, "a cgroup (v2) holding every process of the run"

    @staticmethod
    def _rusage() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    def close(self) -> None:
        """Remove the group, after moving back what is left in it (this process; multiprocessing's resource
        tracker, which lives as long as this process does)."""
        if self.group is None:
            return
        for _ in range(100):
            for pid in (self.group / "cgroup.procs").read_text().split():
                try:
                    (self.home / "cgroup.procs").write_text(pid)
                except OSError:  # gone meanwhile
                    pass
            try:
                self.group.rmdir()
                return
            except OSError:
                time.sleep(0.1)
        print(f"grade_class: could not remove the cgroup {self.group}", file=sys.stderr)


def own_cpu() -> float:
    """This process alone: the grader's serial work (judging, writing), and its pool or client threads."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


class Load:
    """The 1-minute load average: before, after, and its mean sampled every 5 s in between."""

    def __init__(self):
        self.before, self.samples = os.getloadavg()[0], []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(5):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> str:
        self._stop.set()
        after = os.getloadavg()[0]
        mean = sum(self.samples) / len(self.samples) if self.samples else after
        return f"load {self.before:.1f} before, {mean:.1f} mean, {after:.1f} after"


# -- the class ----------------------------------------------------------------------------------------

def synthetic_class(folder: Path, labs: list[str], learners: int) -> Course:
    """A course of `labs` in `folder` where each learner hands in, in turn, each kind of work in MIX."""
    root = synthetic.make_course(folder, ROOT / "solutions", labs, ROOT / "nbgrader_config.py")
    for n in range(learners):
        for lab in labs:
            synthetic.hand_in(root, f"learner{n:03d}", lab, MIX[n % len(MIX)], ROOT / "notebooks" / lab)
    return Course.at(root)


# -- one grading run ----------------------------------------------------------------------------------

@dataclass
class Figures:
    mode: str
    learners: int
    submissions: int = 0
    failed: int = 0
    setup_wall: float = 0.0
    setup_cpu: float = 0.0
    wall: float = 0.0  # grading only
    cpu: float = 0.0
    grader_cpu: float = 0.0  # this process alone, grading only
    load: str = ""
    scores: dict = field(default_factory=dict)
    short: list = field(default_factory=list)

    @property
    def cpu_per_learner(self) -> float:
        return self.cpu / self.learners

    @property
    def wall_per_learner(self) -> float:
        return self.wall / self.learners

    def projection(self, learners: int, machines: int) -> float:
        return self.setup_wall + max(learners * self.wall_per_learner / machines, learners * self.grader_cpu / self.learners)


def grade(mode: str, course: Course, learners: int, meter: CpuMeter, workers: int, scheduler: str | None = None,
          force: bool = False, started_at: tuple[float, float] | None = None) -> Figures:
    figures = Figures(mode, learners)
    wall0, cpu0 = started_at or (time.monotonic(), meter.read())
    marks = {}

    def report(line: str) -> None:
        if line.startswith("Prepared "):  # the labs are ready: grading starts
            marks["graded_from"] = (time.monotonic(), meter.read(), own_cpu())
        print(f"  [{mode}] {line}", flush=True)

    load = Load()
    results = autograde.run(course, workers=workers, report=report, scheduler=scheduler, force=force)
    wall1, cpu1, own1 = time.monotonic(), meter.read(), own_cpu()
    figures.load = load.stop()
    start_wall, start_cpu, start_own = marks.get("graded_from", (wall0, cpu0, own1))
    figures.setup_wall, figures.setup_cpu = start_wall - wall0, start_cpu - cpu0
    figures.wall, figures.cpu, figures.grader_cpu = wall1 - start_wall, cpu1 - start_cpu, own1 - start_own
    figures.submissions, figures.failed = len(results), sum(not r.ok for r in results)
    figures.scores = {(r.lab, r.learner): (r.ok, r.score, r.max_score) for r in results}
    # a solution below full marks means grading itself went wrong (e.g. a test that depends on timing)
    figures.short = [f"{r.lab}/{r.learner} {r.score:g}/{r.max_score:g}" for r in results
                     if r.ok and int(r.learner.removeprefix("learner")) % len(MIX) == 0 and r.score < r.max_score]
    return figures


# -- a cluster on this machine --------------------------------------------------------------------------

class LocalCluster:
    """`dask scheduler` and `dask worker` processes on loopback, as an instructor would start them."""

    def __init__(self, folder: Path, workers: int):
        self.folder, self.processes = folder, []
        folder.mkdir(parents=True, exist_ok=True)
        dask = str(Path(sys.executable).parent / "dask")
        self._start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(folder / "scheduler.json")], "scheduler.log")
        deadline = time.monotonic() + 60
        while not (folder / "scheduler.json").is_file():
            if time.monotonic() > deadline or self.processes[0].poll() is not None:
                raise RuntimeError(f"dask scheduler did not start: see {folder / 'scheduler.log'}")
            time.sleep(0.2)
        time.sleep(0.2)
        self.address = json.loads((folder / "scheduler.json").read_text())["address"]
        self._start([dask, "worker", self.address, "--nworkers", str(workers), "--nthreads", "1", "--memory-limit", "2GiB",
                     "--no-dashboard", "--local-directory", str(folder / "workers")], "workers.log")
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, command: list[str], log: str) -> None:
        self.processes.append(subprocess.Popen(command, stdout=(self.folder / log).open("wb"), stderr=subprocess.STDOUT,
                                               start_new_session=True))

    def stop(self) -> None:
        for process in reversed(self.processes):
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(process.pid, sig)
                    process.wait(timeout=15)
                    break
                except ProcessLookupError:
                    break
                except subprocess.TimeoutExpired:
                    continue


# -- the report ---------------------------------------------------------------------------------------

def show(figures: Figures, labs: list[str], workers: str) -> None:
    print(f"\n{figures.mode}: {figures.learners} learners x {len(labs)} labs = {figures.submissions} submissions "
          f"({figures.failed} not graded), {workers}")
    print(f"  setup   {figures.setup_wall:6.0f} s wall, {figures.setup_cpu:7.1f} CPU-s")
    print(f"  grading {figures.wall:6.0f} s wall, {figures.cpu:7.1f} CPU-s ({figures.grader_cpu:.1f} of them in the grader itself); {figures.load}")
    print(f"  per learner: {figures.cpu_per_learner:.1f} CPU-s, {figures.wall_per_learner:.1f} s wall")
    print(f"  solutions below full marks: {len(figures.short)}" + (f" ({', '.join(figures.short)})" if figures.short else ""))


def projections(figures: Figures, labs: list[str]) -> None:
    print(f"\nprojected wall time from {figures.mode} ({len(labs)} labs; N machines like this one, "
          f"setup {figures.setup_wall:.0f} s once):")
    print(f"  {'learners':>8} " + " ".join(f"{f'N={n}':>9}" for n in MACHINES))
    for learners in (100, 500):
        print(f"  {learners:>8} " + " ".join(f"{figures.projection(learners, n) / 60:7.1f} m" for n in MACHINES))


def main() -> int:
    labs_available = Course.at(ROOT).labs()  # the folders with graded cells (not the answer sheet)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20, help="learners in the class (default 20)")
    parser.add_argument("--labs", default=",".join(labs_available), help="comma-separated labs (default: all)")
    parser.add_argument("--workers", type=int, default=GRADING_WORKERS, help=f"local: submissions graded at once (default {GRADING_WORKERS}: three per core)")
    parser.add_argument("--cluster-workers", type=int, default=2, help="cluster: dask worker processes on this machine (default 2)")
    parser.add_argument("--mode", choices=("local", "cluster", "both"), default="both", help="what to measure (default both)")
    parser.add_argument("--kernels", choices=("zygote", "plain", "both"), default="zygote",
                        help="local: kernels forked from the zygote, started plain (MOMLAB_ZYGOTE=0), or both in turn (default zygote)")
    args = parser.parse_args()
    labs = [lab for lab in args.labs.split(",") if lab]
    unknown = [lab for lab in labs if lab not in labs_available]
    if unknown or args.learners < 1:
        print(f"grade_class: unknown lab(s) {', '.join(unknown)}; labs are {', '.join(labs_available)}"
              if unknown else "grade_class: --learners must be 1 or more", file=sys.stderr)
        return 2
    meter = CpuMeter()
    work = Path(tempfile.mkdtemp(prefix="momlab-bench-"))
    runs: list[tuple[Figures, str]] = []
    try:
        course = synthetic_class(work / "course", labs, args.learners)
        print(f"CPU-seconds from {meter.kind}")
        if args.mode in ("local", "both"):
            kinds = ("plain", "zygote") if args.kernels == "both" else (args.kernels,)
            for n, kind in enumerate(kinds):
                os.environ["MOMLAB_ZYGOTE"] = "1" if kind == "zygote" else "0"
                runs.append((grade(f"local ({kind} kernels)", course, args.learners, meter, args.workers, force=n > 0),
                             f"{args.workers} at a time"))
            os.environ["MOMLAB_ZYGOTE"] = "1"  # the cluster's workers fork their kernels as an instructor's would
        if args.mode in ("cluster", "both"):
            started_at = (time.monotonic(), meter.read())
            cluster = LocalCluster(work / "dask", args.cluster_workers)
            try:
                figures = grade("cluster", course, args.learners, meter, args.workers, cluster.address,
                                force=args.mode == "both", started_at=started_at)
            finally:
                cluster.stop()
            runs.append((figures, f"{args.cluster_workers} dask workers x 1 thread"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        meter.close()
    for figures, workers in runs:
        show(figures, labs, workers)
    for (first, _), (other, _) in itertools.pairwise(runs):
        same = first.scores == other.scores
        print(f"\ngrades {first.mode} and {other.mode}: {'identical' if same else 'DIFFERENT'}; "
              f"CPU per learner {other.cpu_per_learner / first.cpu_per_learner:.2f} x, wall {other.wall / first.wall:.2f} x")
    for figures, _ in runs:
        projections(figures, labs)
    print(f"\nmachine: {os.cpu_count()} cores")
    bad = any(f.failed or f.short for f, _ in runs) or any(a.scores != b.scores for (a, _), (b, _) in itertools.pairwise(runs))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
