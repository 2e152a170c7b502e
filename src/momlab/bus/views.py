"""Read-only views of the bus (journal, state, catalog) and the manual retry of a delivery."""

from __future__ import annotations

import json
import numbers
import re
import time
from datetime import UTC, datetime
from importlib import resources

from momlab.bus import catalog, jsonrpc
from momlab.bus.store import Store

JOURNAL_FILTERS = ("method", "direction", "status", "remote", "order_id", "route", "caused_by")
JOURNAL_PAGE = resources.files("momlab.bus").joinpath("journal.html").read_text(encoding="utf-8")


def journal(store: Store, query) -> list[dict]:
    """Journal rows, oldest first, filtered by exact values; `since` gives rows after an id, `limit`
    keeps the newest N."""
    where, args = [], []
    for name in JOURNAL_FILTERS:
        value = query.get(name)
        if value is not None and value != "":
            where.append(f"{name} = ?")
            # numpy integers (e.g. a DataFrame index value) would bind as bytes and match nothing
            args.append(int(value) if isinstance(value, numbers.Integral) else str(value))
    since = _whole(query.get("since"), "since", 0)
    limit = _whole(query.get("limit"), "limit", 1000)
    where.append("id > ?")
    args.append(since)
    rows = store.query(
        f"SELECT * FROM (SELECT * FROM journal WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?) ORDER BY id",
        (*args, limit),
    )
    return [journal_row(row) for row in rows]


def journal_row(row) -> dict:
    return {
        "id": row["id"],
        "at": _iso(row["at"]),
        "direction": row["direction"],
        "route": row["route"],
        "method": row["method"],
        "remote": row["remote"],
        "status": row["status"],
        "attempts": row["attempts"],
        "error_code": row["error_code"],
        "error": row["error"],
        "order_id": row["order_id"],
        "caused_by": row["caused_by"],
        "request_id": _json(row["request_id"]),
        "body": _masked(_json(row["body"])),
        "response": _json(row["response"]),
    }


_SECRET_TEXT = re.compile(r'("secret"\s*:\s*)"(?:[^"\\]|\\.)*"')


def _masked(body):
    """Never show a registration secret on a page: not in a register, nor in a misspelt or broken one."""
    if isinstance(body, dict):
        params = body.get("params")
        if isinstance(params, dict) and params.get("secret"):
            return {**body, "params": {**params, "secret": "***"}}
    elif isinstance(body, str) and "secret" in body:
        return _SECRET_TEXT.sub(r'\1"***"', body)
    return body


def retry(store: Store, journal_id: int) -> dict:
    """Put a failed delivery back in the queue, as the connector's Message Log 'Retry' does."""
    if journal_id >= 2**63:  # beyond SQLite's integers: no such row, rather than an overflow
        raise LookupError(f"No journal row {journal_id}.")
    with store.transaction() as db:
        row = db.execute("SELECT * FROM journal WHERE id = ?", (journal_id,)).fetchone()
        if row is None:
            raise LookupError(f"No journal row {journal_id}.")
        if row["direction"] != "out" or row["remote"] is None:
            raise ValueError(f"Row {journal_id} is not a delivery to a remote; only deliveries can be retried.")
        if row["status"] not in ("failed", "delivered"):
            raise ValueError(f"Row {journal_id} is {row['status']}; only a failed or delivered delivery can be sent again.")
        if db.execute("SELECT 1 FROM remotes WHERE id = ?", (row["remote"],)).fetchone() is None:
            raise ValueError(f"Remote {row['remote']!r} is no longer registered; register it again, then retry.")
        db.execute("UPDATE journal SET status = 'pending', due_at = ?, attempts = 0 WHERE id = ?", (time.time(), journal_id))
        row = db.execute("SELECT * FROM journal WHERE id = ?", (journal_id,)).fetchone()
    return journal_row(row)


# More state views, registered by the modules that own their tables: name -> fn(store, query) -> rows.
EXTRA_VIEWS: dict = {}


def state(store: Store, view: str, query) -> object:
    if view in EXTRA_VIEWS:
        return EXTRA_VIEWS[view](store, query)
    if view == "orders":
        orders = store.query("SELECT id, store, status, status_reason, created_at, updated_at FROM orders ORDER BY created_at")
        return [{**dict(r), "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"])} for r in orders]
    if view == "order_lines":
        sql, args = "SELECT order_id, line_id, line_number, sku, product_type, status, status_reason, source_id, request_id FROM order_lines", ()
        if query.get("order_id"):
            sql, args = sql + " WHERE order_id = ?", (query["order_id"],)
        return [dict(r) for r in store.query(sql + " ORDER BY rowid", args)]
    if view == "shipment_requests":
        return [{**dict(r), "body": json.loads(r["body"])} for r in store.query("SELECT * FROM shipment_requests ORDER BY created_at")]
    if view == "shipments":
        return [{**dict(r), "body": json.loads(r["body"])} for r in store.query("SELECT * FROM shipments ORDER BY created_at")]
    if view == "remotes":
        remotes = store.query("SELECT id, url, secret IS NOT NULL AS signed, registered_at FROM remotes ORDER BY id")
        topics: dict[str, list[str]] = {}
        for r in store.query("SELECT remote_id, topic FROM subscriptions ORDER BY topic"):
            topics.setdefault(r["remote_id"], []).append(r["topic"])
        return [{"id": r["id"], "url": r["url"], "signed": bool(r["signed"]), "subscribes": topics.get(r["id"], []), "registered_at": _iso(r["registered_at"])} for r in remotes]
    if view == "source_stock":
        sql, args = "SELECT source_id, sku, quantity, unlimited FROM source_stock", []
        if query.get("source_id"):
            sql += " WHERE source_id = ?"
            args.append(query["source_id"])
        return [{**dict(r), "unlimited": bool(r["unlimited"])} for r in store.query(sql + " ORDER BY source_id, sku", args)]
    if view == "aggregate_stock":
        return aggregate_stock(store, query.get("aggregate_id"))
    if view == "returns":
        rows = store.query("SELECT rma, order_id, sales_channel, source_id, status, created_at, updated_at FROM returns ORDER BY created_at, rma")
        return [{**dict(r), "created_at": _iso(r["created_at"]), "updated_at": _iso(r["updated_at"])} for r in rows]
    if view in ("return_lines", "refunds"):
        sql, args = f"SELECT * FROM {view}", ()
        if query.get("order_id"):
            sql, args = sql + " WHERE order_id = ?", (query["order_id"],)
        rows = [dict(r) for r in store.query(sql + " ORDER BY rowid", args)]
        return [{**r, "created_at": _iso(r["created_at"])} if "created_at" in r else r for r in rows]
    if view in ("sources", "aggregates", "sales_channels", "products", "aggregate_sources"):
        return [dict(r) for r in store.query(f"SELECT * FROM {view} ORDER BY rowid")]
    raise LookupError(
        f"No state view {view!r}. Views: orders, order_lines, shipment_requests, shipments, remotes, source_stock, "
        "aggregate_stock, sources, aggregates, sales_channels, products, aggregate_sources, returns, return_lines, refunds"
        + "".join(f", {name}" for name in sorted(EXTRA_VIEWS)) + "."
    )


def aggregate_stock(store: Store, aggregate_id: str | None) -> list[dict]:
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
    rows = store.query(sql, (aggregate_id,) if aggregate_id else ())
    return [
        {
            "aggregate_id": r["aggregate_id"],
            "sku": r["sku"],
            "on_hand": r["on_hand"],
            "in_flight": r["in_flight"],
            "soft_allocated": r["soft"],
            "available": max(0.0, r["on_hand"] - r["in_flight"] - r["soft"]),
            "unlimited": bool(r["unlimited"]),
        }
        for r in rows
    ]


def catalog_entry(method: str | None):
    if method is None:
        return [_describe(m) for m in catalog.all()]
    message = catalog.get(method)
    if message is None:
        raise LookupError(f"No message {method!r} in the catalog. Close names: {', '.join(catalog.suggest(method)) or 'none'}.")
    return {**_describe(message), "params_schema": message.params_schema}


def _describe(message) -> dict:
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


def _json(text):
    """Stored JSON as data; text that is not strict JSON (a rejected body, say) stays text, so the
    answer can always be rendered."""
    if text is None:
        return None
    try:
        return jsonrpc.decode(text.encode("utf-8", "surrogatepass"))
    except jsonrpc.RpcError:
        return text


def _whole(value, name: str, default: int) -> int:
    if value in (None, ""):
        return default
    if not re.fullmatch(r"[0-9]{1,18}", str(value)):  # 18 digits: SQLite integers are 64-bit
        raise ValueError(f"{name} must be a whole number (0 to 18 digits), got {str(value)[:40]!r}.")
    return int(value)


def _iso(timestamp: float | None) -> str | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")
