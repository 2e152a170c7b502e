"""magento.inventory.source_stock_management.update: a source's stock snapshot (mom-reference.md 5.1, 7.2).

Every listed SKU carries its absolute on-hand quantity. The mode says what happens to the SKUs the
source already has but the message leaves out:
- DELTA: nothing; they keep their quantities.
- FULL: nothing either, but each one raises a warning (a FULL feed should list the whole catalog).
- NONZERO: they are set to zero, except SKUs flagged unlimited.
A snapshot split over several messages (snapshot.batch) applies the FULL / NONZERO rule once all
parts of the batch have arrived ([inferred] in the reference). Invalid quantities are ignored with a
warning, as OMS documents.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from typing import Any

from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError

MAX_WARNINGS_LISTED = 50


@handles("magento.inventory.source_stock_management.update")
def update(ctx: Context, params: Doc) -> Doc:
    snapshot = params["snapshot"]
    source_id, mode = snapshot["source_id"], snapshot["mode"]
    if ctx.db.execute("SELECT 1 FROM sources WHERE id = ?", (source_id,)).fetchone() is None:
        known = [r[0] for r in ctx.db.execute("SELECT id FROM sources ORDER BY id")]
        raise RpcError(
            UNKNOWN_ENTITY,
            f"Source {source_id!r} is not set up in OMS. Known sources: {', '.join(known)}.",
            {"path": "$.params.snapshot.source_id"},
        )
    warnings: list[str] = []
    listed: dict[str, tuple[float, int]] = {}
    named: set[str] = set()  # every SKU the message lists, even with an ignored quantity: NONZERO must not zero those
    for index, entry in enumerate(snapshot["stock"]):
        sku, quantity = entry["sku"], entry.get("quantity")
        if sku in named:
            raise RpcError(INVALID_PARAMS, f"SKU {sku!r} is listed twice; list each SKU once per snapshot.", {"path": f"$.params.snapshot.stock[{index}].sku"})
        named.add(sku)
        unlimited = 1 if entry.get("unlimited") else 0
        if not unlimited and not _valid_quantity(quantity):
            warnings.append(f"stock[{index}] {sku}: quantity {quantity!r} is not a number >= 0, so it was ignored.")
            continue
        listed[sku] = (float(quantity) if _valid_quantity(quantity) else 0.0, unlimited)

    ctx.db.executemany(
        "INSERT INTO source_stock (source_id, sku, quantity, unlimited, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (source_id, sku) DO UPDATE SET quantity = excluded.quantity, unlimited = excluded.unlimited, "
        "updated_at = excluded.updated_at",
        [(source_id, sku, q, u, ctx.now) for sku, (q, u) in listed.items()],
    )
    touched = {source_id: set(listed)}
    batch = snapshot.get("batch")
    coverage = _batch_coverage(ctx.db, batch, source_id, mode, named) if batch else {source_id: named}
    zeroed = 0
    if coverage is not None and mode in ("FULL", "NONZERO"):
        for source, covered in coverage.items():
            missing = _missing(ctx.db, source, covered)
            if mode == "FULL":
                warnings += [f"{source}/{sku} is missing from this FULL snapshot; its previous quantity was kept." for sku in missing]
            else:
                ctx.db.executemany(
                    "UPDATE source_stock SET quantity = 0, updated_at = ? WHERE source_id = ? AND sku = ?",
                    [(ctx.now, source, sku) for sku in missing],
                )
                touched.setdefault(source, set()).update(missing)
                zeroed += len(missing)
    aggregates = set()
    for source, skus in touched.items():
        aggregates.update(inventory.publish_aggregates(ctx, [source], skus))
    result = {
        "source_id": source_id,
        "mode": mode,
        "applied": len(listed),
        "zeroed": zeroed,
        "warning_count": len(warnings),
        "warnings": warnings[:MAX_WARNINGS_LISTED],
        "aggregates": sorted(aggregates),
    }
    if batch:
        result["batch_complete"] = coverage is not None
    return result


def _missing(db: sqlite3.Connection, source_id: str, covered: set[str]) -> list[str]:
    rows = db.execute("SELECT sku FROM source_stock WHERE source_id = ? AND unlimited = 0 ORDER BY sku", (source_id,))
    return [row[0] for row in rows if row[0] not in covered]


def _valid_quantity(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _batch_coverage(db: sqlite3.Connection, batch: Doc, source_id: str, mode: str, listed: Iterable[str]) -> dict[str, set[str]] | None:
    """Record this part of a batch; once every part is in, return {source: SKUs the batch listed for it}
    for every source the batch covered (and forget the batch), else None."""
    process_id = str(batch.get("process_id"))
    number, total = batch.get("process_number"), batch.get("process_total")
    if not (isinstance(number, int) and isinstance(total, int) and 1 <= number <= total):
        raise RpcError(
            INVALID_PARAMS,
            "batch.process_number must be a whole number from 1 to batch.process_total (this message's place in the run).",
            {"path": "$.params.snapshot.batch.process_number"},
        )
    db.execute("INSERT OR REPLACE INTO stock_batch_parts VALUES (?, ?, ?, ?, ?)", (process_id, number, total, source_id, mode))
    db.executemany("INSERT OR IGNORE INTO stock_batches VALUES (?, ?, ?)", [(process_id, source_id, sku) for sku in listed])
    received = db.execute("SELECT COUNT(*) FROM stock_batch_parts WHERE process_id = ?", (process_id,)).fetchone()[0]
    if received < total:
        return None
    coverage: dict[str, set[str]] = {
        row[0]: set() for row in db.execute("SELECT DISTINCT source_id FROM stock_batch_parts WHERE process_id = ?", (process_id,))
    }
    for source, sku in db.execute("SELECT source_id, sku FROM stock_batches WHERE process_id = ?", (process_id,)):
        coverage[source].add(sku)
    db.execute("DELETE FROM stock_batches WHERE process_id = ?", (process_id,))
    db.execute("DELETE FROM stock_batch_parts WHERE process_id = ?", (process_id,))
    return coverage
