"""nbgrader settings for the course: solutions/ is the instructor source, notebooks/ the student release."""

c = get_config()  # noqa: F821 (provided by nbgrader)

# nbgrader runs `alembic heads` in a new process (~2.5 CPU-s) for each gradebook it creates; momlab reads the
# same revision once, in-process (momlab.course.nbgrader_fix). Without momlab installed, nbgrader's way stays.
try:
    from momlab.course import nbgrader_fix
except ImportError:
    pass
else:
    nbgrader_fix.apply()

c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.sqlite*"]

# A lab runs top to bottom in well under a minute; one cell never needs 30 s. A runaway cell is cut
# off here, and its output is capped, so one broken submission cannot stall a class.
c.Execute.timeout = 30
c.Execute.interrupt_on_timeout = True
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# nbgrader's own steps, then the course's: exercise cells get the `raises-exception` tag, so JupyterLab's
# Run All goes past an unfinished exercise (momlab.course.release).
c.GenerateAssignment.preprocessors = [
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "momlab.course.release.TagExercises",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\nraise NotImplementedError()",
}

# Feedback never shows hidden tests: their source is removed (tracebacks are trimmed by momlab.course.grading).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# ipykernel's captured-output thread can miss its flush deadline on a busy machine and write
# "IOStream.flush timed out" to stderr, which nbgrader scores as a failed cell: keep it off.
c.Execute.extra_arguments = ["--IPKernelApp.capture_fd_output=False"]
