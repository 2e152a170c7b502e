"""A last-resort time limit for running a notebook: kill this process's kernels when it passes.

nbgrader (and `momlab progress`) stop a cell after its timeout by interrupting the kernel. Code that
swallows the interrupt (`except BaseException: pass` in a loop) would then stall every later cell for
a full timeout each; this deadline ends such a run, so one notebook cannot hold up a class.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import psutil


def _kill_children() -> None:
    """Kill the direct child processes of this process (the kernels), on any operating system."""
    for child in psutil.Process().children():
        try:
            child.kill()
        except psutil.Error:  # ended meanwhile, or not ours to kill
            pass


@contextmanager
def deadline(seconds: float):
    """Within the block, if `seconds` pass, kill every child process (the kernels) of this process.
    Yields a dict whose "expired" key tells afterwards whether it had to."""
    state = {"expired": False}

    def expire():
        state["expired"] = True
        _kill_children()

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
