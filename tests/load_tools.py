"""Load against a standalone mock: the server process, signed subscribers, clients and the checks.

Shared by tests/test_load.py (short runs) and bench/load.py (the full 8 x 2,500 run). Each client
sends a mix of order creates, stock updates, shipments, queries and invalid messages on one
kept-alive connection, and writes down what the bus answered to each. The checks then read the
SQLite journal itself: what was acknowledged is there exactly once, and every delivery has ended.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from momlab import orders
from momlab.bus import signing

ORDER_CREATE = "magento.sales.order_management.create"
UPDATED = "magento.sales.order_management.updated"
REQUEST_SHIPMENT = "magento.logistics.warehouse_management.request_shipment"
LINES_SHIPPED = "magento.logistics.warehouse_management.lines_shipped"
SHIPMENT_DONE = "magento.logistics.fulfillment_management.customer_shipment_done"
STOCK_UPDATE = "magento.inventory.source_stock_management.update"
AGGREGATE_UPDATED = "magento.inventory.aggregate_stock_management.updated"
SHIPMENT_SEARCH = "magento.logistics.shipment_request_repository.search"
SOURCE_SEARCH = "magento.inventory.source_repository.search"
REGISTER = "magento.service_bus.remote.register"

SKUS = ("TEE-ORG-S", "TEE-ORG-L", "JEAN-IND-32", "BAG-TOTE", "CANDLE-CEDAR", "GIFTWRAP")
FINAL = ("delivered", "failed", "no_subscriber")
WAITING = ("pending", "retrying")

# kind -> weight in the mix
MIX = {"create": 30, "stock": 12, "ship": 15, "search": 10, "sources": 10, "unknown_method": 4, "bad_params": 6,
       "duplicate_order": 5, "positional": 3, "bad_json": 5}


# -- the server ---------------------------------------------------------------------------------------

class Standalone:
    """`python -m momlab serve` on a free port of 127.0.0.1; stderr goes to a file beside the database
    (a pipe nobody reads would fill up and stall the server under load)."""

    def __init__(self, db: Path, *extra: str, timeout: float = 30.0):
        self.db = Path(db)
        self.log_path = self.db.with_suffix(f".stderr-{time.monotonic_ns()}.log")
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "momlab", "serve", "--port", "0", "--db", str(self.db), "--delay", "0", *extra],
            stdout=subprocess.PIPE, stderr=self._log, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        first = _first_line(self.proc, timeout)
        match = re.search(r"http://[\d.]+:\d+", first)
        if not match:
            self.kill()
            raise RuntimeError(f"momlab serve did not print its URL: {first!r}; stderr: {self.stderr()[-2000:]}")
        self.url = match.group(0)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self._close()

    def stop(self) -> int:
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


def _first_line(proc: subprocess.Popen, timeout: float) -> str:
    import select

    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        proc.wait(10)
        raise RuntimeError(f"momlab serve printed nothing within {timeout} s")
    return proc.stdout.readline()


def token(url: str) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("POST", "/oauth/token", "grant_type=client_credentials&client_id=momlab&client_secret=momlab-secret",
                 {"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    doc = json.loads(answer.read())
    conn.close()
    return doc["access_token"]


def call(url: str, bearer: str, method: str, params: dict) -> dict:
    """One request on a fresh connection; the result, or an AssertionError with the error."""
    status, doc = _post(url, bearer, json.dumps({"jsonrpc": "2.0", "id": "setup", "method": method, "params": params}).encode())
    assert status == 200 and "result" in doc, (status, doc)
    return doc["result"]


def _post(url: str, bearer: str, body: bytes) -> tuple[int, dict | None]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("POST", "/api", body, {"Content-Type": "application/json", "Authorization": f"Bearer {bearer}"})
        answer = conn.getresponse()
        payload = answer.read()
        return answer.status, (json.loads(payload) if payload else None)
    finally:
        conn.close()


# -- subscribers --------------------------------------------------------------------------------------

class Subscriber:
    """A remote that checks each delivery's signature and records its id. A delivery whose id hashes
    into `fail_share` is refused (HTTP 500) the first time, so the bus must retry it."""

    def __init__(self, secret: str, fail_share: float = 0.0, port: int = 0):
        self.secret = secret
        self.fail_share = fail_share
        self.accepted: dict[str, int] = {}  # delivery id -> times answered with success
        self.refused_once: set[str] = set()
        self.bad_signatures = 0
        self.unparseable = 0
        self._lock = threading.Lock()
        self._port = port
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Subscriber:
        subscriber = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, answer = subscriber.handle(body, self.headers.get(signing.HEADER))
                data = json.dumps(answer).encode()
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
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}/mom"

    def handle(self, body: bytes, signature: str | None) -> tuple[int, dict]:
        if not signing.verify(self.secret, body, signature):
            with self._lock:
                self.bad_signatures += 1
            return 401, {"jsonrpc": "2.0", "id": None, "error": {"code": -32001, "message": "bad signature"}}
        try:
            delivery_id = json.loads(body)["id"]
        except (ValueError, KeyError, TypeError):
            with self._lock:
                self.unparseable += 1
            return 400, {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "unreadable"}}
        with self._lock:
            if delivery_id not in self.refused_once and zlib.crc32(delivery_id.encode()) % 1000 < self.fail_share * 1000:
                self.refused_once.add(delivery_id)
                return 500, {"jsonrpc": "2.0", "id": delivery_id, "error": {"code": -32000, "message": "try again"}}
            self.accepted[delivery_id] = self.accepted.get(delivery_id, 0) + 1
        return 200, {"jsonrpc": "2.0", "id": delivery_id, "result": {}}

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def reserve_port() -> int:
    """A port nobody listens on yet: a subscriber that is down until it starts there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SUBSCRIPTIONS = {"wms": [REQUEST_SHIPMENT], "erp": [UPDATED], "mdc": [SHIPMENT_DONE, AGGREGATE_UPDATED]}


def register_all(url: str, bearer: str, subscribers: dict[str, Subscriber]) -> None:
    for remote_id, topics in SUBSCRIPTIONS.items():
        sub = subscribers[remote_id]
        call(url, bearer, REGISTER, {"id": remote_id, "url": sub.url, "subscribes": topics, "secret": sub.secret})


# -- clients ------------------------------------------------------------------------------------------

@dataclass
class Target:
    """Where the clients send: changes when the mock is restarted after a crash."""

    url: str
    bearer: str
    generation: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)

    def move(self, url: str, bearer: str) -> None:
        with self.changed:
            self.url, self.bearer = url, bearer
            self.generation += 1
            self.changed.notify_all()


@dataclass
class Outcome:
    kind: str
    status: int | None  # HTTP status; None when the connection broke before an answer
    code: int | None = None  # JSON-RPC error code
    body: bytes = b""


@dataclass
class Ledger:
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # request id -> what the client saw
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # answers that break JSON-RPC 2.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self) -> list[str]:
        return [rid for rid, o in self.outcomes.items() if o.status is not None and 200 <= o.status < 300]

    def refused(self) -> list[str]:
        return [rid for rid, o in self.outcomes.items() if o.status is not None and 400 <= o.status < 500]

    def server_errors(self) -> dict[str, Outcome]:
        return {rid: o for rid, o in self.outcomes.items() if o.status is not None and o.status >= 500}

    def unknown(self) -> list[str]:
        return [rid for rid, o in self.outcomes.items() if o.status is None]


def message(kind: str, request_id: str, rng: random.Random, state: dict) -> tuple[str, bytes]:
    """The kind actually sent (a shipment needs an order first) and the bytes of the request;
    `state` is this client's memory (its orders, the shipment requests it has not shipped yet)."""
    if kind == "ship" and not state["to_ship"]:
        kind = "search"
    if kind in ("search", "duplicate_order") and not state["orders"]:
        kind = "create"
    return kind, _body(kind, request_id, rng, state)


def _body(kind: str, request_id: str, rng: random.Random, state: dict) -> bytes:
    def rpc(method: str, params) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}).encode()

    if kind == "create":
        order_id = f"O-{request_id}"
        state["pending_order"] = order_id
        return rpc(ORDER_CREATE, orders.order_params(order_id, [rng.choice(SKUS) for _ in range(rng.randint(1, 3))]))
    if kind == "stock":
        stock = [{"sku": sku, "quantity": rng.randint(500, 5000)} for sku in rng.sample(SKUS[:-1], 3)]
        return rpc(STOCK_UPDATE, {"snapshot": {"source_id": rng.choice(("WH-EAST", "WH-WEST")), "mode": "DELTA",
                                               "created_on": "2026-11-27T06:00:00+00:00", "stock": stock}})
    if kind == "ship":
        request, lines = state["to_ship"].pop(0)
        return rpc(LINES_SHIPPED, {"request_id": request, "items": [{"order_line_id": line} for line in lines]})
    if kind == "search":
        return rpc(SHIPMENT_SEARCH, {"query": {"order_id": rng.choice(state["orders"])}, "offset": 0, "size": 10})
    if kind == "sources":
        return rpc(SOURCE_SEARCH, {"query": {}})
    if kind == "unknown_method":
        return rpc("magento.sales.order_management.creat", {"order": {"id": request_id}})
    if kind == "bad_params":
        return rpc(ORDER_CREATE, {"order": {"id": f"O-{request_id}", "store": "WEB-US", "lines": "none"}})
    if kind == "duplicate_order":
        return rpc(ORDER_CREATE, orders.order_params(rng.choice(state["orders"]), ["TEE-ORG-S"]))
    if kind == "positional":
        return rpc(SOURCE_SEARCH, [{"query": {}}])
    if kind == "bad_json":  # cut short: unreadable, so the journal knows it by its body only
        return rpc(SOURCE_SEARCH, {"query": {}})[:-9]
    raise ValueError(kind)


def run_client(target: Target, client_no: int, count: int, ledger: Ledger, seed: int = 0, wait_for_restart: float = 0.0) -> None:
    """Send `count` messages; when the connection breaks, note the message as unknown and, if
    `wait_for_restart`, wait that long for the mock to come back and go on."""
    rng = random.Random(seed * 1000 + client_no)
    kinds, weights = list(MIX), list(MIX.values())
    state: dict = {"orders": [], "to_ship": [], "pending_order": None}
    conn, generation = None, -1
    for n in range(count):
        request_id = f"c{client_no}-{n}"
        kind, body = message(rng.choices(kinds, weights)[0], request_id, rng, state)
        if conn is None or generation != target.generation:
            if conn is not None:
                conn.close()
            conn, generation = _connect(target.url), target.generation
        start = time.perf_counter()
        try:
            conn.request("POST", "/api", body, {"Content-Type": "application/json", "Authorization": f"Bearer {target.bearer}"})
            answer = conn.getresponse()
            payload = answer.read()
        except (OSError, http.client.HTTPException):
            with ledger.lock:
                ledger.outcomes[request_id] = Outcome(kind, None, body=body)
            conn.close()
            conn = None
            state["pending_order"] = None
            if not wait_for_restart:
                return
            broken = generation
            with target.changed:
                if not target.changed.wait_for(lambda: target.generation != broken, wait_for_restart):  # noqa: B023 - called at once
                    return
            continue
        elapsed = time.perf_counter() - start
        outcome, problem = _judge(kind, request_id, answer.status, payload, body)
        if outcome.status == 200 and kind == "create":
            result = json.loads(payload)["result"]
            state["orders"].append(state["pending_order"])
            lines = [line["id"] for line in json.loads(body)["params"]["order"]["lines"] if line["product_type"] != "SHIPPING"]
            state["to_ship"].extend((request, lines) for request in result.get("shipment_requests", [])[:1])
        with ledger.lock:
            ledger.outcomes[request_id] = outcome
            ledger.latencies.append(elapsed)
            if problem:
                ledger.problems.append(f"{request_id} ({kind}): {problem}")
    if conn is not None:
        conn.close()


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def _judge(kind: str, request_id: str, status: int, payload: bytes, body: bytes) -> tuple[Outcome, str | None]:
    """What the answer was, and what (if anything) is wrong with it as JSON-RPC 2.0."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return Outcome(kind, status, body=body), f"HTTP {status} with a body that is not JSON: {payload[:200]!r}"
    problem = conformance_problem(doc, status)
    code = doc["error"]["code"] if isinstance(doc, dict) and isinstance(doc.get("error"), dict) else None
    expected_id = None if kind in ("bad_json",) else request_id
    if problem is None and isinstance(doc, dict) and doc.get("id") != expected_id:
        problem = f"the answer's id {doc.get('id')!r} is not the request's {expected_id!r}"
    return Outcome(kind, status, code, body=body), problem


SERVER_CODES = range(-32099, -31999)
STANDARD_CODES = (-32700, -32600, -32601, -32602, -32603)


def conformance_problem(doc, status: int) -> str | None:
    """None when `doc` is a JSON-RPC 2.0 response fit for `status`; else what is wrong."""
    if not isinstance(doc, dict):
        return f"the answer is not an object: {str(doc)[:200]}"
    if doc.get("jsonrpc") != "2.0":
        return "jsonrpc is not '2.0'"
    if "id" not in doc:
        return "no id member"
    if ("result" in doc) == ("error" in doc):
        return "result and error must be exactly one of the two"
    if "result" in doc:
        return None if 200 <= status < 300 else f"a result with HTTP {status}"
    error = doc["error"]
    if not isinstance(error, dict):
        return f"error is not an object: {error!r}"
    code = error.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or not (code in STANDARD_CODES or code in SERVER_CODES):
        return f"error code {code!r} is outside the JSON-RPC ranges"
    if not isinstance(error.get("message"), str) or not error["message"].strip():
        return "error message is not a non-empty string"
    data = error.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        return f"error data has no path: {str(data)[:200]}"
    if 200 <= status < 300:
        return f"an error with HTTP {status}"
    return None


def run_clients(target: Target, clients: int, count: int, ledger: Ledger, seed: int = 0, wait_for_restart: float = 0.0) -> list[threading.Thread]:
    threads = [threading.Thread(target=run_client, args=(target, n, count, ledger, seed, wait_for_restart), name=f"load-client-{n}", daemon=True)
               for n in range(clients)]
    for thread in threads:
        thread.start()
    return threads


# -- a whole run ------------------------------------------------------------------------------------

def scenario(clients: int, messages: int, crash: bool, folder: Path, refuse: float = 0.01, settle: float = 600.0) -> dict:
    """Register three signed subscribers, run the clients, wait for every delivery to end, and
    compare the journal with what the clients were told. `findings` in the answer is empty when
    nothing was lost, doubled, left waiting or answered with a 5xx or a malformed error."""
    db = folder / "load.sqlite"
    subscribers = {"wms": Subscriber("wms-secret", refuse).start(), "mdc": Subscriber("mdc-secret", refuse).start()}
    erp_port = reserve_port()
    # with --crash the ERP is down until the restart, so deliveries are owed to it when the mock dies
    subscribers["erp"] = Subscriber("erp-secret", port=erp_port) if crash else Subscriber("erp-secret", refuse).start()
    servers = [Standalone(db)]
    ledger = Ledger()
    facts: dict = {}
    try:
        target = Target(servers[0].url, token(servers[0].url))
        register_all(target.url, target.bearer, subscribers)
        started = time.perf_counter()
        threads = run_clients(target, clients, messages, ledger, wait_for_restart=60.0 if crash else 0.0)
        if crash:
            goal = clients * messages // 3
            while len(ledger.outcomes) < goal and any(t.is_alive() for t in threads):
                time.sleep(0.01)
            servers[0].kill()
            facts["answered_before_kill"] = len(ledger.outcomes)
            facts["owed_at_kill"] = waiting_deliveries(db)
            subscribers["erp"].start()
            servers.append(Standalone(db))
            target.move(servers[1].url, token(servers[1].url))
        for thread in threads:
            thread.join(settle)
        facts["clients_stuck"] = sum(t.is_alive() for t in threads)
        elapsed = time.perf_counter() - started
        left = wait_deliveries_final(db, settle)
        settled = time.perf_counter() - started
        if crash:
            facts["received_by_erp_after_restart"] = len(subscribers["erp"].accepted)
        rows = read_journal(db)
        findings = journal_findings(ledger, rows)
        findings.update(delivery_findings(rows, subscribers, exactly_once=not crash))
    finally:
        for server in servers:
            server.stop()
        for sub in subscribers.values():
            sub.stop()
    answered = len(ledger.latencies)
    ordered = sorted(ledger.latencies)
    return {
        "clients": clients, "messages": clients * messages, "answered": answered, "seconds": round(elapsed, 2),
        "rate": round(answered / elapsed, 1), "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 2),
        "acknowledged": len(ledger.acknowledged()), "refused": len(ledger.refused()), "unknown": len(ledger.unknown()),
        "waiting_at_end": left, "all_final_after_s": round(settled, 2), **facts, **summary(rows, subscribers),
        "findings": {k: v[:5] for k, v in findings.items() if v},
    }


# -- what the journal says --------------------------------------------------------------------------

def read_journal(db: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT id, direction, method, request_id, remote, body, status FROM journal ORDER BY id").fetchall()
    finally:
        conn.close()


def waiting_deliveries(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT COUNT(*) FROM journal WHERE direction = 'out' AND status IN ('pending', 'retrying')").fetchone()[0]
    finally:
        conn.close()


def wait_deliveries_final(db: Path, timeout: float) -> int:
    """Wait until no delivery waits; the number still waiting (0 when all ended)."""
    deadline = time.monotonic() + timeout
    while (left := waiting_deliveries(db)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def journal_findings(ledger: Ledger, rows: list[sqlite3.Row]) -> dict[str, list]:
    """Compare what the clients were told with the journal. Every list in the answer should be empty."""
    inbound: dict[str, list[str]] = {}
    unreadable: dict[str, int] = {}
    for row in rows:
        if row["direction"] != "in":
            continue
        request_id = json.loads(row["request_id"]) if row["request_id"] else None
        if isinstance(request_id, str):
            inbound.setdefault(request_id, []).append(row["status"])
        else:
            unreadable[row["body"]] = unreadable.get(row["body"], 0) + 1
    findings: dict[str, list] = {"acknowledged_missing": [], "acknowledged_twice": [], "refused_not_journaled_once": [],
                                 "unknown_twice": [], "server_errors": [], "not_json_rpc": list(ledger.problems)}
    for rid, outcome in ledger.outcomes.items():
        if outcome.kind == "bad_json":
            seen = unreadable.get(outcome.body.decode(), 0)
            if outcome.status is not None and seen != 1:
                findings["refused_not_journaled_once"].append((rid, seen))
            continue
        statuses = inbound.get(rid, [])
        if outcome.status is None:
            if len(statuses) > 1:
                findings["unknown_twice"].append((rid, statuses))
        elif 200 <= outcome.status < 300:
            if not statuses:
                findings["acknowledged_missing"].append(rid)
            elif statuses != ["ok"]:
                findings["acknowledged_twice"].append((rid, statuses))
        elif statuses != ["rejected"]:
            findings["refused_not_journaled_once"].append((rid, statuses))
    findings["server_errors"] = [(rid, o.status, o.code) for rid, o in ledger.server_errors().items()]
    return findings


def delivery_findings(rows: list[sqlite3.Row], subscribers: dict[str, Subscriber], exactly_once: bool) -> dict[str, list]:
    """Every delivery ended, each delivered one reached its remote (signed, with its own id), and no
    remote saw an id the journal does not have. With `exactly_once`, none arrived twice."""
    out = [r for r in rows if r["direction"] == "out"]
    findings: dict[str, list] = {"not_final": [r["id"] for r in out if r["status"] not in FINAL],
                                 "delivered_not_received": [], "received_unknown_id": [], "received_twice": [],
                                 "bad_signatures": [], "ids_not_unique": []}
    ids = [json.loads(r["request_id"]) for r in out]
    if len(ids) != len(set(ids)):
        findings["ids_not_unique"].append(len(ids) - len(set(ids)))
    by_remote: dict[str, set[str]] = {}
    for row in out:
        by_remote.setdefault(row["remote"], set()).add(json.loads(row["request_id"]))
        sub = subscribers.get(row["remote"])
        if row["status"] == "delivered" and sub is not None and json.loads(row["request_id"]) not in sub.accepted:
            findings["delivered_not_received"].append(row["id"])
    for remote_id, sub in subscribers.items():
        known = by_remote.get(remote_id, set())
        findings["received_unknown_id"] += [i for i in sub.accepted if i not in known]
        if exactly_once:
            findings["received_twice"] += [i for i, times in sub.accepted.items() if times > 1]
        if sub.bad_signatures or sub.unparseable:
            findings["bad_signatures"].append((remote_id, sub.bad_signatures, sub.unparseable))
    return findings


def summary(rows: list[sqlite3.Row], subscribers: dict[str, Subscriber]) -> dict:
    out = [r for r in rows if r["direction"] == "out"]
    statuses: dict[str, int] = {}
    for row in out:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {"deliveries": statuses, "received": sum(len(s.accepted) for s in subscribers.values()),
            "received_again": sum(t - 1 for s in subscribers.values() for t in s.accepted.values()),
            "refused_once_by_subscribers": sum(len(s.refused_once) for s in subscribers.values())}
