"""`python -m momlab` in a child process: the standalone server, the CLI, and free ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    """A port nobody listens on right now: a remote that is down, or one that starts there later."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_held: list[socket.socket] = []


def down_port() -> int:
    """A port where nothing ever answers, for the rest of this test process: bound here and never listened on,
    so connecting is refused and no other server can take it (a free_port() may be taken by the time it is used)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    return sock.getsockname()[1]


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run `python -m momlab ...` to completion (for the ways it must refuse to start)."""
    return subprocess.run([sys.executable, "-m", "momlab", *args], capture_output=True, text=True, timeout=timeout)


class StandaloneServer:
    """`python -m momlab serve ARGS` in a child process; `url` is read from the first line it prints.

    stderr goes to a file (beside `db` when given): a pipe nobody reads would fill up and stall the
    server under load."""

    def __init__(self, *args: str, db: Path | None = None, timeout: float = 30.0):
        if db is not None:
            args = ("--port", "0", "--db", str(db), "--delay", "0", *args)
            self.log_path = Path(db).with_suffix(f".stderr-{time.monotonic_ns()}.log")
        else:
            handle, name = tempfile.mkstemp(prefix="momlab-serve-", suffix=".log")
            os.close(handle)
            self.log_path = Path(name)
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "momlab", "serve", *args],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.first_line = self._first_line(timeout)
        match = re.search(r"http://[\d.]+:\d+", self.first_line)
        if not match:
            self.kill()
            raise AssertionError(f"momlab serve did not print its URL: {self.first_line!r}; stderr: {self.stderr()[-2000:]}")
        self.url = match.group(0)

    def _first_line(self, timeout: float) -> str:
        lines = self.read_lines(1, timeout)
        if not lines:
            self.kill()
            raise AssertionError(f"momlab serve printed nothing within {timeout} s; stderr: {self.stderr()[-2000:]}")
        return lines[0]

    def read_lines(self, count: int, timeout: float) -> list[str]:
        """The next `count` lines it prints (fewer if `timeout` passes first or it exits). Read on a thread, not
        with select(): one readline() can leave the next lines in the text wrapper's buffer, where select()
        on the pipe no longer sees them."""
        lines: list[str] = []

        def read() -> None:
            while len(lines) < count:
                line = self.proc.stdout.readline()
                if not line:
                    return
                lines.append(line)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        return list(lines)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine loses power or a kernel is killed."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._close()

    def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not ended within 10 s; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._close()
        return self.proc.returncode

    def stderr(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _close(self) -> None:
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()
