"""A last-resort time limit for running a notebook: kill the kernels it started when it passes.

nbgrader (and `momlab progress`) stop a cell after its timeout by interrupting the kernel. Code that
swallows the interrupt (`except BaseException: pass` in a loop) would then stall every later cell for
a full timeout each; this deadline ends such a run, so one notebook cannot hold up a class.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import psutil


def _children() -> set[int]:
    return {child.pid for child in psutil.Process().children()}


def _kill_children(spared: set[int]) -> None:
    """Kill the direct child processes of this process (the kernels), on any operating system, but those in
    `spared` and the kernel zygote (it holds no learner's code; its kernels are in their sandboxes)."""
    from momlab.course.classroom import zygote

    spared = spared | {zygote.running_pid()}
    for child in psutil.Process().children():
        if child.pid in spared:
            continue
        try:
            child.kill()
        except psutil.Error:  # ended meanwhile, or not ours to kill
            pass


@contextmanager
def deadline(seconds: float):
    """Within the block, if `seconds` pass, kill every child process this process started in the block (the
    kernels). Children from before the block stay: multiprocessing's resource tracker and fork server, a
    pool's workers, a mock. Yields a dict whose "expired" key tells afterwards whether it had to."""
    state = {"expired": False}
    before = _children()

    def expire():
        state["expired"] = True
        _kill_children(before)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield state
    finally:
        timer.cancel()
