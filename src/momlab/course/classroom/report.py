"""How the class did, as one self-contained HTML page (charts inline as SVG).

- the score distribution of each lab;
- the success rate of each exam objective (every learner's every exercise that trains it);
- the exercises most often failed, and the error they most often failed with.

Scores come from the course gradebook, errors from the autograded notebooks, objectives from the
solutions (momlab.course.objectives).
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nbformat

from momlab.course import objectives, outcomes
from momlab.course.classroom.course import Course
from momlab.course.errors import UserError
from momlab.figures import figure, share_bars, svg


@dataclass(frozen=True)
class Row:
    """One learner's result on one exercise."""
    lab: str
    learner: str
    notebook: str
    exercise: str
    objectives: tuple[str, ...]
    score: float
    max_score: float
    error: str

    @property
    def passed(self) -> bool:
        return self.max_score > 0 and self.score >= self.max_score


def collect_rows(course: Course) -> tuple[list[Row], dict[tuple[str, str], tuple[float, float]]]:
    """Every graded exercise, and every (lab, learner)'s (score less any late penalty, max_score)."""
    from nbgrader.api import Gradebook

    if course.db_url.startswith("sqlite:///") and not Path(course.db_url.removeprefix("sqlite:///")).exists():
        raise UserError("nothing is graded yet (no gradebook): run `momlab class autograde` first")
    rows, totals = [], {}
    with Gradebook(course.db_url) as gradebook:
        for assignment in gradebook.assignments:
            lab = assignment.name
            if not (course.source / lab).is_dir():
                continue
            mapping = {nb.stem: objectives.for_notebook(nbformat.read(nb, as_version=4)) for nb in (course.source / lab).glob("*.ipynb")}
            for submission in assignment.submissions:
                learner = submission.student.id
                if not course.folder("autograded", learner, lab).is_dir():
                    continue  # in the gradebook but never autograded
                totals[(lab, learner)] = (submission.score - submission.late_submission_penalty, submission.max_score)
                for notebook in submission.notebooks:
                    tests = mapping.get(notebook.name, {})
                    errors = _errors(course.folder("autograded", learner, lab) / f"{notebook.name}.ipynb")
                    for grade in notebook.grades:
                        if grade.name not in tests:
                            continue  # not an autograded test cell
                        score = grade.score or 0.0
                        error = "" if score >= grade.max_score else errors.get(grade.name, outcomes.MISSING)
                        rows.append(Row(lab, learner, notebook.name, grade.name, tests[grade.name], score, grade.max_score, error))
    return rows, totals


def _errors(path: Path) -> dict[str, str]:
    """grade_id -> the error its test cell failed with, in an autograded notebook."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return {}
    return {grade_id: outcomes.error(cell) or _verdict(cell) for grade_id, cell in outcomes.test_cells(nb).items()}


def _verdict(cell) -> str:
    """The judge's first failing line for a test cell (momlab.course.classroom.autograde puts it there)."""
    lines = cell.get("metadata", {}).get("momlab", {}).get("verdict", [])
    failing = [line for line in lines if not line.endswith(": passed")]
    return failing[0] if failing else "partial credit"


def build(course: Course) -> str:
    rows, totals = collect_rows(course)
    if not totals:
        raise UserError("nothing is graded yet: run `momlab class autograde` first")
    labs = sorted({lab for lab, _ in totals})
    learners = sorted({learner for _, learner in totals})
    parts = [
        f"<h1>Class report</h1><p>{len(learners)} learners, {len(labs)} labs, {len(totals)} graded submissions "
        f"· {datetime.now():%Y-%m-%d %H:%M}</p>",
        "<h2>Scores per lab</h2>", _score_table(labs, totals), svg(_score_histograms(labs, totals)),
        "<h2>Success rate per exam objective</h2>", _objective_section(rows),
        "<h2>Exercises most often failed</h2>", _failed_table(rows),
        _flagged(course),
        _ungraded(course, labs, totals),
    ]
    return _PAGE.format(body="\n".join(parts))


def write(course: Course, to: Path) -> Path:
    to = to if to.is_absolute() else course.root / to
    to.write_text(build(course), encoding="utf-8")
    return to


def _share(score: float, max_score: float) -> float:
    return score / max_score if max_score else 0.0


def _score_table(labs, totals) -> str:
    body = []
    for lab in labs:
        shares = sorted(_share(*totals[key]) for key in totals if key[0] == lab)
        full = sum(share >= 1 for share in shares)
        body.append(f"<tr><td>{html.escape(lab)}</td><td>{len(shares)}</td><td>{sum(shares) / len(shares):.0%}</td>"
                    f"<td>{shares[len(shares) // 2]:.0%}</td><td>{full}</td></tr>")
    return ("<table><tr><th>lab</th><th>graded</th><th>mean</th><th>median</th><th>full marks</th></tr>"
            + "".join(body) + "</table>")


def _score_histograms(labs, totals):
    columns = min(len(labs), 4)
    rows = -(-len(labs) // columns)
    fig = figure(3 * columns, 2.2 * rows)
    axes = fig.subplots(rows, columns, squeeze=False).flatten()
    for ax, lab in zip(axes, labs, strict=False):
        shares = [100 * _share(*totals[key]) for key in totals if key[0] == lab]
        ax.hist(shares, bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.001], color="#1565c0")
        ax.set_title(lab, fontsize=9)
        ax.set_xlabel("% of the lab's points", fontsize=8)
        ax.set_ylabel("learners", fontsize=8)
    for ax in axes[len(labs):]:
        ax.set_visible(False)
    return fig


def _objective_section(rows) -> str:
    counts: dict[str, list[int]] = {}
    for row in rows:
        for objective in row.objectives:
            tally = counts.setdefault(objective, [0, 0])
            tally[0] += row.passed
            tally[1] += 1
    if not counts:
        return "<p>No exercise is tied to an objective.</p>"
    order = sorted(counts, key=lambda o: tuple(int(n) for n in o.split(".")))
    fig = figure(6, 0.25 * len(order) + 1)
    share_bars(fig.subplots(), order, [counts[o][0] / counts[o][1] for o in order], "Exercises passed, per objective")
    table = "".join(f"<tr><td>{o}</td><td>{counts[o][0]}/{counts[o][1]}</td><td>{counts[o][0] / counts[o][1]:.0%}</td></tr>" for o in order)
    return (svg(fig) + "<details><summary>as a table</summary><table><tr><th>objective</th><th>passed</th>"
            "<th>rate</th></tr>" + table + "</table></details>")


def _failed_table(rows, top: int = 15) -> str:
    by_exercise: dict[tuple[str, str, str], list[Row]] = {}
    for row in rows:
        by_exercise.setdefault((row.lab, row.notebook, row.exercise), []).append(row)
    ranked = sorted(by_exercise.items(), key=lambda item: -sum(not r.passed for r in item[1]))
    body = []
    for (lab, notebook, exercise), results in ranked[:top]:
        failed = [r for r in results if not r.passed]
        if not failed:
            break
        error, times = Counter(r.error for r in failed).most_common(1)[0]
        body.append(f"<tr><td>{html.escape(lab)}</td><td>{html.escape(notebook)}</td><td>{html.escape(exercise)}</td>"
                    f"<td>{', '.join(results[0].objectives)}</td><td>{len(failed)}/{len(results)}</td>"
                    f"<td><code>{html.escape(error)}</code> ({times}×)</td></tr>")
    if not body:
        return "<p>Every exercise passed for every learner.</p>"
    return ("<table><tr><th>lab</th><th>notebook</th><th>exercise</th><th>objectives</th><th>failed</th>"
            "<th>most common error</th></tr>" + "".join(body) + "</table>")


def _flagged(course: Course) -> str:
    from momlab.course.classroom import flags

    found = sorted(flags.load(course).values(), key=lambda flag: flag.key)
    if not found:
        return "<h2>Flagged submissions</h2><p>None: no kernel died or hit a limit, no test cell was changed, no sign of tampering.</p>"
    rows = []
    for flag in found:
        held = sum(points for cells in flag.held.values() for points in cells.values())
        state = "cleared" if flag.cleared else (f"{held:g} points held back" if held else "no points held back")
        reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in flag.reasons)
        rows.append(f"<tr><td>{html.escape(flag.learner)}</td><td>{html.escape(flag.lab)}</td><td><ul>{reasons}</ul></td><td>{state}</td></tr>")
    return ("<h2>Flagged submissions</h2><p>Test cells that a change or tampering could touch are exported at 0 until "
            "you look and run <code>momlab class clear &lt;learner&gt; &lt;lab&gt;</code>.</p>"
            "<table><tr><th>learner</th><th>lab</th><th>why</th><th>points</th></tr>" + "".join(rows) + "</table>")


def _ungraded(course: Course, labs, totals) -> str:
    missing = [f"{learner}/{lab}" for lab in course.labs() for learner in course.submissions(lab) if (lab, learner) not in totals]
    if not missing:
        return ""
    return ("<h2>Handed in but not graded</h2><p>Run <code>momlab class autograde</code> again; the reason is printed "
            "there.</p><p>" + ", ".join(html.escape(m) for m in missing) + "</p>")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
svg {{ max-width: 100%; height: auto; }}
</style></head><body>
{body}
</body></html>
"""
