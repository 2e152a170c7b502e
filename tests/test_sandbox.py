"""The grading sandbox (momlab.course.classroom.sandbox): real kernels in bubblewrap, driven by nbclient and by a
real `nbgrader autograde` of a tiny course, with learner code that tries to get out of it."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from sqlalchemy.exc import SAWarning

from momlab.course.classroom import sandbox
from momlab.course.classroom.limits import Limits
from momlab.course.errors import UserError
from momlab.course.progress import KERNEL_ARGUMENTS
from tests.support.paths import ROOT

pytestmark = pytest.mark.slow

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}

if not sandbox.available():
    try:
        sandbox.require()
    except UserError as exc:
        reason = str(exc)
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and no grading sandbox: {reason}", pytrace=False)
    pytest.skip(f"no grading sandbox on this machine: {reason}", allow_module_level=True)


# -- helpers -----------------------------------------------------------------------------------------

def client(cells: list[str], limits: Limits | None = None, timeout: int = 20, **options) -> sandbox.SandboxedClient:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells], metadata=KERNELSPEC)
    return sandbox.SandboxedClient(
        nb, limits=limits or Limits(), timeout=timeout, allow_errors=True, interrupt_on_timeout=True, extra_arguments=list(KERNEL_ARGUMENTS),
        error_on_timeout={"ename": "CellTimeoutError", "evalue": f"over {timeout} s", "traceback": []}, **options)


def run(cells: list[str], **options) -> nbformat.NotebookNode:
    nb_client = client(cells, **options)
    nb_client.execute()
    return nb_client.nb


def text(cell, name: str | None = None) -> str:
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and (name is None or o.name == name))


def enames(cell) -> list[str]:
    return [o.ename for o in cell.outputs if o.output_type == "error"]


def probe(name: str, body: str) -> str:
    """A cell that prints `PROBE <name> <json of the dict `found`>`."""
    return f"import json, os\nfound = {{}}\n{body}\nprint('PROBE', {name!r}, json.dumps(found))"


def probed(nb, name: str) -> dict:
    for cell in nb.cells:
        for line in text(cell).splitlines() if cell.cell_type == "code" else []:
            if line.startswith(f"PROBE {name} "):
                return json.loads(line.split(" ", 2)[2])
    raise AssertionError(f"probe {name} printed nothing")


def try_open(paths: list[str], mode: str) -> str:
    """Cell code: found[path] = "ok" or the error's name, for opening each path with `mode`."""
    return (f"for path in {paths!r}:\n"
            f"    try:\n        open(path, {mode!r}).close()\n        found[path] = 'ok'\n"
            f"    except OSError as exc:\n        found[path] = type(exc).__name__")


def with_marker(marker: str) -> list[psutil.Process]:
    """The shells spawn_escapers started (the marker is in their command line). A shell forks to run `sleep`,
    and for a moment its child carries the same command line: a marked process whose parent is marked too
    is that child, not another escaper."""
    found = []
    for proc in psutil.process_iter(["cmdline", "ppid"]):
        cmdline = proc.info["cmdline"] or []
        if cmdline[:2] == ["sh", "-c"] and marker in cmdline[-1]:
            found.append(proc)
    marked = {proc.pid for proc in found}
    return [proc for proc in found if proc.info["ppid"] not in marked]


def gone(marker: str, wait: float = 5.0) -> bool:
    deadline = time.monotonic() + wait
    while with_marker(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def spawn_escapers(marker: str) -> str:
    """Cell code: a child in a new session and a double-forked grandchild, each with `marker` in its command line."""
    return (f"import os, subprocess\n"
            f"subprocess.Popen(['sh', '-c', 'sleep 600; : {marker}'], start_new_session=True)\n"
            f"if os.fork() == 0:\n    os.setsid()\n"
            f"    if os.fork() == 0:\n        os.execv('/bin/sh', ['sh', '-c', 'sleep 600; : {marker}'])\n    os._exit(0)\n"
            f"os.wait()\nprint('spawned')")


# -- without a kernel ---------------------------------------------------------------------------------

def test_require_names_the_debian_package_when_bwrap_is_missing(monkeypatch):
    sandbox._problem.cache_clear()
    monkeypatch.setenv("PATH", "/nonexistent")
    try:
        assert not sandbox.available()
        with pytest.raises(UserError, match="apt-get install bubblewrap"):
            sandbox.require()
    finally:
        sandbox._problem.cache_clear()
    monkeypatch.undo()
    assert sandbox.available()


def test_configure_swaps_execute_for_the_sandboxed_step_and_keeps_the_rest():
    from nbgrader.converters import Autograde
    from traitlets.config import Config

    config = Config()
    config.Execute.timeout = 7
    config.Execute.kernel_manager_class = "jupyter_client.manager.AsyncKernelManager"  # grading ignores it
    limits = Limits(memory_bytes=3 * 2**30)
    sandbox.configure(config, limits)
    steps = config.Autograde.autograde_preprocessors
    assert steps[0] is sandbox.SandboxedExecute
    assert steps[1:] == Autograde.autograde_preprocessors.default()[1:]
    step = sandbox.SandboxedExecute(config=config, kernel_name="python3")
    assert (step.timeout, step.interrupt_on_timeout, step.limits) == (7, True, limits)
    km = step.create_kernel_manager()
    assert isinstance(km, sandbox.SandboxedKernelManager) and km.limits == limits and not km.has_kernel

    named = Config()
    named.Autograde.autograde_preprocessors = ["nbgrader.preprocessors.Execute", "nbgrader.preprocessors.LimitOutput"]
    sandbox.configure(named)
    assert named.Autograde.autograde_preprocessors == [sandbox.SandboxedExecute, "nbgrader.preprocessors.LimitOutput"]


def test_client_options_give_plain_nbclient_the_sandboxed_kernel_manager():
    from nbclient import NotebookClient

    limits = Limits(processes=77)
    km = NotebookClient(new_notebook(metadata=KERNELSPEC), **sandbox.client_options(limits)).create_kernel_manager()
    assert isinstance(km, sandbox.SandboxedKernelManager) and km.limits == limits
    assert km.transport == "ipc" and km.kernel_spec.interrupt_mode == "message"


def test_only_plain_files_and_folders_beside_the_notebook_are_handed_in(tmp_path):
    (tmp_path / "data.csv").write_text("a\n")
    (tmp_path / "lab.ipynb").write_text("{}")
    (tmp_path / "more").mkdir()
    (tmp_path / "leak.txt").symlink_to(ROOT / "solutions")  # bwrap would follow it as root
    assert sandbox._handed_in(str(tmp_path)) == ["--ro-bind-try", str(tmp_path / "data.csv"), f"{sandbox.HANDED_IN}/data.csv",
                                                 "--ro-bind-try", str(tmp_path / "more"), f"{sandbox.HANDED_IN}/more"]


def test_limits_refuse_nonsense():
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=2.5)


# -- a kernel through nbclient ------------------------------------------------------------------------

def test_momlab_mock_starts_and_its_server_on_loopback_answers_across_cells():
    nb = run(["import pandas, requests, momlab\nmock = momlab.start()\nprint(pandas.__version__)",
              "print(requests.get(mock.url + '/', timeout=10).status_code)",
              "import http.server, threading\nserver = http.server.ThreadingHTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)\n"
              "threading.Thread(target=server.serve_forever, daemon=True).start()",
              "import urllib.request\nprint(urllib.request.urlopen(f'http://127.0.0.1:{server.server_port}/', timeout=10).status)"])
    assert [enames(cell) for cell in nb.cells] == [[], [], [], []]
    assert text(nb.cells[1]).strip() == "200" and text(nb.cells[3], "stdout").strip() == "200"


def test_the_kernel_is_nobody_and_sees_only_its_own_processes():
    nb = run([probe("who", "import psutil\nfound['uid'] = [os.getuid(), os.geteuid(), os.getgid()]\n"
                           "found['cmdlines'] = [' '.join(p.cmdline()) for p in psutil.process_iter()]\n"
                           "found['pids'] = sorted(p.pid for p in psutil.process_iter())")])
    found = probed(nb, "who")
    assert found["uid"] == [65534, 65534, 65534]
    assert len(found["pids"]) <= 4 and max(found["pids"]) < 50, found["cmdlines"]  # bwrap's init, the kernel, at most a shell
    assert not any("pytest" in cmdline for cmdline in found["cmdlines"])
    assert any("ipykernel_launcher" in cmdline or "momlab.course.classroom.zygote" in cmdline for cmdline in found["cmdlines"])


@pytest.mark.skipif(os.geteuid() != 0, reason="the socket folder is taken from the kernel only when grading as root")
def test_the_kernel_cannot_write_in_its_socket_folder():
    nb = run([probe("ipc", "import sys\nfolder = os.path.dirname(sys.argv[sys.argv.index('-f') + 1])\n"
                           + try_open(["{folder}/planted", "{folder}/kernel.json"], "ab").replace("open(path", "open(path.format(folder=folder)"))])
    found = probed(nb, "ipc")
    # The kernel is root outside: as the owner of root's files it could have written both.
    assert found == {"{folder}/planted": "PermissionError", "{folder}/kernel.json": "PermissionError"}


def test_no_network_but_loopback():
    nb = run([probe("net", "import socket\nfound['interfaces'] = [name for _, name in socket.if_nameindex()]\n"
                           "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\ns.setblocking(False)\n"
                           "found['connect'] = s.connect_ex(('192.0.2.1', 9))  # TEST-NET-1: fails at once, nothing is sent\n"
                           "s.close()")])
    found = probed(nb, "net")
    assert found["interfaces"] == ["lo"]
    assert found["connect"] == errno.ENETUNREACH


@pytest.mark.skipif(not os.access(Path(sandbox.__file__).parents[2], os.W_OK), reason="momlab is installed read-only here")
def test_starting_a_kernel_writes_momlab_bytecode_the_kernel_cannot_write_itself():
    import importlib.util

    import momlab.stock

    compiled = Path(importlib.util.cache_from_source(momlab.stock.__file__))
    compiled.unlink(missing_ok=True)
    sandbox._compile_momlab.cache_clear()
    nb = run(["import momlab.stock\nprint(momlab.stock.__cached__)"])
    assert compiled.is_file() and text(nb.cells[0]).strip() == str(compiled)


def test_the_kernel_starts_without_debugpy_and_cannot_fill_its_empty_folder():
    nb = run([probe("debugpy", "import sys\nfrom ipykernel import debugger\nfound['available'] = debugger._is_debugpy_available\n"
                               "found['pydevd'] = sorted(m for m in sys.modules if 'pydevd' in m)\n"
                               "import debugpy\nfolder = list(debugpy.__path__)[0]\nfound['files'] = os.listdir(folder)\n"
                               + try_open(["{folder}/__init__.py"], "w").replace("open(path", "open(path.format(folder=folder)"))])
    found = probed(nb, "debugpy")
    assert found["available"] is False and found["pydevd"] == [] and found["files"] == []
    assert found["{folder}/__init__.py"] == "OSError"  # read-only file system


def test_eight_gib_fail_with_memory_error_and_the_kernel_lives():
    nb = run(["import numpy\ntry:\n    block = numpy.empty(8 * 2**30, dtype=numpy.uint8)\n    print('allocated')\n"
              "except MemoryError:\n    print('MemoryError')",
              "print('alive', numpy.ones(1000).sum())"])
    assert text(nb.cells[0]).strip() == "MemoryError"
    assert text(nb.cells[1]).strip() == "alive 1000.0"


def test_a_fork_bomb_is_stopped_by_the_process_limit_and_the_kernel_lives():
    limits = Limits(processes=40)
    bomb = ("import os, time, errno\nforked, failure, started = 0, None, time.monotonic()\n"
            "for _ in range(10_000):\n"
            "    if time.monotonic() - started > 20:\n        break\n"
            "    try:\n        pid = os.fork()\n    except OSError as exc:\n        failure = errno.errorcode[exc.errno]\n        break\n"
            "    if pid == 0:\n        time.sleep(3)\n        os._exit(0)\n"
            "    forked += 1\nprint(forked, failure)")
    nb_client = client([bomb, "import time; time.sleep(4); print('alive')"], limits=limits)
    with nb_client.setup_kernel():
        # The guard before the bomb: a process limit is in force (root: a pids cgroup; else RLIMIT_NPROC counts).
        km = nb_client.km
        if os.geteuid() == 0:
            assert km._group is not None, "no pids cgroup: the fork bomb would not be stopped when bwrap runs as root"
            assert (km._group / "pids.max").read_text().strip() == "40"
        for index, cell in enumerate(nb_client.nb.cells):
            nb_client.execute_cell(cell, index)
    forked, failure = text(nb_client.nb.cells[0]).split()
    assert 0 < int(forked) < 40 and failure == "EAGAIN"
    assert text(nb_client.nb.cells[1]).strip() == "alive"


def test_huge_line_and_huge_display_data_are_cut_to_the_cell_cap():
    nb = run(["print('x' * 15_000_000)",
              "from IPython.display import HTML, display\ndisplay(HTML('<b>' + 'y' * 15_000_000 + '</b>'))",
              "import base64\nfrom IPython.display import display\n"
              "display({'image/png': base64.b64encode(b'z' * 11_000_000).decode()}, raw=True)\nprint('after')",
              "print('small')"])
    line, html, png, small = nb.cells
    assert 900_000 < len(text(line)) < 1_001_000 and text(line).endswith("[output cut at 1,000,000 bytes: the cell's output limit]\n")
    for cell in (html, png):
        assert [o.output_type for o in cell.outputs] == ["stream"], cell.outputs
        assert "output cut at 1,000,000 bytes" in text(cell)
    assert "after" not in text(png)  # past the cap, the rest of the cell's output is dropped
    assert text(small) == "small\n"
    assert len(nbformat.writes(nb)) < 1_500_000


def test_past_the_notebook_cap_errors_and_stderr_still_show_so_grading_holds():
    flood = ["print('f' * 900_000)"] * 6
    nb = run([*flood, "import sys\nprint('late', file=sys.stderr)", "raise ValueError('v' * 5_000_000)", "print('quiet')"])
    *floods, stderr, error, quiet = nb.cells
    assert "the notebook's output limit" in text(floods[-1])
    assert "notebook's output limit" in text(stderr, "stderr")  # nbgrader scores any stderr as a failed test
    assert enames(error) == ["ValueError"] and len(nbformat.writes(nb)) < 5_300_000
    assert [o.output_type for o in quiet.outputs] == ["stream"] and "quiet" not in text(quiet)


def test_a_cell_past_its_timeout_is_interrupted_by_message_and_the_kernel_lives():
    ignore = "import time\nwhile True:\n    try:\n        time.sleep(1)\n    except KeyboardInterrupt:\n        pass"
    started = time.monotonic()
    nb_client = client(["x = 41", "import time\ntime.sleep(10**6)", "print(x + 1)", ignore, "print('after')"], timeout=3, iopub_timeout=1)
    nb_client.execute()
    nb = nb_client.nb
    assert enames(nb.cells[1]) == ["KeyboardInterrupt"]  # the interrupt reached the kernel, which went on
    assert text(nb.cells[2]).strip() == "42"  # the same kernel, state and all
    assert "after" not in text(nb.cells[4])  # the interrupt was swallowed: the kernel is still busy, and is shut down
    assert time.monotonic() - started < 60


def test_nothing_started_in_a_cell_outlives_the_run():
    marker = f"momlab-escape-{uuid.uuid4().hex}"
    nb = run([spawn_escapers(marker), "import time; time.sleep(0.5)"])
    assert text(nb.cells[0]).strip() == "spawned"
    assert gone(marker), [p.info["cmdline"] for p in with_marker(marker)]


def test_a_kernel_that_dies_leaves_nothing_behind():
    nb_client = client(["import os\nos._exit(0)", "print('never')"])
    private = []
    nb_client.on_cell_start = lambda **kw: private.extend([nb_client.km._home, nb_client.km._group])
    with pytest.raises(Exception, match="Kernel died"):
        nb_client.execute()
    home, group = private[:2]
    assert home is not None and not home.exists()
    assert group is None or not group.exists()


def test_killing_the_grader_kills_the_sandbox(tmp_path):
    marker = f"momlab-orphan-{uuid.uuid4().hex}"
    script = ("import sys\nfrom nbformat.v4 import new_code_cell, new_notebook\nfrom momlab.course.classroom import sandbox\n"
              f"nb = new_notebook(cells=[new_code_cell(sys.argv[1]), new_code_cell('import time; time.sleep(600)')], metadata={KERNELSPEC!r})\n"
              "client = sandbox.SandboxedClient(nb, timeout=None)\n"
              "client.on_cell_start = lambda **kw: print(client.km._group, client.km._home, flush=True)\n"
              "client.execute()\n")
    short, group = Path(tempfile.mkdtemp(prefix="sbx-")), "None"  # the private folder's sockets need a short path
    grader = subprocess.Popen([sys.executable, "-c", script, spawn_escapers(marker)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "TMPDIR": str(short)})
    try:
        group, home = grader.stdout.readline().split()
        deadline = time.monotonic() + 60
        while len(with_marker(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(with_marker(marker)) == 2
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        assert gone(marker), "a process outlived the grader that ran its kernel"
        if group != "None":
            assert live_members(Path(group)) == [], "a process in the sandbox's cgroup outlived the grader"
    finally:
        grader.kill()
        shutil.rmtree(short, ignore_errors=True)
        if group != "None":
            remove_group(Path(group))  # the one thing a killed grader leaves: a cgroup with no live process


def live_members(group: Path, wait: float = 10.0) -> list[int]:
    """The cgroup's processes that are still running, after up to `wait` s for them to end. An orphan that
    has exited stays listed as a zombie until the machine's init reaps it, which some container inits
    do late or never (CI's does): a zombie runs nothing, so it does not count."""
    deadline = time.monotonic() + wait
    while True:
        live = []
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                if psutil.Process(int(pid)).status() != psutil.STATUS_ZOMBIE:
                    live.append(int(pid))
            except psutil.NoSuchProcess:
                pass
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.1)


def remove_group(group: Path, wait: float = 5.0) -> None:
    """Remove the empty cgroup; while an unreaped zombie still holds it, leave it (the kernel refuses)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.2)


# -- a real nbgrader autograde of a tiny course ------------------------------------------------------

def _nbgrader_cell(source: str, **meta):
    cell = new_code_cell(source)
    cell.metadata.nbgrader = {"schema_version": 3, "locked": False, "solution": False, "grade": False, **meta}
    return cell


def _make_course(root: Path) -> None:
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "solutions" / "lab").mkdir(parents=True)
    source = new_notebook(metadata=KERNELSPEC, cells=[
        _nbgrader_cell("def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION", solution=True, grade_id="answer"),
        _nbgrader_cell("assert double(2) == 4", grade=True, locked=True, points=2, grade_id="test_double"),
    ])
    nbformat.write(source, root / "solutions" / "lab" / "lab.ipynb")


def _hand_in(root: Path, learner: str, answer: str, extra: list[str]) -> None:
    nb = nbformat.read(root / "notebooks" / "lab" / "lab.ipynb", as_version=4)
    nb.cells[0].source = f"def double(x):\n    {answer}"
    nb.cells[1:1] = [new_code_cell(source) for source in extra]  # learner cells before the test
    folder = root / "submitted" / learner / "lab"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "lab.ipynb")
    (folder / "data.csv").write_text("sku,qty\nTEE,3\n")


_GRADED: dict = {}  # one grading for every test below: a module fixture would be set up again on each xdist batch


@pytest.fixture
def course(tmp_path_factory):
    if not _GRADED:
        _GRADED.update(_grade_course(tmp_path_factory))
    return _GRADED


def _grade_course(tmp_path_factory) -> dict:
    """alice answers right and tries every way out; bob answers wrong and floods his output first."""
    from nbgrader.api import Gradebook
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from momlab.course.classroom.course import Course, tools_on_path

    root = tmp_path_factory.mktemp("course")
    _make_course(root)
    secret = str(ROOT / "solutions" / "01-mom-api" / "01-mom-api.ipynb")
    mine = root / "submitted" / "alice" / "lab"
    graded = root / "autograded" / "alice" / "lab"
    tools_on_path()
    config = Course.at(root).config()
    config.Execute.timeout = 5
    sandbox.configure(config)
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    assert api.generate_assignment("lab", force=True)["success"]
    marker = f"momlab-autograde-{uuid.uuid4().hex}"
    _hand_in(root, "alice", "return 2 * x", [
        probe("read", try_open([str(root / "solutions" / "lab" / "lab.ipynb"), str(root / "gradebook.db"),
                                str(root / "nbgrader_config.py"), secret, str(mine / "lab.ipynb")], "rb")
              + "\nfound['repository'] = sorted(os.listdir(" + repr(str(ROOT)) + "))"),
        probe("write", try_open([str(root / "gradebook.db"), str(mine / "planted.txt"), str(graded / "planted.txt"),
                                 str(root / "planted.txt")], "ab")),
        probe("scratch", "found['cwd'] = os.getcwd()\nfound['files'] = sorted(os.listdir('.'))\n"
                         "found['data'] = open('data.csv').read()\nopen('data.csv', 'a').write('HACK,1\\n')\n"
                         "open('scratch.txt', 'w').write('mine')\nimport sys\nfound['argv'] = sys.argv"),
        spawn_escapers(marker),
        "import time\ntime.sleep(10**6)",
    ])
    _hand_in(root, "bob", "return x + 1", ["print('b' * 900_000)"] * 7)
    started = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own gradebook queries trip SQLAlchemy 2's autoflush warnings
        outcomes = {learner: api.autograde("lab", learner, force=True, create=True) for learner in ("alice", "bob")}
    seconds = time.monotonic() - started
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        scores = {learner: gradebook.find_submission("lab", learner).score for learner in outcomes}
    nbs = {learner: nbformat.read(root / "autograded" / learner / "lab" / "lab.ipynb", as_version=4) for learner in outcomes}
    return {"root": root, "outcomes": outcomes, "scores": scores, "nbs": nbs, "marker": marker, "seconds": seconds, "secret": secret}


def test_autograde_in_the_sandbox_scores_right_and_wrong_answers(course):
    assert all(outcome["success"] for outcome in course["outcomes"].values()), course["outcomes"]
    assert course["scores"] == {"alice": 2, "bob": 0}  # bob's flood past the notebook cap does not hide his failed test
    assert "AssertionError" in enames(course["nbs"]["bob"].cells[-1])


def test_autograde_keeps_the_execute_settings(course):
    cells = course["nbs"]["alice"].cells
    assert "CellTimeoutError" in enames(cells[5])  # c.Execute.timeout = 5 cut the endless cell
    assert course["seconds"] < 60
    assert "--IPKernelApp.capture_fd_output=False" in probed(course["nbs"]["alice"], "scratch")["argv"]


def test_the_kernel_cannot_read_the_course_or_the_repository(course):
    found = probed(course["nbs"]["alice"], "read")
    assert set(found.pop("repository")) <= {".venv", "src", "data"}  # no solutions/, no gradebook, no config
    assert found == {path: "FileNotFoundError" for path in found}, found
    assert Path(course["secret"]).is_file()  # it is there, outside the sandbox


def test_the_kernel_writes_only_in_its_scratch_folder(course):
    root, found = course["root"], probed(course["nbs"]["alice"], "write")
    assert all(outcome in ("FileNotFoundError", "PermissionError", "OSError") for outcome in found.values()), found
    assert not list(root.rglob("planted.txt"))
    scratch = probed(course["nbs"]["alice"], "scratch")
    assert scratch["cwd"] == sandbox.HOME and scratch["files"] == ["data.csv"]  # a copy of the files beside the notebook
    assert scratch["data"] == "sku,qty\nTEE,3\n"
    graded = root / "autograded" / "alice" / "lab"
    assert sorted(p.name for p in graded.iterdir()) == ["data.csv", "lab.ipynb"]
    assert (graded / "data.csv").read_text() == "sku,qty\nTEE,3\n"


def test_nothing_outlives_an_autograde(course):
    assert gone(course["marker"], wait=2.0)
    assert "spawned" in text(course["nbs"]["alice"].cells[4])
