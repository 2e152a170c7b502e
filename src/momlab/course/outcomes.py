"""What each exercise of an executed notebook scored, and the error it failed with.

Used on a learner's notebook run by `momlab progress` and on nbgrader's autograded notebooks in the
class report. An exercise is one autograded test cell (nbgrader metadata: grade, not solution).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MISSING = "test cell missing from the notebook (deleted?)"


@dataclass(frozen=True)
class Outcome:
    lab: str
    notebook: str
    exercise: str  # the test cell's grade_id
    objectives: tuple[str, ...]
    score: float
    max_score: float
    error: str = ""  # first line of the error, "" when it passed

    @property
    def passed(self) -> bool:
        return self.max_score > 0 and self.score >= self.max_score


def test_cells(nb) -> dict[str, object]:
    """grade_id -> cell, for the autograded test cells of a notebook."""
    cells = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution") and meta.get("grade_id"):
            cells[meta["grade_id"]] = cell
    return cells


def score(cell) -> tuple[float, float]:
    """(score, max) of a test cell, by nbgrader's rule (nbgrader.utils.determine_grade): an error or
    stderr output gives 0, a number as the cell's result gives that many points (partial credit),
    anything else full marks. Restated here because importing nbgrader takes several seconds."""
    max_points = float(cell.metadata["nbgrader"].get("points", 0))
    for output in cell.get("outputs", []):
        if output.output_type == "error" or (output.output_type == "stream" and output.get("name") == "stderr"):
            return 0.0, max_points
        if output.output_type == "execute_result":
            text = output.get("data", {}).get("text/plain", "")
            if isinstance(text, list):
                text = text[0] if len(text) == 1 else ""
            try:
                value = float(text)
            except ValueError:
                return max_points, max_points
            # nbgrader gives a negative number full marks and refuses one above the max; clamp that.
            return (min(value, max_points) if value >= 0 else max_points), max_points
    return max_points, max_points


def error(cell) -> str:
    """The first line saying why a test cell failed ("" if it did not)."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            name, value = output.get("ename", "Error"), _first_line(output.get("evalue", ""))
            if not value and output.get("traceback"):  # a timeout carries its message in the traceback
                value = _first_line(_ANSI.sub("", output["traceback"][-1])).removeprefix(name).lstrip(": ")
            return f"{name}: {value}" if value else name
        if output.output_type == "stream" and output.get("name") == "stderr":
            return f"wrote to stderr: {_first_line(output.get('text', ''))}"
    return ""


def _first_line(text) -> str:
    text = text if isinstance(text, str) else "".join(text)
    line = next((line.strip() for line in _ANSI.sub("", text).splitlines() if line.strip()), "")
    return line if len(line) <= 200 else line[:197] + "..."


def of_notebook(nb, lab: str, notebook: str, objectives: dict[str, tuple[str, ...]],
                expected: list[str] | None = None) -> list[Outcome]:
    """The outcome of every exercise. `expected` lists the test cells the notebook should have (from
    its source); one the learner deleted counts as failed, as nbgrader scores it."""
    cells = test_cells(nb)
    results = []
    for grade_id in expected if expected is not None else list(cells):
        cell = cells.get(grade_id)
        if cell is None:
            results.append(Outcome(lab, notebook, grade_id, objectives.get(grade_id, ()), 0.0, 0.0, MISSING))
            continue
        got, max_points = score(cell)
        results.append(Outcome(lab, notebook, grade_id, objectives.get(grade_id, ()), got, max_points,
                               "" if got >= max_points else (error(cell) or "partial credit")))
    return results
