"""Which exam objectives each graded exercise of a lab trains.

The notebooks carry no explicit mapping, so it is read from what every lab already states:

1. the closing "## Summary" table, whose rows name an objective and the exercises that train it
   ("| 1.3 sync and async | ... | exercises 4 and 5 |");
2. otherwise the nearest heading above the exercise that names objective ids ("## 7.1 ...",
   "## The design (4.1, 4.9)");
3. failing both, the objectives the lab's opening lines declare ("**Exam section 3 · ... objectives
   3.1, 3.2 ...**"), as for lab 03's pricing questions, which its summary files under section 3 only;
4. for the practice exam, the objectives of the items each test cell checks (momlab.course.exam).

Only ids of the exam guide are kept (the practice exam covers every one of them), so a stray number in
the text never becomes an objective.
"""

from __future__ import annotations

import re
from functools import cache

from momlab.course import recall

_ID = re.compile(r"(?<![\d.])([1-9]\.[1-9])(?![\d.]*\d)")
_EXERCISE_HEADING = re.compile(r"^#{2,4}\s*Exercise\s+(\d+)\b", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,4})\s+(.*)$")
_EXERCISE_LIST = re.compile(r"exercises?\s+(\d+(?:\s*(?:,|and|to|-|–)\s*\d+)*)", re.IGNORECASE)


@cache
def known() -> frozenset[str]:
    """Every objective id of the exam guide (e.g. "4.4"; there is no 7.4)."""
    from momlab.course import exam

    return frozenset(item.objective for item in exam.load())


def section(objective: str) -> int:
    return int(objective.split(".")[0])


def for_notebook(nb) -> dict[str, tuple[str, ...]]:
    """grade_id of each autograded test cell -> the objective ids it trains (possibly empty)."""
    exam_map = _practice_exam(nb)
    summary = _summary_table(nb)
    declared = _declared(nb)
    result: dict[str, tuple[str, ...]] = {}
    exercise, heading_ids = None, ()
    for cell in nb.cells:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "markdown":
            for line in source.splitlines():
                if match := _EXERCISE_HEADING.match(line):
                    exercise = int(match.group(1))
                elif (match := _HEADING.match(line)) and not line.startswith("## Summary"):
                    ids = _ids(match.group(2))
                    if ids or len(match.group(1)) <= 2:  # a new section without ids ends the last one
                        heading_ids = ids
            continue
        grade_id = _test_cell_id(cell)
        if grade_id is None:
            continue
        if grade_id in exam_map:
            result[grade_id] = exam_map[grade_id]
        elif recall_objective := recall.objective_of(grade_id.removesuffix("_tests")):  # its id says which
            result[grade_id] = (recall_objective,)
        elif exercise is not None and summary.get(exercise):
            result[grade_id] = summary[exercise]
        else:
            result[grade_id] = heading_ids or declared
    return result


def _declared(nb) -> tuple[str, ...]:
    """The objective ids in the lab's "**Exam section ...**" line."""
    for cell in nb.cells:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type == "markdown":
            for line in source.splitlines():
                if line.startswith("**Exam section"):
                    return _ids(line)
    return ()


def _test_cell_id(cell) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
        return meta.get("grade_id")
    return None


def _ids(text: str) -> tuple[str, ...]:
    return tuple(sorted({found for found in _ID.findall(text) if found in known()}))


def _summary_table(nb) -> dict[int, tuple[str, ...]]:
    """Exercise number -> objective ids, from the rows of the lab's summary table."""
    by_exercise: dict[int, set[str]] = {}
    for cell in nb.cells:
        source = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        if cell.cell_type != "markdown" or not source.lstrip().startswith("## Summary"):
            continue
        for row in source.splitlines():
            columns = [c.strip() for c in row.strip().strip("|").split("|")]
            if len(columns) < 2 or not row.lstrip().startswith("|"):
                continue
            ids = _ids(columns[0].split(" ")[0])
            for number in _exercise_numbers(columns[-1]):
                by_exercise.setdefault(number, set()).update(ids)
    return {number: tuple(sorted(ids)) for number, ids in by_exercise.items()}


def _exercise_numbers(text: str) -> list[int]:
    """"exercises 1 to 3" -> [1, 2, 3]; "exercises 2, 3 and 5" -> [2, 3, 5]."""
    numbers: list[int] = []
    for match in _EXERCISE_LIST.finditer(text):
        parts = re.split(r"\s*(,|and|to|-|–)\s*", match.group(1))
        values, separators = parts[0::2], parts[1::2]
        numbers.append(int(values[0]))
        for separator, value in zip(separators, values[1:], strict=False):
            if separator in ("to", "-", "–"):
                numbers.extend(range(numbers[-1] + 1, int(value) + 1))
            else:
                numbers.append(int(value))
    return numbers


def _practice_exam(nb) -> dict[str, tuple[str, ...]]:
    """The practice exam's test cells ("exam_sections_1_3") check groups of items ("sections-1-3")."""
    from momlab.course import exam

    test_ids = {grade_id for cell in nb.cells if (grade_id := _test_cell_id(cell))}
    groups = exam.groups()
    result = {}
    for grade_id in test_ids:
        name = grade_id.removeprefix("exam_").replace("_", "-")
        if grade_id.startswith("exam_") and name in groups:
            result[grade_id] = tuple(sorted({item.objective for item in exam.graded_group(name)}))
    return result
