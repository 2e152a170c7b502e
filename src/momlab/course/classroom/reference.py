"""The results a lab's solution reports to the grader: what every submission is judged against.

Each solution notebook of the lab runs once, from the top, in grading mode, outside every learner's
sandbox; its test cells' reports (momlab.course.grading.report) become the reference for the judge. The
results are kept in the course's `.momlab/reference/` folder (instructor-only: they are the answer key)
under a key made of the lab's source files and the momlab package's own files and data, so they are
computed again only when any of them changes.

For lab authors, a check of one lab: the solution run twice (the reference and a judged run), a learner
who ran every code cell twice, and the unchanged release:

    python -m momlab.course.classroom.reference solutions/01-mom-api [--release notebooks/01-mom-api]
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from pathlib import Path

from momlab.course import pools
from momlab.course.classroom.judge import judge, results_of
from momlab.course.errors import UserError

PACKAGE = Path(__file__).resolve().parents[2]  # momlab/


def key(lab_source: Path) -> str:
    """Changes when any file of the lab's source, of the momlab package or of its data changes."""
    from momlab import data

    return hashlib.sha256((_digest(lab_source) + _package_digest(PACKAGE, data.folder())).encode()).hexdigest()[:24]


@functools.cache
def _package_digest(*roots: Path) -> str:
    """The package's and its data's part of the key: read once per grading run, not once per lab."""
    return "".join(_digest(root) for root in roots)


def _digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def load(course_root: Path, lab_source: Path, workers: int = 2) -> dict[str, dict]:
    """notebook file name -> grade_id -> {"points", "results"}, from the cache or a run of the solution."""
    cache = course_root / ".momlab" / "reference" / f"{lab_source.name}-{key(lab_source)}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    reference = compute(lab_source, workers)
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob(f"{lab_source.name}-*.json"):
        old.unlink()
    temporary = cache.with_suffix(".tmp")
    temporary.write_text(json.dumps(reference, sort_keys=True))
    temporary.replace(cache)
    return reference


def compute(lab_source: Path, workers: int = 2) -> dict[str, dict]:
    notebooks = sorted(lab_source.glob("*.ipynb"))
    if not notebooks:
        raise UserError(f"{lab_source} holds no notebook")
    with pools.pool(min(workers, len(notebooks))) as pool:
        runs = list(pool.map(_reference_of, [str(p) for p in notebooks]))
    return dict(zip([p.name for p in notebooks], runs, strict=True))


def _reference_of(notebook: str) -> dict[str, dict]:
    """Run one solution notebook in grading mode; its test cells' points and reported results."""
    nb, problem = run(Path(notebook))
    if problem:
        raise UserError(f"the solution {notebook} did not run to the end ({problem}); fix it before grading")
    reference = {}
    for grade_id, labels in results_of(nb).items():
        twice = [label for label, values in labels.items() if len(values) > 1]
        if twice:
            raise UserError(f"{notebook}: test cell {grade_id} reports {', '.join(twice)} more than once; report each label once")
        cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
        reference[grade_id] = {"points": float(cell.metadata["nbgrader"].get("points", 0)),
                               "results": {label: values[0] for label, values in labels.items()}}
    return reference


def run(notebook: Path, nb=None):
    """Execute a notebook (by default the file itself) in grading mode in a copy of its folder."""
    import nbformat

    from momlab.course.progress import run_copy

    nb = nb if nb is not None else nbformat.read(notebook, as_version=4)
    return nb, run_copy(nb, notebook.parent, "autograde", f"{notebook.parent.name}/{notebook.name}")


def twice(nb):
    """A learner who ran every code cell twice (answers, demos and tests): results must not change."""
    import copy
    import uuid

    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader", {}).get("grade"):
            repeat = copy.deepcopy(cell)
            repeat.id = uuid.uuid4().hex[:12]
            repeat.metadata = {}
            cells.append(repeat)
    nb.cells = cells
    return nb


def _check(lab_source: Path, release: Path | None) -> int:
    """Print, per notebook, how the solution, a run-everything-twice learner and the release are judged."""
    import nbformat

    failures = 0
    reference = compute(lab_source)
    for name, expected in reference.items():
        nb = nbformat.read(lab_source / name, as_version=4)
        variants = {"solution again": run(lab_source / name)[0],
                    "every cell twice": run(lab_source / name, twice(nbformat.read(lab_source / name, as_version=4)))[0]}
        if release is not None and (release / name).is_file():
            variants["unchanged release"] = run(release / name)[0]
        for variant, executed in variants.items():
            verdicts = judge(executed, expected)
            total, best = sum(v.score for v in verdicts.values()), sum(v.max_score for v in verdicts.values())
            want_full = variant != "unchanged release"
            ok = total == best if want_full else total == 0
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name} {variant}: {total:g}/{best:g}")
            for verdict in verdicts.values():
                if verdict.passed != want_full:
                    print(f"       {verdict.grade_id}: " + "; ".join(verdict.lines))
        del nb
    for name, cells in reference.items():
        empty = [grade_id for grade_id, cell in cells.items() if not cell["results"]]
        if empty:
            failures += 1
            print(f"FAIL {name}: test cells that report nothing: {', '.join(empty)}")
    return 1 if failures else 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=_check.__doc__)
    parser.add_argument("lab", type=Path, help="the lab's source folder, e.g. solutions/01-mom-api")
    parser.add_argument("--release", type=Path, default=None, help="its release folder, e.g. notebooks/01-mom-api")
    arguments = parser.parse_args()
    sys.exit(_check(arguments.lab.resolve(), arguments.release.resolve() if arguments.release else None))
