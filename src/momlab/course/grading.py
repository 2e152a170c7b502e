"""Checks for the notebooks' test cells.

- `check(condition, message)`: a failed check shows only its message, a sentence saying what to fix,
  never a traceback with test source around it.
- `answered(*names)`: the first line of a knowledge check's test cell; a name the learner has not given
  a value yet gets a sentence saying which to answer, not a NameError.
- `hidden(label)`: wraps hidden tests, so that even an error raised by the learner's code inside
  them is reported as a message without the hidden lines around it.
- `answer_hash`: a salted hash, for the practice exam's ungraded items (immediate feedback). Graded
  answers never carry a hash: a small answer space is brute-forced in a few guesses.
- `setup()`: while nbgrader grades, tracebacks are reduced to their last line, so feedback never
  quotes a test cell's source.
- `report(label, value)` / `outcome(function, ...)`: what hidden tests use. A hidden test never decides
  pass or fail inside the learner's kernel (learner code could change that decision): it hands the
  learner's results on hidden inputs to the grader as plain JSON, and the grader compares them, outside
  the kernel, with what the instructor's solution reports on the same inputs (momlab.course.classroom.judge).
"""

from __future__ import annotations

import hashlib
import json
import math
from contextlib import contextmanager
from typing import Any

from momlab.bus.config import grading

# The MIME type of a result handed to the grader (a display output of a test cell).
RESULT_MIME = "application/vnd.momlab.result+json"
MAX_RESULT_BYTES = 256_000  # a larger result is replaced by its size: no answer needs more
_MAX_DEPTH = 40


class CheckFailed(AssertionError):
    """A test found something to fix. IPython shows just the message (see _render_traceback_)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mNot yet:\x1b[0m {self}"]


def setup() -> None:
    """Call once in a notebook's set-up cell."""
    if grading():
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        if shell is not None:
            shell.run_line_magic("xmode", "Minimal")


def check(condition: Any, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def answered(*names: str) -> None:
    """Each of `names` must have a value in the notebook (its answer cell was run); else say which."""
    missing = [name for name in names if name not in _user_namespace()]
    if missing:
        quoted = [f"`{name}`" for name in missing]
        listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
        verb = "is" if len(missing) == 1 else "are"
        raise CheckFailed(f"{listed} {verb} not defined yet: write your answer in the cell above and run it first.")


def _user_namespace() -> dict[str, Any]:
    """The learner's variables: IPython's user namespace in a kernel, else the running script's globals."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    import __main__

    return vars(__main__)


@contextmanager
def hidden(label: str):
    """Run hidden tests; report any failure as a CheckFailed naming `label`, without source lines."""
    try:
        yield
    except CheckFailed as failure:
        raise CheckFailed(f"{label}: {failure}") from None
    except Exception as exc:  # the learner's code raised while the hidden tests called it
        raise CheckFailed(f"{label}: your code raised {type(exc).__name__}: {exc}") from None


def normalize(value: Any) -> str:
    """One text for equal answers: strings are stripped, and containers compared as JSON with
    sorted keys (a list keeps its order; use a set or sorted list when order does not matter)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=json.dumps)
    return json.dumps(value, sort_keys=True, default=str)


def answer_hash(value: Any, salt: str) -> str:
    """The hash an instructor puts in a test cell for the right answer `value`."""
    return hashlib.sha256(f"{salt}:{normalize(value)}".encode()).hexdigest()[:32]


def plain(value: Any, _depth: int = 0) -> Any:
    """`value` as plain JSON data (dict with text keys, list, str, int, float, bool, None), read through
    the built-in types' own methods. Tuples become lists and sets sorted lists; numpy scalars and arrays,
    pandas Series and DataFrames their values; anything else {"unserializable": "<type>"}."""
    if _depth > _MAX_DEPTH:
        return {"unserializable": "nested too deep"}
    try:
        return _plain(value, _depth)
    except Exception as exc:  # an object whose methods raise: say so rather than fail the report
        return {"unserializable": f"{type(value).__name__} ({type(exc).__name__})"}


def _plain(value: Any, depth: int) -> Any:
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):  # a numpy bool is not a bool: see below
        return bool(value)
    if isinstance(value, int):
        return int.__index__(value)
    if isinstance(value, float):
        number = float.__float__(value)
        return number if math.isfinite(number) else {"float": repr(number)}
    if isinstance(value, dict):
        return {(key if type(key) is str else json.dumps(plain(key, depth + 1), sort_keys=True)): plain(item, depth + 1)
                for key, item in dict.items(value)}
    if isinstance(value, (list, tuple)):
        return [plain(item, depth + 1) for item in (list.__iter__(value) if isinstance(value, list) else tuple.__iter__(value))]
    if isinstance(value, (set, frozenset)):
        return sorted((plain(item, depth + 1) for item in value), key=lambda item: json.dumps(item, sort_keys=True))
    module = type(value).__module__.split(".")[0]
    if module == "numpy" and hasattr(value, "tolist"):
        return plain(value.tolist(), depth + 1)
    if module == "pandas" and hasattr(value, "to_dict"):
        if hasattr(value, "columns"):
            return plain(value.to_dict(orient="split"), depth + 1)
        return plain({"index": list(value.index), "data": list(value)}, depth + 1)
    return {"unserializable": type(value).__name__}


def outcome(function, *args: Any, **kwargs: Any) -> Any:
    """What `function(*args, **kwargs)` gives, as plain JSON data for `report`: its value, or
    {"raised": "<exception name>"} when it raises (so one failing hidden case does not hide the others)."""
    try:
        return plain(function(*args, **kwargs))
    except Exception as exc:
        return {"raised": type(exc).__name__}


def report(label: str, value: Any) -> None:
    """Hand `value` (the learner's result on hidden inputs) to the grader, which compares it with the
    solution's result for the same `label`. Each label once per test cell."""
    from IPython.display import display

    data = plain(value)
    size = len(json.dumps(data))
    if size > MAX_RESULT_BYTES:
        data = {"too_large": size}
    display({RESULT_MIME: {"label": str(label), "value": data},
             "text/plain": f"(result {label!r} handed to the grader)"}, raw=True)
