"""Stock arithmetic over the store: sources, aggregates and in-flight lines.

Available to sell for an aggregate = the sum of its sources' on-hand quantities minus the lines
still in flight at those sources (sourced, not yet shipped or cancelled) and minus the lines held
against the aggregate itself while they wait to be sourced (soft_holds), never below zero; a SKU
flagged unlimited at any of the sources is always available (mom-reference.md 5.1, 5.2, 5.3, 7.2).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from momlab.bus.context import Context
from momlab.bus.jsonrpc import UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.timestamps import iso_seconds

NOT_SHIPPABLE = ("SHIPPING", "VIRTUAL", "SERVICE", "BUNDLE")  # a BUNDLE line ships as its component lines


def sources_of(db: sqlite3.Connection, aggregate_id: str) -> list[str]:
    rows = db.execute(
        "SELECT s.id FROM aggregate_sources a JOIN sources s ON s.id = a.source_id "
        "WHERE a.aggregate_id = ? ORDER BY s.priority, s.id",
        (aggregate_id,),
    )
    return [row[0] for row in rows]


def aggregates_of(db: sqlite3.Connection, source_ids: Iterable[str]) -> list[str]:
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
    return available_many(db, source_ids, [sku]).get(sku, (0.0, False))


def available_many(db: sqlite3.Connection, source_ids: list[str], skus: Iterable[str]) -> dict[str, tuple[float, bool]]:
    """{sku: (available, unlimited)} over the given sources, in two queries however many SKUs."""
    if not source_ids:
        return {}
    marks = ",".join("?" * len(source_ids))
    # json_each passes any number of SKUs as one parameter (SQLite caps the number of parameters)
    rows = db.execute(
        f"""SELECT s.sku, SUM(s.quantity), MAX(s.unlimited),
                   (SELECT COALESCE(SUM(h.units), 0) FROM holds h WHERE h.sku = s.sku AND h.source_id IN ({marks}))
            FROM source_stock s
            WHERE s.source_id IN ({marks}) AND s.sku IN (SELECT value FROM json_each(?)) GROUP BY s.sku""",
        [*source_ids, *source_ids, json.dumps(list(skus))],
    ).fetchall()
    result = {sku: (0.0, False) for sku in skus}
    for sku, quantity, unlimited, held in rows:
        result[sku] = (max(0.0, quantity - held), bool(unlimited))
    return result


def hold(db: sqlite3.Connection, source_id: str, sku: str, units: int) -> None:
    """Count units in flight at a source: +1 when a line is sourced there, -1 when it ships or is cancelled."""
    db.execute(
        "INSERT INTO holds VALUES (?, ?, ?) ON CONFLICT (sku, source_id) DO UPDATE SET units = units + excluded.units",
        (source_id, sku, units),
    )


def soft_hold(db: sqlite3.Connection, aggregate_id: str, sku: str, units: int) -> None:
    """Count units an accepted order holds against an aggregate before any source is chosen (a line
    waiting for a batch-sourcing wave, flows/allocation.py): +1 when queued, -1 when sourced."""
    db.execute(
        "INSERT INTO soft_holds VALUES (?, ?, ?) ON CONFLICT (aggregate_id, sku) DO UPDATE SET units = units + excluded.units",
        (aggregate_id, sku, units),
    )


def aggregate_stock(db: sqlite3.Connection, aggregate_id: str, skus: Iterable[str]) -> list[Doc]:
    return aggregate_stocks(db, [aggregate_id], skus)[aggregate_id]


def aggregate_stocks(db: sqlite3.Connection, aggregate_ids: list[str], skus: Iterable[str]) -> dict[str, list[Doc]]:
    """{aggregate: [{sku, quantity[, unlimited]}, ...]} for the given SKUs, in one query however
    many aggregates: on hand at the aggregate's sources, minus the units in flight there (holds),
    minus the units waiting to be sourced against the aggregate (soft_holds)."""
    sku_list = list(skus)
    rows = db.execute(
        """SELECT a.aggregate_id, s.sku, SUM(s.quantity), MAX(s.unlimited),
                  (SELECT COALESCE(SUM(h.units), 0) FROM holds h JOIN aggregate_sources ah ON ah.source_id = h.source_id
                    WHERE ah.aggregate_id = a.aggregate_id AND h.sku = s.sku),
                  (SELECT COALESCE(SUM(sh.units), 0) FROM soft_holds sh WHERE sh.aggregate_id = a.aggregate_id AND sh.sku = s.sku)
           FROM aggregate_sources a JOIN sources src ON src.id = a.source_id
                JOIN source_stock s ON s.source_id = a.source_id
           WHERE a.aggregate_id IN (SELECT value FROM json_each(?)) AND s.sku IN (SELECT value FROM json_each(?))
           GROUP BY a.aggregate_id, s.sku""",
        (json.dumps(aggregate_ids), json.dumps(sku_list)),
    ).fetchall()
    levels = {(aggregate, sku): (max(0.0, quantity - held - soft), bool(unlimited)) for aggregate, sku, quantity, unlimited, held, soft in rows}
    stocks: dict[str, list[Doc]] = {}
    for aggregate in aggregate_ids:
        stock = []
        for sku in sku_list:
            quantity, unlimited = levels.get((aggregate, sku), (0.0, False))
            entry: Doc = {"sku": sku, "quantity": _number(quantity)}
            if unlimited:
                entry["unlimited"] = True
            stock.append(entry)
        stocks[aggregate] = stock
    return stocks


def publish_aggregates(ctx: Context, source_ids: Iterable[str], skus: Iterable[str]) -> list[str]:
    """Send magento.inventory.aggregate_stock_management.updated once per aggregate the change touches.

    The snapshot carries only the touched SKUs, in mode DELTA ([mock]: the reference gives the
    message's fields, not which mode OMS uses after each kind of change).
    """
    touched = sorted(set(skus))
    if not touched:
        return []
    created_on = iso_seconds(ctx.now)
    stocks = aggregate_stocks(ctx.db, aggregates_of(ctx.db, source_ids), touched)
    for aggregate_id, stock in stocks.items():
        snapshot = {"aggregate_id": aggregate_id, "created_on": created_on, "mode": "DELTA", "stock": stock}
        ctx.publish("magento.inventory.aggregate_stock_management.updated", {"snapshot": snapshot})
    return list(stocks)


def choose_source(db: sqlite3.Connection, sources: list[str], sku: str) -> str | None:
    """Direct sourcing, simplified: the first source (by priority) with one unit of the SKU
    available, else the first source, as a backorder. [mock]"""
    for source in sources:
        quantity, unlimited = available(db, [source], sku)
        if unlimited or quantity >= 1:
            return source
    return sources[0] if sources else None


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


