"""A bare HTTP remote for the bus to deliver to, independent of momlab's own Receiver."""

from __future__ import annotations

import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from momlab.bus import signing


class HttpRemote:
    """A remote on 127.0.0.1 that records each request exactly as it arrived (path, headers, raw bytes).

    What it answers, in order:
    - `answers`, a list of (status, body) consumed one per request, when not empty;
    - with a `secret`: HTTP 401 to a request whose signature does not match (counted in `bad_signatures`),
      400 to one without a string id (`unparseable`), and 500 the first time for an id that hashes into
      `fail_share`, so the bus must retry it;
    - otherwise a JSON-RPC success echoing the request id (counted per id in `accepted`).
    While `gate` is an Event, each request waits for it (up to 10 s) before it is answered.
    `port` 0 picks a free port; a reserved port lets the remote be "down" until `start()`."""

    def __init__(self, secret: str | None = None, fail_share: float = 0.0, port: int = 0):
        self.secret = secret
        self.fail_share = fail_share
        self.requests: list[dict] = []
        self.answers: list[tuple[int, Any]] = []
        self.gate: threading.Event | None = None
        self.accepted: dict[str, int] = {}  # request id -> times answered with success
        self.refused_once: set[str] = set()
        self.bad_signatures = 0
        self.unparseable = 0
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/mom"

    def start(self) -> HttpRemote:
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = remote.answer(self.path, dict(self.headers), body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._server.daemon_threads = True
        self._port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def answer(self, path: str, headers: dict, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            queued = self.answers.pop(0) if self.answers else None
        if self.gate is not None:
            self.gate.wait(10)
        if queued is not None:
            return queued
        if self.secret is not None and not signing.verify(self.secret, body, headers.get(signing.HEADER)):
            with self._lock:
                self.bad_signatures += 1
            return 401, {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": "bad signature"}}
        try:
            request_id = json.loads(body).get("id")
        except (ValueError, AttributeError):
            request_id = None
        if self.secret is not None and not isinstance(request_id, str):
            with self._lock:
                self.unparseable += 1
            return 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "unreadable"}}
        with self._lock:
            if isinstance(request_id, str) and self._refuse_first_time(request_id):
                self.refused_once.add(request_id)
                return 500, {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32000, "message": "try again"}}
            if isinstance(request_id, str):
                self.accepted[request_id] = self.accepted.get(request_id, 0) + 1
        return 200, {"jsonrpc": "2.0", "id": request_id, "result": {}}

    def _refuse_first_time(self, request_id: str) -> bool:
        return request_id not in self.refused_once and zlib.crc32(request_id.encode()) % 1000 < self.fail_share * 1000

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
