"""Process pools for the tools that run notebooks (grading, reference runs, `momlab progress`).

    with pools.pool(workers) as pool:
        pool.map(task, items)

The workers are forked from a server process (multiprocessing's "forkserver") that imported the grading
stack once, instead of each starting Python and importing nbgrader, nbclient and nbformat again (about
1 CPU-second a worker). The server keeps its imports for the life of the process that started it. Each
worker then takes its parent's environment and working folder as they are when the pool starts, as a
spawned one would (the server's were fixed when it started). Where there is no fork server (Windows),
workers are spawned.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

# Never a module that may be run as a script (python -m ...reference): the server would import it twice.
PRELOAD = ["momlab.course.classroom", "momlab.course.classroom.unit", "momlab.course.classroom.sandbox", "nbgrader.apps.api",
           "nbgrader.converters", "nbclient", "nbformat"]


def pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` processes with this process's environment and working folder."""
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)  # read when the server starts: the first pool of this process
    except ValueError:  # no fork server on this platform
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context, initializer=_take,
                               initargs=(dict(os.environ), os.getcwd()))


def _take(environment: dict[str, str], folder: str) -> None:
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(folder)
    # What the server imported stays for the worker's life: out of the collector's sight, a full collection
    # no longer walks it (and no longer copies the pages it shares with the server).
    gc.freeze()
