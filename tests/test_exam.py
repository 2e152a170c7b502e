"""The practice exam (data/practice_exam.json, momlab.course.exam, momlab.course.exam_ui, lab 10's notebooks):
the item bank, its two forms (Form A graded, Form B drawn per attempt from the practice pool), the
timed attempt and its widget.

No answer is written here in clear. A practice item's right option is found the way the course finds
it, by hashing each option against the item's key. A graded item (Form A) has no key in the learner's
install: its right option is read from the answer cell of lab 10's solution notebook, the instructor's side.
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
RELEASES = ROOT / "notebooks"  # every lab's release: none may hold a trace of a Form A answer
TAGS = r"doc|code|mock|inferred|unverified|exam guide|framework"


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


def test_the_bank_holds_at_least_150_items_with_unique_ids(items):
    assert len(items) >= 150
    assert len({item.id for item in items}) == len(items)
    assert len(exam.practice_items(items)) >= 90  # the pool Form B is drawn from


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
        assert len(text) > 80 and re.search(rf"\*\*\[({TAGS})\]\*\*", text), item.id


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
    assert list(groups) == [f"section-{n}" for n in exam.SECTIONS]  # one group (one test cell) per section
    graded = exam.graded_items(items)
    assert {i.section for i in graded} == set(exam.SECTIONS)
    practice = exam.practice_items(items)
    assert len(practice) + len(graded) == len(items) and not {i.id for i in practice} & set(ids)
    assert all(item.graded for item in graded) and not any(item.graded for item in practice)
    with pytest.raises(KeyError, match="the groups are"):
        exam.graded_group("no-such-group")


def test_check_answered_says_what_to_fix_and_counts_blanks(items):
    group = exam.graded_group("section-4", items)
    form = exam.graded_items(items)
    with pytest.raises(grading.CheckFailed, match="must be a dict"):
        exam.check_answered([("x", "a")], group)
    assert exam.check_answered({}, group) == (0, len(group))  # blank items count as wrong; the form is fine
    answers = {item.id: "a" for item in group}
    assert exam.check_answered(answers, group, known=form) == (len(group), 0)
    answers[group[0].id] = None
    assert exam.check_answered(answers, group, known=form) == (len(group) - 1, 1)
    answers[group[-1].id] = "z"
    with pytest.raises(grading.CheckFailed, match="is not one of its options"):
        exam.check_answered(answers, group)
    with pytest.raises(grading.CheckFailed, match="no item id of this form: '4.4-1'"):
        exam.check_answered({"4.4-1": "a"}, group, known=form)


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
    group = exam.graded_group("section-4", items)
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


# ---------------------------------------------------------------- the two forms


WEIGHTS = {1: 4, 2: 4, 3: 3, 4: 14, 5: 6, 6: 11, 7: 8, 8: 7, 9: 3}  # 60 items in the exam's section weights


def per_section(form) -> dict[int, int]:
    return {number: sum(1 for item in form if item.section == number) for number in exam.SECTIONS}


def test_a_form_has_60_items_in_the_exams_section_weights():
    assert exam.FORM_SIZE == 60 and exam.FORM_COUNTS == exam.form_counts(60) == WEIGHTS
    assert sum(WEIGHTS.values()) == 60
    for number, count in WEIGHTS.items():  # each count is 60 x the weight, rounded
        assert abs(count - 60 * exam.SECTIONS[number].weight / 100) < 1, number
    assert sum(exam.form_counts(100).values()) == 100 and exam.form_counts(100)[4] == 23


def test_form_a_is_the_graded_items_in_the_weights(items):
    form_a = exam.graded_items(items)
    assert len(form_a) == 60 and per_section(form_a) == WEIGHTS
    assert all(item.graded for item in form_a)
    assert [len(exam.graded_group(f"section-{n}", items)) for n in exam.SECTIONS] == list(WEIGHTS.values())


@pytest.mark.parametrize("seed", [0, 1, 7, "ada:1", "ada:2", 123456789])
def test_form_b_is_drawn_from_the_practice_pool_in_the_weights(items, seed):
    form_b = exam.practice_form(seed, items)
    assert len(form_b) == 60 and len({item.id for item in form_b}) == 60
    assert per_section(form_b) == WEIGHTS
    assert not any(item.graded for item in form_b)
    assert not {item.id for item in form_b} & {item.id for item in exam.graded_items(items)}  # no item in both forms
    again = exam.practice_form(seed, items)
    assert [i.id for i in again] == [i.id for i in form_b] and [i.options for i in again] == [i.options for i in form_b]


def test_another_attempt_draws_another_form_b(items):
    forms = [frozenset(item.id for item in exam.practice_form(f"ada:{attempt}", items)) for attempt in range(1, 7)]
    assert len(set(forms)) == len(forms)
    first, second = forms[0], forms[1]
    assert len(first & second) < 50  # a second attempt is mostly new items, not a reshuffle


def test_form_b_refuses_a_pool_too_small_for_the_weights(items):
    with pytest.raises(ValueError, match="section 3 has"):
        exam.practice_form(1, [item for item in items if item.section != 3 or item.graded])


def test_every_practice_item_has_exactly_one_key_and_an_explanation_and_no_graded_item_has_either(items):
    raw = {record["id"]: record for record in data.load(exam.DATA_FILE)["items"]}
    for item in items:
        if item.graded:
            assert "key" not in raw[item.id] and "explanation" not in raw[item.id], item.id
            continue
        assert sum(grading.answer_hash(o.id, item.id) == item.key for o in item.options) == 1, item.id
        assert len(exam.explanation(item)) > 80, item.id


def test_keys_are_balanced_in_each_form_and_the_key_is_not_usually_the_longest(items, solution_key):
    key = right_answers(items, solution_key)
    for form in (exam.graded_items(items), exam.practice_items(items)):
        counts = [sum(key[item.id] == option for item in form) for option in "abcd"]
        assert max(counts) - min(counts) <= 2, counts
    longest = [item.id for item in items
               if all(len(item.option(key[item.id]).text) > len(o.text) for o in item.options if o.id != key[item.id])]
    assert len(longest) <= 0.25 * len(items), f"the key is the longest option in {len(longest)} items: {longest}"


def test_the_two_retagged_items_and_the_replaced_options(items, solution_key):
    by_id = {item.id: item for item in items}
    assert "3.2-01" not in by_id and "4.3-01" not in by_id
    assert by_id["3.1-02"].section == by_id["3.1-03"].section == 3 and by_id["3.1-03"].lab == "03-plans-environments"
    assert "ngrok" in by_id["3.1-02"].question and "localhost" in by_id["3.1-03"].question
    throwaways = ["an order can be sent only once", "Wait for the go-live date", "one shared secret",
                  "Turn off the Message Log", "the same OMS process", "confirms that the payment was captured",
                  "filter on the failed outgoing messages"]
    texts = " ".join(o.text for item in items for o in item.options)
    assert not [t for t in throwaways if t.lower() in texts.lower()]
    assert "then **https://status.magento.com**" not in exam.explanation(by_id["5.3-02"])


def _lab_text() -> str:
    """Every cell of the labs' solutions (01 to 09): their knowledge checks and their text."""
    parts = []
    for path in sorted((ROOT / "solutions").glob("0*/*.ipynb")):
        parts += [cell.source for cell in nbformat.read(path, as_version=4).cells]
    return " ".join(" ".join(parts).replace("`", "").split()).lower()


def test_no_item_repeats_a_lab_question_word_for_word(items):
    labs = _lab_text()
    repeated = [item.id for item in items if " ".join(item.question.replace("`", "").split()).lower() in labs]
    assert not repeated, f"items whose scenario is word for word in a lab: {repeated}"


# ---------------------------------------------------------------- a timed attempt (an injected clock: no sleeping)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_form_submitted_after_the_limit_scores_unanswered_items_wrong(items):
    form = exam.practice_form("timed", items)
    key = {item.id: exam.right_option(item).id for item in form}
    clock = Clock()
    attempt = exam.TimedAttempt(form, limit_s=600, clock=clock)
    in_time = form[:20]
    for item in in_time:
        attempt.answer(item.id, key[item.id])
    clock.now += 599
    assert attempt.remaining() == pytest.approx(1) and not attempt.expired and attempt.score is None
    clock.now += 2  # past the limit: the rest come too late
    for item in form[20:30]:
        with pytest.raises(exam.TimeUp, match="Time is up"):
            attempt.answer(item.id, key[item.id])
    assert attempt.remaining() == 0
    score = attempt.submit()
    assert attempt.submitted_at == 600  # the clock's limit, not the late press of the button
    assert score.answered == 20 and score.right == 20 and score.items == 60
    assert score == exam.score(form, {item.id: key[item.id] for item in in_time})  # the 40 others: wrong
    assert score.weighted < exam.PASS_MARK and not score.passed
    assert len(attempt.missed()) == 40 and all(fb.chosen is None for fb in attempt.missed())
    with pytest.raises(exam.TimeUp, match="submitted"):
        attempt.answer(form[0].id, key[form[0].id])
    assert attempt.submit() is score


def test_the_clock_submits_at_the_limit_and_nothing_counts_after(items):
    form = exam.practice_form("clock", items)
    clock = Clock()
    attempt = exam.TimedAttempt(form, limit_s=90, clock=clock)
    right = exam.right_option(form[0]).id
    attempt.answer(form[0].id, right)
    clock.now += 45
    assert not attempt.tick() and not attempt.submitted
    clock.now += 3600  # the learner looked away; the tick comes late
    assert attempt.tick() and attempt.submitted and attempt.submitted_at == 90
    assert attempt.score.right == 1 and attempt.score.answered == 1


def test_no_feedback_before_submitting_and_answers_can_change_until_then(items):
    form = exam.practice_form("change", items)
    clock = Clock()
    attempt = exam.TimedAttempt(form, limit_s=300, clock=clock)
    item = form[0]
    right = exam.right_option(item)
    wrong = next(o for o in item.options if o != right)
    assert attempt.answer(item.id, wrong.text) == wrong.id  # by text as well as by id
    assert attempt.score is None
    with pytest.raises(RuntimeError, match="submit it first"):
        attempt.missed()
    attempt.answer(item.id, right.id)
    assert attempt.submit().right == 1
    with pytest.raises(ValueError, match="not one of its options"):
        exam.TimedAttempt(form, 10, clock=clock).answer(item.id, "z")
    with pytest.raises(KeyError):
        exam.TimedAttempt(form, 10, clock=clock).answer("9.9-99", "a")
    with pytest.raises(ValueError, match="positive"):
        exam.TimedAttempt(form, 0)


def test_a_timed_graded_form_gives_answers_to_paste_and_no_score(items, solution_key):
    form_a = exam.shuffled(exam.graded_items(items), 5)
    answers, _ = solution_key
    clock = Clock()
    attempt = exam.TimedAttempt(form_a, exam.TIME_LIMIT_S, clock=clock)
    for item in form_a[:-1]:
        attempt.answer(item.id, answers[item.id])
    assert attempt.graded and attempt.submit() is None and attempt.score is None
    with pytest.raises(exam.NoKey):
        attempt.missed()
    namespace = {}
    exec(attempt.answers_text(), namespace)
    assert list(namespace["answers"]) == [item.id for item in form_a]
    assert namespace["answers"][form_a[-1].id] is None
    assert exam.check_answered(namespace["answers"], form_a, known=form_a) == (59, 1)


def test_the_time_limit_is_the_forms_items_at_the_courses_pace():
    assert exam.TIME_LIMIT_S == exam.FORM_SIZE * exam.PACE_S == 90 * 60
    assert exam.clock_text(exam.TIME_LIMIT_S) == "1:30:00" and exam.clock_text(59.2) == "1:00" and exam.clock_text(0) == "0:00"


# ---------------------------------------------------------------- graded items: keys on the instructor's side only


def shipped_files() -> list[Path]:
    """Every file of a learner's install: the momlab package, the data folder it serves, the repository's
    data/ (the wheel ships it as momlab/data), the files the installed distribution carries (an editable
    install copies data/ into site-packages) and every lab's release under notebooks/."""
    roots = {Path(momlab.__file__).resolve().parent, data.folder().resolve(), ROOT / "data", RELEASES}
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
        assert 'grading.report(f"answers[{item.id}]",' in hidden and "for item in group" in hidden, meta["grade_id"]
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
    assert reported == {grade_id: {f"answers[{item.id}]": [answers[item.id]] for item in group} for grade_id, group in groups.items()}
    reference = {grade_id: {"points": float(len(labels)), "results": {label: values[0] for label, values in labels.items()}}
                 for grade_id, labels in reported.items()}

    learner = nbformat.read(SOLUTION, as_version=4)
    wrong_item, text_item, blank_item = groups["exam_section_4"][0], groups["exam_section_6"][0], groups["exam_section_7"][1]
    wrong = next(o.id for o in wrong_item.options if o.id != answers[wrong_item.id])
    mine = {**answers, wrong_item.id: wrong, text_item.id: text_item.option(answers[text_item.id]).text}
    del mine[blank_item.id]  # left out: that item counts as wrong, and only that item
    _cell(learner, "exam_answers").source = f"answers = {mine!r}"
    seed_cell = next(c for c in learner.cells if c.source.startswith("SEED ="))
    seed_cell.source = seed_cell.source.replace("SEED = exam.learner_seed()", "SEED = 4242", 1)
    judged, problem = run(SOLUTION, learner)
    assert problem is None, problem
    scores = {grade_id: verdict.score for grade_id, verdict in judge(judged, reference).items()}
    lost = {"exam_section_4": 1, "exam_section_7": 1}
    assert scores == {grade_id: len(group) - lost.get(grade_id, 0) for grade_id, group in groups.items()}


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



def test_timed_widget_hides_feedback_until_submitted_then_scores_charts_and_explains(items):
    import matplotlib

    from momlab.course import exam_ui

    matplotlib.use("Agg")
    form = exam.practice_form("widget", items)
    clock = Clock()
    app = exam_ui.TimedExamApp(form, limit_s=120, clock=clock, ticking=False)
    assert app.attempt is None and app.item_box.layout.display == "none"
    app.start_button.click()
    assert app.clock_label.value == "Time left 2:00" and app.start_button.disabled
    first = app.item
    right = exam.right_option(first)
    app.choice.value = right.id
    assert app.progress.value == "1 of 60 answered"
    assert "Right" not in app.message.value + app.result.value  # no feedback during the attempt
    app.next_blank.click()
    assert app.item.id != first.id
    clock.now += 61
    app.tick()
    assert app.clock_label.value == "Time left 0:59"
    app.submit_button.click()
    assert app.attempt.submitted and app.choice.disabled and "Form submitted" in app.message.value
    page = app.result.value
    assert "Weighted score" in page and "<svg" in page and "Go back to" in page
    assert "The 59 items you missed" in page and exam.inline_html(exam.explanation(app.form[1]))[:60] in page
    assert app.chart()._repr_svg_().startswith("<svg")


def test_timed_widget_submits_by_the_clock_from_its_thread(items):
    from momlab.course import exam_ui

    times = iter([0.0, 0.0])  # the start and the first look; every later look is past the limit
    app = exam_ui.TimedExamApp(exam.practice_form("thread", items), limit_s=30, clock=lambda: next(times, 31.0))
    app.start()
    app._thread.join(timeout=10)
    assert not app._thread.is_alive()
    assert app.attempt.submitted and app.attempt.submitted_at == 30
    assert "submitted by the clock" in app.message.value and app.attempt.score.answered == 0


def test_timed_widget_on_the_graded_form_shows_answers_to_paste_and_no_feedback(items):
    from momlab.course import exam_ui

    form_a = exam.shuffled(exam.graded_items(items), 9)
    clock = Clock()
    app = exam_ui.TimedExamApp.for_graded(form_a, clock=clock, ticking=False)
    app.start()
    app.choice.value = app.choice.options[1]
    clock.now += exam.TIME_LIMIT_S + 1
    app.tick()
    assert app.attempt.submitted and app.answers_box.layout.display is None
    namespace = {}
    exec(app.answers_box.value, namespace)
    assert namespace["answers"][form_a[0].id] == app.choice.options[1] and len(namespace["answers"]) == 60
    assert "Weighted score" not in app.result.value and "explained" not in app.result.value
