"""A learner's progress: which exercises pass, per lab and per exam objective.

    from momlab.course import progress
    progress.run()            # in a notebook: a table and a chart; `momlab progress` in a terminal

Every lab notebook is run from the top on a copy in a temporary folder (the learner's files are only
read), two per core at a time, with the tests the learner has (hidden tests only run when an instructor
grades). A notebook with no exercise (reading material, such as the answer sheet) is not run. Nothing
is sent anywhere.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from momlab.bus.catalog import load_jsonschema
from momlab.course import pools, recall
from momlab.course.errors import UserError
from momlab.course.outcomes import Outcome

# Before anything imports nbformat: it imports jsonschema, which would otherwise spend ~1 CPU-s compiling a
# grammar no notebook needs, in every process that runs or grades notebooks (see load_jsonschema).
load_jsonschema()

CELL_TIMEOUT = 30  # seconds per cell, as nbgrader's (nbgrader_config.py)
NOTEBOOK_LIMIT = 600  # seconds for a whole notebook before its kernel is killed (momlab.course.watchdog)
# On a busy machine ipykernel can print "IOStream.flush timed out" to the kernel's own stderr; with its
# file-descriptor capture on, that line lands in the running cell's output, and nbgrader counts any
# stderr output as a failed test. Kernels that check work (here and in momlab.course.classroom) keep their
# process's own stderr out of the cells. (What learners print to sys.stderr still shows.)
KERNEL_ARGUMENTS = ["--IPKernelApp.capture_fd_output=False"]
# Notebooks `momlab progress` runs at once: two per core. A lab spends much of its time waiting (a
# remote's timeout, a retry's back-off), and a second notebook per core uses that time. On 2 cores, 4 at a
# time graded a class 1.4 to 1.8x faster than 2, and every solution still got full marks.
DEFAULT_WORKERS = min(16, 2 * (os.cpu_count() or 1))
# Submissions `momlab class autograde` grades at once: three per core. Forked kernels start cheaply, so a third
# submission per core fills more of the waiting: on 2 cores, a class of 6 took 18.0 s of wall time per learner
# 6 at a time, 20.9 s 4 at a time and 18.9 s 8 at a time (with 10 % more CPU); every solution kept full marks
# (bench/grade_class.py).
GRADING_WORKERS = min(24, 3 * (os.cpu_count() or 1))
_RUNNING = "MOMLAB_PROGRESS"  # set inside the runs, so a notebook calling run() does not recurse


def find_labs(path: str | os.PathLike | None = None) -> list[Path]:
    """The lab folders to check: those in `path` (or `path` itself if it holds notebooks). By default
    notebooks/ under the current folder, else the current folder's labs, else (when called from a
    notebook inside a lab) the labs beside the current one."""
    if path is not None:
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise UserError(f"{folder} is not a folder: give --path the folder that holds your labs (e.g. notebooks)")
        labs = _labs_in(folder) or ([folder] if _is_lab(folder) else [])
        if not labs:
            raise UserError(f"{folder} holds no lab notebooks (*.ipynb): give --path the folder that holds your labs")
        return labs
    here = Path.cwd()
    for candidate in (here / "notebooks", here):
        if candidate.is_dir() and (labs := _labs_in(candidate)):
            return labs
    if _is_lab(here) and (labs := _labs_in(here.parent)):
        return labs
    raise UserError(f"no lab folders found in {here}: run this from the course folder, or give --path")


def has_exercises(notebook: str | os.PathLike) -> bool:
    """Whether a notebook has a graded cell (nbgrader's `grade`), i.e. something to check or grade.
    Reading material, such as the answer sheet, has none and is left out of progress runs and grading.
    A file that cannot be read as a notebook counts as having some, so that the run reports it."""
    try:
        cells = json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", [])
        return any(cell.get("metadata", {}).get("nbgrader", {}).get("grade") for cell in cells)
    except (OSError, ValueError, AttributeError, TypeError):
        return True


def _is_lab(folder: Path) -> bool:
    return folder.is_dir() and not folder.name.startswith(".") and any(folder.glob("*.ipynb"))


def _labs_in(folder: Path) -> list[Path]:
    return sorted(child for child in folder.iterdir() if _is_lab(child))


@dataclass
class Progress:
    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # notebooks that could not be checked, one line each
    notes: list[str] = field(default_factory=list)  # what the learner should know about how it was checked
    seconds: float = 0.0
    recall: list[recall.Item] = field(default_factory=list)  # the recall items, read from the notebooks' text

    def frame(self):
        """One row per exercise."""
        import pandas as pd

        rows = [{"lab": o.lab, "notebook": o.notebook, "exercise": o.exercise, "objectives": ", ".join(o.objectives),
                 "passed": o.passed, "score": o.score, "max_score": o.max_score, "error": o.error} for o in self.outcomes]
        return pd.DataFrame(rows, columns=["lab", "notebook", "exercise", "objectives", "passed", "score", "max_score", "error"])

    def by_lab(self):
        frame = self.frame()
        table = frame.groupby("lab").agg(exercises=("exercise", "size"), passed=("passed", "sum"),
                                         points=("score", "sum"), max_points=("max_score", "sum"))
        table["share"] = (table["passed"] / table["exercises"]).round(2)
        return table

    def by_objective(self):
        """An exercise that trains two objectives counts for both. With the recall items: how many there are,
        how many are answered and, where the solutions were beside the notebooks, how many are right (else
        that column is empty: they are judged when the notebook is graded)."""
        import pandas as pd

        rows = [{"objective": objective, "passed": o.passed} for o in self.outcomes for objective in o.objectives]
        frame = pd.DataFrame(rows, columns=["objective", "passed"])
        table = frame.groupby("objective").agg(exercises=("passed", "size"), passed=("passed", "sum"))
        table["share"] = (table["passed"] / table["exercises"]).round(2)
        if self.recall:
            items = pd.DataFrame([{"objective": i.objective, "answered": i.answer is not None,
                                   "right": None if i.right is None else int(i.right)} for i in self.recall])
            per = items.groupby("objective").agg(recall_items=("answered", "size"), recall_answered=("answered", "sum"),
                                                 recall_right=("right", lambda r: None if r.isna().all() else int(r.sum())))
            table = table.join(per, how="outer")
            table[["exercises", "passed"]] = table[["exercises", "passed"]].fillna(0).astype(int)
            table["share"] = table["share"].fillna(0.0)
        return table.sort_index(key=lambda ids: ids.map(lambda i: tuple(int(n) for n in i.split("."))))

    def revise(self) -> list[str]:
        """The objectives to revise first: a recall item wrong (where judged) or an exercise not passing."""
        table = self.by_objective()
        weak = table["share"] < 1
        if "recall_right" in table:
            judged = table["recall_right"].notna()
            weak |= judged & (table["recall_right"].fillna(0) < table["recall_items"].fillna(0))
        return list(table.index[weak])

    def chart(self):
        """Share of exercises passed per lab and per objective (a matplotlib Figure)."""
        from momlab.figures import figure, share_bars

        labs, objectives = self.by_lab(), self.by_objective()
        fig = figure(9, max(3.0, 0.28 * max(len(labs), len(objectives)) + 1.2))
        left, right = fig.subplots(1, 2)
        share_bars(left, list(labs.index), list(labs["share"]), "Exercises passed, per lab")
        share_bars(right, list(objectives.index), list(objectives["share"]), "Per exam objective")
        return fig

    def _repr_html_(self) -> str:
        from momlab.figures import svg

        if not self.outcomes:
            return "<p>No exercises were checked.</p>" + self._problems_html()
        return (f"<p><b>{sum(o.passed for o in self.outcomes)} of {len(self.outcomes)} exercises pass</b> "
                f"(checked in {self.seconds:.0f} s, with the tests you have; hidden tests run only at grading).</p>"
                + self._problems_html()
                + "<div style='display:flex;gap:2em;flex-wrap:wrap'>"
                + self.by_lab().to_html() + self.by_objective().to_html() + "</div>"
                + svg(self.chart()))

    def _problems_html(self) -> str:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in self.problems)
        notes = "".join(f"<p><i>Note: {html.escape(note)}.</i></p>" for note in self.notes)
        return (f"<p>Not checked:</p><ul>{items}</ul>" if items else "") + notes

    def text(self) -> str:
        """The tables and a bar chart in plain text, for a terminal."""
        lines = [f"{sum(o.passed for o in self.outcomes)} of {len(self.outcomes)} exercises pass "
                 f"(checked in {self.seconds:.0f} s; hidden tests run only at grading)", ""]
        if self.outcomes:
            for title, table in (("lab", self.by_lab()), ("objective", self.by_objective())):
                lines.append(f"{title:<24} passed  chart" + ("                       recall items" if "recall_items" in table else ""))
                for name, row in table.iterrows():
                    bar = "#" * round(20 * row["share"])
                    lines.append(f"{name:<24} {int(row['passed']):>2}/{int(row['exercises']):<3} {bar:<20} {row['share']:.0%}"
                                 + _recall_text(row))
                lines.append("")
            if weak := self.revise():
                lines += [f"Revise first: objective {', '.join(weak)}", ""]
            failed = [o for o in self.outcomes if not o.passed]
            if failed:
                lines.append("Not passing yet:")
                lines += [f"  {o.lab}/{o.notebook} {o.exercise}: {o.error}" for o in failed]
        lines += [f"Not checked: {p}" for p in self.problems]
        lines += [f"Note: {note}." for note in self.notes]
        return "\n".join(lines).rstrip() + "\n"


def _recall_text(row) -> str:
    """'  3 of 4 answered, 2 right' for an objective's row ('' without recall items)."""
    items = row.get("recall_items")
    if items is None or items != items or not items:  # no column, NaN or 0
        return ""
    right = row.get("recall_right")
    judged = f", {int(right)} right" if right is not None and right == right else ", judged when graded"
    return f"  {int(row['recall_answered'])} of {int(items)} answered{judged}"


def run(path: str | os.PathLike | None = None, workers: int = DEFAULT_WORKERS) -> Progress:
    """Run every lab notebook (on copies, `workers` at a time) and collect which exercises pass."""
    if os.environ.get(_RUNNING):
        return Progress(problems=["progress is not checked from inside a progress run"])
    notebooks = [nb for lab in find_labs(path) for nb in sorted(lab.glob("*.ipynb")) if has_exercises(nb)]
    # Longest first (by size, a fair guess at run time), so no worker is left with a big one at the end.
    notebooks.sort(key=lambda nb: nb.stat().st_size, reverse=True)
    started = time.monotonic()
    result = Progress()
    if _sandbox_available():
        from momlab.course.classroom import sandbox

        sandbox.share_zygote()  # one zygote for the pool's kernels
    with pools.pool(workers) as pool:
        for outcomes, problem, recalled in pool.map(_check_notebook, [str(nb) for nb in notebooks]):
            result.outcomes += outcomes
            result.problems += [problem] if problem else []
            result.recall += recalled
    order = {nb.parent.name + "/" + nb.stem: n for n, nb in enumerate(sorted(notebooks))}
    result.outcomes.sort(key=lambda o: order.get(f"{o.lab}/{o.notebook}", 0))
    result.seconds = time.monotonic() - started
    if not _sandbox_available():
        result.notes.append("your notebooks ran without the grading sandbox (bubblewrap is not installed): "
                            "fine for checking your own work, which is all this does; graded runs use it")
    return result


def _check_notebook(notebook: str) -> tuple[list[Outcome], str | None, list[recall.Item]]:
    """Run one notebook on a copy of its lab folder (in a worker process) and read its test cells."""
    import nbformat

    from momlab.course import objectives, outcomes

    path = Path(notebook)
    lab, name = path.parent.name, path.stem
    try:
        nb = nbformat.read(path, as_version=4)
        mapping = objectives.for_notebook(nb)
    except Exception as exc:  # any unreadable file: report it and go on with the others
        return [], f"{lab}/{path.name} cannot be read as a notebook ({type(exc).__name__}: {exc}); restore it from the release", []
    recalled = _recall_items(path, nb)  # before the run: from the learner's text
    os.environ[_RUNNING] = "1"
    problem = run_copy(nb, path.parent, "validate", f"{lab}/{path.name}", sandboxed=_sandbox_available())
    return outcomes.of_notebook(nb, lab, name, mapping), problem, recalled


def _recall_items(path: Path, nb) -> list[recall.Item]:
    import nbformat

    solution = recall.solution_beside(path)
    try:
        return recall.items(nb, nbformat.read(solution, as_version=4) if solution else None)
    except Exception:  # an unreadable solution: the answers stay unjudged
        return recall.items(nb)


def _sandbox_available() -> bool:
    from momlab.course.classroom import sandbox

    return sandbox.available()


def run_copy(nb, folder: Path, mode: str, name: str, sandboxed: bool = False) -> str | None:
    """Execute `nb` in place, from the top, in a temporary copy of `folder` (its lab), as nbgrader would
    (NBGRADER_EXECUTION=`mode`: the mock skips its delays). Returns None, or one line saying why the run
    stopped early (naming the notebook as `name`). Test cells the run never reached get a NotRun error.
    `sandboxed`: the kernel runs in momlab.course.classroom.sandbox, with its output caps."""
    import nbformat
    from nbclient import NotebookClient

    from momlab.course import outcomes, watchdog

    os.environ["NBGRADER_EXECUTION"] = mode
    problem = None
    with tempfile.TemporaryDirectory(prefix="momlab-run-") as tmp:
        copy = Path(tmp) / folder.name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "*.sqlite*", "*.ipynb"))
        client_class = NotebookClient
        if sandboxed:
            from momlab.course.classroom.sandbox import SandboxedClient as client_class
        client = client_class(
            nb, timeout=CELL_TIMEOUT, allow_errors=True, interrupt_on_timeout=True,
            error_on_timeout={"ename": "CellTimeoutError", "evalue": f"the cell ran longer than {CELL_TIMEOUT} s", "traceback": []},
            kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"), extra_arguments=list(KERNEL_ARGUMENTS),
            resources={"metadata": {"path": str(copy)}},
        )
        for cell in nb.cells:  # saved outputs must not count: only this run's do
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        with watchdog.deadline(NOTEBOOK_LIMIT) as limit:
            try:
                client.execute(stderr=subprocess.DEVNULL)  # the kernels' own log lines would land in the caller's notebook
            except Exception as exc:
                problem = f"{name} stopped early ({type(exc).__name__}); the exercises after that point count as not passing"
        if limit["expired"]:
            problem = f"{name} was stopped after {NOTEBOOK_LIMIT} s; look for a cell that never ends"
    for cell in outcomes.test_cells(nb).values():
        if cell.execution_count is None:  # the run stopped before this test
            cell.outputs = [nbformat.v4.new_output("error", ename="NotRun", evalue="the notebook stopped before this test", traceback=[])]
    return problem
