"""Made-up but realistic warehouse stock exports for lab 04 (inventory with pandas).

A stock table is a DataFrame with the columns `sku` (text), `quantity` (a whole number of units on
hand) and `unlimited` (bool). `warehouse_export` makes the course's data (data/wh_west_stock_0600.csv
and wh_west_stock_1800.csv are two of its exports) and the hidden tests' inputs:

    morning = stock.warehouse_export(40_000, seed=404, moment=0)
    evening = stock.warehouse_export(40_000, seed=404, moment=1)

What to do with two exports (the DELTA between them, FULL and NONZERO snapshots, adjustments,
batches of at most 10,000 SKUs, what OMS does with each mode) is what the lab's exercises ask, so
none of it is here: the instructor's solution notebook holds the reference answers, outside the
package. What OMS does with a snapshot is the mock's (momlab.bus.flows.stock).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["sku", "quantity", "unlimited"]


def warehouse_export(n_skus: int, seed: int = 0, moment: int = 0, prefix: str = "SKU") -> pd.DataFrame:
    """A warehouse's stock export, made up but deterministic: the same arguments give the same table.

    moment=0 is the first export; moment=1 the same warehouse some hours later: about 6 % of the SKUs
    changed quantity (a third of those sold out), 0.5 % are no longer listed, and 1 % are new. Rows
    come in no particular order, as exports do; about 0.2 % of the SKUs are flagged unlimited.
    """
    rng = np.random.default_rng(seed)
    skus = np.char.add(f"{prefix}-", np.char.zfill(np.arange(1, n_skus + 1).astype(str), 7))
    quantity = rng.negative_binomial(2, 0.08, n_skus)
    quantity[rng.random(n_skus) < 0.15] = 0
    unlimited = rng.random(n_skus) < 0.002
    quantity[unlimited] = 0
    frame = pd.DataFrame({"sku": skus, "quantity": quantity.astype("int64"), "unlimited": unlimited})
    if moment:
        later = np.random.default_rng([seed, moment])
        changed = (later.random(n_skus) < 0.06) & ~unlimited
        new_quantity = later.negative_binomial(2, 0.08, n_skus)
        new_quantity[later.random(n_skus) < 0.33] = 0
        frame.loc[changed, "quantity"] = new_quantity[changed]
        frame = frame[later.random(n_skus) >= 0.005]
        added = max(1, n_skus // 100)
        extra = pd.DataFrame({
            "sku": np.char.add(f"{prefix}-", np.char.zfill(np.arange(n_skus + 1, n_skus + added + 1).astype(str), 7)),
            "quantity": later.negative_binomial(2, 0.1, added).astype("int64"),
            "unlimited": np.zeros(added, dtype=bool),
        })
        frame = pd.concat([frame, extra], ignore_index=True)
    order = np.random.default_rng([seed, moment, 7]).permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True)
