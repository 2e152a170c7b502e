"""How fast `momlab class autograde` grades a class: learners per minute, and the time for 100 learners.

    python bench/grade_class.py                          # 20 learners, every lab
    python bench/grade_class.py --learners 4 --labs 01-mom-api,07-mom-knowledge

A synthetic class (momlab.classroom.synthetic) in a temporary course: learners hand in, in turn, the
solution, the release unchanged, and a half-solved notebook, so the mix is one third each. (Endless
loops and floods are left out: each costs a fixed 30 s cell timeout, which would swamp the figure;
the tests cover them.) The projection adds the one-off setup to the grading time scaled linearly,
which holds because every submission is graded on its own. Solutions must score full marks: one
that does not is printed, as it means the grading itself went wrong.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from momlab.classroom import autograde, synthetic  # noqa: E402
from momlab.classroom.course import Course  # noqa: E402
from momlab.progress import DEFAULT_WORKERS  # noqa: E402

MIX = ("solution", "blank", "half")


def main() -> int:
    labs_available = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20, help="learners in the class (default 20)")
    parser.add_argument("--labs", default=",".join(labs_available), help="comma-separated labs (default: all)")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help=f"submissions graded at once (default {DEFAULT_WORKERS}: two per core)")
    args = parser.parse_args()
    labs = [lab for lab in args.labs.split(",") if lab]
    unknown = [lab for lab in labs if lab not in labs_available]
    if unknown or args.learners < 1:
        print(f"grade_class: unknown lab(s) {', '.join(unknown)}; labs are {', '.join(labs_available)}"
              if unknown else "grade_class: --learners must be 1 or more", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="momlab-bench-"))
    try:
        root = synthetic.make_course(work / "course", ROOT / "solutions", labs, ROOT / "nbgrader_config.py")
        for n in range(args.learners):
            for lab in labs:
                synthetic.hand_in(root, f"learner{n:03d}", lab, MIX[n % len(MIX)], ROOT / "notebooks" / lab)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        marks = {}

        def report(line: str) -> None:
            marks.setdefault("graded_from", time.monotonic())  # the first line comes once the labs are generated
            print(line, flush=True)

        results = autograde.run(Course.at(root), workers=args.workers, report=report)
        seconds = time.monotonic() - started
        setup = marks.get("graded_from", started) - started
        load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    failed = [r for r in results if not r.ok]
    # a solution below full marks means grading itself went wrong (e.g. a test that depends on timing)
    short = [f"{r.lab}/{r.learner} {r.score:g}/{r.max_score:g}" for r in results
             if r.ok and int(r.learner.removeprefix("learner")) % len(MIX) == 0 and r.score < r.max_score]
    grading = seconds - setup
    per_minute = args.learners / (grading / 60)
    per_learner = grading / args.learners
    print()
    print(f"labs: {len(labs)} ({', '.join(labs)})")
    print(f"learners: {args.learners}, submissions: {len(results)} ({len(failed)} not graded), workers: {args.workers}")
    print(f"time: {seconds:.0f} s = {setup:.0f} s setup (each lab generated twice, once per run) + {grading:.0f} s grading")
    print(f"learners per minute: {per_minute:.2f} ({per_learner:.0f} s of grading per learner for these labs)")
    print(f"projected for 100 learners, these labs: {(setup + 100 * per_learner) / 60:.1f} min")
    print(f"solutions below full marks: {len(short)}" + (f" ({', '.join(short)})" if short else ""))
    print(f"machine: {os.cpu_count()} cores, 1-minute load {load_before:.1f} before, {load_after:.1f} after")
    return 1 if failed or short else 0


if __name__ == "__main__":
    sys.exit(main())
