"""How long a lab takes a learner, from a written-down model rather than a guess.

    python -m momlab.course.timing              # the table: each notebook's parts and its minutes
    python -m momlab.course.timing --check      # exit 1 when a notebook's stated time differs from the model
    python -m momlab.course.timing --write      # put the model's figure in each solution (then: make release)

The model, per notebook (the solution in `solutions/`, which has the same text and cells as the release):

- reading: every word of the text cells at READING_WPM words a minute (technical prose, read to be
  remembered rather than skimmed);
- running: RUN_MINUTES for each code cell that is neither an answer nor a test (run it, read its output),
  plus its lines at CODE_LINES_PER_MINUTE (worked code is read like text, more slowly);
- knowledge checks (a test cell that starts with `grading.answered`): CHECK_MINUTES per question it
  marks, a question being a key of the answers it checks (counted from the `grading.report` labels or,
  for one report of a whole dict, the keys of the solution's answer);
- exam items (a test cell of the practice exam, one point per item, and each item of a practice form a
  cell opens with `TimedExamApp(`, exam.FORM_SIZE of them): CHECK_MINUTES each, the pace of a timed exam;
- coding exercises (any other test cell): MINUTES_PER_POINT for each of its points (a 3-point exercise is
  about 20 minutes: read the task, write, run the test, fix).

A lab's stated time (the "about N minutes" of its first cell, and the README's table) is the model's sum
rounded up to STEP minutes. The model was checked against a full read-through with the exercises done,
which took 1.5 to 2 times the figures the labs stated before it.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from momlab.course import exam

READING_WPM = 150
RUN_MINUTES = 0.5
CODE_LINES_PER_MINUTE = 15
CHECK_MINUTES = 1.5
MINUTES_PER_POINT = 6.5
STEP = 15

STATED = re.compile(r"about (\d+) minutes|about two hours")
REPORT_LABEL = re.compile(r"""grading\.report\(\s*f?["']([^"'{]+)""")


@dataclass(frozen=True)
class Estimate:
    notebook: str
    words: int
    code_cells: int
    code_lines: int
    questions: int
    exercise_points: float
    stated: int | None  # what the notebook says now, in minutes

    @property
    def minutes(self) -> float:
        return (self.words / READING_WPM + self.code_cells * RUN_MINUTES + self.code_lines / CODE_LINES_PER_MINUTE
                + self.questions * CHECK_MINUTES
                + self.exercise_points * MINUTES_PER_POINT)

    @property
    def rounded(self) -> int:
        return STEP * math.ceil(self.minutes / STEP)


def estimate(path: Path) -> Estimate:
    cells = json.loads(path.read_text())["cells"]
    words = code_cells = code_lines = questions = 0
    points = 0.0
    stated = None
    for cell in cells:
        source = "".join(cell["source"])
        grader = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown":
            words += len(source.split())
            found = STATED.search(source)
            if stated is None and found:
                stated = int(found.group(1) or 120)
        elif grader.get("grade"):
            if source.lstrip().startswith("grading.answered"):
                questions += _questions(source, cells)
            elif "exam.check_answered" in source:
                questions += int(grader.get("points", 0))
            else:
                points += float(grader.get("points", 0))
        elif not grader.get("solution"):
            code_cells += 1
            code_lines += sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))
            if "TimedExamApp(" in source:  # a practice form (the graded form is counted by its test cells)
                questions += exam.FORM_SIZE
    return Estimate(path.name, words, code_cells, code_lines, questions, points, stated)


def _questions(test_source: str, cells: list[dict]) -> int:
    """How many questions a knowledge-check cell marks: one per reported label, or per key of the answer."""
    labels = REPORT_LABEL.findall(test_source)
    if any("[" in label for label in labels) or len(labels) > 1:
        return max(len(labels), _answer_keys(test_source, cells))
    return max(1, _answer_keys(test_source, cells))


def _answer_keys(test_source: str, cells: list[dict]) -> int:
    name = re.search(r"""grading\.answered\(\s*["'](\w+)""", test_source)
    if not name:
        return 1
    for cell in cells:
        source = "".join(cell["source"])
        assignment = re.search(rf"^{name.group(1)}\s*=\s*\{{(.*?)\}}", source, re.S | re.M)
        if assignment:
            return max(1, len(re.findall(r"""["'][\w.-]+["']\s*:""", assignment.group(1))))
    return 1


def write(path: Path) -> bool:
    """Put the model's figure in the notebook's first "about N minutes"; True when it changed."""
    notebook = json.loads(path.read_text())
    wanted = f"about {estimate(path).rounded} minutes"
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown" and STATED.search(source):
            new = STATED.sub(wanted, source, count=1)
            if new == source:
                return False
            lines = new.split("\n")
            cell["source"] = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
            path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n")
            return True
    return False


def lab_minutes(lab: Path) -> int:
    """A lab folder's stated time: the sum of its notebooks' rounded estimates."""
    return sum(estimate(path).rounded for path in sorted(lab.glob("*.ipynb")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m momlab.course.timing", description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=Path, default=Path("solutions"))
    parser.add_argument("--check", action="store_true", help="fail when a stated time differs from the model")
    parser.add_argument("--write", action="store_true", help="write the model's figure into each solution notebook")
    args = parser.parse_args(argv)
    if args.write:
        for path in sorted(args.solutions.glob("*/*.ipynb")):
            if write(path):
                print(f"updated {path}")
    wrong = []
    print(f"{'notebook':40} {'words':>6} {'cells':>5} {'lines':>5} {'questions':>9} {'points':>6} {'model':>6} {'stated':>6}")
    for path in sorted(args.solutions.glob("*/*.ipynb")):
        e = estimate(path)
        print(f"{e.notebook:40} {e.words:6} {e.code_cells:5} {e.code_lines:5} {e.questions:9} {e.exercise_points:6g} {e.rounded:6} {e.stated or '-':>6}")
        if e.stated != e.rounded:
            wrong.append(f"{path}: states {e.stated} minutes, the model gives {e.rounded}")
    if args.check and wrong:
        print("\n".join(wrong), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
