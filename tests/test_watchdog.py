"""momlab.course.watchdog: the deadline kills the children the block started when it passes, and only then."""

from __future__ import annotations

import subprocess
import sys
import time

from momlab.course import watchdog


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_passed_deadline_kills_the_children_started_in_the_block_only():
    """The kernels die; what the process ran before the block (multiprocessing's resource tracker and fork
    server, a pool's workers) lives on: killing those made multiprocessing warn and start them again."""
    children = [sleeper()]
    try:
        with watchdog.deadline(0.3) as limit:
            children.append(sleeper())
            returncode = children[-1].wait(timeout=30)
        assert limit["expired"]
        assert returncode == -9  # SIGKILL, from the watchdog
        assert children[0].poll() is None, "a child from before the block was killed"
    finally:
        for child in children:
            child.kill()
            child.wait(timeout=30)


def test_a_block_that_ends_in_time_leaves_the_children_alone():
    child = sleeper()
    try:
        with watchdog.deadline(0.5) as limit:
            pass
        time.sleep(1.0)  # past the deadline: the cancelled timer must not fire
        assert not limit["expired"]
        assert child.poll() is None
    finally:
        child.kill()
        child.wait(timeout=30)
