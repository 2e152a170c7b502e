"""Run an ASGI app with uvicorn on its own thread, so a notebook kernel can call it with requests.

The socket is bound before uvicorn starts: port 0 gives a free port at once, and a taken port fails
here with a clear error instead of a server that never starts. The thread is a daemon, so a
kernel that dies does not hang on it.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Self

import uvicorn
from starlette.types import ASGIApp

for _name in ("uvicorn", "uvicorn.access"):
    logging.getLogger(_name).setLevel(logging.WARNING)
# The server's own log at ERROR: bytes that are not HTTP (another program's probe, a TLS hello sent to an
# http:// port) get a 400 answer, and at WARNING would also print "Invalid HTTP request received." into
# whichever notebook cell is running. An exception in the app is still printed (ERROR).
logging.getLogger("uvicorn.error").setLevel(logging.ERROR)


class ServerThread:
    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, name: str = "momlab-http"):
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise OSError(f"Cannot listen on {host}:{port}: {exc.strerror}. Pick another --port, or 0 for any free one.") from None
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        # log_config=None: uvicorn would otherwise re-apply its logging setup (level INFO) for every server
        # it creates, and a server stopping meanwhile in another thread prints "Finished server process"
        # to stderr, which nbgrader counts as a failed cell. Its loggers are set to WARNING once, below.
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, name=name, daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"The HTTP server on {self.url} did not start.")
            time.sleep(0.005)
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._server.should_exit

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._socket.close()


class Served:
    """A thing that answers HTTP on its own thread (a receiver, an inbox, the store's endpoint).
    A subclass gives `app()`, and may set `path`, `thread_name` and `not_running`."""

    path = ""
    thread_name = "momlab-http"
    not_running = "It is not running: call .start() first."
    _server: ServerThread | None = None

    def app(self) -> ASGIApp:
        raise NotImplementedError

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        if self._server is None or not self._server.running:
            self._server = ServerThread(self.app(), host, port, name=self.thread_name).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.running

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(self.not_running)
        return self._server.url + self.path
