"""Bring submissions into submitted/<learner>/<lab>/ and say what is there.

Without a download, the learners' folders are already in submitted/ (copied by hand, or by
`nbgrader collect` from a JupyterHub exchange) and this only checks them. With `--from`, an LMS download
(a zip of every learner's files, or a folder of them) goes through nbgrader's zip_collect: files are
put in downloaded/<lab>/archive/, extracted, and each is matched against FILE_NAME to find its learner
and notebook.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from momlab.course.classroom.course import Course, tools_on_path
from momlab.course.errors import UserError

# "<learner>_<notebook>.ipynb", anywhere in the download; learner ids may contain "_", notebook names do not.
FILE_NAME = r".*/(?P<student_id>[^/]+)_(?P<file_id>[^_/]+\.ipynb)$"


def from_download(course: Course, lab: str, download: Path, file_name: str = FILE_NAME) -> int:
    """Collect an LMS download into submitted/; returns how many files matched no learner (skipped)."""
    course.check_lab(lab)
    download = download.expanduser()
    if not download.exists():
        raise UserError(f"{download} does not exist: give --from the zip file (or folder) downloaded from the LMS")
    archive = course.root / "downloaded" / lab / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    if download.is_dir():
        shutil.copytree(download, archive / download.name, dirs_exist_ok=True)
    else:
        shutil.copy(download, archive)
    tools_on_path()
    # zip_collect runs as nbgrader's own command: it is an application, not part of nbgrader's Python API.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "zip_collect", lab, "--force",
         f"--FileNameCollectorPlugin.named_regexp={file_name}"],
        cwd=course.root, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"nbgrader zip_collect could not collect {download.name}: {_last_line(done.stdout + done.stderr)}")
    skipped = [line for line in (done.stdout + done.stderr).splitlines() if "Skipped submission" in line]
    return len(skipped)


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def summary(course: Course, lab: str) -> list[str]:
    """One line per learner: what they handed in for `lab`, and anything missing or unreadable."""
    import nbformat

    course.check_lab(lab)
    learners = course.submissions(lab)
    if not learners:
        raise UserError(f"nobody handed in {lab}: {course.root / 'submitted'} has no <learner>/{lab}/*.ipynb "
                        f"(put the files there, or use --from <download.zip>)")
    expected = sorted(p.name for p in (course.source / lab).glob("*.ipynb"))
    lines = []
    for learner in learners:
        folder = course.folder("submitted", learner, lab)
        notes = [f"missing {name}" for name in expected if not (folder / name).exists()]
        notes += [f"extra {p.name} (not graded)" for p in sorted(folder.glob("*.ipynb")) if p.name not in expected]
        for path in sorted(folder.glob("*.ipynb")):
            try:
                nbformat.read(path, as_version=4)
            except Exception as exc:
                notes.append(f"{path.name} is not a readable notebook ({type(exc).__name__})")
        lines.append(f"{learner:<20} {'; '.join(notes) or 'ok'}")
    return lines
