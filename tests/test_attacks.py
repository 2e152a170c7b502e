"""Grading a class that includes cheaters: every attack of tests/support/attack_corpus.py handed in for lab 01,
beside an honest learner, graded through `momlab class` in its sandbox. Each attack scores at most its
honest work, reads nothing of the instructor's side, writes nothing outside its sandbox, leaves no
process behind, stays within its limits, and is flagged where the instructor should look."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from momlab.course.classroom import autograde, export, feedback, flags, report, sandbox
from momlab.course.classroom.course import Course
from tests.support import references, synthetic
from tests.support.attack_corpus import ATTACKS, CHANGED_TEST
from tests.support.paths import ROOT

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sandbox.available() and not __import__("os").environ.get("CI"),
                                 reason="bubblewrap is not installed (apt-get install bubblewrap)")]

LAB, NOTEBOOK, FULL = "01-mom-api", "01-mom-api.ipynb", 23
MARKER = f"momlab-attack-{int(time.time())}"


def answer_cells(nb):
    return synthetic.answer_cells(nb)


def submission(attack, course: Path):
    nb = nbformat.read((ROOT / ("notebooks" if attack.base == "release" else "solutions") / LAB / NOTEBOOK), as_version=4)
    code = attack.code.replace("{course}", str(course)).replace("{repo}", str(ROOT)).replace("{marker}", MARKER).strip()
    if attack.where == "first answer":
        answer_cells(nb)[0].source = code
    else:
        setup = next(n for n, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
        nb.cells.insert(setup + 1, nbformat.v4.new_code_cell(code))
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = synthetic.make_course(tmp_path_factory.mktemp("attacks"), ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    references.seed(root, [LAB], references.shared_folder(tmp_path_factory))
    (root / "submitted").mkdir()
    for attack in ATTACKS:
        target = root / "submitted" / attack.name / LAB
        target.mkdir(parents=True)
        nbformat.write(submission(attack, root), target / NOTEBOOK)
    changed = nbformat.read(ROOT / "solutions" / LAB / NOTEBOOK, as_version=4)
    next(c for c in changed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == CHANGED_TEST).source = "pass"
    (root / "submitted" / "changed_test" / LAB).mkdir(parents=True)
    nbformat.write(changed, root / "submitted" / "changed_test" / LAB / NOTEBOOK)
    synthetic.hand_in(root, "honest", LAB, "solution", ROOT / "notebooks" / LAB)
    before = {path: path.read_bytes() for path in (root / "submitted").rglob("*") if path.is_file()}
    course = Course.at(root)
    results = {r.learner: r for r in autograde.run(course, workers=2, report=lambda line: None)}
    return course, results, before


def scores(course: Course) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        return {s.student.id: s.score for s in gradebook.find_assignment(LAB).submissions}


def graded_notebook(course: Course, learner: str):
    return nbformat.read(course.folder("autograded", learner, LAB) / NOTEBOOK, as_version=4)


def outputs_text(nb) -> str:
    return "".join(str(output) for cell in nb.cells for output in cell.get("outputs", []))


def test_every_attack_scores_at_most_its_honest_work_and_the_honest_learner_keeps_full_marks(graded):
    course, results, _ = graded
    got = scores(course)
    assert got["honest"] == FULL and not results["honest"].flags
    for attack in ATTACKS:
        honest = 0 if attack.base == "release" else FULL
        assert results[attack.name].ok or attack.name == "kernel_exit", (attack.name, results[attack.name].problem)
        assert got.get(attack.name, 0) <= honest, f"{attack.name} scored {got.get(attack.name)} > its honest {honest}"
        if attack.flagged:
            assert results[attack.name].flags, f"{attack.name} was not flagged"
    for attack in ATTACKS:  # signs of tampering hold back every point of the notebook until cleared
        if any(": cell " in flag for flag in results[attack.name].flags):
            assert got[attack.name] == 0, attack.name
    assert any(": cell " in flag for flag in results["survivor"].flags)


def test_objects_equal_to_anything_and_forged_reports_earn_nothing(graded):
    course, _, _ = graded
    got = scores(course)
    assert got["always_equal"] == 0 and got["forged_reports"] == 0


def test_nothing_of_the_instructors_side_is_readable(graded):
    course, _, _ = graded
    text = outputs_text(graded_notebook(course, "read_instructor_files"))
    assert "LEAKED 0 []" in text, text[:2000]


def test_nothing_is_written_outside_the_sandbox(graded):
    course, _, before = graded
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed during grading"
    assert not (course.root / f"{MARKER}-planted.txt").exists()
    assert not Path(f"/tmp/{MARKER}-planted.txt").exists()
    assert scores(course)["honest"] == FULL


def test_no_process_outlives_grading(graded):
    course, _, _ = graded
    leftovers = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if MARKER in " ".join(process.info["cmdline"] or []) or str(course.root) + "/gradebook.db" in " ".join(process.info["cmdline"] or []):
                leftovers.append(process.info["cmdline"])
        except psutil.Error:
            continue
    assert leftovers == []


def test_limits_hold_and_are_flagged(graded):
    course, results, _ = graded
    assert any("memory" in f for f in results["memory_hog"].flags), results["memory_hog"].flags
    assert scores(course)["memory_hog"] == FULL  # the kernel lived: the honest work still counts
    for learner in ("one_huge_line", "huge_display"):
        path = course.folder("autograded", learner, LAB) / NOTEBOOK
        assert path.stat().st_size < 6_000_000, (learner, path.stat().st_size)
        assert any("output" in f for f in results[learner].flags), results[learner].flags
        assert scores(course)[learner] == FULL


def test_a_changed_test_cell_is_flagged_held_back_and_given_back_when_cleared(graded):
    course, results, _ = graded
    assert any(f"test cell {CHANGED_TEST} was changed" in f for f in results["changed_test"].flags)
    assert scores(course)["changed_test"] == FULL - 2
    flag = flags.load(course)[f"changed_test/{LAB}"]
    assert flag.held == {"01-mom-api": {CHANGED_TEST: 2.0}} and not flag.cleared
    page = report.write(course, Path("report.html")).read_text()
    assert "Flagged submissions" in page and "changed_test" in page and "2 points held back" in page
    flags.clear(course, "changed_test", LAB)
    assert scores(course)["changed_test"] == FULL and flags.load(course)[f"changed_test/{LAB}"].cleared


def test_feedback_shows_no_hidden_test_even_encoded_and_is_released_whole(graded):
    course, _, _ = graded
    written, failed = feedback.generate(course, LAB)
    assert failed == [] and written >= len(ATTACKS)
    secret = feedback.hidden_lines(course.source / LAB)
    text = outputs_text(graded_notebook(course, "exfiltrate_hidden_tests"))
    payloads = re.findall(r"STOLEN ([A-Za-z0-9+/=]{40,})", text)
    assert any(line in base64.b64decode(payload).decode() for payload in payloads for line in secret), \
        "the attack copied the hidden tests inside its kernel"
    for page in (course.root / "feedback").glob(f"*/{LAB}/*.html"):
        text = page.read_text()
        assert not any(payload[:60] in text for payload in payloads), page  # ...and none of it reaches feedback
        assert not any(line in text for line in secret), page
    page = (course.root / "feedback" / "honest" / LAB / NOTEBOOK.replace(".ipynb", ".html")).read_text()
    assert "passed" in page and "Score 2 of 2" in page


def test_feedback_releases_nothing_when_one_page_fails_its_check(graded, tmp_path):
    course, _, _ = graded
    import shutil

    copy_root = tmp_path / "course"
    shutil.copytree(course.root, copy_root)
    copied = Course.at(copy_root)
    shutil.rmtree(copy_root / "feedback", ignore_errors=True)
    secret = feedback.hidden_lines(copied.source / LAB)[0]
    nb = graded_notebook(copied, "honest")
    answer_cells(nb)[0].source += "\n# " + secret  # a learner who pasted a hidden line into their own cell
    nbformat.write(nb, copied.folder("autograded", "honest", LAB) / NOTEBOOK)
    written, failed = feedback.generate(copied, LAB)
    assert written == 0 and failed == [f"feedback/honest/{LAB}/01-mom-api.html"]
    assert not (copy_root / "feedback").exists()


def test_export_carries_the_held_back_zeroes(graded):
    course, _, _ = graded
    import csv

    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(export.grades_csv(course, Path("grades.csv")).open())}
    assert rows["honest"] == FULL and rows["checker_noop"] == 0 and rows["survivor"] == 0
