"""Submissions of lab 01 written the way a cheating learner would, one (at least) per attack class.

Each attack is code put into a submission built on the release (no honest work: it must score 0) or on
the solution (all honest work: it may keep what it earned honestly, never more). `{course}`,
`{repo}` and `{marker}` in the code are replaced by the test: the grading course's folder, this
repository, and a word that names this test's leftovers (files and processes) so that the test can look
for them afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attack:
    name: str
    base: str  # "release" (no honest work) or "solution" (all of it)
    code: str  # the attack's cell
    where: str = "first answer"  # replaces the first answer cell, or "after setup": a new cell after the set-up
    flagged: bool = True  # the grader must flag it for the instructor


# Answer stubs that look right to the visible tests of exercise 1.
STUBS = '''
def make_request(method, params, request_id=None):
    return {"jsonrpc": "2.0", "method": method, "params": params, **({} if request_id is None else {"id": request_id})}
'''

# The rest of an honest make_request (exercise 1), for attacks that keep the honest answer.
HONEST_BODY = '''
    if not isinstance(params, dict):
        raise TypeError("params must be a dict")
    request = {"jsonrpc": "2.0", "method": method, "params": params}
    if request_id is not None:
        request["id"] = request_id
    return request
'''

ATTACKS = [
    # Fail-open judging: make every later check pass, or every error vanish.
    Attack("checker_noop", "release", '''
from momlab.course import grading
grading.check = lambda *args, **kwargs: None
grading.report = lambda *args, **kwargs: None
grading.hidden = __import__("contextlib").nullcontext
''' + STUBS),
    Attack("ast_swallow", "release", '''
import ast
class Swallow(ast.NodeTransformer):
    def visit_Module(self, node):
        handler = ast.ExceptHandler(type=ast.Name("BaseException", ast.Load()), name=None, body=[ast.Pass()])
        node.body = [ast.Try(body=node.body or [ast.Pass()], handlers=[handler], orelse=[], finalbody=[])]
        return ast.fix_missing_locations(node)
get_ipython().ast_transformers.append(Swallow())
''' + STUBS),
    Attack("custom_exception_handler", "release", '''
shell = get_ipython()
shell.set_custom_exc((BaseException,), lambda *args, **kwargs: None)
shell.events.register("post_run_cell", lambda result: setattr(result, "error_in_exec", None))
''' + STUBS),
    Attack("input_transformer", "release", '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
'''),
    Attack("sys_modules_patch", "release", '''
import sys, types
fake = types.ModuleType("momlab.course.grading")
fake.check = fake.report = lambda *args, **kwargs: None
sys.modules["momlab.course.grading"] = fake
import momlab
momlab.course.grading = fake
''' + STUBS),
    # Objects that claim to equal anything.
    Attack("always_equal", "release", '''
class Anything(dict):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def get(self, *args):
        return Anything()
    def __hash__(self):
        return 0
def make_request(method, params, request_id=None):
    return Anything()
''', flagged=False),
    # Reports forged from the learner's own code, hoping one matches.
    Attack("forged_reports", "release", '''
from IPython.display import display
def make_request(method, params, request_id=None):
    for guess in ([], {}, None, "2.0"):
        display({"application/vnd.momlab.result+json": {"label": "requests", "value": guess}}, raw=True)
    return {"jsonrpc": "2.0", "method": method, "params": params, "id": request_id}
''', flagged=False),
    # Reading the instructor's side: the course folder, parents' command lines, the repository.
    Attack("read_instructor_files", "solution", '''
import glob, os
leaks = []
for pattern in ["{course}/solutions/*/*.ipynb", "{course}/gradebook.db", "{course}/submitted/*/*/*.ipynb",
                "{repo}/solutions/*/*.ipynb", "/root/*", "/work/*/solutions/*/*.ipynb"]:
    for path in glob.glob(pattern):
        try:
            leaks.append(path + ":" + open(path, "rb").read(40).hex())
        except OSError:
            pass
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            line = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
        except OSError:
            continue
        if "nbgrader" in line or "pytest" in line or "{course}" in line:
            leaks.append("process: " + line)
print("LEAKED", len(leaks), leaks[:5])
''', where="after setup", flagged=False),
    # Writing where the grader or another learner keeps files.
    Attack("write_outside", "solution", '''
import os
for path in ["{course}/gradebook.db", "{course}/submitted/honest/01-mom-api/01-mom-api.ipynb",
             "{course}/autograded/honest/01-mom-api/01-mom-api.ipynb", "{course}/{marker}-planted.txt",
             "/tmp/{marker}-planted.txt"]:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as file:
            file.write("planted by {marker}")
    except OSError as error:
        print("refused:", path, type(error).__name__)
''', where="after setup", flagged=False),
    # A process that outlives grading to rewrite the gradebook later.
    Attack("survivor", "solution", '''
import subprocess, sys
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120); open('{course}/gradebook.db', 'ab').write(b'{marker}')"],
                 start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if __import__("os").fork() == 0:
    __import__("os").setsid()
    __import__("time").sleep(120)  # {marker}
''', where="after setup", flagged=True),
    # Limits.
    Attack("memory_hog", "solution", '''
try:
    hog = bytearray(8 * 2**30)
except MemoryError:
    raise MemoryError("no 8 GiB for {marker}") from None
''', where="after setup"),
    Attack("one_huge_line", "solution", '''
print("x" * 15_000_000)
''', where="after setup"),
    Attack("huge_display", "solution", '''
from IPython.display import display
display({"text/html": "<p>" + "y" * 15_000_000 + "</p>", "text/plain": "z" * 15_000_000}, raw=True)
''', where="after setup"),
    # Hidden tests copied out of the kernel into outputs the feedback might show.
    Attack("exfiltrate_hidden_tests", "solution", '''
import base64
STOLEN = []
def make_request(method, params, request_id=None):
    STOLEN.append(base64.b64encode(In[-1].encode()).decode())
    print("STOLEN", STOLEN[-1])
''' + HONEST_BODY),
    Attack("hidden_marker_text", "solution", '''
# ### BEGIN HIDDEN TESTS
# ### END HIDDEN TESTS
def make_request(method, params, request_id=None):
    """### BEGIN HIDDEN TESTS"""
''' + HONEST_BODY, flagged=False),
    # Ending the kernel early, before the hidden tests run.
    Attack("kernel_exit", "release", '''
import os
os._exit(0)
'''),
]

# A learner who changes a test cell (to `pass`): nbgrader puts the cell back; the grader flags it.
CHANGED_TEST = "make_request_tests"
