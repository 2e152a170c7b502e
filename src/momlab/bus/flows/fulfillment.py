"""The warehouse's answers to a shipment request (mom-reference.md 3 rows 13, 17, 18; 7.3).

- lines_change_status: the warehouse reports progress (e.g. RECEIVEDBYLOGISTICS).
- lines_shipped: lines left the warehouse; OMS sends customer_shipment_done and updates the order.
- lines_declined: the warehouse cannot ship lines; the mock cancels them (real OMS may re-source).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.flows.orders import UPDATED, address, order_document, set_status, stored_order
from momlab.bus.jsonrpc import CONFLICT, INVALID_PARAMS, UNKNOWN_SHIPMENT_REQUEST, Doc, RpcError
from momlab.bus.timestamps import iso_seconds

SHIPMENT_DONE = "magento.logistics.fulfillment_management.customer_shipment_done"


@handles("magento.logistics.shipment_request_management.lines_change_status")
def lines_change_status(ctx: Context, params: Doc) -> Doc:
    request = _request(ctx.db, params["shipment_request_id"], "$.params.shipment_request_id")
    changed = []
    lines = _open_lines(ctx.db, request, params["items"], "; its status can no longer change.")
    for item, line in zip(params["items"], lines, strict=True):
        reason = item.get("status_reason") or item["status"]
        ctx.db.execute(
            "UPDATE order_lines SET status = ?, status_reason = ? WHERE order_id = ? AND line_id = ?",
            (item["status"], reason, request["order_id"], line["line_id"]),
        )
        changed.append(line["line_id"])
    ctx.db.execute("UPDATE shipment_requests SET status = ? WHERE id = ?", (params["items"][-1]["status"], request["id"]))
    _touch(ctx.db, request["order_id"], ctx.now)
    ctx.publish(UPDATED, {"order": order_document(ctx.db, request["order_id"])}, request["order_id"])
    return {"shipment_request_id": request["id"], "lines": changed}


@handles("magento.logistics.warehouse_management.lines_shipped")
def lines_shipped(ctx: Context, params: Doc) -> Doc:
    request = _request(ctx.db, params["request_id"], "$.params.request_id")
    lines = _shipped_lines(ctx.db, request, params)
    for line in lines:
        ctx.db.execute(
            "UPDATE order_lines SET status = 'SHIPPED', status_reason = 'OSREPORT' WHERE order_id = ? AND line_id = ?",
            (request["order_id"], line["line_id"]),
        )
        inventory.hold(ctx.db, request["source_id"], line["sku"], -1)
        # The goods left the source: its on-hand drops until the next stock feed says otherwise. [mock]
        ctx.db.execute(
            "UPDATE source_stock SET quantity = MAX(0, quantity - 1), updated_at = ? "
            "WHERE source_id = ? AND sku = ? AND unlimited = 0",
            (ctx.now, request["source_id"], line["sku"]),
        )
    count = ctx.db.execute("SELECT COUNT(*) FROM shipments WHERE request_id = ?", (request["id"],)).fetchone()[0]
    shipment_id = f"{request['id']}-S{count + 1}"
    shipment = shipment_document(ctx, request, shipment_id, lines, params)
    ctx.db.execute(
        "INSERT INTO shipments VALUES (?, ?, ?, ?, ?)",
        (shipment_id, request["id"], request["order_id"], json.dumps(shipment), ctx.now),
    )
    settle_request(ctx.db, request["id"])
    ctx.next_step()
    ctx.publish(SHIPMENT_DONE, {"shipment": shipment}, request["order_id"])
    status, reason = publish_progress(ctx, request["order_id"])
    return {"shipment_id": shipment_id, "order_id": request["order_id"], "order_status": status, "lines": [line["line_id"] for line in lines]}


@handles("magento.logistics.warehouse_management.lines_declined")
def lines_declined(ctx: Context, params: Doc) -> Doc:
    request = _request(ctx.db, params["request_id"], "$.params.request_id")
    declined = []
    for line in _open_lines(ctx.db, request, params["items"], " and cannot be declined."):
        ctx.db.execute(
            "UPDATE order_lines SET status = 'CANCELLED', status_reason = 'OUTOFSTOCK' WHERE order_id = ? AND line_id = ?",
            (request["order_id"], line["line_id"]),
        )
        inventory.hold(ctx.db, request["source_id"], line["sku"], -1)
        declined.append(line)
    settle_request(ctx.db, request["id"])
    status, reason = publish_progress(ctx, request["order_id"])
    inventory.publish_aggregates(ctx, [request["source_id"]], [line["sku"] for line in declined])
    return {"order_id": request["order_id"], "order_status": status, "cancelled": [line["line_id"] for line in declined]}


def _open_lines(db: sqlite3.Connection, request: sqlite3.Row, items: list[Any], refusal: str) -> list[sqlite3.Row]:
    """The request's lines the items name; a line already SHIPPED or CANCELLED is refused (CONFLICT)
    with `refusal` said of it."""
    lines = []
    for index, item in enumerate(items):
        line = _line(db, request, item, f"$.params.items[{index}]")
        if line["status"] in ("SHIPPED", "CANCELLED"):
            raise RpcError(CONFLICT, f"Line {line['line_id']} is already {line['status']}{refusal}", {"path": f"$.params.items[{index}]"})
        lines.append(line)
    return lines


def _request(db: sqlite3.Connection, request_id: Any, path: str) -> sqlite3.Row:
    row: sqlite3.Row | None = db.execute("SELECT * FROM shipment_requests WHERE id = ?", (str(request_id),)).fetchone()
    if row is None:
        raise RpcError(
            UNKNOWN_SHIPMENT_REQUEST,
            f"OMS sent no shipment request {request_id!r}. Use the request_id from the "
            "warehouse_management.request_shipment you received.",
            {"path": path},
        )
    return row


def _line(db: sqlite3.Connection, request: sqlite3.Row, item: Any, path: str) -> sqlite3.Row:
    """Find a request's line from an item that names it by id, by line number, or is the id itself."""
    if isinstance(item, dict):
        key = item.get("order_line_id")
        column = "line_id"
        if key is None and item.get("order_line_number") is not None:
            key, column = item["order_line_number"], "line_number"
    else:
        key, column = item, "line_id"
    row: sqlite3.Row | None = None
    if key is not None:
        row = db.execute(
            f"SELECT * FROM order_lines WHERE request_id = ? AND {column} = ?", (request["id"], str(key))
        ).fetchone()
    if row is None:
        known = [r["line_id"] for r in db.execute("SELECT line_id FROM order_lines WHERE request_id = ?", (request["id"],))]
        raise RpcError(
            INVALID_PARAMS,
            f"Shipment request {request['id']} has no line {key!r}. Its order_line_ids are: {', '.join(known)}.",
            {"path": path},
        )
    return row


def _shipped_lines(db: sqlite3.Connection, request: sqlite3.Row, params: Doc) -> list[sqlite3.Row]:
    """The lines a lines_shipped names, from `items` or else from the packages' aggregated_items."""
    named: list[tuple[object, str]] = [(item, f"$.params.items[{i}]") for i, item in enumerate(params.get("items") or [])]
    if not named:
        for p, package in enumerate(params.get("packages") or []):
            for a, group in enumerate(package.get("aggregated_items") or []):
                for o, line_id in enumerate(group.get("order_lines") or []):
                    named.append((line_id, f"$.params.packages[{p}].aggregated_items[{a}].order_lines[{o}]"))
    if not named:
        raise RpcError(
            INVALID_PARAMS,
            "Name the shipped lines: list them in `items` (with order_line_id) or in packages[].aggregated_items[].order_lines.",
            {"path": "$.params.items"},
        )
    lines, seen = [], set()
    for item, path in named:
        line = _line(db, request, item, path)
        if line["line_id"] in seen:
            raise RpcError(INVALID_PARAMS, f"Line {line['line_id']} is listed twice; duplicate lines are rejected.", {"path": path})
        if line["status"] in ("SHIPPED", "CANCELLED"):
            raise RpcError(CONFLICT, f"Line {line['line_id']} is already {line['status']}; it cannot ship again.", {"path": path})
        seen.add(line["line_id"])
        lines.append(line)
    return lines


def shipment_document(ctx: Context, request: sqlite3.Row, shipment_id: str, lines: list[sqlite3.Row], params: Doc) -> Doc:
    """customer_shipment_done's `shipment`, shaped like the public template."""
    sent = json.loads(request["body"])
    items_by_id = {item["order_line_id"]: item for item in sent["items"]}
    order = stored_order(ctx.db, request["order_id"])
    method = next((line["sku"] for line in order["lines"] if (line.get("product_type") or "").upper() == "SHIPPING"), "")
    items = []
    for line in lines:
        item = dict(items_by_id[line["line_id"]])
        item.update(status="SHIPPED", status_reason="OSREPORT")
        items.append(item)
    return {
        "shipment_id": shipment_id,
        "store_id": sent["sales_channel"],
        "order_id": request["order_id"],
        "source_id": request["source_id"],
        "method": method,
        "shipment_date": iso_seconds(ctx.now),
        "items": items,
        "packages": params.get("packages") or [],
        "address": sent.get("shipping_address") or address(order, None),
    }


def settle_request(db: sqlite3.Connection, request_id: str) -> None:
    open_lines = db.execute(
        "SELECT COUNT(*) FROM order_lines WHERE request_id = ? AND status NOT IN ('SHIPPED', 'CANCELLED')", (request_id,)
    ).fetchone()[0]
    if open_lines == 0:
        db.execute("UPDATE shipment_requests SET status = 'COMPLETE' WHERE id = ?", (request_id,))


def order_progress(db: sqlite3.Connection, order_id: str) -> tuple[str, str]:
    """Order status from its shippable lines (doc status names, mom-reference.md 7.3)."""
    marks = ",".join("?" * len(inventory.NOT_SHIPPABLE))
    counts = dict(
        db.execute(
            f"SELECT status, COUNT(*) FROM order_lines WHERE order_id = ? AND product_type NOT IN ({marks}) GROUP BY status",
            (order_id, *inventory.NOT_SHIPPABLE),
        ).fetchall()
    )
    shipped, cancelled = counts.get("SHIPPED", 0), counts.get("CANCELLED", 0)
    open_lines = sum(counts.values()) - shipped - cancelled
    if open_lines:  # the documented LOGISTICS reasons are READYTOSHIP and PENDING_FIRST_SHIPMENT only
        return "LOGISTICS", "READYTOSHIP"
    if shipped and cancelled:
        return "COMPLETE", "PARTIALLYSHIPPED"
    if shipped:
        return "COMPLETE", "FULLYSHIPPED"
    return "COMPLETE", "FULLYCANCELLED"


def publish_progress(ctx: Context, order_id: str) -> tuple[str, str]:
    """Set the order's status from its lines and send order_management.updated; returns the new status.

    When the last shippable line settles, the order passes through LOGISTICSCOMPLETE/<reason> (one update)
    on its way to COMPLETE/<reason> (another): both pairs are documented. What real OMS waits for between
    the two is not; the mock goes on at once. [mock]"""
    status, reason = order_progress(ctx.db, order_id)
    if status == "COMPLETE":
        current = ctx.db.execute("SELECT status FROM orders WHERE id = ?", (order_id,)).fetchone()[0]
        if current != "COMPLETE":
            set_status(ctx.db, order_id, "LOGISTICSCOMPLETE", reason, ctx.now)
            ctx.publish(UPDATED, {"order": order_document(ctx.db, order_id)}, order_id)
    set_status(ctx.db, order_id, status, reason, ctx.now)
    ctx.publish(UPDATED, {"order": order_document(ctx.db, order_id)}, order_id)
    return status, reason


def _touch(db: sqlite3.Connection, order_id: str, now: float) -> None:
    db.execute("UPDATE orders SET updated_at = ? WHERE id = ?", (now, order_id))
