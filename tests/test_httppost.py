"""momlab.bus.httppost against a socket server that answers each request the way a test scripts it."""

from __future__ import annotations

import socket
import threading
import time

import httptools
import pytest

from momlab.bus import httppost
from tests.support.servers import down_port

OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok": true}'


class Request:
    def __init__(self) -> None:
        self.headers: dict[str, str] = {}
        self.body = b""
        self.url = b""
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        self.complete = True


class ScriptedServer:
    """Answers the n-th request with `answers[n]`: bytes to send, then "close" to hang up, or "hang" to
    send nothing and keep the connection open. Counts connections and keeps every request."""

    def __init__(self, answers: list) -> None:
        self.answers = list(answers)
        self.requests: list[Request] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}/api"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                request = Request()
                parser = httptools.HttpRequestParser(request)
                while not request.complete:
                    data = conn.recv(65536)
                    if not data:
                        return
                    parser.feed_data(data)
                self.requests.append(request)
                for step in self.answers.pop(0):
                    if step == "close":
                        return
                    if step == "hang":
                        time.sleep(3)
                        return
                    conn.sendall(step)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve():
    servers: list[ScriptedServer] = []

    def start(*answers) -> ScriptedServer:
        servers.append(ScriptedServer(list(answers)))
        return servers[-1]

    yield start
    httppost.close_all()
    for server in servers:
        server.close()


def test_posts_share_one_kept_alive_connection_and_send_what_they_are_given(serve):
    server = serve([OK], [OK])
    first = httppost.post(server.url + "?x=1", b'{"a": 1}', {"Content-Type": "application/json", "X-Sig": "abc"}, timeout=5)
    second = httppost.post(server.url, b"{}", {}, timeout=5)
    assert (first.status, first.text, second.status) == (200, '{"ok": true}', 200)
    assert server.connections == 1
    sent = server.requests[0]
    assert sent.url == b"/api?x=1" and sent.body == b'{"a": 1}'
    assert sent.headers["content-length"] == "8" and sent.headers["x-sig"] == "abc"
    assert sent.headers["host"] == server.url.split("/")[2]


def test_a_given_host_header_replaces_the_urls(serve):
    server = serve([OK])
    httppost.post(server.url, b"{}", {"Host": "wms.example:443"}, timeout=5)
    assert server.requests[0].headers["host"] == "wms.example:443"


def test_a_chunked_answer_is_read_whole(serve):
    chunked = b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    server = serve([chunked], [OK])
    answer = httppost.post(server.url, b"{}", {}, timeout=5)
    assert (answer.status, answer.body) == (201, b"hello world")
    assert httppost.post(server.url, b"{}", {}, timeout=5).status == 200 and server.connections == 1


def test_connection_close_and_an_answer_that_runs_to_the_end_of_the_connection(serve):
    to_the_end = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"
    server = serve([to_the_end, "close"], [OK])
    assert httppost.post(server.url, b"{}", {}, timeout=5).body == b"all of it"
    assert httppost.post(server.url, b"{}", {}, timeout=5).status == 200
    assert server.connections == 2


def test_a_kept_alive_connection_the_server_dropped_is_reopened_once(serve):
    server = serve([OK, "close"], [OK])  # answers as if it kept the connection, then hangs up
    httppost.post(server.url, b"{}", {}, timeout=5)
    time.sleep(0.1)
    assert httppost.post(server.url, b"{}", {}, timeout=5).status == 200
    assert server.connections == 2 and len(server.requests) == 2


@pytest.mark.parametrize("answer,words", [
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.", "close"], "before it answered in full"),
    ([b"SSH-2.0-OpenSSH_9.2\r\n", "close"], "not HTTP"),
    (["close"], "before it answered in full"),
], ids=["cut-off", "not-http", "no-answer"])
def test_a_broken_answer_on_a_new_connection_is_an_error_and_not_sent_again(serve, answer, words):
    server = serve(answer, [OK])
    with pytest.raises(httppost.AnswerError, match=words):
        httppost.post(server.url, b"{}", {}, timeout=5)
    assert len(server.requests) == 1


def test_a_timeout_is_not_sent_again(serve):
    server = serve(["hang"], [OK])
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        httppost.post(server.url, b"{}", {}, timeout=0.3)
    assert time.monotonic() - started < 2.5 and len(server.requests) == 1


def test_nothing_listening_and_not_an_http_address():
    with pytest.raises(ConnectionRefusedError):
        httppost.post(f"http://127.0.0.1:{down_port()}/api", b"{}", {}, timeout=5)
    with pytest.raises(ValueError, match="not an http"):
        httppost.post("ftp://example.com/x", b"{}", {}, timeout=5)


def test_a_thread_keeps_only_its_most_recently_used_connections(serve):
    servers = [serve(*[[OK]] * 2) for _ in range(httppost.KEPT + 2)]
    for server in servers:
        httppost.post(server.url, b"{}", {}, timeout=5)
    httppost.post(servers[-1].url, b"{}", {}, timeout=5)  # the newest is reused
    assert len(httppost._pool()) == httppost.KEPT and servers[-1].connections == 1
    httppost.post(servers[0].url, b"{}", {}, timeout=5)  # the oldest was closed: a new connection
    assert servers[0].connections == 2
