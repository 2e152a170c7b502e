"""Recall checks (momlab.course.recall): every exam objective has 3-5 graded single-best-answer items in its
lab, recall is at least 35 % of each lab's points, the release holds no answer, and `momlab progress` reports
the items per objective (judged only where the instructor's solutions are beside the notebooks)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from momlab.course import recall
from momlab.course.outcomes import Outcome
from momlab.course.progress import Progress
from tests.support.paths import ROOT

LABS = [f"{n:02d}" for n in range(1, 10)]
RECALL_SHARE = 0.35


def answer_cell(grade_id: str, source: str):
    return new_code_cell(source, metadata={"nbgrader": {"grade": False, "grade_id": grade_id, "solution": True}})


def notebook(*cells):
    return new_notebook(cells=list(cells))


# -- reading answers ----------------------------------------------------------------------------------

def test_answers_are_read_from_the_text_and_anything_else_is_unanswered():
    nb = notebook(answer_cell("recall_4_2", '### BEGIN SOLUTION\nrecall_4_2 = {"4.2-r1": "B ", "4.2-r2": ""}\n### END SOLUTION'),
                  answer_cell("recall_5_1", "# YOUR CODE HERE\nraise NotImplementedError()"),
                  answer_cell("recall_6_1", "recall_6_1 = make_answers()"),  # computed: not read, never run
                  answer_cell("recall_7_1", "recall_7_1 = {"),  # broken
                  answer_cell("other_answer", 'other_answer = {"x": "a"}'))
    assert recall.answers(nb) == {"4.2": {"4.2-r1": "b", "4.2-r2": None}}


def test_items_are_judged_only_against_a_solution():
    solution = notebook(answer_cell("recall_1_2", 'recall_1_2 = {"1.2-r1": "a", "1.2-r2": "c", "1.2-r3": "d"}'))
    learner = notebook(answer_cell("recall_1_2", 'recall_1_2 = {"1.2-r1": "a", "1.2-r2": "b"}'))
    assert [(i.item, i.answer, i.right) for i in recall.items(learner, solution)] == [
        ("1.2-r1", "a", True), ("1.2-r2", "b", False), ("1.2-r3", None, False)]
    assert [(i.item, i.right) for i in recall.items(learner)] == [("1.2-r1", None), ("1.2-r2", None)]


def test_the_solution_beside_a_release_is_found_only_in_a_clone_of_the_course(tmp_path):
    release = tmp_path / "notebooks" / "02-lab" / "02-lab.ipynb"
    release.parent.mkdir(parents=True)
    release.write_text("{}")
    assert recall.solution_beside(release) is None
    (tmp_path / "solutions" / "02-lab").mkdir(parents=True)
    (tmp_path / "solutions" / "02-lab" / "02-lab.ipynb").write_text("{}")
    assert recall.solution_beside(release) == (tmp_path / "solutions" / "02-lab" / "02-lab.ipynb").resolve()


def test_progress_reports_recall_per_objective_and_what_to_revise():
    outcome = Outcome("04-integrations", "04b", "predict_tests", ("4.4",), 2, 2)
    items = [recall.Item("4.4", "4.4-r1", "a", True), recall.Item("4.4", "4.4-r2", None, False),
             recall.Item("4.9", "4.9-r1", "b", True)]
    table = Progress(outcomes=[outcome], recall=items).by_objective()
    assert table.loc["4.4", ["exercises", "passed", "recall_items", "recall_answered", "recall_right"]].tolist() == [1, 1, 2, 1, 1]
    assert table.loc["4.9", ["exercises", "recall_items", "recall_right"]].tolist() == [0, 1, 1]
    progress = Progress(outcomes=[outcome], recall=items)
    assert progress.revise() == ["4.4", "4.9"]  # 4.4: an item wrong; 4.9: no exercise passed there
    assert "4.4" in progress.text() and "1 of 2 answered, 1 right" in progress.text()
    unjudged = Progress(outcomes=[outcome], recall=[recall.Item("4.4", "4.4-r1", "a", None)])
    assert "judged when graded" in unjudged.text() and unjudged.revise() == []


# -- the course's recall checks -----------------------------------------------------------------------

def solutions(lab: str) -> list[Path]:
    return sorted((ROOT / "solutions").glob(f"{lab}-*/*.ipynb"))


def objectives_of_section(section: str) -> list[str]:
    text = (ROOT / "tests" / "data" / "EXAM_OBJECTIVES.md").read_text()
    return re.findall(rf"^### \*\*({section}\.\d+)\*\*", text, re.M)


@pytest.mark.parametrize("lab", LABS)
def test_every_objective_has_three_to_five_graded_items(lab):
    found = {}
    for path in solutions(lab):
        found.update(recall.answers(nbformat.read(path, as_version=4)))
    wanted = objectives_of_section(str(int(lab)))
    assert wanted, f"no objectives for section {int(lab)}"
    counts = {objective: len(found.get(objective, {})) for objective in wanted}
    assert all(3 <= n <= 5 for n in counts.values()), counts
    for objective, answers in found.items():
        assert set(answers.values()) <= set("abcd"), (objective, answers)


def only_literals(source: str) -> bool:
    """An answer cell that only assigns plain values (letters, sets, dicts of names): a knowledge answer,
    not code (a class or a function to write)."""
    try:
        body = ast.parse(recall.code_of(source)).body
        return bool(body) and all(isinstance(node, ast.Assign) and ast.literal_eval(node.value) is not None for node in body)
    except (SyntaxError, ValueError, TypeError):
        return False


@pytest.mark.parametrize("lab", LABS)
def test_recall_is_at_least_35_percent_of_the_labs_points(lab):
    """Recall: the recall checks and the knowledge checks (a test cell that starts with grading.answered on an
    answer of plain values); coding exercises that also start with grading.answered do not count."""
    total = knowledge = 0.0
    for path in solutions(lab):
        cells = nbformat.read(path, as_version=4).cells
        answers = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in cells if c.cell_type == "code"}
        for cell in cells:
            grader = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and grader.get("grade"):
                total += grader.get("points", 0)
                answer = answers.get(grader.get("grade_id", "").removesuffix("_tests"), "")
                if cell.source.lstrip().startswith("grading.answered") and only_literals(answer):
                    knowledge += grader.get("points", 0)
    assert total and knowledge / total >= RECALL_SHARE, f"{lab}: recall {knowledge:g} of {total:g} points"


@pytest.mark.parametrize("lab", LABS)
def test_the_release_holds_no_recall_answer(lab):
    for path in sorted((ROOT / "notebooks").glob(f"{lab}-*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert recall.answers(nb) == {}, path
        for cell in nb.cells:
            if recall.objective_of(cell.metadata.get("nbgrader", {}).get("grade_id", "")):
                assert "raise NotImplementedError()" in cell.source, (path, cell.source[:200])
