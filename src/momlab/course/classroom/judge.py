"""Scores decided outside the learner's kernel: the learner's results against the solution's.

A test cell's hidden part hands the values it checks to the grader (`momlab.course.grading.report`, a display
output of type RESULT_MIME). Nothing the kernel says about passing counts: here, in the trusted grading
process, each reported result is compared with what the instructor's solution reported for the same
label on the same seeded inputs (momlab.course.classroom.reference). A test cell scores its points times the
share of its labels whose results match; a label reported more than once, missing, or different earns
nothing. The verdict's lines say which labels failed and why, never the expected value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from momlab.course.grading import RESULT_MIME
from momlab.course.outcomes import test_cells

REL_TOL, ABS_TOL = 1e-9, 1e-9  # numbers computed in another order may differ in their last bits


@dataclass(frozen=True)
class Verdict:
    grade_id: str
    score: float
    max_score: float
    lines: tuple[str, ...]  # one per label: what passed, what did not and why (no expected values)

    @property
    def passed(self) -> bool:
        return self.max_score > 0 and self.score >= self.max_score


def results_of(nb) -> dict[str, dict[str, list]]:
    """grade_id -> label -> every value reported under that label in that test cell's outputs."""
    found: dict[str, dict[str, list]] = {}
    for grade_id, cell in test_cells(nb).items():
        labels = found.setdefault(grade_id, {})
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).get(RESULT_MIME) if output.get("output_type") == "display_data" else None
            if isinstance(payload, dict) and isinstance(payload.get("label"), str) and "value" in payload:
                labels.setdefault(payload["label"], []).append(payload["value"])
    return found


def same(mine, theirs) -> bool:
    """Equal as plain JSON data; numbers (not booleans) equal within a tiny tolerance."""
    if _is_number(mine) and _is_number(theirs):
        return math.isclose(mine, theirs, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if _kind(mine) != _kind(theirs):
        return False
    if isinstance(mine, dict):
        return mine.keys() == theirs.keys() and all(same(mine[key], theirs[key]) for key in mine)
    if isinstance(mine, list):
        return len(mine) == len(theirs) and all(same(a, b) for a, b in zip(mine, theirs, strict=True))
    return mine == theirs


def _kind(value) -> str:
    """The JSON type of a value (a notebook's dicts are NotebookNodes; JSON's true is not 1)."""
    for kind in (bool, dict, list, str, int, float):
        if isinstance(value, kind):
            return kind.__name__
    return "null" if value is None else type(value).__name__


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def judge(nb, reference: dict[str, dict]) -> dict[str, Verdict]:
    """Verdicts for every test cell of the notebook's reference (grade_id -> {"points", "results"}); a
    test cell missing from `nb` scores 0."""
    reported = results_of(nb)
    verdicts = {}
    for grade_id, expected in reference.items():
        points, wanted = float(expected["points"]), expected["results"]
        got = reported.get(grade_id)
        if got is None:
            verdicts[grade_id] = Verdict(grade_id, 0.0, points, ("this test cell is missing from your notebook",))
            continue
        if not wanted:  # the instructor's test cell reports nothing: nothing can be judged, so nothing is given
            verdicts[grade_id] = Verdict(grade_id, 0.0, points, ("this test cell has no reference result (ask your instructor)",))
            continue
        lines, matched = [], 0
        for label, value in wanted.items():
            ok, line = _compare(label, got.get(label, []), value)
            matched += ok
            lines.append(line)
        lines += [f"{label}: not a result this test asks for" for label in got if label not in wanted]
        score = round(points * matched / len(wanted), 2) if not set(got) - set(wanted) else 0.0
        verdicts[grade_id] = Verdict(grade_id, score, points, tuple(lines))
    return verdicts


def _compare(label: str, values: list, expected) -> tuple[bool, str]:
    if not values:
        return False, f"{label}: no result (the test stopped before it: a visible check failed or your code raised)"
    if len(values) > 1:
        return False, f"{label}: reported {len(values)} times; a result counts once"
    value = values[0]
    if same(value, expected):
        return True, f"{label}: passed"
    if isinstance(value, list) and isinstance(expected, list) and len(value) == len(expected):
        wrong = [n for n, (a, b) in enumerate(zip(value, expected, strict=True), 1) if not same(a, b)]
        raised = sorted({a["raised"] for a, b in zip(value, expected, strict=True)
                         if _raised(a) and not same(a, b)})
        why = f"; your code raised {', '.join(raised)}" if raised else ""
        return False, f"{label}: differs from the solution's on hidden case(s) {', '.join(map(str, wrong))} of {len(value)}{why}"
    if _raised(value):
        return False, f"{label}: your code raised {value['raised']}"
    return False, f"{label}: differs from the solution's result"


def _raised(value) -> bool:
    return isinstance(value, dict) and set(value) == {"raised"}
