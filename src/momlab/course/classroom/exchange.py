"""nbgrader's exchange on a JupyterHub where every learner is a system user, with what the course adds.
The course's nbgrader_config.py names it (deploy/jupyterhub/course_config.py):

    c.ExchangeFactory.collect = "momlab.course.classroom.exchange.OwnCollect"

- OwnCollect takes a submission only from the learner it names. nbgrader's collect takes the newest
  folder called <learner>+<lab>+<time>+... in the exchange's inbound/, whoever put it there, and only logs
  a warning: any learner could hand in a blank notebook in another's name, later than theirs. It also
  never follows a link in a submission: the instructor would copy whatever the link points to (their own
  solutions/, say) into submitted/, as a file the grading run can read.

(nbgrader's release_feedback names each page by the submission's timestamp.txt and submission_secret.txt:
`momlab class feedback` puts them beside the pages.)
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil

from nbgrader.exchange.default import ExchangeCollect
from nbgrader.utils import ignore_patterns


class OwnCollect(ExchangeCollect):
    def _owner(self, record: dict) -> str:
        try:
            return pwd.getpwuid(os.lstat(os.path.join(self.inbound_path, record["filename"])).st_uid).pw_name
        except (KeyError, OSError):
            return ""

    def _own(self, record: dict) -> bool:
        return not self.check_owner or self._owner(record) == record["username"]

    def _sort_by_timestamp(self, records):
        # Newest first, the learner's own before any handed in under their name by someone else.
        return sorted(records, key=lambda record: (self._own(record), record["timestamp"]), reverse=True)

    def init_src(self):
        super().init_src()
        if not self.check_owner:
            return
        learner = self.coursedir.student_id or "*"
        for path in sorted(glob.glob(os.path.join(self.inbound_path, f"{learner}+{self.coursedir.assignment_id}+*"))):
            record = self._path_to_record(path)
            if not self._own(record):
                self.log.error("Refused %s: handed in under %s's name by %s", record["filename"], record["username"],
                               self._owner(record) or "an unknown user")

    def copy_files(self):
        self.src_records = [record for record in self.src_records if self._own(record)]
        super().copy_files()

    def do_copy(self, src, dest, log=None):
        if os.path.islink(src):
            self.log.error("Refused %s: it is a link", src)
            return
        patterns = ignore_patterns(exclude=self.coursedir.ignore, include=self.coursedir.include,
                                   max_file_size=self.coursedir.max_file_size, log=self.log)

        def ignore(folder, names):
            links = {name for name in names if os.path.islink(os.path.join(folder, name))}
            for name in sorted(links):
                self.log.error("Skipped %s: a link in a submission is never followed", os.path.join(folder, name))
            return set(patterns(folder, names)) | links

        size = sum(os.lstat(os.path.join(folder, name)).st_size
                   for folder, _, names in os.walk(src) for name in names)
        if size > 1000 * self.coursedir.max_dir_size:
            raise RuntimeError(f"Directory size is too big. Size is {size}, maximum size is {1000 * self.coursedir.max_dir_size}")
        shutil.copytree(src, dest, ignore=ignore)
