"""A class on a real JupyterHub, end to end, as the README's recipe ("A class on JupyterHub") sets it up.

One instructor and two learners are throw-away system users (removed at the end), so the exchange's
permissions really apply: each learner's JupyterLab runs as that learner. The hub is
deploy/jupyterhub/jupyterhub_config.py as it is (PAM login, one process per user, configurable-http-proxy
from npm), on loopback, with only its ports, state folder and exchange location changed for the test. The
gradebook is in a PostgreSQL server the test starts (its own data folder, its own socket).

The loop: the instructor releases lab 01 to the exchange; one learner fetches it in Chromium (the
Assignments tab shows it, and no instructor tool), the other through the Assignments REST API of their own
server; one solves it, one hands in the release; both submit; the second also hands in a blank notebook
in the first one's name. The instructor collects, grades with `momlab class autograde` (sandboxed),
builds and releases feedback; each learner fetches their own. Then: the scores are right (the forgery was
refused), each learner's feedback shows their own score and no hidden test, neither learner can reach the
other's submission, feedback or home, nor the instructor's course, and the PostgreSQL gradebook holds the
same grades as the same class graded with SQLite.

Needs root, `npm ci --prefix deploy/jupyterhub`, the Debian packages postgresql, bubblewrap and chromium.
Without them it skips, saying what is missing; under CI (CI=true) that is a failure.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from momlab.course.classroom import feedback
from tests.support import hub_tools, synthetic
from tests.support.hub_tools import DEPLOY, ROOT, Hub, Learner, Machine, Postgres, User, environment, probe, run_as

pytestmark = pytest.mark.slow

LAB = "01-mom-api"
COURSE_ID = "momlab"  # deploy/jupyterhub/jupyter/nbgrader_config.py
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
GRADES = """
import json, sys, warnings
from nbgrader.api import Gradebook
from momlab.course.classroom.course import Course
warnings.simplefilter("ignore")
course = Course.at(sys.argv[1])
with Gradebook(course.db_url) as gradebook:
    assignment = gradebook.find_assignment(sys.argv[2])
    print(json.dumps({"url": course.db_url, "grades": {s.student.id: {
        "score": s.score, "max_score": s.max_score,
        "cells": {f"{n.name}/{g.name}": g.score for n in s.notebooks for g in n.grades}} for s in assignment.submissions}}))
"""

class Class:
    """Everything the loop runs on: users, PostgreSQL, the exchange, the hub, the learners' servers."""

    def __init__(self, machine: Machine):
        self.machine = machine
        base = machine.base
        suffix = os.urandom(3).hex()
        for group in hub_tools.GROUPS.values():
            hub_tools.add_group(machine, group)
        homes = base / "home"
        homes.mkdir(mode=0o755)
        self.teacher = hub_tools.add_user(machine, f"momlab-t-{suffix}", hub_tools.GROUPS["instructor"], homes)
        self.ada = hub_tools.add_user(machine, f"momlab-a-{suffix}", hub_tools.GROUPS["learner"], homes)
        self.bob = hub_tools.add_user(machine, f"momlab-b-{suffix}", hub_tools.GROUPS["learner"], homes)
        users = [self.teacher, self.ada, self.bob]
        hub_tools.let_through(machine, [Path(sys.executable), Path(sys.base_prefix), ROOT], users)
        # The exchange: as the README makes /srv/nbgrader/exchange, here in the test's folder.
        self.exchange = base / "exchange"
        self.exchange.mkdir()
        os.chmod(self.exchange, hub_tools.EXCHANGE_MODE)
        jupyter_config = base / "jupyter"
        jupyter_config.mkdir()
        (jupyter_config / "nbgrader_config.py").write_text(f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(self.exchange)!r}\n")
        # The gradebook's database, made as the README makes it (createuser, createdb).
        self.postgres = Postgres(machine, base / "postgres")
        self.postgres.run("createuser", self.teacher.name)
        self.postgres.run("createdb", "--owner", self.teacher.name, "momlab_gradebook")
        self.hub = Hub(machine, base / "hub", jupyter_config, ARTIFACTS / "jupyterhub.log")
        self.hub_env = {"JUPYTER_CONFIG_PATH": self.hub.spawner_config_path}
        self.teacher_env = environment(self.teacher, {**self.hub_env, **self.postgres.env})
        self.course = self.teacher.home / "momlab"
        tokens = self.hub.start_servers([self.ada, self.bob])
        self.learners = {user.name: Learner(self.hub, user, tokens[user.name], COURSE_ID) for user in (self.ada, self.bob)}

    def instructor(self, *args: str, cwd: Path | None = None, timeout: float = 600) -> str:
        """One command in the instructor's terminal, in the course folder."""
        done = run_as(self.teacher, list(args), self.teacher_env, cwd=cwd or self.course, timeout=timeout)
        return done.stdout + done.stderr

    def instructor_in_background(self, cwd: Path, *args: str) -> subprocess.Popen:
        command = hub_tools.as_user(self.teacher, list(args), self.teacher_env)
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.machine.on_close(lambda: process.poll() is None and (process.kill(), process.wait()))
        return process

    def grades(self, course: Path) -> dict:
        done = run_as(self.teacher, [sys.executable, "-c", GRADES, str(course), LAB], self.teacher_env, cwd=course)
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def machine():
    missing = hub_tools.missing()
    if missing:
        message = "a class on JupyterHub needs " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    ARTIFACTS.mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="momlab-hub-"))
    os.chmod(base, 0o755)  # the users' homes and the exchange are below it
    machine = Machine(base)
    machine.on_close(lambda: shutil.rmtree(base, ignore_errors=True))
    try:
        yield machine
    finally:
        problems = machine.close()
        assert not problems, f"cleaning up the class left: {problems}"


def fetch_in_chromium(hub: Hub, learner: User) -> dict:
    """Log in as `learner` in Chromium, open the Assignments tab, check what it offers, click Fetch."""
    from playwright.sync_api import sync_playwright

    seen = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{hub.url}/hub/login")
            page.fill("#username_input", learner.name)
            page.fill("#password_input", learner.password)
            page.click("#login_submit")
            page.wait_for_url(f"**/user/{learner.name}/lab**", timeout=90_000)
            menu = page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader")
            menu.wait_for(timeout=90_000)
            menu.click()
            items = page.locator(".lm-Menu-itemLabel")
            items.first.wait_for(timeout=30_000)
            seen["menu"] = sorted(items.all_inner_texts())
            page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
            released = page.locator("#released_assignments_list")
            row = released.locator(".list_item", has_text=LAB)
            row.wait_for(timeout=60_000)
            seen["released"] = released.inner_text()
            seen["tabs"] = sorted(page.locator(".lm-TabBar-tabLabel").all_inner_texts())
            seen["create_assignment"] = page.locator("#nbgrader-create_assignemnt").count()  # (sic) nbgrader's panel id
            page.screenshot(path=str(ARTIFACTS / "jupyterhub-assignments.png"))
            row.locator("button", has_text="Fetch").click()
            page.locator("#fetched_assignments_list .list_item", has_text=LAB).first.wait_for(timeout=60_000)
            page.screenshot(path=str(ARTIFACTS / "jupyterhub-fetched.png"))
        finally:
            browser.close()
    return seen


def solved(release: dict) -> dict:
    """The release a learner fetched, with every answer cell filled in from the instructor's solution."""
    solution = nbformat.read(ROOT / "solutions" / LAB / f"{LAB}.ipynb", as_version=4)
    return dict(synthetic.variant("answered", solution, nbformat.from_dict(release)))


@pytest.mark.timeout(600)
def test_a_class_on_jupyterhub(machine):
    started = time.monotonic()
    steps = {}

    def step(name):  # seconds since the start: wall clock, and CPU of the commands run so far (not the hub's)
        cpu = os.times()
        steps[name] = {"wall": round(time.monotonic() - started, 1), "cpu": round(cpu.children_user + cpu.children_system - cpu0, 1)}

    cpu0 = os.times().children_user + os.times().children_system

    room = Class(machine)
    ada, bob = room.learners[room.ada.name], room.learners[room.bob.name]
    step("hub, users, PostgreSQL and two learners' servers up")

    # The instructor's course folder: the repository's course settings with the hub's and the gradebook's
    # appended (the README's `cat ... >> nbgrader_config.py`), the lab's source and release.
    run_as(room.teacher, ["sh", "-c", (
        f"mkdir -p {room.course}/solutions {room.course}/notebooks && "
        f"cp -R {ROOT}/solutions/{LAB} {room.course}/solutions/ && cp -R {ROOT}/notebooks/{LAB} {room.course}/notebooks/ && "
        f"cat {ROOT}/nbgrader_config.py {DEPLOY}/course_config.py {DEPLOY}/gradebook_postgres.py > {room.course}/nbgrader_config.py")],
        room.teacher_env, cwd=room.teacher.home)
    release, collect, grade, build_feedback, release_feedback, export = hub_tools.readme_lab_steps()  # the README's
    room.instructor(*release)
    inbound = room.exchange / COURSE_ID / "inbound"
    assert oct(inbound.stat().st_mode & 0o7777) == "0o2733", "inbound: learners may write, not list"
    step("released")

    # Bob fetches in his browser: the Assignments tab offers lab 01, and no instructor tool is there.
    if CHROMIUM:
        seen = steps["what bob's JupyterLab showed"] = fetch_in_chromium(room.hub, room.bob)
        assert "Assignment List" in seen["menu"] and not any("Formgrader" in item for item in seen["menu"]), seen
        assert LAB in seen["released"] and "Fetch" in seen["released"], seen
        assert seen["create_assignment"] == 0 and "Create Assignment" not in seen["tabs"], seen
    elif os.environ.get("CI"):
        pytest.fail("Chromium is missing: apt-get install chromium")
    else:
        bob.act("fetch", LAB)
    step("bob fetched in Chromium")
    assert {a["status"] for a in ada.assignments() if a["assignment_id"] == LAB} == {"released"}
    assert ada.http.get(f"{ada.url}/formgrader", timeout=60).status_code == 404, "the formgrader is on for learners"
    ada.act("fetch", LAB)
    path = f"{LAB}/{LAB}.ipynb"
    ada.write_notebook(path, solved(ada.read(path)))
    ada.act("submit", LAB)
    bob.act("submit", LAB)  # the release as he fetched it
    # Then Bob hands in a blank notebook in Ada's name, later than hers.
    bob_env = environment(room.bob, room.hub_env)
    run_as(room.bob, ["nbgrader", "submit", LAB, f"--student={room.ada.name}"], bob_env, cwd=room.bob.home)
    step("fetched and submitted")

    collected = room.instructor(*collect)
    assert f"handed in under {room.ada.name}'s name by {room.bob.name}" in collected, collected
    assert sorted(p.name for p in (room.course / "submitted").iterdir()) == sorted([room.ada.name, room.bob.name])
    step("collected")
    graded = room.instructor(*grade)
    step("graded")
    # The same class graded with SQLite, in another course folder of the instructor's, while the loop goes on.
    local = room.teacher.home / "momlab-sqlite"
    run_as(room.teacher, ["sh", "-c", (
        f"mkdir -p {local}/solutions && cp -R {room.course}/solutions/{LAB} {local}/solutions/ && "
        f"cp -R {room.course}/submitted {room.course}/.momlab {local}/ && "
        f"cat {ROOT}/nbgrader_config.py {DEPLOY}/course_config.py > {local}/nbgrader_config.py")],
        room.teacher_env, cwd=room.teacher.home)
    sqlite_grading = room.instructor_in_background(local, *grade)
    room.instructor(*build_feedback)
    room.instructor(*release_feedback)
    step("feedback released")

    # Each learner fetches their feedback: their own score, no hidden test.
    secret = feedback.hidden_lines(ROOT / "solutions" / LAB)
    scores = {room.ada.name: "23.0", room.bob.name: "0.0"}
    handed_in = {}  # learner -> the timestamp of what they handed in themselves
    for learner, other in ((ada, bob), (bob, ada)):
        me = learner.user.name
        listing = learner.act("fetch_feedback", LAB)
        submissions = [s for a in listing if a["assignment_id"] == LAB for s in a.get("submissions", [])]
        with_feedback = [s for s in submissions if s.get("has_local_feedback")]
        assert len(with_feedback) == 1 and with_feedback[0]["student_id"] == me, (me, submissions)
        handed_in[me] = with_feedback[0]["timestamp"]
        page = learner.read(f"{LAB}/feedback/{handed_in[me]}/{LAB}.html")
        assert f"{LAB} (Score: {scores[me]} / 23.0)" in page, (me, graded)
        assert f"{LAB} (Score: {scores[other.user.name]} / 23.0)" not in page, f"{me} sees the other's score"
        assert not any(line in page for line in secret), f"{me}'s feedback shows a hidden test"
    for learner, other in ((ada, room.bob.name), (bob, room.ada.name)):
        seen = [s for a in learner.assignments() for s in a.get("submissions", [])]
        assert handed_in[other] not in {s["timestamp"] for s in seen}, f"{learner.user.name} sees {other}'s submission"
    step("feedback fetched")

    # Neither learner can reach the other's work, nor the instructor's, through the exchange or the disk.
    course_exchange = room.exchange / COURSE_ID
    for me, other in ((room.bob, room.ada), (room.ada, room.bob)):
        cache = other.home / ".local/share/jupyter/nbgrader_cache" / COURSE_ID
        own = sorted(cache.glob(f"{other.name}+{LAB}+*"))
        assert own, f"{other.name} has no submission in their cache"
        found = probe(me, environment(me, room.hub_env), {
            "list the exchange's inbound": ("listdir", str(course_exchange / "inbound")),
            "list the exchange's feedback": ("listdir", str(course_exchange / "feedback")),
            "move the course in the exchange": ("rename", str(course_exchange)),
            "list the other's home": ("listdir", str(other.home)),
            "read the other's submission secret": ("read", str(own[-1] / "submission_secret.txt")),
            "read the other's notebook": ("read", str(other.home / LAB / f"{LAB}.ipynb")),
            "list the instructor's home": ("listdir", str(room.teacher.home)),
            "read the instructor's gradebook settings": ("read", str(room.course / "nbgrader_config.py")),
        })
        steps[f"what {me.name} tried"] = found
        assert found == dict.fromkeys(found, "PermissionError"), f"{me.name} reached: {found}"
    step("separation checked")

    # The grades are in PostgreSQL, and they are those of the same class graded with SQLite.
    in_postgres = room.grades(room.course)
    assert in_postgres["url"].startswith("postgresql+psycopg://") and not (room.course / "gradebook.db").exists()
    assert {k: v["score"] for k, v in in_postgres["grades"].items()} == {room.ada.name: 23.0, room.bob.name: 0.0}, graded
    assert int(room.postgres.sql("SELECT count(*) FROM grade", "momlab_gradebook")) > 0
    room.instructor(*export)
    rows = (room.course / "grades.csv").read_text().splitlines()
    assert len(rows) == 3 and rows[0].startswith("assignment,"), rows
    output, _ = sqlite_grading.communicate(timeout=600)
    if sqlite_grading.returncode:
        hub_tools.failed(room.teacher, grade, sqlite_grading.returncode, output)
    in_sqlite = room.grades(local)
    assert in_sqlite["url"].startswith("sqlite:///")
    assert in_postgres["grades"] == in_sqlite["grades"]
    step("graded again with SQLite")
    (ARTIFACTS / "jupyterhub-steps.json").write_text(json.dumps(steps, indent=1))


def test_collect_takes_no_link_and_nothing_in_another_learners_name(tmp_path):
    """OwnCollect on its own (no hub): a link in a submission is not followed, a folder owned by someone
    other than the learner it names is refused."""
    from nbgrader.apps import NbGrader
    from nbgrader.coursedir import CourseDirectory

    from momlab.course.classroom.exchange import OwnCollect

    course_dir = tmp_path / "course"
    inbound = tmp_path / "exchange" / COURSE_ID / "inbound"
    key = tmp_path / "key.txt"
    key.write_text("the answer key")
    me = pwd.getpwuid(os.geteuid()).pw_name
    mine = inbound / f"{me}+lab+2026-01-01 10:00:00.000000 UTC+abc"
    mine.mkdir(parents=True)
    (mine / "lab.ipynb").write_text("{}")
    (mine / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    (mine / "notes.txt").symlink_to(key)
    other = inbound / f"someone-{os.urandom(3).hex()}+lab+2026-01-02 10:00:00.000000 UTC+def"  # no such user
    other.mkdir()
    (other / "lab.ipynb").write_text("{}")
    config = NbGrader().config
    config.CourseDirectory.root = str(course_dir)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.assignment_id = "lab"
    config.CourseDirectory.db_url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    config.Exchange.root = str(tmp_path / "exchange")
    collect = OwnCollect(coursedir=CourseDirectory(config=config), config=config)
    collect.start()
    assert sorted(p.name for p in (course_dir / "submitted").iterdir()) == [me]  # the other did not hand theirs in
    assert sorted(p.name for p in (course_dir / "submitted" / me / "lab").iterdir()) == ["lab.ipynb", "timestamp.txt"]


def test_the_readme_recipe_is_what_the_hub_test_runs():
    """The README's recipe names the files the hub test reads, with the same groups, modes, exchange, course
    and database (the instructor's commands the test takes from the README itself)."""
    from traitlets.config.loader import PyFileConfigLoader

    recipe = hub_tools.readme_recipe()
    hub = PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()
    everyone = PyFileConfigLoader("nbgrader_config.py", path=str(DEPLOY / "jupyter")).load_config()
    course = PyFileConfigLoader("course_config.py", path=str(DEPLOY)).load_config()
    gradebook = PyFileConfigLoader("gradebook_postgres.py", path=str(DEPLOY)).load_config()
    assert hub.PAMAuthenticator.allowed_groups == set(hub_tools.GROUPS.values())
    for group in hub_tools.GROUPS.values():
        assert f"groupadd {group}\n" in recipe and f"--groups {group} " in recipe
    assert recipe.count(f"--key HOME_MODE={hub_tools.HOME_MODE} ") == 2
    assert f"install -d -m {hub_tools.EXCHANGE_MODE:o} {everyone.Exchange.root} " in recipe
    assert everyone.CourseDirectory.course_id == course.CourseDirectory.course_id == COURSE_ID
    database = gradebook.CourseDirectory.db_url.removeprefix("postgresql+psycopg:///")
    assert "createuser teacher " in recipe and f"createdb --owner teacher {database}\n" in recipe
    for name in ("course_config.py", "gradebook_postgres.py"):
        assert f"cat deploy/jupyterhub/{name} >> nbgrader_config.py" in recipe
    assert "cp -r deploy/jupyterhub /opt/momlab/hub" in recipe and "jupyterhub -f /opt/momlab/hub/jupyterhub_config.py" in recipe
    for name in re.findall(r"^\| `([^`]+)`", recipe, flags=re.M):
        for part in name.split("`, `"):
            assert (DEPLOY / part).exists(), part
    assert [step[:2] for step in hub_tools.readme_lab_steps()] == [
        ["nbgrader", "release_assignment"], ["nbgrader", "collect"], ["momlab", "class"], ["momlab", "class"],
        ["nbgrader", "release_feedback"], ["momlab", "class"]]
