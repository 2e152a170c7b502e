"""The practice exam: two forms of 60 items, a timed attempt, answers checked and scored by section.

The items live in data/practice_exam.json (the bank). Each has a stable id (its objective and a number,
e.g. "4.4-02"), a scenario, four options with stable ids and the lab that teaches it. The bank makes two
forms, each drawn in the exam's section weights (FORM_COUNTS: 4/4/3/14/6/11/8/7/3 = 60 items), with no item
in both:

- **Form A, graded** (the groups under "graded", one per section): the file holds no key and no
  explanation for these items, and nothing here can compute one. Their right answers live only on the
  instructor's side, in the answer cell of the lab's solution notebook; the grader compares each
  learner's answers with the solution's, item by item, outside the learner's kernel
  (momlab.course.classroom.judge). `right_option`, `is_correct`, `explanation`, `check` and `score`
  refuse a graded item (NoKey).
- **Form B, practice**: drawn per attempt from the practice pool (every other item) with a seed, so that
  another attempt is another form. A practice item carries its right option's salted hash,
  `grading.answer_hash(option_id, salt=item_id)`, and its explanation sealed with a key made from the
  right option's id: answers do not show by accident, and the feedback after the form is the point.
  That is no secret (four options are four guesses), and it need not be: practice items are not graded.

A timed attempt (TimedAttempt) takes answers until its time limit and gives no feedback until it is
submitted, by the learner or by the clock; unanswered items then count as wrong. Everything here is
plain Python, testable without a browser or a real clock. The widget is in momlab.course.exam_ui.

    items = exam.load()
    form_a = exam.shuffled(exam.graded_items(items), seed=exam.learner_seed())  # another order, same ids
    form_b = exam.practice_form(seed="7:1", items=items)                        # 60 practice items
    attempt = exam.TimedAttempt(form_b, exam.TIME_LIMIT_S)
    attempt.answer(form_b[0].id, "c")                                           # by option id or text
    score = attempt.submit()                                                    # weighted by section
"""

from __future__ import annotations

import base64
import dataclasses
import getpass
import hashlib
import html
import os
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from momlab import data
from momlab.course import grading

DATA_FILE = "practice_exam.json"
PASS_MARK = 0.67  # the course's own pass mark: the real exam's is not in the course's sources
FORM_SIZE = 60  # items per form
PACE_S = 90  # seconds per item in a timed form: the course's pace, not a published figure
TIME_LIMIT_S = FORM_SIZE * PACE_S  # 90 minutes for 60 items


@dataclass(frozen=True)
class Section:
    number: int
    title: str
    weight: int  # percent of the exam, from the exam guide
    lab: str  # the course lab (folder name) that teaches the section


SECTIONS: dict[int, Section] = {s.number: s for s in (
    Section(1, "Magento Order Management functionality", 7, "01-mom-api"),
    Section(2, "Integration flow", 7, "02-integration-flow"),
    Section(3, "Plans and environment", 5, "03-plans-environments"),
    Section(4, "Integrations", 23, "04-integrations"),
    Section(5, "Troubleshooting", 10, "05-troubleshooting"),
    Section(6, "Magento Commerce connector", 18, "06-commerce-connector"),
    Section(7, "Magento Order Management knowledge", 13, "07-mom-knowledge"),
    Section(8, "Connector", 12, "08-connector"),
    Section(9, "Deployment process", 5, "09-deployment"),
)}


def form_counts(size: int = FORM_SIZE) -> dict[int, int]:
    """Items per section in a form of `size` items: each section's weight times `size`, rounded so that
    the counts add up to `size` (largest remainders first). For 60 items: 4/4/3/14/6/11/8/7/3."""
    exact = {number: section.weight * size / 100 for number, section in SECTIONS.items()}
    counts = {number: int(share) for number, share in exact.items()}
    by_remainder = sorted(exact, key=lambda number: (-(exact[number] - counts[number]), number))
    for number in by_remainder[:size - sum(counts.values())]:
        counts[number] += 1
    return counts


FORM_COUNTS = form_counts()


@dataclass(frozen=True)
class Option:
    id: str
    text: str


@dataclass(frozen=True)
class Item:
    id: str  # objective and number, e.g. "4.4-02"; also the salt of its key
    section: int
    objective: str
    lab: str
    question: str
    options: tuple[Option, ...]
    key: str | None  # practice items: grading.answer_hash(right option id, salt=id); graded items: None
    sealed: str | None  # practice items: the explanation, sealed with the right option (see seal()); graded: None

    @property
    def lab_pointer(self) -> str:
        return f"lab {self.lab}, objective {self.objective}"

    @property
    def graded(self) -> bool:
        """A graded item: no key in the package; only the grader knows whether an answer is right."""
        return self.key is None

    def option(self, answer) -> Option | None:
        """The option an answer names: its id ("c") or its text, ignoring case and spacing."""
        if isinstance(answer, Option):
            answer = answer.id
        if not isinstance(answer, str):
            return None
        wanted = _plain(answer)
        for option in self.options:
            if wanted == option.id.lower():
                return option
        for option in self.options:
            if wanted == _plain(option.text):
                return option
        return None


def _plain(text: str) -> str:
    return " ".join(text.replace("`", "").split()).lower()


class NoKey(LookupError):
    """Asked for the right answer of a graded item, which the package does not hold."""

    def __init__(self, item: Item):
        super().__init__(f"item {item.id} is a graded item: its right answer and explanation are not in the momlab package; "
                         "it is judged when your notebook is graded")


# ---------------------------------------------------------------- loading


@cache
def _raw() -> dict:
    return data.load(DATA_FILE)


def _item(raw: dict, graded: bool) -> Item:
    has_key, has_explanation = "key" in raw, "explanation" in raw
    if has_key != has_explanation or has_key == graded:  # graded: neither; practice: both
        rule = "a graded item holds neither" if graded else "a practice item holds both"
        raise ValueError(f"{DATA_FILE}: item {raw['id']}: {rule} a key and an explanation")
    return Item(
        id=raw["id"], section=int(raw["section"]), objective=raw["objective"], lab=raw["lab"],
        question=raw["question"], options=tuple(Option(o["id"], o["text"]) for o in raw["options"]),
        key=raw.get("key"), sealed=raw.get("explanation"),
    )


def load() -> list[Item]:
    """Every item of the practice exam, in the order of the data file (by section)."""
    graded = {item_id for ids in _raw()["graded"].values() for item_id in ids}
    return [_item(raw, raw["id"] in graded) for raw in _raw()["items"]]


def groups() -> dict[str, list[str]]:
    """The graded subset: group name -> item ids (the notebook has one test cell per group)."""
    return {name: list(ids) for name, ids in _raw()["graded"].items()}


def graded_group(name: str, items: list[Item] | None = None) -> list[Item]:
    """The items of one graded group, in a fixed order."""
    known = groups()
    if name not in known:
        raise KeyError(f"No graded group {name!r}; the groups are {', '.join(known)}.")
    by_id = {item.id: item for item in (items if items is not None else load())}
    return [by_id[item_id] for item_id in known[name]]


def graded_items(items: list[Item] | None = None) -> list[Item]:
    """Every graded item, group after group."""
    return [item for name in groups() for item in graded_group(name, items)]


def practice_items(items: list[Item] | None = None) -> list[Item]:
    """The items outside the graded subset, each with its key and explanation: the practice run uses these."""
    graded = {item_id for ids in groups().values() for item_id in ids}
    return [item for item in (items if items is not None else load()) if item.id not in graded]


def practice_form(seed: int | str, items: list[Item] | None = None, size: int = FORM_SIZE) -> list[Item]:
    """Form B: `size` practice items drawn in the section weights (form_counts), in an order of their
    own. The same seed gives the same form; another seed (another attempt) gives another draw."""
    pool = practice_items(items)
    form = []
    for number, count in form_counts(size).items():
        own = [item for item in pool if item.section == number]
        if len(own) < count:
            raise ValueError(f"section {number} has {len(own)} practice items; a form of {size} needs {count}")
        form += random.Random(f"momlab-form-b:{seed}:{number}").sample(own, count)
    return shuffled(form, f"form-b:{seed}")


# ---------------------------------------------------------------- shuffling


def learner_seed(name: str | None = None) -> int:
    """A seed of one's own: the same number for the same user name, every time."""
    name = name or os.environ.get("JUPYTERHUB_USER") or _user()
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "learner"


def shuffled(items: list[Item], seed: int | str | None) -> list[Item]:
    """The items in another order, each with its options in another order. Ids do not change, so
    answers given by option id or text grade the same under every seed. `seed=None` keeps the order."""
    if seed is None:
        return list(items)
    order = list(items)
    random.Random(f"momlab-exam:{seed}").shuffle(order)
    result = []
    for item in order:
        options = list(item.options)
        random.Random(f"momlab-exam:{seed}:{item.id}").shuffle(options)
        result.append(dataclasses.replace(item, options=tuple(options)))
    return result


# ---------------------------------------------------------------- checking


def option_id(item: Item, answer) -> str | None:
    """The id of the option `answer` names (by id or text), or None."""
    option = item.option(answer)
    return option.id if option else None


def _key(item: Item) -> str:
    if item.key is None:
        raise NoKey(item)
    return item.key


def is_correct(item: Item, answer) -> bool:
    """For practice items only (a graded item raises NoKey)."""
    key = _key(item)
    chosen = option_id(item, answer)
    return chosen is not None and grading.answer_hash(chosen, item.id) == key


def right_option(item: Item) -> Option:
    """The right option of a practice item, found by hashing each one (to reveal it after it was
    answered). A graded item raises NoKey: the package cannot tell its right option."""
    _key(item)
    matches = [o for o in item.options if grading.answer_hash(o.id, item.id) == item.key]
    if len(matches) != 1:
        raise ValueError(f"item {item.id}: {len(matches)} options match its key, expected exactly one")
    return matches[0]


def _keystream(key: bytes, length: int) -> bytes:
    stream = bytearray()
    counter = 0
    while len(stream) < length:
        stream += hashlib.sha256(key + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(stream[:length])


def _xor(blob: bytes, item_id: str, option: str) -> bytes:
    key = hashlib.sha256(f"momlab-exam:{item_id}:{option}".encode()).digest()
    return bytes(a ^ b for a, b in zip(blob, _keystream(key, len(blob)), strict=True))


def seal(text: str, item_id: str, right_option_id: str) -> str:
    """An explanation as stored: unreadable without the right option's id."""
    return base64.b64encode(_xor(text.encode(), item_id, right_option_id)).decode()


def unseal(sealed: str, item_id: str, right_option_id: str) -> str:
    return _xor(base64.b64decode(sealed), item_id, right_option_id).decode("utf-8", errors="replace")


def explanation(item: Item) -> str:
    """A practice item's explanation (a graded item raises NoKey)."""
    return unseal(item.sealed, item.id, right_option(item).id)


@dataclass(frozen=True)
class Feedback:
    item: Item
    chosen: Option | None
    correct: bool
    right: Option
    explanation: str

    @property
    def lab_pointer(self) -> str:
        return self.item.lab_pointer


def check(item: Item, answer) -> Feedback:
    """Right or wrong, the right option and the explanation, for an answer to one practice item."""
    right = right_option(item)
    chosen = item.option(answer)
    return Feedback(item, chosen, chosen is not None and chosen.id == right.id, right, explanation(item))


def check_answered(answers, items: list[Item], known: list[Item] | None = None) -> tuple[int, int]:
    """For test cells: `answers` is a dict whose every answer to one of `items` names one of that item's
    options (else a CheckFailed that says what to fix); with `known`, every key must be the id of one of
    those items (a mistyped id would leave an item unanswered). An item left out, or answered None, is
    blank: it counts as wrong, like an unanswered item in the exam. This checks the form only: whether an
    answer to a graded item is right, only the grader can tell. Returns (answered, blank) for `items`."""
    grading.check(isinstance(answers, dict),
                  'answers must be a dict from item id to option id: {"<item id>": "<option id>", ...}.')
    if known is not None:
        ids = {item.id for item in known}
        stray = sorted(str(key) for key in answers if key not in ids)
        grading.check(not stray, f"answers has keys that are no item id of this form: {', '.join(map(repr, stray))}; "
                                 "copy the ids from the items above (e.g. \"4.4-01\").")
    answered = 0
    for item in items:
        answer = answers.get(item.id)
        if answer is None:
            continue
        ids = ", ".join(o.id for o in sorted(item.options, key=lambda o: o.id))
        grading.check(item.option(answer) is not None,
                      f"item {item.id}: {answer!r} is not one of its options; answer with an option id ({ids}) or an option's text.")
        answered += 1
    return answered, len(items) - answered


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class SectionScore:
    section: Section
    items: int
    answered: int
    right: int

    @property
    def share(self) -> float:
        """Right answers as a share of the section's items (unanswered items count as wrong)."""
        return self.right / self.items if self.items else 0.0


@dataclass(frozen=True)
class Score:
    sections: tuple[SectionScore, ...]
    weighted: float  # sum of weight x share over the sections present, divided by their weights
    pass_mark: float = PASS_MARK

    @property
    def passed(self) -> bool:
        return self.weighted + 1e-9 >= self.pass_mark

    @property
    def right(self) -> int:
        return sum(s.right for s in self.sections)

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    @property
    def items(self) -> int:
        return sum(s.items for s in self.sections)

    def weak(self) -> list[SectionScore]:
        """Sections below the pass mark, weakest first."""
        return sorted((s for s in self.sections if s.share < self.pass_mark), key=lambda s: (s.share, -s.section.weight))

    def frame(self):
        import pandas as pd

        return pd.DataFrame([
            {"section": s.section.number, "title": s.section.title, "weight %": s.section.weight,
             "items": s.items, "answered": s.answered, "right": s.right, "score %": round(100 * s.share),
             "lab": s.section.lab}
            for s in self.sections
        ]).set_index("section")


def score(items: list[Item], answers: dict) -> Score:
    """Score `answers` ({item id: option id or text}) on practice `items`, section by section. The overall
    score weights each section's share of right answers by its exam weight, over the sections present.
    Graded items cannot be scored here (NoKey): the grader scores them."""
    for item in items:
        _key(item)
    rows = []
    for number, section in SECTIONS.items():
        own = [item for item in items if item.section == number]
        if not own:
            continue
        answered = [item for item in own if item.option(answers.get(item.id)) is not None]
        right = [item for item in answered if is_correct(item, answers[item.id])]
        rows.append(SectionScore(section, len(own), len(answered), len(right)))
    total_weight = sum(s.section.weight for s in rows)
    weighted = sum(s.section.weight * s.share for s in rows) / total_weight if total_weight else 0.0
    return Score(tuple(rows), weighted)


def blueprint(items: list[Item] | None = None):
    """Items per section next to the exam's weights, as a DataFrame."""
    import pandas as pd

    items = items if items is not None else load()
    rows = []
    for number, section in SECTIONS.items():
        own = [item for item in items if item.section == number]
        rows.append({"section": number, "title": section.title, "exam weight %": section.weight,
                     "items": len(own), "share of items %": round(100 * len(own) / len(items), 1),
                     "objectives": ", ".join(sorted({item.objective for item in own})), "lab": section.lab})
    return pd.DataFrame(rows).set_index("section")


class Session:
    """One sitting: the answer chosen per item, and the items already checked (a checked item is final)."""

    def __init__(self, items: list[Item]):
        self.items = list(items)
        self.chosen: dict[str, str] = {}
        self.feedback: dict[str, Feedback] = {}

    def choose(self, item_id: str, answer) -> None:
        if item_id not in self.feedback:
            self.chosen[item_id] = answer

    def check(self, item_id: str) -> Feedback:
        if item_id not in self.feedback:
            item = next(i for i in self.items if i.id == item_id)
            self.feedback[item_id] = check(item, self.chosen.get(item_id))
        return self.feedback[item_id]

    def score(self) -> Score:
        """Only checked items count as answered; the rest count as wrong."""
        return score(self.items, {item_id: fb.chosen.id for item_id, fb in self.feedback.items() if fb.chosen})


def missed(items: list[Item], answers: dict) -> list[Feedback]:
    """The feedback on every practice item in `items` not answered right (blank ones included), in order."""
    result = []
    for item in items:
        feedback = check(item, answers.get(item.id))
        if not feedback.correct:
            result.append(feedback)
    return result


# ---------------------------------------------------------------- a timed attempt


class TimeUp(RuntimeError):
    """An answer came after the time limit, or after the form was submitted."""


class TimedAttempt:
    """One timed sitting of a form: answers until `limit_s` seconds after it starts, no feedback before it
    is submitted, then the score. `clock` returns seconds (time.monotonic by default; tests pass their own).

    - `answer(item_id, option)` records or changes an answer (by option id or text); after the limit, or
      once submitted, it raises TimeUp and the answer does not count.
    - `submit()` ends the attempt (the learner's button, or `tick()` once the time is up) and returns the
      Score: unanswered items count as wrong. A form with graded items has no Score here (None): its
      answers go to the graded answer cell (`answers_text()`), and only the grader scores them.
    - `missed()` (after submit) gives the feedback, explanation included, on each item not answered right.
    """

    def __init__(self, form: list[Item], limit_s: float = TIME_LIMIT_S, clock: Callable[[], float] = time.monotonic):
        if not form:
            raise ValueError("A timed attempt needs at least one item.")
        if limit_s <= 0:
            raise ValueError(f"The time limit must be positive, not {limit_s!r} seconds.")
        self.form = list(form)
        self.limit_s = float(limit_s)
        self.clock = clock
        self.started = clock()
        self.answers: dict[str, str] = {}
        self.submitted_at: float | None = None  # seconds after the start
        self._by_id = {item.id: item for item in self.form}
        self._lock = threading.Lock()
        self._score: Score | None = None

    @property
    def graded(self) -> bool:
        """True when the form holds graded items: no key here, so no score or feedback."""
        return any(item.graded for item in self.form)

    def elapsed(self) -> float:
        return self.clock() - self.started

    def remaining(self) -> float:
        """Seconds left (0 once the time is up or the form submitted)."""
        if self.submitted:
            return 0.0
        return max(0.0, self.limit_s - self.elapsed())

    @property
    def expired(self) -> bool:
        return self.elapsed() >= self.limit_s

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None

    def answer(self, item_id: str, option) -> str:
        """Record the answer to one item (its option id, or the option's text); returns the option id."""
        with self._lock:
            if self.submitted:
                raise TimeUp("The form is submitted: answers can no longer change.")
            if self.expired:
                raise TimeUp(f"Time is up ({clock_text(self.limit_s)}): this answer does not count.")
            item = self._by_id.get(item_id)
            if item is None:
                raise KeyError(f"No item {item_id!r} in this form.")
            chosen = option_id(item, option)
            if chosen is None:
                ids = ", ".join(sorted(o.id for o in item.options))
                raise ValueError(f"item {item_id}: {option!r} is not one of its options ({ids}).")
            self.answers[item_id] = chosen
            return chosen

    def tick(self) -> bool:
        """Submit when the time is up (the clock calls this every second); True once submitted."""
        if not self.submitted and self.expired:
            self.submit()
        return self.submitted

    def submit(self) -> Score | None:
        """End the attempt: no answer counts after this. The Score of a practice form (None for a graded
        form). Submitting twice returns the same result."""
        with self._lock:
            if self.submitted_at is None:
                self.submitted_at = min(self.elapsed(), self.limit_s)
                if not self.graded:
                    self._score = score(self.form, self.answers)
            return self._score

    @property
    def score(self) -> Score | None:
        """The Score once a practice form is submitted; None before (no feedback during the attempt)."""
        return self._score

    def missed(self) -> list[Feedback]:
        """After submitting a practice form: feedback on each item not answered right, explanation included."""
        if not self.submitted:
            raise RuntimeError("No feedback before the form is submitted: submit it first.")
        if self.graded:
            raise NoKey(next(item for item in self.form if item.graded))
        return missed(self.form, self.answers)

    def answers_text(self) -> str:
        """The answers as Python text for the graded answer cell: every item of the form, in the form's
        order; an item left blank is None (it counts as wrong)."""
        return answers_text(self.form, self.answers)


def clock_text(seconds: float) -> str:
    """Seconds as a clock reads them: 89:59, or 1:29:59 past the hour."""
    seconds = max(0, int(seconds + 0.999))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def answers_text(items: list[Item], answers: dict) -> str:
    """`answers = {...}` as Python text: one line per item, blank items as None (they count as wrong)."""
    lines = []
    for item in items:
        chosen = option_id(item, answers.get(item.id))
        value = f'"{chosen}"' if chosen else "None"
        note = "" if chosen else "  # blank: counts as wrong"
        lines.append(f'    "{item.id}": {value},{note}')
    return "answers = {\n" + "\n".join(lines) + "\n}"


# ---------------------------------------------------------------- showing


def markdown(items: list[Item]) -> str:
    """The items as Markdown: id, objective, scenario and options with their ids."""
    parts = []
    for n, item in enumerate(items, 1):
        options = "\n".join(f"- **{o.id}** · {o.text}" for o in item.options)
        parts.append(f"**{n}. Item `{item.id}`** · section {item.section} · objective {item.objective}\n\n"
                     f"{item.question}\n\n{options}")
    return "\n\n---\n\n".join(parts)


def show(items: list[Item]):
    from IPython.display import Markdown

    return Markdown(markdown(items))


def answer_template(items: list[Item]) -> str:
    """Python text to copy into the answer cell: one line per item, to fill with an option id."""
    lines = [f'    "{item.id}": None,  # {", ".join(sorted(o.id for o in item.options))}' for item in items]
    return "answers = {\n" + "\n".join(lines) + "\n}"


def inline_html(text: str) -> str:
    """Escape text for HTML and turn `code` and **bold** into tags (for the widget)."""
    escaped = html.escape(text)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", escaped)
