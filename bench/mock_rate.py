"""Order-create rate and latency of the mock against a bare endpoint of the same stack, in one run.

One client on one kept-alive connection (http.client with TCP_NODELAY: little overhead of its own)
sends orders for a fixed time to each server in turn; then 8 such clients at once, each on its own
connection. The ratio to the bare endpoint is what the mock's work costs. Run:
    .venv/bin/python bench/mock_rate.py [--seconds 5] [--clients 1,8]
The last line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ORDER = {
    "id": "",
    "store": "WEB-US",
    "status": None,
    "language": "en_US",
    "origin": "FRONTEND",
    "origin_date": "2026-11-27T10:00:00+00:00",
    "customer": {"id": "anonymous", "type": "GUEST", "segment": "B2C"},
    "addresses": [{"reference": "a1", "address_type": "customer", "first_name": "Ada", "last_name": "Byron",
                   "address1": "1 Loop Road", "city": "Springfield", "zip": "12345", "country_code": "US", "email": "ada@example.com"}],
    "payments": [{"reference": "p1", "currency": "USD", "transactions": [{"payment_method": "ZEROPAY", "payment_submethod": "ZEROPAY", "amount": 24,
                  "gateway_information": {"gateway_id": "OFFLINE", "authorization_status": "AUTHORIZED"}, "billing_address_reference": "a1"}]}],
    "lines": [
        {"id": "1", "line_number": 1, "product_type": "PHYSICAL", "sku": "TEE-ORG-S", "product_name": "Organic cotton tee S",
         "shipping_address_reference": "a1", "payment_reference": "p1",
         "amount": {"net_amount": 19, "gross_amount": 19, "tax_amount": 0, "tax_rate": 0, "taxes": [], "currency": "USD"}},
        {"id": "SHIPPING", "line_number": 2, "product_type": "SHIPPING", "sku": "STANDARD", "product_name": "Shipping",
         "shipping_address_reference": "a1", "payment_reference": "p1",
         "amount": {"net_amount": 5, "gross_amount": 5, "tax_amount": 0, "tax_rate": 0, "taxes": [], "currency": "USD"}},
    ],
}


def launch(command: list[str]) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    url = next(word for word in line.split() if word.startswith("http://"))
    return process, url


def token(url: str) -> str:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    conn.request("POST", "/oauth/token", "grant_type=client_credentials&client_id=momlab&client_secret=momlab-secret",
                 {"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(conn.getresponse().read())["access_token"]


def drive(url: str, seconds: float, headers: dict, prefix: str) -> list[float]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    conn.connect()
    # http.client writes headers and body in two sends: without this, Nagle's algorithm and delayed
    # ACKs add ~40 ms to every request and the benchmark measures TCP, not the server.
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    latencies, n = [], 0
    order = copy.deepcopy(ORDER)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        n += 1
        order["id"] = f"{prefix}-{n}"
        body = json.dumps({"jsonrpc": "2.0", "id": n, "method": "magento.sales.order_management.create", "params": {"order": order}})
        start = time.perf_counter()
        conn.request("POST", "/api", body, headers)
        answer = conn.getresponse()
        payload = answer.read()
        latencies.append(time.perf_counter() - start)
        if answer.status != 200:
            raise SystemExit(f"request {n} failed: HTTP {answer.status} {payload[:300]!r}")
    return latencies


def summary(latencies: list[float], wall: float) -> dict:
    """Requests per second over the wall-clock time of the run (all clients together), p50 and p99."""
    ordered = sorted(latencies)
    return {
        "rate": len(latencies) / wall,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
        "n": len(latencies),
    }


def drive_many(url: str, clients: int, seconds: float, headers: dict, prefix: str) -> dict:
    """`clients` threads, one kept-alive connection each, for `seconds`; pooled latencies."""
    results: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            results[n] = drive(url, seconds, headers, f"{prefix}-c{n}")
        except BaseException as exc:  # noqa: BLE001 - reported below, from the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if errors:
        raise SystemExit(f"a client failed: {errors[0]}")
    return summary([x for r in results for x in r], wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", default="1,8", help="client counts to run, comma-separated (default 1,8)")
    args = parser.parse_args()
    counts = [int(n) for n in args.clients.split(",")]
    db = Path(tempfile.mkdtemp(prefix="momlab-bench-")) / "bench.sqlite"
    mock, mock_url = launch([sys.executable, "-m", "momlab", "serve", "--port", "0", "--db", str(db), "--delay", "0"])
    bare, bare_url = launch([sys.executable, str(HERE / "bare_server.py"), "0"])
    plain = {"Content-Type": "application/json"}
    results = {}
    try:
        auth = {**plain, "Authorization": f"Bearer {token(mock_url)}"}
        drive(mock_url, 0.5, auth, "warm")  # warm-up: imports, caches, first pages of the database
        drive(bare_url, 0.5, plain, "warm")
        for clients in counts:
            results[clients] = (drive_many(mock_url, clients, args.seconds, auth, f"order{clients}"),
                                drive_many(bare_url, clients, args.seconds, plain, f"bare{clients}"))
    finally:
        mock.terminate()
        bare.terminate()
        mock.wait(5)
        bare.wait(5)
    print("order create is validated, journaled and committed; the bare endpoint only answers")
    print(f"{'endpoint':<46}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}")
    report = {}
    for clients, (mock_result, bare_result) in results.items():
        for name, r in ((f"order create, {clients} client(s)", mock_result), (f"bare endpoint, {clients} client(s)", bare_result)):
            print(f"{name[:45]:<46}{r['rate']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['n']:>10}")
        ratio = mock_result["rate"] / bare_result["rate"]
        print(f"  ratio order create / bare with {clients} client(s): {ratio:.0%}")
        report[f"clients_{clients}"] = {"rate": round(mock_result["rate"], 1), "p50_ms": round(mock_result["p50_ms"], 2),
                                        "p99_ms": round(mock_result["p99_ms"], 2), "bare_rate": round(bare_result["rate"], 1),
                                        "bare_p50_ms": round(bare_result["p50_ms"], 2), "bare_p99_ms": round(bare_result["p99_ms"], 2),
                                        "ratio": round(ratio, 3)}
    one = report.get("clients_1")
    ok = one is None or (one["rate"] >= 1000 and one["ratio"] >= 0.40)
    print("targets (1 client): order create >= 1,000/s and >= 40% of bare: " + ("met" if ok else "NOT met"))
    print(json.dumps({"bench": "mock_rate", "ok": ok, **report}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
