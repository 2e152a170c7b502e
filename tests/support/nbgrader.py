"""Running nbgrader's command line the way `make release` and an instructor do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def nbgrader_env() -> dict:
    # nbgrader runs alembic by name, and kernels must use this interpreter.
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def run_nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "nbgrader"), *args], cwd=course, env=nbgrader_env(), capture_output=True, text=True, timeout=600
    )
