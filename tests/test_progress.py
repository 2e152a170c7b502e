"""`momlab progress`: a learner's labs run on copies, two at a time, scored per exercise and objective."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from momlab.course import objectives, outcomes, progress
from tests.support import synthetic
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow


def fingerprint(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def labs(tmp_path_factory) -> Path:
    """A learner's folder: lab 01 half done (its first four answers: exercises 1-3 and the recall check of
    1.1), the practice exam untouched, and a third lab whose only notebook is not a notebook; beside it, as
    in a clone of the course, lab 01's solution (so the recall answers are judged)."""
    folder = tmp_path_factory.mktemp("learner") / "notebooks"
    shutil.copytree(ROOT / "notebooks" / "10-practice-exam", folder / "10-practice-exam")
    lab = folder / "01-mom-api"
    lab.mkdir()
    solution = nbformat.read(ROOT / "solutions" / "01-mom-api" / "01-mom-api.ipynb", as_version=4)
    released = nbformat.read(ROOT / "notebooks" / "01-mom-api" / "01-mom-api.ipynb", as_version=4)
    nbformat.write(synthetic.variant("half", solution, released), lab / "01-mom-api.ipynb")
    shutil.copytree(ROOT / "solutions" / "01-mom-api", folder.parent / "solutions" / "01-mom-api")
    (folder / "99-scratch").mkdir()
    (folder / "99-scratch" / "notes.ipynb").write_text("not a notebook")
    return folder


@pytest.fixture(scope="module")
def checked(labs):
    before = fingerprint(labs)
    result = progress.run(labs, workers=2)
    return result, before


@pytest.mark.timeout(600)
def test_each_exercise_is_scored_from_a_real_run(checked):
    result, _ = checked
    passed = {(o.lab, o.exercise): o.passed for o in result.outcomes}
    assert passed == {
        ("01-mom-api", "make_request_tests"): True, ("01-mom-api", "knowledge_1_1_tests"): True,
        ("01-mom-api", "bus_answer_tests"): True, ("01-mom-api", "delivery_types_tests"): False,
        ("01-mom-api", "follow_up_tests"): False, ("01-mom-api", "registration_tests"): False,
        ("01-mom-api", "recall_1_1_tests"): True, ("01-mom-api", "recall_1_2_tests"): False, ("01-mom-api", "recall_1_3_tests"): False,
        **{("10-practice-exam", f"exam_section_{n}"): False for n in range(1, 10)},
    }
    assert result.by_lab()[["passed", "exercises", "points", "max_points"]].to_dict("index") == {
        "01-mom-api": {"passed": 4, "exercises": 9, "points": 9.0, "max_points": 23.0},
        "10-practice-exam": {"passed": 0, "exercises": 9, "points": 0.0, "max_points": 60.0},
    }
    by_objective = result.by_objective()
    assert by_objective.loc["1.1", ["passed", "exercises"]].tolist() == [4, 5]  # lab 01's four and the exam's section 1
    assert by_objective.loc["1.3", ["passed", "exercises"]].tolist() == [0, 4]
    # the recall items, judged against the solution beside the notebooks: 1.1's all answered and right
    recall = by_objective[["recall_items", "recall_answered", "recall_right"]].loc[["1.1", "1.2", "1.3"]]
    assert recall.astype(int).values.tolist() == [[4, 4, 4], [3, 0, 0], [4, 0, 0]]
    assert {"1.2", "1.3"} <= set(result.revise())  # (1.1 too: the exam's section 1 is not answered)
    registration = next(o for o in result.outcomes if o.exercise == "registration_tests")
    assert registration.error == "NotImplementedError"


def test_the_learners_files_are_not_touched(checked, labs):
    _, before = checked
    assert fingerprint(labs) == before


def test_an_unreadable_notebook_is_reported_and_the_rest_checked(checked):
    result, _ = checked
    assert len(result.problems) == 1 and result.problems[0].startswith("99-scratch/notes.ipynb cannot be read as a notebook")


def test_table_and_chart_render(checked):
    result, _ = checked
    page = result._repr_html_()
    assert "<b>4 of 18 exercises pass</b>" in page and page.count("<svg") == 1
    text = result.text()
    assert "01-mom-api                4/9   #########            44%" in text
    assert "4 of 4 answered, 4 right" in text and "0 of 3 answered, 0 right" in text and "Revise first: objective 1.1, 1.2, 1.3" in text
    assert "Not checked: 99-scratch/notes.ipynb" in text


def test_cli_reports_a_missing_folder_in_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "momlab", "progress", "--path", str(tmp_path / "nowhere")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.strip().count("\n") == 0
    assert "is not a folder" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    done = subprocess.run([sys.executable, "-m", "momlab", "progress", "--path", str(empty)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "holds no lab notebooks" in done.stderr


def test_every_exercise_of_every_lab_trains_a_known_objective():
    seen = set()
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        mapping = objectives.for_notebook(nb)
        assert set(mapping) == set(outcomes.test_cells(nb)), path.name
        for exercise, ids in mapping.items():
            assert ids and set(ids) <= objectives.known(), f"{path.name} {exercise}: {ids}"
            seen.update(ids)
    assert seen == objectives.known()  # the labs cover every objective of the exam guide


def test_objectives_come_from_the_summary_then_headings():
    def mapping(lab, notebook):
        return objectives.for_notebook(nbformat.read(ROOT / "solutions" / lab / f"{notebook}.ipynb", as_version=4))

    assert mapping("01-mom-api", "01-mom-api")["registration_tests"] == ("1.2",)  # summary: "1.2 ... | exercise 6"
    assert mapping("04-integrations", "04b-inventory")["stock_answers_tests"] == ("4.2",)  # summary row, not the heading
    assert mapping("10-practice-exam", "10-practice-exam")["exam_section_7"] == ("7.1", "7.2", "7.3", "7.5", "7.6", "7.7")  # the items it checks
    assert objectives._exercise_numbers("exercises 1 to 3, exercise 5 and the cells; exercises 2, 4 and 6") == [1, 2, 3, 5, 2, 4, 6]


@pytest.mark.parametrize("outputs, expected", [
    ([], (3.0, 3.0)),
    ([{"output_type": "stream", "name": "stdout", "text": "fine\n"}], (3.0, 3.0)),
    ([{"output_type": "stream", "name": "stderr", "text": "oops\n"}], (0.0, 3.0)),
    ([{"output_type": "error", "ename": "CheckFailed", "evalue": "no", "traceback": []}], (0.0, 3.0)),
    ([{"output_type": "execute_result", "data": {"text/plain": "2"}, "metadata": {}, "execution_count": 1}], (2.0, 3.0)),
    ([{"output_type": "execute_result", "data": {"text/plain": "'text'"}, "metadata": {}, "execution_count": 1}], (3.0, 3.0)),
    ([{"output_type": "execute_result", "data": {"text/plain": "-1"}, "metadata": {}, "execution_count": 1}], (3.0, 3.0)),
])
def test_scores_follow_nbgraders_rule(outputs, expected):
    from nbgrader.utils import determine_grade

    cell = nbformat.v4.new_code_cell("x", metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 3}})
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    assert outcomes.score(cell) == expected == tuple(float(v) for v in determine_grade(cell))
