"""The practice exam's interactive run, in ipywidgets; the logic it uses is in momlab.course.exam.

Practice items only (graded items have no key in the package: see momlab.course.exam).
One item at a time: the scenario, its options, radio buttons to choose, and "Check", which reveals
right or wrong, the right option, the explanation and the lab that teaches it. A checked item is
final, as in the exam. A table keeps the running score per section; "Finish" draws a bar chart of
the sections, strong and weak, against the pass mark.

    app = ExamApp(exam.practice_items(), seed=7)
    app.widget            # display it in JupyterLab
    app.chart()           # the chart, as a matplotlib figure
"""

from __future__ import annotations

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


def score_html(score: Score) -> str:
    cell = "style='padding:1px 10px; text-align:right'"
    rows = "".join(
        f"<tr><td style='padding:1px 10px 1px 0'>{s.section.number} {s.section.title}</td><td {cell}>{s.section.weight} %</td>"
        f"<td {cell}>{s.items}</td><td {cell}>{s.answered}</td><td {cell}>{s.right}</td><td {cell}>{100 * s.share:.0f} %</td></tr>"
        for s in score.sections
    )
    head = "".join(f"<th {cell}>{name}</th>" for name in ("weight", "items", "checked", "right", "score"))
    return (
        f"<table><tr><th style='text-align:left'>section</th>{head}</tr>{rows}</table>"
        f"<p><b>Weighted score so far: {100 * score.weighted:.0f} %</b> (unchecked items count as wrong; "
        f"pass mark {100 * score.pass_mark:.0f} %). Checked {score.answered} of {score.items}.</p>"
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
        self.heading.value = (f"<b>Item {self.position + 1} of {n}</b> · <code>{item.id}</code> · "
                              f"section {item.section} ({exam.SECTIONS[item.section].title}) · objective {item.objective}")
        options = "".join(f"<li><b>{o.id}</b> · {exam.inline_html(o.text)}</li>" for o in item.options)
        self.question.value = f"<p>{exam.inline_html(item.question)}</p><ul style='list-style:none; padding-left:0'>{options}</ul>"
        self._loading = True
        self.choice.options = [o.id for o in item.options]
        self.choice.value = self.session.chosen.get(item.id)
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
