"""Every benchmark in one go, each in its own process, and one table at the end.

    .venv/bin/python bench/run_all.py            # the full figures (several minutes)
    .venv/bin/python bench/run_all.py --quick    # the same benches, briefly: a smoke run

Each bench prints its own report and, as its last line, a JSON object; this script reads those and
prints the machine (cores, load average) and one table: name, figure, target, met.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# name -> (script, full arguments, quick arguments)
BENCHES = {
    "mock_rate": ("mock_rate.py", ["--seconds", "5"], ["--seconds", "1", "--rounds", "1"]),
    "lifecycle": ("lifecycle.py", [], ["--orders", "20", "--starts", "2"]),
    "inventory_delta": ("inventory_delta.py", [], ["--skus", "100000", "--sample", "5000"]),
    "load": ("load.py", ["--clients", "8", "--messages", "2500"], ["--clients", "4", "--messages", "150"]),
    "crash": ("load.py", ["--crash", "--clients", "8", "--messages", "2500"], ["--crash", "--clients", "4", "--messages", "150"]),
    "fuzz": ("fuzz.py", ["--cases", "10000"], ["--cases", "300"]),
    "course_time": ("course_time.py", [], ["--only", "01"]),
    "course_time_grading": ("course_time.py", ["--grading"], ["--grading", "--only", "01"]),
    "progress_time": ("progress_time.py", [], ["--only", "01"]),
}


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")), "")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({model or platform.processor() or platform.machine()}), load average {load}, Python {platform.python_version()}"


def run(name: str, quick: bool) -> tuple[dict | None, float, str]:
    script, full, brief = BENCHES[name]
    command = [sys.executable, str(HERE / script), *(brief if quick else full)]
    print(f"\n=== {name}: {' '.join(command[1:])}   [{machine()}]", flush=True)
    start = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        process.wait()
    seconds = time.perf_counter() - start
    last = next((line for line in reversed(lines) if line.startswith("{")), None)
    try:
        return (json.loads(last) if last else None), seconds, ""
    except ValueError:
        return None, seconds, "its last line is not JSON"


def rows(results: dict[str, dict | None]) -> list[tuple[str, str, str, str]]:
    """(name, figure, target, met) for every figure the benches reported."""
    table = []

    def met(flag) -> str:
        return "yes" if flag else "NO"

    rate = results.get("mock_rate")
    if rate and rate.get("skipped"):
        table.append(("order create (wrk)", f"skipped: {rate['skipped']}", ">= 1,000/s and >= 40% of bare", "NO"))
    elif rate:
        for clients in (1, 8):
            r = rate.get(f"clients_{clients}")
            if r:
                figure = f"{r['rate']:,.0f}/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms; {r['ratio']:.0%} of bare ({r['bare_rate']:,.0f}/s)"
                if clients == 1:
                    table.append(("order create, 1 connection", figure, ">= 1,000/s and >= 40% of bare", met(r["rate"] >= 1000 and r["ratio"] >= 0.4)))
                else:
                    table.append((f"order create, {clients} connections", figure, ">= 40% of bare", met(r["ratio"] >= 0.4)))
    life = results.get("lifecycle")
    if life:
        table.append(("order life (create -> shipment done)", f"p50 {life['p50_ms']} ms, p99 {life['p99_ms']} ms", "p50 < 200 ms", met(life["p50_ms"] < 200)))
        table.append(("start-up (import + momlab.start())", f"{life['startup_s']} s", "< 0.5 s", met(life["startup_s"] < 0.5)))
    delta = results.get("inventory_delta")
    if delta:
        table.append(("inventory delta", f"{delta['figure']} s per 1M SKUs; loop {delta['ratio_loop_to_vectorized']:,}x slower",
                      "< 3 s per 1M SKUs", met(delta["ok"])))
    for name in ("load", "crash"):
        r = results.get(name)
        if r:
            extra = f"; killed after {r['answered_before_kill']} answers, {r['owed_at_kill']} deliveries owed" if name == "crash" else ""
            figure = (f"{r['messages']:,} msgs from {r['clients']} clients: {r['rate']}/s p50 {r['p50_ms']} ms p99 {r['p99_ms']} ms; "
                      f"{sum(r['deliveries'].values()):,} deliveries final after {r['all_final_after_s']} s{extra}")
            table.append((name, figure, "0 lost/doubled/5xx; all deliveries final", met(r["ok"])))
    fuzz = results.get("fuzz")
    if fuzz:
        table.append(("fuzz", f"{fuzz['figure']:,} cases in {fuzz['seconds']} s, {fuzz['failures']} breaking the rule",
                      ">= 10,000 cases, none breaking", met(fuzz["ok"] and fuzz["figure"] >= 10_000)))
    for course in (results.get("course_time"), results.get("course_time_grading")):
        if course:
            table.append(("course time (" + course["mode"] + ")", f"{course['figure']} s = {course['ratio_to_target']:.0%} of target"
                          + (f"; failed: {', '.join(course['failed'])}" if course["failed"] else ""), "< 90 s, every notebook runs", met(course["ok"])))
    progress_run = results.get("progress_time")
    if progress_run:
        table.append(("momlab progress, every lab answered", f"{progress_run['figure']} s, {progress_run['passed']} of {progress_run['exercises']} "
                      f"exercises pass ({progress_run['workers']} at a time)", "< 60 s, all pass", met(progress_run["ok"])))
    for name, result in results.items():
        if result is None:
            table.append((name, "no result (see its output above)", "-", "NO"))
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="brief runs: check the benches work, not the figures")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run only these")
    args = parser.parse_args()
    before = machine()
    results: dict[str, dict | None] = {}
    seconds: dict[str, float] = {}
    for name in args.only or BENCHES:
        results[name], seconds[name], _ = run(name, args.quick)
    table = rows(results)
    width = [max(len(row[i]) for row in [("bench", "figure", "target", "met")] + table) for i in range(4)]
    print(f"\n{'QUICK RUN: figures are not meaningful' if args.quick else 'Benchmarks'}")
    print(f"machine at start: {before}\nmachine at end:   {machine()}")
    print(f"total {sum(seconds.values()):.0f} s: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()))
    for row in [("bench", "figure", "target", "met"), tuple("-" * w for w in width)] + table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, width, strict=True)))
    return 0 if all(row[3] == "yes" for row in table) else 1


if __name__ == "__main__":
    raise SystemExit(main())
