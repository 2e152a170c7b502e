"""A class on a real JupyterHub, for tests/test_jupyterhub.py: throw-away system users, a PostgreSQL
server of the test's own, the hub from deploy/jupyterhub/ with its proxy on loopback, and commands run as
one of the users. Everything started here is stopped, and every user and group made here is removed, by
`Machine.close()`, whatever happened before.

Needs root (users, setuid spawning, PostgreSQL as its own system user), the proxy from npm
(`npm ci --prefix deploy/jupyterhub`), PostgreSQL's server binaries and bubblewrap.
"""

from __future__ import annotations

import errno
import glob
import grp
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.support.paths import ROOT

DEPLOY = ROOT / "deploy" / "jupyterhub"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
BIN = Path(sys.executable).parent
GROUPS = {"learner": "momlab-learners", "instructor": "momlab-instructors"}  # as deploy/jupyterhub/jupyterhub_config.py has them
HOME_MODE = "0700"  # the README's useradd --key HOME_MODE=0700
EXCHANGE_MODE = 0o1777  # the README's install -d -m 1777
POSTGRES_BIN = max(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), default=None)


def readme_recipe() -> str:
    """The README's section "A class on JupyterHub"."""
    readme = (ROOT / "README.md").read_text()
    start = readme.index("### A class on JupyterHub")
    return readme[start:readme.index("\n### ", start + 1)]


def readme_lab_steps() -> list[list[str]]:
    """The instructor's commands for each lab, from the README's recipe, in order."""
    recipe = readme_recipe()
    block = recipe.split("for each lab:", 1)[1].split("```", 2)[1]
    return [shlex.split(line.split("#", 1)[0]) for line in block.splitlines() if line.split("#", 1)[0].strip()]


def missing() -> list[str]:
    """What this machine lacks for a hub with real users (empty when it has everything)."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append("root (it creates throw-away system users and runs the hub as root, as a real hub runs)")
    for tool in ("useradd", "userdel", "groupadd", "chpasswd", "runuser"):
        if not shutil.which(tool):
            reasons.append(f"{tool} (Debian package passwd / util-linux)")
    if not PROXY.exists():
        reasons.append("configurable-http-proxy: npm ci --prefix deploy/jupyterhub")
    if not POSTGRES_BIN or not Path(POSTGRES_BIN, "initdb").exists():
        reasons.append("PostgreSQL's server: apt-get install postgresql")
    else:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            reasons.append("the postgres system user (apt-get install postgresql)")
    if not shutil.which("bwrap"):
        reasons.append("bubblewrap: apt-get install bubblewrap")
    return reasons


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Machine:
    """Undo steps, run last first by close(): each one runs even when another fails."""

    def __init__(self, base: Path):
        self.base = base
        self._undo: list = []

    def on_close(self, step) -> None:
        self._undo.append(step)

    def close(self) -> list[str]:
        problems = []
        while self._undo:
            step = self._undo.pop()
            try:
                step()
            except Exception as exc:  # keep undoing: a user left behind is worse than one message
                problems.append(f"{getattr(step, '__name__', step)}: {type(exc).__name__}: {exc}")
        return problems


# -- users --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    name: str
    password: str
    home: Path

    @property
    def uid(self) -> int:
        return pwd.getpwnam(self.name).pw_uid


def add_group(machine: Machine, name: str) -> None:
    try:
        grp.getgrnam(name)
        return  # already there (a real class on this machine, or another run): leave it as it is
    except KeyError:
        subprocess.run(["groupadd", name], check=True, capture_output=True)

    def remove_group():
        if not grp.getgrnam(name).gr_mem:
            subprocess.run(["groupdel", name], check=False, capture_output=True)

    machine.on_close(remove_group)


def add_user(machine: Machine, name: str, group: str, homes: Path) -> User:
    """A system user as the README's recipe makes one: a home of their own (mode 0700), in `group`, with a
    password; removed with every process they still run when the machine closes."""
    home = homes / name
    subprocess.run(["useradd", "--create-home", "--key", f"HOME_MODE={HOME_MODE}", "--home-dir", str(home), "--groups", group,
                    "--shell", "/bin/bash", name], check=True, capture_output=True)
    machine.on_close(lambda: remove_user(name))
    password = secrets.token_urlsafe(12)
    subprocess.run(["chpasswd"], input=f"{name}:{password}\n", text=True, check=True, capture_output=True)
    return User(name, password, home)


ACL = "system.posix_acl_access"


def let_through(machine: Machine, targets: list[Path], users: list[User]) -> list[Path]:
    """Let `users` pass through (search, never list) every folder on the way to `targets` that others may
    not pass, by a POSIX ACL naming them, taken off at close. A hub's Python must be usable by every user
    (the README installs it in /opt/momlab); this machine's venv may sit on a Python in root's home."""
    blocked = []
    for target in targets:
        for folder in reversed(Path(os.path.realpath(target)).parents):
            if not folder.stat().st_mode & 0o001 and folder not in blocked:
                blocked.append(folder)
    for folder in blocked:
        try:
            os.getxattr(folder, ACL)
            raise RuntimeError(f"{folder} has an ACL already; not changing it")
        except OSError as exc:
            if exc.errno != errno.ENODATA:
                raise
        mode = folder.stat().st_mode & 0o7777
        unset = 0xFFFFFFFF
        entries = [(0x01, (mode >> 6) & 7, unset), *[(0x02, 1, uid) for uid in sorted(u.uid for u in users)],
                   (0x04, (mode >> 3) & 7, unset), (0x10, ((mode >> 3) & 7) | 1, unset), (0x20, mode & 7, unset)]
        os.setxattr(folder, ACL, struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *entry) for entry in entries))

        def restore(folder=folder, mode=mode):
            os.removexattr(folder, ACL)
            os.chmod(folder, mode)

        machine.on_close(restore)
    return blocked


def processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            real = next((line.split()[1] for line in status.splitlines() if line.startswith("Uid:")), None)
            if real is not None and int(real) == uid:
                pids.append(int(entry.name))
    return pids


def stop_pids(pids: list[int], grace: float = 5.0) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and _alive(pid) for pid in pids):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def remove_user(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    stop_pids(processes_of(uid))  # this test's user: everything it runs was started by this test
    subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    raise RuntimeError(f"could not remove the test user {name}")


def environment(user: User, extra: dict | None = None) -> dict[str, str]:
    """What a command in `user`'s JupyterLab terminal has: their home, the venv first on PATH, and `extra`
    (the hub's JUPYTER_CONFIG_PATH; PostgreSQL's socket)."""
    env = {"HOME": str(user.home), "USER": user.name, "LOGNAME": user.name, "SHELL": "/bin/bash", "LANG": "C.UTF-8",
           "PATH": f"{BIN}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin"}
    return {**env, **(extra or {})}


def as_user(user: User | str, args: list[str], env: dict[str, str]) -> list[str]:
    """The command line that runs `args` as `user` (runuser: no password, no login), with exactly `env`."""
    name = user if isinstance(user, str) else user.name
    return ["runuser", "-u", name, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *args]


def run_as(user: User | str, args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 600,
           check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(as_user(user, args, env), cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode:
        return failed(user, args, done.returncode, done.stdout + done.stderr)
    return done


def failed(user: User | str, args: list[str], code: int, output: str):
    name = user if isinstance(user, str) else user.name
    raise AssertionError(f"{' '.join(args)} as {name} exited {code}:\n{output[-6000:]}")


# -- PostgreSQL ---------------------------------------------------------------------------------------

class Postgres:
    """A PostgreSQL server of its own: data folder under `folder`, loopback and a Unix socket in `folder`,
    run as the `postgres` system user; peer authentication on the socket (a role per system user, no
    password), none over TCP."""

    def __init__(self, machine: Machine, folder: Path):
        self.folder = folder
        self.data = folder / "data"
        self.socket = folder / "run"
        self.port = free_port()
        self.log = folder / "postgres.log"
        folder.mkdir(mode=0o755)
        self.socket.mkdir(mode=0o755)
        postgres = pwd.getpwnam("postgres")
        for path in (folder, self.socket):
            os.chown(path, postgres.pw_uid, postgres.pw_gid)
        self.env = {"PGHOST": str(self.socket), "PGPORT": str(self.port)}
        self._run(["initdb", "--pgdata", str(self.data), "--username", "postgres", "--auth-local", "peer",
                   "--auth-host", "reject", "--encoding", "UTF8", "--no-locale", "--no-sync"])
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.socket} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(["pg_ctl", "start", "--wait", "--pgdata", str(self.data), "--log", str(self.log), "--options", options])
        machine.on_close(self.stop)

    def _run(self, args: list[str]) -> str:
        env = {"PATH": f"{POSTGRES_BIN}{os.pathsep}/usr/bin{os.pathsep}/bin", "LANG": "C.UTF-8", **self.env}
        return run_as("postgres", [str(Path(POSTGRES_BIN, args[0])), *args[1:]], env, cwd=self.folder, timeout=120).stdout

    def run(self, tool: str, *args: str) -> str:
        """One of PostgreSQL's programs (createuser, createdb, ...) as the postgres system user."""
        return self._run([tool, *args])

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self._run(["psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "--dbname", database, "--command", statement])

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(["pg_ctl", "stop", "--wait", "--mode", "immediate", "--pgdata", str(self.data)])


# -- the hub ------------------------------------------------------------------------------------------

class Hub:
    """deploy/jupyterhub/jupyterhub_config.py as it is, plus only what a test needs: its own ports and
    state folder, its own copy of the exchange's location (`jupyter_config`, put before the hub's), and a
    service token to start servers and make tokens through the hub's REST API."""

    def __init__(self, machine: Machine, folder: Path, jupyter_config: Path, log: Path):
        self.folder = folder
        folder.mkdir(mode=0o700)
        self.port, hub_port, api_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        config = folder / "jupyterhub_config.py"
        config.write_text(f"""\
c = get_config()  # noqa: F821
load_subconfig({str(DEPLOY / "jupyterhub_config.py")!r})  # noqa: F821  (the recipe's file, as it is)
c.JupyterHub.bind_url = "http://127.0.0.1:{self.port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.pid_file = {str(folder / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{folder / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(folder / "jupyterhub_cookie_secret")!r}
c.Spawner.environment["JUPYTER_CONFIG_PATH"] = {str(jupyter_config)!r} + ":" + c.Spawner.environment["JUPYTER_CONFIG_PATH"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "momlab-test", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "momlab-test", "services": ["momlab-test"],
                            "scopes": ["admin:users", "admin:servers", "tokens", "access:servers"]}}]
""")
        self.spawner_config_path = f"{jupyter_config}{os.pathsep}{DEPLOY / 'jupyter'}"
        self._log = log.open("w")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"}
        self.process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=folder, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        machine.on_close(self.stop)
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"token {self.token}"
        deadline = time.monotonic() + 90
        while True:
            try:
                if self.api.get(f"{self.url}/hub/api/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"JupyterHub did not start within 90 s; see {log}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the hub stops the users' servers and its proxy on the way out
            try:
                self.process.wait(45)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        pid_file = self.folder / "proxy.pid"
        if pid_file.exists():
            try:
                stop_pids([int(pid_file.read_text().strip())])
            except ValueError:
                pass
        self._log.close()

    def start_servers(self, users: list[User], timeout: float = 120) -> dict[str, str]:
        """Start each user's JupyterLab (all at once) and give each a token of their own: name -> token."""
        for user in users:
            self.api.post(f"{self.url}/hub/api/users/{user.name}", timeout=30)  # 201 new, 409 known: both fine
            started = self.api.post(f"{self.url}/hub/api/users/{user.name}/server", timeout=60)
            assert started.status_code in (201, 202), f"{user.name}: {started.status_code} {started.text}"
        deadline = time.monotonic() + timeout
        waiting = {user.name for user in users}
        while waiting:
            for name in sorted(waiting):
                server = self.api.get(f"{self.url}/hub/api/users/{name}", timeout=30).json().get("servers", {}).get("", {})
                if server.get("ready"):
                    waiting.discard(name)
            if waiting and time.monotonic() > deadline:
                raise AssertionError(f"JupyterLab of {sorted(waiting)} not ready within {timeout:.0f} s")
            time.sleep(0.3)
        tokens = {}
        for user in users:
            made = self.api.post(f"{self.url}/hub/api/users/{user.name}/tokens", json={"note": "momlab test"}, timeout=30)
            assert made.status_code in (200, 201), made.text
            tokens[user.name] = made.json()["token"]
        return tokens


class Learner:
    """One learner's own JupyterLab on the hub, through the hub's proxy, with their own token: nbgrader's
    Assignments API (what the Assignments tab calls) and the contents API."""

    def __init__(self, hub: Hub, user: User, token: str, course: str):
        self.user, self.course = user, course
        self.url = f"{hub.url}/user/{user.name}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"

    def assignments(self) -> list[dict]:
        answer = self.http.get(f"{self.url}/assignments", params={"course_id": self.course}, timeout=120)
        answer.raise_for_status()
        body = answer.json()
        assert body["success"], body
        return body["value"]

    def act(self, action: str, lab: str) -> list[dict]:
        """fetch, submit or fetch_feedback, as the Assignments tab's buttons do."""
        answer = self.http.post(f"{self.url}/assignments/{action}", json={"course_id": self.course, "assignment_id": lab}, timeout=120)
        answer.raise_for_status()
        body = answer.json()
        assert body["success"], body.get("value", body)
        return body["value"]

    def read(self, path: str):
        """A notebook as a dict, any other file as text."""
        params = {"content": 1} if path.endswith(".ipynb") else {"content": 1, "format": "text", "type": "file"}
        answer = self.http.get(f"{self.url}/api/contents/{path}", params=params, timeout=60)
        answer.raise_for_status()
        return answer.json()["content"]

    def write_notebook(self, path: str, nb: dict) -> None:
        answer = self.http.put(f"{self.url}/api/contents/{path}", json={"type": "notebook", "format": "json", "content": nb}, timeout=60)
        answer.raise_for_status()

    def listing(self, path: str) -> list[str]:
        answer = self.http.get(f"{self.url}/api/contents/{path}", timeout=60)
        answer.raise_for_status()
        return sorted(item["name"] for item in answer.json()["content"])


def probe(user: User, env: dict[str, str], checks: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Try each (operation, path) as `user`: "listdir", "read" or "rename" (to path + ".moved"). Returns
    name -> "allowed" or the error's name (PermissionError: the system said no)."""
    code = """
import json, os, sys
out = {}
for name, (op, path) in json.loads(sys.argv[1]).items():
    try:
        if op == "listdir":
            os.listdir(path)
        elif op == "read":
            open(path, "rb").read()
        elif op == "rename":
            os.rename(path, path + ".moved")
            os.rename(path + ".moved", path)
        out[name] = "allowed"
    except Exception as exc:
        out[name] = type(exc).__name__
print(json.dumps(out))
"""
    done = run_as(user, [sys.executable, "-c", code, json.dumps(checks)], env, cwd=Path("/"))
    return json.loads(done.stdout)
