"""The practice exam (data/practice_exam.json, momlab.course.exam, momlab.course.exam_ui, lab 10's notebooks).

No answer is written here in clear. A practice item's right option is found the way the course finds
it, by hashing each option against the item's key. A graded item has no key in the learner's install:
its right option is read from the answer cell of lab 10's solution notebook, the instructor's side.
"""

from __future__ import annotations

import dataclasses
import re
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

import momlab
from momlab import data
from momlab.course import exam, grading
from tests.support.paths import OBJECTIVES_FILE, ROOT

LAB = "10-practice-exam"
SOLUTION = ROOT / "solutions" / LAB / f"{LAB}.ipynb"
RELEASE = ROOT / "notebooks" / LAB


@pytest.fixture(scope="module")
def items():
    return exam.load()


@pytest.fixture(scope="module")
def practice(items):
    return exam.practice_items(items)


@pytest.fixture(scope="module")
def solution_key() -> tuple[dict[str, str], dict[str, str]]:
    """The graded items' answers and explanations, from the solution's answer cell (instructor side)."""
    return _solution_key()


def _solution_key():
    cell = _cell(nbformat.read(SOLUTION, as_version=4), "exam_answers")
    namespace: dict = {}
    exec(cell.source, namespace)
    return namespace["answers"], namespace["explanations"]


def _cell(nb, grade_id: str):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def right_answers(items, solution_key) -> dict[str, str]:
    """item id -> right option id: practice items from their keys, graded items from the solution."""
    answers, _ = solution_key
    return {item.id: answers[item.id] if item.graded else exam.right_option(item).id for item in items}


def explanation_of(item, solution_key) -> str:
    return solution_key[1][item.id] if item.graded else exam.explanation(item)


def test_at_least_sixty_items_with_unique_ids(items):
    assert len(items) >= 60
    assert len({item.id for item in items}) == len(items)


def test_items_per_section_follow_the_exam_weights(items):
    assert sum(s.weight for s in exam.SECTIONS.values()) == 100
    for number, section in exam.SECTIONS.items():
        count = sum(1 for item in items if item.section == number)
        expected = section.weight * len(items) / 100
        assert abs(count - expected) < 1, f"section {number}: {count} items, the weight asks for {expected:.1f}"


def test_ids_objectives_sections_and_labs_agree(items):
    for item in items:
        assert re.fullmatch(r"\d\.\d-\d\d", item.id), item.id
        assert item.id.startswith(item.objective + "-"), item.id
        assert item.objective.split(".")[0] == str(item.section), item.id
        assert item.lab == exam.SECTIONS[item.section].lab, item.id
        assert item.lab_pointer == f"lab {item.lab}, objective {item.objective}"


def test_every_objective_exists_in_the_exam_guide_and_each_is_covered(items):
    known = set(re.findall(r"^### \*\*(\d\.\d)\*\*", OBJECTIVES_FILE.read_text(), re.M))
    assert "1.1" in known and "9.2" in known
    used = {item.objective for item in items}
    assert used <= known, f"objectives not in the exam guide: {sorted(used - known)}"
    assert known <= used, f"objectives without an item: {sorted(known - used)}"


def test_every_item_has_four_distinct_options_and_exactly_one_right_answer(items, solution_key):
    answers, explanations = solution_key
    for item in items:
        assert len(item.options) == 4, item.id
        assert len({o.id for o in item.options}) == 4 and len({o.text for o in item.options}) == 4, item.id
        if item.graded:  # its one right option is in the solution, and only there
            assert answers[item.id] in {o.id for o in item.options}, item.id
            continue
        matches = [o for o in item.options if grading.answer_hash(o.id, item.id) == item.key]
        assert len(matches) == 1, f"{item.id}: {len(matches)} options match the key"
    graded = {item.id for item in exam.graded_items(items)}
    assert set(answers) == set(explanations) == graded, "the solution answers and explains exactly the graded items"


def test_right_option_ids_are_spread_over_a_to_d(items, solution_key):
    counts = {}
    for option_id in right_answers(items, solution_key).values():
        counts[option_id] = counts.get(option_id, 0) + 1
    assert set(counts) == {"a", "b", "c", "d"}
    assert max(counts.values()) <= 0.3 * len(items), counts


def test_data_file_holds_no_answer_in_clear(items):
    raw = data.load(exam.DATA_FILE)
    text = data.path(exam.DATA_FILE).read_text(encoding="utf-8")
    graded = {item_id for ids in raw["graded"].values() for item_id in ids}
    public = {"id", "section", "objective", "lab", "question", "options"}
    for record in raw["items"]:
        if record["id"] in graded:  # no key, no explanation: nothing to compute the answer from
            assert set(record) == public, record["id"]
            continue
        assert set(record) == public | {"key", "explanation"}, record["id"]
        assert not re.search(r"\[(doc|code|mock|inferred)\]", record["explanation"])  # sealed, not prose
    assert all(set(o) == {"id", "text"} for r in raw["items"] for o in r["options"])
    assert '"answer"' not in text and '"correct"' not in text


def test_explanations_unseal_with_the_right_option_only(practice):
    for item in practice:
        text = exam.explanation(item)
        wrong = next(o for o in item.options if o.id != exam.right_option(item).id)
        assert exam.unseal(item.sealed, item.id, wrong.id) != text


def test_every_explanation_gives_the_confidence_of_its_facts(items, solution_key):
    for item in items:
        text = explanation_of(item, solution_key)
        assert len(text) > 80 and re.search(r"\*\*\[(doc|code|mock|inferred|unverified|exam guide)\]\*\*", text), item.id


def test_items_resting_on_inferred_facts_say_so(items, solution_key):
    for item in items:
        text = explanation_of(item, solution_key)
        tags = set(re.findall(r"\*\*\[([a-z ]+)\]\*\*", text))
        if tags and tags <= {"inferred", "mock", "unverified"}:
            assert "best available answer" in item.question, f"{item.id} rests only on {tags}"


def test_answers_by_id_or_text_are_both_accepted(practice):
    item = practice[0]
    right = exam.right_option(item)
    assert exam.is_correct(item, right.id)
    assert exam.is_correct(item, right.id.upper())
    assert exam.is_correct(item, "  " + right.text.replace("`", "") + " ")
    assert not exam.is_correct(item, next(o for o in item.options if o != right).id)
    for nonsense in (None, 2, "", "e", "not an option"):
        assert exam.option_id(item, nonsense) is None and not exam.is_correct(item, nonsense)


def test_shuffling_is_deterministic_per_seed_and_keeps_every_item_and_option(items):
    one, again, other = exam.shuffled(items, 7), exam.shuffled(items, 7), exam.shuffled(items, 8)
    assert [i.id for i in one] == [i.id for i in again]
    assert [[o.id for o in i.options] for i in one] == [[o.id for o in i.options] for i in again]
    assert [i.id for i in one] != [i.id for i in other]
    assert [i.id for i in one] != [i.id for i in items]
    assert sorted(i.id for i in one) == sorted(i.id for i in items)
    by_id = {i.id: i for i in items}
    moved = 0
    for item in one:
        assert set(item.options) == set(by_id[item.id].options) and item.key == by_id[item.id].key
        moved += [o.id for o in item.options] != [o.id for o in by_id[item.id].options]
    assert moved > len(items) / 2
    assert exam.shuffled(items, None) == items


def test_grading_is_invariant_under_shuffling(practice, solution_key):
    key = right_answers(practice, solution_key)
    half = {item_id: option for n, (item_id, option) in enumerate(sorted(key.items())) if n % 2 == 0}
    by_text = {item.id: item.option(option).text for item in practice if (option := half.get(item.id))}
    base = exam.score(practice, half)
    for seed in (1, 2, 99, "learner-x"):
        mine = exam.shuffled(practice, seed)
        assert exam.score(mine, half) == base
        assert exam.score(mine, by_text) == base
        assert right_answers(mine, solution_key) == key


def test_score_weights_sections_and_applies_the_pass_mark(practice, solution_key):
    assert {item.section for item in practice} == set(exam.SECTIONS)  # the practice run covers every section
    key = right_answers(practice, solution_key)
    full, empty = exam.score(practice, key), exam.score(practice, {})
    assert full.weighted == pytest.approx(1.0) and full.passed and full.right == len(practice)
    assert empty.weighted == 0 and not empty.passed and empty.answered == 0
    # all of section 4 right and nothing else: the weight of section 4, whatever its item count
    only4 = exam.score(practice, {i: o for i, o in key.items() if i.startswith("4.")})
    assert only4.weighted == pytest.approx(0.23)
    assert [s.section.number for s in only4.weak()][0] != 4
    # answering wrong counts as answered, not right
    wrong = {item.id: next(o.id for o in item.options if o.id != key[item.id]) for item in practice}
    assert exam.score(practice, wrong).answered == len(practice) and exam.score(practice, wrong).right == 0


def test_pass_mark_is_67_percent_inclusive():
    assert exam.PASS_MARK == 0.67
    section = exam.SECTIONS[4]
    at = exam.Score((exam.SectionScore(section, 100, 100, 67),), 0.67)
    below = exam.Score((exam.SectionScore(section, 100, 100, 66),), 0.66)
    assert at.passed and not below.passed


def test_graded_groups_are_disjoint_cover_every_section_and_leave_a_practice_set(items):
    groups = exam.groups()
    ids = [item_id for group in groups.values() for item_id in group]
    assert len(ids) == len(set(ids)) and set(ids) <= {i.id for i in items}
    assert "sealed" in groups and len(groups) >= 3
    graded = exam.graded_items(items)
    assert {i.section for i in graded} == set(exam.SECTIONS)
    practice = exam.practice_items(items)
    assert len(practice) + len(graded) == len(items) and not {i.id for i in practice} & set(ids)
    assert all(item.graded for item in graded) and not any(item.graded for item in practice)
    with pytest.raises(KeyError, match="the groups are"):
        exam.graded_group("no-such-group")


def test_check_answered_says_what_to_fix(items):
    group = exam.graded_group("sealed", items)
    with pytest.raises(grading.CheckFailed, match="must be a dict"):
        exam.check_answered([("x", "a")], group)
    with pytest.raises(grading.CheckFailed, match=f"no entry for item {group[0].id}"):
        exam.check_answered({}, group)
    answers = {item.id: "a" for item in group}
    exam.check_answered(answers, group)
    answers[group[-1].id] = "z"
    with pytest.raises(grading.CheckFailed, match="is not one of its options"):
        exam.check_answered(answers, group)


def test_check_reveals_right_option_explanation_and_lab(practice):
    item = practice[5]
    right = exam.right_option(item)
    wrong = next(o for o in item.options if o != right)
    good, bad = exam.check(item, right.id), exam.check(item, wrong.text)
    assert good.correct and good.chosen == right and good.right == right
    assert not bad.correct and bad.chosen == wrong and bad.right == right
    assert bad.explanation == good.explanation == exam.explanation(item)
    assert bad.lab_pointer == item.lab_pointer


def test_session_counts_the_first_check_only(practice):
    session = exam.Session(practice[:8])
    first = practice[0]
    right = exam.right_option(first)
    wrong = next(o for o in first.options if o != right)
    session.choose(first.id, wrong.id)
    assert not session.check(first.id).correct
    session.choose(first.id, right.id)  # too late: a checked item is final
    assert not session.check(first.id).correct
    score = session.score()
    assert score.answered == 1 and score.right == 0 and score.items == 8


def test_markdown_and_template_show_ids_but_not_answers(items, solution_key):
    group = exam.graded_group("sealed", items)
    text = exam.markdown(group)
    for item in group:
        assert item.id in text and all(o.text in text for o in item.options)
        assert solution_key[1][item.id][:60] not in text
    template = exam.answer_template(group)
    namespace = {}
    exec(template, namespace)
    assert namespace["answers"] == {item.id: None for item in group}


def test_blueprint_lists_every_section(items):
    frame = exam.blueprint(items)
    assert list(frame.index) == list(exam.SECTIONS)
    assert frame["items"].sum() == len(items)


def test_learner_seed_is_stable_per_name():
    assert exam.learner_seed("ada") == exam.learner_seed("ada") != exam.learner_seed("grace")
    assert isinstance(exam.learner_seed(), int)


# ---------------------------------------------------------------- graded items: keys on the instructor's side only


def shipped_files() -> list[Path]:
    """Every file of a learner's install: the momlab package, the data folder it serves, the repository's
    data/ (the wheel ships it as momlab/data), the files the installed distribution carries (an editable
    install copies data/ into site-packages) and lab 10's release."""
    roots = {Path(momlab.__file__).resolve().parent, data.folder().resolve(), ROOT / "data", RELEASE}
    files = {path.resolve() for root in roots for path in root.rglob("*") if path.is_file()}
    try:
        distribution = metadata.distribution("momlab")
    except metadata.PackageNotFoundError:  # run from a checkout without installing: the roots above are all
        return sorted(files)
    for entry in distribution.files or []:
        path = Path(distribution.locate_file(entry)).resolve()
        if path.is_file():
            files.add(path)
    return sorted(files)


def key_traces(item, answers, explanations) -> list[bytes]:
    """What would give a graded item's answer away: a salted hash of any of its options (or of the right
    option's text), its explanation sealed or in clear."""
    right = item.option(answers[item.id])
    traces = [grading.answer_hash(option.id, item.id) for option in item.options]
    traces += [grading.answer_hash(right.text, item.id), exam.seal(explanations[item.id], item.id, right.id),
               explanations[item.id][:60]]
    return [trace.encode() for trace in traces]


def test_no_graded_key_is_in_the_learners_install(items, solution_key):
    answers, explanations = solution_key
    files = shipped_files()
    names = {path.name for path in files}
    assert {exam.DATA_FILE, "exam.py", "exam_ui.py", f"{LAB}.ipynb"} <= names, "the scan misses files a learner has"
    found = []
    for path in files:
        blob = path.read_bytes()
        for item in exam.graded_items(items):
            found += [f"{path}: a trace of item {item.id}'s answer ({trace[:24]!r})"
                      for trace in key_traces(item, answers, explanations) if trace in blob]
            pair = re.compile(rb"""\\?["']%s\\?["']\s*:\s*\\?["']%s\\?["']""" % (re.escape(item.id.encode()), answers[item.id].encode()))
            found += [f"{path}: item {item.id} paired with its answer" for _ in pair.finditer(blob)]
    assert not found, "a graded item's answer can be read from the learner's install:\n" + "\n".join(found)


def _strings(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, (tuple, list)):
        return {text for part in value for text in _strings(part)}
    return set()


def test_the_package_cannot_tell_a_graded_items_answer(items, solution_key):
    answers, _ = solution_key
    for item in exam.graded_items(items):
        assert item.graded and item.key is None and item.sealed is None, item.id
        public = {item.id, item.objective, item.lab, item.question} | {o.id for o in item.options} | {o.text for o in item.options}
        assert _strings(dataclasses.astuple(item)) <= public, f"item {item.id} carries more than its scenario and options"
        right = answers[item.id]
        for ask, arguments in ((exam.right_option, ()), (exam.explanation, ()), (exam.is_correct, (right,)),
                               (exam.check, (right,))):
            with pytest.raises(exam.NoKey, match=f"item {item.id} is a graded item"):
                ask(item, *arguments)
        with pytest.raises(exam.NoKey):
            exam.score([item], {item.id: right})
        session = exam.Session([item])
        session.choose(item.id, right)
        with pytest.raises(exam.NoKey):
            session.check(item.id)
        assert exam.option_id(item, right) == right  # the form can still be checked


def test_graded_test_cells_report_each_item_from_a_hidden_section_and_publish_no_key():
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sorted(c.metadata["nbgrader"]["grade_id"] for c in cells) == sorted("exam_" + g.replace("-", "_") for g in exam.groups())
    for cell in cells:
        meta = cell.metadata["nbgrader"]
        group = exam.graded_group(meta["grade_id"].removeprefix("exam_").replace("_", "-"))
        assert meta["points"] == len(group), f"{meta['grade_id']}: one point per item, one label per item"
        visible, marker, hidden = cell.source.partition("### BEGIN HIDDEN TESTS")
        assert marker and cell.source.rstrip().endswith("### END HIDDEN TESTS"), f"{meta['grade_id']} must end with a hidden section"
        assert "grading.report(item.id," in hidden and "for item in group" in hidden, meta["grade_id"]
        assert not re.search(r"check|answer_hash|\.key\b|sealed|right_option|is_correct|explanation", hidden), meta["grade_id"]
        assert not re.search(r"answer_hash|check_answer\b|\.key\b|right_option|is_correct", visible), meta["grade_id"]
        assert not re.search(r"[\"'][a-d][\"']", cell.source), f"{meta['grade_id']} names an option id"
    release = (RELEASE / f"{LAB}.ipynb").read_text()
    assert not re.search(r"answer_hash|check_answer\b", release)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_grader_judges_each_graded_item_against_the_solution(solution_key, monkeypatch):
    """The solution reports exactly its answer per item; a learner is judged item by item against it,
    whatever the order and whether answers name options by id or by text."""
    from momlab.course.classroom.judge import judge, results_of
    from momlab.course.classroom.reference import run

    answers, _ = solution_key
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")  # run() sets it too; this restores it afterwards
    solution, problem = run(SOLUTION)
    assert problem is None, problem
    reported = results_of(solution)
    groups = {"exam_" + name.replace("-", "_"): exam.graded_group(name) for name in exam.groups()}
    assert reported == {grade_id: {item.id: [answers[item.id]] for item in group} for grade_id, group in groups.items()}
    reference = {grade_id: {"points": float(len(labels)), "results": {label: values[0] for label, values in labels.items()}}
                 for grade_id, labels in reported.items()}

    learner = nbformat.read(SOLUTION, as_version=4)
    wrong_item, text_item = groups["exam_section_4"][0], groups["exam_sealed"][0]
    wrong = next(o.id for o in wrong_item.options if o.id != answers[wrong_item.id])
    mine = {**answers, wrong_item.id: wrong, text_item.id: text_item.option(answers[text_item.id]).text}
    _cell(learner, "exam_answers").source = f"answers = {mine!r}"
    next(c for c in learner.cells if c.source.startswith("SEED =")).source = "SEED = 4242"
    judged, problem = run(SOLUTION, learner)
    assert problem is None, problem
    scores = {grade_id: verdict.score for grade_id, verdict in judge(judged, reference).items()}
    assert scores == {grade_id: len(group) - (grade_id == "exam_section_4") for grade_id, group in groups.items()}


# ---------------------------------------------------------------- the widget


def test_widget_builds(practice):
    import ipywidgets as widgets

    from momlab.course import exam_ui

    box = exam_ui.exam_widget(practice, seed=3)
    assert isinstance(box, widgets.VBox)
    assert isinstance(exam_ui.exam_widget(seed=3), widgets.VBox)  # by default: the practice items


def test_widget_checks_answers_keeps_score_and_draws_the_chart(practice):
    import matplotlib
    from matplotlib.figure import Figure

    from momlab.course import exam_ui

    matplotlib.use("Agg")
    items = practice[:12]
    app = exam_ui.ExamApp(items, seed=5, title="test run")
    assert app.check_button.disabled and app.previous.disabled and not app.next.disabled
    first = app.item
    right = exam.right_option(first)
    app.choice.value = right.id
    assert not app.check_button.disabled
    app.check_button.click()
    assert "Right." in app.feedback.value and first.lab in app.feedback.value
    assert app.choice.disabled and app.check_button.disabled
    assert app.session.score().right == 1

    app.next.click()
    second = app.item
    assert second.id != first.id and app.choice.value is None and not app.choice.disabled
    wrong = next(o for o in second.options if o != exam.right_option(second))
    app.choice.value = wrong.id
    app.check_button.click()
    assert "Not right." in app.feedback.value and exam.right_option(second).id in app.feedback.value
    assert "checked" in app.scores.value and app.session.score().answered == 2

    app.previous.click()  # back to a checked item: its feedback is shown again, locked
    assert app.item.id == first.id and app.choice.value == right.id and app.choice.disabled
    assert "Right." in app.feedback.value

    figure = app.chart()
    assert isinstance(figure, Figure)
    assert len(figure.axes[0].patches) == len({i.section for i in items[:12]})
    assert figure._repr_svg_().startswith("<svg")  # it shows in a notebook without pyplot
    app.finish.click()  # draws into the Output widget; outside a kernel it must simply not fail


def test_widget_refuses_an_empty_item_list_and_graded_items(items):
    from momlab.course import exam_ui

    with pytest.raises(ValueError, match="at least one item"):
        exam_ui.ExamApp([])
    with pytest.raises(ValueError, match="practice items only"):
        exam_ui.ExamApp(items)

