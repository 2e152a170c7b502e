"""Grading a synthetic class of lab 01 end to end: collect, autograde (two at a time, in the sandbox,
judged outside it, one gradebook writer), feedback, export and report, with submissions that are
right, blank, half right, stuck in an endless loop, flooding their output, missing cells, or not
notebooks at all. Cheaters are in test_attacks.py."""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from momlab.course.classroom import autograde, export, feedback, report
from momlab.course.classroom.course import Course
from tests.support import references, synthetic
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

LAB = "01-mom-api"  # the smallest lab: 9 exercises (three of them recall checks), 23 points
EXPECTED = {"solution": 23, "blank": 0, "half": 9, "answered": 23, "loop": 21, "flood": 21, "deleted": 21}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = synthetic.make_course(tmp_path_factory.mktemp("class"), ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    references.seed(root, [LAB], references.shared_folder(tmp_path_factory))
    for kind in synthetic.KINDS:
        synthetic.hand_in(root, kind, LAB, kind, ROOT / "notebooks" / LAB)
    course = Course.at(root)
    results = autograde.run(course, workers=2, report=lambda line: None)
    return course, {r.learner: r for r in results}


def scores(course: Course) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gradebook:
        return {s.student.id: s.score for s in gradebook.find_assignment(LAB).submissions}


@pytest.mark.timeout(900)  # a hung grading fails here instead of stalling the suite
def test_every_submission_gets_its_exact_score(graded):
    course, results = graded
    assert sorted(results) == sorted(synthetic.KINDS), "every learner gets a result, none hangs"
    assert scores(course) == EXPECTED
    for learner, points in EXPECTED.items():
        assert results[learner].ok and (results[learner].score, results[learner].max_score) == (points, 23)


def test_a_file_that_is_not_a_notebook_is_reported_and_the_rest_still_grades(graded):
    course, results = graded
    assert not results["broken"].ok
    assert "01-mom-api.ipynb is not a readable notebook" in results["broken"].problem
    assert not course.folder("autograded", "broken", LAB).exists()
    assert (course.folder("submitted", "broken", LAB) / f"{LAB}.ipynb").read_text().startswith('{"cells": [ this')


def test_endless_loop_and_flood_are_cut_off_and_flagged(graded):
    course, results = graded
    nb = nbformat.read(course.folder("autograded", "loop", LAB) / f"{LAB}.ipynb", as_version=4)
    answer = synthetic.answer_cells(nb)[0]
    assert "CellTimeoutError" in [o.get("ename") for o in answer.outputs]
    assert results["loop"].flags == (f"{LAB}.ipynb: a cell ran past the time limit",)
    flood = synthetic.answer_cells(nbformat.read(course.folder("autograded", "flood", LAB) / f"{LAB}.ipynb", as_version=4))[0]
    text = "".join(o.text for o in flood.outputs if o.output_type == "stream")
    assert len(text.encode()) <= 1_100_000 and ("output limit]" in text[-200:] or text.endswith("... Output truncated ..."))
    assert any("output passed the size limit" in flag for flag in results["flood"].flags)


def test_only_the_course_gradebook_is_left_and_grading_again_skips_the_graded(graded):
    course, _ = graded
    assert sorted(p.name for p in course.root.rglob("*.db")) == ["gradebook.db"]
    again = autograde.run(course, report=lambda line: None)
    assert [r.learner for r in again] == ["broken"]  # the only one without a graded copy
    assert scores(course) == EXPECTED


def test_feedback_has_no_hidden_test_source(graded):
    course, _ = graded
    written, failed = feedback.generate(course, LAB)
    assert (written, failed) == (7, [])
    secret = feedback.hidden_lines(course.source / LAB)
    assert secret
    for page in (course.root / "feedback").glob(f"*/{LAB}/*.html"):
        assert not any(line in page.read_text() for line in secret), page


def test_export_writes_every_score(graded):
    course, _ = graded
    rows = list(csv.DictReader(export.grades_csv(course, Path("grades.csv")).open()))
    assert {r["student_id"]: float(r["score"]) for r in rows} == EXPECTED
    assert {float(r["max_score"]) for r in rows} == {23.0}


def test_report_is_one_page_with_charts_objectives_and_failures(graded):
    course, _ = graded
    rows, totals = report.collect_rows(course)
    assert {learner: score for (_, learner), (score, _) in totals.items()} == EXPECTED
    passed = {(r.learner, r.exercise): r.passed for r in rows}
    assert [e for (learner, e), ok in passed.items() if learner == "half" and ok] == ["make_request_tests", "knowledge_1_1_tests", "bus_answer_tests", "recall_1_1_tests"]
    deleted = next(r for r in rows if r.learner == "deleted" and r.exercise == "make_request_tests")
    assert (deleted.score, deleted.error) == (0, "test cell missing from the notebook (deleted?)")
    page = report.write(course, Path("report.html")).read_text()
    assert page.count("<svg") == 2 and "http://" not in page.split("<svg")[0]
    # 1.2: its exercise and its recall check, each passed by solution, answered, loop, flood and deleted
    assert "<tr><td>1.2</td><td>10/14</td><td>71%</td></tr>" in page
    assert "<td>make_request_tests</td><td>1.1</td><td>4/7</td>" in page
    assert "broken/01-mom-api" in page  # handed in, not graded


def run_cli(*args: str, cwd: Path, capsys) -> tuple[int, str, str]:
    """`momlab <args>` in this process (faster than a new interpreter), from `cwd`."""
    from momlab.cli import main

    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_collect_from_an_lms_download(tmp_path, capsys):
    root = synthetic.make_course(tmp_path / "course", ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    shutil.copytree(ROOT / "notebooks" / LAB, root / "notebooks" / LAB)  # zip_collect checks names against the release
    download = tmp_path / "download.zip"
    with zipfile.ZipFile(download, "w") as archive:
        archive.write(ROOT / "notebooks" / LAB / f"{LAB}.ipynb", f"submissions/ada_lovelace_{LAB}.ipynb")
        archive.write(ROOT / "solutions" / LAB / f"{LAB}.ipynb", f"submissions/grace_{LAB}.ipynb")
    code, out, err = run_cli("class", "collect", LAB, "--from", str(download), cwd=root, capsys=capsys)
    assert code == 0, err[-2000:]
    assert sorted(p.name for p in (root / "submitted").iterdir()) == ["ada_lovelace", "grace"]
    assert (root / "submitted" / "grace" / LAB / f"{LAB}.ipynb").is_file()
    assert "ada_lovelace         ok" in out
    assert download.is_file() and (root / "downloaded" / LAB / "archive" / "download.zip").is_file()


def test_bad_input_gets_one_line_and_exit_code_2(tmp_path, capsys):
    root = synthetic.make_course(tmp_path / "course", ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    broken_config = synthetic.make_course(tmp_path / "broken-config", ROOT / "solutions", [LAB], ROOT / "nbgrader_config.py")
    (broken_config / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = (\n")
    cases = {
        ("class", "--course", str(tmp_path / "nowhere"), "autograde"): "is not a folder",
        ("class", "--course", str(tmp_path), "autograde"): "has no nbgrader_config.py",
        ("class", "--course", str(broken_config), "autograde"): "nbgrader_config.py cannot be read (SyntaxError",
        ("class", "--course", str(root), "autograde"): "nothing handed in",
        ("class", "--course", str(root), "collect", LAB): "nobody handed in 01-mom-api",
        ("class", "--course", str(root), "collect", "99-nope"): "no lab '99-nope'",
        ("class", "--course", str(root), "report"): "nothing is graded yet",
    }
    (root / "submitted").mkdir()
    for args, message in cases.items():
        code, _, err = run_cli(*args, cwd=tmp_path, capsys=capsys)
        assert code == 2, (args, err[-2000:])
        assert message in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1, err
    assert not (root / "gradebook.db").exists()  # a failed step leaves nothing behind
