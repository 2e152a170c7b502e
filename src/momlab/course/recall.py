"""The recall checks: after each exam objective a lab asks 3-5 single-best-answer items, answered in a dict
`recall_X_Y = {"X.Y-r1": "b", ...}` (cell grade_id `recall_X_Y`) and graded item by item (`recall_X_Y_tests`).

Which answers are right is in the instructor's source only (`solutions/`), never in this package: a graded
run judges them outside the learner's kernel. Here the answers are read, not run, from the notebooks' text:

    recall.answers(nb)                          # {"4.2": {"4.2-r1": "b", ...}, ...}: what a learner wrote
    recall.items(learner_nb, solution_nb)       # one Item per question, right=None without a solution
    recall.solution_beside(path)                # solutions/<lab>/<name>.ipynb next to notebooks/<lab>/, if any

`momlab progress` uses it to show, per objective, how many recall items are answered and (for a learner who
has `solutions/` beside the notebooks, such as a clone of the course) how many are right.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PREFIX = "recall_"
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


@dataclass(frozen=True)
class Item:
    objective: str  # "4.2"
    item: str  # "4.2-r1"
    answer: str | None  # the learner's letter, None when not answered
    right: bool | None  # None when there is no solution to compare with


def objective_of(grade_id: str) -> str | None:
    """'recall_4_2' -> '4.2'; None for any other cell."""
    parts = grade_id.removeprefix(PREFIX).split("_") if grade_id.startswith(PREFIX) else []
    return ".".join(parts) if len(parts) == 2 and all(p.isdigit() for p in parts) else None


def answers(nb) -> dict[str, dict[str, str | None]]:
    """Each recall answer cell's dict, by objective: item id -> letter (None where the learner wrote no
    letter). A cell whose dict cannot be read as plain text (still blank, or computed) has no entry."""
    found = {}
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        objective = objective_of(grade_id)
        if cell.cell_type != "code" or objective is None:
            continue
        value = _assigned(cell.source, grade_id)
        if isinstance(value, dict):
            found[objective] = {str(k): (v.strip().lower() if isinstance(v, str) and v.strip() else None) for k, v in value.items()}
    return found


def code_of(source: str) -> str:
    """A cell's code without nbgrader's solution markers."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def _assigned(source: str, name: str):
    """The literal value last assigned to `name` in `source` (solution markers allowed), else None."""
    try:
        tree = ast.parse(code_of(source))
    except SyntaxError:
        return None
    value = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                value = None
    return value


def items(learner_nb, solution_nb=None) -> list[Item]:
    """One Item per recall question of the notebook. Without `solution_nb` (a classroom install), `right`
    is None: the answers are judged when the notebook is graded."""
    mine = answers(learner_nb)
    keys = answers(solution_nb) if solution_nb is not None else {}
    if not keys:
        return [Item(objective, item, letter, None) for objective, given in sorted(mine.items()) for item, letter in sorted(given.items())]
    return [Item(objective, item, mine.get(objective, {}).get(item), mine.get(objective, {}).get(item) == key)
            for objective, expected in sorted(keys.items()) for item, key in sorted(expected.items())]


def solution_beside(notebook: Path) -> Path | None:
    """The instructor's source of a release notebook in a clone of the course: notebooks/<lab>/<name>.ipynb
    -> solutions/<lab>/<name>.ipynb, when that file exists."""
    notebook = Path(notebook).resolve()
    candidate = notebook.parents[2] / "solutions" / notebook.parent.name / notebook.name if len(notebook.parents) > 2 else None
    return candidate if candidate is not None and candidate.is_file() and candidate != notebook else None
