"""Every graded kernel runs in a bubblewrap sandbox (Debian package `bubblewrap`).

    from momlab.course.classroom import sandbox
    sandbox.configure(config)                    # nbgrader: autograde's Execute step runs kernels sandboxed
    sandbox.SandboxedClient(nb, timeout=30, ...)  # nbclient: a NotebookClient with a sandboxed kernel and output caps
    NotebookClient(nb, **sandbox.client_options())  # plain nbclient: the sandboxed kernel manager only

The kernel sees the Python install, the venv (without debugpy: HIDDEN_PACKAGES), momlab's source and data
(read-only), system libraries and a few /etc files; its working folder is in memory and starts with a copy
of the non-notebook files of the folder nbgrader runs it in. It has its own user (65534), PIDs, IPC, host name and a network with loopback
only; it talks to the grader over Unix sockets in a private folder. Limits: momlab.course.classroom.limits.

Run as root, bwrap maps the sandbox's user to root outside, and Linux does not apply RLIMIT_NPROC to
root: the process limit is a pids cgroup (v1, or a v2 group that delegates pids), whose leftovers are
killed when the kernel is shut down. A grader killed with SIGKILL leaves an empty cgroup and its
private folder in $TMPDIR (its sandbox dies with it: --die-with-parent).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import functools
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Instance, default

from momlab.course.classroom import kernel_launcher, zygote
from momlab.course.classroom.limits import CappedOutput, Limits
from momlab.course.errors import UserError

HINT = "apt-get install bubblewrap"
HOME = "/home/learner"  # the kernel's working folder, in memory
HANDED_IN = "/run/handed-in"  # the non-notebook files of nbgrader's folder, read-only; copied into HOME at start
NOBODY = 65534
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "hosts", "host.conf", "nsswitch.conf", "gai.conf",
       "resolv.conf", "localtime", "passwd", "group", "ssl", "ca-certificates", "mime.types", "fonts")
KEEP_ENV = ("LANG", "LANGUAGE", "TZ", "PYTHONHASHSEED", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "MPLBACKEND")
KEEP_ENV_PREFIXES = ("LC_", "NBGRADER_", "MOMLAB_")
# One BLAS/OpenMP thread: threads count against the process limit, and two gradings run per core anyway.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
DEFAULT = Limits()
COPY_IN = f'cp -R {HANDED_IN}/. . 2>/dev/null; exec "$@"'
# Packages the kernel sees as empty folders. ipykernel imports debugpy at every start (~0.15 CPU-s) to offer a
# debugger; a graded kernel has no front end to debug it from, and without debugpy ipykernel starts without one.
HIDDEN_PACKAGES = ("debugpy",)


@functools.cache
def _problem() -> str:
    """Why sandboxed kernels cannot run here ("" when they can): bwrap is tried once per process."""
    if not shutil.which("bwrap"):
        return f"bubblewrap is not installed: grading runs every kernel in its sandbox. Install it: `{HINT}`"
    probe = ["bwrap", *_NAMESPACES, *_system_binds(), "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap does not run ({exc}); reinstall it: `{HINT}`"
    if done.returncode:
        return (f"bwrap cannot create its namespaces here ({done.stderr.strip() or done.returncode}): grading needs "
                f"`{HINT}` and user namespaces allowed (sysctl kernel.unprivileged_userns_clone=1, or run as root)")
    return ""


def available() -> bool:
    return not _problem()


def require() -> None:
    if _problem():
        raise UserError(_problem())


_NAMESPACES = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
               "--uid", str(NOBODY), "--gid", str(NOBODY), "--hostname", "sandbox"]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args + [arg for name in ETC for arg in ("--ro-bind-try", f"/etc/{name}", f"/etc/{name}")]


def _python_folders() -> list[str]:
    """What the kernel runs: the Python install, the venv, and momlab's src/ and data/ when it is an editable
    install (never the repository root: it holds the instructor's solutions/)."""
    from momlab import data

    folders = [sys.base_prefix, sys.prefix, str(Path(__file__).resolve().parents[3]), str(data.folder())]
    kept: list[str] = []
    for folder in sorted(set(folders), key=len):
        if not any(Path(folder).is_relative_to(k) for k in kept):
            kept.append(folder)
    return kept


@functools.cache
def _hidden_packages() -> tuple[str, ...]:
    """Empty read-only folders over the HIDDEN_PACKAGES that the kernel's Python would find."""
    import importlib.util

    args: list[str] = []
    for name in HIDDEN_PACKAGES:
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            args += ["--tmpfs", folder, "--remount-ro", folder]
    return tuple(args)


@functools.cache
def _compile_momlab() -> None:
    """Write momlab's bytecode once per grader process (a no-op when it is up to date). The kernel sees the
    package read-only, and without it every kernel compiles momlab again on import (where
    PYTHONDONTWRITEBYTECODE is set, as in many container images, nothing else writes it)."""
    import compileall

    import momlab

    with contextlib.suppress(OSError):
        compileall.compile_dir(Path(momlab.__file__).parent, quiet=2, workers=1)


def _handed_in(folder: str | None) -> list[str]:
    """Read-only binds of the files and folders beside the notebooks in `folder` (never a link: bwrap would
    follow it as root; never a notebook: nbgrader's copy holds the hidden tests)."""
    if not folder or not Path(folder).is_dir():
        return []
    args = []
    for entry in sorted(Path(folder).iterdir()):
        if entry.is_symlink() or entry.suffix == ".ipynb" or entry.name == ".ipynb_checkpoints":
            continue
        if entry.is_file() or entry.is_dir():
            args += ["--ro-bind-try", str(entry), f"{HANDED_IN}/{entry.name}"]  # -try: it may be gone by now
    return args


def environment(env: dict) -> dict[str, str]:
    """The kernel's environment in the sandbox, from the grader's."""
    keep = {k: v for k, v in env.items() if (k in KEEP_ENV or k.startswith(KEEP_ENV_PREFIXES)) and k != zygote.SHARED_SOCKET}
    keep.update(ONE_THREAD, HOME="/tmp", PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin")
    keep.setdefault("LANG", "C.UTF-8")
    return keep


def _zygote_environment(env: dict) -> dict[str, str]:
    """What the zygote imports its modules with: the kernel's environment without the per-run variables (a
    kernel gets its own whole environment when it starts)."""
    return {k: v for k, v in environment(env).items() if not k.startswith(KEEP_ENV_PREFIXES)}


def zygote_wanted() -> bool:
    """Kernels are forked from a zygote unless the environment says MOMLAB_ZYGOTE=0."""
    return os.environ.get("MOMLAB_ZYGOTE", "1") != "0"


def share_zygote() -> None:
    """Before starting a pool of grading processes: start this process's zygote and let the pool's kernels
    fork from it (one zygote for the pool, not one per worker). Nothing happens where MOMLAB_ZYGOTE=0."""
    if zygote_wanted() and available():
        zygote.share(_zygote_environment(dict(os.environ)))


def command(kernel: list[str], limits: Limits, ipc: Path, env: dict, folder: str | None, zygote_socket: Path | None = None) -> list[str]:
    """The bwrap command line that runs `kernel` (its connection file and sockets in `ipc`) in the sandbox;
    with `zygote_socket`, the kernel is forked from the zygote (see zygote.py)."""
    memory = [arg for path in ("/tmp", "/dev/shm", HOME) for arg in ("--size", str(limits.scratch_bytes), "--tmpfs", path)]
    readable = [arg for path in _python_folders() for arg in ("--ro-bind", path, path)]
    prlimit = ["prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}", f"--nproc={limits.processes}",
               f"--fsize={limits.scratch_bytes}", "--core=0", "--"]
    return ["bwrap", *_NAMESPACES, "--proc", "/proc", "--dev", "/dev", *memory, *_system_binds(), *readable,
            *_hidden_packages(), "--bind", str(ipc), str(ipc), *(["--ro-bind", str(zygote_socket), kernel_launcher.SOCKET] if zygote_socket else []),
            *_handed_in(folder), "--chdir", HOME, "--clearenv",
            *[arg for name, value in sorted(environment(env).items()) for arg in ("--setenv", name, value)],
            "/bin/sh", "-c", COPY_IN, "sh", *prlimit, *kernel]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


@functools.cache
def _pids_parent() -> Path | None:
    """This process's cgroup for the pids controller, when it may hold a child group with a pids.max (root on
    cgroup v1, or a v2 group that delegates pids). RLIMIT_NPROC alone is not enforced for root (uid 0 outside)."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        number, controllers, path = line.split(":", 2)
        v1 = "pids" in controllers.split(",")
        folder = Path("/sys/fs/cgroup/pids" if v1 else "/sys/fs/cgroup") / path.lstrip("/")
        delegated = v1 or (number == "0" and "pids" in _read(folder / "cgroup.subtree_control").split())
        if delegated and os.access(folder / "cgroup.procs", os.W_OK):
            return folder
    return None


def _pids_group(processes: int) -> Path | None:
    if _pids_parent() is None:
        return None
    group = _pids_parent() / f"momlab-sandbox-{secrets.token_hex(6)}"
    try:
        group.mkdir()
        (group / "pids.max").write_text(str(processes))
    except OSError:
        return None
    return group


async def _end_group(group: Path) -> None:
    """Kill every process left in `group` (a kernel's sandbox), then remove the group."""
    for _ in range(100):
        pids = [int(pid) for pid in _read(group / "cgroup.procs").split()]
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.02)
    with contextlib.suppress(OSError):
        group.rmdir()


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs in the bubblewrap sandbox (see the module's docstring)."""

    limits = Instance(Limits, args=()).tag(config=True)
    fork_from_zygote = Bool(help="fork the kernel from this process's zygote (zygote.py) instead of starting Python; "
                                 "default: yes, unless the environment sets MOMLAB_ZYGOTE=0").tag(config=True)

    @default("fork_from_zygote")
    def _zygote_by_default(self) -> bool:
        return zygote_wanted()

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"  # TCP cannot cross into the sandbox's network namespace
        self.cache_ports = False
        self._home: Path | None = None  # private: ipc/ holds the connection file and the kernel's sockets
        self._group: Path | None = None

    @property
    def kernel_spec(self):
        spec = super().kernel_spec
        if spec is not None:
            spec.interrupt_mode = "message"  # SIGINT to the process group would kill bwrap, not interrupt the kernel
        return spec

    async def _async_pre_start_kernel(self, **kw):
        require()
        _compile_momlab()
        if self._home is None:
            self._home = Path(tempfile.mkdtemp(prefix="momlab-sandbox-"))
            self._finalizer = weakref.finalize(self, shutil.rmtree, self._home, True)
            (self._home / "ipc").mkdir(mode=0o700)
            self.ip = str(self._home / "ipc" / "kernel")  # the sockets are "<ip>-<port>"
            self.connection_file = str(self._home / "ipc" / "kernel.json")
        os.chown(self._home / "ipc", os.geteuid(), os.getegid())  # a restart binds new sockets
        os.chmod(self._home / "ipc", 0o700)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        self._group = self._group or _pids_group(self.limits.processes)
        if self._group is None and os.geteuid() == 0:
            self.log.warning("no pids cgroup for the sandbox: its process limit (RLIMIT_NPROC) does not hold for root")
        if self.ipykernel:  # no JPY_PARENT_PID inside: without a parent handle ipykernel prints a banner for terminals
            kernel_cmd = [*kernel_cmd, "--IPKernelApp.parent_handle=1"]  # 1: no parent poller, as --die-with-parent does it
        env = kw.get("env") or dict(os.environ)
        forked = self.fork_from_zygote and kernel_cmd[1:3] == ["-m", "ipykernel_launcher"] and zygote.shared(_zygote_environment(env))
        if forked:
            kernel_cmd = [kernel_cmd[0], "-I", "-S", zygote.LAUNCHER, *kernel_cmd[3:]]
        cmd = command(kernel_cmd, self.limits, self._home / "ipc", env, kw.get("cwd"), forked.socket if forked else None)
        if self._group:  # join the group before bwrap starts, so every process in the sandbox is counted
            cmd = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self._group / "cgroup.procs"), *cmd]
        kw.update(cwd=str(self._home), env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        await super()._async_launch_kernel(cmd, **kw)

    async def _async_post_start_kernel(self, **kw) -> None:
        await self._seal()
        await super()._async_post_start_kernel(**kw)

    async def _seal(self, wait: float = 60) -> None:
        """Once the kernel has bound its sockets, take the ipc folder from it. As root, the sandbox's uid is root
        outside, and owns what root owns: the folder goes to nobody, so the kernel can no longer write there
        (it may still read its connection file, which it checks after binding)."""
        if os.geteuid() != 0:
            return
        ports = (self.shell_port, self.iopub_port, self.stdin_port, self.control_port, self.hb_port)
        sockets = [Path(f"{self.ip}-{port}") for port in ports]
        deadline = time.monotonic() + wait
        while not all(s.exists() for s in sockets) and time.monotonic() < deadline and await self._async_is_alive():
            await asyncio.sleep(0.01)
        for path, mode in ((self.connection_file, 0o644), (self._home / "ipc", 0o711)):  # the parent folder is root's, 0700
            os.chmod(path, mode)  # first: in between, a folder still 0700 but nobody's would stop the kernel reading its file
            os.chown(path, NOBODY, NOBODY)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if self._group:  # no process outlives its kernel (bwrap's PID namespace ends them too; this is the proof)
            await _end_group(self._group)
            self._group = None
        if not restart and self._home is not None:
            self._finalizer()
            self._home = None

    # AsyncKernelManager binds these names to KernelManager's functions: point them at the overrides above
    # (nbclient calls cleanup_resources() itself after a kernel died).
    pre_start_kernel, post_start_kernel = _async_pre_start_kernel, _async_post_start_kernel
    cleanup_resources = _async_cleanup_resources


async def _shut_down(km) -> None:
    """Shut down a kernel manager's kernel if nbclient left it running (it does not shut down one it was handed)."""
    if km is None:
        return
    if km.has_kernel:
        await km.shutdown_kernel(now=True)
    else:
        await km.cleanup_resources()


class _Sandboxed(CappedOutput):
    """For a NotebookClient with a `limits` trait: its kernels are sandboxed, whatever the configuration says."""

    def create_kernel_manager(self):
        self.kernel_manager_class = SandboxedKernelManager
        km = super().create_kernel_manager()
        km.limits = self.limits
        return km


class SandboxedExecute(_Sandboxed, Execute):
    """nbgrader's Execute step with sandboxed kernels and output caps (the c.Execute settings apply)."""

    limits = Instance(Limits, args=()).tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._died = False
        try:
            return super().preprocess(nb, resources, km)
        finally:
            run_sync(_shut_down)(self.km)

    def preprocess_cell(self, cell, resources, index):
        """A kernel that dies (os._exit, a crash, a limit) ends the run there, not the whole grading: the
        cell gets a DeadKernelError output, the cells after it stay unrun, and the grader flags it."""
        if self._died:
            return cell, self.resources
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError as exc:
            self._died = True
            cell.outputs.append(new_output("error", ename="DeadKernelError", evalue=f"the kernel died ({exc})", traceback=[]))
            return cell, self.resources

    def on_cell_executed(self, **kwargs):
        reply = kwargs["execute_reply"]
        if reply and reply["content"].get("status") == "error":  # nbgrader stores the reply's error if no output had it
            reply["content"] = self.fit_error(reply["content"], kwargs["cell_index"])
        super().on_cell_executed(**kwargs)


class SandboxedClient(_Sandboxed, NotebookClient):
    """nbclient's NotebookClient with a sandboxed kernel and output caps."""

    limits = Instance(Limits, args=()).tag(config=True)

    async def async_execute(self, reset_kc: bool = False, **kwargs):
        try:
            return await super().async_execute(reset_kc=reset_kc, **kwargs)
        finally:
            await _shut_down(self.km)
            atexit.unregister(self._cleanup_kernel)  # nbclient leaves it registered when a kernel fails to start

    execute = run_sync(async_execute)


def client_options(limits: Limits = DEFAULT) -> dict:
    """NotebookClient(nb, **client_options(limits)): nbclient creates (and shuts down) a sandboxed kernel manager.
    Output caps need SandboxedClient instead."""
    from traitlets.config import Config

    return {"kernel_manager_class": SandboxedKernelManager, "config": Config({"SandboxedKernelManager": {"limits": limits}})}


def configure(config, limits: Limits = DEFAULT) -> None:
    """Edit an nbgrader Config in place: autograde runs SandboxedExecute instead of Execute. The c.Execute
    settings (timeout, interrupt_on_timeout, extra_arguments) still apply: SandboxedExecute is an Execute."""
    from nbgrader.converters import Autograde

    require()
    steps = config.Autograde.get("autograde_preprocessors") or Autograde.autograde_preprocessors.default()
    names = {"nbgrader.preprocessors.Execute", "nbgrader.preprocessors.execute.Execute", "momlab.course.classroom.sandbox.SandboxedExecute"}
    config.Autograde.autograde_preprocessors = [SandboxedExecute if step is Execute or step in names else step for step in steps]
    if SandboxedExecute not in config.Autograde.autograde_preprocessors:
        raise UserError("nbgrader's autograde_preprocessors has no Execute step to sandbox: add nbgrader.preprocessors.Execute")
    config.SandboxedExecute.limits = limits
    config.SandboxedKernelManager.limits = limits
