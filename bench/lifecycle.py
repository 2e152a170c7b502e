"""An order's whole life on the mock, with delays off, and the cost of starting a mock.

create -> request_shipment delivered to a warehouse -> the warehouse sends lines_shipped ->
customer_shipment_done delivered to the store. Timed from the create call to the store receiving the
shipment, over many orders. Run: .venv/bin/python bench/lifecycle.py [--orders 100]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time

import momlab
from momlab import orders

SHIPPED = "magento.logistics.warehouse_management.lines_shipped"


def lifecycle(count: int) -> list[float]:
    mom = momlab.start(step_delay=0, fresh=True)
    done: dict[str, threading.Event] = {}
    warehouse = momlab.Receiver(secret="wms", id="wms")
    store = momlab.Receiver(secret="mdc", id="mdc")

    @warehouse.on("magento.logistics.warehouse_management.request_shipment")
    def ship(params):
        # answer the delivery at once and ship from another thread, as a real warehouse would
        threading.Thread(target=mom.client.call, args=(SHIPPED, {"request_id": params["request_id"], "items": [{"order_line_id": i["order_line_id"]} for i in params["items"]]})).start()
        return {}

    @store.on("magento.logistics.fulfillment_management.customer_shipment_done")
    def shipped(params):
        done[params["shipment"]["order_id"]].set()
        return {}

    for receiver in (warehouse, store):
        receiver.start().register(mom.client)
    times = []
    for n in range(count):
        order_id = f"LIFE-{n}"
        done[order_id] = threading.Event()
        start = time.perf_counter()
        mom.client.call("magento.sales.order_management.create", orders.order_params(order_id, ["TEE-ORG-S"]))
        if not done[order_id].wait(10):
            raise SystemExit(f"order {order_id} never reached customer_shipment_done")
        times.append(time.perf_counter() - start)
    warehouse.stop()
    store.stop()
    mom.stop()
    return times


def startup_seconds(runs: int = 5) -> list[float]:
    """import momlab + momlab.start() in a fresh interpreter, as a new notebook kernel pays it."""
    code = "import time; t = time.perf_counter(); import momlab; momlab.start(); print(time.perf_counter() - t)"
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout) for _ in range(runs)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--starts", type=int, default=5, help="fresh interpreters to time the start-up in")
    args = parser.parse_args()
    times = sorted(lifecycle(args.orders))
    print(f"order life, create -> customer_shipment_done delivered: p50 {1000 * statistics.median(times):.1f} ms, "
          f"p99 {1000 * times[int(0.99 * (len(times) - 1))]:.1f} ms over {len(times)} orders (target < 200 ms)")
    starts = sorted(startup_seconds(args.starts))
    print(f"import momlab + momlab.start() in a fresh interpreter: median {statistics.median(starts):.2f} s over {len(starts)} runs (target < 0.5 s)")
    # the last line, for bench/run_all.py
    p50, p99, start = statistics.median(times), times[int(0.99 * (len(times) - 1))], statistics.median(starts)
    print(json.dumps({"bench": "lifecycle", "orders": len(times), "p50_ms": round(1000 * p50, 1), "p99_ms": round(1000 * p99, 1),
                      "startup_s": round(start, 3), "ok": p50 < 0.2 and start < 0.5}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
