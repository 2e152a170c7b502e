"""POST over kept-alive HTTP/1.1 connections, one per address and thread, answers read by httptools.

The bus's deliveries and the connector's requests are all POSTs of a body whose length is known, and
there are thousands of them in a lab (a full catalog export alone sends 6,000). requests spent about
0.5 ms of CPU on each and http.client about 0.2 (most of it reading the answer's headers through the
email package); a socket and httptools, the C parser uvicorn reads requests with, 0.06-0.08.

    answer = httppost.post("http://127.0.0.1:8100/api", body, {"Content-Type": "application/json"}, timeout=5)
    answer.status, answer.text

Errors are OSError: ConnectionRefusedError, TimeoutError (the socket's timeout, per send or read),
ssl.SSLError, or AnswerError for an answer that is cut off or not HTTP. A kept-alive connection the
server has closed meanwhile is reopened once, unless the request may have been read (a timeout).
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import httptools

READ_BYTES = 65536
KEPT = 16  # connections a thread keeps open: each lab 05 simulation starts a mock of its own, on a new port
Address = tuple[str, str, int]  # scheme, host, port


class AnswerError(OSError):
    """The server's answer was cut off, or is not HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Reading:
    """httptools' callbacks: the body as it comes, and whether the answer is complete."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.body: list[bytes] = []
        self.headers_done = False
        self.sized = False  # Content-Length or chunked: else the body ends when the server closes
        self.complete = False
        self.keep_alive = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self.sized = True

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def on_body(self, chunk: bytes) -> None:
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # asked later, the parser has moved on and says no


class _Connection:
    def __init__(self, address: Address, timeout: float):
        scheme, host, port = address
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.open = True

    def post(self, head: bytes, body: bytes, timeout: float) -> Answer:
        self.sock.settimeout(timeout)
        self.sock.sendall(head + body)
        reading = _Reading()
        while not reading.complete:
            data = self.sock.recv(READ_BYTES)
            if not data:
                self.close()
                if reading.headers_done and not reading.sized:
                    break  # the body ran to the end of the connection
                raise AnswerError("the server closed the connection before it answered in full")
            try:
                reading.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                raise AnswerError("the server switched protocols instead of answering") from None
            except httptools.HttpParserError as exc:
                raise AnswerError(f"the answer is not HTTP ({exc})") from None
        if not reading.keep_alive:
            self.close()
        return Answer(reading.parser.get_status_code(), b"".join(reading.body))

    def close(self) -> None:
        self.open = False
        self.sock.close()


_connections = threading.local()  # .pool: Address -> _Connection, per thread: a connection is not shared


def _pool() -> dict[Address, _Connection]:
    pool: dict[Address, _Connection] = _connections.__dict__.setdefault("pool", {})
    return pool


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` with `headers` (a Host among them replaces the url's) and return the answer."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// address")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    key: Address = (parts.scheme, parts.hostname, port)
    head = _head(parts.path or "/", parts.query, parts.netloc.rpartition("@")[2], body, headers)
    pool = _pool()
    reused = key in pool
    try:
        return _post_on(pool, key, head, body, timeout)
    except TimeoutError:
        raise
    except OSError:
        if not reused:
            raise
    return _post_on(pool, key, head, body, timeout)  # the kept-alive connection had gone stale: once more


def _post_on(pool: dict[Address, _Connection], key: Address, head: bytes, body: bytes, timeout: float) -> Answer:
    connection = pool.pop(key, None)
    if connection is None:
        connection = _Connection(key, timeout)
    pool[key] = connection  # the most recently used last
    while len(pool) > KEPT:
        pool.pop(next(iter(pool))).close()
    try:
        answer = connection.post(head, body, timeout)
    except BaseException:
        connection.close()
        raise
    finally:
        if not connection.open:
            pool.pop(key, None)
    return answer


def _head(path: str, query: str, netloc: str, body: bytes, headers: dict[str, str]) -> bytes:
    target = f"{path}?{query}" if query else path
    given = {name.lower() for name in headers}
    lines = [f"POST {target} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {netloc}")
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def close_all() -> None:
    """Close this thread's connections."""
    pool = _pool()
    for connection in pool.values():
        connection.close()
    pool.clear()
