"""Shared fixtures: a real mock MOM on a free port, real remotes, and helpers to talk to them.

Everything runs over HTTP on 127.0.0.1 against a real SQLite file; nothing is patched.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from momlab.bus.config import Config
from momlab.mock import Mock
from momlab.receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EXAMPLES = SHARED / "mom-examples"

ORDER_CREATE = "magento.sales.order_management.create"
UPDATED = "magento.sales.order_management.updated"
REQUEST_SHIPMENT = "magento.logistics.warehouse_management.request_shipment"
LINES_SHIPPED = "magento.logistics.warehouse_management.lines_shipped"
LINES_DECLINED = "magento.logistics.warehouse_management.lines_declined"
CHANGE_STATUS = "magento.logistics.shipment_request_management.lines_change_status"
SHIPMENT_DONE = "magento.logistics.fulfillment_management.customer_shipment_done"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
AGGREGATE_UPDATED = "magento.inventory.aggregate_stock_management.updated"
REGISTER = "magento.service_bus.remote.register"
UNREGISTER = "magento.service_bus.remote.unregister"

RPC_ROUTES = ("/api", "/remote/oms", "/delegate/oms", "/events")


def fast_config(**overrides) -> Config:
    """No flow delays, quick retries: a test waits milliseconds, not seconds."""
    settings = {"step_delay": 0.0, "backoff": 0.02, "max_attempts": 3, "delivery_timeout": 10.0}
    settings.update(overrides)
    return Config(**settings)


# -- the mock ---------------------------------------------------------------------------------------

_stopping: list[threading.Thread] = []


def stop_soon(server) -> None:
    """Stop a mock or receiver without waiting: uvicorn takes ~0.2 s to wind down, which over a few
    hundred tests would be most of the suite's time. The session waits for all of them at the end."""
    thread = threading.Thread(target=server.stop, daemon=True)
    thread.start()
    _stopping.append(thread)


@pytest.fixture(scope="session", autouse=True)
def _join_stopping():
    yield
    for thread in _stopping:
        thread.join(timeout=10)


@pytest.fixture
def start_mock(tmp_path) -> Callable[..., Mock]:
    """Start mocks with Config overrides; every one is stopped after the test."""
    started: list[Mock] = []

    def start(**overrides) -> Mock:
        mock = Mock(tmp_path / f"mom{len(started)}.sqlite", fast_config(**overrides)).start()
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.deliverer.stop()  # no delivery may outlive its test
        stop_soon(mock)


@pytest.fixture
def mock(start_mock) -> Mock:
    return start_mock()


# -- remotes ----------------------------------------------------------------------------------------


@pytest.fixture
def start_receiver() -> Callable[..., Receiver]:
    """Start Receivers (the learner-side remote); each is stopped after the test."""
    started: list[Receiver] = []

    def start(id: str = "wms", secret: str | None = "s3cret", handlers: dict | None = None, port: int = 0) -> Receiver:
        receiver = Receiver(handlers=handlers, secret=secret, id=id).start(port=port)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        stop_soon(receiver)


class RawRemote:
    """A bare HTTP remote that records each request exactly as it arrived (headers and raw bytes),
    so tests can check signatures and ids independently of momlab's own Receiver.

    `answers` is a list of (status, body) consumed one per request; when empty, it answers with a
    JSON-RPC success echoing the request id."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, Any]] = []
        self.gate: threading.Event | None = None  # when set to an Event, requests wait for it
        self._lock = threading.Lock()
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with remote._lock:
                    remote.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    answer = remote.answers.pop(0) if remote.answers else None
                if remote.gate is not None:
                    remote.gate.wait(10)
                if answer is None:
                    try:
                        request_id = json.loads(body).get("id")
                    except ValueError:
                        request_id = None
                    answer = (200, {"jsonrpc": "2.0", "id": request_id, "result": {}})
                status, payload = answer
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/mom"

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def raw_remote() -> Callable[[], RawRemote]:
    started: list[RawRemote] = []

    def start() -> RawRemote:
        remote = RawRemote()
        started.append(remote)
        return remote

    yield start
    for remote in started:
        remote.stop()


def free_port() -> int:
    """A port nobody listens on right now: a remote that is 'down'."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- talking to the bus -----------------------------------------------------------------------------


def post(mock: Mock, route: str, body: Any, token: bool = True, headers: dict | None = None) -> requests.Response:
    """POST anything (dict, list, str, bytes, generator) to a mock route and return the raw answer."""
    sent = {"Content-Type": "application/json"}
    if token:
        sent["Authorization"] = f"Bearer {mock.client.token()}"
    sent.update(headers or {})
    data = body if isinstance(body, (bytes, str)) or hasattr(body, "__next__") else json.dumps(body)
    return requests.post(mock.url + route, data=data, headers=sent, timeout=30)


def rpc(method: str, params: Any, id: Any = 1) -> dict:
    doc = {"jsonrpc": "2.0", "method": method, "params": params}
    if id is not None:
        doc["id"] = id
    return doc


def rpc_error(response: requests.Response, code: int | None = None, remote_failed: bool = False) -> dict:
    """The JSON-RPC error object of a refusal, after checking the envelope is well formed.
    Only a remote's failure on a synchronous call may be a 5xx (502, the bus as a gateway)."""
    assert response.status_code == 502 if remote_failed else response.status_code < 500, response.text[:500]
    assert response.headers["content-type"].startswith("application/json"), response.headers
    doc = response.json()
    assert doc["jsonrpc"] == "2.0"
    assert "error" in doc and "result" not in doc, doc
    error = doc["error"]
    assert isinstance(error["code"], int) and isinstance(error["message"], str) and error["message"].strip()
    if code is not None:
        assert error["code"] == code, doc
    return error


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll until predicate() returns something truthy; return it, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def deliveries(mock: Mock, **filters) -> list[dict]:
    return mock.client.journal(direction="out", **filters)


def wait_delivered(mock: Mock, method: str, count: int = 1, timeout: float = 10.0, **filters) -> list[dict]:
    def done():
        rows = [r for r in deliveries(mock, method=method, **filters) if r["status"] == "delivered"]
        return rows if len(rows) >= count else None

    return wait_for(done, timeout, f"{count} delivered {method}")


def register(mock: Mock, id: str, url: str, subscribes: list[str], secret: str | None = "s3cret") -> dict:
    params = {"id": id, "url": url, "subscribes": subscribes}
    if secret is not None:
        params["secret"] = secret
    return mock.client.call(REGISTER, params)


def order_params(order_id: str, skus: tuple[str, ...] = ("TEE-ORG-S",), store: str | None = "WEB-US") -> dict:
    """A small, complete order: one PHYSICAL line per SKU and a STANDARD shipping line."""
    address = {"reference": "A1", "address_type": "customer", "first_name": "Ada", "last_name": "Lovelace",
               "address1": "1 Main St", "city": "Springfield", "zip": "12345", "country_code": "US",
               "email": "ada@example.com"}
    lines = [
        {"id": f"L{n}", "line_number": n, "product_type": "PHYSICAL", "sku": sku, "product_name": sku,
         "shipping_address_reference": "A1", "amount": {"gross_amount": 10, "currency": "USD"}}
        for n, sku in enumerate(skus, start=1)
    ]
    lines.append({"id": "SHIPPING", "line_number": len(skus) + 1, "product_type": "SHIPPING", "sku": "STANDARD",
                  "product_name": "Shipping", "shipping_address_reference": "A1"})
    order = {"id": order_id, "store": store, "addresses": [address], "customer": {"id": "c1", "type": "GUEST"},
             "payments": [{"reference": "P1", "currency": "USD",
                           "transactions": [{"payment_method": "ZEROPAY", "amount": 10 * len(skus),
                                             "billing_address_reference": "A1"}]}],
             "lines": lines}
    return {"order": order}


# -- public examples --------------------------------------------------------------------------------


def example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        pytest.skip(f"the public examples folder is missing ({EXAMPLES}); it sits beside the repository in shared/")
    return sorted(EXAMPLES.glob("*.json"))


def complete_examples() -> list[tuple[str, dict]]:
    """Every example that is a whole JSON-RPC request (it has a `jsonrpc` member)."""
    found = []
    for path in example_files():
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and "jsonrpc" in doc:
            found.append((path.name, doc))
    if not found:
        pytest.skip(f"no complete JSON-RPC request in {EXAMPLES}")
    return found


# -- the standalone server (python -m momlab serve) -------------------------------------------------


class Served:
    """`python -m momlab serve` in a child process; `url` is read from the first line it prints."""

    def __init__(self, *args: str, timeout: float = 30.0):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "momlab", "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()
            raise AssertionError(f"momlab serve printed nothing within {timeout} s")
        self.first_line = self.proc.stdout.readline()
        if not self.first_line:
            self.proc.wait(5)
            raise AssertionError(f"momlab serve exited with {self.proc.returncode}: {self.proc.stderr.read()}")
        match = re.search(r"http://[\d.]+:\d+", self.first_line)
        assert match, self.first_line
        self.url = match.group(0)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine loses power or a kernel is killed."""
        self.proc.kill()
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(10)


@pytest.fixture
def serve() -> Callable[..., Served]:
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(*args)
        started.append(served)
        return served

    yield start
    for served in started:
        if served.proc.poll() is None:
            served.kill()
        if not served.proc.stderr.closed:
            # shown by pytest only when the test failed: the server's own account of what went wrong
            print(f"--- stderr of momlab serve ({served.url}) ---\n{served.proc.stderr.read()[-5000:]}")
        served.proc.stdout.close()
        served.proc.stderr.close()


def run_cli(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run `python -m momlab ...` to completion (for the ways it must refuse to start)."""
    return subprocess.run([sys.executable, "-m", "momlab", *args], capture_output=True, text=True, timeout=timeout)
