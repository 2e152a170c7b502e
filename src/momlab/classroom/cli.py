"""`momlab class <step>`: the instructor's commands, one per grading step."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..progress import DEFAULT_WORKERS


def add_commands(commands) -> None:
    grading = commands.add_parser("class", help="grade a class with nbgrader: collect, autograde, feedback, export, report")
    grading.add_argument("--course", default=None, help="the course folder, with nbgrader_config.py (default: this folder)")
    steps = grading.add_subparsers(dest="step", required=True)

    collect = steps.add_parser("collect", help="check submitted/<learner>/<lab>/, or fill it from an LMS download")
    collect.add_argument("lab")
    collect.add_argument("--from", dest="download", type=Path, default=None,
                         help="a zip (or folder) downloaded from the LMS; files named <learner>_<notebook>.ipynb")
    collect.add_argument("--file-name", default=None,
                         help="regular expression with (?P<student_id>...) and (?P<file_id>...) for other LMS file names")

    autograde = steps.add_parser("autograde", help="grade every submission, two per core at a time, into the course gradebook")
    autograde.add_argument("labs", nargs="*", help="labs to grade (default: every lab with submissions)")
    autograde.add_argument("--learner", action="append", default=None, help="grade only this learner (repeatable)")
    autograde.add_argument("--force", action="store_true", help="grade again what is graded already")
    autograde.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="submissions graded at once (default: two per core, %(default)s here)")

    feedback = steps.add_parser("feedback", help="feedback pages for learners, checked to show no hidden test")
    feedback.add_argument("labs", nargs="*", help="labs (default: every lab)")

    export = steps.add_parser("export", help="grades as CSV (nbgrader's format)")
    export.add_argument("--to", type=Path, default=Path("grades.csv"), help="CSV file (default grades.csv)")

    report = steps.add_parser("report", help="one HTML page: scores per lab, objectives, most failed exercises")
    report.add_argument("--to", type=Path, default=Path("class-report.html"), help="HTML file (default class-report.html)")


def run(args: argparse.Namespace) -> int:
    from .course import Course

    course = Course.at(args.course)
    if args.step == "collect":
        from . import collect

        if args.download is not None:
            skipped = collect.from_download(course, args.lab, args.download, args.file_name or collect.FILE_NAME)
            if skipped:
                print(f"{skipped} file(s) matched no <learner>_<notebook>.ipynb name and were skipped (see --file-name)")
        for line in collect.summary(course, args.lab):
            print(line)
        return 0
    if args.step == "autograde":
        from . import autograde

        results = autograde.run(course, args.labs or None, args.learner, args.force, args.workers)
        failed = [r for r in results if not r.ok]
        print(f"{len(results) - len(failed)} graded, {len(failed)} not graded.")
        return 1 if failed else 0
    if args.step == "feedback":
        from . import feedback

        problems = 0
        for lab in args.labs or [lab for lab in course.labs() if any((course.root / "autograded").glob(f"*/{lab}"))]:
            written, withheld = feedback.generate(course, lab)
            print(f"{lab}: {written} feedback pages in feedback/")
            for page in withheld:
                print(f"  WITHHELD {page}: it shows hidden-test source; fix the test cell, then run this again")
            problems += len(withheld)
        return 1 if problems else 0
    if args.step == "export":
        from . import export

        print(f"grades written to {export.grades_csv(course, args.to)}")
        return 0
    from . import report

    print(f"class report written to {report.write(course, args.to)}")
    return 0
