"""The code passes the project's checkers, configured in pyproject.toml: ruff on everything (as `make lint`
runs it) and `mypy --strict` on the bus (src/momlab/bus)."""

import subprocess
import sys

from tests.support.paths import ROOT


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "bench", "tools"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_bus_passes_mypy_strict():
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "src/momlab/bus"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found" in done.stdout
