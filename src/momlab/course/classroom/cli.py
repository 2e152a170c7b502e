"""`momlab class <step>`: the instructor's commands, one per grading step."""

from __future__ import annotations

import argparse
from pathlib import Path

from momlab.course.progress import GRADING_WORKERS


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

    autograde = steps.add_parser("autograde", help="grade every submission, three per core at a time, into the course gradebook")
    autograde.add_argument("labs", nargs="*", help="labs to grade (default: every lab with submissions)")
    autograde.add_argument("--learner", action="append", default=None, help="grade only this learner (repeatable)")
    autograde.add_argument("--force", action="store_true", help="grade again what is graded already")
    autograde.add_argument("--workers", type=int, default=GRADING_WORKERS, help="submissions graded at once (default: three per core, %(default)s here)")
    autograde.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                           help="grade on the Dask cluster of this scheduler (see README, 'Classes larger than one machine'); "
                                "--workers then only sets how many solutions run at once here")
    autograde.add_argument("--memory", type=float, default=None, metavar="GIB",
                           help="memory for each learner's kernel, in GiB (default: 2)")
    autograde.add_argument("--no-sandbox", action="store_true",
                           help="run learner code WITHOUT the bubblewrap sandbox (only for work you trust; said in the output and the report)")

    clear = steps.add_parser("clear", help="give back the points held for a flagged submission, after you looked at it")
    clear.add_argument("learner")
    clear.add_argument("lab")

    feedback = steps.add_parser("feedback", help="feedback pages for learners, checked to show no hidden test")
    feedback.add_argument("labs", nargs="*", help="labs (default: every lab)")

    export = steps.add_parser("export", help="grades as CSV (nbgrader's format)")
    export.add_argument("--to", type=Path, default=Path("grades.csv"), help="CSV file (default grades.csv)")

    report = steps.add_parser("report", help="one HTML page: scores per lab, objectives, most failed exercises")
    report.add_argument("--to", type=Path, default=Path("class-report.html"), help="HTML file (default class-report.html)")


def run(args: argparse.Namespace) -> int:
    from momlab.course.classroom.course import Course

    course = Course.at(args.course)
    if args.step == "collect":
        from momlab.course.classroom import collect

        if args.download is not None:
            skipped = collect.from_download(course, args.lab, args.download, args.file_name or collect.FILE_NAME)
            if skipped:
                print(f"{skipped} file(s) matched no <learner>_<notebook>.ipynb name and were skipped (see --file-name)")
        for line in collect.summary(course, args.lab):
            print(line)
        return 0
    if args.step == "autograde":
        from momlab.course.classroom import autograde, progressbar

        limits = {"memory_bytes": int(args.memory * 2**30)} if args.memory else None
        bar = progressbar.Bar()
        results = autograde.run(course, args.labs or None, args.learner, args.force, args.workers, report=bar.print,
                                sandboxed=not args.no_sandbox, limits=limits, scheduler=args.scheduler, progress=bar)
        if results:
            print("\n" + progressbar.table(results) + "\n")
        failed = [r for r in results if not r.ok]
        flagged = [r for r in results if r.flags]
        print(f"{len(results) - len(failed)} graded, {len(failed)} not graded, {len(flagged)} flagged"
              f"{' (see `momlab class report`; `momlab class clear <learner> <lab>` gives held points back)' if flagged else ''}.")
        return 1 if failed else 0
    if args.step == "clear":
        from momlab.course.classroom import flags

        flag, score, max_score = flags.clear(course, args.learner, args.lab)
        print(f"{args.learner}'s {args.lab} cleared: now {score:g}/{max_score:g}. It was flagged for: {'; '.join(flag.reasons)}")
        return 0
    if args.step == "feedback":
        from momlab.course.classroom import feedback

        problems = 0
        for lab in args.labs or [lab for lab in course.labs() if any((course.root / "autograded").glob(f"*/{lab}"))]:
            written, failed = feedback.generate(course, lab)
            if failed:
                print(f"{lab}: NO feedback released: {len(failed)} page(s) would show hidden-test source:")
                print("".join(f"  {page}\n" for page in failed), end="")
                print("  Look at those learners' cells (a copied hidden test?) or the lab's test cells, then run this again.")
            else:
                print(f"{lab}: {written} feedback pages in feedback/")
            problems += len(failed)
        return 1 if problems else 0
    if args.step == "export":
        from momlab.course.classroom import export

        print(f"grades written to {export.grades_csv(course, args.to)}")
        return 0
    from momlab.course.classroom import report

    print(f"class report written to {report.write(course, args.to)}")
    return 0
