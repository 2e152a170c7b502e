"""Load against a standalone mock: the server process, signed subscribers, clients and the checks.

Shared by tests/test_load.py (short runs) and bench/load.py (the full 8 x 2,500 run). Each client
sends a mix of order creates, stock updates, shipments, queries and invalid messages on one
kept-alive connection, and writes down what the bus answered to each. The checks then read the
SQLite journal itself: what was acknowledged is there exactly once, and every delivery has ended.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from momlab import orders
from momlab.topics import (
    AGGREGATE_UPDATED,
    LINES_SHIPPED,
    ORDER_CREATE,
    REGISTER,
    REQUEST_SHIPMENT,
    SHIPMENT_DONE,
    SHIPMENT_SEARCH,
    SOURCE_SEARCH,
    STOCK_UPDATE,
    UPDATED,
)
from tests.support import rpc as jsonrpc
from tests.support.remotes import HttpRemote
from tests.support.rpc import conformance_problem
from tests.support.servers import StandaloneServer, free_port

SKUS = ("TEE-ORG-S", "TEE-ORG-L", "JEAN-IND-32", "BAG-TOTE", "CANDLE-CEDAR", "GIFTWRAP")
FINAL = ("delivered", "failed", "no_subscriber")
WAITING = ("pending", "retrying")

# kind -> weight in the mix
MIX = {"create": 30, "stock": 12, "ship": 15, "search": 10, "sources": 10, "unknown_method": 4, "bad_params": 6,
       "duplicate_order": 5, "positional": 3, "bad_json": 5}


# -- the server ---------------------------------------------------------------------------------------

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

SUBSCRIPTIONS = {"wms": [REQUEST_SHIPMENT], "erp": [UPDATED], "mdc": [SHIPMENT_DONE, AGGREGATE_UPDATED]}


def register_all(url: str, bearer: str, subscribers: dict[str, HttpRemote]) -> None:
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
        return json.dumps(jsonrpc.rpc(method, params, request_id)).encode()

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
    subscribers = {"wms": HttpRemote("wms-secret", refuse).start(), "mdc": HttpRemote("mdc-secret", refuse).start()}
    erp_port = free_port()
    # with --crash the ERP is down until the restart, so deliveries are owed to it when the mock dies
    subscribers["erp"] = HttpRemote("erp-secret", port=erp_port) if crash else HttpRemote("erp-secret", refuse).start()
    servers = [StandaloneServer(db=db)]
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
            servers.append(StandaloneServer(db=db))
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


def delivery_findings(rows: list[sqlite3.Row], subscribers: dict[str, HttpRemote], exactly_once: bool) -> dict[str, list]:
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


def summary(rows: list[sqlite3.Row], subscribers: dict[str, HttpRemote]) -> dict:
    out = [r for r in rows if r["direction"] == "out"]
    statuses: dict[str, int] = {}
    for row in out:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    return {"deliveries": statuses, "received": sum(len(s.accepted) for s in subscribers.values()),
            "received_again": sum(t - 1 for s in subscribers.values() for t in s.accepted.values()),
            "refused_once_by_subscribers": sum(len(s.refused_once) for s in subscribers.values())}
