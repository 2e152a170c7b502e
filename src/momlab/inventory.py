"""Stock arithmetic over the store: sources, aggregates and in-flight lines.

Available to sell for an aggregate = the sum of its sources' on-hand quantities minus the lines
still in flight at those sources (sourced, not yet shipped or cancelled), never below zero; a SKU
flagged unlimited at any of the sources is always available (mom-reference.md 5.1, 5.2, 7.2).
"""

from __future__ import annotations

import sqlite3

from .jsonrpc import UNKNOWN_ENTITY, RpcError

NOT_SHIPPABLE = ("SHIPPING", "VIRTUAL", "SERVICE")


def sources_of(db: sqlite3.Connection, aggregate_id: str) -> list[str]:
    rows = db.execute(
        "SELECT s.id FROM aggregate_sources a JOIN sources s ON s.id = a.source_id "
        "WHERE a.aggregate_id = ? ORDER BY s.priority, s.id",
        (aggregate_id,),
    )
    return [row[0] for row in rows]


def aggregates_of(db: sqlite3.Connection, source_ids) -> list[str]:
    ids = list(source_ids)
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        f"SELECT DISTINCT aggregate_id FROM aggregate_sources WHERE source_id IN ({marks}) ORDER BY aggregate_id", ids
    )
    return [row[0] for row in rows]


def channel_aggregate(db: sqlite3.Connection, channel_id: str | None, path: str = "$.params.order.store") -> tuple[str, str]:
    """The sales channel (the default one when none is given) and its single stock aggregate."""
    if channel_id is None:
        row = db.execute("SELECT id, aggregate_id FROM sales_channels ORDER BY rowid LIMIT 1").fetchone()
    else:
        row = db.execute("SELECT id, aggregate_id FROM sales_channels WHERE id = ?", (channel_id,)).fetchone()
    if row is None:
        known = [r[0] for r in db.execute("SELECT id FROM sales_channels ORDER BY id")]
        raise RpcError(
            UNKNOWN_ENTITY,
            f"Sales channel {channel_id!r} is not set up in OMS. Known sales channels: {', '.join(known) or 'none'}.",
            {"path": path},
        )
    return row[0], row[1]


def available(db: sqlite3.Connection, source_ids: list[str], sku: str) -> tuple[float, bool]:
    """(quantity available to sell, unlimited) for one SKU over the given sources."""
    if not source_ids:
        return 0.0, False
    marks = ",".join("?" * len(source_ids))
    on_hand, unlimited = db.execute(
        f"SELECT COALESCE(SUM(quantity), 0), COALESCE(MAX(unlimited), 0) FROM source_stock "
        f"WHERE sku = ? AND source_id IN ({marks})",
        [sku, *source_ids],
    ).fetchone()
    held = db.execute(
        f"SELECT COALESCE(SUM(units), 0) FROM holds WHERE sku = ? AND source_id IN ({marks})", [sku, *source_ids]
    ).fetchone()[0]
    return max(0.0, on_hand - held), bool(unlimited)


def hold(db: sqlite3.Connection, source_id: str, sku: str, units: int) -> None:
    """Count units in flight at a source: +1 when a line is sourced there, -1 when it ships or is cancelled."""
    db.execute(
        "INSERT INTO holds VALUES (?, ?, ?) ON CONFLICT (sku, source_id) DO UPDATE SET units = units + excluded.units",
        (source_id, sku, units),
    )


def aggregate_stock(db: sqlite3.Connection, aggregate_id: str, skus) -> list[dict]:
    sources = sources_of(db, aggregate_id)
    stock = []
    for sku in skus:
        quantity, unlimited = available(db, sources, sku)
        entry = {"sku": sku, "quantity": _number(quantity)}
        if unlimited:
            entry["unlimited"] = True
        stock.append(entry)
    return stock


def publish_aggregates(ctx, source_ids, skus) -> list[str]:
    """Send magento.inventory.aggregate_stock_management.updated once per aggregate the change touches.

    The snapshot carries only the touched SKUs, in mode DELTA ([mock]: the reference gives the
    message's fields, not which mode OMS uses after each kind of change).
    """
    skus = sorted(set(skus))
    if not skus:
        return []
    aggregates = aggregates_of(ctx.db, source_ids)
    created_on = _iso(ctx.now)
    for aggregate_id in aggregates:
        snapshot = {
            "aggregate_id": aggregate_id,
            "created_on": created_on,
            "mode": "DELTA",
            "stock": aggregate_stock(ctx.db, aggregate_id, skus),
        }
        ctx.publish("magento.inventory.aggregate_stock_management.updated", {"snapshot": snapshot})
    return aggregates


def choose_source(db: sqlite3.Connection, sources: list[str], sku: str) -> str | None:
    """Direct sourcing, simplified: the first source (by priority) with one unit of the SKU
    available, else the first source, as a backorder. [mock]"""
    for source in sources:
        quantity, unlimited = available(db, [source], sku)
        if unlimited or quantity >= 1:
            return source
    return sources[0] if sources else None


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def _iso(timestamp: float) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")
