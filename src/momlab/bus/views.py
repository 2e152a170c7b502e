"""Read-only views of the bus: the journal, the state views, the catalog.

A state view is a function `(store, query) -> rows` registered with `@view(name)` (momlab.bus.flows):
the general ones are here, a flow module registers the views of the tables it owns.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from momlab.bus import catalog
from momlab.bus import journal as journal_table
from momlab.bus.flows import VIEWS, View, view
from momlab.bus.jsonrpc import Doc
from momlab.bus.store import Store
from momlab.bus.timestamps import iso_millis

JOURNAL_PAGE = resources.files("momlab.bus").joinpath("journal.html").read_text(encoding="utf-8")

Query = Mapping[str, str]  # a state view's query parameters


def journal(store: Store, query: Mapping[str, Any]) -> list[Doc]:
    """Journal rows, oldest first, filtered by exact values (momlab.bus.journal.rows)."""
    return journal_table.rows(store, query)


def state(store: Store, name: str, query: Query) -> list[Doc]:
    found = VIEWS.get(name)
    if found is None:
        raise LookupError(f"No state view {name!r}. Views: {', '.join(VIEWS)}.")
    return found(store, query)


@view("orders")
def _orders(store: Store, query: Query) -> list[Doc]:
    orders = store.query("SELECT id, store, status, status_reason, created_at, updated_at FROM orders ORDER BY created_at")
    return [{**dict(r), "created_at": iso_millis(r["created_at"]), "updated_at": iso_millis(r["updated_at"])} for r in orders]


@view("order_lines")
def _order_lines(store: Store, query: Query) -> list[Doc]:
    sql = "SELECT order_id, line_id, line_number, sku, product_type, status, status_reason, source_id, request_id FROM order_lines"
    args: tuple[str, ...] = ()
    if query.get("order_id"):
        sql, args = sql + " WHERE order_id = ?", (query["order_id"],)
    return [dict(r) for r in store.query(sql + " ORDER BY rowid", args)]


@view("shipment_requests")
def _shipment_requests(store: Store, query: Query) -> list[Doc]:
    return [{**dict(r), "body": json.loads(r["body"])} for r in store.query("SELECT * FROM shipment_requests ORDER BY created_at")]


@view("shipments")
def _shipments(store: Store, query: Query) -> list[Doc]:
    return [{**dict(r), "body": json.loads(r["body"])} for r in store.query("SELECT * FROM shipments ORDER BY created_at")]


@view("remotes")
def _remotes(store: Store, query: Query) -> list[Doc]:
    remotes = store.query("SELECT id, url, secret IS NOT NULL AS signed, registered_at FROM remotes ORDER BY id")
    topics: dict[str, list[str]] = {}
    for r in store.query("SELECT remote_id, topic FROM subscriptions ORDER BY topic"):
        topics.setdefault(r["remote_id"], []).append(r["topic"])
    return [{"id": r["id"], "url": r["url"], "signed": bool(r["signed"]), "subscribes": topics.get(r["id"], []),
             "registered_at": iso_millis(r["registered_at"])} for r in remotes]


@view("source_stock")
def _source_stock(store: Store, query: Query) -> list[Doc]:
    sql = "SELECT source_id, sku, quantity, unlimited FROM source_stock"
    args: list[str] = []
    if query.get("source_id"):
        sql += " WHERE source_id = ?"
        args.append(query["source_id"])
    rows = store.tuples(sql + " ORDER BY source_id, sku", args)
    return [{"source_id": source, "sku": sku, "quantity": quantity, "unlimited": bool(unlimited)} for source, sku, quantity, unlimited in rows]


@view("aggregate_stock")
def _aggregate_stock(store: Store, query: Query) -> list[Doc]:
    return aggregate_stock(store, query.get("aggregate_id"))


@view("returns")
def _returns(store: Store, query: Query) -> list[Doc]:
    rows = store.query("SELECT rma, order_id, sales_channel, source_id, status, created_at, updated_at FROM returns ORDER BY created_at, rma")
    return [{**dict(r), "created_at": iso_millis(r["created_at"]), "updated_at": iso_millis(r["updated_at"])} for r in rows]


def _by_order(table: str) -> View:
    """A view of every row of `table`, in insertion order, filtered by order_id."""
    def rows(store: Store, query: Query) -> list[Doc]:
        sql = f"SELECT * FROM {table}"
        args: tuple[str, ...] = ()
        if query.get("order_id"):
            sql, args = sql + " WHERE order_id = ?", (query["order_id"],)
        found = [dict(r) for r in store.query(sql + " ORDER BY rowid", args)]
        return [{**r, "created_at": iso_millis(r["created_at"])} if "created_at" in r else r for r in found]

    return rows


def _whole_table(table: str) -> View:
    """A view of every row of a configuration table, in insertion order."""
    def rows(store: Store, query: Query) -> list[Doc]:
        return [dict(r) for r in store.query(f"SELECT * FROM {table} ORDER BY rowid")]

    return rows


for _table in ("return_lines", "refunds"):
    view(_table)(_by_order(_table))
for _table in ("sources", "aggregates", "sales_channels", "products", "aggregate_sources"):
    view(_table)(_whole_table(_table))


def aggregate_stock(store: Store, aggregate_id: str | None) -> list[Doc]:
    """Available to sell per aggregate and SKU: on-hand summed over the aggregate's sources, minus
    lines in flight there (hard holds) and lines held against the aggregate while they wait for a
    sourcing wave (soft_allocated; see momlab.bus.stock_levels)."""
    sql = f"""
        SELECT a.aggregate_id, s.sku, SUM(s.quantity) AS on_hand, COALESCE(SUM(h.units), 0) AS in_flight,
               MAX(s.unlimited) AS unlimited,
               COALESCE((SELECT sh.units FROM soft_holds sh WHERE sh.aggregate_id = a.aggregate_id AND sh.sku = s.sku), 0) AS soft
        FROM aggregate_sources a JOIN source_stock s ON s.source_id = a.source_id
        LEFT JOIN holds h ON h.source_id = s.source_id AND h.sku = s.sku
        {"WHERE a.aggregate_id = ?" if aggregate_id else ""}
        GROUP BY a.aggregate_id, s.sku ORDER BY a.aggregate_id, s.sku
    """
    rows = store.tuples(sql, (aggregate_id,) if aggregate_id else ())
    return [
        {
            "aggregate_id": aggregate,
            "sku": sku,
            "on_hand": on_hand,
            "in_flight": in_flight,
            "soft_allocated": soft,
            "available": max(0.0, on_hand - in_flight - soft),
            "unlimited": bool(unlimited),
        }
        for aggregate, sku, on_hand, in_flight, unlimited, soft in rows
    ]


def catalog_entry(method: str | None) -> Doc | list[Doc]:
    if method is None:
        return [_describe(m) for m in catalog.all()]
    message = catalog.get(method)
    if message is None:
        raise LookupError(f"No message {method!r} in the catalog. Close names: {', '.join(catalog.suggest(method)) or 'none'}.")
    return {**_describe(message), "params_schema": message.params_schema}


def _describe(message: catalog.Message) -> Doc:
    return {
        "method": message.method,
        "summary": message.summary,
        "kind": message.kind,
        "delivery": message.delivery,
        "direction": message.direction,
        "sender": message.sender,
        "receiver": message.receiver,
        "objectives": list(message.objectives),
        "confidence": message.confidence,
    }
