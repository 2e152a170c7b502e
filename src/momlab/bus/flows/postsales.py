"""Returns and refunds: magento.postsales.return_management.authorize (mom-reference.md 3 rows 22-24
and 28; 5.4).

What the sources say:
- A return (RMA) is created with `return_management.authorize`, sent by the sales channel (the
  customer's account in Magento Commerce) or by customer service in the OMS Admin [doc].
- Only order lines in SHIPPED can be returned; the order itself may still be in LOGISTICS [doc].
- OMS does not change stock when goods are returned [doc].
- OMS announces the RMA's statuses with `return_management.updated`, and the refund (a credit note)
  with `refund_management.updated`, from which the connector creates a credit memo; it also sends
  `payments_management.refund` to the payment integration (5.4). The two `updated` shapes come
  from mom-mock's templates [mock]; `refund` is seen in one integration's code [code].

What this mock does with an authorize [mock]:
1. It checks the return and refuses, changing nothing, when the order is unknown (-32002), a line
   cannot be found or is listed twice (-32602), the sales channel or a sku does not match the
   order (-32602), the return source is unknown (-32004), or a line is not SHIPPED or is already
   in another return (-32005). Each error's `data.path` names the offending field.
2. It stores the RMA in `returns` and `return_lines` (state views `returns`, `return_lines`), with
   the number `<order id>-R<n>`, and publishes `return_management.updated` with status REQUESTED.
3. It approves the RMA at once, one flow step later: `return_management.updated` with status
   APPROVED, then `refund_management.updated` with credit note `CN-<order id>-<n>` (stored in
   `refunds`) for the lines' amounts as the order gave them, then one `payments_management.refund`
   per order payment those lines were paid with.
   Approving at once is the mock's choice: in OMS, for a pre-authorised return, the warehouse first
   confirms the goods came back in GOOD condition and only then is the refund worked out [doc]. No
   public message carries that confirmation, so the mock does not wait for one. mom-mock, too, sends
   the return update and the refund update together when an RMA is approved (from its admin page).
4. Stock is left alone. The order and its lines keep their statuses.

The synchronous answer is {rma, order_id, status, lines, credit_note_number, refund_amount, currency}.

The learner's builder of the authorize params is momlab.orders.return_params.

A refund without a return: `cancel_lines` (admin action `mom.admin.cancel_lines`, see its docstring)
cancels lines that have not shipped and refunds them with refund_type CANCELLED.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from momlab.bus import stock_levels as inventory
from momlab.bus.context import Context
from momlab.bus.flows import handles
from momlab.bus.flows.allocation import release_queued
from momlab.bus.flows.fulfillment import publish_progress, settle_request
from momlab.bus.flows.orders import require_order, stored_order
from momlab.bus.jsonrpc import CONFLICT, INVALID_PARAMS, UNKNOWN_ENTITY, Doc, RpcError
from momlab.bus.timestamps import iso_seconds

AUTHORIZE = "magento.postsales.return_management.authorize"
RETURN_UPDATED = "magento.postsales.return_management.updated"
REFUND_UPDATED = "magento.postsales.refund_management.updated"
PAYMENT_REFUND = "magento.payments.payments_management.refund"

REQUESTED, APPROVED = "REQUESTED", "APPROVED"


@handles(AUTHORIZE)
def authorize(ctx: Context, params: Doc) -> Doc:
    request = params["return"]
    order_id = request["order_id"]
    require_order(ctx.db, order_id, "$.params.return.order_id")
    order_row = ctx.db.execute("SELECT store FROM orders WHERE id = ?", (order_id,)).fetchone()
    channel = request.get("sales_channel_id")
    if channel is not None and channel != order_row["store"]:
        raise RpcError(
            INVALID_PARAMS,
            f"Order {order_id} belongs to sales channel {order_row['store']!r}, not {channel!r}; send the order's own channel or leave it out.",
            {"path": "$.params.return.sales_channel_id"},
        )
    lines = _returned_lines(ctx.db, order_id, request["lines"])
    source_id = request.get("source_id") or lines[0]["source_id"]
    if ctx.db.execute("SELECT 1 FROM sources WHERE id = ?", (source_id,)).fetchone() is None:
        known = [r[0] for r in ctx.db.execute("SELECT id FROM sources ORDER BY id")]
        raise RpcError(UNKNOWN_ENTITY, f"Source {source_id!r} is not set up in OMS, so it cannot take the goods back. Known sources: {', '.join(known)}.", {"path": "$.params.return.source_id"})

    count = ctx.db.execute("SELECT COUNT(*) FROM returns WHERE order_id = ?", (order_id,)).fetchone()[0]
    rma = f"{order_id}-R{count + 1}"
    ctx.db.execute(
        "INSERT INTO returns VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (rma, order_id, order_row["store"], source_id, REQUESTED, json.dumps(request), ctx.now, ctx.now),
    )
    ctx.db.executemany(
        "INSERT INTO return_lines VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(rma, order_id, ln["line_id"], ln["line_number"], ln["sku"], ln["reason"], REQUESTED) for ln in lines],
    )
    document = {"rma": rma, "order_id": order_id, "sales_channel_id": order_row["store"], "source_id": source_id,
                "custom_attributes": request.get("custom_attributes") or []}
    ctx.publish(RETURN_UPDATED, {"return": _return_update(ctx, document, lines, REQUESTED)}, order_id)

    # [mock] approved at once, one step later: the return, then the money.
    ctx.next_step()
    ctx.db.execute("UPDATE returns SET status = ?, updated_at = ? WHERE rma = ?", (APPROVED, ctx.now, rma))
    ctx.db.execute("UPDATE return_lines SET status = ? WHERE rma = ?", (APPROVED, rma))
    ctx.publish(RETURN_UPDATED, {"return": _return_update(ctx, document, lines, APPROVED)}, order_id)
    order = stored_order(ctx.db, order_id)
    refund = _refund(ctx, order, document, lines, request.get("user"))
    ctx.publish(REFUND_UPDATED, {"refund": refund["document"]}, order_id)
    for payment in _payment_refunds(order, lines, refund["document"]["credit_note_number"], refund["currency"]):
        ctx.publish(PAYMENT_REFUND, {"payment": payment}, order_id)
    return {
        "rma": rma,
        "order_id": order_id,
        "status": APPROVED,
        "lines": [ln["line_id"] for ln in lines],
        "credit_note_number": refund["document"]["credit_note_number"],
        "refund_amount": refund["amount"],
        "currency": refund["currency"],
    }


# Reasons OMS gives a cancelled line [doc: omsdocs order statuses].
CANCEL_REASONS = ("CUSTOMERREQ", "EEREQ", "OUTOFSTOCK", "NOTHINGTOSHIP", "ASSOCIATEDITEMCANCELLED", "CANCELLEDBYPAYMENTANDRISK", "CARDEXPIRED")


def cancel_lines(ctx: Context, order_id: str, line_ids: list[Any], reason: str = "CUSTOMERREQ", user: str = "customer service") -> Doc:
    """A refund without a return: customer service cancels lines that have not shipped, and OMS
    refunds them. No public message cancels an order or a line (mom-reference.md 7.6), so this is
    an admin action (mom.admin.cancel_lines), standing in for OMS Admin > Customer Service > Orders.
    The lines become CANCELLED/<reason> and stop holding stock; OMS publishes the order update, then
    refund_management.updated with refund_type CANCELLED and no rma (a value mom-mock defines [mock];
    that a refund can follow a cancellation is [doc]) and a payments_management.refund per payment."""
    order_id = str(order_id)
    require_order(ctx.db, order_id, "order_id")
    if reason not in CANCEL_REASONS:
        raise RpcError(INVALID_PARAMS, f"reason must be one of {', '.join(CANCEL_REASONS)}; got {reason!r}.", {"path": "reason"})
    if not line_ids:
        raise RpcError(INVALID_PARAMS, "Name the order lines to cancel (their order-line ids).", {"path": "lines"})
    originals = {str(x["id"]): x for x in stored_order(ctx.db, order_id)["lines"]}
    rows: list[sqlite3.Row] = []
    seen: set[str] = set()
    for index, line_id in enumerate(str(x) for x in line_ids):
        row = ctx.db.execute("SELECT * FROM order_lines WHERE order_id = ? AND line_id = ?", (order_id, line_id)).fetchone()
        if row is None:
            raise RpcError(INVALID_PARAMS, f"Order {order_id} has no line {line_id!r}. Its line ids are: {', '.join(originals)}.", {"path": f"lines[{index}]"})
        if line_id in seen:
            raise RpcError(INVALID_PARAMS, f"Line {line_id} is listed twice.", {"path": f"lines[{index}]"})
        if row["status"] in ("SHIPPED", "CANCELLED"):
            hint = " Shipped goods come back with a return (return_management.authorize)." if row["status"] == "SHIPPED" else ""
            raise RpcError(CONFLICT, f"Line {line_id} is {row['status']}: it can no longer be cancelled.{hint}", {"path": f"lines[{index}]"})
        seen.add(line_id)
        rows.append(row)
    sources: set[str] = set()
    skus: set[str] = set()
    for row in rows:
        if row["source_id"] and row["product_type"] not in inventory.NOT_SHIPPABLE:
            inventory.hold(ctx.db, row["source_id"], row["sku"], -1)
            sources.add(row["source_id"])
        skus.add(row["sku"])
        release_queued(ctx.db, order_id, row["line_id"])
        ctx.db.execute("UPDATE order_lines SET status = 'CANCELLED', status_reason = ? WHERE order_id = ? AND line_id = ?", (reason, order_id, row["line_id"]))
    for request_id in {row["request_id"] for row in rows if row["request_id"]}:
        settle_request(ctx.db, request_id)
    status, status_reason = publish_progress(ctx, order_id)
    ctx.next_step()
    order = stored_order(ctx.db, order_id)
    channel = ctx.db.execute("SELECT store FROM orders WHERE id = ?", (order_id,)).fetchone()[0]
    lines = [{"line_id": r["line_id"], "line_number": r["line_number"], "sku": r["sku"], "product_type": r["product_type"],
              "reason": reason, "reason_description": "Cancelled by customer service", "original": originals.get(r["line_id"], {})} for r in rows]
    document = {"order_id": order_id, "rma": None, "sales_channel_id": channel, "source_id": None}
    refund = _refund(ctx, order, document, lines, user, refund_type="CANCELLED")
    ctx.publish(REFUND_UPDATED, {"refund": refund["document"]}, order_id)
    for payment in _payment_refunds(order, lines, refund["document"]["credit_note_number"], refund["currency"]):
        ctx.publish(PAYMENT_REFUND, {"payment": payment}, order_id)
    inventory.publish_aggregates(ctx, sources, skus)
    return {"order_id": order_id, "order_status": status, "cancelled": [r["line_id"] for r in rows],
            "credit_note_number": refund["document"]["credit_note_number"], "refund_amount": refund["amount"], "currency": refund["currency"]}


def _returned_lines(db: sqlite3.Connection, order_id: str, requested: list[Doc]) -> list[Doc]:
    """The order lines the return names, checked: found, once each, SHIPPED, not returned before."""
    found: list[Doc] = []
    seen: set[str] = set()
    originals = {str(ln["id"]): ln for ln in stored_order(db, order_id)["lines"]}
    for index, item in enumerate(requested):
        path = f"$.params.return.lines[{index}]"
        row = None
        if item.get("id") is not None:
            row = db.execute("SELECT * FROM order_lines WHERE order_id = ? AND line_id = ?", (order_id, str(item["id"]))).fetchone()
            key = f"id {item['id']!r}"
        elif item.get("line_number") is not None:
            row = db.execute("SELECT * FROM order_lines WHERE order_id = ? AND line_number = ?", (order_id, str(item["line_number"]))).fetchone()
            key = f"line_number {item['line_number']!r}"
        else:
            raise RpcError(INVALID_PARAMS, "Name the order line to return with `id` (the order-line id) or `line_number`.", {"path": f"{path}.id"})
        if row is None:
            known = [r["line_id"] for r in db.execute("SELECT line_id FROM order_lines WHERE order_id = ? ORDER BY rowid", (order_id,))]
            raise RpcError(INVALID_PARAMS, f"Order {order_id} has no line with {key}. Its line ids are: {', '.join(known)}.", {"path": path})
        if row["line_id"] in seen:
            raise RpcError(INVALID_PARAMS, f"Line {row['line_id']} is listed twice; list each returned line once.", {"path": path})
        if item.get("sku") is not None and item["sku"] != row["sku"]:
            raise RpcError(INVALID_PARAMS, f"Line {row['line_id']} is {row['sku']}, not {item['sku']}; check the line or the sku.", {"path": f"{path}.sku"})
        if row["status"] != "SHIPPED":
            raise RpcError(
                CONFLICT,
                f"Line {row['line_id']} ({row['sku']}) is {row['status']}/{row['status_reason']}: only SHIPPED lines can be returned. "
                "Wait until it has shipped (customer_shipment_done), or leave it out.",
                {"path": path},
            )
        earlier = db.execute("SELECT rma FROM return_lines WHERE order_id = ? AND line_id = ?", (order_id, row["line_id"])).fetchone()
        if earlier is not None:
            raise RpcError(CONFLICT, f"Line {row['line_id']} is already in return {earlier['rma']}; a line can be returned once.", {"path": path})
        seen.add(row["line_id"])
        found.append({
            "line_id": row["line_id"], "line_number": row["line_number"], "sku": row["sku"], "source_id": row["source_id"],
            "product_type": row["product_type"], "reason": item.get("reason"), "reason_description": item.get("reason_description"),
            "original": originals.get(row["line_id"], {}),
        })
    return found


def _return_update(ctx: Context, document: Doc, lines: list[Doc], status: str) -> Doc:
    """return_management.updated's `return`, shaped like mom-mock's template."""
    return {
        **document,
        "status": {"code": status, "date": iso_seconds(ctx.now), "name": status, "reason_code": "CSRREQUEST"},
        "return_tracking_carrier": None,
        "return_tracking_number": None,
        "return_tracking_url": None,
        "return_tracking_label_url": None,
        "lines": [
            {"id": ln["line_id"], "line_number": _number(ln["line_number"]), "sku": ln["sku"], "reason": ln["reason"],
             "reason_description": ln["reason_description"], "status": status, "custom_attributes": []}
            for ln in lines
        ],
    }


def _refund(ctx: Context, order: Doc, document: Doc, lines: list[Doc], user: Any, refund_type: str = "Return") -> Doc:
    """refund_management.updated's `refund` (shaped like mom-mock's template), stored in `refunds`."""
    count = ctx.db.execute("SELECT COUNT(*) FROM refunds WHERE order_id = ?", (document["order_id"],)).fetchone()[0]
    credit_note = f"CN-{document['order_id']}-{count + 1}"
    date = iso_seconds(ctx.now)
    refund_lines: list[Doc] = []
    total = 0.0
    currency = None
    for line in lines:
        amount = line["original"].get("amount") or {}
        gross, net, tax, rate = (_money(amount.get(k)) for k in ("gross_amount", "net_amount", "tax_amount", "tax_rate"))
        total += gross
        currency = currency or amount.get("currency")
        refund_lines.append({
            "order_item_id": line["line_id"],
            "order_line": _number(line["line_number"]),
            "reason": line["reason"],
            "reason_description": line["reason_description"],
            "payments": [{
                "details": {"cost_gross": gross, "cost_net": net, "cost_vat": tax, "vat_rate": rate,
                            "vat_detail": [{"type": "VAT", "amount": tax, "rate": rate}]},
                "status": {"code": "REFUNDED", "name": "REFUNDED"},
            }],
        })
    currency = currency or next((p.get("currency") for p in order.get("payments") or [] if p.get("currency")), None)
    total = round(total, 2)
    refund = {
        "credit_note_number": credit_note,
        "credit_note_date": date,
        "order_id": document["order_id"],
        "rma": document.get("rma"),
        "sales_channel_id": document["sales_channel_id"],
        "store_id": document["source_id"],
        "refund_type": refund_type,
        "refund_reason": "RELEASESUCCESS",
        "user": user if isinstance(user, str) else None,
        "status": {"code": "RELEASED", "date": date, "name": "RELEASED"},
        "lines": refund_lines,
        "custom_attributes": [],
    }
    ctx.db.execute(
        "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?)",
        (credit_note, document["order_id"], document.get("rma"), refund_type, total, currency, ctx.now),
    )
    return {"document": refund, "amount": total, "currency": currency}


def _payment_refunds(order: Doc, lines: list[Doc], credit_note: str, currency: Any) -> list[Doc]:
    """One payments_management.refund `payment` per order payment the returned lines were paid with."""
    payments = order.get("payments") or []
    by_reference = {str(p.get("reference")): p for p in payments}
    groups: dict[str, list[Doc]] = {}
    for line in lines:
        reference = line["original"].get("payment_reference")
        key = str(reference) if str(reference) in by_reference else (str(payments[0].get("reference")) if payments else "")
        groups.setdefault(key, []).append(line)
    out = []
    for number, (reference, group) in enumerate(groups.items(), start=1):
        payment = by_reference.get(reference, {})
        transaction = (payment.get("transactions") or [{}])[0] or {}
        gateway = transaction.get("gateway_information") or {}
        refund_lines = []
        for line in group:
            amount = line["original"].get("amount") or {}
            gross = _money(amount.get("gross_amount"))
            refund_lines.append({
                "line_number": _number(line["line_number"]),
                "item_name": line["original"].get("product_name") or line["sku"],
                "item_sku": line["sku"],
                "item_type": line["product_type"],
                "quantity": 1,
                "unit_price_gross": gross,
                "refund_amount": gross,
                "tax_amount": _money(amount.get("tax_amount")),
                "tax_rate": _money(amount.get("tax_rate")),
            })
        out.append({
            "gateway": _text(gateway.get("gateway_id")),
            "gateway_account": _text(gateway.get("account")),
            "gateway_key": _text(gateway.get("transaction_id")),
            "amount": round(sum(ln["refund_amount"] for ln in refund_lines), 2),
            "currency": payment.get("currency") or currency,
            "order_id": str(order["id"]),
            "operation_reference": f"{credit_note}-P{number}",
            "lines": refund_lines,
            "method_details": {"method": _text(transaction.get("payment_method")), "submethod": _text(transaction.get("payment_submethod"))},
        })
    return out


def _money(value: Any) -> float:
    try:
        return round(float(value), 2)
    except (TypeError, ValueError):
        return 0.0


def _number(value: Any) -> int | str:
    text = str(value)
    return int(text) if text.isdigit() else text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
