"""The committed release notebooks carry what momlab.course.release adds: each exercise cell (answer or
test, with code) is tagged raises-exception, so JupyterLab's Run All goes past it; no other cell is.
Run top to bottom untouched, as a learner's first Run All does, they err only in those exercise cells."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook, new_output
from nbgrader.utils import is_grade

from momlab.course.release import TAG, is_exercise

ROOT = Path(__file__).resolve().parents[1]
RELEASES = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
CELL_TIMEOUT = 300  # seconds; generous, since the course's test machines are busy


def test_there_are_releases():
    assert len(RELEASES) >= 13


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.name)
def test_exactly_the_exercise_cells_are_tagged(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [i for i, cell in enumerate(notebook.cells) if TAG in cell.metadata.get("tags", [])]
    exercises = [i for i, cell in enumerate(notebook.cells) if is_exercise(cell)]
    assert exercises, f"{path.name} has no exercise cell"
    assert tagged == exercises


def run_as_a_learner(path: Path) -> nbformat.NotebookNode:
    """Execute the release notebook top to bottom in a fresh kernel started in its folder, errors allowed.
    The caller keeps NBGRADER_EXECUTION unset, so the notebook runs as in JupyterLab, not as in grading."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return notebook


def learner_facing_errors(notebook: nbformat.NotebookNode) -> list[str]:
    """Each error a learner should not see: any error outside an exercise cell, and a NameError in a test
    cell (a knowledge check names its missing answer through grading.answered instead)."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if output.output_type != "error":
                continue
            if not is_exercise(cell) or (is_grade(cell) and output.ename == "NameError"):
                first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
                problems.append(f"cell {index} ({first_line!r}): {output.ename}: {output.evalue}")
    return problems


def test_an_error_is_the_learners_problem_only_in_an_exercise_and_never_a_name_error_in_a_test():
    def cell(source, ename=None, **nbgrader):
        made = new_code_cell(source, metadata={"nbgrader": nbgrader} if nbgrader else {})
        made.outputs = [new_output("error", ename=ename, evalue="", traceback=[])] if ename else []
        return made

    notebook = new_notebook(cells=[
        cell("mom = momlab.start()"),
        cell("def f():\n    raise NotImplementedError()", "NotImplementedError", solution=True, grade=False),
        cell("grading.answered('f')\nf()", "NotImplementedError", solution=False, grade=True),
        cell("shown = f()", "NotImplementedError"),
        cell("grading.check(answer == 'a', 'a letter')", "NameError", solution=False, grade=True),
    ])
    assert learner_facing_errors(notebook) == ["cell 3 ('shown = f()'): NotImplementedError: ",
                                               "cell 4 (\"grading.check(answer == 'a', 'a letter')\"): NameError: "]


@pytest.mark.slow
@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.name)
def test_run_all_on_the_untouched_release_errs_only_in_exercises(path, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    problems = learner_facing_errors(run_as_a_learner(path))
    assert not problems, f"{path.name}, run top to bottom as released:\n" + "\n".join(problems)
