"""The gradebook schema revision momlab reads in-process is the one `alembic heads` gives, and a new gradebook
carries it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from momlab.course import nbgrader_fix


def test_the_revision_is_what_alembic_heads_prints(tmp_path):
    import nbgrader

    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {Path(nbgrader.__file__).parent / 'alembic'}\nsqlalchemy.url = sqlite:///{tmp_path / 'x.db'}\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    printed = subprocess.run(["alembic", "-c", str(ini), "heads"], capture_output=True, text=True, check=True, env=env).stdout
    assert nbgrader_fix.alembic_head() == printed.split()[0]


def test_a_new_gradebook_is_stamped_with_it(tmp_path):
    from nbgrader.api import Gradebook
    from sqlalchemy import text

    nbgrader_fix.apply()
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        stamped = gradebook.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == nbgrader_fix.alembic_head()
