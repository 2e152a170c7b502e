"""The stock DELTA of lab 04 (momlab.stock.snapshot_delta) on 1,000,000 SKUs, against the same
computation written as a loop over rows (snapshot_delta_loop) on a smaller sample, in one run.

Both get the same kind of data: two exports of one warehouse (momlab.stock.warehouse_export), some
hours apart. The loop is timed on a sample because on a million SKUs it would take minutes; the
ratio compares time per SKU. Run:
    .venv/bin/python bench/inventory_delta.py [--skus 1000000] [--sample 20000]
"""

from __future__ import annotations

import argparse
import json
import time

import pandas as pd

from momlab import stock


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - began)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()

    before = stock.warehouse_export(args.skus, seed=2026)
    after = stock.warehouse_export(args.skus, seed=2026, moment=1)
    vector_s, delta = timed(lambda: stock.snapshot_delta(before, after), repeat=3)

    small_before = stock.warehouse_export(args.sample, seed=2026)
    small_after = stock.warehouse_export(args.sample, seed=2026, moment=1)
    loop_s, slow = timed(lambda: stock.snapshot_delta_loop(small_before, small_after))
    small_vector_s, fast = timed(lambda: stock.snapshot_delta(small_before, small_after), repeat=3)
    pd.testing.assert_frame_equal(slow, fast)  # same answer, or the comparison means nothing

    per_sku_vector = vector_s / args.skus
    per_sku_loop = loop_s / args.sample
    print(f"vectorized snapshot_delta: {args.skus:>9,} SKUs in {vector_s:6.2f} s  ({len(delta):,} changed; {per_sku_vector * 1e6:.2f} us per SKU)")
    print(f"loop per row             : {args.sample:>9,} SKUs in {loop_s:6.2f} s  ({per_sku_loop * 1e6:.1f} us per SKU)")
    print(f"vectorized on the sample : {args.sample:>9,} SKUs in {small_vector_s:6.3f} s")
    print(f"ratio (loop / vectorized, per SKU): {per_sku_loop / per_sku_vector:,.0f}x")
    print(f"loop on {args.skus:,} SKUs, extrapolated: about {per_sku_loop * args.skus / 60:.0f} min")
    per_million = vector_s * 1_000_000 / args.skus
    print(f"under 3 s for 1,000,000 SKUs: {'yes' if per_million < 3 else 'NO'}")
    print(json.dumps({"bench": "inventory_delta", "figure": round(per_million, 3), "unit": "s per 1M SKUs", "target_s": 3.0, "skus": args.skus,
                      "ratio_loop_to_vectorized": round(per_sku_loop / per_sku_vector), "ok": per_million < 3}))


if __name__ == "__main__":
    main()
