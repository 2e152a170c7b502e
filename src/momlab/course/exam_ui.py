"""The practice exam's interactive runs, in ipywidgets; the logic they use is in momlab.course.exam.

- `TimedExamApp`: a form under a time limit, as in the exam. A clock counts down, updated once a second
  by a thread of the kernel (the kernel stays free for other cells). Answers can change until the form
  is submitted, by the learner or by the clock at the limit; there is no feedback before. Then, for a
  practice form (Form B): the score per section against the pass mark, a chart, the labs to go back to
  and the explanation of every item missed. For the graded form (Form A, no keys in the package): the
  `answers = {...}` text to paste into the graded answer cell, and no feedback.
- `ExamApp`: practice items one at a time, each checked at once (right or wrong, the right option, the
  explanation and the lab that teaches it), with a running score per section.

    app = TimedExamApp(exam.practice_form("7:1"))   # app.widget in JupyterLab; Start starts the clock
    app = TimedExamApp.for_graded(form_a)           # the graded form, timed; answers to paste at the end
    app.chart()                                     # after submitting a practice form: a matplotlib figure
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import ipywidgets as widgets
from IPython.display import display

from momlab.course import exam
from momlab.course.exam import Feedback, Score

GOOD, WEAK = "#2e7d32", "#e65100"


def section_chart(score: Score, title: str | None = None):
    """Bar chart of each section's share of right answers, against the pass mark (a matplotlib Figure)."""
    from momlab.figures import figure

    sections = score.sections
    labels = [f"{s.section.number} {s.section.title}\n({s.section.weight} %)" for s in sections]
    shares = [100 * s.share for s in sections]
    fig = figure(9, 0.45 * len(sections) + 1.4)
    ax = fig.subplots()
    bars = ax.barh(labels, shares, color=[GOOD if s.share >= score.pass_mark else WEAK for s in sections])
    ax.axvline(100 * score.pass_mark, color="black", linestyle="--", linewidth=1)
    ax.text(100 * score.pass_mark, len(sections) - 0.4, f" pass mark {100 * score.pass_mark:.0f} %", va="bottom", fontsize=8)
    for bar, s in zip(bars, sections, strict=True):
        ax.text(min(bar.get_width() + 1, 92), bar.get_y() + bar.get_height() / 2, f"{s.right}/{s.items}", va="center", fontsize=8)
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("right answers, % of the section's items")
    verdict = "passed" if score.passed else "not passed yet"
    ax.set_title(title or f"Weighted score {100 * score.weighted:.0f} % ({verdict})")
    return fig


def blueprint_chart(items: list[exam.Item] | None = None):
    """Each section's weight in the exam next to its share of the items, as paired bars (a matplotlib
    Figure): how closely the item bank follows the exam guide's weights."""
    from momlab.figures import figure

    table = exam.blueprint(items)
    labels = [f"{number} {row.title}" for number, row in table.iterrows()]
    positions = range(len(labels))
    fig = figure(9, 0.42 * len(labels) + 1.4)
    ax = fig.subplots()
    ax.barh([p - 0.2 for p in positions], table["exam weight %"], height=0.4, color="#1a5fb4", label="weight in the exam")
    ax.barh([p + 0.2 for p in positions], table["share of items %"], height=0.4, color="#b45309", label="share of the items")
    for p, (_, row) in zip(positions, table.iterrows(), strict=True):
        ax.text(row["share of items %"] + 0.4, p + 0.2, f"{row['items']} items", va="center", fontsize=8)
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlabel("% of the exam")
    ax.legend(loc="lower right")
    ax.set_title("The item bank follows the exam's section weights")
    return fig


def forms_chart(form_a: list[exam.Item], form_b: list[exam.Item]):
    """Items per section in each form next to the exam's weights, as grouped bars (a matplotlib Figure)."""
    from momlab.figures import figure

    numbers = list(exam.SECTIONS)
    labels = [f"{n} {exam.SECTIONS[n].title}" for n in numbers]
    series = [("the exam's weight, as items of 60", [exam.SECTIONS[n].weight * 60 / 100 for n in numbers], "#1a5fb4"),
              (f"Form A (graded): {len(form_a)} items", [sum(i.section == n for i in form_a) for n in numbers], "#b45309"),
              (f"Form B (practice): {len(form_b)} items", [sum(i.section == n for i in form_b) for n in numbers], "#2e7d32")]
    fig = figure(9, 0.5 * len(numbers) + 1.6)
    ax = fig.subplots()
    for k, (name, values, colour) in enumerate(series):
        ax.barh([p + (k - 1) * 0.27 for p in range(len(numbers))], values, height=0.27, color=colour, label=name)
    for p, n in enumerate(numbers):
        ax.text(sum(i.section == n for i in form_b) + 0.2, p + 0.27, str(sum(i.section == n for i in form_b)), va="center", fontsize=7)
    ax.set_yticks(list(range(len(numbers))), labels)
    ax.invert_yaxis()
    ax.set_xlabel("items in the section")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Both forms follow the exam's section weights")
    return fig


def score_html(score: Score, done: str = "checked", final: bool = False) -> str:
    """The score table per section; `done` names what counts as answered ("checked" in the practice run)."""
    cell = "style='padding:1px 10px; text-align:right'"
    rows = "".join(
        f"<tr><td style='padding:1px 10px 1px 0'>{s.section.number} {s.section.title}</td><td {cell}>{s.section.weight} %</td>"
        f"<td {cell}>{s.items}</td><td {cell}>{s.answered}</td><td {cell}>{s.right}</td><td {cell}>{100 * s.share:.0f} %</td></tr>"
        for s in score.sections
    )
    head = "".join(f"<th {cell}>{name}</th>" for name in ("weight", "items", done, "right", "score"))
    so_far = "" if final else " so far"
    return (
        f"<table><tr><th style='text-align:left'>section</th>{head}</tr>{rows}</table>"
        f"<p><b>Weighted score{so_far}: {100 * score.weighted:.0f} %</b> (items not {done} count as wrong; "
        f"pass mark {100 * score.pass_mark:.0f} %, the course's own). {done.capitalize()} {score.answered} of {score.items}.</p>"
    )


def feedback_html(fb: Feedback) -> str:
    if fb.correct:
        verdict = f"<b style='color:{GOOD}'>Right.</b>"
    else:
        chose = f"You chose <b>{fb.chosen.id}</b>. " if fb.chosen else "No option was chosen. "
        verdict = (f"<b style='color:{WEAK}'>Not right.</b> {chose}"
                   f"The right answer is <b>{fb.right.id}</b>: {exam.inline_html(fb.right.text)}")
    return (f"<div style='border-left:4px solid {GOOD if fb.correct else WEAK}; padding-left:8px'>"
            f"<p>{verdict}</p><p>{exam.inline_html(fb.explanation)}</p>"
            f"<p><i>Taught in {fb.lab_pointer}.</i></p></div>")


def show_item(app, item: exam.Item, position: int, count: int, chosen: str | None, more: str = "") -> None:
    """Put one item in an app's heading, question and radio buttons (its `choice`), with `chosen` selected."""
    app.heading.value = (f"<b>Item {position + 1} of {count}</b> · <code>{item.id}</code> · "
                         f"section {item.section} ({exam.SECTIONS[item.section].title}){more}")
    options = "".join(f"<li><b>{o.id}</b> · {exam.inline_html(o.text)}</li>" for o in item.options)
    app.question.value = f"<p>{exam.inline_html(item.question)}</p><ul style='list-style:none; padding-left:0'>{options}</ul>"
    app.choice.options = [o.id for o in item.options]
    app.choice.value = chosen


class ExamApp:
    """The widget and the session behind it (tests drive it through its buttons)."""

    def __init__(self, items: list[exam.Item], seed: int | str | None = None, title: str = "Practice exam"):
        if not items:
            raise ValueError("The practice run needs at least one item.")
        graded = [item.id for item in items if item.graded]
        if graded:
            raise ValueError(f"The practice run takes practice items only (exam.practice_items()): {', '.join(graded)} "
                             "are graded items, whose answers are not in the momlab package.")
        self.session = exam.Session(exam.shuffled(items, seed))
        self.position = 0
        self._loading = False
        self.heading = widgets.HTML()
        self.question = widgets.HTML()
        self.choice = widgets.RadioButtons(options=[], value=None, orientation="horizontal",
                                           description="Your answer:", style={"description_width": "initial"})
        self.check_button = widgets.Button(description="Check", button_style="primary", icon="check")
        self.feedback = widgets.HTML()
        self.previous = widgets.Button(description="Previous", icon="arrow-left")
        self.next = widgets.Button(description="Next", icon="arrow-right")
        self.finish = widgets.Button(description="Finish: show my sections", button_style="info",
                                     layout=widgets.Layout(width="auto"))
        self.scores = widgets.HTML()
        self.result = widgets.Output()
        self.choice.observe(self._chosen, names="value")
        self.check_button.on_click(self._check)
        self.previous.on_click(lambda _: self.go(self.position - 1))
        self.next.on_click(lambda _: self.go(self.position + 1))
        self.finish.on_click(self._finish)
        self.widget = widgets.VBox([
            widgets.HTML(f"<h3>{exam.inline_html(title)}</h3>"),
            self.heading, self.question, self.choice,
            widgets.HBox([self.check_button, self.previous, self.next]),
            self.feedback,
            widgets.HTML("<hr><b>Running score by section</b>"), self.scores,
            self.finish, self.result,
        ])
        self.go(0)

    @property
    def item(self) -> exam.Item:
        return self.session.items[self.position]

    def go(self, position: int) -> None:
        self.position = max(0, min(position, len(self.session.items) - 1))
        item, n = self.item, len(self.session.items)
        self._loading = True
        show_item(self, item, self.position, n, self.session.chosen.get(item.id), f" · objective {item.objective}")
        self._loading = False
        done = self.session.feedback.get(item.id)
        self.choice.disabled = done is not None
        self.check_button.disabled = done is not None or self.choice.value is None
        self.feedback.value = feedback_html(done) if done else ""
        self.previous.disabled = self.position == 0
        self.next.disabled = self.position == n - 1
        self.scores.value = score_html(self.session.score())

    def _chosen(self, change) -> None:
        if self._loading or change["new"] is None:
            return
        self.session.choose(self.item.id, change["new"])
        self.check_button.disabled = self.item.id in self.session.feedback

    def _check(self, _=None) -> None:
        if self.choice.value is None:
            return
        self.session.choose(self.item.id, self.choice.value)
        self.session.check(self.item.id)
        self.go(self.position)

    def chart(self):
        return section_chart(self.session.score())

    def _finish(self, _=None) -> None:
        score = self.session.score()
        weak = score.weak()
        advice = ("Every section is at or above the pass mark." if not weak else
                  "Go back to: " + "; ".join(f"lab {s.section.lab} (section {s.section.number}, {100 * s.share:.0f} %)" for s in weak) + ".")
        self.result.clear_output()
        with self.result:
            display(self.chart())
            display(widgets.HTML(f"<p>{advice}</p>"))


def exam_widget(items: list[exam.Item] | None = None, seed: int | str | None = None, title: str = "Practice exam") -> widgets.VBox:
    """The practice run as one widget to display, on the practice items unless told otherwise."""
    return ExamApp(items if items is not None else exam.practice_items(), seed=seed, title=title).widget


def missed_html(feedback: list[Feedback]) -> str:
    """The explanation of every item missed, with the answer given and the right one."""
    if not feedback:
        return "<p><b>Every item right.</b></p>"
    parts = []
    for fb in feedback:
        chose = f"you chose <b>{fb.chosen.id}</b>" if fb.chosen else "left blank"
        parts.append(f"<li><p><code>{fb.item.id}</code> ({chose}; right: <b>{fb.right.id}</b> · "
                     f"{exam.inline_html(fb.right.text)})<br>{exam.inline_html(fb.item.question)}</p>"
                     f"<p>{exam.inline_html(fb.explanation)} <i>Taught in {fb.lab_pointer}.</i></p></li>")
    return f"<p><b>The {len(feedback)} items you missed, explained:</b></p><ol>{''.join(parts)}</ol>"


def advice_html(score: Score) -> str:
    """Which labs to go back to: the sections below the pass mark, weakest first."""
    weak = score.weak()
    if not weak:
        return "<p>Every section is at or above the pass mark.</p>"
    return "<p>Go back to: " + "; ".join(
        f"lab <code>{s.section.lab}</code> (section {s.section.number}, {100 * s.share:.0f} %)" for s in weak) + ".</p>"


class TimedExamApp:
    """A form under a time limit (see the module's docstring). Tests drive it through its buttons and a
    clock of their own (`clock=`, `ticking=False`); `tick()` is what the clock thread calls each second."""

    def __init__(self, form: list[exam.Item], limit_s: float = exam.TIME_LIMIT_S, title: str = "Timed form",
                 clock: Callable[[], float] = time.monotonic, ticking: bool = True):
        if not form:
            raise ValueError("A timed form needs at least one item.")
        self.form = list(form)
        self.limit_s = limit_s
        self.clock = clock
        self.ticking = ticking
        self.attempt: exam.TimedAttempt | None = None
        self.position = 0
        self._loading = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        graded = any(item.graded for item in self.form)
        after = ("you get the `answers = {...}` text to paste into the graded answer cell; no feedback (the keys "
                 "are not on your machine)" if graded else
                 "you get your score per section, a chart and the explanation of every item you missed")
        self.intro = widgets.HTML(
            f"<h3>{exam.inline_html(title)}</h3><p>{len(self.form)} items · time limit "
            f"<b>{exam.clock_text(limit_s)}</b> · no feedback until you submit. Answers can change until then. "
            f"When you submit, or when the clock reaches 0:00, {exam.inline_html(after)}. Blank items count as wrong.</p>")
        self.start_button = widgets.Button(description="Start the clock", button_style="primary", icon="play",
                                           layout=widgets.Layout(width="auto"))
        self.clock_label = widgets.Label(value=f"Time left {exam.clock_text(limit_s)}")
        self.progress = widgets.Label(value=f"0 of {len(self.form)} answered")
        self.heading = widgets.HTML()
        self.question = widgets.HTML()
        self.choice = widgets.RadioButtons(options=[], value=None, orientation="horizontal",
                                           description="Your answer:", style={"description_width": "initial"})
        self.previous = widgets.Button(description="Previous", icon="arrow-left")
        self.next = widgets.Button(description="Next", icon="arrow-right")
        self.next_blank = widgets.Button(description="Next blank item", icon="forward", layout=widgets.Layout(width="auto"))
        self.submit_button = widgets.Button(description="Submit the form", button_style="warning", icon="flag-checkered",
                                            layout=widgets.Layout(width="auto"))
        self.message = widgets.HTML()
        self.result = widgets.HTML()
        self.answers_box = widgets.Textarea(layout=widgets.Layout(width="100%", height="16em", display="none"))
        self.start_button.on_click(lambda _: self.start())
        self.choice.observe(self._chosen, names="value")
        self.previous.on_click(lambda _: self.go(self.position - 1))
        self.next.on_click(lambda _: self.go(self.position + 1))
        self.next_blank.on_click(lambda _: self._go_blank())
        self.submit_button.on_click(lambda _: self.submit())
        self.item_box = widgets.VBox([self.heading, self.question, self.choice,
                                      widgets.HBox([self.previous, self.next, self.next_blank, self.submit_button])])
        self.item_box.layout.display = "none"
        self.widget = widgets.VBox([
            self.intro, widgets.HBox([self.start_button, self.clock_label, self.progress]),
            self.item_box, self.message, self.result, self.answers_box,
        ])

    @classmethod
    def for_graded(cls, form: list[exam.Item], limit_s: float = exam.TIME_LIMIT_S, **kwargs) -> TimedExamApp:
        """The graded form, timed: the same clock; at the end, the answers to paste (no score, no feedback)."""
        kwargs.setdefault("title", "Form A (graded), timed")
        return cls(form, limit_s, **kwargs)

    @property
    def item(self) -> exam.Item:
        return self.form[self.position]

    def start(self) -> None:
        """Start the attempt and its clock (once)."""
        if self.attempt is not None:
            return
        self.attempt = exam.TimedAttempt(self.form, self.limit_s, clock=self.clock)
        self.start_button.disabled = True
        self.item_box.layout.display = None
        self.go(0)
        self.tick()
        if self.ticking:
            self._thread = threading.Thread(target=self._run_clock, name="momlab-exam-clock", daemon=True)
            self._thread.start()

    def _run_clock(self) -> None:
        while not self._stop.wait(1.0):
            if self.tick():
                break

    def tick(self) -> bool:
        """Update the clock; submit when the time is up. True once the form is submitted."""
        attempt = self.attempt
        if attempt is None:
            return False
        if attempt.submitted:
            return True
        self.clock_label.value = f"Time left {exam.clock_text(attempt.remaining())}"
        if attempt.tick():
            self._finish(by_clock=True)
            return True
        return False

    def go(self, position: int) -> None:
        self.position = max(0, min(position, len(self.form) - 1))
        item, n = self.item, len(self.form)
        self._loading = True
        show_item(self, item, self.position, n, self.attempt.answers.get(item.id) if self.attempt else None)
        self._loading = False
        self.previous.disabled = self.position == 0
        self.next.disabled = self.position == n - 1

    def _go_blank(self) -> None:
        if self.attempt is None:
            return
        n = len(self.form)
        for step in range(1, n + 1):
            candidate = (self.position + step) % n
            if self.form[candidate].id not in self.attempt.answers:
                self.go(candidate)
                return
        self.message.value = "<p>Every item has an answer.</p>"

    def _chosen(self, change) -> None:
        if self._loading or change["new"] is None or self.attempt is None:
            return
        try:
            self.attempt.answer(self.item.id, change["new"])
        except exam.TimeUp as late:
            self.message.value = f"<p><b>{exam.inline_html(str(late))}</b></p>"
            self.tick()
            return
        self.progress.value = f"{len(self.attempt.answers)} of {len(self.form)} answered"

    def submit(self) -> None:
        """The learner's Submit: end the attempt now."""
        if self.attempt is None or self.attempt.submitted:
            return
        self.attempt.submit()
        self._finish(by_clock=False)

    def _finish(self, by_clock: bool) -> None:
        self._stop.set()
        attempt = self.attempt
        self.choice.disabled = self.submit_button.disabled = True
        self.clock_label.value = f"Time used {exam.clock_text(attempt.submitted_at)} of {exam.clock_text(self.limit_s)}"
        how = "Time is up: the form was submitted by the clock." if by_clock else "Form submitted."
        blank = len(self.form) - len(attempt.answers)
        self.message.value = f"<p><b>{how}</b> {len(attempt.answers)} of {len(self.form)} answered; {blank} blank (wrong).</p>"
        if attempt.graded:
            self.answers_box.value = attempt.answers_text()
            self.answers_box.layout.display = None
            self.result.value = ("<p>Copy this text into the graded answer cell below, replacing its body, and run "
                                 "it. Whether an answer is right is decided when your notebook is graded.</p>")
            return
        score = attempt.score
        verdict = "passed" if score.passed else "not passed yet"
        self.result.value = (
            f"<h4>Weighted score {100 * score.weighted:.0f} % ({verdict}; pass mark {100 * score.pass_mark:.0f} %)</h4>"
            + score_html(score, done="answered", final=True)
            + svg_html(self.chart()) + advice_html(score) + missed_html(attempt.missed()))

    def chart(self):
        """The per-section chart of the submitted form (a matplotlib Figure)."""
        if self.attempt is None or self.attempt.score is None:
            raise RuntimeError("No chart before a practice form is submitted.")
        return section_chart(self.attempt.score)

    def close(self) -> None:
        """Stop the clock thread (the form stays as it is)."""
        self._stop.set()


def svg_html(fig) -> str:
    from momlab.figures import svg

    return f"<div>{svg(fig)}</div>"
