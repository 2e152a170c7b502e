"""The whole course, solved: every solution notebook run top to bottom, timed.

    .venv/bin/python bench/course_time.py [--grading] [--only 04]

Each lab folder is copied to a temporary folder and each of its notebooks run there with nbclient
on this interpreter's python3 kernel, as "Run All" would. By default the mock keeps its learner
settings (flow delays on); --grading sets NBGRADER_EXECUTION=validate as `nbgrader validate` does,
which turns the delays off and leaves out reading material (the answer sheet), which nbgrader never
runs. Seconds per notebook (kernel start included) and the total, against a
target of 90 s for the whole course. The last line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from momlab.course.progress import has_exercises

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 90.0


def run_notebook(path: Path, timeout: int) -> float:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grading", action="store_true", help="run as nbgrader validate does (NBGRADER_EXECUTION=validate)")
    parser.add_argument("--only", default="", help="only labs whose folder name starts with this")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a cell may take")
    args = parser.parse_args()
    if args.grading:
        os.environ["NBGRADER_EXECUTION"] = "validate"
    else:
        os.environ.pop("NBGRADER_EXECUTION", None)
    labs = sorted(p for p in (ROOT / "solutions").iterdir() if p.is_dir() and p.name.startswith(args.only))
    times: dict[str, float] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="momlab-course-") as folder:
        for lab in labs:
            copy = Path(folder) / lab.name
            shutil.copytree(lab, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.sqlite*"))
            for notebook in sorted(copy.glob("*.ipynb")):
                if args.grading and not has_exercises(notebook):
                    continue  # reading material (the answer sheet): nbgrader never runs it
                start = time.perf_counter()
                try:
                    run_notebook(notebook, args.timeout)
                except Exception as exc:  # noqa: BLE001 - a failing notebook is a finding, the others still run
                    failed[notebook.name] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else ''}"
                times[notebook.name] = time.perf_counter() - start
                print(f"{notebook.name:<45}{times[notebook.name]:>8.1f} s" + ("  FAILED: " + failed[notebook.name] if notebook.name in failed else ""), flush=True)
    total = sum(times.values())
    mode = "grading (delays off)" if args.grading else "learner settings"
    print(f"{'whole course (' + mode + ')':<45}{total:>8.1f} s   target < {TARGET_S:.0f} s: {total / TARGET_S:.0%} of target")
    ok = not failed and total < TARGET_S
    print(json.dumps({"bench": "course_time", "figure": round(total, 1), "unit": "s", "target_s": TARGET_S, "ratio_to_target": round(total / TARGET_S, 3),
                      "ok": ok, "mode": mode, "notebooks": {k: round(v, 1) for k, v in times.items()}, "failed": failed}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
