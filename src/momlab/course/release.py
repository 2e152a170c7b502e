"""What the course adds to nbgrader's generation of a lab's release (nbgrader_config.py lists it).

Every answer cell and test cell with code gets the `raises-exception` tag. JupyterLab's Run All stops at
the first cell that raises, unless the cell carries that tag; in a fresh release every exercise raises
(`NotImplementedError`, or a test that finds no answer yet), so without it Run All would end at Exercise 1.
Grading and Validate do not change: nbgrader runs every cell whatever its tags and scores test cells by
their outputs, and the tag is not part of a cell's checksum.
"""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution

TAG = "raises-exception"


def is_exercise(cell: NotebookNode) -> bool:
    """An answer or test cell with code: the cells a learner's unfinished work makes raise."""
    return cell.cell_type == "code" and (is_solution(cell) or is_grade(cell))


class TagExercises(NbGraderPreprocessor):
    """Tag each exercise cell `raises-exception` (see the module's docstring)."""

    def preprocess_cell(self, cell: NotebookNode, resources: dict[str, Any], index: int) -> tuple[NotebookNode, dict[str, Any]]:
        if is_exercise(cell):
            tags = cell.metadata.setdefault("tags", [])
            if TAG not in tags:
                tags.append(TAG)
        return cell, resources
