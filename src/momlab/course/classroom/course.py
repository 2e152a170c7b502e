"""The course folder an instructor grades in: nbgrader_config.py, solutions/<lab>/ (the source),
submitted/<learner>/<lab>/ (what learners handed in), gradebook.db, autograded/ and feedback/."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from momlab.course.errors import UserError
from momlab.course.progress import KERNEL_ARGUMENTS, has_exercises

CONFIG_FILE = "nbgrader_config.py"


@dataclass(frozen=True)
class Course:
    root: Path
    source: Path  # solutions/: one folder per lab
    db_url: str  # the course gradebook

    @classmethod
    def at(cls, folder: str | os.PathLike | None = None) -> Course:
        root = Path(folder or Path.cwd()).expanduser().resolve()
        if not root.is_dir():
            raise UserError(f"{root} is not a folder: give --course the course folder (the one with {CONFIG_FILE})")
        if not (root / CONFIG_FILE).is_file():
            raise UserError(f"{root} has no {CONFIG_FILE}: run this in the course folder, or give --course")
        settings = _load(root).CourseDirectory
        return cls(root, root / settings.get("source_directory", "source"),
                   settings.get("db_url") or f"sqlite:///{root / 'gradebook.db'}")

    def config(self, root: Path | None = None, db_url: str | None = None):
        """The course's nbgrader settings; `root` and `db_url` point them at another folder and gradebook
        (a throw-away course that grades one submission), always with this course's sources."""
        config = _load(self.root)
        config.CourseDirectory.root = str(root or self.root)
        config.CourseDirectory.source_directory = str(self.source)
        config.CourseDirectory.db_url = db_url or self.db_url
        config.NbGraderAPI.log_level = "WARN"
        config.Exporter.optimistic_validation = True  # validate each notebook once, after all its steps, not after each
        if "extra_arguments" not in config.Execute:  # unless the course sets its own kernel arguments
            config.Execute.extra_arguments = list(KERNEL_ARGUMENTS)
        if "shutdown_kernel" not in config.Execute:
            # Once the last cell has answered, every output is in: the kernel's own exit work (IPython's reset,
            # the mock's shutdown) would cost CPU and time and change nothing, so it is stopped at once.
            config.Execute.shutdown_kernel = "immediate"
        return config

    def api(self, root: Path | None = None, db_url: str | None = None, sandboxed=None, scoring: bool = True):
        """nbgrader's API on this course (or on a throw-away one at `root`); `sandboxed`, a
        momlab.course.classroom.sandbox.Limits, runs every kernel it starts in the sandbox. Without
        `scoring`, autograde runs the notebooks but records no score or late penalty (a grading worker:
        the parent judges the notebooks and works out penalties from its own scores)."""
        from nbgrader.apps.api import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        from momlab.course import nbgrader_fix

        nbgrader_fix.apply()
        tools_on_path()
        config = self.config(root, db_url)
        if sandboxed is not None:
            from momlab.course.classroom import sandbox

            sandbox.configure(config, sandboxed)
        if not scoring:
            _without_scoring(config)
        return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def generate(self, lab: str, root: Path, db_url: str | None = None) -> dict:
        """Generate `lab` into a throw-away course at `root` (its own gradebook there unless `db_url`) and
        return its release notebooks by file name."""
        import nbformat

        root.mkdir(parents=True)
        outcome = self.api(root, db_url or f"sqlite:///{root / 'gradebook.db'}").generate_assignment(lab, force=True)
        if not outcome["success"]:
            raise UserError(f"nbgrader could not generate {lab} from {self.source / lab}; run "
                            f"`nbgrader generate_assignment {lab} --force` to see why")
        released = root / self.config(root).CourseDirectory.release_directory / lab
        return {p.name: nbformat.read(p, as_version=4) for p in sorted(released.glob("*.ipynb"))}

    def folder(self, step: str, learner: str, lab: str) -> Path:
        """submitted/<learner>/<lab>, autograded/..., feedback/..."""
        return self.root / step / learner / lab

    def labs(self) -> list[str]:
        """The gradable labs: folders of the source with a notebook that has a graded cell (a folder of
        reading material only, such as the answer sheet, is not one)."""
        if not self.source.is_dir():
            return []
        return sorted(p.name for p in self.source.iterdir() if p.is_dir() and any(has_exercises(nb) for nb in p.glob("*.ipynb")))

    def check_lab(self, lab: str) -> None:
        if lab not in self.labs():
            if any((self.source / lab).glob("*.ipynb")):
                raise UserError(f"{lab} in {self.source} has no graded cell (reading material): there is nothing to "
                                "collect, grade or give feedback on")
            known = ", ".join(self.labs()) or "none"
            raise UserError(f"no lab {lab!r} in {self.source}: the labs are {known}")

    def submissions(self, lab: str) -> list[str]:
        """Learners with at least one notebook in submitted/<learner>/<lab>/ (an empty folder would stop
        nbgrader, so it is left out)."""
        submitted = self.root / "submitted"
        if not submitted.is_dir():
            return []
        return sorted(p.name for p in submitted.iterdir()
                      if not p.name.startswith(".") and any((p / lab).glob("*.ipynb")))


def _without_scoring(config) -> None:
    """autograde's steps less SaveAutoGrades and AssignLatePenalties, whatever else the course lists."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
    from traitlets.utils.importstring import import_item

    steps = config.Autograde.get("autograde_preprocessors") or Autograde.autograde_preprocessors.default()
    config.Autograde.autograde_preprocessors = [  # a step may be named by any of its import paths
        step for step in steps if (import_item(step) if isinstance(step, str) else step) not in (SaveAutoGrades, AssignLatePenalties)]


def _load(root: Path):
    from traitlets.config.loader import PyFileConfigLoader

    try:
        return PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except Exception as exc:  # a syntax error or a bad setting in the instructor's file
        raise UserError(f"{root / CONFIG_FILE} cannot be read ({type(exc).__name__}: {exc}); fix it and run again") from None


def tools_on_path() -> None:
    # nbgrader runs some tools (alembic) by name; they live beside this interpreter.
    tools = str(Path(sys.executable).parent)
    if tools not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = tools + os.pathsep + os.environ.get("PATH", "")
