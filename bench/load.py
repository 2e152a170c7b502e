"""Load on a standalone mock, and a crash in the middle of it.

    .venv/bin/python bench/load.py [--clients 8] [--messages 2500]            # load
    .venv/bin/python bench/load.py --crash [--clients 8] [--messages 2500]    # kill -9 part way, restart

Each client sends a mix of order creates, stock updates, shipments, queries and invalid messages
(tests/support/load.py) to `momlab serve` with three signed subscribers registered. Afterwards the
journal is read straight from SQLite: every acknowledged message must be there exactly once, no
answer may be a 5xx, and every delivery must end delivered or failed. With --crash the mock is
killed with SIGKILL once a third of the messages are answered, started again on the same database,
and the clients carry on. The last line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.support

from tests.support import load as lt  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--messages", type=int, default=2500, help="messages per client")
    parser.add_argument("--crash", action="store_true", help="kill -9 the mock part way and restart it")
    parser.add_argument("--refuse", type=float, default=0.01, help="share of deliveries each subscriber refuses once (default 0.01)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="momlab-load-") as folder:
        result = lt.scenario(args.clients, args.messages, args.crash, Path(folder), args.refuse)
    name = "crash" if args.crash else "load"
    print(f"{name}: {result['clients']} clients x {args.messages} messages: {result['answered']} answered in {result['seconds']} s "
          f"({result['rate']}/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms)")
    print(f"  acknowledged {result['acknowledged']}, refused {result['refused']}, connection lost {result['unknown']}; "
          f"deliveries {result['deliveries']}, all final {result['all_final_after_s']} s after the start")
    if args.crash:
        print(f"  killed after {result['answered_before_kill']} answers with {result['owed_at_kill']} deliveries owed")
    ok = not result["findings"] and result["waiting_at_end"] == 0
    print("  no lost, doubled or 5xx message; every delivery final" if ok else f"  FINDINGS: {json.dumps(result['findings'])}")
    print(json.dumps({"bench": name, "figure": result["rate"], "unit": "msg/s", "ok": ok, **result}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
