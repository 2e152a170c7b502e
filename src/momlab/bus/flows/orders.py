"""Orders: magento.sales.order_management.create and create_comment.

On create OMS stores the order, tells subscribers it was received (order_management.updated),
sources each shippable line, sends one warehouse_management.request_shipment per source, and
tells subscribers the order is now with logistics (mom-reference.md 3, the "ship from DC" flow).
Statuses follow the reference's doc spellings (7.3).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from momlab.bus import jsontext
from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.jsonrpc import CONFLICT, INVALID_PARAMS, UNKNOWN_ORDER, Doc, RpcError
from momlab.bus.timestamps import iso_seconds

UPDATED = "magento.sales.order_management.updated"
REQUEST_SHIPMENT = "magento.logistics.warehouse_management.request_shipment"

# Other flow modules source some lines their own way (batch waves, bundles, store pickup: see
# flows/allocation.py and flows/instore.py). Each SOURCING_HOOKS function is called as
# hook(ctx, order, lines, channel, aggregate_id) before direct sourcing and marks each line it takes
# with line["claimed"] = True (and line["waiting"] = True when it leaves the line for later).
# Each REQUEST_HOOKS function is called as hook(ctx, request, lines) for every new shipment request
# and returns True when it handles the request itself instead of sending request_shipment.
SourcingHook = Callable[[Context, Doc, list[Doc], str, str], None]
RequestHook = Callable[[Context, Doc, list[Doc]], bool]
SOURCING_HOOKS: list[SourcingHook] = []
REQUEST_HOOKS: list[RequestHook] = []


@handles("magento.sales.order_management.create")
def create(ctx: Context, params: Doc) -> Doc:
    order = params["order"]
    order_id = str(order["id"])
    _check_lines(order["lines"])  # a malformed order is refused (-32602) whatever the state holds
    if ctx.db.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone():
        raise RpcError(
            CONFLICT,
            f"Order {order_id!r} already exists. Order ids (the Commerce increment id) must be unique; "
            "a resend of the same order is a duplicate, not an update.",
            {"path": "$.params.order.id", "order_id": order_id},
        )
    channel, aggregate = inventory.channel_aggregate(ctx.db, order.get("store"))
    # The lines' state is worked out in memory and written once, at the end.
    lines = [
        {"line_id": str(line["id"]), "line_number": str(line["line_number"]), "sku": line["sku"], "product_type": line_type(line),
         "status": "NEW", "status_reason": "INITIALORDER", "source_id": None, "request_id": None}
        for line in order["lines"]
    ]
    header = {"store": channel, "status": "RECEIVED", "status_reason": "IMPORTED", "updated_at": ctx.now}
    ctx.publish(UPDATED, {"order": document(order, header, lines)}, order_id)

    ctx.next_step()
    for hook in SOURCING_HOOKS:
        hook(ctx, order, lines, channel, aggregate)
    send_requests(ctx, order, channel, source_lines(ctx.db, [line for line in lines if not line.get("claimed")], aggregate))
    ctx.db.executemany(
        "INSERT INTO order_lines (order_id, line_id, line_number, sku, product_type, status, status_reason, source_id, request_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(order_id, line["line_id"], line["line_number"], line["sku"], line["product_type"], line["status"], line["status_reason"], line["source_id"], line["request_id"]) for line in lines],
    )
    sourced = [line for line in lines if line["source_id"]]
    inventory.publish_aggregates(ctx, {line["source_id"] for line in sourced}, [line["sku"] for line in sourced])
    if sourced or not any(line.get("waiting") for line in lines):  # else every line waits for a sourcing wave
        header.update(status="LOGISTICS", status_reason="READYTOSHIP")
    ctx.db.execute(
        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
        (order_id, channel, header["status"], header["status_reason"], jsontext.dumps(order), ctx.now, ctx.now),
    )
    if header["status"] == "LOGISTICS":
        ctx.publish(UPDATED, {"order": document(order, header, lines)}, order_id)
    requests = [r[0] for r in ctx.db.execute("SELECT id FROM shipment_requests WHERE order_id = ? ORDER BY rowid", (order_id,))]
    return {"order_id": order_id, "sales_channel": channel, "status": header["status"], "shipment_requests": requests}


def send_requests(ctx: Context, order: Doc, channel: str, by_source: dict[str, list[Doc]]) -> list[str]:
    """One shipment request per source for the lines sourced there, numbered after the order's
    earlier ones; each goes to the source as request_shipment unless a REQUEST_HOOKS hook takes it."""
    order_id = str(order["id"])
    number = ctx.db.execute("SELECT COUNT(*) FROM shipment_requests WHERE order_id = ?", (order_id,)).fetchone()[0]
    requests = []
    for source, source_lines_ in by_source.items():
        number += 1
        request_id = f"{order_id}-{number}"
        for line in source_lines_:
            line["request_id"] = request_id
        request = shipment_request(ctx, order, channel, request_id, source, source_lines_)
        ctx.db.execute(
            "INSERT INTO shipment_requests VALUES (?, ?, ?, 'NEW', ?, ?)",
            (request_id, order_id, source, jsontext.dumps(request), ctx.now),
        )
        if not any(hook(ctx, request, source_lines_) for hook in REQUEST_HOOKS):
            ctx.publish(REQUEST_SHIPMENT, request, order_id)
        requests.append(request_id)
    return requests


@handles("magento.sales.order_management.create_comment")
def create_comment(ctx: Context, params: Doc) -> Doc:
    comment = params["order_comment"]
    order_id = str(comment["order_id"])
    require_order(ctx.db, order_id, "$.params.order_comment.order_id")
    return {"order_id": order_id, "accepted": True}


def source_lines(db: sqlite3.Connection, lines: list[Doc], aggregate_id: str) -> dict[str, list[Doc]]:
    """Assign each shippable line to a source of the aggregate (holding one unit there) and group
    the lines by source: one shipment request per source."""
    sources = inventory.sources_of(db, aggregate_id)
    by_source: dict[str, list[Doc]] = {}
    for line in lines:
        if line["product_type"] in inventory.NOT_SHIPPABLE:
            continue
        source = inventory.choose_source(db, sources, line["sku"])
        if source is None:
            continue
        inventory.hold(db, source, line["sku"], 1)
        line.update(source_id=source, status="NEW", status_reason="ITEM_PENDING_PICKING")
        by_source.setdefault(source, []).append(line)
    return by_source


def shipment_request(ctx: Context, order: Doc, channel: str, request_id: str, source_id: str, lines: list[Doc]) -> Doc:
    """The params of warehouse_management.request_shipment, shaped like the public template."""
    originals = {str(line["id"]): line for line in order["lines"]}
    items: list[Doc] = []
    aggregated: dict[str, Doc] = {}
    for line in lines:
        original = originals[line["line_id"]]
        items.append(
            {
                "order_line_id": line["line_id"],
                "order_line_number": original.get("line_number"),
                "item_type": original.get("product_type") or "PHYSICAL",
                "sku": line["sku"],
                "name": original.get("product_name") or line["sku"],
                "custom_details": [],
                "image_url": original.get("image_url") or "",
                "product_url": original.get("product_url") or "",
                "order_line_price": original.get("amount") or {},
                "status": line["status"],
                "status_reason": line["status_reason"],
            }
        )
        group = aggregated.setdefault(line["sku"], {"aggregated_line_id": line["line_id"], "sku": line["sku"], "quantity": 0, "order_lines": []})
        group["quantity"] += 1
        group["order_lines"].append(line["line_id"])
    first = originals[lines[0]["line_id"]]
    customer = order.get("customer") or {}
    created = iso_seconds(ctx.now)
    return {
        "request_id": request_id,
        "sales_channel": channel,
        "order_id": str(order["id"]),
        "source_id": source_id,
        "shipping_address": address(order, first.get("shipping_address_reference")),
        "billing_address": address(order, _billing_reference(order)),
        "custom_details": [],
        "items": items,
        "aggregated_items": list(aggregated.values()),
        "created": created,
        "customer_id": customer.get("id") or "",
        "customer_reference": "",
        "language": order.get("language") or "",
        "vat_country": order.get("vat_country") or "",
        "request_created_at": created,
    }


def order_document(db: sqlite3.Connection, order_id: str) -> Doc:
    """The order as OMS now sees it: the stored order with current order and line statuses."""
    header = db.execute("SELECT store, status, status_reason, updated_at FROM orders WHERE id = ?", (order_id,)).fetchone()
    lines = db.execute("SELECT line_id, status, status_reason, source_id FROM order_lines WHERE order_id = ?", (order_id,))
    return document(stored_order(db, order_id), header, [dict(line) for line in lines])


def document(order: Doc, header: sqlite3.Row | Doc, lines: list[Doc]) -> Doc:
    """order_management.updated's `order`: the order as received, with OMS's statuses on it."""
    status_date = iso_seconds(header["updated_at"])
    state = {line["line_id"]: line for line in lines}
    out = {**order, "store": header["store"], "status": header["status"], "status_reason": header["status_reason"], "status_date": status_date}
    out_lines = []
    for original in order["lines"]:
        line = state[str(original["id"])]
        copy = {**original, "status": line["status"], "status_reason": line["status_reason"], "status_date": status_date}
        if line["source_id"]:
            copy["source_id"] = line["source_id"]
        out_lines.append(copy)
    out["lines"] = out_lines
    return out


def stored_order(db: sqlite3.Connection, order_id: str) -> Doc:
    row = db.execute("SELECT body FROM orders WHERE id = ?", (order_id,)).fetchone()
    order: Doc = json.loads(row["body"])
    return order


def require_order(db: sqlite3.Connection, order_id: str, path: str) -> None:
    if db.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
        raise RpcError(UNKNOWN_ORDER, f"OMS has no order {order_id!r}. Create it first with magento.sales.order_management.create.", {"path": path})


def set_status(db: sqlite3.Connection, order_id: str, status: str, reason: str, now: float) -> None:
    db.execute("UPDATE orders SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?", (status, reason, now, order_id))


def line_type(line: Doc) -> str:
    return (line.get("product_type") or "PHYSICAL").upper()


def address(order: Doc, reference: Any) -> Doc:
    addresses: list[Doc] = order.get("addresses") or []
    for candidate in addresses:
        if reference is not None and str(candidate.get("reference")) == str(reference):
            return candidate
    return addresses[0] if addresses else {}


def _billing_reference(order: Doc) -> Any:
    for payment in order.get("payments") or []:
        for transaction in payment.get("transactions") or []:
            if transaction.get("billing_address_reference") is not None:
                return transaction["billing_address_reference"]
    return None


def _check_lines(lines: list[Doc]) -> None:
    seen_ids: set[str] = set()
    seen_numbers: set[str] = set()
    for index, line in enumerate(lines):
        line_id, number = str(line["id"]), str(line["line_number"])
        if line_id in seen_ids:
            raise RpcError(INVALID_PARAMS, f"Line id {line_id!r} appears twice; each order line needs its own id.", {"path": f"$.params.order.lines[{index}].id"})
        if number in seen_numbers:
            raise RpcError(INVALID_PARAMS, f"line_number {number} appears twice; number the lines 1, 2, 3...", {"path": f"$.params.order.lines[{index}].line_number"})
        seen_ids.add(line_id)
        seen_numbers.add(number)


