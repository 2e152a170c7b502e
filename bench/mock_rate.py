"""Order-create rate and latency of the mock against a bare endpoint of the same stack, in one run, with wrk.

wrk (Debian package `wrk`) sends JSON-RPC order creates on kept-alive connections for a fixed time,
to the mock (`python -m momlab serve`, in its own process) and to a bare endpoint that only answers
(bench/bare_server.py), in turn, with 1 connection and then 8. wrk runs one thread (`-t1`), so it takes
little of the CPU the server needs. Each case runs several rounds, alternating mock and bare, and the
round with the median rate is reported, so that a moment of other load on a shared machine does not
decide the figure. bench/wrk_order.lua gives every order its own id and counts the answers that are
not a success; any such answer, or a socket error, fails the bench. The ratio to the bare endpoint is
what the mock's work costs. Run:
    .venv/bin/python bench/mock_rate.py [--seconds 5] [--rounds 3] [--connections 1,8]
Without wrk it says so and skips. The last line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from momlab.bus.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "wrk_order.lua"
ORDER = {
    "id": "@N@",
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
    """Start a server that prints its URL on its first line; the process and that URL."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    url = next(word for word in line.split() if word.startswith("http://"))
    return process, url


def token(url: str) -> str:
    """An access token from the mock, by OAuth client credentials with the demo client."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    conn.request("POST", "/oauth/token", f"grant_type=client_credentials&client_id={DEMO_CLIENT_ID}&client_secret={DEMO_CLIENT_SECRET}",
                 {"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(conn.getresponse().read())["access_token"]


def wrk(url: str, connections: int, seconds: float, body_file: Path, bearer: str, prefix: str) -> dict:
    """One wrk run against `url` + /api; its figures, or SystemExit if any answer was not a success."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(SCRIPT),
               f"{url}/api", "--", str(body_file), bearer, prefix]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = run.stdout.splitlines()
    result = next((json.loads(line.split(" ", 1)[1]) for line in lines if line.startswith("wrk-result ")), None)
    if run.returncode != 0 or result is None:
        raise SystemExit(f"wrk failed ({' '.join(command)}):\n{run.stdout}{run.stderr}")
    if result["failed"] or result["socket_errors"] or not result["requests"]:
        sample = next((line for line in lines if line.startswith("wrk-first-failure ")), "")
        raise SystemExit(f"{prefix}: {result['failed']} of {result['requests']} answers were not a success, "
                         f"{result['socket_errors']} socket errors. {sample}")
    result["rate"] = result["requests"] / result["seconds"]
    return result


def stored_orders(db: Path, prefix: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM orders WHERE id LIKE ?", (f"{prefix}-%",)).fetchone()[0]


def median_run(runs: list[dict]) -> dict:
    """The run with the median rate, with its own latencies; and the spread of the rates, for the report."""
    ordered = sorted(runs, key=lambda r: r["rate"])
    return {**ordered[len(ordered) // 2], "slowest": ordered[0]["rate"], "fastest": ordered[-1]["rate"]}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def body_file(folder: Path) -> Path:
    """The request body, with @N@ for each request's unique number (see bench/wrk_order.lua)."""
    path = folder / "order.json"
    request = {"jsonrpc": "2.0", "id": "@N@", "method": "magento.sales.order_management.create", "params": {"order": ORDER}}
    path.write_text(json.dumps(request))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per run, whole seconds (wrk's unit; at least 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per case, alternating mock and bare (default 3)")
    parser.add_argument("--connections", default="1,8", help="connection counts to run, comma-separated (default 1,8)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        reason = "wrk is not installed (Debian: apt-get install wrk)"
        print(f"SKIPPED: {reason}")
        print(json.dumps({"bench": "mock_rate", "skipped": reason}))
        return 0
    counts = [int(n) for n in args.connections.split(",")]
    load_before = load_average()
    folder = Path(tempfile.mkdtemp(prefix="momlab-bench-"))
    db, body = folder / "bench.sqlite", body_file(folder)
    mock, mock_url = launch([sys.executable, "-m", "momlab", "serve", "--port", "0", "--db", str(db), "--delay", "0"])
    bare, bare_url = launch([sys.executable, str(HERE / "bare_server.py"), "0"])
    results = {}
    try:
        bearer = token(mock_url)
        wrk(mock_url, 1, 1, body, bearer, "warm")  # warm-up: imports, caches, first pages of the database
        wrk(bare_url, 1, 1, body, "", "warm")
        for connections in counts:
            mock_runs, bare_runs = [], []
            for round_number in range(1, args.rounds + 1):
                prefix = f"c{connections}r{round_number}"
                mock_runs.append(wrk(mock_url, connections, args.seconds, body, bearer, prefix))
                if stored_orders(db, prefix) < mock_runs[-1]["requests"]:
                    raise SystemExit(f"{prefix}: {mock_runs[-1]['requests']} orders were answered as created, "
                                     f"but only {stored_orders(db, prefix)} are in the database")
                bare_runs.append(wrk(bare_url, connections, args.seconds, body, "", prefix))
            results[connections] = (mock_runs, bare_runs)
    finally:
        for process in (mock, bare):
            process.terminate()
            process.wait(5)
    print("order create is validated, journaled and committed; the bare endpoint only answers")
    print(f"wrk -t1, {max(1, round(args.seconds))} s per run, median of {args.rounds} rounds; latency in ms; {os.cpu_count()} cores, "
          f"load average {load_before} before and {load_average()} after")
    print(f"{'endpoint':<40}{'req/s':>9}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}{'requests':>10}  rounds' req/s")
    report = {}
    for connections, (mock_runs, bare_runs) in results.items():
        mock_result, bare_result = median_run(mock_runs), median_run(bare_runs)
        for name, r in ((f"order create, {connections} connection(s)", mock_result), (f"bare endpoint, {connections} connection(s)", bare_result)):
            print(f"{name:<40}{r['rate']:>9.0f}{r['p50_ms']:>8.2f}{r['p90_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.2f}{r['requests']:>10}"
                  f"  {r['slowest']:.0f} to {r['fastest']:.0f}")
        ratio = mock_result["rate"] / bare_result["rate"]
        print(f"  ratio order create / bare with {connections} connection(s): {ratio:.0%}")
        report[f"clients_{connections}"] = {"rate": round(mock_result["rate"], 1), "p50_ms": round(mock_result["p50_ms"], 2),
                                            "p90_ms": round(mock_result["p90_ms"], 2), "p99_ms": round(mock_result["p99_ms"], 2),
                                            "bare_rate": round(bare_result["rate"], 1), "bare_p50_ms": round(bare_result["p50_ms"], 2),
                                            "bare_p99_ms": round(bare_result["p99_ms"], 2), "ratio": round(ratio, 3)}
    one = report.get("clients_1")
    ok = one is None or (one["rate"] >= 1000 and one["ratio"] >= 0.40)
    print("targets (1 connection): order create >= 1,000/s and >= 40% of bare: " + ("met" if ok else "NOT met"))
    print(json.dumps({"bench": "mock_rate", "ok": ok, **report}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
