"""momlab.course.watchdog: the deadline kills this process's children when it passes, and only then."""

from __future__ import annotations

import subprocess
import sys
import time

from momlab.course import watchdog


def sleeper() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


def test_a_passed_deadline_kills_the_child_processes():
    child = sleeper()
    try:
        with watchdog.deadline(0.3) as limit:
            returncode = child.wait(timeout=30)
        assert limit["expired"]
        assert returncode == -9  # SIGKILL, from the watchdog
    finally:
        child.kill()


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
