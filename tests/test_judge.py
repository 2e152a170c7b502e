"""The judge: learner results against the solution's, decided outside the learner's kernel."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pandas as pd
import pytest

from momlab.course import grading
from momlab.course.classroom import judge, scan
from momlab.course.grading import RESULT_MIME


def graded_cell(grade_id: str, reports: list[tuple[str, object]], points: float = 2):
    cell = nbformat.v4.new_code_cell("")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": points}
    cell.outputs = [nbformat.v4.new_output("display_data", data={RESULT_MIME: {"label": label, "value": value}})
                    for label, value in reports]
    return cell


def notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


REFERENCE = {"ex1": {"points": 2, "results": {"a": [1, 2.5, "x"], "b": {"k": True}}},
             "ex2": {"points": 1, "results": {"c": None}}}


def test_matching_results_score_full_marks_and_numbers_get_a_tiny_tolerance():
    nb = notebook(graded_cell("ex1", [("a", [1, 2.5 + 1e-13, "x"]), ("b", {"k": True})]), graded_cell("ex2", [("c", None)], 1))
    verdicts = judge.judge(nb, REFERENCE)
    assert (verdicts["ex1"].score, verdicts["ex2"].score) == (2, 1)
    assert verdicts["ex1"].lines == ("a: passed", "b: passed")


@pytest.mark.parametrize("reports, score, says", [
    ([("a", [1, 2.5, "x"])], 1.0, "b: no result"),  # partial credit: one label of two
    ([("a", [1, 2.6, "y"]), ("b", {"k": True})], 1.0, "hidden case(s) 2, 3 of 3"),
    ([("a", [1, 2.5, "x"]), ("a", [1, 2.5, "x"]), ("b", {"k": True})], 1.0, "reported 2 times"),
    ([("a", [1, 2.5, "x"]), ("b", {"k": True}), ("zz", 1)], 0.0, "not a result this test asks for"),
    ([("a", [True, 2.5, "x"]), ("b", {"k": 1})], 0.0, "differs"),  # True is not 1, 1 is not True
    ([("a", [{"raised": "KeyError"}, 2.5, "x"]), ("b", {"k": True})], 1.0, "your code raised KeyError"),
])
def test_a_result_missing_repeated_extra_or_different_earns_nothing(reports, score, says):
    verdict = judge.judge(notebook(graded_cell("ex1", reports)), REFERENCE)["ex1"]
    assert verdict.score == score
    assert says in " ".join(verdict.lines)


def test_verdicts_never_show_the_expected_value():
    verdict = judge.judge(notebook(graded_cell("ex1", [("a", [0, 0, "wrong"]), ("b", {"k": False})])), REFERENCE)["ex1"]
    text = " ".join(verdict.lines)
    assert "2.5" not in text and "'x'" not in text and "True" not in text


def test_a_missing_test_cell_or_one_without_reference_results_scores_zero():
    verdicts = judge.judge(notebook(graded_cell("ex1", [])), {**REFERENCE, "ex3": {"points": 1, "results": {}}})
    assert verdicts["ex2"].score == 0 and "missing" in verdicts["ex2"].lines[0]
    assert verdicts["ex3"].score == 0


def test_reports_outside_test_cells_are_ignored():
    answer = nbformat.v4.new_code_cell("")
    answer.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "ex1_answer"}
    answer.outputs = graded_cell("x", [("c", None)]).outputs
    assert judge.judge(notebook(answer, graded_cell("ex2", [])), REFERENCE)["ex2"].score == 0


def test_plain_turns_results_into_json_data_through_the_builtin_types():
    class Sneaky(dict):
        def items(self):
            return [("forged", 1)]

        def __eq__(self, other):
            return True

    value = {"t": (1, 2), "s": {3, 1}, "n": np.int64(4), "f": np.float64(0.5), "nan": float("nan"),
             "frame": pd.DataFrame({"q": [1, 2]}), "series": pd.Series([1.5], index=["a"]), "sneaky": Sneaky(real=2),
             "object": object(), 5: "key"}
    plain = grading.plain(value)
    json.dumps(plain, allow_nan=False)  # plain JSON, nothing else
    assert plain["t"] == [1, 2] and plain["s"] == [1, 3] and plain["n"] == 4 and plain["f"] == 0.5
    assert plain["nan"] == {"float": "nan"} and plain["sneaky"] == {"real": 2} and plain["object"] == {"unserializable": "object"}
    assert plain["frame"] == {"index": [0, 1], "columns": ["q"], "data": [[1], [2]]} and plain["5"] == "key"
    assert grading.outcome(lambda: [][1]) == {"raised": "IndexError"}


def test_scan_flags_tampering_and_not_ordinary_answers():
    release = notebook(nbformat.v4.new_code_cell("import momlab\nmom = momlab.start()"))
    learner = notebook(
        nbformat.v4.new_code_cell("import momlab\nmom = momlab.start()"),  # the release's own cell
        nbformat.v4.new_code_cell("def f(x):\n    return sorted(set(x))\nrows = [r for r in range(3)]"),
        nbformat.v4.new_code_cell("from momlab import grading\ngrading.check = print"),
        nbformat.v4.new_code_cell("get_ipython().ast_transformers.append(None)"),
        nbformat.v4.new_code_cell("%config InlineBackend.figure_format = 'svg'"),
        nbformat.v4.new_code_cell("import sys\nsys.modules['momlab.course.grading'] = None"),
        nbformat.v4.new_code_cell("print(In[-1])"),
        nbformat.v4.new_code_cell("%timeit sorted([3, 1])"),
    )
    found = scan.notebook_findings(learner, release)
    assert [line.split(" (")[0] for line in found] == ["cell 3", "cell 4", "cell 5", "cell 6", "cell 7"]
    assert "changes the module grading" in found[0] and "AST transformer" in found[1] and "%config" in found[2]
