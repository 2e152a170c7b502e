"""Property-based fuzzing of a standalone mock: 10,000+ generated requests, none may break the rule.

    .venv/bin/python bench/fuzz.py [--cases 10000] [--seed N]

The cases (tests/support/fuzz_cases.py) are envelopes built member by member, params generated from every
catalog message's params_schema, and each message's valid example with one thing broken. Every
answer must be a conforming JSON-RPC 2.0 response and never a 5xx (fuzz_cases.check). The last
line printed is JSON for bench/run_all.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.support

from tests.support import fuzz_cases as fc  # noqa: E402
from tests.support import load as lt  # noqa: E402
from tests.support.servers import StandaloneServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="repeat a run (default: a new random seed, printed)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    with tempfile.TemporaryDirectory(prefix="momlab-fuzz-") as folder:
        server = StandaloneServer(db=Path(folder) / "fuzz.sqlite")
        try:
            started = time.perf_counter()
            seen = fc.run(server.url, lt.token(server.url), args.cases, derandomize=False, seed=seed)
            seconds = time.perf_counter() - started
            alive = server.proc.poll() is None
            tracebacks = server.stderr().count("Traceback")
        finally:
            server.stop()
    failures = seen["failures"]
    ok = not failures and alive and tracebacks == 0 and seen["cases"] >= args.cases
    statuses = dict(sorted(seen["statuses"].items()))
    print(f"fuzz: {seen['cases']} cases in {seconds:.1f} s (seed {seed}); HTTP statuses {statuses}")
    print(f"  answers breaking the rule: {len(failures)}; tracebacks in the server log: {tracebacks}; server alive at the end: {alive}")
    for problem, count in Counter(f["problem"][:160] for f in failures).most_common(10):
        example = next(f for f in failures if f["problem"][:160] == problem)
        print(f"  {count} x {problem}\n      e.g. {example['route']} {example['sent'][:200]}")
    print(json.dumps({"bench": "fuzz", "figure": seen["cases"], "unit": "cases", "ok": ok, "seconds": round(seconds, 1), "seed": seed,
                      "statuses": statuses, "failures": len(failures), "tracebacks": tracebacks}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
