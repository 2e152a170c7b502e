"""The kernel zygote: graded kernels start as forks of one process that imported their modules once.

Starting Python, ipykernel, pandas and momlab costs a kernel about 1.6 of its 2 CPU-seconds, and a learner's
labs start 13 kernels. Every kernel still gets its own bubblewrap sandbox (sandbox.py); what bwrap runs in it
is kernel_launcher.py, which sends the zygote, over a Unix socket bound into the sandbox, its standard
streams and its own namespace files. The zygote (started once per grading process, holding nothing but
imported modules) forks a child that:

1. joins the launcher's pids cgroup and takes its resource limits (both read from the host's /proc after
   checking the launcher is still in the sandbox whose namespace files it sent);
2. joins the sandbox's namespaces from those files (a launcher can open only its own), then forks the
   kernel inside the sandbox's PID namespace;
3. in the kernel: drops every capability, sets no_new_privs, takes the launcher's streams, environment and
   working folder, and runs ipykernel; the child waits and tells the launcher the exit status.

The kernel is what bwrap would have started: uid 65534 in the sandbox's namespaces, no capabilities, the
same limits, counted in the same pids group, gone when the sandbox ends. Anything refused before the kernel
starts (with a one-line reason) makes the launcher start the ordinary kernel itself.

    z = zygote.shared(env)   # the running zygote of this process (started on first use), or None
    z.socket                 # bind this into a sandbox at kernel_launcher.SOCKET
    zygote.share(env)        # before starting a process pool: its workers use this process's zygote
"""

from __future__ import annotations

import atexit
import ctypes
import fcntl
import gc
import json
import multiprocessing.util
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from momlab.course.classroom import kernel_launcher

LAUNCHER = kernel_launcher.__file__
# What a graded kernel imports before and in a lab's set-up cell (measured: ~1.6 CPU-s of a kernel's start).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "IPython", "numpy", "pandas",
           "requests", "ipywidgets", "momlab", "momlab.widgets", "momlab.course.grading",
           # what ipykernel imports while it starts, and the mock's web server when momlab.start() runs it
           "IPython.core.debugger", "IPython.core.completerlib", "IPython.extensions.storemagic", "tornado.queues",
           "uvicorn.loops.auto", "uvicorn.loops.uvloop", "uvicorn.protocols.http.auto", "uvicorn.protocols.http.httptools_impl",
           "uvicorn.protocols.websockets.auto", "uvicorn.lifespan.off", "anyio._backends._asyncio", "psutil",
           "pandas.io.formats.html", "momlab.orders", "momlab.topics", "momlab.diagrams", "momlab.storefront", "momlab.connector",
           # four labs draw charts; matplotlib reads MPLBACKEND once, on import: see _settle_matplotlib. Never
           # matplotlib_inline: importing it outside a kernel skips the inline set-up it does for the kernel
           "matplotlib.pyplot", "matplotlib.figure", "matplotlib.backends.backend_agg", "matplotlib.backends.backend_svg")
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets MPLBACKEND to when it is unset
HIDDEN = ("debugpy",)  # as in the sandbox (sandbox.HIDDEN_PACKAGES): a kernel without a debugger
REQUEST_BYTES = 1 << 20
SETUP_SECONDS = 20
NS_GET_PARENT = 0xB702  # ioctl: the parent of a user namespace
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_SET_PDEATHSIG = 24, 38, 47, 4, 1
# setns() checks that each file is a namespace of the kind it is joined as (CLONE_NEW* flags)
KINDS = {"user": 0x10000000, "mnt": 0x00020000, "ipc": 0x08000000, "uts": 0x04000000, "net": 0x40000000,
         "cgroup": 0x02000000, "pid": 0x20000000}
READY_SECONDS = 120
LIMITS = tuple(getattr(resource, name) for name in dir(resource) if name.startswith("RLIMIT_"))


class Refused(Exception):
    """Why a kernel was not forked: the launcher starts an ordinary one."""


# ------------------------------------------------------------------ the grader's side


class Zygote:
    def __init__(self, env: dict[str, str]):
        self.folder = Path(tempfile.mkdtemp(prefix="momlab-zygote-"))  # 0700: only the grader reaches the socket
        self.socket = self.folder / "socket"
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__], cwd=self.folder, env={**env, "HOME": str(self.folder)},
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True, preexec_fn=_die_with_parent)
        self.process.stdin.write(f"{self.socket}\n")  # not in its arguments: every kernel shows them (/proc/self/cmdline)
        self.process.stdin.close()
        ready = self.process.stdout.readline().strip() if select.select([self.process.stdout], [], [], READY_SECONDS)[0] else ""
        if ready != "ready":
            self.stop()
            raise Refused(f"the zygote did not start ({ready or 'no answer'})")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        for path in (self.socket, self.folder):
            try:
                path.rmdir() if path.is_dir() else path.unlink()
            except OSError:
                pass


class Borrowed:
    """The zygote of the process that started this one (a grading pool's parent): see share()."""

    def __init__(self, socket_path: str):
        self.socket = Path(socket_path)


SHARED_SOCKET = "MOMLAB_ZYGOTE_SOCKET"
_shared: Zygote | Borrowed | None = None
_broken = ""
_lock = threading.Lock()


def shared(env: dict[str, str]) -> Zygote | Borrowed | None:
    """This process's zygote, started on first use with `env` (the sandbox's environment, so that what its
    modules read at import is what a kernel would read), or the one its parent shared. None when it cannot
    start here (the reason is printed once): kernels then start the ordinary way."""
    global _shared, _broken
    with _lock:
        if isinstance(_shared, Zygote) and not (_shared.alive() and _shared.env == env):
            _shared.stop()
            _shared = None
        if _shared is None and os.environ.get(SHARED_SOCKET) and Path(os.environ[SHARED_SOCKET]).is_socket():
            _shared = Borrowed(os.environ[SHARED_SOCKET])
        if _shared is None and not _broken:
            try:
                _shared = Zygote(env)
                atexit.register(_shared.stop)
                multiprocessing.util.Finalize(_shared, _shared.stop, exitpriority=10)  # a pool's worker skips atexit
            except (Refused, OSError) as exc:
                _broken = str(exc)
                print(f"[momlab] kernels start without a zygote: {exc}", file=sys.stderr)
        return _shared


def running_pid() -> int | None:
    """The process id of the zygote this process started, while it runs; else None."""
    zygote = _shared
    return zygote.process.pid if isinstance(zygote, Zygote) and zygote.alive() else None


def share(env: dict[str, str]) -> None:
    """Start this process's zygote now, and let the processes it starts from here on (a pool's workers, which
    would each start their own) fork their kernels from it too."""
    zygote = shared(env)
    if zygote is not None:
        os.environ[SHARED_SOCKET] = str(zygote.socket)


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ------------------------------------------------------------------ the zygote


def serve(path: str) -> None:
    """Import what kernels import, then fork one kernel per sandbox that asks."""
    for name in HIDDEN:
        sys.modules[name] = None  # an import fails, as over the sandbox's empty folder
    import importlib

    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)  # the zygote's own, for matplotlib's import
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional one (uvloop installs only where it builds): the kernel does without it too
            pass
    from momlab.bus import catalog

    catalog.warm()  # every message's schema check compiled once, not in each kernel that sends
    # Out of the collector's sight: a kernel's collections would otherwise touch every inherited object and
    # copy the pages it shares with the zygote (copy-on-write).
    gc.collect()
    gc.freeze()
    old = os.umask(0o177)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.umask(old)
    listener.listen(64)
    listener.settimeout(1.0)
    print("ready", flush=True)
    served = Served()
    while True:
        served.reap()
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        with conn:
            pidns = _peer_pid_namespace(conn)
            if pidns is None or not served.admits(pidns):
                continue
            child = os.fork()
            if child == 0:
                listener.detach()
                _serve_one(conn, pidns)  # never returns
            served.add(child, pidns)


class Served:
    """The sandboxes (by PID namespace) the zygote's children serve: one kernel per sandbox, as long as it runs."""

    def __init__(self):
        self.children: dict[int, int] = {}  # child pid -> PID namespace

    def add(self, child: int, pidns: int) -> None:
        self.children[child] = pidns

    def admits(self, pidns: int) -> bool:
        self.reap()  # a sandbox that just ended frees its namespace's number, and a new one may get it at once
        return pidns not in self.children.values()

    def reap(self) -> None:
        for child in list(self.children):
            try:
                done, _ = os.waitpid(child, os.WNOHANG)
            except ChildProcessError:
                done = child
            if done:
                del self.children[child]


def _peer(conn: socket.socket) -> int:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def _peer_pid_namespace(conn: socket.socket) -> int | None:
    try:
        return os.stat(f"/proc/{_peer(conn)}/ns/pid").st_ino
    except OSError:
        return None


def _serve_one(conn: socket.socket, pidns: int) -> None:
    """In the forked child: check the request, join the sandbox, fork the kernel into it, report its end."""
    code = 0
    try:
        conn.settimeout(SETUP_SECONDS)
        data, fds, _, _ = socket.recv_fds(conn, REQUEST_BYTES, 16)
        try:
            request = _request(data, fds)
            stdio, namespaces = fds[:3], dict(zip(kernel_launcher.NAMESPACES, fds[3:], strict=True))
            _join(_peer(conn), pidns, namespaces)
        except Refused as exc:
            conn.sendall(f"no {exc}\n".encode())
            os._exit(0)
        kernel = os.fork()
        if kernel == 0:
            _become_kernel(request, stdio, conn)  # never returns
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(kernel, 0)
        code = os.waitstatus_to_exitcode(status)
        conn.sendall(f"exit {code}\n".encode())
    except BaseException as exc:  # noqa: BLE001 - a child of the zygote must never return into its loop
        try:
            conn.sendall(f"no {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    os._exit(0)


def _request(data: bytes, fds: list[int]) -> dict:
    if len(fds) != 3 + len(kernel_launcher.NAMESPACES):
        raise Refused(f"expected {3 + len(kernel_launcher.NAMESPACES)} file descriptors, got {len(fds)}")
    try:
        request = json.loads(data)
    except ValueError as exc:
        raise Refused(f"the request is not JSON ({exc})") from None
    if not (isinstance(request, dict) and isinstance(request.get("argv"), list) and isinstance(request.get("cwd"), str)
            and isinstance(request.get("env"), dict)
            and all(isinstance(v, str) for v in [*request["argv"], *request["env"].keys(), *request["env"].values()])):
        raise Refused("the request needs argv (strings), cwd and env (strings)")
    if request["env"].get("PYTHONHASHSEED") != os.environ.get("PYTHONHASHSEED"):
        raise Refused("the kernel's PYTHONHASHSEED differs from the zygote's")
    return request


def _join(peer: int, pidns: int, namespaces: dict[str, int]) -> None:
    """Join the peer's pids cgroup, limits and namespaces; the peer must be in the sandbox whose files it sent."""
    if os.fstat(namespaces["pid"]).st_ino != pidns:
        raise Refused("the namespace files are not the sender's")
    groups = _read(f"/proc/{peer}/cgroup")
    limits = {limit: resource.prlimit(peer, limit) for limit in LIMITS}
    if os.stat(f"/proc/{peer}/ns/pid").st_ino != pidns:  # still the same process after reading both
        raise Refused("the sender changed")
    _join_cgroups(groups)
    for limit, value in limits.items():
        resource.setrlimit(limit, value)
    if os.geteuid() == 0:
        os.setgroups([])
    libc = ctypes.CDLL(None, use_errno=True)
    outer = fcntl.ioctl(namespaces["user"], NS_GET_PARENT)  # bwrap --disable-userns nests one user namespace in another
    try:
        for fd, kind in ((outer, "user"), *((namespaces[k], k) for k in ("mnt", "ipc", "uts", "net", "cgroup", "pid", "user"))):
            if libc.setns(fd, KINDS[kind]) != 0:
                raise Refused(f"cannot join the sandbox's {kind} namespace ({os.strerror(ctypes.get_errno())})")
    finally:
        os.close(outer)


def _join_cgroups(groups: str) -> None:
    mine = {line.split(":", 2)[1]: line.split(":", 2)[2] for line in _read("/proc/self/cgroup").splitlines()}
    for line in groups.splitlines():
        _, controllers, path = line.split(":", 2)
        if mine.get(controllers) == path or controllers.startswith("name="):
            continue
        folder = Path("/sys/fs/cgroup") / controllers / path.lstrip("/")  # v2 (no controllers): the unified tree
        try:
            (folder / "cgroup.procs").write_text(str(os.getpid()))
        except OSError as exc:
            raise Refused(f"cannot join the sandbox's cgroup {folder} ({exc})") from None


def _read(path: str) -> str:
    with open(path) as file:
        return file.read()


def _become_kernel(request: dict, stdio: list[int], conn: socket.socket) -> None:
    """In the sandbox's PID namespace: give up every privilege, then run ipykernel as the launcher asked."""
    try:
        os.setsid()
        for number, fd in enumerate(stdio):
            os.dup2(fd, number)
        _drop_capabilities()  # the zygote set no signal handler: the kernel starts with Python's own
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
        _settle_matplotlib()
        conn.sendall(b"ok\n")
        conn.detach()
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    except BaseException as exc:  # noqa: BLE001
        try:
            conn.sendall(f"no {type(exc).__name__}: {exc}\n".encode())
        finally:
            os._exit(0)
    for name in HIDDEN:  # ipykernel has made its choice; from here on the kernel finds the sandbox's empty folder
        sys.modules.pop(name, None)
    sys.argv = [sys.executable, *request["argv"]]
    sys.path[0] = request["cwd"]  # what `python -m ipykernel_launcher` puts first: the working folder
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # `random` reseeds itself after a fork; numpy's global state does not
    code = 0
    try:
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _settle_matplotlib() -> None:
    """The backend a kernel that imports matplotlib itself would get: the one its environment names, else the
    inline one ipykernel names when it starts (the zygote imported matplotlib under its own environment)."""
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None:
        matplotlib.rcParams["backend"] = os.environ.get("MPLBACKEND") or INLINE_BACKEND


def _drop_capabilities() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    last = int(_read("/proc/sys/kernel/cap_last_cap"))
    for cap in range(last + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (two words each): all empty
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "no_new_privs")
    status = dict(line.split(":\t", 1) for line in _read("/proc/self/status").splitlines() if ":\t" in line)
    if any(int(status[key], 16) for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")):
        raise OSError("capabilities are left after dropping them")


if __name__ == "__main__":
    serve(sys.stdin.readline().strip())
