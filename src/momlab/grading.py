"""Checks for the notebooks' test cells.

- `check(condition, message)`: a failed check shows only its message, a sentence saying what to fix,
  never a traceback with test source around it.
- `hidden(label)`: wraps hidden tests, so that even an error raised by the learner's code inside
  them is reported as a message without the hidden lines around it.
- `answer_hash` / `check_answer`: knowledge checks compare a salted hash, so the answer is not in
  the notebook or the package for anyone to read.
- `setup()`: while nbgrader grades, tracebacks are reduced to their last line, so feedback never
  quotes a test cell's source.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager
from typing import Any

from .config import grading


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


def check_answer(value: Any, salt: str, expected: str | list[str], hint: str) -> None:
    """Pass when `value` hashes to `expected` (or one of several accepted hashes)."""
    accepted = [expected] if isinstance(expected, str) else list(expected)
    check(answer_hash(value, salt) in accepted, hint)
