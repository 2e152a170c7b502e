"""How long `momlab progress` takes over the whole course, for a learner who has answered everything.

    .venv/bin/python bench/progress_time.py [--workers N] [--only 01]

Builds a learner's folder from the release notebooks with every answer cell filled in from the
solutions (no hidden tests, as a learner's copy has), runs momlab.course.progress over it, and prints the
seconds against the target of one minute, and how many exercises passed (all of them should).
The last line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]  # momlab, and tests.support

from momlab.course import progress  # noqa: E402
from tests.support import synthetic  # noqa: E402

TARGET_S = 60.0


def answered_copy(folder: Path, only: str = "") -> Path:
    for lab in sorted(p for p in (ROOT / "notebooks").iterdir() if p.is_dir() and p.name.startswith(only)):
        shutil.copytree(lab, folder / lab.name, ignore=shutil.ignore_patterns("*.ipynb", "*.sqlite*", ".ipynb_checkpoints"))
        for released_path in sorted(lab.glob("*.ipynb")):
            solution = nbformat.read(ROOT / "solutions" / lab.name / released_path.name, as_version=4)
            released = nbformat.read(released_path, as_version=4)
            nbformat.write(synthetic.variant("answered", solution, released), folder / lab.name / released_path.name)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=progress.DEFAULT_WORKERS)
    parser.add_argument("--only", default="", help="only labs whose folder name starts with this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="momlab-bench-progress-") as tmp:
        labs = answered_copy(Path(tmp) / "notebooks", args.only)
        started = time.perf_counter()
        result = progress.run(labs, workers=args.workers)
        seconds = time.perf_counter() - started
    passed = sum(o.passed for o in result.outcomes)
    ok = seconds < TARGET_S and passed == len(result.outcomes) and not result.problems
    print(f"momlab progress over every lab, all answered: {seconds:.1f} s with {args.workers} at a time "
          f"(target < {TARGET_S:.0f} s: {seconds / TARGET_S:.0%} of target); {passed} of {len(result.outcomes)} exercises pass")
    for problem in result.problems:
        print("  not checked:", problem)
    print(json.dumps({"bench": "progress_time", "figure": round(seconds, 1), "unit": "s", "target_s": TARGET_S,
                      "ratio_to_target": round(seconds / TARGET_S, 3), "passed": passed, "exercises": len(result.outcomes),
                      "workers": args.workers, "ok": ok}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
