"""Kernels forked from the zygote (momlab.course.classroom.zygote): inside bwrap's sandbox with nothing more than
a kernel bwrap starts itself would have, closed to learner code, and replaced by an ordinary kernel whenever
the zygote cannot serve."""

from __future__ import annotations

import json
import os
import time

import pytest

from momlab.course.classroom import zygote
from tests.test_sandbox import probe, probed, run  # also skips this module without a sandbox

pytestmark = pytest.mark.slow

ME_AND_THE_LAUNCHER = """import psutil, resource
me = psutil.Process()
launcher = next((p for p in psutil.process_iter() if p.cmdline()[1:3] == ['-I', '-S'] and 'kernel_launcher' in p.cmdline()[3]), me)
found['cmdline'] = ' '.join(me.cmdline())
status = dict(line.split(':\\t', 1) for line in open('/proc/self/status').read().splitlines() if ':\\t' in line)
found['caps'] = {key: int(status[key], 16) for key in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')}
found['no_new_privs'] = status['NoNewPrivs'].strip()
found['ids'] = [os.getuid(), os.geteuid(), os.getgid(), os.getegid()]
kinds = ('user', 'mnt', 'ipc', 'uts', 'net', 'cgroup', 'pid')
found['namespaces_differ'] = [k for k in kinds if os.readlink(f'/proc/self/ns/{k}') != os.readlink(f'/proc/{launcher.pid}/ns/{k}')]
found['cgroup_same'] = open('/proc/self/cgroup').read() == open(f'/proc/{launcher.pid}/cgroup').read()
found['limits_differ'] = [n for n in dir(resource) if n.startswith('RLIMIT_')
                          and resource.getrlimit(getattr(resource, n)) != resource.prlimit(launcher.pid, getattr(resource, n))]
found['home'] = [os.getcwd(), os.environ.get('HOME')]"""


def test_the_kernel_is_forked_into_the_launchers_sandbox_with_its_limits_and_no_privilege():
    found = probed(run([probe("me", ME_AND_THE_LAUNCHER)]), "me")
    assert "momlab.course.classroom.zygote" in found["cmdline"]  # forked, not started
    assert found["caps"] == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": 0, "CapAmb": 0}
    assert found["no_new_privs"] == "1" and found["ids"] == [65534] * 4
    assert found["namespaces_differ"] == [] and found["cgroup_same"] and found["limits_differ"] == []
    assert found["home"] == ["/home/learner", "/tmp"]


def test_kernels_one_after_another_are_all_forked():
    """A sandbox that ends frees its PID namespace's number, and the next sandbox often gets the same one: the
    zygote must not take it for a sandbox it already served."""
    for _ in range(4):
        assert "momlab.course.classroom.zygote" in probed(run([probe("me", ME_AND_THE_LAUNCHER)]), "me")["cmdline"]


ASK_THE_ZYGOTE = """import socket
def ask(payload, fds):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(10)
    conn.connect('/run/momlab/zygote')
    try:
        socket.send_fds(conn, [payload], fds) if fds else conn.sendall(payload)
        return conn.recv(100).decode()
    except OSError as exc:
        return type(exc).__name__
spaces = [os.open(f'/proc/self/ns/{k}', os.O_RDONLY) for k in ('user', 'mnt', 'ipc', 'uts', 'net', 'cgroup', 'pid')]
request = json.dumps({'argv': ['-c', 'print(1)'], 'cwd': '/tmp', 'env': {}}).encode()
found['well_formed'] = ask(request, [0, 1, 2, *spaces])
found['garbage'] = ask(b'not json at all', [])"""


def test_learner_code_that_asks_the_zygote_gets_nothing_and_the_zygote_serves_on():
    found = probed(run([probe("ask", ASK_THE_ZYGOTE)]), "ask")
    assert set(found.values()) <= {"", "ConnectionResetError", "BrokenPipeError"}, found  # one kernel per sandbox: closed at once, unread
    found = probed(run([probe("me", ME_AND_THE_LAUNCHER)]), "me")
    assert "momlab.course.classroom.zygote" in found["cmdline"]


def test_a_zygote_that_does_not_answer_costs_an_ordinary_kernel(monkeypatch, capfd):
    dead = zygote.Zygote({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
    dead.process.kill()
    dead.process.wait()  # its socket file stays: connecting is refused
    try:
        monkeypatch.setattr(zygote, "shared", lambda env: dead)
        nb = run([probe("me", ME_AND_THE_LAUNCHER)])
    finally:
        dead.stop()
    found = probed(nb, "me")
    assert "ipykernel_launcher" in found["cmdline"] and found["namespaces_differ"] == []
    assert "kernel started without the zygote: the zygote did not answer" in capfd.readouterr().err  # the grader's log


def test_momlab_zygote_0_starts_ordinary_kernels(monkeypatch):
    monkeypatch.setenv("MOMLAB_ZYGOTE", "0")
    found = probed(run([probe("me", ME_AND_THE_LAUNCHER)]), "me")
    assert "ipykernel_launcher" in found["cmdline"] and "zygote" not in found["cmdline"]


def test_a_namespace_number_is_free_again_once_its_kernel_has_ended():
    served = zygote.Served()
    running = os.fork()
    if running == 0:  # a kernel still running
        time.sleep(30)
        os._exit(0)
    ended = os.fork()
    if ended == 0:
        os._exit(0)
    served.add(running, 1001)
    served.add(ended, 1002)
    os.waitid(os.P_PID, ended, os.WEXITED | os.WNOWAIT)  # ended, not yet reaped: as when the next sandbox asks
    assert not served.admits(1001) and served.admits(1002) and served.admits(1003)
    os.kill(running, 9)
    os.waitid(os.P_PID, running, os.WEXITED | os.WNOWAIT)
    assert served.admits(1001) and served.children == {}


def test_a_malformed_request_is_refused_with_a_reason(tmp_path):
    with pytest.raises(zygote.Refused, match="argv"):
        zygote._request(json.dumps({"argv": "x", "cwd": "/", "env": {}}).encode(), list(range(10)))
    with pytest.raises(zygote.Refused, match="file descriptors"):
        zygote._request(b"{}", [0, 1, 2])
    with pytest.raises(zygote.Refused, match="not JSON"):
        zygote._request(b"\xff", list(range(10)))
    env = {"PYTHONHASHSEED": "1"} if os.environ.get("PYTHONHASHSEED") != "1" else {"PYTHONHASHSEED": "2"}
    with pytest.raises(zygote.Refused, match="PYTHONHASHSEED"):
        zygote._request(json.dumps({"argv": [], "cwd": "/", "env": env}).encode(), list(range(10)))


CHART = """import sys
found['preloaded'] = 'matplotlib.pyplot' in sys.modules
import matplotlib, matplotlib.pyplot as plt
found['backend'] = matplotlib.get_backend()
plt.plot([1, 2], [3, 4])
plt.show()"""


def test_a_forked_kernel_draws_inline_charts_with_the_matplotlib_the_zygote_imported():
    nb = run([probe("chart", CHART)])
    found = probed(nb, "chart")
    assert found["preloaded"], "the zygote no longer imports matplotlib: every charting kernel pays for it"
    assert found["backend"] == zygote.INLINE_BACKEND
    assert any("image/png" in o.get("data", {}) for o in nb.cells[0].outputs), nb.cells[0].outputs


def test_a_kernel_whose_environment_names_a_backend_gets_that_one(monkeypatch):
    import matplotlib

    before = matplotlib.rcParams["backend"]
    try:
        monkeypatch.setenv("MPLBACKEND", "svg")
        zygote._settle_matplotlib()
        assert matplotlib.rcParams["backend"] == "svg"
        monkeypatch.delenv("MPLBACKEND")
        zygote._settle_matplotlib()  # unset: ipykernel will name the inline backend, as a fresh kernel's import would see
        assert matplotlib.rcParams["backend"] == zygote.INLINE_BACKEND
    finally:
        matplotlib.rcParams["backend"] = before
