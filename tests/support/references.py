"""The solution's reference results of a lab, computed once per test session and copied into each course
folder a test makes (momlab.course.classroom.reference keeps them in <course>/.momlab/reference/, under a key
made of the lab's and the package's files, so a copy is exactly what the course would compute itself).
Several test modules grade lab 01 in courses of their own; without this each ran the solution again."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

from momlab.course.classroom import reference


def shared_folder(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this session sees (the parent of the workers' base temp)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if base.name.startswith("popen-gw") else base) / "momlab-references"
    folder.mkdir(exist_ok=True)
    return folder


def seed(course: Path, labs: list[str], shared: Path) -> None:
    """Give `course` the reference results of `labs` (its solutions/<lab>), computing each once per session:
    the first test to need one computes it in its own course; the others wait for it and copy it."""
    for lab in labs:
        name = f"{lab}-{reference.key(course / 'solutions' / lab)}.json"
        with open(shared / f"{lab}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker computing it: wait, then copy
            if not (shared / name).is_file():
                reference.load(course, course / "solutions" / lab)
                shutil.copy(course / ".momlab" / "reference" / name, shared / name)
        target = course / ".momlab" / "reference"
        target.mkdir(parents=True, exist_ok=True)
        if not (target / name).is_file():
            shutil.copy(shared / name, target / name)
