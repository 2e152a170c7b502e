"""Build nbgrader notebooks from Python: cells with the right nbgrader metadata and stable ids.

Used by the scripts that write a lab's solution notebook (solutions/<lab>/<lab>.ipynb, the source
nbgrader releases from). Stable cell ids keep diffs small when a notebook is rebuilt.

    nb = notebook([
        md("# Lab 01"),
        setup("import momlab\\nmom = momlab.start()"),
        answer("ex1", "def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION"),
        tests("ex1_tests", "grading.check(f() == 1, 'f() must return 1')", points=2),
    ])
    write(nb, "solutions/01-x/01-x.ipynb")
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

_counter = {"n": 0}


def _id(seed: str) -> str:
    return hashlib.sha1(seed.encode()).hexdigest()[:12]


def _meta(grade: bool, solution: bool, locked: bool, grade_id: str, points: float | None = None) -> dict:
    meta = {"schema_version": 3, "grade": grade, "solution": solution, "locked": locked, "task": False, "grade_id": grade_id}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str) -> nbformat.NotebookNode:
    _counter["n"] += 1
    cell = new_markdown_cell(text.strip("\n"))
    cell.id = _id(f"md-{_counter['n']}-{text[:40]}")
    return cell


def code(source: str) -> nbformat.NotebookNode:
    """An ordinary code cell the learner runs (and may change)."""
    _counter["n"] += 1
    cell = new_code_cell(source.strip("\n"))
    cell.id = _id(f"code-{_counter['n']}-{source[:40]}")
    return cell


def setup(source: str, grade_id: str = "setup") -> nbformat.NotebookNode:
    """A read-only cell: nbgrader restores it at grading, so every run starts the same way."""
    cell = new_code_cell(source.strip("\n"), metadata=_meta(False, False, True, grade_id))
    cell.id = _id(grade_id)
    return cell


def answer(grade_id: str, source: str) -> nbformat.NotebookNode:
    """An autograded answer cell: ### BEGIN/END SOLUTION regions become a stub in the release."""
    cell = new_code_cell(source.strip("\n"), metadata=_meta(False, True, False, grade_id))
    cell.id = _id(grade_id)
    return cell


def tests(grade_id: str, source: str, points: float) -> nbformat.NotebookNode:
    """A locked test cell worth `points`; ### BEGIN/END HIDDEN TESTS regions leave the release."""
    cell = new_code_cell(source.strip("\n"), metadata=_meta(True, False, True, grade_id, points))
    cell.id = _id(grade_id)
    return cell


def notebook(cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def write(nb: nbformat.NotebookNode, path: str | Path) -> None:
    nbformat.validate(nb)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
