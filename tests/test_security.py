"""Security properties the other test files leave open. Already covered elsewhere, and not repeated:
tokens on the four bus routes and their expiry (test_auth), signed deliveries and the receiver's
refusal of a bad signature (test_remotes_and_delivery, test_receiver, test_status), 1 MiB bodies on
the bus and the token route (test_envelope, test_auth), the env.php reader never evaluating
(test_connector_phparray), escaping on the status page (test_status) and in the browser (test_browser).
"""

from __future__ import annotations

import ast
import re
import socket
from pathlib import Path

import pytest
import requests
from starlette.routing import Route

from momlab import data
from momlab.bus import jsonrpc
from momlab.bus.app import create_app
from momlab.connector import envphp
from momlab.connector.phparray import PhpReadError
from momlab.receiver import Receiver
from momlab.topics import ORDER_CREATE
from tests.support.builders import order_params
from tests.support.mocks import wait_for
from tests.support.paths import ROOT
from tests.support.rpc import post, rpc
from tests.support.servers import StandaloneServer

SRC = ROOT / "src" / "momlab"


# -- loopback by default ------------------------------------------------------------------------------

def _listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on for `port`, from the kernel's own table."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]) if len(address) == 8 else address)
    return found


needs_proc = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc/net/tcp")


@needs_proc
def test_the_embedded_mock_and_a_receiver_listen_on_loopback_only(mock, start_receiver):
    receiver = start_receiver()
    for url in (mock.url, receiver.url):
        port = int(re.search(r":(\d+)", url.removeprefix("http://")).group(1))
        assert _listening_addresses(port) == {"127.0.0.1"}, url


@needs_proc
def test_momlab_serve_listens_on_loopback_unless_told_otherwise(tmp_path):
    served = StandaloneServer("--port", "0", "--db", str(tmp_path / "m.sqlite"))
    try:
        port = int(served.url.rsplit(":", 1)[1])
        assert served.url.startswith("http://127.0.0.1:")
        assert _listening_addresses(port) == {"127.0.0.1"}
    finally:
        served.kill()


# -- no writing route without a valid token -------------------------------------------------------------

def _writing_routes(mock) -> list[tuple[str, str]]:
    """(method, path) of every route of the mock that changes something: all but GET and the token route."""
    app = create_app(mock.bus, mock.deliverer)
    found = []
    for route in app.routes:
        assert isinstance(route, Route), f"{route!r}: a mounted app or static folder would escape these checks"
        for method in sorted(route.methods - {"GET", "HEAD"}):
            if route.path != "/oauth/token":
                path = re.sub(r"\{(\w+):int\}", "1", route.path)
                found.append((method, re.sub(r"\{\w+\}", "oms", path)))
    return found


def test_every_writing_route_is_known_to_this_test(mock):
    # a new route that changes state must be added to the checks below on purpose
    assert {path for _, path in _writing_routes(mock)} == {
        "/api", "/api/", "/remote/oms", "/delegate/oms", "/events", "/journal/1/retry", "/admin/sales_channels",
        "/status/incidents", "/status/incidents/1/updates", "/status/subscriptions", "/status/subscriptions/1"}


@pytest.mark.parametrize("authorization", [None, "Bearer made-up", "Bearer ", "Basic bW9tbGFiOm1vbWxhYi1zZWNyZXQ=", "expired"])
def test_no_writing_route_answers_without_a_valid_token(start_mock, authorization):
    mock = start_mock(token_ttl=0.3)
    if authorization == "expired":
        token = mock.client.token()
        wait_for(lambda: mock.bus.tokens.problem(f"Bearer {token}"), what="the token to expire")
        authorization = f"Bearer {token}"
    journal_before = len(mock.client.journal())
    headers = {"Content-Type": "application/json", **({"Authorization": authorization} if authorization else {})}
    body = rpc(ORDER_CREATE, order_params("NO-TOKEN-1"))
    for method, path in _writing_routes(mock):
        answer = requests.request(method, mock.url + path, json=body, headers=headers, timeout=10)
        assert answer.status_code == 401, (method, path, answer.status_code, answer.text[:300])
    assert mock.client.state("orders") == [] and mock.client.state("remotes") == []
    assert requests.get(mock.url + "/status/incidents", timeout=5).json() == []
    # what was refused is journaled as refused, never carried out
    refused = mock.client.journal(since=journal_before)
    assert refused and {row["status"] for row in refused if row["direction"] == "in"} == {"rejected"}


# -- constant-time secrets ------------------------------------------------------------------------------

SECRET_WORDS = re.compile(r"secret|signature|password|access_token|bearer", re.IGNORECASE)
# comparisons that are not checks of a caller's secret: the env.php checker warns when two of the
# learner's own settings are the same text.
NOT_A_CHECK = {("connector/envphp.py", "secret == client_secret")}


def _names(node: ast.AST) -> str:
    return " ".join(n.id if isinstance(n, ast.Name) else n.attr for n in ast.walk(node) if isinstance(n, (ast.Name, ast.Attribute)))


def test_secrets_are_compared_in_constant_time_only():
    plain, digests = [], []
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                operands = [node.left, *node.comparators]
                against_a_constant = any(isinstance(o, ast.Constant) for o in operands)  # e.g. `secret == ""`: no secret leaks
                if any(SECRET_WORDS.search(_names(o)) for o in operands) and not against_a_constant \
                        and (relative, ast.unparse(node)) not in NOT_A_CHECK:
                    plain.append(f"{relative}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "hmac.compare_digest":
                digests.append(relative)
    assert plain == []
    assert {"bus/auth.py", "bus/signing.py"} <= set(digests)  # client secrets and delivery signatures


def test_every_signature_check_goes_through_signing_verify():
    users = [p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py") if "signing.verify(" in p.read_text(encoding="utf-8")]
    assert {"receiver.py", "status.py", "connector/endpoint.py"} <= set(users)


# -- bodies are capped, and refused before they are read -------------------------------------------------

def _declare_huge_body(url: str, method: str, path: str, token: str) -> bytes:
    """Send only the headers of a request that says it carries 100 MB; return what the server answers
    within 5 s (a server that waited for the body would answer nothing)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                     f"Authorization: Bearer {token}\r\nContent-Length: 100000000\r\n\r\n{{".encode())
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


def test_an_announced_huge_body_is_refused_without_being_read(mock):
    token = mock.client.token()
    for method, path in [("POST", "/oauth/token")] + [r for r in _writing_routes(mock) if r[0] == "POST"]:
        if path.endswith("/retry"):
            continue  # takes no body
        head = _declare_huge_body(mock.url, method, path, token)
        assert head.startswith(b"HTTP/1.1 413"), (path, head[:200])


def test_a_chunked_body_over_the_limit_is_refused(mock):
    chunk = b"x" * 65536
    for path in ("/api", "/admin/sales_channels", "/status/incidents"):
        answer = post(mock, path, (chunk for _ in range(jsonrpc.MAX_BODY_BYTES // len(chunk) + 2)))
        assert answer.status_code == 413, (path, answer.text[:200])


# -- nothing serves files --------------------------------------------------------------------------------

TRAVERSALS = ["/../pyproject.toml", "/%2e%2e/%2e%2e/etc/passwd", "/catalog/..%2f..%2fpyproject.toml", "/state/..%2f..%2f..%2fetc%2fpasswd",
              "/journal/..%2f..%2fpyproject.toml", "/status/..%2f..%2fpyproject.toml", "/static/../../pyproject.toml",
              "/catalog/%2e%2e%2f%2e%2e%2f%2e%2e%2fdata%2fstock.csv", "//etc/passwd", "/messages/magento.service_bus.remote.register.json"]


def test_no_path_reads_a_file(mock):
    pyproject = (ROOT / "pyproject.toml").read_text()
    for path in TRAVERSALS:
        with socket.create_connection(("127.0.0.1", mock.url.rsplit(":", 1)[1]), timeout=5) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())  # sent as is, not normalised
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split()[1] in (b"404", b"400"), (path, head[:100])
        assert b"root:" not in body and b"[project]" not in body and b"source_id,sku" not in body and b"params_schema" not in body, path
        assert pyproject[:200].encode() not in body


def test_the_data_helper_stays_in_its_folder():
    for name in ("../pyproject.toml", "../../etc/passwd", "/etc/passwd", "sub/../../README.md"):
        with pytest.raises((ValueError, FileNotFoundError)):
            data.path(name)
    assert data.path("products.csv").parent == data.folder().resolve()


# -- the journal page shows text, never markup --------------------------------------------------------------

def test_the_journal_page_puts_values_in_as_text_only(mock):
    nasty = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    post(mock, "/api", rpc(ORDER_CREATE, order_params(nasty)))
    page = requests.get(mock.url + "/", timeout=5)
    assert nasty not in page.text and "<img" not in page.text  # the page is static: data comes as JSON
    assert "script-src" in page.headers["Content-Security-Policy"]
    rows = requests.get(mock.url + "/journal", timeout=5)
    assert rows.headers["content-type"].startswith("application/json") and nasty in rows.json()[-1]["body"]["params"]["order"]["id"]
    script = (SRC / "bus" / "journal.html").read_text(encoding="utf-8")
    assert "textContent" in script
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function", script)


# -- env.php is read, never run ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", [
    "system('touch {marker}')", "exec('touch {marker}')", "`touch {marker}`", "file_put_contents('{marker}', 'x')",
    "(function () {{ touch('{marker}'); return 'x'; }})()", "include '{marker}'", "$_ENV['X'] . touch('{marker}')",
])
def test_php_code_in_env_php_is_refused_and_has_no_effect(tmp_path, code):
    marker = tmp_path / "ran"
    source = ("<?php\nreturn ['serviceBus' => ['url' => 'http://127.0.0.1:8765/', 'oauth_server_url' => 'http://127.0.0.1:8765/',"
              f" 'oauth_client_id' => 'momlab', 'oauth_client_secret' => {code.format(marker=marker)}, 'application_id' => 'mdc',"
              " 'secret' => 's', 'secure_endpoint' => false]];\n")
    with pytest.raises(PhpReadError):
        envphp.check(source)
    assert not marker.exists()


def test_a_receiver_refuses_a_body_signed_for_another_body(start_receiver):
    receiver: Receiver = start_receiver(handlers={ORDER_CREATE: lambda params: {}})
    from momlab.bus import signing

    body = b'{"jsonrpc":"2.0","id":"d1","method":"%s","params":{}}' % ORDER_CREATE.encode()
    other = body.replace(b"d1", b"d2")
    answer = requests.post(receiver.url, data=other, headers={signing.HEADER: signing.sign("s3cret", body)}, timeout=5)
    assert answer.status_code == 401 and receiver.log[-1]["signature"] == "bad" and receiver.log[-1]["outcome"] == "refused"
    answer = requests.post(receiver.url, data=body, headers={signing.HEADER: signing.sign("s3cret", body).upper()}, timeout=5)
    assert answer.status_code == 401
