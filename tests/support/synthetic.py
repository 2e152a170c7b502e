"""A made-up class to try the grading on (the tests and bench/grade_class.py use it).

Each learner hands in every notebook of a lab in one of these ways:

- "solution": the instructor's solution;
- "blank": the release, unchanged;
- "half": the release with the first half of its answer cells solved;
- "answered": the release with every answer cell solved (a learner's own copy: no hidden tests in it);
- "loop": the solution, with the first answer cell stuck in an endless loop (one that sleeps: it is cut off
  at the cell time limit all the same, and leaves the CPU to the rest of the test suite meanwhile);
- "flood": the solution, with the first answer cell printing far more than a cell may keep (400,000 lines,
  about 2.7 MB, against the 1 MB limit);
- "deleted": the solution, with the first exercise's answer and test cells deleted;
- "broken": a file that is not a notebook at all.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

KINDS = ("solution", "blank", "half", "answered", "loop", "flood", "deleted", "broken")

LOOP = "import time\nwhile True:\n    time.sleep(0.05)\n"
FLOOD = "for line in range(400_000):\n    print(line)\n"


def make_course(root: Path, source: Path, labs: list[str], config: Path) -> Path:
    """A course folder at `root` with the given labs of `source` (the solutions folder) and `config`."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(config, root / "nbgrader_config.py")
    for lab in labs:
        shutil.copytree(source / lab, root / "solutions" / lab, ignore=shutil.ignore_patterns("*.sqlite*", ".ipynb_checkpoints"))
    return root


def hand_in(course: Path, learner: str, lab: str, kind: str, release: Path) -> None:
    """Put `learner`'s `kind` of submission for `lab` in submitted/. `release` holds the lab's release
    notebooks (notebooks/<lab>)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    target = course / "submitted" / learner / lab
    target.mkdir(parents=True, exist_ok=True)
    for solution_path in sorted((course / "solutions" / lab).glob("*.ipynb")):
        out = target / solution_path.name
        if kind == "broken":
            out.write_text('{"cells": [ this is not JSON')
            continue
        solution = nbformat.read(solution_path, as_version=4)
        released = nbformat.read(release / solution_path.name, as_version=4)
        nbformat.write(variant(kind, solution, released), out)


def answer_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def variant(kind: str, solution, released):
    if kind == "solution":
        return solution
    if kind == "blank":
        return released
    if kind in ("half", "answered"):
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in answer_cells(solution)}
        for cell in answer_cells(released)[: len(answers) // 2 if kind == "half" else None]:
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
        return released
    first = answer_cells(solution)[0]
    if kind == "loop":
        first.source = LOOP
    elif kind == "flood":
        first.source = FLOOD
    elif kind == "deleted":
        # the answer cell and the test cell(s) right after it, up to the next markdown cell
        start = solution.cells.index(first)
        end = start + 1
        while end < len(solution.cells) and solution.cells[end].cell_type == "code":
            end += 1
        del solution.cells[start:end]
    return solution
