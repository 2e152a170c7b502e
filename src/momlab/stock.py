"""Stock feeds with pandas: the snapshots a source sends OMS, adjustments, and batches.

These are the course's reference implementations for lab 04 (the learner writes their own; the
hidden tests and bench/inventory_delta.py use these). A stock table is a DataFrame with the columns
`sku` (text), `quantity` (a whole number of units on hand) and `unlimited` (bool).

What OMS does with `magento.inventory.source_stock_management.update` (mom-reference.md 5.1, 7.2):
every listed SKU carries its *absolute* quantity at the source; the `mode` says what happens to the
SKUs the source has in OMS that the message leaves out:
- DELTA: nothing, they keep their quantities;
- FULL: nothing either, but each raises a warning (a FULL feed lists the whole catalog);
- NONZERO: they are set to zero, except SKUs flagged unlimited.
At most 10,000 SKUs go in one message; a bigger snapshot is split over several messages that share
`snapshot.batch.process_id` and count `process_number` from 1 to `process_total`.

    before = stock.warehouse_export(40_000, seed=4, moment=0)
    after = stock.warehouse_export(40_000, seed=4, moment=1)
    delta = stock.snapshot_delta(before, after)
    messages = stock.snapshot_messages("WH-WEST", "DELTA", delta)
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pandas as pd

MAX_SKUS = 10_000  # per snapshot message [doc: inventory limits]
MODES = ("DELTA", "FULL", "NONZERO")
COLUMNS = ["sku", "quantity", "unlimited"]


# -- data ---------------------------------------------------------------------------------------

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


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """A stock table with exactly the columns sku, quantity (int64), unlimited (bool), sorted by sku."""
    out = frame.loc[:, [c for c in COLUMNS if c in frame.columns]].copy()
    if "unlimited" not in out.columns:
        out["unlimited"] = False
    out["sku"] = out["sku"].astype(str)
    out["quantity"] = pd.to_numeric(out["quantity"]).round().astype("int64")
    out["unlimited"] = out["unlimited"].fillna(False).astype(bool)
    return out.sort_values("sku", kind="stable").reset_index(drop=True)


# -- snapshots ----------------------------------------------------------------------------------

def snapshot_delta(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The DELTA rows that bring OMS from `before` to `after`: every SKU that is new or whose quantity
    or unlimited flag changed, with its absolute quantity in `after`; every SKU `after` no longer
    lists, at 0 (the warehouse has none left). Sorted by sku.

    One hash lookup per SKU (the position of each `after` SKU in `before`), then whole-column
    comparisons: about a second for a million SKUs."""
    position = pd.Index(before["sku"]).get_indexer(after["sku"])
    found = position >= 0
    old_quantity = before["quantity"].to_numpy()[position]
    old_unlimited = _flags(before)[position]
    new_quantity, new_unlimited = after["quantity"].to_numpy(), _flags(after)
    changed = ~found | (old_quantity != new_quantity) | (old_unlimited != new_unlimited)
    listed = np.zeros(len(before), dtype=bool)
    listed[position[found]] = True
    gone = before["sku"].to_numpy()[~listed]
    frame = pd.DataFrame({
        "sku": np.concatenate([after["sku"].to_numpy()[changed], gone]),
        "quantity": np.concatenate([new_quantity[changed], np.zeros(len(gone), dtype="int64")]),
        "unlimited": np.concatenate([new_unlimited[changed], np.zeros(len(gone), dtype=bool)]),
    })
    return tidy(frame)


def _flags(frame: pd.DataFrame) -> np.ndarray:
    if "unlimited" not in frame:
        return np.zeros(len(frame), dtype=bool)
    return frame["unlimited"].fillna(False).to_numpy(dtype=bool)


def snapshot_delta_loop(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """The same as snapshot_delta, written as a loop over rows: the slow way, for comparison."""
    rows = []
    old = before.set_index("sku")
    for _, row in after.iterrows():
        if row["sku"] not in old.index:
            rows.append({"sku": row["sku"], "quantity": row["quantity"], "unlimited": row["unlimited"]})
        else:
            previous = old.loc[row["sku"]]
            if previous["quantity"] != row["quantity"] or previous["unlimited"] != row["unlimited"]:
                rows.append({"sku": row["sku"], "quantity": row["quantity"], "unlimited": row["unlimited"]})
    listed = set(after["sku"])
    for _, row in before.iterrows():
        if row["sku"] not in listed:
            rows.append({"sku": row["sku"], "quantity": 0, "unlimited": False})
    return tidy(pd.DataFrame(rows, columns=COLUMNS))


def full_snapshot(export: pd.DataFrame) -> pd.DataFrame:
    """FULL: every SKU the source has, zeros included."""
    return tidy(export)


def nonzero_snapshot(export: pd.DataFrame) -> pd.DataFrame:
    """NONZERO: only the SKUs with stock (or flagged unlimited); OMS zeroes the rest."""
    return tidy(export[(export["quantity"] > 0) | export["unlimited"].astype(bool)])


# -- adjustments --------------------------------------------------------------------------------

def adjustments(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Relative changes per SKU (after minus before; a SKU missing on one side counts 0 there),
    only where there is a change: columns sku, adjustment. Sorted by sku."""
    old = before.set_index("sku")["quantity"]
    new = after.set_index("sku")["quantity"]
    change = new.sub(old, fill_value=0)
    change = change[change != 0].astype("int64")
    return pd.DataFrame({"sku": change.index.astype(str), "adjustment": change.to_numpy()}).sort_values("sku").reset_index(drop=True)


def adjustments_as_delta(current: pd.DataFrame, changes: pd.DataFrame) -> pd.DataFrame:
    """Absolute quantities for a DELTA snapshot from relative `changes` (sku, adjustment) applied to
    what OMS holds now (`current`: sku, quantity[, unlimited]); never below 0. Only the adjusted
    SKUs, sorted by sku. (The adjustment message's own topic name is not public: this is how to
    send adjustments the documented way.)"""
    now = current.set_index("sku")
    base = now["quantity"].reindex(changes["sku"]).fillna(0).to_numpy()
    unlimited = now["unlimited"].reindex(changes["sku"]).fillna(False).to_numpy(bool) if "unlimited" in now else np.zeros(len(changes), dtype=bool)
    quantity = np.maximum(0, base + changes["adjustment"].to_numpy())
    return tidy(pd.DataFrame({"sku": changes["sku"].to_numpy(), "quantity": quantity, "unlimited": unlimited}))


# -- messages -----------------------------------------------------------------------------------

def stock_entries(frame: pd.DataFrame) -> list[dict]:
    """`snapshot.stock[]` entries: {sku, quantity}, plus "unlimited": true where flagged."""
    skus = frame["sku"].astype(str).tolist()
    quantities = frame["quantity"].astype("int64").tolist()
    flags = frame["unlimited"].astype(bool).tolist() if "unlimited" in frame else [False] * len(skus)
    return [{"sku": s, "quantity": q, "unlimited": True} if u else {"sku": s, "quantity": q} for s, q, u in zip(skus, quantities, flags, strict=True)]


def snapshot_messages(source_id: str, mode: str, frame: pd.DataFrame, size: int = MAX_SKUS,
                      process_id: str | None = None, created_on: str | None = None) -> list[dict]:
    """params of source_stock_management.update for one snapshot: one message when it fits in `size`
    SKUs, else one per chunk, each with snapshot.batch {process_id, process_number, process_total}."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not 1 <= size <= MAX_SKUS:
        raise ValueError(f"size must be from 1 to {MAX_SKUS:,} (OMS takes at most {MAX_SKUS:,} SKUs per message)")
    entries = stock_entries(frame)
    created_on = created_on or datetime.now(UTC).isoformat(timespec="seconds")
    chunks = [entries[i : i + size] for i in range(0, len(entries), size)] or [[]]
    process_id = process_id or uuid.uuid4().hex
    messages = []
    for number, chunk in enumerate(chunks, start=1):
        snapshot = {"source_id": source_id, "mode": mode, "created_on": created_on, "stock": chunk}
        if len(chunks) > 1:
            snapshot["batch"] = {"process_id": process_id, "process_number": number, "process_total": len(chunks)}
        messages.append({"snapshot": snapshot})
    return messages


def apply_snapshot(current: pd.DataFrame, snapshot: pd.DataFrame, mode: str) -> tuple[pd.DataFrame, list[str]]:
    """What a source's stock in OMS becomes after a whole snapshot in `mode`, and the SKUs left out
    of it (warned about under FULL, zeroed under NONZERO unless unlimited, untouched under DELTA)."""
    now, sent = tidy(current), tidy(snapshot)
    omitted_mask = ~now["sku"].isin(sent["sku"]) & ~now["unlimited"]
    omitted = now.loc[omitted_mask, "sku"].tolist() if mode != "DELTA" else []
    kept = now[~now["sku"].isin(sent["sku"])].copy()
    if mode == "NONZERO":
        kept.loc[~kept["unlimited"], "quantity"] = 0
    return tidy(pd.concat([kept, sent], ignore_index=True)), omitted
