"""Submissions flagged for the instructor: why, and the points held back until the instructor clears them.

A submission is flagged when its kernel died or hit a limit, when a test cell was changed, or when its
own cells show signs of tampering with the grading machinery (momlab.course.classroom.scan). Test cells that
tampering or a change could touch are written to the gradebook at 0 (so `export` and `report` carry 0)
and their judged points are kept here; `momlab class clear <learner> <lab>` writes those points back.

Kept in <course>/grading-flags.json, written only by the grading process, replaced whole each time.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from momlab.course.classroom.course import Course
from momlab.course.errors import UserError

FILE = "grading-flags.json"


@dataclass
class Flag:
    learner: str
    lab: str
    reasons: list[str]
    held: dict[str, dict[str, float]] = field(default_factory=dict)  # notebook -> grade_id -> judged points
    cleared: bool = False

    @property
    def key(self) -> str:
        return f"{self.learner}/{self.lab}"


def load(course: Course) -> dict[str, Flag]:
    path = course.root / FILE
    if not path.is_file():
        return {}
    try:
        return {key: Flag(**value) for key, value in json.loads(path.read_text()).items()}
    except (ValueError, TypeError) as exc:
        raise UserError(f"{path} cannot be read ({type(exc).__name__}); restore it from a backup or delete it and "
                        "grade again with --force") from None


def save(course: Course, flags: dict[str, Flag]) -> None:
    path = course.root / FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({key: asdict(flag) for key, flag in sorted(flags.items())}, indent=1))
    temporary.replace(path)


def record(course: Course, learner: str, lab: str, flag: Flag | None) -> None:
    """The flag of a (re)graded submission, or None when it is clean: a new grading replaces the old flag."""
    flags = load(course)
    flags.pop(f"{learner}/{lab}", None)
    if flag is not None:
        flags[flag.key] = flag
    save(course, flags)


def clear(course: Course, learner: str, lab: str) -> tuple[Flag, float, float]:
    """Write the held points of a flagged submission back into the gradebook; the flag stays, marked cleared."""
    from momlab.course.classroom import merge

    flags = load(course)
    flag = flags.get(f"{learner}/{lab}")
    if flag is None:
        raise UserError(f"{learner}'s {lab} is not flagged (see `momlab class report`)")
    score, max_score = merge.set_scores(course.db_url, lab, learner, flag.held, course.config())
    flag.cleared = True
    save(course, flags)
    return flag, score, max_score
