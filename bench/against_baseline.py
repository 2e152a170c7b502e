"""The cost target in one run: CPU-seconds per learner of this code against the code before the scale-out
work (`4af7e86`, the grading the target's "today" was measured on), graded back to back.

    python bench/against_baseline.py               # 6 learners, every lab, 2 pairs
    python bench/against_baseline.py --pairs 3 --learners 9

The baseline is built once in .momlab/baseline-4af7e86/: that commit's files (`git archive`) and its own
venv, made by its own Makefile (this needs the package registry). Each side grades a synthetic class of its
own labs (the solution, the release unchanged and a half-solved notebook in turn), the baseline with its
own `autograde.run` (4 at a time, its default; no sandbox, no recall checks: it checks less than this
code), this code with `grade_class.grade` (--workers at a time). Both are timed by the same cgroup meter
(grade_class.CpuMeter), grading only (preparing the labs excluded). The pairs alternate which side goes
first, so a drift of the machine weighs on both; the ratio of each pair is printed, then their mean.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from grade_class import MIX, ROOT, CpuMeter, grade, synthetic_class  # noqa: E402

from momlab.course.classroom.course import Course  # noqa: E402
from momlab.course.progress import GRADING_WORKERS  # noqa: E402

BASELINE = "4af7e86"
BASELINE_WORKERS = 4  # its own default
HOME = ROOT / ".momlab" / f"baseline-{BASELINE}"

# Runs in the baseline's venv, against its own API (momlab.classroom then, momlab.course.classroom now).
DRIVER = r"""
import json, os, shutil, sys, tempfile, time
from pathlib import Path
from momlab.classroom import autograde, synthetic
from momlab.classroom.course import Course

root, learners, workers, group = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
mix = json.loads(sys.argv[5])

def cpu():  # grade_class.CpuMeter's reading; it cannot be imported here (it imports this code's momlab)
    if not group:
        import resource
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    usage = Path(group) / "cpuacct.usage"
    if usage.is_file():
        return int(usage.read_text()) / 1e9
    stat = dict(line.split() for line in (Path(group) / "cpu.stat").read_text().splitlines())
    return int(stat["usage_usec"]) / 1e6

labs = sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir())
work = Path(tempfile.mkdtemp(prefix="momlab-baseline-"))
course = synthetic.make_course(work / "course", root / "solutions", labs, root / "nbgrader_config.py")
for n in range(learners):
    for lab in labs:
        synthetic.hand_in(course, f"learner{n:03d}", lab, mix[n % len(mix)], root / "notebooks" / lab)
marks = {}
start = (time.monotonic(), cpu())
results = autograde.run(Course.at(course), workers=workers, report=lambda line: marks.setdefault("from", (time.monotonic(), cpu())))
end = (time.monotonic(), cpu())
first = marks.get("from", start)  # its first progress line: the labs are prepared, grading runs
short = [f"{r.lab}/{r.learner}" for r in results if r.ok and int(r.learner[-3:]) % len(mix) == 0 and r.score < r.max_score]
print(json.dumps({"cpu": end[1] - first[1], "wall": end[0] - first[0], "submissions": len(results),
                  "failed": sum(not r.ok for r in results), "short": short}))
shutil.rmtree(work, ignore_errors=True)
"""


def build_baseline() -> Path:
    """The baseline's files and venv, made once."""
    python = HOME / ".venv" / "bin" / "python"
    if (HOME / ".venv" / ".installed").is_file():
        return python
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    print(f"building the baseline {BASELINE} in {HOME} (once) ...", flush=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", BASELINE], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(HOME)], input=archive, check=True)
    subprocess.run(["make", "-C", str(HOME), ".venv/.installed", f"PYTHON={sys.executable}"], check=True,
                   stdout=subprocess.DEVNULL)
    return python


def baseline_run(python: Path, learners: int, meter: CpuMeter) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"  # nbgrader runs alembic by name
    out = subprocess.run([str(python), "-c", DRIVER, str(HOME), str(learners), str(BASELINE_WORKERS),
                          str(meter.group or ""), json.dumps(MIX)], cwd=HOME, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"against_baseline: the baseline's run failed (exit {out.returncode}); the end of its output:\n"
                         + "\n".join(out.stderr.strip().splitlines()[-15:])
                         + f"\nRemove {HOME} to build it again.")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=6, help="learners in each class (default 6)")
    parser.add_argument("--pairs", type=int, default=2, help="baseline and this code, back to back, this many times (default 2)")
    parser.add_argument("--workers", type=int, default=GRADING_WORKERS, help=f"this code: submissions graded at once (default {GRADING_WORKERS})")
    args = parser.parse_args()
    python = build_baseline()
    meter = CpuMeter()
    work = Path(tempfile.mkdtemp(prefix="momlab-bench-"))
    ratios, bad = [], False
    try:
        course = synthetic_class(work / "course", Course.at(ROOT).labs(), args.learners)
        print(f"CPU-seconds from {meter.kind}; {args.learners} learners; baseline {BASELINE_WORKERS} at a time, "
              f"this code {args.workers}", flush=True)
        for pair in range(args.pairs):
            figures: dict[str, tuple[float, float]] = {}
            for side in (("baseline", "this code") if pair % 2 == 0 else ("this code", "baseline")):
                if side == "baseline":
                    run = baseline_run(python, args.learners, meter)
                    bad |= bool(run["failed"] or run["short"])
                    figures[side] = (run["cpu"] / args.learners, run["wall"] / args.learners)
                else:
                    mine = grade("this code", course, args.learners, meter, args.workers, force=pair > 0)
                    bad |= bool(mine.failed or mine.short)
                    figures[side] = (mine.cpu_per_learner, mine.wall_per_learner)
                cpu, wall = figures[side]
                print(f"pair {pair + 1}, {side:9}: {cpu:5.1f} CPU-s and {wall:5.1f} s wall per learner; load {os.getloadavg()[0]:.1f}",
                      flush=True)
            ratios.append(figures["this code"][0] / figures["baseline"][0])
            print(f"pair {pair + 1}: this code / baseline = {ratios[-1]:.2f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        meter.close()
    print(f"\nCPU per learner, this code / {BASELINE}: " + ", ".join(f"{r:.2f}" for r in ratios)
          + f"; mean {sum(ratios) / len(ratios):.2f} (target: 0.50 or less)")
    if bad:
        print("some submission was not graded, or a solution was below full marks: see above", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
